//! The crate's error type.

use core::fmt;

use wallet_types::DecodeError;
use wallet_types::StoreError;

/// Why an operation of this crate failed.
///
/// Opening an envelope fails with exactly one error, [`KekError::Unwrap`], whatever the cause
/// (wrong PRF output, wrong password or answer, no slot for that credential, a modified envelope):
/// the error is no oracle for an attacker who feeds modified envelopes to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KekError {
    /// The envelope could not be opened with this credential. Deliberately opaque.
    Unwrap,
    /// The bytes are not a canonical encoding of an envelope.
    Decode(DecodeError),
    /// Argon2id parameters below the minimum this crate accepts (m = 19456 KiB, t = 2, p = 1)
    /// or above its maximum (see [`crate::Argon2Params`]).
    WeakParams,
    /// Removing this slot would leave the envelope without any slot.
    LastSlot,
    /// No slot has this id.
    UnknownSlot(u16),
    /// The envelope already holds [`crate::MAX_SLOTS`] slots (or the slot ids are exhausted).
    TooManySlots,
    /// A passkey slot for this credential id already exists.
    DuplicateCredential,
    /// A value given by the caller is out of range (a length, an empty id, a non-canonical key).
    InvalidInput,
    /// The operation needs another payload kind (e.g. ECDSA signing with an Ed25519 seed).
    WrongPayloadKind,
    /// The unlocked secret given belongs to another envelope.
    NotThisEnvelope,
    /// The slot is of another kind than the operation needs.
    WrongSlotKind,
    /// The OPRF server refuses to evaluate: the record reached its guess limit and waits for a
    /// reset ([`crate::OprfRecord::reset`]).
    OprfLockedOut,
    /// The OPRF server's response for this record did not verify under the public key pinned
    /// in the slot: another key answered (a substituted or impostor server), or the response
    /// was tampered with or replayed from another request. The record id names the server
    /// record that answered.
    OprfBadProof {
        /// The record id of the slot whose pinned key the proof failed against.
        record: [u8; 32],
    },
    /// An OPRF message for another record than the one expected.
    OprfWrongRecord,
    /// A reset proof that does not answer the pending nonce under the record's reset key (or
    /// no nonce is pending). The failure counter is unchanged.
    OprfBadReset,
    /// A record-key certificate that is for another record or does not verify under the
    /// pinned server identity ([`crate::oprf_identity`]): the key must not be pinned.
    OprfBadCertificate,
    /// The OPRF server's record store refused or failed ([`crate::oprf_server`]): no such
    /// record, a record id registered twice, or a backend failure (nothing was changed, and no
    /// response was released).
    Store(StoreError),
}

impl fmt::Display for KekError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unwrap => f.write_str("the envelope could not be opened with this credential"),
            Self::Decode(e) => write!(f, "invalid envelope encoding: {e}"),
            Self::WeakParams => f.write_str("Argon2id parameters out of the accepted range"),
            Self::LastSlot => f.write_str("the last slot of an envelope cannot be removed"),
            Self::UnknownSlot(id) => write!(f, "no slot with id {id}"),
            Self::TooManySlots => f.write_str("too many slots"),
            Self::DuplicateCredential => f.write_str("a slot for this credential id exists"),
            Self::InvalidInput => f.write_str("invalid input"),
            Self::WrongPayloadKind => f.write_str("wrong payload kind for this operation"),
            Self::NotThisEnvelope => f.write_str("unlocked secret of another envelope"),
            Self::WrongSlotKind => f.write_str("wrong slot kind for this operation"),
            Self::OprfLockedOut => f.write_str("OPRF record locked: too many failed attempts"),
            Self::OprfBadProof { record } => {
                f.write_str(
                    "the OPRF server's proof does not verify under the pinned key of record ",
                )?;
                record
                    .iter()
                    .take(8)
                    .try_for_each(|b| write!(f, "{b:02x}"))?;
                f.write_str("…")
            }
            Self::OprfWrongRecord => f.write_str("OPRF message for another record"),
            Self::OprfBadReset => f.write_str("invalid OPRF reset proof"),
            Self::OprfBadCertificate => {
                f.write_str("record-key certificate not valid under the pinned server identity")
            }
            Self::Store(e) => write!(f, "OPRF record store: {e}"),
        }
    }
}

impl core::error::Error for KekError {}

impl From<DecodeError> for KekError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}
