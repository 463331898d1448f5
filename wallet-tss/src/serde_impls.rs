//! `serde` for the public, non-secret objects (feature `serde`), through their wire encoding
//! ([`wallet_types::serde_wire`]): hex strings in JSON, byte strings in binary formats, fully
//! validated on the way in. Key shares, nonces, sealed presignatures and machine states have
//! no serde implementation (they are `WireObject::SECRET`; the macro refuses them).
//!
//! A public object serializes (here the ECDSA public key package, as hex in JSON):
//!
//! ```
//! fn public_json(p: &wallet_tss::ecdsa::PublicKeyPackage) -> String {
//!     serde_json::to_string(p).unwrap_or_default()
//! }
//! fn public_wire(p: &wallet_tss::ecdsa::PublicKeyPackage) -> Vec<u8> {
//!     let mut out = Vec::new();
//!     let _ = wallet_types::serde_wire::serialize(p, &mut serde_json::Serializer::new(&mut out));
//!     out
//! }
//! ```
//!
//! A key share does not: it has no `Serialize`,
//!
//! ```compile_fail
//! fn leak(k: &wallet_tss::ecdsa::KeyShare) -> String {
//!     serde_json::to_string(k).unwrap_or_default()
//! }
//! ```
//!
//! and forcing it through the wire-encoding path is a compile-time error too:
//!
//! ```compile_fail
//! fn leak(k: &wallet_tss::ecdsa::KeyShare) -> Vec<u8> {
//!     let mut out = Vec::new();
//!     let _ = wallet_types::serde_wire::serialize(k, &mut serde_json::Serializer::new(&mut out));
//!     out
//! }
//! // The check runs when the code is instantiated (any build that uses `leak`).
//! let _used: fn(&wallet_tss::ecdsa::KeyShare) -> Vec<u8> = leak;
//! ```

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
