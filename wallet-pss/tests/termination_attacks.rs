//! Temporary harness for the termination section of the agreement attacks, until
//! `agreement_attacks.rs` includes it (`#[path = "agreement/termination.rs"] mod termination;`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "agreement/termination.rs"]
mod termination;
