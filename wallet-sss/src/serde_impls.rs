//! `serde` for the public objects (feature `serde`), through their wire encoding
//! ([`wallet_types::serde_wire`]). Shares have none: they are secret and leave memory only
//! through their explicit encodings.

use wallet_types::{Curve, impl_serde_via_wire};

use crate::encoding::ShareSetCommitments;
use crate::feldman::Commitments;

impl_serde_via_wire!([C: Curve] Commitments<C>);
impl_serde_via_wire!([C: Curve] ShareSetCommitments<C>);
