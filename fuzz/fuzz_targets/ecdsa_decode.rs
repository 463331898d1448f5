//! Decodes every two-party ECDSA wire object from arbitrary bytes: never panics; the objects
//! without embedded OT objects re-encode to the same bytes (one canonical encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_tss::ecdsa::{
    KeyShare, Keygen, KeygenMessage, PartialSignature, Presign, PresignMessage, Presignature,
    PresignatureInfo, Sign,
};
use wallet_types::{Envelope, WireObject};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = PartialSignature::from_bytes(data) {
        assert_eq!(
            p.to_bytes(),
            data,
            "non-canonical PartialSignature accepted"
        );
    }
    if let Ok(p) = PresignatureInfo::from_bytes(data) {
        assert_eq!(
            p.to_bytes(),
            data,
            "non-canonical PresignatureInfo accepted"
        );
    }
    let _ = KeygenMessage::from_bytes(data);
    let _ = PresignMessage::from_bytes(data);
    let _ = Envelope::<KeygenMessage>::decode(data);
    let _ = Envelope::<PresignMessage>::decode(data);
    let _ = Envelope::<PartialSignature>::decode(data);
    let _ = KeyShare::from_bytes(data);
    let _ = Keygen::from_bytes(data);
    let _ = Presign::from_bytes(data);
    let _ = Sign::from_bytes(data);
    if data.len() >= 32 {
        let mut id = [0u8; 32];
        id.copy_from_slice(&data[..32]);
        let _ = Presignature::restore(&id, &data[32..]);
    }
});
