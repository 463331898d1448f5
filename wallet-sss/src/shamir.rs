//! Shamir secret sharing (Shamir 1979) with Feldman commitments.
//!
//! [`split`] deals `n` shares of a secret with threshold `t` under a fresh [`ShareSetId`];
//! [`reconstruct`] recombines any `t` of them, refusing fewer, duplicates and shares of
//! different share sets or thresholds; with more than `t` shares it checks that all of them lie
//! on one polynomial and names those that do not.

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use wallet_types::ff::Field;
use wallet_types::subtle::ConstantTimeEq;
use wallet_types::{Curve, MAX_PARTIES, Parties, PartyId, SecretScalar};

use crate::error::{Mismatched, ShamirError};
use crate::feldman::Commitments;
use crate::lagrange::batch_invert;
use crate::polynomial::Polynomial;

/// Length in bytes of a share-set id.
pub const SHARE_SET_ID_LEN: usize = 16;

/// The identifier of one dealing (one polynomial). Shares of different share sets never
/// combine: [`reconstruct`] refuses the mix. A fresh random id is drawn for every dealing,
/// including every re-split of the same secret (rotation), so old and new shares cannot be
/// mixed by accident.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShareSetId(pub [u8; SHARE_SET_ID_LEN]);

impl ShareSetId {
    /// A fresh random id.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut b = [0u8; SHARE_SET_ID_LEN];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// The id's bytes.
    pub const fn as_bytes(&self) -> &[u8; SHARE_SET_ID_LEN] {
        &self.0
    }
}

impl fmt::Debug for ShareSetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShareSetId(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// One party's share: `f(id)` of the share set's polynomial, with the share set's id and
/// threshold so that mixing is detected.
///
/// Invariant: `1 ≤ threshold ≤ MAX_PARTIES`. The value is a [`SecretScalar`] (zeroized on drop,
/// redacted in `Debug`); the share is not `Clone` (use [`Share::duplicate`] explicitly).
pub struct Share<C: Curve> {
    set_id: ShareSetId,
    threshold: usize,
    id: PartyId,
    value: SecretScalar<C>,
}

impl<C: Curve> fmt::Debug for Share<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("curve", &C::ID.name())
            .field("set_id", &self.set_id)
            .field("threshold", &self.threshold)
            .field("id", &self.id)
            .field("value", &self.value)
            .finish()
    }
}

impl<C: Curve> Share<C> {
    /// A share from its parts; `threshold` must be in `1..=MAX_PARTIES`.
    pub fn new(
        set_id: ShareSetId,
        threshold: usize,
        id: PartyId,
        value: SecretScalar<C>,
    ) -> Result<Self, ShamirError> {
        if threshold == 0 || threshold > MAX_PARTIES {
            return Err(ShamirError::InvalidThreshold {
                threshold,
                parties: MAX_PARTIES,
            });
        }
        Ok(Self {
            set_id,
            threshold,
            id,
            value,
        })
    }

    /// The share set this share belongs to.
    pub fn set_id(&self) -> ShareSetId {
        self.set_id
    }

    /// The share set's threshold.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The party id (the evaluation point).
    pub fn id(&self) -> PartyId {
        self.id
    }

    /// The secret value `f(id)`.
    pub fn value(&self) -> &SecretScalar<C> {
        &self.value
    }

    /// An explicit copy; named so that reviewers see every duplication of a secret.
    pub fn duplicate(&self) -> Self {
        Self {
            set_id: self.set_id,
            threshold: self.threshold,
            id: self.id,
            value: self.value.duplicate(),
        }
    }

    /// Whether this share verifies against the share set's Feldman commitments (and the
    /// thresholds agree).
    pub fn verify(&self, commitments: &Commitments<C>) -> bool {
        commitments.threshold() == self.threshold && commitments.verify_share(self.id, &self.value)
    }
}

/// Splits `secret` into shares for every party of `ids` with threshold `t` (any `t` shares
/// reconstruct, fewer reveal nothing), under a fresh random [`ShareSetId`]. Returns the shares in
/// the order of `ids` and the Feldman commitments to the polynomial.
///
/// ```
/// use wallet_sss::shamir::{split, reconstruct};
/// use wallet_types::{Parties, SecretScalar, Secp256k1};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
/// let secret = SecretScalar::<Secp256k1>::random(&mut rng);
/// let (shares, commitments) = split(&secret, 2, &Parties::range(3)?, &mut rng)?;
/// assert_eq!(commitments.public_key(), secret.public());
/// assert!(shares.iter().all(|s| s.verify(&commitments)));
/// let back = reconstruct(&shares[1..])?;
/// assert_eq!(back.public(), secret.public());
/// assert!(reconstruct(&shares[..1]).is_err());
/// # Ok::<(), wallet_sss::ShamirError>(())
/// ```
pub fn split<C: Curve, R: CryptoRng + ?Sized>(
    secret: &SecretScalar<C>,
    threshold: usize,
    ids: &Parties,
    rng: &mut R,
) -> Result<(Vec<Share<C>>, Commitments<C>), ShamirError> {
    let set_id = ShareSetId::random(rng);
    split_with_set_id(secret, threshold, ids, set_id, rng)
}

/// [`split`] under a caller-chosen share-set id (the caller must make it unique per dealing).
pub fn split_with_set_id<C: Curve, R: CryptoRng + ?Sized>(
    secret: &SecretScalar<C>,
    threshold: usize,
    ids: &Parties,
    set_id: ShareSetId,
    rng: &mut R,
) -> Result<(Vec<Share<C>>, Commitments<C>), ShamirError> {
    if threshold == 0 || threshold > ids.len() {
        return Err(ShamirError::InvalidThreshold {
            threshold,
            parties: ids.len(),
        });
    }
    let f = Polynomial::random(secret.duplicate(), threshold, rng)?;
    let mut shares = Vec::with_capacity(ids.len());
    for id in ids.iter() {
        shares.push(Share {
            set_id,
            threshold,
            id,
            value: f.share_for(id),
        });
    }
    Ok((shares, f.commit()))
}

/// Checks that `shares` belong together (same set id and threshold, distinct ids, at least
/// the threshold of them) and returns the threshold.
fn check_shares<C: Curve>(shares: &[Share<C>]) -> Result<usize, ShamirError> {
    let first = shares.first().ok_or(ShamirError::Empty)?;
    if shares.len() > MAX_PARTIES {
        return Err(ShamirError::TooMany);
    }
    for s in shares {
        if s.set_id != first.set_id {
            return Err(ShamirError::Mismatch {
                what: Mismatched::ShareSet,
            });
        }
        if s.threshold != first.threshold {
            return Err(ShamirError::Mismatch {
                what: Mismatched::Threshold,
            });
        }
    }
    Parties::new(shares.iter().map(|s| s.id))?;
    if shares.len() < first.threshold {
        return Err(ShamirError::TooFewShares {
            needed: first.threshold,
            given: shares.len(),
        });
    }
    Ok(first.threshold)
}

/// Recombines the secret `f(0)` from at least `t` shares of one share set.
///
/// Errors: no share ([`ShamirError::Empty`]); fewer than `t`
/// ([`ShamirError::TooFewShares`]) — never a wrong secret; a repeated id
/// ([`ShamirError::DuplicateId`]); shares of different share sets or thresholds
/// ([`ShamirError::Mismatch`]); more than `t` shares not on one polynomial
/// ([`ShamirError::InconsistentShares`], naming the culprits when they are determined).
///
/// With exactly `t` shares nothing can be cross-checked: a tampered share then yields a wrong
/// value. Holders of the Feldman commitments use [`reconstruct_verified`], which refuses every
/// tampered share (the wallet share set always does).
pub fn reconstruct<C: Curve>(shares: &[Share<C>]) -> Result<SecretScalar<C>, ShamirError> {
    let t = check_shares(shares)?;
    let (base, extra) = shares.split_at(t.min(shares.len()));
    let secret = interpolate_at_zero(base)?;
    if extra.is_empty() {
        return Ok(secret);
    }
    let interp = Interpolator::new(base)?;
    let mut all_fit = true;
    for s in extra {
        let v = interp.eval(&s.id.to_scalar::<C>())?;
        all_fit &= bool::from(v.ct_eq(&s.value));
    }
    if all_fit {
        Ok(secret)
    } else {
        drop(secret);
        Err(ShamirError::InconsistentShares(locate_inconsistent(
            shares, t,
        )?))
    }
}

/// Recombines the secret after verifying every share against the Feldman commitments (and the
/// result against the committed public key). A share that fails is named
/// ([`ShamirError::InvalidShare`] for the first failing one in the order given).
pub fn reconstruct_verified<C: Curve>(
    shares: &[Share<C>],
    commitments: &Commitments<C>,
) -> Result<SecretScalar<C>, ShamirError> {
    let t = check_shares(shares)?;
    if commitments.threshold() != t {
        return Err(ShamirError::Mismatch {
            what: Mismatched::Threshold,
        });
    }
    for s in shares {
        commitments.check_share(s.id, &s.value)?;
    }
    let secret = reconstruct(shares)?;
    if secret.public() != commitments.public_key() {
        return Err(ShamirError::Internal);
    }
    Ok(secret)
}

/// `f(0) = Σ λ_i(0)·y_i` over shares with distinct ids (checked by the caller), with one field
/// inversion: `λ_i(0) = Π_{j≠i} x_j / Π_{j≠i} (x_j − x_i)`.
fn interpolate_at_zero<C: Curve>(shares: &[Share<C>]) -> Result<SecretScalar<C>, ShamirError> {
    let xs: Vec<C::Scalar> = shares.iter().map(|s| s.id.to_scalar::<C>()).collect();
    let mut nums = Vec::with_capacity(xs.len());
    let mut dens = Vec::with_capacity(xs.len());
    for (k, xi) in xs.iter().enumerate() {
        let mut num = C::Scalar::ONE;
        let mut den = C::Scalar::ONE;
        for (l, xj) in xs.iter().enumerate() {
            if k != l {
                num *= xj;
                den *= *xj - xi;
            }
        }
        nums.push(num);
        dens.push(den);
    }
    batch_invert::<C>(&mut dens)?;
    let mut acc = SecretScalar::<C>::zero();
    for ((n, d), s) in nums.iter().zip(&dens).zip(shares) {
        *acc.expose_mut() += *n * d * s.value.expose();
    }
    Ok(acc)
}

/// Interpolation through `t` shares in barycentric form: weights
/// `w_i = 1 / Π_{j≠i} (x_i − x_j)` once (`O(t²)`), then each evaluation in `O(t)` plus one
/// inversion.
struct Interpolator<'a, C: Curve> {
    shares: &'a [Share<C>],
    xs: Vec<C::Scalar>,
    weights: Vec<C::Scalar>,
}

impl<'a, C: Curve> Interpolator<'a, C> {
    fn new(shares: &'a [Share<C>]) -> Result<Self, ShamirError> {
        let xs: Vec<C::Scalar> = shares.iter().map(|s| s.id.to_scalar::<C>()).collect();
        let mut weights = Vec::with_capacity(xs.len());
        for (k, xi) in xs.iter().enumerate() {
            let mut den = C::Scalar::ONE;
            for (l, xj) in xs.iter().enumerate() {
                if k != l {
                    den *= *xi - xj;
                }
            }
            weights.push(den);
        }
        batch_invert::<C>(&mut weights)?;
        Ok(Self {
            shares,
            xs,
            weights,
        })
    }

    /// `f(x) = ℓ(x)·Σ w_i·y_i/(x − x_i)` for `x` not among the base points.
    fn eval(&self, x: &C::Scalar) -> Result<SecretScalar<C>, ShamirError> {
        let mut diffs: Vec<C::Scalar> = self.xs.iter().map(|xi| *x - xi).collect();
        let ell = diffs.iter().fold(C::Scalar::ONE, |a, d| a * d);
        batch_invert::<C>(&mut diffs)?;
        let mut acc = SecretScalar::<C>::zero();
        for ((w, d), s) in self.weights.iter().zip(&diffs).zip(self.shares) {
            *acc.expose_mut() += *w * d * s.value.expose();
        }
        *acc.expose_mut() *= ell;
        Ok(acc)
    }
}

/// How many candidate `t`-subsets [`locate_inconsistent`] tries before giving up on naming
/// culprits (bounds the work an adversarial share list can cause).
const LOCATE_BUDGET: usize = 64;

/// Names the shares off the unique polynomial agreeing with at least `(m + t) / 2` of the `m`
/// shares (unique decoding: `m ≥ t + 2e` for `e` bad shares). When no such polynomial is found
/// within the search budget, names every share.
fn locate_inconsistent<C: Curve>(
    shares: &[Share<C>],
    t: usize,
) -> Result<Vec<PartyId>, ShamirError> {
    let m = shares.len();
    let all: Vec<PartyId> = shares.iter().map(|s| s.id).collect();
    let mut subset: Vec<usize> = (0..t).collect();
    let mut tried = 0;
    loop {
        if tried >= LOCATE_BUDGET {
            return Ok(all);
        }
        tried += 1;
        let base: Vec<Share<C>> = subset
            .iter()
            .filter_map(|&k| shares.get(k).map(Share::duplicate))
            .collect();
        let interp = Interpolator::new(&base)?;
        let mut off = Vec::new();
        for (k, s) in shares.iter().enumerate() {
            if subset.contains(&k) {
                continue;
            }
            let v = interp.eval(&s.id.to_scalar::<C>())?;
            if !bool::from(v.ct_eq(&s.value)) {
                off.push(s.id);
            }
        }
        let agree = m - off.len();
        // 2·agree − m ≥ t ⇔ the agreeing polynomial is the unique one within distance e.
        if 2 * agree >= m + t && !off.is_empty() {
            off.sort_unstable();
            return Ok(off);
        }
        if !next_subset(&mut subset, m) {
            return Ok(all);
        }
    }
}

/// Advances `subset` (strictly increasing indices below `m`) to the next one in lexicographic
/// order; `false` after the last.
fn next_subset(subset: &mut [usize], m: usize) -> bool {
    let t = subset.len();
    let mut k = t;
    while k > 0 {
        k -= 1;
        let limit = m - t + k;
        if let Some(v) = subset.get_mut(k)
            && *v < limit
        {
            *v += 1;
            let start = *v;
            for (off, w) in subset.iter_mut().skip(k + 1).enumerate() {
                *w = start + off + 1;
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_types::{Ed25519, Secp256k1};

    fn p(i: u16) -> PartyId {
        PartyId::new(i).unwrap()
    }

    fn basics<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let secret = SecretScalar::<C>::random(&mut rng);
        let ids = Parties::from_ids(&[3, 7, 8, 20, 100]).unwrap();
        let (shares, comm) = split(&secret, 3, &ids, &mut rng).unwrap();
        assert_eq!(comm.public_key(), secret.public());
        for s in &shares {
            assert!(s.verify(&comm));
        }
        let r = reconstruct(&shares[1..4]).unwrap();
        assert!(bool::from(r.ct_eq(&secret)));
        let r = reconstruct(&shares).unwrap();
        assert!(bool::from(r.ct_eq(&secret)));
        let r = reconstruct_verified(&shares[..3], &comm).unwrap();
        assert!(bool::from(r.ct_eq(&secret)));
        assert_eq!(
            reconstruct(&shares[..2]).unwrap_err(),
            ShamirError::TooFewShares {
                needed: 3,
                given: 2
            }
        );
        assert_eq!(reconstruct::<C>(&[]).unwrap_err(), ShamirError::Empty);
        let dup = [
            shares[0].duplicate(),
            shares[1].duplicate(),
            shares[0].duplicate(),
        ];
        assert_eq!(
            reconstruct(&dup).unwrap_err(),
            ShamirError::DuplicateId(p(3))
        );
        // Another dealing of the same secret: mixing is refused.
        let (other, _) = split(&secret, 3, &ids, &mut rng).unwrap();
        let mixed = [
            shares[0].duplicate(),
            shares[1].duplicate(),
            other[2].duplicate(),
        ];
        assert_eq!(
            reconstruct(&mixed).unwrap_err(),
            ShamirError::Mismatch {
                what: Mismatched::ShareSet
            }
        );
        let (other_t, _) =
            split_with_set_id(&secret, 2, &ids, shares[0].set_id(), &mut rng).unwrap();
        let mixed = [
            shares[0].duplicate(),
            shares[1].duplicate(),
            other_t[2].duplicate(),
        ];
        assert_eq!(
            reconstruct(&mixed).unwrap_err(),
            ShamirError::Mismatch {
                what: Mismatched::Threshold
            }
        );
        // One bad share among five with t = 3: 5 ≥ 3 + 2·1, so it is named.
        let mut bad: Vec<Share<C>> = shares.iter().map(Share::duplicate).collect();
        *bad[0].value.expose_mut() += C::Scalar::ONE;
        assert_eq!(
            reconstruct(&bad).unwrap_err(),
            ShamirError::InconsistentShares(alloc::vec![p(3)])
        );
        assert_eq!(
            reconstruct_verified(&bad, &comm).unwrap_err(),
            ShamirError::InvalidShare(p(3))
        );
        // With four shares one bad one is detected but cannot be located: all are named.
        assert_eq!(
            reconstruct(&bad[..4]).unwrap_err(),
            ShamirError::InconsistentShares(alloc::vec![p(3), p(7), p(8), p(20)])
        );
        // A bad share in the last position (outside the first t) is named too.
        let mut bad: Vec<Share<C>> = shares.iter().map(Share::duplicate).collect();
        *bad[4].value.expose_mut() += C::Scalar::ONE;
        assert_eq!(
            reconstruct(&bad).unwrap_err(),
            ShamirError::InconsistentShares(alloc::vec![p(100)])
        );
        assert!(matches!(
            split(&secret, 6, &ids, &mut rng),
            Err(ShamirError::InvalidThreshold {
                threshold: 6,
                parties: 5
            })
        ));
        assert!(split(&secret, 0, &ids, &mut rng).is_err());
        let shown = alloc::format!("{:?}", shares[0]);
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn shamir_basics() {
        basics::<Secp256k1>();
        basics::<Ed25519>();
    }

    #[test]
    fn subsets_enumerate() {
        let mut s = alloc::vec![0, 1];
        let mut n = 1;
        while next_subset(&mut s, 5) {
            n += 1;
        }
        assert_eq!(n, 10);
        assert_eq!(s, [3, 4]);
    }
}
