//! Feldman verifiable secret sharing (Feldman 1987).
//!
//! The dealer of `f(x) = a_0 + … + a_{t−1} x^{t−1}` publishes `C_k = a_k·G`. Then
//! * the public key is `C_0 = a_0·G`;
//! * party `i`'s share commitment is `f(i)·G = Σ_k i^k·C_k` (Horner's rule in the group with
//!   the 16-bit id as multiplier, linear in `t`);
//! * a share `s_i` verifies iff `s_i·G` (fixed-base tables) equals that commitment.
//!
//! Commitments of several dealers add coefficient-wise ([`Commitments::add`]), which is how a
//! DKG aggregates them.

use alloc::vec::Vec;

use wallet_types::ff::Field;
use wallet_types::group::Group;
use wallet_types::subtle::ConstantTimeEq;
use wallet_types::{Curve, MAX_PARTIES, PartyId, SecretScalar};

use crate::error::{Mismatched, ShamirError};

/// Feldman commitments `a_k·G` to the `t` coefficients of a sharing polynomial.
///
/// Invariant: `1 ≤ t ≤ MAX_PARTIES` points. Points may be the identity (a sharing of zero has an
/// identity public key; callers that need a non-identity key check [`Commitments::public_key`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitments<C: Curve> {
    points: Vec<C::Point>,
}

impl<C: Curve> Commitments<C> {
    /// Commitments from their points (constant coefficient first); between 1 and `MAX_PARTIES`
    /// points.
    pub fn new(points: Vec<C::Point>) -> Result<Self, ShamirError> {
        if points.is_empty() {
            return Err(ShamirError::Empty);
        }
        if points.len() > MAX_PARTIES {
            return Err(ShamirError::TooMany);
        }
        Ok(Self { points })
    }

    /// For [`crate::polynomial::Polynomial::commit`], whose length is already checked.
    pub(crate) fn from_points_unchecked(points: Vec<C::Point>) -> Self {
        Self { points }
    }

    /// The threshold `t` (number of commitments).
    pub fn threshold(&self) -> usize {
        self.points.len()
    }

    /// The commitments, constant coefficient first.
    pub fn points(&self) -> &[C::Point] {
        &self.points
    }

    /// The public key `a_0·G` (commitment to the constant coefficient).
    pub fn public_key(&self) -> C::Point {
        self.points
            .first()
            .copied()
            .unwrap_or_else(C::Point::identity)
    }

    /// The commitment `f(id)·G = Σ_k id^k·C_k` to party `id`'s share, in variable time over
    /// public data, with cost linear in `t`.
    ///
    /// Evaluated by Horner's rule in the group, `((C_{t−1}·id + C_{t−2})·id + …)·id + C_0`:
    /// the multiplier is always the 16-bit party id, so each step is at most 15 doublings and
    /// 16 additions (for the ids 1, 2, 3 of a wallet share set, one or two group operations).
    /// This is cheaper than one multi-scalar multiplication by the full-width powers `id^k`
    /// (see [`Commitments::share_commitment_msm`]) at every size we measured.
    pub fn share_commitment(&self, id: PartyId) -> C::Point {
        let mut it = self.points.iter().rev();
        let Some(top) = it.next() else {
            return C::Point::identity();
        };
        let mut acc = *top;
        for c in it {
            acc = mul_small::<C>(&acc, id.get()) + c;
        }
        acc
    }

    /// The same value as [`Commitments::share_commitment`], by one variable-time multi-scalar
    /// multiplication `Σ_k id^k·C_k` (kept as a cross-check and for benchmarking).
    pub fn share_commitment_msm(&self, id: PartyId) -> C::Point {
        let x = id.to_scalar::<C>();
        let mut powers = Vec::with_capacity(self.points.len());
        let mut pow = C::Scalar::ONE;
        for _ in 0..self.points.len() {
            powers.push(pow);
            pow *= x;
        }
        C::msm_vartime(&powers, &self.points)
    }

    /// The share commitments of several parties.
    pub fn share_commitments(&self, ids: &[PartyId]) -> Vec<C::Point> {
        ids.iter().map(|id| self.share_commitment(*id)).collect()
    }

    /// Whether `share` is `f(id)` for the committed polynomial: `share·G == Σ_k id^k·C_k`.
    /// The secret side uses the constant-time fixed-base multiplication; the comparison is in
    /// constant time.
    pub fn verify_share(&self, id: PartyId, share: &SecretScalar<C>) -> bool {
        let lhs = C::mul_base(share.expose());
        bool::from(lhs.ct_eq(&self.share_commitment(id)))
    }

    /// Like [`Commitments::verify_share`], as a `Result` naming the party.
    pub fn check_share(&self, id: PartyId, share: &SecretScalar<C>) -> Result<(), ShamirError> {
        if self.verify_share(id, share) {
            Ok(())
        } else {
            Err(ShamirError::InvalidShare(id))
        }
    }

    /// Coefficient-wise sum (commitments to the sum of two polynomials, as in DKG aggregation).
    /// Both must have the same threshold.
    pub fn add(&self, other: &Self) -> Result<Self, ShamirError> {
        if self.points.len() != other.points.len() {
            return Err(ShamirError::Mismatch {
                what: Mismatched::Threshold,
            });
        }
        Ok(Self {
            points: self
                .points
                .iter()
                .zip(&other.points)
                .map(|(a, b)| *a + *b)
                .collect(),
        })
    }

    /// Sum of a non-empty list of commitment vectors of one threshold.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Self>) -> Result<Self, ShamirError>
    where
        C: 'a,
    {
        let mut it = all.into_iter();
        let first = it.next().ok_or(ShamirError::Empty)?;
        let mut acc = first.clone();
        for c in it {
            acc = acc.add(c)?;
        }
        Ok(acc)
    }
}

/// `k·P` for a small public `k` by left-to-right double-and-add (variable time).
fn mul_small<C: Curve>(p: &C::Point, k: u16) -> C::Point {
    let mut acc = C::Point::identity();
    let bits = 16 - k.leading_zeros();
    for i in (0..bits).rev() {
        acc = acc.double();
        if (k >> i) & 1 == 1 {
            acc += p;
        }
    }
    acc
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::polynomial::Polynomial;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_types::{Ed25519, Secp256k1};

    fn roundtrip<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let f = Polynomial::<C>::random(SecretScalar::random(&mut rng), 3, &mut rng).unwrap();
        let g = Polynomial::<C>::random(SecretScalar::random(&mut rng), 3, &mut rng).unwrap();
        let cf = f.commit();
        let cg = g.commit();
        for i in 1..=6u16 {
            let id = PartyId::new(i).unwrap();
            assert!(cf.verify_share(id, &f.share_for(id)));
            assert_eq!(cf.share_commitment(id), f.share_for(id).public());
            assert_eq!(cf.share_commitment_msm(id), cf.share_commitment(id));
            let other = PartyId::new(i + 1).unwrap();
            assert!(!cf.verify_share(other, &f.share_for(id)));
            assert_eq!(
                cf.check_share(other, &f.share_for(id)),
                Err(ShamirError::InvalidShare(other))
            );
            // Aggregation: the sum of shares verifies against the sum of commitments.
            let mut s = f.share_for(id);
            *s.expose_mut() += g.share_for(id).expose();
            let sum = cf.add(&cg).unwrap();
            assert!(sum.verify_share(id, &s));
            assert_eq!(Commitments::sum([&cf, &cg]).unwrap(), sum);
        }
        let short = Polynomial::<C>::random(SecretScalar::random(&mut rng), 2, &mut rng).unwrap();
        assert_eq!(
            cf.add(&short.commit()),
            Err(ShamirError::Mismatch {
                what: Mismatched::Threshold
            })
        );
        assert_eq!(Commitments::<C>::new(Vec::new()), Err(ShamirError::Empty));
        assert_eq!(
            Commitments::<C>::new(alloc::vec![C::Point::generator(); MAX_PARTIES + 1]),
            Err(ShamirError::TooMany)
        );
        let c = Commitments::<C>::new(cf.points().to_vec()).unwrap();
        assert_eq!(c, cf);
    }

    #[test]
    fn small_multiples() {
        let g = <Secp256k1 as Curve>::Point::generator();
        for k in [0u16, 1, 2, 3, 255, 256, 40_000, u16::MAX] {
            assert_eq!(
                mul_small::<Secp256k1>(&g, k),
                g * <Secp256k1 as Curve>::Scalar::from(u64::from(k))
            );
        }
        // Large ids through the Horner path match the MSM path.
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let f = Polynomial::<Ed25519>::random(SecretScalar::random(&mut rng), 5, &mut rng).unwrap();
        let c = f.commit();
        for i in [1u16, 777, u16::MAX] {
            let id = PartyId::new(i).unwrap();
            assert_eq!(c.share_commitment(id), c.share_commitment_msm(id));
            assert!(c.verify_share(id, &f.share_for(id)));
        }
    }

    #[test]
    fn feldman_roundtrip() {
        roundtrip::<Secp256k1>();
        roundtrip::<Ed25519>();
    }
}
