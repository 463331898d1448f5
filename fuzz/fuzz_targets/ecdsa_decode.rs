//! Decodes every ECDSA wire object (two-party and `t`-party presign, import) from arbitrary bytes: never panics; the objects
//! without embedded OT objects re-encode to the same bytes (one canonical encoding). The
//! serialized machine states (`PresignState`, `SignState`) decode without a key store.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_tss::ecdsa::import::ImportShare;
use wallet_tss::ecdsa::{
    KeyShare, Keygen, KeygenMessage, MultiPresignMessage, MultiPresignState, PartialSignature,
    PresignMessage, PresignState, PresignatureInfo, PublicKeyPackage, SignState,
};
use wallet_types::{Envelope, WireObject};

/// Asserts that an accepted `T` re-encodes to exactly `data`.
fn canonical<T: WireObject>(data: &[u8], name: &str) {
    if let Ok(x) = T::from_bytes(data) {
        assert_eq!(x.to_secret_bytes().expose(), data, "non-canonical {name} accepted");
    }
}

fuzz_target!(|data: &[u8]| {
    canonical::<PartialSignature>(data, "PartialSignature");
    canonical::<PresignatureInfo>(data, "PresignatureInfo");
    canonical::<PublicKeyPackage>(data, "PublicKeyPackage");
    canonical::<SignState>(data, "SignState");
    canonical::<ImportShare>(data, "ImportShare");
    let _ = KeygenMessage::from_bytes(data);
    let _ = PresignMessage::from_bytes(data);
    let _ = MultiPresignMessage::from_bytes(data);
    let _ = Envelope::<MultiPresignMessage>::decode(data);
    let _ = Envelope::<KeygenMessage>::decode(data);
    let _ = Envelope::<PresignMessage>::decode(data);
    let _ = Envelope::<PartialSignature>::decode(data);
    let _ = KeyShare::from_bytes(data);
    let _ = Keygen::from_bytes(data);
    // Holds a multiplication state (embedded OT objects): decode only.
    let _ = PresignState::from_bytes(data);
    let _ = MultiPresignState::from_bytes(data);
});
