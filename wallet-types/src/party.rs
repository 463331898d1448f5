//! Party identifiers, checked participant sets and session identifiers.

use alloc::vec::Vec;
use core::fmt;
use core::num::NonZeroU16;

use rand_core::CryptoRng;

use crate::curve::Curve;
use crate::error::ParamError;

/// The identifier of a party: a non-zero integer that doubles as its Shamir evaluation point
/// (RFC 9591 identifiers: the scalar `id` of the curve's field).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartyId(NonZeroU16);

impl PartyId {
    /// `Some(id)` for any non-zero `n`.
    pub const fn new(n: u16) -> Option<Self> {
        match NonZeroU16::new(n) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// The integer value.
    pub const fn get(self) -> u16 {
        self.0.get()
    }

    /// The evaluation point of this party on the curve's scalar field.
    pub fn to_scalar<C: Curve>(self) -> C::Scalar {
        C::scalar_from_u64(u64::from(self.get()))
    }

    /// Big-endian encoding (2 bytes).
    pub const fn to_bytes(self) -> [u8; 2] {
        self.get().to_be_bytes()
    }
}

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.get())
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.get())
    }
}

/// Upper bound on the size of a participant set; bounds every allocation driven by one.
pub const MAX_PARTIES: usize = 1024;

/// A non-empty, strictly increasing (so duplicate-free) set of at most [`MAX_PARTIES`] parties.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Parties(Vec<PartyId>);

impl Parties {
    /// Checks and sorts `ids`: rejects an empty list, duplicates and more than [`MAX_PARTIES`].
    pub fn new(ids: impl IntoIterator<Item = PartyId>) -> Result<Self, ParamError> {
        let mut v: Vec<PartyId> = ids.into_iter().collect();
        if v.is_empty() {
            return Err(ParamError::EmptyPartySet);
        }
        if v.len() > MAX_PARTIES {
            return Err(ParamError::TooManyParties);
        }
        v.sort_unstable();
        for w in v.windows(2) {
            if let [a, b] = w
                && a == b
            {
                return Err(ParamError::DuplicateParty(*a));
            }
        }
        Ok(Self(v))
    }

    /// Parties `1..=n`.
    pub fn range(n: u16) -> Result<Self, ParamError> {
        Self::new((1..=n).filter_map(PartyId::new))
    }

    /// Parties with the given integer ids (zero is rejected).
    pub fn from_ids(ids: &[u16]) -> Result<Self, ParamError> {
        let mut v = Vec::with_capacity(ids.len());
        for &i in ids {
            v.push(PartyId::new(i).ok_or(ParamError::ZeroPartyId)?);
        }
        Self::new(v)
    }

    /// Number of parties.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false` (the set is non-empty by construction); present for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `id` is a member.
    pub fn contains(&self, id: PartyId) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// Position of `id` in the sorted set.
    pub fn index_of(&self, id: PartyId) -> Option<usize> {
        self.0.binary_search(&id).ok()
    }

    /// Members in increasing order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = PartyId> + '_ {
        self.0.iter().copied()
    }

    /// Members other than `me`.
    pub fn others(&self, me: PartyId) -> impl Iterator<Item = PartyId> + '_ {
        self.0.iter().copied().filter(move |p| *p != me)
    }

    /// Members as a slice.
    pub fn as_slice(&self) -> &[PartyId] {
        &self.0
    }

    /// Whether every member of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Parties) -> bool {
        self.0.iter().all(|p| other.contains(*p))
    }
}

impl fmt::Debug for Parties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.iter()).finish()
    }
}

/// A 32-byte session identifier. Every protocol message and hash is bound to one; a fresh one
/// per protocol run is what makes replay across runs detectable. Agree on one with
/// [`crate::session_id`] or derive one from an application context.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SessionId(pub [u8; 32]);

impl SessionId {
    /// A random session id (for a coordinator that picks one).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A session id derived from this one for a sub-protocol (`label` separates the children).
    pub fn derive(&self, label: &[u8]) -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"wallet/session-derive/v1");
        h.update((label.len() as u64).to_be_bytes());
        h.update(label);
        h.update(self.0);
        let out = h.finalize();
        let mut b = [0u8; 32];
        b.copy_from_slice(out.as_slice());
        Self(b)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId(")?;
        for b in self.0.iter().take(6) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parties_checked() {
        assert_eq!(Parties::from_ids(&[]), Err(ParamError::EmptyPartySet));
        assert_eq!(Parties::from_ids(&[1, 0]), Err(ParamError::ZeroPartyId));
        assert_eq!(
            Parties::from_ids(&[3, 1, 3]),
            Err(ParamError::DuplicateParty(PartyId::new(3).unwrap()))
        );
        let p = Parties::from_ids(&[5, 2, 9]).unwrap();
        assert_eq!(
            p.as_slice().iter().map(|p| p.get()).collect::<Vec<_>>(),
            [2, 5, 9]
        );
        assert!(p.contains(PartyId::new(5).unwrap()));
        assert!(!p.contains(PartyId::new(4).unwrap()));
        assert_eq!(p.others(PartyId::new(5).unwrap()).count(), 2);
    }

    #[test]
    fn derived_sessions_differ() {
        let s = SessionId([1; 32]);
        assert_ne!(s.derive(b"a"), s.derive(b"b"));
        assert_ne!(s.derive(b"a"), s);
        assert_eq!(s.derive(b"a"), s.derive(b"a"));
    }
}
