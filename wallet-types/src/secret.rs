//! Secret types.
//!
//! Every secret in the wallet crates lives in one of these types. Their invariants:
//! * not `Copy`, not `Clone` (copying a secret is an explicit `SecretScalar::new(*s.expose())`
//!   that a reviewer can grep for);
//! * zeroized on drop (`ZeroizeOnDrop`);
//! * `Debug` prints `<redacted>` and nothing of the value;
//! * equality only in constant time (`subtle::ConstantTimeEq`; no `PartialEq`).

use alloc::vec::Vec;
use core::fmt;

use ff::Field;
use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::curve::{Curve, random_nonzero_scalar};

/// A secret scalar: a key share, a nonce, a polynomial coefficient.
pub struct SecretScalar<C: Curve>(C::Scalar);

impl<C: Curve> SecretScalar<C> {
    /// Takes ownership of `s` as a secret.
    pub fn new(s: C::Scalar) -> Self {
        Self(s)
    }

    /// A uniformly random non-zero secret scalar.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(random_nonzero_scalar::<C, R>(rng))
    }

    /// The zero scalar (e.g. the constant term of a refresh polynomial).
    pub fn zero() -> Self {
        Self(C::Scalar::ZERO)
    }

    /// Borrow the value for arithmetic. The borrow must not be copied into a non-secret place.
    pub fn expose(&self) -> &C::Scalar {
        &self.0
    }

    /// Mutable access for in-place arithmetic (e.g. adding a refresh delta).
    pub fn expose_mut(&mut self) -> &mut C::Scalar {
        &mut self.0
    }

    /// The public counterpart `s·G`.
    pub fn public(&self) -> C::Point {
        C::mul_base(&self.0)
    }

    /// Whether the value is zero (constant time).
    pub fn is_zero(&self) -> Choice {
        self.0.is_zero()
    }

    /// An explicit copy of the secret; named so that reviewers see every duplication.
    pub fn duplicate(&self) -> Self {
        Self(self.0)
    }
}

impl<C: Curve> ConstantTimeEq for SecretScalar<C> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl<C: Curve> fmt::Debug for SecretScalar<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretScalar<{}>(<redacted>)", C::ID.name())
    }
}

impl<C: Curve> Zeroize for SecretScalar<C> {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl<C: Curve> Drop for SecretScalar<C> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<C: Curve> ZeroizeOnDrop for SecretScalar<C> {}

/// A fixed-size secret byte string (PRF outputs, symmetric keys, seeds, OT seeds).
pub struct SecretBytes<const N: usize>([u8; N]);

impl<const N: usize> SecretBytes<N> {
    /// Takes ownership of `bytes` as a secret. The caller should zeroize its own copy.
    pub fn new(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    /// Fresh random bytes.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut b = [0u8; N];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// Copies a slice of exactly `N` bytes into a secret, or `None` for another length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut out = [0u8; N];
        if bytes.len() != N {
            return None;
        }
        out.copy_from_slice(bytes);
        Some(Self(out))
    }

    /// Borrow the bytes.
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }

    /// Mutable access (to fill in place).
    pub fn expose_mut(&mut self) -> &mut [u8; N] {
        &mut self.0
    }

    /// An explicit copy; named so that reviewers see every duplication.
    pub fn duplicate(&self) -> Self {
        Self(self.0)
    }
}

impl<const N: usize> ConstantTimeEq for SecretBytes<N> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl<const N: usize> fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes<{N}>(<redacted>)")
    }
}

impl<const N: usize> Zeroize for SecretBytes<N> {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl<const N: usize> Drop for SecretBytes<N> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<const N: usize> ZeroizeOnDrop for SecretBytes<N> {}

/// A variable-length secret byte string (plaintext keys, serialized machine state).
pub struct SecretVec(Vec<u8>);

impl SecretVec {
    /// Takes ownership of `bytes` as a secret.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// Borrow the bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Borrow the bytes mutably (e.g. to decrypt in place).
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An explicit copy; named so that reviewers see every duplication.
    pub fn duplicate(&self) -> Self {
        Self(self.0.clone())
    }
}

impl ConstantTimeEq for SecretVec {
    fn ct_eq(&self, other: &Self) -> Choice {
        // Lengths are public; contents compared in constant time.
        self.0.as_slice().ct_eq(other.0.as_slice())
    }
}

impl fmt::Debug for SecretVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretVec(<redacted>, {} bytes)", self.0.len())
    }
}

impl Zeroize for SecretVec {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for SecretVec {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SecretVec {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::curve::{Ed25519, Secp256k1};
    use alloc::format;
    use ff::PrimeField;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn hex(bytes: &[u8]) -> alloc::string::String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn no_leak<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let s = SecretScalar::<C>::random(&mut rng);
        let repr = s.expose().to_repr();
        let shown = format!("{s:?} {s:#?}");
        assert!(shown.contains("redacted"));
        let h = hex(repr.as_ref());
        assert!(!shown.contains(&h));
        // No 4-byte window of the value's hex appears either (rules out partial prints).
        for w in h.as_bytes().windows(8) {
            assert!(!shown.contains(core::str::from_utf8(w).unwrap()));
        }
        // Decimal-ish and debug prints of the inner scalar would contain one of these windows.
        let inner = format!("{:?}", s.expose());
        assert_ne!(inner, shown);
    }

    #[test]
    fn debug_contains_no_key_material() {
        no_leak::<Secp256k1>();
        no_leak::<Ed25519>();
        let b = SecretBytes::<32>::new([0xab; 32]);
        let shown = format!("{b:?}");
        assert!(!shown.contains("ab") && !shown.contains("171"));
        let v = SecretVec::new(alloc::vec![0xcd; 40]);
        let shown = format!("{v:?}");
        assert!(!shown.contains("cd") && !shown.contains("205"));
    }

    #[test]
    fn constant_time_equality() {
        let a = SecretBytes::<4>::new([1, 2, 3, 4]);
        let b = SecretBytes::<4>::new([1, 2, 3, 4]);
        let c = SecretBytes::<4>::new([1, 2, 3, 5]);
        assert!(bool::from(a.ct_eq(&b)));
        assert!(!bool::from(a.ct_eq(&c)));
    }

    #[test]
    fn zeroize_clears() {
        let mut s = SecretScalar::<Secp256k1>::new(k256::Scalar::from(77u64));
        s.zeroize();
        assert!(bool::from(s.is_zero()));
        let mut b = SecretBytes::<8>::new([9; 8]);
        b.zeroize();
        assert_eq!(b.expose(), &[0u8; 8]);
    }
}
