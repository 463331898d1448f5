//! Key export: the explicit end of the threshold guarantee.
//!
//! [`export_private_key`] takes **two** key shares of the same key (any two parties of a 2-of-n
//! key) and returns the private key, by Lagrange interpolation at 0 of the two Shamir shares,
//! checked against the public key. This is "export = unify shares": after it runs, the key
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
    if a.key_id() != b.key_id() || a.public_key() != b.public_key() {
        return Err(ExportError::DifferentKeys);
    }
    if a.me() == b.me() {
        return Err(ExportError::SameParty(a.me()));
    }
    let la = super::pair_lagrange(a.me(), b.me()).ok_or(ExportError::SameParty(a.me()))?;
    let lb = super::pair_lagrange(b.me(), a.me()).ok_or(ExportError::SameParty(a.me()))?;
    let derivation = a.derive(path).map_err(ExportError::Derive)?;
    let sk = SecretScalar::<Secp256k1>::new(
        la * a.secret_share().expose() + lb * b.secret_share().expose() + derivation.tweak,
    );
    if sk.public() != derivation.public_key {
        return Err(ExportError::Mismatch);
    }
    Ok(sk)
}
