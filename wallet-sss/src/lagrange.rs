//! Lagrange interpolation coefficients over a curve's scalar field.
//!
//! For a set of distinct evaluation points `ids` and a member `i`,
//! `λ_i(x) = Π_{j ∈ ids, j ≠ i} (x − j) / (i − j)`, so that `f(x) = Σ_i λ_i(x)·f(i)` for every
//! polynomial `f` of degree `< |ids|`. At `x = 0` this recombines the secret (and, in TSS, the
//! signing key share weights). Party ids are non-zero `u16`s, so distinct ids stay distinct in
//! any field used here and every denominator is invertible.

use alloc::vec::Vec;

use wallet_types::ff::Field;
use wallet_types::{Curve, Parties, PartyId};

use crate::error::ShamirError;

/// Checks that `ids` is non-empty, bounded and duplicate-free.
fn check_ids(ids: &[PartyId]) -> Result<(), ShamirError> {
    Parties::new(ids.iter().copied())?;
    Ok(())
}

/// `λ_i(0)` for the set `ids`: the weight of party `i`'s share when recombining the secret.
///
/// Errors: `ids` empty ([`ShamirError::Empty`]), a duplicate id ([`ShamirError::DuplicateId`]),
/// `i` not in `ids` ([`ShamirError::NotAMember`]).
///
/// ```
/// use wallet_sss::lagrange_at_zero;
/// use wallet_types::{PartyId, Secp256k1};
/// let ids = [PartyId::new(1).unwrap(), PartyId::new(3).unwrap()];
/// // λ₁(0) = 3 / (3 − 1) = 3/2 and λ₃(0) = 1 / (1 − 3) = −1/2: they sum to 1.
/// let l1 = lagrange_at_zero::<Secp256k1>(&ids, ids[0])?;
/// let l3 = lagrange_at_zero::<Secp256k1>(&ids, ids[1])?;
/// assert_eq!(l1 + l3, k256::Scalar::ONE);
/// # Ok::<(), wallet_sss::ShamirError>(())
/// ```
pub fn lagrange_at_zero<C: Curve>(ids: &[PartyId], i: PartyId) -> Result<C::Scalar, ShamirError> {
    lagrange_at::<C>(ids, i, &C::Scalar::ZERO)
}

/// `λ_i(x)` for the set `ids`: the weight of party `i`'s value when evaluating the
/// interpolating polynomial at `x` (e.g. at a new party's id when resharing).
///
/// Errors as [`lagrange_at_zero`].
pub fn lagrange_at<C: Curve>(
    ids: &[PartyId],
    i: PartyId,
    x: &C::Scalar,
) -> Result<C::Scalar, ShamirError> {
    check_ids(ids)?;
    if !ids.contains(&i) {
        return Err(ShamirError::NotAMember(i));
    }
    let xi = i.to_scalar::<C>();
    let mut num = C::Scalar::ONE;
    let mut den = C::Scalar::ONE;
    for j in ids.iter().filter(|j| **j != i) {
        let xj = j.to_scalar::<C>();
        num *= *x - xj;
        den *= xi - xj;
    }
    let inv = Option::<C::Scalar>::from(den.invert()).ok_or(ShamirError::Internal)?;
    Ok(num * inv)
}

/// `λ_i(x)` for every `i` in `ids`, in the order of `ids`, with one field inversion in all
/// (`O(n²)` multiplications). Errors as [`lagrange_at_zero`] (except `NotAMember`).
pub fn lagrange_coefficients_at<C: Curve>(
    ids: &[PartyId],
    x: &C::Scalar,
) -> Result<Vec<C::Scalar>, ShamirError> {
    check_ids(ids)?;
    let xs: Vec<C::Scalar> = ids.iter().map(|p| p.to_scalar::<C>()).collect();
    let mut nums = Vec::with_capacity(xs.len());
    let mut dens = Vec::with_capacity(xs.len());
    for (k, xi) in xs.iter().enumerate() {
        let mut num = C::Scalar::ONE;
        let mut den = C::Scalar::ONE;
        for (l, xj) in xs.iter().enumerate() {
            if k != l {
                num *= *x - xj;
                den *= *xi - xj;
            }
        }
        nums.push(num);
        dens.push(den);
    }
    batch_invert::<C>(&mut dens)?;
    Ok(nums.iter().zip(&dens).map(|(n, d)| *n * d).collect())
}

/// `λ_i(0)` for every `i` in `ids` (see [`lagrange_coefficients_at`]).
pub fn lagrange_coefficients_at_zero<C: Curve>(
    ids: &[PartyId],
) -> Result<Vec<C::Scalar>, ShamirError> {
    lagrange_coefficients_at::<C>(ids, &C::Scalar::ZERO)
}

/// Inverts every element in place with one inversion (Montgomery's trick); errors on a zero.
pub(crate) fn batch_invert<C: Curve>(v: &mut [C::Scalar]) -> Result<(), ShamirError> {
    let mut prefix = Vec::with_capacity(v.len());
    let mut acc = C::Scalar::ONE;
    for a in v.iter() {
        prefix.push(acc);
        acc *= a;
    }
    let mut inv = Option::<C::Scalar>::from(acc.invert()).ok_or(ShamirError::Internal)?;
    for (a, p) in v.iter_mut().zip(prefix).rev() {
        let ai = inv * p;
        inv *= *a;
        *a = ai;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::polynomial::Polynomial;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_types::{Ed25519, Secp256k1, SecretScalar};

    fn ids(v: &[u16]) -> Vec<PartyId> {
        v.iter().map(|i| PartyId::new(*i).unwrap()).collect()
    }

    fn interpolates<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let f = Polynomial::<C>::random(SecretScalar::random(&mut rng), 3, &mut rng).unwrap();
        let set = ids(&[2, 5, 11]);
        let x = C::scalar_from_u64(77);
        let all_at = lagrange_coefficients_at::<C>(&set, &x).unwrap();
        let all_zero = lagrange_coefficients_at_zero::<C>(&set).unwrap();
        let mut at_x = C::Scalar::ZERO;
        let mut at_0 = C::Scalar::ZERO;
        for (k, i) in set.iter().enumerate() {
            let l = lagrange_at::<C>(&set, *i, &x).unwrap();
            let l0 = lagrange_at_zero::<C>(&set, *i).unwrap();
            assert_eq!(l, all_at[k]);
            assert_eq!(l0, all_zero[k]);
            at_x += l * f.share_for(*i).expose();
            at_0 += l0 * f.share_for(*i).expose();
        }
        assert_eq!(at_x, *f.evaluate(&x).expose());
        assert_eq!(at_0, *f.constant().expose());
        // λ_i(j) is the Kronecker delta on the ids themselves.
        assert_eq!(
            lagrange_at::<C>(&set, set[0], &set[0].to_scalar::<C>()).unwrap(),
            C::Scalar::ONE
        );
        assert_eq!(
            lagrange_at::<C>(&set, set[0], &set[1].to_scalar::<C>()).unwrap(),
            C::Scalar::ZERO
        );
    }

    #[test]
    fn lagrange_interpolates() {
        interpolates::<Secp256k1>();
        interpolates::<Ed25519>();
    }

    #[test]
    fn lagrange_errors() {
        let p = |i| PartyId::new(i).unwrap();
        assert_eq!(
            lagrange_at_zero::<Secp256k1>(&[], p(1)),
            Err(ShamirError::Empty)
        );
        assert_eq!(
            lagrange_at_zero::<Secp256k1>(&ids(&[1, 2, 1]), p(1)),
            Err(ShamirError::DuplicateId(p(1)))
        );
        assert_eq!(
            lagrange_at_zero::<Secp256k1>(&ids(&[1, 2]), p(3)),
            Err(ShamirError::NotAMember(p(3)))
        );
        assert_eq!(
            lagrange_coefficients_at_zero::<Ed25519>(&ids(&[4, 4])),
            Err(ShamirError::DuplicateId(p(4)))
        );
        // A single id: λ = 1.
        assert_eq!(
            lagrange_at_zero::<Ed25519>(&ids(&[4]), p(4)).unwrap(),
            <Ed25519 as Curve>::Scalar::ONE
        );
    }
}
