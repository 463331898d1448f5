//! `serde` for the public objects (feature `serde`), through their wire encoding
//! ([`wallet_types::serde_wire`]): protocol messages and the encrypted objects a store keeps.
//! Key shares and machine states have none (they are secret).

use wallet_types::{Curve, impl_serde_via_wire};

use crate::ecies::Ciphertext;
use crate::refresh::RefreshMessage;
use crate::reshare::{ReshareMessage, SealedDealing};
use crate::share_set::ShareBundle;

impl_serde_via_wire!([C: Curve] Ciphertext<C>);
impl_serde_via_wire!([C: Curve] RefreshMessage<C>);
impl_serde_via_wire!([C: Curve] ReshareMessage<C>);
impl_serde_via_wire!([C: Curve] SealedDealing<C>);
impl_serde_via_wire!([C: Curve] ShareBundle<C>);
