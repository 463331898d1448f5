//! # wallet-tss
//!
//! Threshold signatures whose key is never assembled:
//!
//! * [`frost`] — FROST(Ed25519, SHA-512) per RFC 9591: DKG with proofs of knowledge,
//!   confirmation and acknowledgement rounds, nonce preprocessing (offline) and one-round signing
//!   (online);
//! * [`ot`] — base oblivious transfer and OT extension, the engine of threshold ECDSA;
//! * [`mul`] — OT-based two-party multiplication (DKLs23 §3);
//! * [`ecdsa`] — threshold ECDSA on secp256k1 (DKLs23, any `t`-of-n): DKG, presignatures (offline) and
//!   one-message signing (online); fresh pairwise OT setups for a refreshed / reshared key of
//!   a new epoch ([`ecdsa::Resetup`], driven by `wallet-pss`, with an acknowledgement round:
//!   a store moves to the new epoch only on a Confirmed outcome, [`ecdsa::install_confirmed`]).

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod ecdsa;
pub mod frost;
pub mod mul;
pub mod ot;
#[cfg(feature = "serde")]
pub mod serde_impls;

// The crates whose types appear in this crate's API, re-exported so that a user names the same
// versions (`wallet_tss::k256::ecdsa::Signature`) without depending on them directly.
pub use wallet_types::rand_core;
pub use {ed25519_dalek, k256};

mod sym;

use curve25519_dalek as _;
use ff as _;
use group as _;
use hmac as _;
use sha2 as _;
use subtle as _;
use wallet_sss as _;
use wallet_types as _;
use zeroize as _;
