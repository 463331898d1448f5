//! BIP-32 non-hardened derivation on the threshold key.
//!
//! BIP-32 `CKDpub` needs only public data (the parent public key `K` and the chain code `c`):
//! `I = HMAC-SHA512(c, serP(K) ‖ ser32(i))`, `δ = parse256(I_L)`, `K_child = K + δ·G`,
//! `c_child = I_R`. The child's private key is `sk + δ`. With Shamir shares `x_j = f(j)` of
//! `sk = f(0)`, the shares of `sk + δ` are `x_j + δ` (the polynomial `f + δ`), so **every party
//! adds the same public tweak to its share** and every share commitment moves by `δ·G`; any
//! pair of signers can then use the derived shares exactly like the root ones. A path of
//! several levels adds the tweaks of every level.
//!
//! Hardened derivation (`i ≥ 2^31`) needs `sk` inside the HMAC and is impossible without
//! assembling the key; it is rejected.
//!
//! ## Presignatures are bound to the path (Groth–Shoup 2022)
//!
//! With additive key derivation, a presignature `R` that could be completed under *any* child
//! key `K + δ·G` chosen at signing time lets an attacker who sees `R` pick the message and the
//! tweak together and forge (Groth–Shoup, "On the security of ECDSA with additive key
//! derivation and presignatures", Eurocrypt 2022). This crate fixes the path **before** the
//! presignature exists: [`crate::ecdsa::presign`] derives the child share at the start of the
//! offline phase, both parties check each other's derived public shares against it, and the
//! resulting [`crate::ecdsa::PresignatureInfo`] records the path and the derived public key
//! (both bound into the presignature id): the presignature can only ever produce a signature
//! under that key. Re-randomising with the tweak at signing time
//! (the paper's other remedy) is therefore not needed.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;
use wallet_types::group::{Group, GroupEncoding};
use wallet_types::{Curve, DecodeError, Reader, Secp256k1, Writer};

use k256::elliptic_curve::ff::PrimeField;

/// The first hardened index (`2^31`).
pub const HARDENED: u32 = 1 << 31;
/// Longest path accepted (BIP-32 stores the depth in one byte).
pub const MAX_DEPTH: usize = 255;

/// Why a path or a derivation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeriveError {
    /// A hardened index (`≥ 2^31`, or written with `'`/`h`): impossible on a threshold key.
    Hardened(u32),
    /// The text is not `m` or `m/<n>/<n>…`.
    Syntax,
    /// More than [`MAX_DEPTH`] levels.
    TooDeep,
    /// BIP-32's "invalid child" case at this depth (`I_L ≥ n` or the child key is the
    /// identity; probability below 2^-127): the caller must use the next index.
    InvalidChild {
        /// Depth (1-based) of the level that failed.
        depth: usize,
    },
}

impl fmt::Display for DeriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for DeriveError {}

/// A non-hardened BIP-32 path (`m/i₁/i₂/…`, every `i < 2^31`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DerivationPath(Vec<u32>);

impl DerivationPath {
    /// The root `m` (no derivation).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A path from its indices; each must be non-hardened.
    pub fn new(indices: Vec<u32>) -> Result<Self, DeriveError> {
        if indices.len() > MAX_DEPTH {
            return Err(DeriveError::TooDeep);
        }
        if let Some(h) = indices.iter().find(|i| **i >= HARDENED) {
            return Err(DeriveError::Hardened(*h));
        }
        Ok(Self(indices))
    }

    /// Parses `m`, `m/0/1`, … (decimal indices; `'` or `h` marks are refused as hardened).
    pub fn parse(s: &str) -> Result<Self, DeriveError> {
        let mut parts = s.split('/');
        if parts.next() != Some("m") {
            return Err(DeriveError::Syntax);
        }
        let mut v = Vec::new();
        for p in parts {
            if let Some(num) = p.strip_suffix('\'').or_else(|| p.strip_suffix('h')) {
                let n: u32 = num.parse().map_err(|_| DeriveError::Syntax)?;
                return Err(DeriveError::Hardened(n.saturating_add(HARDENED)));
            }
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DeriveError::Syntax);
            }
            v.push(p.parse::<u32>().map_err(|_| DeriveError::Syntax)?);
        }
        Self::new(v)
    }

    /// The indices.
    pub fn indices(&self) -> &[u32] {
        &self.0
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Wire form: `u8 depth || depth × u32be(index)`.
    pub fn encode(&self, w: &mut Writer) {
        w.u8(self.0.len() as u8);
        for i in &self.0 {
            w.u32(*i);
        }
    }

    /// Reads the wire form (rejects hardened indices).
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = usize::from(r.u8()?);
        if n.saturating_mul(4) > r.remaining() {
            return Err(DecodeError::CountTooLarge);
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(r.u32()?);
        }
        Self::new(v).map_err(|_| DecodeError::InvalidValue)
    }

    /// The path as text (`m/0/1`).
    pub fn to_text(&self) -> String {
        use core::fmt::Write;
        let mut s = String::from("m");
        for i in &self.0 {
            let _ = write!(s, "/{i}");
        }
        s
    }
}

impl fmt::Display for DerivationPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// The result of deriving a path from a root public key and chain code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derivation {
    /// The sum of the tweaks of every level: child key = root key + `tweak`·G. Public (anyone
    /// with the chain code computes it), but together with one child private key it reveals
    /// the root private key, as in BIP-32: keep chain codes as confidential as extended keys.
    pub tweak: k256::Scalar,
    /// The child public key.
    pub public_key: k256::ProjectivePoint,
    /// The child chain code.
    pub chain_code: [u8; 32],
}

/// BIP-32 `CKDpub` along `path` from `(public_key, chain_code)`.
pub fn derive_public(
    public_key: &k256::ProjectivePoint,
    chain_code: &[u8; 32],
    path: &DerivationPath,
) -> Result<Derivation, DeriveError> {
    let mut tweak = k256::Scalar::ZERO;
    let mut key = *public_key;
    let mut cc = *chain_code;
    for (depth, index) in path.indices().iter().enumerate() {
        let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(&cc)
            .map_err(|_| DeriveError::InvalidChild { depth: depth + 1 })?;
        mac.update(Secp256k1::encode_point(&key).as_slice());
        mac.update(&index.to_be_bytes());
        let out = mac.finalize().into_bytes();
        let mut il = k256::FieldBytes::default();
        il.copy_from_slice(out.get(..32).unwrap_or(&[0u8; 32]));
        let delta = Option::<k256::Scalar>::from(k256::Scalar::from_repr(il))
            .ok_or(DeriveError::InvalidChild { depth: depth + 1 })?;
        let child = key + Secp256k1::mul_base(&delta);
        if bool::from(child.is_identity()) {
            return Err(DeriveError::InvalidChild { depth: depth + 1 });
        }
        key = child;
        tweak += delta;
        cc.copy_from_slice(out.get(32..64).unwrap_or(&[0u8; 32]));
    }
    Ok(Derivation {
        tweak,
        public_key: key,
        chain_code: cc,
    })
}

/// The compressed encoding of a public key (33 bytes), as BIP-32 and the examples print it.
pub fn compressed(p: &k256::ProjectivePoint) -> [u8; 33] {
    let mut out = [0u8; 33];
    out.copy_from_slice(p.to_bytes().as_slice());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_paths() {
        assert_eq!(DerivationPath::parse("m").unwrap(), DerivationPath::root());
        assert_eq!(DerivationPath::parse("m/0/1").unwrap().indices(), &[0, 1]);
        assert_eq!(
            DerivationPath::parse("m/2147483647").unwrap().indices(),
            &[HARDENED - 1]
        );
        assert_eq!(
            DerivationPath::parse("m/2147483648"),
            Err(DeriveError::Hardened(HARDENED))
        );
        assert_eq!(
            DerivationPath::parse("m/44'"),
            Err(DeriveError::Hardened(HARDENED + 44))
        );
        assert_eq!(
            DerivationPath::parse("m/0h"),
            Err(DeriveError::Hardened(HARDENED))
        );
        for bad in [
            "",
            "0/1",
            "m/",
            "m//1",
            "m/-1",
            "m/+1",
            "m/1x",
            "M/1",
            "m/99999999999",
        ] {
            assert_eq!(
                DerivationPath::parse(bad),
                Err(DeriveError::Syntax),
                "{bad}"
            );
        }
        let p = DerivationPath::parse("m/7/0/42").unwrap();
        assert_eq!(p.to_text(), "m/7/0/42");
        let mut w = Writer::new();
        p.encode(&mut w);
        let bytes = w.finish();
        assert_eq!(bytes, [3, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 42]);
        let mut r = Reader::new(&bytes);
        assert_eq!(DerivationPath::decode(&mut r).unwrap(), p);
        let mut r = Reader::new(&[1, 0x80, 0, 0, 0]);
        assert_eq!(
            DerivationPath::decode(&mut r),
            Err(DecodeError::InvalidValue)
        );
    }
}
