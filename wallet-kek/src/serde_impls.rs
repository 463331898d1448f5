//! `serde` for [`Envelope`] (feature `serde`), through its wire encoding
//! ([`wallet_types::serde_wire`]). An envelope is ciphertext and public slot metadata, so it may
//! be stored anywhere; opened payloads have no serde implementation.

use wallet_types::impl_serde_via_wire;

use crate::Envelope;

impl_serde_via_wire!(Envelope);
