//! Decodes every wallet-tss OT / multiplication message, state and setup from arbitrary bytes:
//! never panics, and whatever decodes re-encodes to the same bytes (one canonical encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_tss::mul::{MulMsg1, MulMsg2, MulReceiverState};
use wallet_tss::ot::{
    MulReceiverSetup, MulSenderSetup, OtSetupMsg1, OtSetupMsg2, OtSetupMsg3, OtSetupMsg4,
    OtSetupMsg5, SetupAlice2, SetupAlice4, SetupBob1, SetupBob3, kinds,
};
use wallet_types::WireObject;

fn public<T: WireObject>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        assert_eq!(v.to_secret_bytes().expose(), data, "non-canonical encoding accepted");
    }
}

fn secret<T: WireObject>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        assert_eq!(v.to_secret_bytes().expose(), data, "non-canonical encoding accepted");
    }
}

fuzz_target!(|data: &[u8]| {
    public::<OtSetupMsg1>(data);
    public::<OtSetupMsg2>(data);
    public::<OtSetupMsg3>(data);
    public::<OtSetupMsg4>(data);
    public::<OtSetupMsg5>(data);
    public::<MulMsg1>(data);
    public::<MulMsg2>(data);
    secret::<SetupBob1>(data);
    secret::<SetupAlice2>(data);
    secret::<SetupBob3>(data);
    secret::<SetupAlice4>(data);
    secret::<MulSenderSetup>(data);
    secret::<MulReceiverSetup>(data);
    secret::<MulReceiverState>(data);
    // With a valid header, so the fuzzer reaches the bodies quickly (the multiplication kinds
    // from the crate, so that they follow its revisions).
    for kind in [
        0x0340u16,
        0x0341,
        0x0342,
        0x0343,
        0x0344,
        0x0348,
        0x0349,
        0x034a,
        0x034b,
        0x0350,
        0x0351,
        kinds::MUL_MSG1.0,
        kinds::MUL_MSG2.0,
        kinds::MUL_RECEIVER_STATE.0,
    ] {
        let mut v = Vec::with_capacity(data.len() + 4);
        v.push(1);
        v.extend_from_slice(&kind.to_be_bytes());
        v.push(1);
        v.extend_from_slice(data);
        public::<OtSetupMsg1>(&v);
        public::<OtSetupMsg2>(&v);
        public::<OtSetupMsg3>(&v);
        public::<OtSetupMsg4>(&v);
        public::<OtSetupMsg5>(&v);
        public::<MulMsg1>(&v);
        public::<MulMsg2>(&v);
        secret::<SetupBob1>(&v);
        secret::<SetupAlice2>(&v);
        secret::<SetupBob3>(&v);
        secret::<SetupAlice4>(&v);
        secret::<MulSenderSetup>(&v);
        secret::<MulReceiverSetup>(&v);
        secret::<MulReceiverState>(&v);
    }
});
