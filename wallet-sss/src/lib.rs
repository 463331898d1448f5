//! # wallet-sss
//!
//! Shamir secret sharing with Feldman commitments, generic over the `Curve` trait of
//! `wallet-types`; the 2-of-3 device / auth / recovery wallet share set; BIP-39 / BIP-32 /
//! SLIP-10 export of the shared wallet secret. (Work in progress: see the project's issues.)

#![no_std]

extern crate alloc;

use rand_core as _;
use subtle as _;
use wallet_types as _;
use zeroize as _;
