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

    /// `s·G` in constant time. Defaults to [`Curve::mul_base`]; a ciphersuite may substitute a
    /// faster equivalent.
    fn base_mul(s: &Self::Scalar) -> Self::Point {
        Self::mul_base(s)
    }

    /// `Σ sᵢ·Pᵢ` in variable time over public data. Defaults to [`Curve::msm_vartime`].
    fn msm(scalars: &[Self::Scalar], points: &[Self::Point]) -> Self::Point {
        Self::msm_vartime(scalars, points)
    }

    /// Whether `Σ sᵢ·Pᵢ` is the identity (variable time, public data): the batch verification
    /// primitive.
    fn msm_is_identity(scalars: &[Self::Scalar], points: &[Self::Point]) -> bool {
        use group::Group;
        bool::from(Self::msm(scalars, points).is_identity())
    }
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

    // The same computations as `wallet_types::Ed25519`'s, with 8⁻¹ mod ℓ as a constant instead
    // of an inversion per call (the inversion costs about half a table multiplication).
    fn base_mul(s: &curve25519_dalek::Scalar) -> SubgroupPoint {
        use group::cofactor::CofactorGroup;
        // (s·8⁻¹)·B through the precomputed table, times 8 (= clear_cofactor): s·B, typed as a
        // subgroup point.
        curve25519_dalek::EdwardsPoint::mul_base(&(s * inv8())).clear_cofactor()
    }

    fn msm(scalars: &[curve25519_dalek::Scalar], points: &[SubgroupPoint]) -> SubgroupPoint {
        use curve25519_dalek::traits::VartimeMultiscalarMul;
        use group::cofactor::CofactorGroup;
        let inv8 = inv8();
        curve25519_dalek::EdwardsPoint::vartime_multiscalar_mul(
            scalars.iter().map(|s| s * inv8),
            points
                .iter()
                .map(|p| curve25519_dalek::EdwardsPoint::from(*p)),
        )
        .clear_cofactor()
    }

    fn msm_is_identity(scalars: &[curve25519_dalek::Scalar], points: &[SubgroupPoint]) -> bool {
        use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
        // Every point is in the prime-order subgroup, so is the sum: no cofactor handling.
        curve25519_dalek::EdwardsPoint::vartime_multiscalar_mul(
            scalars.iter(),
            points
                .iter()
                .map(|p| curve25519_dalek::EdwardsPoint::from(*p)),
        )
        .is_identity()
    }
}

use curve25519_dalek::edwards::SubgroupPoint;

/// 8⁻¹ mod ℓ, little-endian.
const INV8_BYTES: [u8; 32] = [
    0x79, 0x2f, 0xdc, 0xe2, 0x29, 0xe5, 0x06, 0x61, 0xd0, 0xda, 0x1c, 0x7d, 0xb3, 0x9d, 0xd3, 0x07,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
];

fn inv8() -> curve25519_dalek::Scalar {
    curve25519_dalek::Scalar::from_bytes_mod_order(INV8_BYTES)
}

/// `SerializeScalar(identifier)`: a party id is the scalar of its integer value (RFC 9591 §4.1,
/// identifiers are non-zero scalars).
pub(crate) fn identifier_bytes<C: Ciphersuite>(
    id: wallet_types::PartyId,
) -> <C::Scalar as PrimeField>::Repr {
    id.to_scalar::<C>().to_repr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inv8_constant() {
        assert_eq!(
            inv8() * curve25519_dalek::Scalar::from(8u64),
            curve25519_dalek::Scalar::ONE
        );
    }

    #[test]
    fn ed25519_fast_paths_match_the_curve() {
        let s = Ed25519::scalar_from_wide(&[7u8; 64]);
        let t = Ed25519::scalar_from_wide(&[9u8; 64]);
        let p = Ed25519::mul_base(&t);
        assert_eq!(
            <Ed25519 as Ciphersuite>::base_mul(&s),
            Ed25519::mul_base(&s)
        );
        assert_eq!(
            <Ed25519 as Ciphersuite>::msm(&[s, t], &[p, p]),
            Ed25519::msm_vartime(&[s, t], &[p, p])
        );
        assert!(<Ed25519 as Ciphersuite>::msm_is_identity(&[s, -s], &[p, p]));
        assert!(!<Ed25519 as Ciphersuite>::msm_is_identity(&[s, t], &[p, p]));
    }
}
