//! The device side of the wallet crates in the browser (and any other wasm host): passkey
//! envelopes ([`kek`]), the 2-of-3 Shamir share set ([`sss`]), the two-party ECDSA device
//! party ([`ecdsa`]) and the FROST signer ([`frost`]), with bytes in and bytes out.
//!
//! Every function is a plain Rust function, tested natively; [`bindings`] wraps each one thinly
//! with `#[wasm_bindgen]`, turning a [`WasmError`] into a JavaScript `Error` with the Rust
//! message and a `kind` property (and a `state` property where a failed call still changed the
//! sealed state). Secrets reach JavaScript only sealed ([`seal`]): envelopes, sealed shares and
//! sealed protocol states are ciphertext; public keys, signatures, commitments and protocol
//! messages for the counterparty are public.
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
