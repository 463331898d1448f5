//! `serde` for the public, non-secret objects (feature `serde`), through their wire encoding
//! ([`wallet_types::serde_wire`]): hex strings in JSON, byte strings in binary formats, fully
//! validated on the way in. Key shares, nonces, sealed presignatures and machine states have
//! no serde implementation (they are `WireObject::SECRET`; the macro refuses them).

use wallet_types::impl_serde_via_wire;

use crate::ecdsa::{
    KeygenMessage, PartialSignature, PresignMessage, PresignatureInfo, PublicKeyPackage,
    ResetupMessage,
};
use crate::frost::Ciphersuite;
use crate::frost::dkg::DkgMessage;
use crate::frost::round1::SigningCommitments;
use crate::frost::round2::{SignatureShare, SigningPackage};
use crate::frost::signing::SigningMessage;

impl_serde_via_wire!(PublicKeyPackage);
impl_serde_via_wire!(PresignatureInfo);
impl_serde_via_wire!(PartialSignature);
impl_serde_via_wire!(KeygenMessage);
impl_serde_via_wire!(PresignMessage);
impl_serde_via_wire!(ResetupMessage);
impl_serde_via_wire!([C: Ciphersuite] crate::frost::PublicKeyPackage<C>);
impl_serde_via_wire!([C: Ciphersuite] DkgMessage<C>);
impl_serde_via_wire!([C: Ciphersuite] SigningCommitments<C>);
impl_serde_via_wire!([C: Ciphersuite] SigningPackage<C>);
impl_serde_via_wire!([C: Ciphersuite] SignatureShare<C>);
impl_serde_via_wire!([C: Ciphersuite] SigningMessage<C>);
