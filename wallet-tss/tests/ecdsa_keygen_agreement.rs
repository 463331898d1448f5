//! Temporary harness for `ecdsa_lifecycle/keygen.rs` (the lead includes that module from
//! `ecdsa_lifecycle_attacks.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod ecdsa_common;

#[path = "ecdsa_lifecycle/keygen.rs"]
mod keygen;
