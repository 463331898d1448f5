//! The error type of the Shamir / Feldman layer.

use alloc::vec::Vec;
use core::fmt;

use wallet_types::{DecodeError, ParamError, PartyId};

/// Which property of two shares (or commitment vectors) did not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatched {
    /// The shares belong to different share sets (different share-set ids).
    ShareSet,
    /// The shares (or encodings) are over different curves.
    Curve,
    /// The shares (or commitment vectors) carry different thresholds.
    Threshold,
}

/// Why a Shamir / Feldman operation failed. Errors that point at a share name its party id.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShamirError {
    /// Fewer shares than the threshold: reconstruction is refused (it would give a wrong key).
    TooFewShares {
        /// The threshold.
        needed: usize,
        /// How many shares were given.
        given: usize,
    },
    /// Two shares (or two ids in a list) carry the same party id.
    DuplicateId(PartyId),
    /// A threshold outside `1..=n` (or above [`wallet_types::MAX_PARTIES`], or zero).
    InvalidThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// The number of parties (or the bound that was exceeded).
        parties: usize,
    },
    /// Shares or commitments that do not belong together.
    Mismatch {
        /// What differs.
        what: Mismatched,
    },
    /// More than `t` shares were given and they do not all lie on one polynomial of degree
    /// `t − 1`. The list names the shares off the polynomial agreed by the others when that is
    /// uniquely determined (at least `t + 2e` shares for `e` bad ones); otherwise it names every
    /// share given.
    InconsistentShares(Vec<PartyId>),
    /// A share failed verification against the Feldman commitments.
    InvalidShare(PartyId),
    /// A party id that is not in the list it is looked up in (Lagrange coefficient of a
    /// non-member).
    NotAMember(PartyId),
    /// An empty list where at least one element is needed (ids, commitments, shares).
    Empty,
    /// A list longer than [`wallet_types::MAX_PARTIES`].
    TooMany,
    /// A zero party id in an encoding (zero is the secret's evaluation point).
    ZeroId,
    /// Bad parameters (from `wallet-types`).
    Params(ParamError),
    /// An encoding that did not decode.
    Decode(DecodeError),
    /// A computation that cannot fail did (reported instead of panicking).
    Internal,
}

impl From<ParamError> for ShamirError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::DuplicateParty(p) => Self::DuplicateId(p),
            ParamError::ZeroPartyId => Self::ZeroId,
            ParamError::EmptyPartySet => Self::Empty,
            ParamError::TooManyParties => Self::TooMany,
            other => Self::Params(other),
        }
    }
}

impl From<DecodeError> for ShamirError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl fmt::Display for ShamirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewShares { needed, given } => {
                write!(f, "too few shares: {given} given, {needed} needed")
            }
            Self::DuplicateId(p) => write!(f, "party id {p} given twice"),
            Self::InvalidThreshold { threshold, parties } => {
                write!(f, "invalid threshold {threshold} for {parties} parties")
            }
            Self::Mismatch { what } => write!(f, "shares do not belong together: {what:?}"),
            Self::InconsistentShares(ids) => {
                write!(f, "shares not on one polynomial: {ids:?}")
            }
            Self::InvalidShare(p) => write!(f, "share of {p} fails Feldman verification"),
            Self::NotAMember(p) => write!(f, "party {p} is not in the id list"),
            Self::Empty => f.write_str("empty list"),
            Self::TooMany => f.write_str("too many parties"),
            Self::ZeroId => f.write_str("party id zero"),
            Self::Params(e) => write!(f, "invalid parameters: {e:?}"),
            Self::Decode(e) => write!(f, "decode error: {e}"),
            Self::Internal => f.write_str("internal error"),
        }
    }
}

impl core::error::Error for ShamirError {}

/// For protocol machines built on this crate (DKG, refresh, reshare): a share that fails
/// verification blames its party ([`wallet_types::Reason::InvalidShare`]); inconsistent shares
/// blame the parties named; everything else is a parameter error of the caller.
impl From<ShamirError> for wallet_types::Error {
    fn from(e: ShamirError) -> Self {
        use wallet_types::{Error, Reason};
        match e {
            ShamirError::InvalidShare(p) => Error::blame(p, Reason::InvalidShare),
            ShamirError::InconsistentShares(ps) => Error::blame_all(ps, Reason::InvalidShare),
            ShamirError::TooFewShares { needed, given } => {
                Error::Params(ParamError::TooFewParties { needed, given })
            }
            ShamirError::DuplicateId(p) => Error::Params(ParamError::DuplicateParty(p)),
            ShamirError::InvalidThreshold { threshold, parties } => {
                Error::Params(ParamError::InvalidThreshold { threshold, parties })
            }
            ShamirError::Mismatch { .. } => Error::Params(ParamError::Mismatch),
            ShamirError::NotAMember(p) => Error::Params(ParamError::NotAMember(p)),
            ShamirError::Empty => Error::Params(ParamError::EmptyPartySet),
            ShamirError::TooMany => Error::Params(ParamError::TooManyParties),
            ShamirError::ZeroId => Error::Params(ParamError::ZeroPartyId),
            ShamirError::Params(p) => Error::Params(p),
            ShamirError::Decode(_) => Error::Params(ParamError::OutOfRange),
            ShamirError::Internal => Error::Internal,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn maps_to_protocol_errors() {
        let p = PartyId::new(4).unwrap();
        let e: wallet_types::Error = ShamirError::InvalidShare(p).into();
        assert_eq!(e.culprits(), &[p]);
        assert_eq!(e.reason(), Some(wallet_types::Reason::InvalidShare));
        let e: wallet_types::Error =
            ShamirError::InconsistentShares(alloc::vec![p, PartyId::new(2).unwrap()]).into();
        assert_eq!(e.culprits().len(), 2);
        let e: wallet_types::Error = ShamirError::TooFewShares {
            needed: 3,
            given: 2,
        }
        .into();
        assert_eq!(e.kind(), wallet_types::ErrorKind::Usage);
    }
}
