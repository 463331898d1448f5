//! Secret polynomials over a curve's scalar field.
//!
//! A [`Polynomial`] of degree `t − 1` holds `t` secret coefficients; coefficient 0 is the
//! shared secret. Share `i` is `f(i)` ([`Polynomial::share_for`]); the Feldman commitments are
//! `a_k·G` for every coefficient ([`Polynomial::commit`]).

use alloc::vec::Vec;

use rand_core::CryptoRng;
use wallet_types::{Curve, MAX_PARTIES, PartyId, SecretScalar};

use crate::error::ShamirError;
use crate::feldman::Commitments;

/// A secret polynomial `f(x) = a_0 + a_1 x + … + a_{t−1} x^{t−1}` with `a_0` the secret.
///
/// Invariant: `1 ≤ t ≤ MAX_PARTIES` coefficients. Every coefficient is a [`SecretScalar`], so
/// the polynomial is zeroized on drop; it is not `Clone` and its `Debug` prints no value.
pub struct Polynomial<C: Curve> {
    coefficients: Vec<SecretScalar<C>>,
}

impl<C: Curve> core::fmt::Debug for Polynomial<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Polynomial<{}>(threshold {}, <redacted>)",
            C::ID.name(),
            self.coefficients.len()
        )
    }
}

fn check_threshold(threshold: usize) -> Result<(), ShamirError> {
    if threshold == 0 || threshold > MAX_PARTIES {
        return Err(ShamirError::InvalidThreshold {
            threshold,
            parties: MAX_PARTIES,
        });
    }
    Ok(())
}

impl<C: Curve> Polynomial<C> {
    /// A polynomial with the given constant term and `threshold − 1` uniformly random non-zero
    /// higher coefficients (degree `threshold − 1`, so any `threshold` evaluations determine
    /// it). `threshold` must be in `1..=MAX_PARTIES`.
    ///
    /// ```
    /// use wallet_sss::Polynomial;
    /// use wallet_types::{Ed25519, PartyId, SecretScalar};
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    /// // A dealer's polynomial in a DKG: a random secret, threshold 2.
    /// let f = Polynomial::<Ed25519>::random(SecretScalar::random(&mut rng), 2, &mut rng)?;
    /// let commitments = f.commit();
    /// let id = PartyId::new(3).unwrap();
    /// assert!(commitments.verify_share(id, &f.share_for(id)));
    /// # Ok::<(), wallet_sss::ShamirError>(())
    /// ```
    pub fn random<R: CryptoRng + ?Sized>(
        constant: SecretScalar<C>,
        threshold: usize,
        rng: &mut R,
    ) -> Result<Self, ShamirError> {
        check_threshold(threshold)?;
        // Capacity fixed up front: the vector never reallocates, so no unzeroized copy of a
        // coefficient is left behind in a freed buffer.
        let mut coefficients = Vec::with_capacity(threshold);
        coefficients.push(constant);
        for _ in 1..threshold {
            coefficients.push(SecretScalar::random(rng));
        }
        Ok(Self { coefficients })
    }

    /// A polynomial with explicit coefficients (`coefficients[k]` multiplies `x^k`), e.g. for
    /// test vectors or a protocol that derives its coefficients. Between 1 and `MAX_PARTIES`
    /// coefficients.
    pub fn from_coefficients(coefficients: Vec<SecretScalar<C>>) -> Result<Self, ShamirError> {
        check_threshold(coefficients.len())?;
        Ok(Self { coefficients })
    }

    /// The threshold `t` (number of coefficients, degree + 1).
    pub fn threshold(&self) -> usize {
        self.coefficients.len()
    }

    /// A copy of the constant term `f(0)` (the shared secret).
    pub fn constant(&self) -> SecretScalar<C> {
        // The constructors guarantee at least one coefficient, so `first` is always `Some`.
        self.coefficients
            .first()
            .map_or_else(SecretScalar::zero, SecretScalar::duplicate)
    }

    /// The coefficients, constant first.
    pub fn coefficients(&self) -> &[SecretScalar<C>] {
        &self.coefficients
    }

    /// `f(x)` by Horner's rule (constant time in the coefficients).
    pub fn evaluate(&self, x: &C::Scalar) -> SecretScalar<C> {
        let mut acc = SecretScalar::<C>::zero();
        for a in self.coefficients.iter().rev() {
            let v = acc.expose_mut();
            *v = *v * x + a.expose();
        }
        acc
    }

    /// The share of party `id`: `f(id)`.
    pub fn share_for(&self, id: PartyId) -> SecretScalar<C> {
        self.evaluate(&id.to_scalar::<C>())
    }

    /// Feldman commitments `a_k·G` to every coefficient (fixed-base tables, constant time).
    pub fn commit(&self) -> Commitments<C> {
        Commitments::from_points_unchecked(
            self.coefficients
                .iter()
                .map(|a| C::mul_base(a.expose()))
                .collect(),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_types::ff::Field;
    use wallet_types::{Ed25519, Secp256k1};

    fn horner_matches_naive<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = Polynomial::<C>::random(SecretScalar::random(&mut rng), 4, &mut rng).unwrap();
        assert_eq!(p.threshold(), 4);
        let x = C::scalar_from_u64(7);
        let mut naive = C::Scalar::ZERO;
        let mut pow = C::Scalar::ONE;
        for a in p.coefficients() {
            naive += *a.expose() * pow;
            pow *= x;
        }
        assert_eq!(*p.evaluate(&x).expose(), naive);
        assert_eq!(
            *p.evaluate(&C::Scalar::ZERO).expose(),
            *p.constant().expose()
        );
        let id = PartyId::new(7).unwrap();
        assert_eq!(*p.share_for(id).expose(), naive);
        let c = p.commit();
        assert_eq!(c.threshold(), 4);
        assert_eq!(c.public_key(), p.constant().public());
        assert!(c.verify_share(id, &p.share_for(id)));
    }

    #[test]
    fn horner() {
        horner_matches_naive::<Secp256k1>();
        horner_matches_naive::<Ed25519>();
    }

    #[test]
    fn threshold_bounds() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        assert!(matches!(
            Polynomial::<Secp256k1>::random(SecretScalar::zero(), 0, &mut rng),
            Err(ShamirError::InvalidThreshold { threshold: 0, .. })
        ));
        assert!(
            Polynomial::<Secp256k1>::random(SecretScalar::zero(), MAX_PARTIES + 1, &mut rng)
                .is_err()
        );
        let p = Polynomial::<Secp256k1>::random(SecretScalar::zero(), 1, &mut rng).unwrap();
        assert!(bool::from(p.share_for(PartyId::new(9).unwrap()).is_zero()));
        assert!(Polynomial::<Secp256k1>::from_coefficients(Vec::new()).is_err());
        let shown = alloc::format!("{p:?}");
        assert!(shown.contains("redacted"));
    }
}
