//! Criterion benches of the wallet crates live in `benches/benches/`; run them with
//! `cargo bench -p benches`. This library is empty.
#![no_std]

use wallet_types as _;
