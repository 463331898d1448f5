//! Decodes every wallet-pss wire object from arbitrary bytes (never panics; a decoded object
//! re-encodes to the same bytes), and opens ECIES ciphertexts with a fixed key: only a
//! ciphertext sealed to that key opens, so arbitrary bytes never yield plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_pss::ecies::{self, Ciphertext, Context};
use wallet_pss::metadata::{AccountMetadata, SealedMetadata};
use wallet_pss::reshare::{ReshareMessage, SealedDealing};
use wallet_pss::share_set::ShareBundle;
use wallet_pss::{DealMessage, KeyShare, Refresh, Reshare};
use wallet_types::{Curve, Ed25519, Secp256k1, SecretScalar, WireObject};

fn roundtrip<T: WireObject>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        assert_eq!(v.to_secret_bytes().expose(), data, "non-canonical encoding accepted");
    }
}

fn per_curve<C: Curve>(data: &[u8]) {
    roundtrip::<Ciphertext<C>>(data);
    roundtrip::<KeyShare<C>>(data);
    roundtrip::<DealMessage<C>>(data);
    roundtrip::<ReshareMessage<C>>(data);
    roundtrip::<SealedDealing<C>>(data);
    roundtrip::<ShareBundle<C>>(data);
    roundtrip::<AccountMetadata<C>>(data);
    roundtrip::<SealedMetadata<C>>(data);
    roundtrip::<Refresh<C>>(data);
    roundtrip::<Reshare<C>>(data);
    if let Ok(ct) = Ciphertext::<C>::from_bytes(data) {
        // A fixed key that no fuzz input was sealed to.
        let sk = SecretScalar::<C>::new(C::scalar_from_u64(0x5eed));
        let ctx = *ct.context();
        assert!(ecies::open(&sk, &ctx, &ct).is_err(), "forged ciphertext opened");
        let other = Context { epoch: ctx.epoch.wrapping_add(1), ..ctx };
        assert!(ecies::open(&sk, &other, &ct).is_err());
    }
}

fuzz_target!(|data: &[u8]| {
    per_curve::<Secp256k1>(data);
    per_curve::<Ed25519>(data);
});
