//! TEMPORARY stand-in for the parts of `wallet_sss` (polynomial, feldman, lagrange) used here,
//! with the same names and signatures, until wallet-sss lands on main. Deleted then.
#![allow(dead_code)]

pub mod polynomial {
    use alloc::vec::Vec;
    use rand_core::CryptoRng;
    use wallet_types::{Curve, PartyId, SecretScalar};

    use super::feldman::Commitments;

    /// Sharing polynomial.
    pub struct Polynomial<C: Curve> {
        coefficients: Vec<SecretScalar<C>>,
    }

    impl<C: Curve> Polynomial<C> {
        /// Random polynomial with the given constant.
        pub fn random<R: CryptoRng + ?Sized>(
            constant: SecretScalar<C>,
            threshold: usize,
            rng: &mut R,
        ) -> Result<Self, ()> {
            if threshold == 0 {
                return Err(());
            }
            let mut coefficients = Vec::with_capacity(threshold);
            coefficients.push(constant);
            for _ in 1..threshold {
                coefficients.push(SecretScalar::random(rng));
            }
            Ok(Self { coefficients })
        }
        /// From coefficients.
        pub fn from_coefficients(coefficients: Vec<SecretScalar<C>>) -> Result<Self, ()> {
            if coefficients.is_empty() {
                return Err(());
            }
            Ok(Self { coefficients })
        }
        /// Coefficients.
        pub fn coefficients(&self) -> &[SecretScalar<C>] {
            &self.coefficients
        }
        /// Evaluate.
        pub fn evaluate(&self, x: &C::Scalar) -> SecretScalar<C> {
            let mut acc = SecretScalar::<C>::zero();
            for a in self.coefficients.iter().rev() {
                let v = acc.expose_mut();
                *v = *v * x + a.expose();
            }
            acc
        }
        /// Share.
        pub fn share_for(&self, id: PartyId) -> SecretScalar<C> {
            self.evaluate(&id.to_scalar::<C>())
        }
        /// Commit.
        pub fn commit(&self) -> Commitments<C> {
            Commitments {
                points: self
                    .coefficients
                    .iter()
                    .map(|a| C::mul_base(a.expose()))
                    .collect(),
            }
        }
    }
}

pub mod feldman {
    use alloc::vec::Vec;
    use ff::Field;
    use group::Group;
    use wallet_types::{Curve, PartyId};

    /// Commitments.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Commitments<C: Curve> {
        pub(super) points: Vec<C::Point>,
    }

    impl<C: Curve> Commitments<C> {
        /// New.
        pub fn new(points: Vec<C::Point>) -> Result<Self, ()> {
            if points.is_empty() {
                return Err(());
            }
            Ok(Self { points })
        }
        /// t.
        pub fn threshold(&self) -> usize {
            self.points.len()
        }
        /// Points.
        pub fn points(&self) -> &[C::Point] {
            &self.points
        }
        /// a0 G.
        pub fn public_key(&self) -> C::Point {
            self.points.first().copied().unwrap_or_else(C::Point::identity)
        }
        /// Share commitment.
        pub fn share_commitment(&self, id: PartyId) -> C::Point {
            let x = id.to_scalar::<C>();
            let mut powers = Vec::with_capacity(self.points.len());
            let mut pow = C::Scalar::ONE;
            for _ in 0..self.points.len() {
                powers.push(pow);
                pow *= x;
            }
            C::msm_vartime(&powers, &self.points)
        }
        /// Sum.
        pub fn add(&self, other: &Self) -> Result<Self, ()> {
            if self.points.len() != other.points.len() {
                return Err(());
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
    }
}

pub mod lagrange {
    use alloc::vec::Vec;
    use ff::Field;
    use wallet_types::{Curve, PartyId};

    /// λ_i(0).
    pub fn lagrange_at_zero<C: Curve>(ids: &[PartyId], i: PartyId) -> Result<C::Scalar, ()> {
        if !ids.contains(&i) {
            return Err(());
        }
        let xi = i.to_scalar::<C>();
        let mut num = C::Scalar::ONE;
        let mut den = C::Scalar::ONE;
        for j in ids.iter().filter(|j| **j != i) {
            let xj = j.to_scalar::<C>();
            num *= -xj;
            den *= xi - xj;
        }
        let inv = Option::<C::Scalar>::from(den.invert()).ok_or(())?;
        Ok(num * inv)
    }

    /// All λ_i(0).
    pub fn lagrange_coefficients_at_zero<C: Curve>(ids: &[PartyId]) -> Result<Vec<C::Scalar>, ()> {
        ids.iter().map(|i| lagrange_at_zero::<C>(ids, *i)).collect()
    }
}
