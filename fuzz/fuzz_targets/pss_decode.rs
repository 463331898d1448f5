//! Decodes every wallet-pss wire object from arbitrary bytes (never panics; a decoded object
//! re-encodes to the same bytes), and opens ECIES ciphertexts with a fixed key: only a
//! ciphertext sealed to that key opens, so arbitrary bytes never yield plaintext. Decoded share
//! bundles and sealed metadata are checked against a fixed wallet key no input was signed by:
//! they are always refused (and never with an error naming a party). Envelopes from arbitrary
//! bytes never open to a factor key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_kek::{Credential, Envelope, PrfOutput};
use wallet_pss::PssError;
use wallet_pss::ecies::{self, Ciphertext, Context};
use wallet_pss::factor::FactorKey;
use wallet_pss::metadata::{
    AccountMetadata, MetadataCertificate, MetadataKey, MetadataTrust, SealedMetadata,
    verify_metadata,
};
use wallet_pss::reshare::{ReshareMessage, SealedDealing};
use wallet_pss::share_set::ShareBundle;
use wallet_pss::wallet_sig::WalletCurve;
use wallet_pss::{KeyShare, Refresh, RefreshMessage, Reshare};
use wallet_sss::ShareSetId;
use wallet_types::{Ed25519, Secp256k1, SecretScalar, WireObject};

fn roundtrip<T: WireObject>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        assert_eq!(
            v.to_secret_bytes().expose(),
            data,
            "non-canonical encoding accepted"
        );
    }
}

fn per_curve<C: WalletCurve>(data: &[u8]) {
    roundtrip::<Ciphertext<C>>(data);
    roundtrip::<KeyShare<C>>(data);
    roundtrip::<RefreshMessage<C>>(data);
    roundtrip::<ReshareMessage<C>>(data);
    roundtrip::<SealedDealing<C>>(data);
    roundtrip::<ShareBundle<C>>(data);
    roundtrip::<AccountMetadata<C>>(data);
    roundtrip::<SealedMetadata<C>>(data);
    roundtrip::<MetadataCertificate<C>>(data);
    roundtrip::<MetadataKey<C>>(data);
    roundtrip::<FactorKey<C>>(data);
    // An envelope from arbitrary bytes never opens to a factor key under a fixed passkey
    // output (AES-GCM under a KEK no input was made with).
    if let Ok(env) = Envelope::from_bytes(data) {
        let prf = PrfOutput::new([0x5e; 32]);
        for slot in env.slots() {
            if let Some(id) = slot.credential_id() {
                let cred = Credential::Prf {
                    credential_id: id,
                    output: &prf,
                };
                assert!(FactorKey::<C>::open_sealed(&env, &cred).is_err());
            }
        }
    }
    // A wallet key nobody holds (its secret is 0x5eed, but no input is signed with it).
    let wallet = SecretScalar::<C>::new(C::scalar_from_u64(0x5eed)).public();
    if let Ok(b) = ShareBundle::<C>::from_bytes(data) {
        let err = b.verify(&wallet, &b.previous_set_id()).unwrap_err();
        assert!(
            matches!(err, PssError::WrongWallet | PssError::BadSignature),
            "{err:?}"
        );
        assert!(b.verify(&wallet, &ShareSetId([0; 16])).is_err());
    }
    if let Ok(m) = SealedMetadata::<C>::from_bytes(data) {
        let err = verify_metadata(&MetadataTrust::new(wallet), &m).unwrap_err();
        assert!(
            matches!(err, PssError::WrongWallet | PssError::BadSignature),
            "{err:?}"
        );
    }
    if let Ok(c) = MetadataCertificate::<C>::from_bytes(data) {
        assert!(c.verify(&wallet).is_err());
    }
    roundtrip::<Refresh<C>>(data);
    roundtrip::<Reshare<C>>(data);
    if let Ok(ct) = Ciphertext::<C>::from_bytes(data) {
        // A fixed key that no fuzz input was sealed to.
        let sk = SecretScalar::<C>::new(C::scalar_from_u64(0x5eed));
        let ctx = *ct.context();
        assert!(
            ecies::open(&sk, &ctx, &ct).is_err(),
            "forged ciphertext opened"
        );
        let other = Context {
            epoch: ctx.epoch.wrapping_add(1),
            ..ctx
        };
        assert!(ecies::open(&sk, &other, &ct).is_err());
    }
}

fuzz_target!(|data: &[u8]| {
    per_curve::<Secp256k1>(data);
    per_curve::<Ed25519>(data);
});
