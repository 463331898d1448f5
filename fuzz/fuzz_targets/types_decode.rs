//! Decodes every wallet-types wire object from arbitrary bytes: never panics, and a decoded
//! object re-encodes to the same bytes (one canonical encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_types::reconfirm::{Reconfirm, ReconfirmMessage};
use wallet_types::session_id::{SessionIdAgreement, SessionIdMessage};
use wallet_types::{Curve, Ed25519, Envelope, NonIdentity, Parties, Secp256k1, WireObject};

fn roundtrip<T: WireObject>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        assert_eq!(v.to_secret_bytes().expose(), data, "non-canonical encoding accepted");
    }
}

fuzz_target!(|data: &[u8]| {
    roundtrip::<Parties>(data);
    roundtrip::<SessionIdMessage>(data);
    roundtrip::<ReconfirmMessage>(data);
    roundtrip::<Reconfirm>(data);
    roundtrip::<Envelope<Vec<u8>>>(data);
    if let Ok(m) = SessionIdAgreement::from_bytes(data) {
        assert_eq!(m.to_secret_bytes().expose(), data);
    }
    let _ = Envelope::<SessionIdMessage>::decode(data);
    if let Ok(p) = NonIdentity::<Secp256k1>::decode(data) {
        assert_eq!(p.to_bytes().as_slice(), data);
    }
    if let Ok(p) = NonIdentity::<Ed25519>::decode(data) {
        assert_eq!(p.to_bytes().as_slice(), data);
    }
    if let Ok(s) = wallet_types::decode_scalar::<Secp256k1>(data) {
        assert_eq!(Secp256k1::encode_scalar(&s).as_slice(), data);
    }
    if let Ok(s) = wallet_types::decode_scalar::<Ed25519>(data) {
        assert_eq!(Ed25519::encode_scalar(&s).as_slice(), data);
    }
});
