//! Decodes every wallet-sss wire object (shares, commitments, share-set commitments, wallet
//! shares) from arbitrary bytes: never panics; whatever decodes re-encodes to the same bytes
//! (one canonical encoding); a decoded wallet share verifies against its commitments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_sss::encoding::{ShareSetCommitments, decode_share};
use wallet_sss::shamir::Share;
use wallet_sss::wallet::WalletShare;
use wallet_sss::Commitments;
use wallet_types::{Curve, Ed25519, Secp256k1, WireObject};

fn roundtrip<T: WireObject>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        assert_eq!(v.to_secret_bytes().expose(), data, "non-canonical encoding accepted");
    }
}

fn per_curve<C: Curve>(data: &[u8]) {
    roundtrip::<Share<C>>(data);
    roundtrip::<Commitments<C>>(data);
    roundtrip::<ShareSetCommitments<C>>(data);
    if let Ok(s) = decode_share::<C>(data) {
        assert!(s.threshold() >= 1);
        assert_eq!(s.to_secret_bytes().expose(), data);
    }
}

fuzz_target!(|data: &[u8]| {
    per_curve::<Secp256k1>(data);
    per_curve::<Ed25519>(data);
    if let Ok(w) = WalletShare::from_bytes(data) {
        assert_eq!(w.to_secret_bytes().expose(), data);
        assert!(w.share().verify(w.public().commitments()));
    }
});
