//! # wallet-tss
//!
//! Threshold signatures whose key is never assembled: a DKG, two-party ECDSA on secp256k1
//! (DKLs23, oblivious-transfer multiplication) and FROST(Ed25519, SHA-512) per RFC 9591, each
//! with an offline phase (presignatures / nonce preprocessing) and a one-message online phase.
//! (Work in progress: see the project's issues.)

#![no_std]

extern crate alloc;

use wallet_types as _;
