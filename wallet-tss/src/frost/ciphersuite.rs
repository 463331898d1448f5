//! RFC 9591 ciphersuites: the context string and the hash functions H1..H5 on top of a
//! [`Curve`].
//!
//! The generic protocol code only needs what RFC 9591 §6 asks of a ciphersuite: a prime-order
//! group with its element / scalar encodings (given by [`Curve`]) and five hash functions. These
//! hashes are fixed by the RFC byte for byte (so that our participants can sign together with any
//! other conforming implementation); they therefore do **not** go through
//! [`wallet_types::Transcript`] — they are domain-separated by the RFC's context string instead.
//!
//! Implemented: FROST(Ed25519, SHA-512) (RFC 9591 §6.1) and FROST(secp256k1, SHA-256)
//! (RFC 9591 §6.5, with `hash_to_field` / `expand_message_xmd` of RFC 9380).

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

    /// `Σ sᵢ·Pᵢ` in variable time over public data. Defaults to [`Curve::msm_vartime`]. A term
    /// whose scalar depends on a secret never goes in here: multiply it with
    /// [`Ciphersuite::base_mul`] (constant time) and combine the results.
    fn msm(scalars: &[Self::Scalar], points: &[Self::Point]) -> Self::Point {
        Self::msm_vartime(scalars, points)
    }

    /// Whether `Σ sᵢ·Pᵢ` is the identity (variable time, public data only, as
    /// [`Ciphersuite::msm`]): the batch verification primitive.
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

/// FROST(secp256k1, SHA-256), RFC 9591 §6.5. `H1`, `H2`, `H3` are RFC 9380 `hash_to_field`
/// into the scalar field (`expand_message_xmd` with SHA-256, `L = 48`, one element) with the
/// DST `contextString || "rho" / "chal" / "nonce"`; `H4`, `H5` are SHA-256 with a prefix.
/// Signatures are `SerializeElement(R) (33 bytes, SEC1 compressed) || SerializeScalar(z)
/// (32 bytes, big-endian)`.
impl Ciphersuite for wallet_types::Secp256k1 {
    const CONTEXT_STRING: &'static [u8] = b"FROST-secp256k1-SHA256-v1";
    const NAME: &'static str = "FROST(secp256k1, SHA-256)";
    const SIGNATURE_LEN: usize = 65;

    fn h1(parts: &[&[u8]]) -> k256::Scalar {
        hash_to_scalar_secp256k1(&[Self::CONTEXT_STRING, b"rho"], parts)
    }
    fn h2(parts: &[&[u8]]) -> k256::Scalar {
        hash_to_scalar_secp256k1(&[Self::CONTEXT_STRING, b"chal"], parts)
    }
    fn h3(parts: &[&[u8]]) -> k256::Scalar {
        hash_to_scalar_secp256k1(&[Self::CONTEXT_STRING, b"nonce"], parts)
    }
    fn h4(parts: &[&[u8]]) -> alloc::vec::Vec<u8> {
        sha256(&[Self::CONTEXT_STRING, b"msg"], parts).to_vec()
    }
    fn h5(parts: &[&[u8]]) -> alloc::vec::Vec<u8> {
        sha256(&[Self::CONTEXT_STRING, b"com"], parts).to_vec()
    }
}

pub(crate) fn sha256(prefix: &[&[u8]], parts: &[&[u8]]) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    for p in prefix.iter().chain(parts) {
        h.update(p);
    }
    h.finalize().into()
}

/// RFC 9380 §5.3.1 `expand_message_xmd` with SHA-256 for `len ≤ 255·32` output bytes and a
/// DST of at most 255 bytes (both hold for the fixed uses here), into `out`.
fn expand_message_xmd_sha256(msg: &[&[u8]], dst: &[&[u8]], out: &mut [u8]) {
    let dst_len: usize = dst.iter().map(|d| d.len()).sum();
    let dst_len_byte = [u8::try_from(dst_len).unwrap_or(u8::MAX)];
    let len = u16::try_from(out.len()).unwrap_or(u16::MAX);
    // b_0 = H(Z_pad || msg || I2OSP(len, 2) || I2OSP(0, 1) || DST_prime)
    let mut h = sha2::Sha256::new();
    h.update([0u8; 64]);
    for m in msg {
        h.update(m);
    }
    h.update(len.to_be_bytes());
    h.update([0u8]);
    for d in dst {
        h.update(d);
    }
    h.update(dst_len_byte);
    let b0: [u8; 32] = h.finalize().into();
    // b_i = H(strxor(b_0, b_{i−1}) || I2OSP(i, 1) || DST_prime), b_1 with b_0 alone.
    let mut prev = [0u8; 32];
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let mut h = sha2::Sha256::new();
        let mut x = [0u8; 32];
        for ((x, a), b) in x.iter_mut().zip(&b0).zip(&prev) {
            *x = a ^ b;
        }
        h.update(x);
        h.update([u8::try_from(i + 1).unwrap_or(u8::MAX)]);
        for d in dst {
            h.update(d);
        }
        h.update(dst_len_byte);
        prev = h.finalize().into();
        let n = chunk.len();
        chunk.copy_from_slice(prev.get(..n).unwrap_or(&[]));
    }
}

/// RFC 9380 `hash_to_field(msg, 1)` into the secp256k1 scalar field: 48 uniform bytes read
/// big-endian and reduced mod n.
pub(crate) fn hash_to_scalar_secp256k1(dst: &[&[u8]], msg: &[&[u8]]) -> k256::Scalar {
    use k256::elliptic_curve::ops::Reduce;
    let mut wide = k256::WideBytes::default();
    if let Some(tail) = wide.get_mut(16..) {
        expand_message_xmd_sha256(msg, dst, tail);
    }
    <k256::Scalar as Reduce<k256::WideBytes>>::reduce(&wide)
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

    /// RFC 9380 Appendix K.1 (expand_message_xmd, SHA-256,
    /// DST "QUUX-V01-CS02-with-expander-SHA256-128"), msg "abc", len 0x20 and 0x80.
    #[test]
    fn expand_message_xmd_vectors() {
        let dst: &[&[u8]] = &[b"QUUX-V01-CS02-with-expander-SHA256-128"];
        let mut out = [0u8; 32];
        expand_message_xmd_sha256(&[b"abc"], dst, &mut out);
        assert_eq!(
            hex::encode(out),
            "d8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615"
        );
        let mut out = [0u8; 32];
        expand_message_xmd_sha256(&[b""], dst, &mut out);
        assert_eq!(
            hex::encode(out),
            "68a985b87eb6b46952128911f2a4412bbc302a9d759667f87f7a21d803f07235"
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
