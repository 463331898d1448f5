//! Decodes every FROST message, key object and machine state from arbitrary bytes: never
//! panics; messages and key objects that decode re-encode to the same bytes (one canonical
//! encoding); machine states re-encode stably.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_tss::frost::dkg::{DkgMessage, DkgParty};
use wallet_tss::frost::taproot::TaprootSigningPackage;
use wallet_tss::frost::taproot_signing::{
    TaprootCoordinator, TaprootSignerState, TaprootSigningMessage, TaprootSigningPartyState,
};
use wallet_tss::frost::signing::{Coordinator, SignerState, SigningMessage, SigningPartyState};
use wallet_tss::frost::{
    KeyPackage, PublicKeyPackage, Signature, SignatureShare, SigningCommitments, SigningNonces,
    SigningPackage,
};
use wallet_types::{Ed25519, Envelope, WireObject};

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

/// Machine states hold an inbox whose maps are re-encoded in key order: require stability.
fn state<T: WireObject>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        let once = v.to_secret_bytes();
        let again = T::from_bytes(once.expose()).expect("re-encoding decodes");
        assert_eq!(again.to_secret_bytes().expose(), once.expose(), "unstable state encoding");
    }
}

fn all(data: &[u8]) {
    public::<PublicKeyPackage<Ed25519>>(data);
    secret::<KeyPackage<Ed25519>>(data);
    public::<SigningCommitments<Ed25519>>(data);
    public::<SigningPackage<Ed25519>>(data);
    public::<SignatureShare<Ed25519>>(data);
    public::<SigningMessage<Ed25519>>(data);
    secret::<DkgMessage<Ed25519>>(data);
    state::<DkgParty<Ed25519>>(data);
    state::<SignerState<Ed25519>>(data);
    state::<Coordinator<Ed25519>>(data);
    state::<SigningPartyState<Ed25519>>(data);
    if let Ok(n) = SigningNonces::<Ed25519>::restore(data) {
        assert_eq!(n.seal().bytes(), data);
    }
    if let Ok(s) = Signature::<Ed25519>::from_bytes(data) {
        assert_eq!(s.to_bytes(), data);
    }
    let _ = Envelope::<DkgMessage<Ed25519>>::decode(data);
    let _ = Envelope::<SigningMessage<Ed25519>>::decode(data);
    taproot(data);
}

/// The BIP-340 / Taproot package, message and machine states (secp256k1).
fn taproot(data: &[u8]) {
    public::<TaprootSigningPackage>(data);
    public::<TaprootSigningMessage>(data);
    state::<TaprootSignerState>(data);
    state::<TaprootCoordinator>(data);
    state::<TaprootSigningPartyState>(data);
    let _ = Envelope::<TaprootSigningMessage>::decode(data);
}

/// `data` behind a valid header of `kind` on `curve`.
fn with_header(kind: u16, curve: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + 4);
    v.push(1);
    v.extend_from_slice(&kind.to_be_bytes());
    v.push(curve);
    v.extend_from_slice(data);
    v
}

fuzz_target!(|data: &[u8]| {
    all(data);
    // With a valid header, so the fuzzer reaches the bodies quickly.
    for kind in [0x0301u16, 0x0302, 0x0303, 0x0304, 0x0305, 0x0306, 0x0310, 0x0311, 0x0320, 0x0322, 0x0324, 0x0325] {
        all(&with_header(kind, 2, data));
    }
    // The BIP-340 / Taproot package, message and states (secp256k1, curve byte 1).
    for kind in [0x0330u16, 0x0331, 0x0332, 0x0333, 0x0334] {
        taproot(&with_header(kind, 1, data));
    }
});
