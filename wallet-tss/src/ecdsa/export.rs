//! Key export: the explicit end of the threshold guarantee.
//!
//! [`export_private_key`] takes **two** key shares of the same 2-of-n key
//! ([`export_private_key_from`]: `t` or more shares of a `t`-of-n key) and returns the private
//! key, by Lagrange interpolation at 0 of the Shamir shares, checked against the public key. This is "export = unify shares": after it runs, the key
//! exists in one place, and whoever holds the result can sign alone, forever. Nothing the
//! threshold protocol promised holds for that key any more; a wallet that exports should tell
//! its user so and, if it keeps using threshold signing, move funds to a fresh key.
//!
//! In practice one party sends its [`KeyShare`] (serialized, over an encrypted and
//! authenticated channel) to the device that exports; that transfer is the moment of risk.

use core::fmt;

use wallet_types::{PartyId, Secp256k1, SecretScalar};

use super::derive::{DerivationPath, DeriveError};
use super::keygen::KeyShare;

/// Why an export was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportError {
    /// The shares belong to different keys.
    DifferentKeys,
    /// Both shares belong to the same party.
    SameParty(PartyId),
    /// The interpolated key does not match the public key (a corrupted share).
    Mismatch,
    /// Fewer shares than the key's threshold.
    TooFewShares {
        /// The threshold.
        needed: usize,
        /// The shares given.
        given: usize,
    },
    /// The derivation path failed.
    Derive(DeriveError),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for ExportError {}

/// Assembles the private key of `path` (use [`DerivationPath::root`] for the key itself) from
/// two shares. **This ends the threshold protection of the key** (see the module docs).
pub fn export_private_key(
    a: &KeyShare,
    b: &KeyShare,
    path: &DerivationPath,
) -> Result<SecretScalar<Secp256k1>, ExportError> {
    export_private_key_from(&[a, b], path)
}

/// Assembles the private key of `path` from at least the threshold's number of shares of one
/// key (distinct parties). **This ends the threshold protection of the key.**
pub fn export_private_key_from(
    shares: &[&KeyShare],
    path: &DerivationPath,
) -> Result<SecretScalar<Secp256k1>, ExportError> {
    let first = shares.first().ok_or(ExportError::TooFewShares {
        needed: super::THRESHOLD,
        given: 0,
    })?;
    if shares.len() < first.threshold() {
        return Err(ExportError::TooFewShares {
            needed: first.threshold(),
            given: shares.len(),
        });
    }
    let mut ids = alloc::vec::Vec::with_capacity(shares.len());
    for s in shares {
        if s.key_id() != first.key_id() || s.public_key() != first.public_key() {
            return Err(ExportError::DifferentKeys);
        }
        if ids.contains(&s.me()) {
            return Err(ExportError::SameParty(s.me()));
        }
        ids.push(s.me());
    }
    let derivation = first.derive(path).map_err(ExportError::Derive)?;
    let mut sk = SecretScalar::<Secp256k1>::new(derivation.tweak);
    for s in shares {
        let l = wallet_sss::lagrange_at_zero::<Secp256k1>(&ids, s.me())
            .map_err(|_| ExportError::SameParty(s.me()))?;
        *sk.expose_mut() += l * s.secret_share().expose();
    }
    if sk.public() != derivation.public_key {
        return Err(ExportError::Mismatch);
    }
    Ok(sk)
}
