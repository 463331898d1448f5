//! The 2-of-3 wallet share set: create, sign with every pair (checked with k256 /
//! ed25519-dalek and against the accounts derived by the `bip39` + `bip32` crates), recover,
//! rotate with mixing refused, export / import, tampering.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::str::FromStr;

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_sss::derive::{
    Bip32Key, DeriveError, Slip10Ed25519Key, eip55, ethereum_address, ethereum_path,
    seed_from_mnemonic, solana_path,
};
use wallet_sss::wallet::{self, NewShareSet, Role, WalletError, WalletShare};
use wallet_sss::{Mismatched, ShamirError};
use wallet_types::{DecodeError, WireObject};

const PAIRS: [(Role, Role); 6] = [
    (Role::Device, Role::Auth),
    (Role::Auth, Role::Device),
    (Role::Device, Role::Recovery),
    (Role::Recovery, Role::Device),
    (Role::Auth, Role::Recovery),
    (Role::Recovery, Role::Auth),
];

fn check_ecdsa(w: &NewShareSet, a: Role, b: Role, hash: &[u8; 32]) {
    let s = wallet::sign_ecdsa(w.share(a), w.share(b), 0, hash).unwrap();
    assert_eq!(s.account, w.info.ethereum);
    let sig = Signature::from_slice(&s.signature).unwrap();
    assert!(sig.normalize_s() == sig, "low-s");
    let vk = VerifyingKey::from_sec1_bytes(&s.account.public_key).unwrap();
    vk.verify_prehash(hash, &sig).unwrap();
    let recovered = VerifyingKey::recover_from_prehash(
        hash,
        &sig,
        RecoveryId::from_byte(s.recovery_id).unwrap(),
    )
    .unwrap();
    assert_eq!(recovered, vk);
    assert!(s.recovery_id < 2);
}

fn check_ed25519(w: &NewShareSet, a: Role, b: Role, msg: &[u8]) {
    let s = wallet::sign_ed25519(w.share(a), w.share(b), 0, msg).unwrap();
    assert_eq!(s.account, w.info.ed25519);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&s.account.public_key).unwrap();
    vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&s.signature))
        .unwrap();
}

#[test]
fn create_and_sign_with_every_pair() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let w = wallet::create(&mut rng).unwrap();
    assert_eq!(w.device.role(), Role::Device);
    assert_eq!(w.auth.role(), Role::Auth);
    assert_eq!(w.recovery.role(), Role::Recovery);
    for (a, b) in PAIRS {
        check_ecdsa(&w, a, b, &[0x42; 32]);
        check_ed25519(&w, a, b, b"hello");
    }
    // The same role twice is refused.
    assert_eq!(
        wallet::sign_ecdsa(&w.device, &w.device.duplicate(), 0, &[1; 32]).unwrap_err(),
        WalletError::Shares(ShamirError::DuplicateId(Role::Device.party_id()))
    );
    // Other account indices give other keys.
    let a1 = wallet::ethereum_account(&w.device, &w.auth, 1).unwrap();
    assert_ne!(a1.public_key, w.info.ethereum.public_key);
    let s1 = wallet::sign_ecdsa(&w.device, &w.auth, 1, &[3; 32]).unwrap();
    assert_eq!(s1.account, a1);
    let e1 = wallet::ed25519_account(&w.auth, &w.recovery, 1).unwrap();
    assert_ne!(e1, w.info.ed25519);
}

/// The accounts agree with those the `bip39` and `bip32` crates derive from the exported
/// mnemonic (an independent implementation of the whole path).
#[test]
fn accounts_match_independent_derivation() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let w = wallet::create(&mut rng).unwrap();
    let phrase = wallet::export_mnemonic(&w.auth, &w.recovery).unwrap();
    assert_eq!(phrase.split(' ').count(), 24);
    let m = bip39::Mnemonic::parse(phrase.as_str()).unwrap();
    let seed = m.to_seed("");
    for i in [0u32, 1, 7] {
        let path = bip32::DerivationPath::from_str(&format!("m/44'/60'/0'/0/{i}")).unwrap();
        let x = bip32::XPrv::derive_from_path(&seed, &path).unwrap();
        let acct = wallet::ethereum_account(&w.device, &w.recovery, i).unwrap();
        assert_eq!(
            acct.public_key.as_slice(),
            x.public_key().to_bytes().as_slice()
        );
    }
    assert_eq!(
        wallet::ethereum_account(&w.device, &w.recovery, 0).unwrap(),
        w.info.ethereum
    );
}

/// Minimal base58 (Bitcoin alphabet) decoder for the published Solana address below.
fn base58(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut out: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let mut carry = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        for b in out.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|c| *c == b'1').count();
    let mut v = vec![0u8; zeros];
    v.extend(out);
    v
}

/// The widely published accounts of the all-`abandon` 12-word test mnemonic (empty
/// passphrase): Ethereum `m/44'/60'/0'/0/0` and Solana `m/44'/501'/0'/0'`.
#[test]
fn published_accounts_of_the_abandon_mnemonic() {
    let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let seed = seed_from_mnemonic(words, "").unwrap();
    assert_eq!(
        hex::encode(seed.expose()),
        "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
    );
    let eth = Bip32Key::derive(seed.expose(), &ethereum_path(0).unwrap()).unwrap();
    let addr = ethereum_address(&eth.public_key());
    assert_eq!(eip55(&addr), "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
    let sol = Slip10Ed25519Key::derive(seed.expose(), &solana_path(0).unwrap()).unwrap();
    assert_eq!(
        sol.public_key().to_vec(),
        base58("HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk")
    );
    // A 12-word mnemonic cannot be imported into a share set (its entropy is 128 bits).
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    assert_eq!(
        wallet::import_mnemonic(words, &mut rng).unwrap_err(),
        WalletError::Derive(DeriveError::UnsupportedWordCount(12))
    );
}

#[test]
fn eip55_published_examples() {
    // EIP-55's own examples.
    for a in [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ] {
        let mut b = [0u8; 20];
        b.copy_from_slice(&hex::decode(&a[2..]).unwrap());
        assert_eq!(eip55(&b), a);
    }
}

#[test]
fn import_export_roundtrip_and_refusals() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    // A 24-word Trezor vector whose entropy (0x7f7f…) is a valid scalar.
    let words = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title";
    let w = wallet::import_mnemonic(words, &mut rng).unwrap();
    assert_eq!(
        wallet::export_mnemonic(&w.device, &w.recovery)
            .unwrap()
            .as_str(),
        words
    );
    // Its account 0 is the BIP-44 account any wallet derives from these words.
    let seed = bip39::Mnemonic::parse(words).unwrap().to_seed("");
    let path = bip32::DerivationPath::from_str("m/44'/60'/0'/0/0").unwrap();
    let x = bip32::XPrv::derive_from_path(&seed, &path).unwrap();
    assert_eq!(
        w.info.ethereum.public_key.as_slice(),
        x.public_key().to_bytes().as_slice()
    );
    // Entropy 0xff…ff (≥ n) and 0x00…00 (zero): refused with a clear error.
    for bad in [
        "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
    ] {
        assert_eq!(
            wallet::import_mnemonic(bad, &mut rng).unwrap_err(),
            WalletError::Derive(DeriveError::EntropyNotAScalar)
        );
    }
    assert_eq!(
        wallet::import_mnemonic("not a mnemonic", &mut rng).unwrap_err(),
        WalletError::Derive(DeriveError::InvalidMnemonic)
    );
    // A fresh wallet round-trips through its mnemonic into a new share set with the same
    // accounts.
    let w = wallet::create(&mut rng).unwrap();
    let phrase = wallet::export_mnemonic(&w.device, &w.auth).unwrap();
    let again = wallet::import_mnemonic(&phrase, &mut rng).unwrap();
    assert_eq!(again.info.ethereum, w.info.ethereum);
    assert_eq!(again.info.ed25519, w.info.ed25519);
    assert_eq!(again.info.public.public_key(), w.info.public.public_key());
    assert_ne!(again.info.public.set_id(), w.info.public.set_id());
}

#[test]
fn recover_device_gives_the_same_wallet() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let w = wallet::create(&mut rng).unwrap();
    let new_device = wallet::recover_device(&w.auth, &w.recovery).unwrap();
    assert_eq!(new_device.role(), Role::Device);
    assert_eq!(
        new_device.to_secret_bytes().expose(),
        w.device.to_secret_bytes().expose()
    );
    let s = wallet::sign_ecdsa(&new_device, &w.auth, 0, &[9; 32]).unwrap();
    assert_eq!(s.account, w.info.ethereum);
    // Every role can be re-issued from every pair.
    for (a, b) in PAIRS {
        for r in Role::ALL {
            let s = wallet::reissue(w.share(a), w.share(b), r).unwrap();
            assert_eq!(
                s.to_secret_bytes().expose(),
                w.share(r).to_secret_bytes().expose()
            );
        }
    }
}

#[test]
fn rotation_refuses_mixing() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let old = wallet::create(&mut rng).unwrap();
    let new = wallet::rotate(&old.device, &old.recovery, &mut rng).unwrap();
    assert_ne!(new.info.public.set_id(), old.info.public.set_id());
    assert_eq!(new.info.ethereum, old.info.ethereum);
    assert_eq!(new.info.ed25519, old.info.ed25519);
    // New shares combine; old with new never do.
    assert!(wallet::sign_ecdsa(&new.device, &new.auth, 0, &[1; 32]).is_ok());
    let mixed = WalletError::Shares(ShamirError::Mismatch {
        what: Mismatched::ShareSet,
    });
    for (a, b) in PAIRS {
        assert_eq!(
            wallet::sign_ecdsa(old.share(a), new.share(b), 0, &[1; 32]).unwrap_err(),
            mixed
        );
        assert_eq!(
            wallet::sign_ed25519(new.share(a), old.share(b), 0, b"x").unwrap_err(),
            mixed
        );
        assert_eq!(
            wallet::export_mnemonic(old.share(a), new.share(b)).unwrap_err(),
            mixed
        );
        assert_eq!(
            wallet::rotate(old.share(a), new.share(b), &mut rng).unwrap_err(),
            mixed
        );
    }
}

/// Every single-bit flip of an encoded share either fails to decode or yields a share that no
/// longer combines with an honest partner — never a wrong key.
#[test]
fn bit_flipped_wallet_shares_never_give_a_wrong_key() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let w = wallet::create(&mut rng).unwrap();
    let bytes = w.device.to_secret_bytes();
    let good = WalletShare::from_bytes(bytes.expose()).unwrap();
    assert_eq!(good.to_secret_bytes().expose(), bytes.expose());
    let mut decoded_after_flip = 0;
    for bit in 0..bytes.len() * 8 {
        let mut v = bytes.expose().to_vec();
        v[bit / 8] ^= 1 << (bit % 8);
        match WalletShare::from_bytes(&v) {
            Err(_) => {}
            Ok(s) => {
                decoded_after_flip += 1;
                // Only the share-set id is unprotected by the commitments; the flip is then
                // caught as a mix of share sets.
                assert!((4..20).contains(&(bit / 8)), "bit {bit}");
                assert_eq!(
                    wallet::sign_ecdsa(&s, &w.auth, 0, &[1; 32]).unwrap_err(),
                    WalletError::Shares(ShamirError::Mismatch {
                        what: Mismatched::ShareSet
                    })
                );
            }
        }
    }
    assert_eq!(decoded_after_flip, 16 * 8);
    // A flipped value bit is refused by Feldman verification at decode time.
    let mut v = bytes.expose().to_vec();
    v[4 + 16 + 1 + 31] ^= 1;
    assert_eq!(
        WalletShare::from_bytes(&v).unwrap_err(),
        DecodeError::InvalidValue
    );
    // A role byte out of range.
    let mut v = bytes.expose().to_vec();
    v[20] = 4;
    assert_eq!(
        WalletShare::from_bytes(&v).unwrap_err(),
        DecodeError::InvalidTag(4)
    );
}

#[test]
fn debug_never_prints_the_share() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let w = wallet::create(&mut rng).unwrap();
    let shown = format!("{w:?}");
    assert!(shown.contains("redacted"));
    for r in Role::ALL {
        let b = w.share(r).to_secret_bytes();
        let value_hex = hex::encode(&b.expose()[21..53]);
        assert!(!shown.contains(&value_hex));
        assert!(!shown.contains(&value_hex[..16]));
    }
}

#[test]
fn signers_implement_the_rustcrypto_traits() {
    use k256::ecdsa::signature::Signer;
    use k256::ecdsa::signature::hazmat::PrehashSigner;
    use wallet_sss::wallet::{EcdsaSigner, Ed25519Signer};
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    let w = wallet::create(&mut rng).unwrap();
    let hash = [0x24; 32];
    for (a, b) in PAIRS {
        let signer = EcdsaSigner::new(w.share(a), w.share(b), 0);
        let (sig, recid): (Signature, RecoveryId) = signer.sign_prehash(&hash).unwrap();
        let vk = VerifyingKey::from_sec1_bytes(&w.info.ethereum.public_key).unwrap();
        vk.verify_prehash(&hash, &sig).unwrap();
        assert_eq!(
            VerifyingKey::recover_from_prehash(&hash, &sig, recid).unwrap(),
            vk
        );
        // Same result (RFC 6979) as the one-call function and its typed view.
        let one_call = wallet::sign_ecdsa(w.share(a), w.share(b), 0, &hash).unwrap();
        assert_eq!(one_call.ecdsa(), (sig, recid));
        assert!(
            signer.sign_prehash(&[0; 20]).is_err(),
            "a prehash must be 32 bytes"
        );

        let signer = Ed25519Signer::new(w.share(a), w.share(b), 0);
        let sig: ed25519_dalek::Signature = signer.try_sign(b"pay 1").unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&w.info.ed25519.public_key).unwrap();
        vk.verify_strict(b"pay 1", &sig).unwrap();
        assert_eq!(
            wallet::sign_ed25519(w.share(a), w.share(b), 0, b"pay 1")
                .unwrap()
                .ed25519(),
            sig
        );
    }
    // Two copies of one share cannot sign.
    let signer = EcdsaSigner::new(&w.device, &w.device, 0);
    assert!(signer.sign_prehash(&hash).is_err());
}
