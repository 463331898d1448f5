//! The device side of the wallet crates in the browser (and any other wasm host): passkey
//! envelopes and their OPRF-hardened recovery answer ([`kek`]), the 2-of-3 Shamir share set ([`sss`]), the two-party ECDSA device
//! party ([`ecdsa`]) and the FROST signer ([`frost`]), with bytes in and bytes out.
//!
//! Every function is a plain Rust function, tested natively; [`bindings`] wraps each one thinly
//! with `#[wasm_bindgen]`, turning a [`WasmError`] into a JavaScript `Error` with the Rust
//! message and a `kind` property (and a `state` property where a failed call still changed the
//! sealed state). Secrets reach JavaScript only sealed ([`seal`]): envelopes, sealed shares and
//! sealed protocol states are ciphertext; public keys, signatures, commitments and protocol
//! messages for the counterparty are public.
//!
//! The same calls natively (what the page does with the WebAuthn PRF output of a passkey):
//!
//! ```
//! use wallet_wasm::kek;
//! let mut rng = wallet_wasm::platform_rng()?;
//! let salt = kek::new_prf_salt(&mut rng); // the page evaluates the passkey's PRF at `salt`
//! let prf_output = [7u8; 32]; // stand-in for that evaluation
//! let (envelope, public_key) = kek::generate(
//!     kek::KeyCurve::Secp256k1, "wallet.example", b"credential id", &salt, &prf_output, &mut rng,
//! )?;
//! let signature = kek::sign(&envelope, b"credential id", &prf_output, &[1u8; 32])?;
//! assert_eq!((public_key.len(), signature.len()), (33, 65));
//! // Another PRF output (another passkey) does not open the envelope, and says nothing more.
//! let refused = kek::sign(&envelope, b"credential id", &[8u8; 32], &[1u8; 32]).unwrap_err();
//! assert_eq!(refused.kind(), "unwrap");
//! # Ok::<(), wallet_wasm::WasmError>(())
//! ```
//!
//! Randomness comes from the platform (`crypto.getRandomValues` in a browser, through
//! `getrandom`'s `wasm_js` backend), seeding a ChaCha20 generator per call.

pub mod bindings;
pub mod ecdsa;
pub mod error;
pub mod frost;
pub mod kek;
pub mod seal;
pub mod sss;
pub mod store;

pub use error::{Result, WasmError};

use rand_core::SeedableRng;

/// A generator seeded from the platform's randomness for one call.
pub fn platform_rng() -> Result<rand_chacha::ChaCha20Rng> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut())
        .map_err(|e| WasmError::new("state", format!("no platform randomness: {e}")))?;
    Ok(rand_chacha::ChaCha20Rng::from_seed(*seed))
}
