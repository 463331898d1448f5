//! The curve abstraction every protocol is generic over.
//!
//! [`Curve`] is deliberately narrow: a prime-order group (`group::prime::PrimeGroup`) with its
//! scalar field (`ff::PrimeField + FromUniformBytes<64>`), fast fixed-base multiplication through
//! precomputed tables, a variable-time multi-scalar multiplication for public data, and *checked*
//! decoding. Two implementations exist: [`Secp256k1`] (k256) and [`Ed25519`]
//! (curve25519-dalek's prime-order subgroup, so torsion points cannot even be represented).
//!
//! Decoding rules (see `SPEC.md` of this crate):
//! * a point must be the canonical encoding of a point of the prime-order group; encodings of
//!   off-curve points, torsion / small-order points and non-canonical encodings (Ed25519 `y ≥ p`,
//!   the "negative zero" `x`) are rejected with distinct errors;
//! * the identity is rejected unless the caller asks for [`decode_point_or_identity`];
//! * a scalar must be the canonical encoding of a value `< q`.

use core::fmt::Debug;

use ff::{Field, FromUniformBytes, PrimeField};
use group::{Group, GroupEncoding, prime::PrimeGroup};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::wire::DecodeError;

/// Identifier of a curve on the wire (the `curve` byte of every header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum CurveId {
    /// secp256k1 (SEC 2), points as 33-byte SEC1 compressed encodings, scalars big-endian.
    Secp256k1 = 1,
    /// Ed25519 (RFC 8032), points as 32-byte compressed Edwards y, scalars little-endian.
    Ed25519 = 2,
}

impl CurveId {
    /// The byte that stands for this curve in a header.
    pub const fn to_byte(self) -> u8 {
        self as u8
    }

    /// Parses a header's curve byte.
    pub fn from_byte(b: u8) -> Result<Self, DecodeError> {
        match b {
            1 => Ok(Self::Secp256k1),
            2 => Ok(Self::Ed25519),
            other => Err(DecodeError::UnknownCurve(other)),
        }
    }

    /// The curve's name as used in transcripts and JSON output (`"secp256k1"`, `"ed25519"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Secp256k1 => "secp256k1",
            Self::Ed25519 => "ed25519",
        }
    }
}

/// A prime-order elliptic-curve group usable by every protocol in the wallet crates.
pub trait Curve: Copy + Clone + Debug + Default + Eq + Send + Sync + 'static {
    /// Wire identifier.
    const ID: CurveId;
    /// Length in bytes of an encoded scalar.
    const SCALAR_LEN: usize;
    /// Length in bytes of an encoded point.
    const POINT_LEN: usize;

    /// The scalar field `Z_q`.
    type Scalar: PrimeField + FromUniformBytes<64> + Zeroize + ConstantTimeEq + Debug + Send + Sync;
    /// The prime-order group (every value of this type is in the prime-order subgroup).
    type Point: PrimeGroup<Scalar = Self::Scalar> + ConstantTimeEq + Debug + Send + Sync;

    /// `s·G` through the curve's precomputed basepoint table (constant time).
    fn mul_base(s: &Self::Scalar) -> Self::Point;

    /// `Σ sᵢ·Pᵢ` in **variable time**; only for public scalars and points (verification).
    /// Extra scalars or points beyond the shorter list are ignored.
    fn msm_vartime(scalars: &[Self::Scalar], points: &[Self::Point]) -> Self::Point;

    /// `a·G + b·P` in variable time (signature / proof verification).
    fn mul_base_add_vartime(a: &Self::Scalar, b: &Self::Scalar, p: &Self::Point) -> Self::Point;

    /// Decodes an encoding of the right length, rejecting off-curve and torsion encodings with
    /// specific errors. Canonicity and identity are checked by [`decode_point`].
    fn decode_point_raw(bytes: &[u8]) -> Result<Self::Point, DecodeError>;

    /// Encodes a point (SEC1 compressed / RFC 8032).
    fn encode_point(p: &Self::Point) -> <Self::Point as GroupEncoding>::Repr {
        p.to_bytes()
    }

    /// Encodes a scalar (big-endian for secp256k1, little-endian for Ed25519, as their RFCs).
    fn encode_scalar(s: &Self::Scalar) -> <Self::Scalar as PrimeField>::Repr {
        s.to_repr()
    }

    /// Reduces 64 uniformly random bytes to a scalar (bias < 2^-128).
    fn scalar_from_wide(bytes: &[u8; 64]) -> Self::Scalar {
        Self::Scalar::from_uniform_bytes(bytes)
    }

    /// The scalar that stands for the small integer `n` (party identifiers, counters).
    fn scalar_from_u64(n: u64) -> Self::Scalar {
        Self::Scalar::from(n)
    }
}

/// Decodes a point, rejecting the identity, non-canonical, off-curve and torsion encodings.
pub fn decode_point<C: Curve>(bytes: &[u8]) -> Result<C::Point, DecodeError> {
    let p = decode_point_or_identity::<C>(bytes)?;
    if bool::from(p.is_identity()) {
        return Err(DecodeError::IdentityPoint);
    }
    Ok(p)
}

/// Decodes a point like [`decode_point`] but accepts the identity (for protocols where an
/// identity commitment is legitimate, e.g. commitments of a sharing of zero).
pub fn decode_point_or_identity<C: Curve>(bytes: &[u8]) -> Result<C::Point, DecodeError> {
    if bytes.len() != C::POINT_LEN {
        return Err(DecodeError::InvalidLength {
            expected: C::POINT_LEN,
            found: bytes.len(),
        });
    }
    let p = C::decode_point_raw(bytes)?;
    if p.to_bytes().as_ref() != bytes {
        return Err(DecodeError::NonCanonicalPoint);
    }
    Ok(p)
}

/// Decodes a canonical scalar (`< q`).
pub fn decode_scalar<C: Curve>(bytes: &[u8]) -> Result<C::Scalar, DecodeError> {
    let mut repr = <C::Scalar as PrimeField>::Repr::default();
    if repr.as_ref().len() != bytes.len() {
        return Err(DecodeError::InvalidLength {
            expected: repr.as_ref().len(),
            found: bytes.len(),
        });
    }
    repr.as_mut().copy_from_slice(bytes);
    let s = Option::<C::Scalar>::from(C::Scalar::from_repr(repr));
    repr.as_mut().zeroize();
    s.ok_or(DecodeError::ScalarOutOfRange)
}

/// Decodes a canonical, non-zero scalar.
pub fn decode_nonzero_scalar<C: Curve>(bytes: &[u8]) -> Result<C::Scalar, DecodeError> {
    let s = decode_scalar::<C>(bytes)?;
    if bool::from(s.is_zero()) {
        return Err(DecodeError::ZeroScalar);
    }
    Ok(s)
}

/// A point that passed validation and is not the identity.
///
/// Protocols store public keys and share commitments in this type so that "is not the identity"
/// is checked once, at decode or construction time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonIdentity<C: Curve>(C::Point);

impl<C: Curve> NonIdentity<C> {
    /// Wraps `p`, or `None` if it is the identity.
    pub fn new(p: C::Point) -> Option<Self> {
        if bool::from(p.is_identity()) {
            None
        } else {
            Some(Self(p))
        }
    }

    /// Decodes a non-identity point (see [`decode_point`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_point::<C>(bytes).map(Self)
    }

    /// The point.
    pub fn get(&self) -> &C::Point {
        &self.0
    }

    /// The point's encoding.
    pub fn to_bytes(&self) -> <C::Point as GroupEncoding>::Repr {
        self.0.to_bytes()
    }
}

/// ECDSA needs the x-coordinate of a point reduced into the scalar field.
pub trait EcdsaCurve: Curve {
    /// `(x mod q, y is odd, x ≥ q)` of a non-identity point, as ECDSA's `r` and recovery id need.
    fn x_scalar(p: &Self::Point) -> (Self::Scalar, bool, bool);
}

// ---------------------------------------------------------------------------------------------
// secp256k1
// ---------------------------------------------------------------------------------------------

/// secp256k1 through `k256`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Secp256k1;

impl Curve for Secp256k1 {
    const ID: CurveId = CurveId::Secp256k1;
    const SCALAR_LEN: usize = 32;
    const POINT_LEN: usize = 33;
    type Scalar = k256::Scalar;
    type Point = k256::ProjectivePoint;

    fn mul_base(s: &k256::Scalar) -> k256::ProjectivePoint {
        // Uses k256's precomputed basepoint table when the `std` feature enables it.
        k256::ProjectivePoint::mul_by_generator(s)
    }

    fn msm_vartime(
        scalars: &[k256::Scalar],
        points: &[k256::ProjectivePoint],
    ) -> k256::ProjectivePoint {
        use k256::elliptic_curve::ops::LinearCombination;
        let pairs: alloc::vec::Vec<(k256::ProjectivePoint, k256::Scalar)> = points
            .iter()
            .copied()
            .zip(scalars.iter().copied())
            .collect();
        k256::ProjectivePoint::lincomb_vartime(pairs.as_slice())
    }

    fn mul_base_add_vartime(
        a: &k256::Scalar,
        b: &k256::Scalar,
        p: &k256::ProjectivePoint,
    ) -> k256::ProjectivePoint {
        use k256::elliptic_curve::ops::LinearCombination;
        k256::ProjectivePoint::lincomb_vartime(&[(k256::ProjectivePoint::GENERATOR, *a), (*p, *b)])
    }

    fn decode_point_raw(bytes: &[u8]) -> Result<k256::ProjectivePoint, DecodeError> {
        let mut repr = k256::CompressedPoint::default();
        if repr.len() != bytes.len() {
            return Err(DecodeError::InvalidLength {
                expected: repr.len(),
                found: bytes.len(),
            });
        }
        repr.copy_from_slice(bytes);
        Option::from(k256::ProjectivePoint::from_bytes(&repr)).ok_or(DecodeError::InvalidPoint)
    }
}

impl EcdsaCurve for Secp256k1 {
    fn x_scalar(p: &k256::ProjectivePoint) -> (k256::Scalar, bool, bool) {
        use k256::elliptic_curve::ops::Reduce;
        let enc = p.to_bytes();
        let y_odd = enc.first() == Some(&0x03);
        let mut x = k256::FieldBytes::default();
        if let Some(src) = enc.get(1..33) {
            x.copy_from_slice(src);
        }
        let r = <k256::Scalar as Reduce<k256::FieldBytes>>::reduce(&x);
        // x ≥ q exactly when reduction changed the value.
        let x_reduced = r.to_repr() != x;
        (r, y_odd, x_reduced)
    }
}

// ---------------------------------------------------------------------------------------------
// Ed25519
// ---------------------------------------------------------------------------------------------

/// Ed25519 through `curve25519-dalek`'s prime-order subgroup ([`curve25519_dalek::edwards::SubgroupPoint`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ed25519;

/// 8⁻¹ mod ℓ: `mul_base` computes `8·((s/8)·B)`, which lands in the subgroup type through
/// `clear_cofactor` (three doublings) instead of a full torsion check.
fn ed25519_inv8() -> curve25519_dalek::Scalar {
    // 8⁻¹ mod ℓ, little-endian (checked by the test `ed25519_inv8_is_inverse`); a reduction of a
    // constant costs nanoseconds where an inversion costs microseconds.
    const INV8: [u8; 32] = [
        121, 47, 220, 226, 41, 229, 6, 97, 208, 218, 28, 125, 179, 157, 211, 7, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 6,
    ];
    curve25519_dalek::Scalar::from_bytes_mod_order(INV8)
}

fn ed25519_into_subgroup_times8(
    p: curve25519_dalek::EdwardsPoint,
) -> curve25519_dalek::edwards::SubgroupPoint {
    use group::cofactor::CofactorGroup;
    p.clear_cofactor()
}

impl Curve for Ed25519 {
    const ID: CurveId = CurveId::Ed25519;
    const SCALAR_LEN: usize = 32;
    const POINT_LEN: usize = 32;
    type Scalar = curve25519_dalek::Scalar;
    type Point = curve25519_dalek::edwards::SubgroupPoint;

    fn mul_base(s: &curve25519_dalek::Scalar) -> Self::Point {
        // (s·8⁻¹)·B through the precomputed table, then ×8 (which is exactly `clear_cofactor`):
        // the result is s·B, typed as a subgroup point, in constant time.
        let p = curve25519_dalek::EdwardsPoint::mul_base(&(s * ed25519_inv8()));
        ed25519_into_subgroup_times8(p)
    }

    fn msm_vartime(scalars: &[curve25519_dalek::Scalar], points: &[Self::Point]) -> Self::Point {
        use curve25519_dalek::traits::VartimeMultiscalarMul;
        let inv8 = ed25519_inv8();
        let n = scalars.len().min(points.len());
        let p = curve25519_dalek::EdwardsPoint::vartime_multiscalar_mul(
            scalars.iter().take(n).map(|s| s * inv8),
            points
                .iter()
                .take(n)
                .map(|p| curve25519_dalek::EdwardsPoint::from(*p)),
        );
        ed25519_into_subgroup_times8(p)
    }

    fn mul_base_add_vartime(
        a: &curve25519_dalek::Scalar,
        b: &curve25519_dalek::Scalar,
        p: &Self::Point,
    ) -> Self::Point {
        let inv8 = ed25519_inv8();
        let q = curve25519_dalek::EdwardsPoint::vartime_double_scalar_mul_basepoint(
            &(b * inv8),
            &curve25519_dalek::EdwardsPoint::from(*p),
            &(a * inv8),
        );
        ed25519_into_subgroup_times8(q)
    }

    fn decode_point_raw(bytes: &[u8]) -> Result<Self::Point, DecodeError> {
        use group::cofactor::CofactorGroup;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| DecodeError::InvalidLength {
            expected: 32,
            found: bytes.len(),
        })?;
        let p = curve25519_dalek::edwards::CompressedEdwardsY(arr)
            .decompress()
            .ok_or(DecodeError::InvalidPoint)?;
        Option::from(p.into_subgroup()).ok_or(DecodeError::TorsionPoint)
    }
}

/// Uniformly random non-zero scalar.
pub fn random_nonzero_scalar<C: Curve, R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> C::Scalar {
    loop {
        let mut wide = [0u8; 64];
        rng.fill_bytes(&mut wide);
        let s = C::scalar_from_wide(&wide);
        wide.zeroize();
        if !bool::from(s.is_zero()) {
            return s;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn roundtrip<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for _ in 0..20 {
            let s = random_nonzero_scalar::<C, _>(&mut rng);
            let p = C::mul_base(&s);
            assert_eq!(p, C::Point::generator() * s);
            let enc = p.to_bytes();
            assert_eq!(decode_point::<C>(enc.as_ref()).unwrap(), p);
            let senc = C::encode_scalar(&s);
            assert_eq!(decode_scalar::<C>(senc.as_ref()).unwrap(), s);
        }
        let id = C::Point::identity().to_bytes();
        assert_eq!(
            decode_point::<C>(id.as_ref()),
            Err(DecodeError::IdentityPoint)
        );
        assert!(decode_point_or_identity::<C>(id.as_ref()).is_ok());
        assert_eq!(
            decode_scalar::<C>(&[0xffu8; 32]),
            Err(DecodeError::ScalarOutOfRange)
        );
    }

    fn msm_matches<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let s: alloc::vec::Vec<_> = (0..5)
            .map(|_| random_nonzero_scalar::<C, _>(&mut rng))
            .collect();
        let p: alloc::vec::Vec<_> = (0..5)
            .map(|_| C::mul_base(&random_nonzero_scalar::<C, _>(&mut rng)))
            .collect();
        let expect: C::Point = s.iter().zip(&p).map(|(s, p)| *p * s).sum();
        assert_eq!(C::msm_vartime(&s, &p), expect);
        let a = s[0];
        let b = s[1];
        assert_eq!(
            C::mul_base_add_vartime(&a, &b, &p[0]),
            C::mul_base(&a) + p[0] * b
        );
    }

    #[test]
    fn secp256k1_roundtrip() {
        roundtrip::<Secp256k1>();
        msm_matches::<Secp256k1>();
    }

    #[test]
    fn ed25519_roundtrip() {
        roundtrip::<Ed25519>();
        msm_matches::<Ed25519>();
    }

    #[test]
    fn ed25519_inv8_is_inverse() {
        assert_eq!(
            ed25519_inv8() * curve25519_dalek::Scalar::from(8u64),
            curve25519_dalek::Scalar::ONE
        );
    }

    #[test]
    fn ed25519_rejects_torsion_and_noncanonical() {
        // Every non-trivial torsion point, alone and added to a point of the prime-order group.
        use curve25519_dalek::constants::EIGHT_TORSION;
        let b = curve25519_dalek::EdwardsPoint::mul_base(&curve25519_dalek::Scalar::from(5u64));
        for t in EIGHT_TORSION.iter().skip(1) {
            let enc = (b + t).compress().to_bytes();
            assert_eq!(
                decode_point::<Ed25519>(&enc),
                Err(DecodeError::TorsionPoint)
            );
            let enc = t.compress().to_bytes();
            assert_eq!(
                decode_point::<Ed25519>(&enc),
                Err(DecodeError::TorsionPoint)
            );
        }
        // Non-canonical: y = p + 1 encodes the same point as y = 1 (the identity) — dalek accepts
        // it, we must not. p = 2^255 - 19 → p + 1 = 2^255 - 18 little-endian.
        let mut y = [0xffu8; 32];
        y[0] = 0xee;
        y[31] = 0x7f;
        assert_eq!(
            decode_point_or_identity::<Ed25519>(&y),
            Err(DecodeError::NonCanonicalPoint)
        );
        // Off curve: y = 2 is not the y of any point.
        let mut y2 = [0u8; 32];
        y2[0] = 2;
        assert_eq!(decode_point::<Ed25519>(&y2), Err(DecodeError::InvalidPoint));
    }

    #[test]
    fn secp256k1_rejects_off_curve() {
        let mut enc = [0u8; 33];
        enc[0] = 0x02;
        enc[32] = 5; // x = 5: x³ + 7 = 132 is not a square mod p
        let r = decode_point::<Secp256k1>(&enc);
        assert_eq!(r, Err(DecodeError::InvalidPoint));
        let mut bad_tag = Secp256k1::mul_base(&k256::Scalar::ONE).to_bytes();
        bad_tag[0] = 0x04;
        assert_eq!(
            decode_point::<Secp256k1>(&bad_tag),
            Err(DecodeError::InvalidPoint)
        );
    }

    #[test]
    fn ecdsa_x_scalar() {
        let g = Secp256k1::mul_base(&k256::Scalar::ONE);
        let (r, odd, reduced) = Secp256k1::x_scalar(&g);
        assert!(!odd);
        assert!(!reduced);
        let gx = hex_literal_gx();
        assert_eq!(r.to_repr().as_slice(), &gx);
    }

    fn hex_literal_gx() -> [u8; 32] {
        let s = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}
