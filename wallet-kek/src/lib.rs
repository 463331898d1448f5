//! # wallet-kek
//!
//! The WebAuthn PRF output of a passkey as key-encryption key: HKDF-SHA256 → AES-256-GCM key
//! wrapping in an envelope with several passkey slots, Argon2id password / recovery-answer
//! fallback slots, and client-side signing that unwraps, signs and zeroizes in one call.
//! (Work in progress: see the project's issues.)

#![no_std]

extern crate alloc;

use wallet_types as _;
