//! wallet-kek envelopes from arbitrary bytes, opened with a fixed PRF output.
//!
//! Two modes (first byte):
//! * `0x00 || bytes`: decode `bytes` as an envelope; a decoded envelope re-encodes to the same
//!   bytes, and opening it either fails with the one opaque error or the bytes are exactly one
//!   of the two genuine envelopes made with the PRF output we hold (KAT-2 and KAT-3 of
//!   `wallet-kek/tests/kat.rs`);
//! * otherwise: the rest is a list of `(u16be position, u8 xor)` edits applied to the reference
//!   envelope, so the fuzzer reaches the AEAD checks; a modified envelope must never open.
//!
//! Never panics except on a broken invariant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_kek::{Credential, Envelope, KekError, PrfOutput};
use wallet_types::WireObject;

const REFERENCE_HEX: &str = "01040100a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf010000581b17d3180d67443ccd0bdd00000030758616a68cf0bbe1d44dd2fb99cfbcf8cbe39f9137699da70a0c78ce85e16b5952bf2888f73bfdb13688dcbfad29e7c300010001010000000e6b61742d63726564656e7469616c0000000e77616c6c65742e6578616d706c65404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f2cf8ccb495646e17340d11bb0a6b16eb72d280e28c146f2f9b99a4eb4337881779067bedfc70b9b1781c4ebedc94476bed96abcbaa8926d0685703e2";
/// KAT-3: passkey + password + recovery slots around the Ed25519 seed `20 21 … 3f`.
const KAT3_HEX: &str = "01040100a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf020000f857206f1290bb91706a308b0000003024fa12de195144d8f165f13354003d35f29fa0fe6dffbe6a738325f71e8c2761248eea236b00fe2c6be36ac16083aac500030001010000000e6b61742d63726564656e7469616c0000000e77616c6c65742e6578616d706c65404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5fdc45a2165ed7eaf73d2956d2e186b9440667c46578119a6abeac91480ef2975b66d70b1f5026f4e09a847e38c418a128c35ab3e82b8042e7a9f7af1600020200004c000000000200000001b8e32627ae97d165ad370abed4c4df773112d60534f2acc10493bb0a63d4a180cad7eca826555150c2215a5b631f94f98ec6c49cf570be4a208b38b0d2f621073673a2542626e301e31dd0d400030300004c00000000020000000169c37833c9c071c2fc2e60c75021f98f0000000a4669727374207065743fa3286389664018cb14381476619bb8b60d7931669b2a2ab12166e6c97f1fa9f3d471e09a6725d5a5aadc3e033c4896f18a12e7fb5bd89ccc7aba9990";
const CRED: &[u8] = b"kat-credential";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn seq(start: u8) -> [u8; 32] {
    core::array::from_fn(|i| start.wrapping_add(i as u8))
}

fn check(bytes: &[u8], kat2: &[u8], kat3: &[u8]) {
    let Ok(env) = Envelope::from_bytes(bytes) else {
        return;
    };
    assert_eq!(env.to_bytes(), bytes, "non-canonical encoding accepted");
    let prf = PrfOutput::new(seq(0x00));
    let cred = Credential::Prf {
        credential_id: CRED,
        output: &prf,
    };
    match env.open(&cred) {
        Ok(u) => {
            if bytes == kat2 {
                assert_eq!(u.payload().expose(), &seq(0x01));
            } else if bytes == kat3 {
                assert_eq!(u.payload().expose(), &seq(0x20));
            } else {
                panic!("a modified envelope opened");
            }
        }
        Err(e) => assert_eq!(e, KekError::Unwrap),
    }
}

fuzz_target!(|data: &[u8]| {
    let reference = unhex(REFERENCE_HEX);
    let kat3 = unhex(KAT3_HEX);
    match data.split_first() {
        None => {}
        Some((0, raw)) => check(raw, &reference, &kat3),
        Some((_, edits)) => {
            let mut b = reference.clone();
            for e in edits.chunks_exact(3) {
                let pos = usize::from(u16::from_be_bytes([e[0], e[1]])) % b.len();
                b[pos] ^= e[2];
            }
            check(&b, &reference, &kat3);
        }
    }
});
