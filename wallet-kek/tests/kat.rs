//! Known-answer tests: fixed inputs → frozen bytes. They pin the byte layout of `SPEC.md`; an
//! independent implementation (see `tests/python/open_envelope.py`) reproduces them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_kek::{
    Argon2Params, Credential, Envelope, NewSlot, Payload, PrfOutput, PrfSalt, WalletId,
    derive_password_kek, derive_prf_kek, derive_recovery_kek, normalize_answer,
};
use wallet_types::{SecretBytes, WireObject};

fn seq(start: u8) -> [u8; 32] {
    core::array::from_fn(|i| start.wrapping_add(i as u8))
}

const CRED: &[u8] = b"kat-credential";
const RP: &str = "wallet.example";

fn wallet() -> WalletId {
    WalletId(seq(0xa0))
}
fn prf() -> PrfOutput {
    PrfOutput::new(seq(0x00))
}
fn salt() -> PrfSalt {
    PrfSalt(seq(0x40))
}

const KAT1_KEK: &str = "c094d8ec07d7a13a547b353e173a81e4ad16684a890ad12dfdfbc9947da4ba18";
const KAT1_HMAC_SECRET_SALT: &str =
    "adb9058b81b36f9092f841d03b5737814f09b2152ebd319c1a69da949645a138";

/// KAT-1: the passkey KEK.
#[test]
fn kat_prf_kek() {
    let kek = derive_prf_kek(&prf(), CRED, RP, &wallet()).unwrap();
    assert_eq!(hex::encode(kek.expose()), KAT1_KEK);
    // KAT-1b: the CTAP hmac-secret salt of the PRF salt.
    assert_eq!(
        hex::encode(salt().hmac_secret_salt()),
        KAT1_HMAC_SECRET_SALT
    );
}

/// KAT-2: a secp256k1 key in an envelope with one passkey slot.
fn kat2_envelope() -> Envelope {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let payload = Payload::secp256k1(SecretBytes::new(seq(0x01))).unwrap();
    let out = prf();
    let first = NewSlot::Prf {
        credential_id: CRED,
        rp_id: RP,
        salt: salt(),
        output: &out,
    };
    Envelope::seal(wallet(), &payload, &first, &mut rng).unwrap()
}

const KAT2: &str = "01040100a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf010000581b17d3180d67443ccd0bdd00000030758616a68cf0bbe1d44dd2fb99cfbcf8cbe39f9137699da70a0c78ce85e16b5952bf2888f73bfdb13688dcbfad29e7c300010001010000000e6b61742d63726564656e7469616c0000000e77616c6c65742e6578616d706c65404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f2cf8ccb495646e17340d11bb0a6b16eb72d280e28c146f2f9b99a4eb4337881779067bedfc70b9b1781c4ebedc94476bed96abcbaa8926d0685703e2";
const KAT2_SIG: &str = "d7d7970f3ee1ba2ca15946089e0d99d3c2d645c67ad96efbaa69b4c2b785c1aa50cdad04a458a2c11a7db277b3fd6263ed34b3fa722752e7076147dd8643c42c";

#[test]
fn kat_envelope_prf_slot() {
    let env = kat2_envelope();
    assert_eq!(hex::encode(env.to_bytes()), KAT2);
    let env = Envelope::from_bytes(&hex::decode(KAT2).unwrap()).unwrap();
    let out = prf();
    let cred = Credential::Prf {
        credential_id: CRED,
        output: &out,
    };
    let u = env.open(&cred).unwrap();
    assert_eq!(u.payload().expose(), &seq(0x01));
    // RFC 6979 is deterministic: the signature is a KAT too.
    let sig = env.sign_secp256k1(&cred, &seq(0x70)).unwrap();
    assert_eq!(hex::encode(sig.signature), KAT2_SIG);
    assert_eq!(sig.recovery_id, 0);
}

/// KAT-3: an Ed25519 seed with a passkey slot, a password slot and a recovery slot at the
/// default Argon2id parameters.
const KAT3: &str = "01040100a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf020000f857206f1290bb91706a308b0000003024fa12de195144d8f165f13354003d35f29fa0fe6dffbe6a738325f71e8c2761248eea236b00fe2c6be36ac16083aac500030001010000000e6b61742d63726564656e7469616c0000000e77616c6c65742e6578616d706c65404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5fdc45a2165ed7eaf73d2956d2e186b9440667c46578119a6abeac91480ef2975b66d70b1f5026f4e09a847e38c418a128c35ab3e82b8042e7a9f7af1600020200004c000000000200000001b8e32627ae97d165ad370abed4c4df773112d60534f2acc10493bb0a63d4a180cad7eca826555150c2215a5b631f94f98ec6c49cf570be4a208b38b0d2f621073673a2542626e301e31dd0d400030300004c00000000020000000169c37833c9c071c2fc2e60c75021f98f0000000a4669727374207065743fa3286389664018cb14381476619bb8b60d7931669b2a2ab12166e6c97f1fa9f3d471e09a6725d5a5aadc3e033c4896f18a12e7fb5bd89ccc7aba9990";

#[test]
fn kat_envelope_three_slot_kinds() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let payload = Payload::ed25519_seed(SecretBytes::new(seq(0x20)));
    let out = prf();
    let first = NewSlot::Prf {
        credential_id: CRED,
        rp_id: RP,
        salt: salt(),
        output: &out,
    };
    let mut env = Envelope::seal(wallet(), &payload, &first, &mut rng).unwrap();
    let cred = Credential::Prf {
        credential_id: CRED,
        output: &out,
    };
    let u = env.open(&cred).unwrap();
    env.add_slot(
        &u,
        &NewSlot::Password {
            password: "correct horse battery staple",
            params: Argon2Params::DEFAULT,
        },
        &mut rng,
    )
    .unwrap();
    env.add_slot(
        &u,
        &NewSlot::RecoveryAnswer {
            question: "First pet?",
            answer: " Mr. Whiskers ",
            params: Argon2Params::DEFAULT,
        },
        &mut rng,
    )
    .unwrap();
    assert_eq!(hex::encode(env.to_bytes()), KAT3);
    let env = Envelope::from_bytes(&hex::decode(KAT3).unwrap()).unwrap();
    assert_eq!(env.open(&cred).unwrap().payload().expose(), &seq(0x20));
}

const KAT4_PASSWORD_KEK: &str = "e7051baca0f4583403710cb373f88986c8c6587f82a3b9ae1e917ff0ca4b681e";
const KAT4_RECOVERY_KEK: &str = "469c66423cd27aa8bcde0c26ef700c24ade2f4dc4eba4e5f79ce24d26d5559fe";

/// KAT-4: password and recovery KEKs at the default parameters.
#[test]
fn kat_password_and_recovery_kek() {
    let salt16: [u8; 16] = core::array::from_fn(|i| 0x10 + i as u8);
    let p = derive_password_kek(
        "correct horse battery staple",
        &salt16,
        &Argon2Params::DEFAULT,
        &wallet(),
    )
    .unwrap();
    assert_eq!(hex::encode(p.expose()), KAT4_PASSWORD_KEK);
    let r =
        derive_recovery_kek(" Mr. Whiskers ", &salt16, &Argon2Params::DEFAULT, &wallet()).unwrap();
    assert_eq!(hex::encode(r.expose()), KAT4_RECOVERY_KEK);
}

/// KAT-5: the answer normalisation.
#[test]
fn kat_answer_normalisation() {
    let cases: &[(&str, &str)] = &[
        ("  Mr.   Whiskers\t", "mr. whiskers"),
        ("ＭＲ．　ＷＨＩＳＫＥＲＳ", "mr. whiskers"),
        ("Straße", "straße"),
        ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"),
        ("İstanbul", "i\u{307}stanbul"),
        ("ﬁsh", "fish"),
        ("Å", "å"),
        ("①②", "12"),
    ];
    for (input, expected) in cases {
        assert_eq!(
            core::str::from_utf8(normalize_answer(input).expose()).unwrap(),
            *expected,
            "{input:?}"
        );
    }
}
