//! # wallet-pss
//!
//! Proactive secret sharing for the wallet crates: keep a threshold key alive over time while
//! its address stays the same.
//!
//! * [`ecies`] — ECIES over either curve (HKDF-SHA256, AES-256-GCM) to a share commitment or a
//!   factor key, bound to session, epoch and recipient;
//! * [`refresh`] — distributed proactive refresh (Herzberg et al.): same key, same parties, new
//!   shares of a new epoch;
//! * [`reshare`] — verifiable resharing to a new threshold and party set (add / remove a device,
//!   raise / lower the threshold), interactively or with ECIES-sealed dealings for offline
//!   recipients;
//! * [`key`] — the generic key-share view ([`KeyShare`]) that refresh and reshare work on.
//!
//! Byte layouts: `wallet-pss/SPEC.md`.

#![no_std]

extern crate alloc;

pub mod ecies;
pub mod error;
pub mod key;
pub mod refresh;
pub mod reshare;

pub use error::PssError;
pub use key::KeyShare;
pub use refresh::{Refresh, RefreshMessage};
pub use reshare::{
    Reshare, ReshareConfig, ReshareMessage, ReshareOutput, SealedDealing, combine_sealed,
    deal_sealed,
};
