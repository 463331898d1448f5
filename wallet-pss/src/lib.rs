//! # wallet-pss
//!
//! Proactive secret sharing for the wallet crates: distributed refresh (same key, new shares,
//! new epoch), resharing to a new threshold or party set (add / remove a device), and ECIES
//! delivery of new shares to share commitments or factor keys. (Work in progress: see the
//! project's issues.)

#![no_std]

extern crate alloc;

use wallet_types as _;
