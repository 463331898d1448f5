//! Domain-separated, length-prefixed hashing.
//!
//! Every protocol hash in the wallet crates (commitments, Fiat–Shamir challenges, confirmation
//! hashes, key derivations inside protocols) goes through a [`Transcript`], which starts from
//! `(protocol name, version, curve, session id)` and length-prefixes every label and value, so no
//! two distinct sequences of appends hash alike and no hash of one protocol is valid in another.
//!
//! Byte layout (SHA-512 over the concatenation; see `SPEC.md`):
//! ```text
//! init   = "wallet-transcript/v1" || u32be(len(protocol)) || protocol || u16be(version)
//!          || curve_byte || session_id[32]
//! append = u32be(len(label)) || label || u64be(len(value)) || value
//! ```
//! Outputs fork the state (the transcript can continue after a challenge is drawn).
//! RFC-defined hashes (RFC 9591's H1..H5, RFC 8032) do *not* go through this type: their
//! byte layout is fixed by the RFC and they are domain-separated by the RFC's context string.

use ff::PrimeField;
use group::GroupEncoding;
use sha2::{Digest, Sha512};

use crate::curve::{Curve, CurveId};
use crate::party::{PartyId, SessionId};

/// A running, domain-separated hash.
#[derive(Clone)]
pub struct Transcript {
    h: Sha512,
}

impl core::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Transcript")
    }
}

impl Transcript {
    /// Starts a transcript for `protocol` (e.g. `"wallet-tss/frost-dkg"`), its `version`, the
    /// curve (or `None` for curve-independent protocols) and the session.
    pub fn new(protocol: &str, version: u16, curve: Option<CurveId>, session: &SessionId) -> Self {
        let mut h = Sha512::new();
        h.update(b"wallet-transcript/v1");
        h.update((protocol.len() as u32).to_be_bytes());
        h.update(protocol.as_bytes());
        h.update(version.to_be_bytes());
        h.update([curve.map_or(0, CurveId::to_byte)]);
        h.update(session.as_bytes());
        Self { h }
    }

    /// Appends a labelled value.
    pub fn append(&mut self, label: &str, value: &[u8]) {
        self.h.update((label.len() as u32).to_be_bytes());
        self.h.update(label.as_bytes());
        self.h.update((value.len() as u64).to_be_bytes());
        self.h.update(value);
    }

    /// Appends an integer (as 8 bytes big-endian).
    pub fn append_u64(&mut self, label: &str, v: u64) {
        self.append(label, &v.to_be_bytes());
    }

    /// Appends a party id.
    pub fn append_party(&mut self, label: &str, p: PartyId) {
        self.append(label, &p.to_bytes());
    }

    /// Appends a point's canonical encoding.
    pub fn append_point<C: Curve>(&mut self, label: &str, p: &C::Point) {
        self.append(label, p.to_bytes().as_ref());
    }

    /// Appends a public scalar's canonical encoding.
    pub fn append_scalar<C: Curve>(&mut self, label: &str, s: &C::Scalar) {
        self.append(label, s.to_repr().as_ref());
    }

    /// 64 output bytes bound to everything appended so far and to `label`.
    pub fn output64(&self, label: &str) -> [u8; 64] {
        let mut t = self.clone();
        t.append("output", label.as_bytes());
        let mut out = [0u8; 64];
        out.copy_from_slice(t.h.finalize().as_slice());
        out
    }

    /// 32 output bytes (a commitment, a confirmation hash, a derived id).
    pub fn output32(&self, label: &str) -> [u8; 32] {
        let wide = self.output64(label);
        let mut out = [0u8; 32];
        out.copy_from_slice(wide.get(..32).unwrap_or(&[0u8; 32]));
        out
    }

    /// A scalar challenge (64 bytes reduced: bias below 2^-128).
    pub fn challenge<C: Curve>(&self, label: &str) -> C::Scalar {
        C::scalar_from_wide(&self.output64(label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Secp256k1;

    #[test]
    fn length_prefixing_separates() {
        let s = SessionId([0; 32]);
        let mut a = Transcript::new("p", 1, None, &s);
        a.append("ab", b"c");
        let mut b = Transcript::new("p", 1, None, &s);
        b.append("a", b"bc");
        assert_ne!(a.output32("x"), b.output32("x"));
    }

    #[test]
    fn domain_separated() {
        let s = SessionId([0; 32]);
        let base = Transcript::new("p", 1, None, &s).output32("x");
        assert_ne!(base, Transcript::new("q", 1, None, &s).output32("x"));
        assert_ne!(base, Transcript::new("p", 2, None, &s).output32("x"));
        assert_ne!(
            base,
            Transcript::new("p", 1, Some(CurveId::Secp256k1), &s).output32("x")
        );
        assert_ne!(
            base,
            Transcript::new("p", 1, None, &SessionId([1; 32])).output32("x")
        );
        assert_ne!(base, Transcript::new("p", 1, None, &s).output32("y"));
        let t = Transcript::new("p", 1, None, &s);
        assert_eq!(t.challenge::<Secp256k1>("c"), t.challenge::<Secp256k1>("c"));
    }
}
