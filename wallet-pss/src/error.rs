//! Errors of the non-interactive parts of this crate (ECIES, offline resharing, SSS share-set
//! reshare). The interactive machines use [`wallet_types::Error`].

use core::fmt;

use wallet_kek::KekError;
use wallet_sss::ShamirError;
use wallet_types::{DecodeError, PartyId};

/// Why an operation of this crate failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PssError {
    /// The ciphertext did not open (wrong key or tampering). Deliberately opaque.
    Decrypt,
    /// The ciphertext is bound to another session, epoch or recipient than expected.
    ContextMismatch,
    /// An encoding was rejected.
    Decode(DecodeError),
    /// A Shamir / Feldman operation failed.
    Shamir(ShamirError),
    /// A dealer's sub-share failed verification against its commitments.
    InvalidSubShare(PartyId),
    /// A dealer's commitments are inconsistent with the old sharing (it would change the key).
    KeyChanged(PartyId),
    /// Inputs of different keys, epochs or party sets were mixed.
    Mismatch,
    /// A value given by the caller is out of range.
    InvalidInput,
    /// Not enough dealers / shares for the threshold.
    TooFew {
        /// How many are needed.
        needed: usize,
        /// How many were given.
        given: usize,
    },
    /// A local computation failed without pointing at any party (reported instead of panicking).
    Internal,
    /// What the store delivered is bound to another wallet's public key than the caller expects.
    WrongWallet,
    /// A share bundle reshares another share set than the caller's current one.
    WrongShareSet,
    /// The wallet-key or metadata-key signature on a metadata certificate, a metadata record
    /// or a share bundle the store delivered did not verify (forged or altered in storage;
    /// names nobody). A sealed reshare dealing whose **dealer's** signature does not verify is
    /// [`PssError::StoreDelivered`] with [`DeliveryFault::BadSignature`] instead, which also
    /// says which dealing to fetch again; neither blames anybody ([`PssError::culprit`]).
    BadSignature,
    /// The bundle holds no share for this party.
    NotRecipient,
    /// A metadata record whose version is not newer than the last one accepted under the same
    /// metadata key (a replay or rollback by the store).
    Replayed {
        /// The last version accepted.
        last: u64,
        /// The version delivered.
        found: u64,
    },
    /// A record signed with a metadata key of an older generation than the one the device
    /// already trusts (rotated out, e.g. held by a removed device).
    RevokedKey {
        /// The generation the device trusts.
        current: u64,
        /// The generation of the key that signed.
        found: u64,
    },
    /// A key is zero, malformed, or not the one its certificate names.
    InvalidKey,
    /// A record or bundle with a valid signature is inconsistent: the signer (a holder of the
    /// signing key, not the store) produced it wrong.
    InvalidRecord,
    /// What an untrusted store delivered for the dealing of `dealing_of` cannot be used: it is
    /// missing, of another run, not signed by that dealer, duplicated, or its ciphertext for
    /// this recipient does not open. **Nobody is blamed**: the store (or relay) could have
    /// caused each of these, and so could a wrong input of the caller (a factor key, the
    /// configuration). `dealing_of` only says which dealing to fetch again; it names no culprit.
    StoreDelivered {
        /// The dealer whose dealing it is (or should have been).
        dealing_of: PartyId,
        /// What was wrong with it.
        fault: DeliveryFault,
    },
    /// The signed metadata record of a reshare's new epoch carries no dealings hash
    /// (`recorded == false`) or another one than this device's reshare computed
    /// ([`crate::metadata::AccountMetadata::check_dealings_hash`]): the new parties may not
    /// hold one sharing (the store handed out mixed dealings, or the record was made from
    /// other dealings). Keep the old share. Names nobody.
    DealingsMismatch {
        /// Whether the record carries a dealings hash at all.
        recorded: bool,
    },
    /// A wallet-kek envelope operation failed (sealing or opening a factor key,
    /// [`crate::factor::FactorKey::seal`]); a wrong password, answer or passkey output is
    /// [`KekError::Unwrap`].
    Kek(KekError),
    /// The factor key an envelope holds is not the one expected
    /// ([`crate::factor::FactorKey::expect_public`]): the store delivered another envelope than
    /// the current one. Names nobody.
    WrongFactor,
}

impl PssError {
    /// The party this error blames, if any: only a dealer whose **signed** dealing is wrong
    /// ([`PssError::InvalidSubShare`], [`PssError::KeyChanged`]). Every failure an untrusted
    /// store or relay could have caused — [`PssError::StoreDelivered`] (its `dealing_of` says
    /// which dealing to fetch again, not who is at fault), [`PssError::BadSignature`],
    /// [`PssError::Replayed`], [`PssError::DealingsMismatch`], … — names nobody.
    pub fn culprit(&self) -> Option<PartyId> {
        match self {
            Self::InvalidSubShare(p) | Self::KeyChanged(p) => Some(*p),
            _ => None,
        }
    }
}

/// Why a dealing delivered by a store was refused without blaming anybody
/// ([`PssError::StoreDelivered`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryFault {
    /// No dealing of this dealer was delivered.
    Missing,
    /// The dealing belongs to another run: another session, another configuration, or a
    /// dealer that is not one of this run's dealers.
    OtherRun,
    /// Two dealings of the same dealer were delivered.
    Duplicate,
    /// The dealer's signature does not verify (forged, or altered in the store).
    BadSignature,
    /// The signed ciphertext for this recipient does not open with its factor key (the dealer
    /// was given another recipient key, or the caller's factor key is not the one dealt to).
    Undecryptable,
}

impl fmt::Display for DeliveryFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "missing",
            Self::OtherRun => "of another run",
            Self::Duplicate => "delivered twice",
            Self::BadSignature => "not signed by its dealer",
            Self::Undecryptable => "ciphertext does not open with this factor key",
        })
    }
}

impl From<DecodeError> for PssError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<KekError> for PssError {
    fn from(e: KekError) -> Self {
        Self::Kek(e)
    }
}

impl From<ShamirError> for PssError {
    fn from(e: ShamirError) -> Self {
        Self::Shamir(e)
    }
}

impl fmt::Display for PssError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decrypt => f.write_str("ciphertext did not open"),
            Self::ContextMismatch => {
                f.write_str("ciphertext bound to another session, epoch or recipient")
            }
            Self::Decode(e) => write!(f, "invalid encoding: {e}"),
            Self::Shamir(e) => write!(f, "sharing error: {e}"),
            Self::InvalidSubShare(p) => write!(f, "sub-share from {p} failed verification"),
            Self::KeyChanged(p) => write!(f, "dealer {p} would change the group key"),
            Self::Mismatch => f.write_str("inputs of different keys, epochs or party sets"),
            Self::InvalidInput => f.write_str("invalid input"),
            Self::TooFew { needed, given } => write!(f, "{given} given, {needed} needed"),
            Self::Internal => f.write_str("internal error"),
            Self::WrongWallet => f.write_str("bound to another wallet's public key"),
            Self::WrongShareSet => f.write_str("reshares another share set"),
            Self::BadSignature => f.write_str("signature did not verify"),
            Self::NotRecipient => f.write_str("no share for this party"),
            Self::Replayed { last, found } => {
                write!(f, "record version {found} not newer than {last}")
            }
            Self::RevokedKey { current, found } => write!(
                f,
                "signed with a metadata key of generation {found}, rotated out by {current}"
            ),
            Self::InvalidKey => f.write_str("zero, malformed or uncertified key"),
            Self::InvalidRecord => f.write_str("signed record is inconsistent"),
            Self::StoreDelivered { dealing_of, fault } => write!(
                f,
                "the delivered dealing of {dealing_of} is unusable ({fault}); no party is blamed"
            ),
            Self::DealingsMismatch { recorded: true } => f.write_str(
                "the metadata record names another dealings hash than this reshare's; keep the old share",
            ),
            Self::DealingsMismatch { recorded: false } => f.write_str(
                "the metadata record names no dealings hash; keep the old share",
            ),
            Self::Kek(e) => write!(f, "envelope: {e}"),
            Self::WrongFactor => {
                f.write_str("the envelope holds another factor key than the one expected")
            }
        }
    }
}

impl core::error::Error for PssError {}
