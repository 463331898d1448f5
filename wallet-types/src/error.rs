//! Errors shared by every protocol.
//!
//! Three families, told apart by [`Error::kind`]:
//! * **rejections** — a message that does not belong here (wrong session, unknown sender, a
//!   round that is over, not addressed to us). The machine's state is unchanged; the caller may
//!   log and carry on.
//! * **misbehaviour** — a check failed; the error names the culprit(s) and the machine has
//!   aborted and dropped its secrets. [`Error::must_ban`] says when a reusable setup (the
//!   pairwise OT setup of two-party ECDSA) must never be used with that party again.
//! * **usage** — the caller did something wrong (bad parameters, a call after the end).

use alloc::vec::Vec;
use core::fmt;

use crate::party::PartyId;
use crate::wire::DecodeError;

/// Bad parameters given by the caller (not by a counterparty).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamError {
    /// A party set with no member.
    EmptyPartySet,
    /// A party set with the same id twice.
    DuplicateParty(PartyId),
    /// A party id of zero (zero is the secret's evaluation point).
    ZeroPartyId,
    /// More than [`crate::party::MAX_PARTIES`] parties.
    TooManyParties,
    /// A threshold outside `1..=n` (or the protocol's own range).
    InvalidThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// The number of parties.
        parties: usize,
    },
    /// This party is not a member of the party set it was given.
    NotAMember(PartyId),
    /// Too few parties for the operation.
    TooFewParties {
        /// How many are needed.
        needed: usize,
        /// How many were given.
        given: usize,
    },
    /// Inputs that do not belong together (different keys, share sets, epochs, curves).
    Mismatch,
    /// A value out of its allowed range (a count, a length, a parameter).
    OutOfRange,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyPartySet => f.write_str("empty party set"),
            Self::DuplicateParty(p) => write!(f, "party {p} listed twice"),
            Self::ZeroPartyId => f.write_str("party id zero"),
            Self::TooManyParties => f.write_str("too many parties"),
            Self::InvalidThreshold { threshold, parties } => {
                write!(f, "threshold {threshold} invalid for {parties} parties")
            }
            Self::NotAMember(p) => write!(f, "{p} is not a member of the party set"),
            Self::TooFewParties { needed, given } => {
                write!(f, "{given} parties given, {needed} needed")
            }
            Self::Mismatch => f.write_str("inputs that do not belong together"),
            Self::OutOfRange => f.write_str("value out of range"),
        }
    }
}

impl core::error::Error for ParamError {}

/// What a misbehaving party did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Sent two different messages for one round.
    Equivocation,
    /// A message that decodes but is malformed for this round (wrong lengths, missing parts).
    MalformedMessage,
    /// A commitment did not open to the revealed value.
    CommitmentMismatch,
    /// A proof of knowledge (Schnorr, DLEQ) did not verify.
    InvalidProof,
    /// A secret share did not verify against its dealer's Feldman commitments.
    InvalidShare,
    /// The confirmation round disagreed: parties did not see the same transcript.
    ConfirmationMismatch,
    /// A signature share did not verify against the signer's share commitment.
    InvalidSignatureShare,
    /// The OT extension consistency check failed. **The pairwise setup with this party must
    /// not be used again** (a failed check leaks a bit of the setup secret).
    OtConsistency,
    /// The base-OT check failed (an invalid point or a failed verification step).
    BaseOt,
    /// The multiplication (VOLE) consistency check failed.
    MultiplicationCheck,
    /// A value that must be fresh was replayed.
    Replay,
    /// The group / public key a party contributed does not match what was expected.
    PublicKeyMismatch,
    /// The protocol's final result did not verify (e.g. the combined signature).
    InvalidResult,
}

/// The error type of every protocol machine.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // ---- rejections: state unchanged ----
    /// The message belongs to another session (a replay from another run, or a stray).
    WrongSession {
        /// Who sent it.
        sender: PartyId,
    },
    /// The sender is not in this protocol's party set (or is ourselves).
    UnknownSender {
        /// Who sent it.
        sender: PartyId,
    },
    /// A point-to-point message addressed to someone else.
    NotForUs {
        /// Who sent it.
        sender: PartyId,
    },
    /// A round this protocol does not have, a round already finished (with a message we had not
    /// seen), or a broadcast where a point-to-point message was due (or the reverse).
    UnexpectedMessage {
        /// Who sent it.
        sender: PartyId,
        /// The round it claimed.
        round: u16,
    },
    // ---- misbehaviour: the machine aborted ----
    /// One or more parties misbehaved; the machine aborted.
    Misbehaviour {
        /// The parties to blame (sorted, non-empty).
        culprits: Vec<PartyId>,
        /// What they did.
        reason: Reason,
    },
    /// A message from `sender` did not decode.
    Decode {
        /// Who sent it.
        sender: PartyId,
        /// Why it did not decode.
        error: DecodeError,
    },
    // ---- usage ----
    /// Bad parameters.
    Params(ParamError),
    /// The machine aborted earlier; it answers every later call with this.
    Aborted,
    /// The machine already produced its output.
    Finished,
    /// `start` was called twice, or `handle` before `start`.
    NotStarted,
    /// A local computation failed in a way that does not point to any party (should not happen;
    /// reported rather than panicking).
    Internal,
    // ---- lifecycle (the library's stores enforce these) ----
    /// The pairing with `party` was ended by a ban (a failed check of the reusable setup, in this
    /// or any other session). Every session that would use the pairing again is refused; the
    /// error names the party that caused the ban.
    Banned {
        /// The banned counterparty.
        party: PartyId,
    },
    /// Material of another epoch (or another key): a presignature, a machine state or a key
    /// share older than the store's current key share. It can never sign again.
    WrongEpoch {
        /// The epoch of the store's current key share.
        current: u64,
        /// The epoch the material belongs to.
        found: u64,
    },
    /// A point-to-point answer that answers a message this machine did not send (e.g. the
    /// machine was restored from a snapshot taken before it sent its first message, and the
    /// counterparty answered the message sent before the crash). Nobody is blamed; the machine
    /// is unchanged, but this session cannot complete: start a new one.
    StaleAnswer {
        /// Who sent the answer.
        sender: PartyId,
    },
    /// The store refused or failed an operation (one-time material already used, not found,
    /// a retired epoch, a backend failure).
    Store(StoreError),
}

/// What a store ([`crate::store`]) refused, or why it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// No such entry (never stored, or erased with its epoch).
    NotFound,
    /// One-time material whose id was already used (or stored) once.
    AlreadyUsed,
    /// The entry's scope (a key id: an epoch) was retired by a refresh or reshare.
    Retired,
    /// The backend failed (I/O, a lost lock, a poisoned mutex); nothing was changed.
    Unavailable,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotFound => "no such entry",
            Self::AlreadyUsed => "one-time material already used",
            Self::Retired => "the entry's epoch was retired",
            Self::Unavailable => "store unavailable",
        })
    }
}

impl core::error::Error for StoreError {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Families of [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The message was rejected and the machine's state is unchanged.
    Rejected,
    /// A party misbehaved; the machine aborted.
    Misbehaviour,
    /// A caller mistake or a call after the end.
    Usage,
}

impl Error {
    /// Blame `culprit` for `reason`.
    pub fn blame(culprit: PartyId, reason: Reason) -> Self {
        Self::Misbehaviour {
            culprits: alloc::vec![culprit],
            reason,
        }
    }

    /// Blame several parties (sorted, deduplicated).
    pub fn blame_all(mut culprits: Vec<PartyId>, reason: Reason) -> Self {
        culprits.sort_unstable();
        culprits.dedup();
        Self::Misbehaviour { culprits, reason }
    }

    /// The family of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::WrongSession { .. }
            | Self::UnknownSender { .. }
            | Self::NotForUs { .. }
            | Self::UnexpectedMessage { .. }
            | Self::StaleAnswer { .. } => ErrorKind::Rejected,
            Self::Misbehaviour { .. } | Self::Decode { .. } | Self::Banned { .. } => {
                ErrorKind::Misbehaviour
            }
            _ => ErrorKind::Usage,
        }
    }

    /// The parties this error blames (empty for rejections and usage errors).
    pub fn culprits(&self) -> &[PartyId] {
        match self {
            Self::Misbehaviour { culprits, .. } => culprits,
            Self::Decode { sender, .. } => core::slice::from_ref(sender),
            Self::Banned { party } => core::slice::from_ref(party),
            _ => &[],
        }
    }

    /// The misbehaviour reason, if any.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::Misbehaviour { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// The parties with whom the reusable OT setup must never be used again. The ECDSA machines
    /// record the ban in their key store themselves, before the error reaches the caller.
    pub fn must_ban(&self) -> &[PartyId] {
        match self {
            Self::Misbehaviour {
                culprits,
                reason: Reason::OtConsistency | Reason::BaseOt | Reason::MultiplicationCheck,
            } => culprits,
            _ => &[],
        }
    }
}

impl From<ParamError> for Error {
    fn from(e: ParamError) -> Self {
        Self::Params(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongSession { sender } => write!(f, "message from {sender} for another session"),
            Self::UnknownSender { sender } => write!(f, "message from unknown party {sender}"),
            Self::NotForUs { sender } => {
                write!(f, "message from {sender} addressed to another party")
            }
            Self::UnexpectedMessage { sender, round } => {
                write!(f, "unexpected message from {sender} for round {round}")
            }
            Self::Misbehaviour { culprits, reason } => {
                write!(f, "misbehaviour ({reason:?}) by {culprits:?}")
            }
            Self::Decode { sender, error } => {
                write!(f, "undecodable message from {sender}: {error}")
            }
            Self::Params(e) => write!(f, "invalid parameters: {e}"),
            Self::Aborted => f.write_str("protocol aborted earlier"),
            Self::Finished => f.write_str("protocol already finished"),
            Self::NotStarted => f.write_str("protocol not started (or started twice)"),
            Self::Internal => f.write_str("internal error"),
            Self::Banned { party } => write!(f, "the pairing with {party} was ended by a ban"),
            Self::WrongEpoch { current, found } => {
                write!(
                    f,
                    "material of epoch {found}; the current epoch is {current}"
                )
            }
            Self::StaleAnswer { sender } => write!(
                f,
                "{sender} answered a message this machine did not send (restored from an older snapshot)"
            ),
            Self::Store(e) => write!(f, "store: {e}"),
        }
    }
}

impl core::error::Error for Error {}
