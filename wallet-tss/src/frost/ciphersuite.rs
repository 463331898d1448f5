//! RFC 9591 ciphersuites: the context string and the hash functions H1..H5 on top of a
//! [`Curve`].
//!
//! The generic protocol code only needs what RFC 9591 §6 asks of a ciphersuite: a prime-order
//! group with its element / scalar encodings (given by [`Curve`]) and five hash functions. These
//! hashes are fixed by the RFC byte for byte (so that our participants can sign together with any
//! other conforming implementation); they therefore do **not** go through
//! [`wallet_types::Transcript`] — they are domain-separated by the RFC's context string instead.
//!
//! Implemented: FROST(Ed25519, SHA-512) (RFC 9591 §6.1).

use ff::PrimeField;
use sha2::{Digest, Sha512};
use wallet_types::{Curve, Ed25519};

/// A FROST ciphersuite (RFC 9591 §6): a curve plus the RFC's hash functions.
///
/// `parts` arguments are hashed as their concatenation (the RFC's `m`); passing them separately
/// avoids building the concatenation in memory.
pub trait Ciphersuite: Curve {
    /// The RFC's `contextString` (e.g. `"FROST-ED25519-SHA512-v1"`).
    const CONTEXT_STRING: &'static [u8];
    /// The ciphersuite's name as the RFC writes it (e.g. `"FROST(Ed25519, SHA-512)"`).
    const NAME: &'static str;
    /// Length of an encoded signature (`SerializeElement(R) || SerializeScalar(z)`).
    const SIGNATURE_LEN: usize;

    /// `H1(m)`: binding factors (`rho`).
    fn h1(parts: &[&[u8]]) -> Self::Scalar;
    /// `H2(m)`: the signature challenge.
    fn h2(parts: &[&[u8]]) -> Self::Scalar;
    /// `H3(m)`: nonce generation.
    fn h3(parts: &[&[u8]]) -> Self::Scalar;
    /// `H4(m)`: the message hash inside binding factors.
    fn h4(parts: &[&[u8]]) -> alloc::vec::Vec<u8>;
    /// `H5(m)`: the commitment-list hash inside binding factors.
    fn h5(parts: &[&[u8]]) -> alloc::vec::Vec<u8>;
}

fn sha512(prefix: &[&[u8]], parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Sha512::new();
    for p in prefix.iter().chain(parts) {
        h.update(p);
    }
    h.finalize().into()
}

/// FROST(Ed25519, SHA-512), RFC 9591 §6.1. Scalars are reduced from 64-byte little-endian
/// SHA-512 outputs; `H2` has no context string so that signatures are RFC 8032 Ed25519
/// signatures.
impl Ciphersuite for Ed25519 {
    const CONTEXT_STRING: &'static [u8] = b"FROST-ED25519-SHA512-v1";
    const NAME: &'static str = "FROST(Ed25519, SHA-512)";
    const SIGNATURE_LEN: usize = 64;

    fn h1(parts: &[&[u8]]) -> curve25519_dalek::Scalar {
        Ed25519::scalar_from_wide(&sha512(&[Self::CONTEXT_STRING, b"rho"], parts))
    }
    fn h2(parts: &[&[u8]]) -> curve25519_dalek::Scalar {
        Ed25519::scalar_from_wide(&sha512(&[], parts))
    }
    fn h3(parts: &[&[u8]]) -> curve25519_dalek::Scalar {
        Ed25519::scalar_from_wide(&sha512(&[Self::CONTEXT_STRING, b"nonce"], parts))
    }
    fn h4(parts: &[&[u8]]) -> alloc::vec::Vec<u8> {
        sha512(&[Self::CONTEXT_STRING, b"msg"], parts).to_vec()
    }
    fn h5(parts: &[&[u8]]) -> alloc::vec::Vec<u8> {
        sha512(&[Self::CONTEXT_STRING, b"com"], parts).to_vec()
    }
}

/// `SerializeScalar(identifier)`: a party id is the scalar of its integer value (RFC 9591 §4.1,
/// identifiers are non-zero scalars).
pub(crate) fn identifier_bytes<C: Ciphersuite>(
    id: wallet_types::PartyId,
) -> <C::Scalar as PrimeField>::Repr {
    id.to_scalar::<C>().to_repr()
}
