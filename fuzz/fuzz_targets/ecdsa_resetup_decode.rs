//! Decodes the ECDSA resetup's wire objects (message, envelope, machine state) from arbitrary
//! bytes: never panics; a decoded round-6 or round-7 message (confirmation, acknowledgement)
//! re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_tss::ecdsa::{Resetup, ResetupMessage};
use wallet_types::{Envelope, WireObject};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ResetupMessage::from_bytes(data) {
        if matches!(m, ResetupMessage::Round6(_) | ResetupMessage::Round7(_)) {
            assert_eq!(m.to_bytes(), data, "non-canonical ResetupMessage accepted");
        }
    }
    let _ = Envelope::<ResetupMessage>::decode(data);
    let _ = Resetup::from_bytes(data);
});
