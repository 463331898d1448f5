//! Lazy-reduction arithmetic modulo the secp256k1 group order `q`, for the multiplication's
//! inner products.
//!
//! The pads and the gadget vector are uniform 256-bit strings whose values the protocol defines
//! modulo `q` (`red(·)` in `SPEC.md`); they enter these sums **unreduced** (the same residue), and
//! a sum of products is reduced **once**, instead of one modular reduction and one modular
//! addition per term (k256's `Scalar` does both through generic big-integer code; they were
//! about a third of a multiplication's time). Every result leaves through
//! [`Acc::reduce`], and `tests` check each operation against k256's own arithmetic.
//!
//! Integers are little-endian 64-bit limbs. [`Acc`] holds up to 576 bits: a sum of fewer than
//! 2^63 products of two 256-bit integers fits. Constant time: fixed loop bounds, no branch and no
//! memory index depends on a value (secret bits enter only through [`mask`]).

use k256::elliptic_curve::ops::Reduce;
use k256::{FieldBytes, Scalar};

/// A 256-bit integer, little-endian limbs (not necessarily `< q`).
pub(crate) type Limbs = [u64; 4];

/// `2^256 − q` (129 bits).
const C: [u64; 3] = [0x402D_A173_2FC9_BEBF, 0x4551_2319_50B7_5FC4, 1];

/// `q`, the secp256k1 group order.
const Q: Limbs = [
    0xBFD2_5E8C_D036_4141,
    0xBAAE_DCE6_AF48_A03B,
    0xFFFF_FFFF_FFFF_FFFE,
    0xFFFF_FFFF_FFFF_FFFF,
];

/// `2q` (257 bits), for subtracting a value `< 2^256` without going negative.
const TWO_Q: [u64; 5] = [
    0x7FA4_BD19_A06C_8282,
    0x755D_B9CD_5E91_4077,
    0xFFFF_FFFF_FFFF_FFFD,
    0xFFFF_FFFF_FFFF_FFFF,
    1,
];

/// `a + b + carry` → (sum, carry-out).
#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = u128::from(a) + u128::from(b) + u128::from(carry);
    (t as u64, (t >> 64) as u64)
}

/// `a − b − borrow` → (difference, borrow-out ∈ {0, 1}).
#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = u128::from(a)
        .wrapping_sub(u128::from(b))
        .wrapping_sub(u128::from(borrow));
    (t as u64, ((t >> 64) as u64) & 1)
}

/// `t + a·b + carry` → (low, high); cannot overflow 128 bits.
#[inline(always)]
fn mac64(t: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let r = u128::from(t) + u128::from(a) * u128::from(b) + u128::from(carry);
    (r as u64, (r >> 64) as u64)
}

/// All ones if `bit == 1`, zero if `bit == 0` (branch-free).
#[inline(always)]
pub(crate) fn mask(bit: u8) -> u64 {
    0u64.wrapping_sub(u64::from(bit & 1))
}

/// `x & m` limb-wise.
#[inline(always)]
pub(crate) fn masked(x: &Limbs, m: u64) -> Limbs {
    let [a, b, c, d] = *x;
    [a & m, b & m, c & m, d & m]
}

/// The integer whose big-endian encoding is `bytes`.
#[inline]
pub(crate) fn from_be(bytes: &[u8; 32]) -> Limbs {
    let mut out = [0u64; 4];
    for (o, c) in out.iter_mut().rev().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        *o = u64::from_be_bytes(b);
    }
    out
}

/// The limbs of a (reduced) scalar.
#[inline]
pub(crate) fn from_scalar(s: &Scalar) -> Limbs {
    from_be(&s.to_bytes().into())
}

/// The big-endian encoding of `x`.
#[inline]
pub(crate) fn to_be(x: &Limbs) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (c, l) in bytes.chunks_exact_mut(8).zip(x.iter().rev()) {
        c.copy_from_slice(&l.to_be_bytes());
    }
    bytes
}

/// `x mod q` for `x < 2^256 < 2q`: one constant-time conditional subtraction.
#[inline]
fn canonical(x: &Limbs) -> Limbs {
    let [x0, x1, x2, x3] = *x;
    let [q0, q1, q2, q3] = Q;
    let (d0, b) = sbb(x0, q0, 0);
    let (d1, b) = sbb(x1, q1, b);
    let (d2, b) = sbb(x2, q2, b);
    let (d3, b) = sbb(x3, q3, b);
    // b = 1 iff x < q: keep x.
    let keep = mask(b as u8);
    [
        (x0 & keep) | (d0 & !keep),
        (x1 & keep) | (d1 & !keep),
        (x2 & keep) | (d2 & !keep),
        (x3 & keep) | (d3 & !keep),
    ]
}

/// Whether the big-endian `bytes` encode an integer `< q` (variable time: for public values).
pub(crate) fn is_canonical(bytes: &[u8; 32]) -> bool {
    let x = from_be(bytes);
    for (a, b) in x.iter().rev().zip(Q.iter().rev()) {
        if a != b {
            return a < b;
        }
    }
    false
}

/// `bytes mod q` for any 256-bit big-endian integer: one conditional subtraction of `q`, exact
/// because `2^256 < 2q`. On canonical encodings (as [`Acc::reduce_bytes`] returns) it is the
/// identity; on 32 uniform bytes the result is within statistical distance
/// `(2^256 − q)/2^256 < 2^-127` of uniform.
#[inline]
pub(crate) fn scalar_of(bytes: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*bytes))
}

/// A 576-bit accumulator.
#[derive(Clone, Copy, Default, zeroize::Zeroize)]
pub(crate) struct Acc([u64; 9]);

impl Acc {
    /// `self += a·b`. Always inlined: the innermost step of every inner product and gadget sum
    /// (left to the heuristics, it was outlined once the callers grew their error paths, and a
    /// multiplication took 2–3 % longer).
    #[inline(always)]
    pub(crate) fn mac(&mut self, a: &Limbs, b: &Limbs) {
        let [a0, a1, a2, a3] = *a;
        let [b0, b1, b2, b3] = *b;
        let (r0, c) = mac64(0, a0, b0, 0);
        let (r1, c) = mac64(0, a0, b1, c);
        let (r2, c) = mac64(0, a0, b2, c);
        let (r3, r4) = mac64(0, a0, b3, c);
        let (r1, c) = mac64(r1, a1, b0, 0);
        let (r2, c) = mac64(r2, a1, b1, c);
        let (r3, c) = mac64(r3, a1, b2, c);
        let (r4, r5) = mac64(r4, a1, b3, c);
        let (r2, c) = mac64(r2, a2, b0, 0);
        let (r3, c) = mac64(r3, a2, b1, c);
        let (r4, c) = mac64(r4, a2, b2, c);
        let (r5, r6) = mac64(r5, a2, b3, c);
        let (r3, c) = mac64(r3, a3, b0, 0);
        let (r4, c) = mac64(r4, a3, b1, c);
        let (r5, c) = mac64(r5, a3, b2, c);
        let (r6, r7) = mac64(r6, a3, b3, c);
        self.add_limbs(&[r0, r1, r2, r3, r4, r5, r6, r7]);
    }

    /// `self += a`.
    #[inline]
    pub(crate) fn add(&mut self, a: &Limbs) {
        self.add_limbs(a);
    }

    /// `self += x` for an `x` of at most as many limbs as the accumulator. The limbs of `x`
    /// past its length are 0 by definition (zero extension, then the carry runs through the
    /// top): `unwrap_or(0)` is that, not a fallback. Kept as an index loop because it is the
    /// innermost step of every sum here (the constant-length loop unrolls).
    #[inline(always)]
    fn add_limbs(&mut self, x: &[u64]) {
        let mut carry = 0;
        for (i, slot) in self.0.iter_mut().enumerate() {
            let (s, c) = adc(*slot, x.get(i).copied().unwrap_or(0), carry);
            *slot = s;
            carry = c;
        }
    }

    /// `self += ⟨χ, v⟩` for `χ = (χ_1, …, χ_ℓ, 1)`: `v` has one more entry than `chi`, taken
    /// with coefficient 1. (Every caller passes a row of `ℓ + 1` pads or values, cut by
    /// `chunks_exact(ℓ + 1)`, with the `ℓ` entries of `χ`.)
    #[inline]
    pub(crate) fn add_dot(&mut self, chi: &[Limbs], v: &[Limbs]) {
        for (c, x) in chi.iter().zip(v) {
            self.mac(c, x);
        }
        if let Some(last) = v.get(chi.len()) {
            self.add(last);
        }
    }

    /// `self += 2q − x` for `x < 2^256` (so that `self − x` is computed without going negative).
    #[inline]
    pub(crate) fn add_neg(&mut self, x: &Limbs) {
        let mut d = [0u64; 5];
        let mut borrow = 0;
        // x has 4 limbs, 2q has 5: the fifth limb of x is 0 (zero extension, as in add_limbs).
        for (i, (o, t)) in d.iter_mut().zip(TWO_Q.iter()).enumerate() {
            let (s, b) = sbb(*t, x.get(i).copied().unwrap_or(0), borrow);
            *o = s;
            borrow = b;
        }
        self.add_limbs(&d);
    }

    /// `self mod q`, big-endian: three folds `v ← (v mod 2^256) + ⌊v / 2^256⌋·(2^256 − q)` bring
    /// any 576-bit value below `2^256 + 2^197` (bounds: `< 2^450`, `< 2^324`,
    /// `< 2^256 + 2^197`), then the short reduction of [`Acc::reduce_small`] (its top limb is
    /// now 0 or 1).
    pub(crate) fn reduce_bytes(&self) -> [u8; 32] {
        let v = fold(&fold(&fold(&self.0)));
        to_be(&Acc(v).reduce_small())
    }

    /// [`Acc::reduce_bytes`] for a value `< 2^320` (at most five limbs used; the sums of a few
    /// 256-bit terms): `v = lo + h·2^256` with `h < 2^64` folds to `lo + h·C < 2^256 + 2^193`,
    /// and a carry out of that is worth `2^256 ≡ C` again (the low part is then `< 2^193`, so
    /// adding `C` cannot carry).
    pub(crate) fn reduce_small_bytes(&self) -> [u8; 32] {
        to_be(&self.reduce_small())
    }

    /// [`Acc::reduce_small_bytes`] as limbs (`< q`).
    pub(crate) fn reduce_small(&self) -> Limbs {
        debug_assert!(self.0.iter().skip(5).all(|l| *l == 0));
        let [v0, v1, v2, v3, h, ..] = self.0;
        let [c0, c1, _] = C;
        let (t0, k) = mac64(v0, h, c0, 0);
        let (t1, k) = mac64(v1, h, c1, k);
        let (t2, k) = adc(v2, h, k);
        let (t3, carry) = adc(v3, 0, k);
        // + carry·C
        let m = mask(carry as u8);
        let (u0, k) = adc(t0, c0 & m, 0);
        let (u1, k) = adc(t1, c1 & m, k);
        let (u2, k) = adc(t2, m & 1, k);
        let (u3, _) = adc(t3, 0, k);
        canonical(&[u0, u1, u2, u3])
    }

    /// `self mod q` as a scalar.
    pub(crate) fn reduce(&self) -> Scalar {
        scalar_of(&self.reduce_bytes())
    }
}

/// `(v mod 2^256) + ⌊v / 2^256⌋ · C` (schoolbook, unrolled: `C = c0 + c1·2^64 + 2^128`).
#[inline(always)]
fn fold(v: &[u64; 9]) -> [u64; 9] {
    let [v0, v1, v2, v3, h0, h1, h2, h3, h4] = *v;
    let [c0, c1, _] = C;
    // t = h·(c0 + c1·2^64)
    let (t0, k) = mac64(0, h0, c0, 0);
    let (t1, k) = mac64(0, h1, c0, k);
    let (t2, k) = mac64(0, h2, c0, k);
    let (t3, k) = mac64(0, h3, c0, k);
    let (t4, t5) = mac64(0, h4, c0, k);
    let (t1, k) = mac64(t1, h0, c1, 0);
    let (t2, k) = mac64(t2, h1, c1, k);
    let (t3, k) = mac64(t3, h2, c1, k);
    let (t4, k) = mac64(t4, h3, c1, k);
    let (t5, t6) = mac64(t5, h4, c1, k);
    // + h·2^128
    let (t2, k) = adc(t2, h0, 0);
    let (t3, k) = adc(t3, h1, k);
    let (t4, k) = adc(t4, h2, k);
    let (t5, k) = adc(t5, h3, k);
    let (t6, k) = adc(t6, h4, k);
    let t7 = k;
    // + v mod 2^256
    let (o0, k) = adc(t0, v0, 0);
    let (o1, k) = adc(t1, v1, k);
    let (o2, k) = adc(t2, v2, k);
    let (o3, k) = adc(t3, v3, k);
    let (o4, k) = adc(t4, 0, k);
    let (o5, k) = adc(t5, 0, k);
    let (o6, k) = adc(t6, 0, k);
    let (o7, k) = adc(t7, 0, k);
    [o0, o1, o2, o3, o4, o5, o6, o7, k]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q_limbs() -> Limbs {
        // q − 1 is the scalar −1.
        let mut m = from_scalar(&(-Scalar::ONE));
        m[0] += 1;
        m
    }

    #[test]
    fn constants() {
        let q = q_limbs();
        // C = 2^256 − q.
        let mut borrow = 0;
        let mut c = [0u64; 4];
        for i in 0..4 {
            let (d, b) = sbb(0, q[i], borrow);
            c[i] = d;
            borrow = b;
        }
        assert_eq!(c, [C[0], C[1], C[2], 0]);
        assert_eq!(q, Q);
        assert!(!is_canonical(&to_be(&Q)));
        assert!(is_canonical(&to_be(&[Q[0] - 1, Q[1], Q[2], Q[3]])));
        // 2q.
        let mut two_q = [0u64; 5];
        let mut carry = 0;
        for i in 0..4 {
            let (s, cc) = adc(q[i], q[i], carry);
            two_q[i] = s;
            carry = cc;
        }
        two_q[4] = carry;
        assert_eq!(two_q, TWO_Q);
    }

    fn any_limbs() -> impl Strategy<Value = Limbs> {
        prop_oneof![
            any::<[u64; 4]>(),
            Just([u64::MAX; 4]),
            Just([0; 4]),
            Just(q_limbs()),
            Just({
                let mut q = q_limbs();
                q[0] -= 1;
                q
            }),
        ]
    }

    /// The scalar of an arbitrary 256-bit integer, by k256 (wide reduction of a 512-bit value).
    fn k256_of(x: &Limbs) -> Scalar {
        let mut wide = [0u8; 64];
        for (c, l) in wide[32..].chunks_exact_mut(8).zip(x.iter().rev()) {
            c.copy_from_slice(&l.to_be_bytes());
        }
        <Scalar as Reduce<k256::WideBytes>>::reduce(&k256::WideBytes::from(wide))
    }

    proptest! {
        #[test]
        fn inner_products_match_k256(
            terms in proptest::collection::vec((any_limbs(), any_limbs(), any::<u8>()), 0..40),
            extra in any_limbs(),
            neg in any_limbs(),
        ) {
            let mut acc = Acc::default();
            let mut expect = Scalar::ZERO;
            for (a, b, bit) in &terms {
                let m = mask(*bit);
                acc.mac(a, &masked(b, m));
                if bit & 1 == 1 {
                    expect += k256_of(a) * k256_of(b);
                }
            }
            acc.add(&extra);
            acc.add_neg(&neg);
            expect += k256_of(&extra) - k256_of(&neg);
            prop_assert_eq!(acc.reduce(), expect);
            let mut small = Acc::default();
            small.add(&extra);
            small.add(&extra);
            small.add_neg(&neg);
            prop_assert_eq!(
                scalar_of(&small.reduce_small_bytes()),
                k256_of(&extra) + k256_of(&extra) - k256_of(&neg)
            );
        }

        /// Any 576-bit accumulator value, against k256: `lo512 mod q + top·(2^512 mod q)`.
        #[test]
        fn any_accumulator_reduces(limbs in any::<[u64; 9]>()) {
            let mut wide = [0u8; 64];
            for (c, l) in wide.chunks_exact_mut(8).zip(limbs[..8].iter().rev()) {
                c.copy_from_slice(&l.to_be_bytes());
            }
            let low = <Scalar as Reduce<k256::WideBytes>>::reduce(&k256::WideBytes::from(wide));
            let two_256 = k256_of(&[u64::MAX; 4]) + Scalar::ONE;
            let expect = low + two_256 * two_256 * Scalar::from(limbs[8]);
            prop_assert_eq!(Acc(limbs).reduce(), expect);
        }

        #[test]
        fn conversions_round_trip(bytes in any::<[u8; 32]>()) {
            let x = from_be(&bytes);
            let s = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(bytes));
            prop_assert_eq!(scalar_of(&to_be(&canonical(&x))), s);
            prop_assert_eq!(is_canonical(&bytes), bytes == <[u8; 32]>::from(s.to_bytes()));
            prop_assert_eq!(from_scalar(&s), from_be(&s.to_bytes().into()));
            prop_assert_eq!(k256_of(&x), s);
        }
    }

    /// The largest value an accumulator can hold reduces correctly (every fold at its bound).
    #[test]
    fn extreme_accumulators() {
        let max = [u64::MAX; 4];
        let mut acc = Acc::default();
        let mut expect = Scalar::ZERO;
        for _ in 0..1000 {
            acc.mac(&max, &max);
            acc.add(&max);
            expect += k256_of(&max) * k256_of(&max) + k256_of(&max);
        }
        assert_eq!(acc.reduce(), expect);
        let full = Acc([u64::MAX; 9]);
        // 2^576 − 1 mod q, by k256: (2^512 mod q)·(2^64 − 1) + (2^512 − 1 mod q).
        let two_256 = k256_of(&max) + Scalar::ONE;
        let low = {
            let w = k256::WideBytes::from([0xffu8; 64]);
            <Scalar as Reduce<k256::WideBytes>>::reduce(&w)
        };
        let expect = two_256 * two_256 * Scalar::from(u64::MAX) + low;
        assert_eq!(full.reduce(), expect);
        assert_eq!(Acc::default().reduce(), Scalar::ZERO);
        // The small path at its bounds: 2^320 − 1, and values just around the carry.
        let mut five = [0u64; 9];
        five[..5].copy_from_slice(&[u64::MAX; 5]);
        let mut reference = Acc(five);
        assert_eq!(
            scalar_of(&Acc(five).reduce_small_bytes()),
            reference.reduce()
        );
        for h in [1u64, 2, 0xffff, u64::MAX - 1] {
            for lo in [[u64::MAX; 4], [0; 4], Q, [C[0], C[1], C[2], 0]] {
                let v = [lo[0], lo[1], lo[2], lo[3], h, 0, 0, 0, 0];
                reference = Acc(v);
                assert_eq!(scalar_of(&Acc(v).reduce_small_bytes()), reference.reduce());
            }
        }
    }
}
