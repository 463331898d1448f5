//! # wallet-pss
//!
//! Proactive secret sharing for the wallet crates: keep a threshold key alive over time while
//! its address stays the same.
//!
//! * [`ecies`] — ECIES over either curve (HKDF-SHA256, AES-256-GCM) to a share commitment or a
//!   factor key, bound to session, epoch and recipient;
//! * [`refresh`] — distributed proactive refresh (Herzberg et al.): same key, same parties, new
//!   shares of a new epoch, with an acknowledgement round (the old share is borrowed, never
//!   consumed; it may be deleted only on a confirmed outcome, after a test signature:
//!   [`release_old_share`]);
//! * [`reshare`] — verifiable resharing to a new threshold and party set (add / remove a device,
//!   raise / lower the threshold), interactively (with an acknowledgement round: no dealer is
//!   told to delete its old share before every new party holds the same new sharing) or with
//!   signed, ECIES-sealed dealings for offline recipients;
//! * [`key`] — the generic key-share view ([`KeyShare`]) that refresh and reshare work on;
//! * [`share_set`] — client-side resharing of Shamir share sets (remove / add a device or a
//!   backup factor, change the threshold), new shares sealed to [`factor`] keys;
//! * [`frost`] — FROST keys of wallet-tss in and out of the generic key share;
//! * [`ecdsa`] — threshold ECDSA (DKLs23, `t`-of-n) keys of wallet-tss through refresh and reshare (threshold change included), with
//!   fresh pairwise OT setups every epoch (acknowledged: a key store moves to the new epoch
//!   only on a Confirmed resetup; an unconfirmed party keeps the old share and the new one);
//! * [`metadata`] — the metadata key that encrypts and signs the account's sharing state,
//!   certified by the wallet key and rotated when a device leaves; the record of an offline
//!   reshare's epoch carries its dealings hash, checked before an old share is deleted;
//! * [`wallet_sig`] — the curves' standard signatures under the wallet key, the root of trust
//!   of what devices fetch from the store (share bundles, metadata-key certificates).
//!
//! Byte layouts: `wallet-pss/SPEC.md`.

#![no_std]

extern crate alloc;

mod aead;
pub mod ecdsa;
pub mod ecies;
pub mod error;
pub mod factor;
pub mod frost;
pub mod key;
pub mod metadata;
pub mod refresh;
pub mod reshare;
#[cfg(feature = "serde")]
pub mod serde_impls;
pub mod share_set;
pub mod wallet_sig;

pub use error::{DeliveryFault, PssError};
pub use key::KeyShare;

// The crates whose types appear in this crate's API, re-exported so that a user names the same
// versions (`wallet_tss::k256::ecdsa::Signature`) without depending on them directly.
pub use refresh::{KeepOldShare, Refresh, RefreshMessage, release_old_share};
pub use reshare::{
    Reshare, ReshareConfig, ReshareMessage, ReshareOutput, SealedDealing, SealedOutcome,
    combine_sealed, deal_sealed, verify_sealed_dealings,
};
pub use wallet_types::rand_core;
pub use {ed25519_dalek, k256};
