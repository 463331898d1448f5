//! Acknowledged termination: how the last rounds of a key-producing protocol end, and what the
//! caller may do with each ending (`docs/invariants.md`, invariant 11).
//!
//! A key generation or a refresh computes its result (a key share) before its last rounds. The
//! last rounds tell a party whether the others computed the **same** thing. The FROST DKG, the
//! ECDSA key generation and the `wallet-pss` refresh end with the same two rounds:
//!
//! 1. **Confirm.** Each party sends its transcript hash `h` (a hash of everything the result
//!    depends on).
//! 2. **Acknowledge.** A party whose received confirmations all equal its own `h` sends
//!    [`Acknowledgement::Ack`]`(h)` — "I hold the result under `h`, and by their confirmations so
//!    does every other party" —, otherwise [`Acknowledgement::Decline`]`(h)` and it is done.
//!
//! A party ends [`Termination::Confirmed`] when every other party acknowledged its `h`, and
//! [`Termination::Unconfirmed`] otherwise — a mismatching, declined, missing or equivocated
//! confirmation or acknowledgement. **An unconfirmed machine keeps its result**: a failure in
//! the last rounds never zeroizes what was computed (a misbehaviour error would: `Lifecycle`
//! drops the state), and the caller's old share was only borrowed.
//!
//! ## What the outcomes guarantee
//!
//! Senders are authenticated, so nobody can forge an honest party's acknowledgement.
//!
//! * If an honest party is **Confirmed** under `h`, every party sent it `Ack(h)`; so every
//!   honest party holds the result under `h` — Confirmed, or Unconfirmed with
//!   [`Unconfirmed::acknowledged`] set — and the results are consistent (they lie on the
//!   sharing `h` commits to).
//! * If an honest party is Unconfirmed with `acknowledged == false`, it sent `Decline`: **no**
//!   honest party is Confirmed in this run.
//!
//! What no protocol can give (the two generals): a guarantee that every honest party is
//! Confirmed when one is. Whoever sends last — a misbehaving party, or the network dropping its
//! message — can leave some parties Confirmed and others Unconfirmed with `acknowledged` set.
//! Another round only moves the problem. Hence the rules below: an acknowledged result is never
//! discarded, and an old share is deleted only on a Confirmed outcome.
//!
//! ## What the caller may do
//!
//! | outcome | the new result | the old share (refresh) |
//! |---|---|---|
//! | `Confirmed` | store it; use it (sign, publish the key or address) | delete it — ideally only after a test signature with the new shares succeeded |
//! | `Unconfirmed`, `acknowledged` | store it and **never discard it**: other parties may be Confirmed and rely on it (a refreshed party may already have deleted its old share). Do not start using it alone; reach agreement first — retry the confirmation with [`Reconfirm`](crate::reconfirm::Reconfirm) | **keep it** |
//! | `Unconfirmed`, not acknowledged | nobody is Confirmed: the run failed for everybody. Keep it to retry the confirmation, or discard it and run the protocol again | **keep it**: it is still the live share |
//!
//! [`Unconfirmed::disagreeing`] names the parties whose matching confirmation or
//! acknowledgement this party lacks. It is not proof of misbehaviour: an honest party that saw
//! a mismatch declines, and is then listed by the others.
//!
//! **Persistence.** As for every round, persist the machine state (or the outcome) before
//! sending the messages returned with it: an `Ack` that went out while the outcome was lost
//! would let others confirm a result this party no longer has.

use alloc::vec::Vec;

use crate::message::Envelope;
use crate::party::PartyId;
use crate::wire::{DecodeError, Reader, Writer};

/// How a key-producing protocol ended (see the [module docs](self) for what each outcome lets
/// the caller do).
#[must_use = "an unconfirmed result must be kept, not dropped"]
#[derive(Debug)]
pub enum Termination<T> {
    /// Every other party acknowledged the same transcript hash.
    Confirmed {
        /// The result (a key share).
        result: T,
        /// The transcript hash every party acknowledged.
        transcript_hash: [u8; 32],
    },
    /// The result was computed but not acknowledged by every other party. Keep it.
    Unconfirmed(Unconfirmed<T>),
}

/// A result whose agreement is missing ([`Termination::Unconfirmed`]). Keep it (and, after a
/// refresh, the old share) until agreement is reached.
#[must_use = "an unconfirmed result must be kept, not dropped"]
#[derive(Debug)]
pub struct Unconfirmed<T> {
    /// The result this party computed (valid against what it received).
    pub result: T,
    /// This party's transcript hash.
    pub transcript_hash: [u8; 32],
    /// Whether this party sent its acknowledgement. If it did, other parties may be Confirmed
    /// (and may have deleted their old shares): never discard the result. If it did not, no
    /// party is Confirmed.
    pub acknowledged: bool,
    /// The parties whose matching confirmation or acknowledgement is missing (a different
    /// value, a decline, a misbehaviour, or no message before `stop_waiting`), sorted. Not a
    /// proof of misbehaviour.
    pub disagreeing: Vec<PartyId>,
}

impl<T> Unconfirmed<T> {
    /// An unconfirmed outcome (`disagreeing` is sorted and deduplicated).
    pub fn new(
        result: T,
        transcript_hash: [u8; 32],
        acknowledged: bool,
        mut disagreeing: Vec<PartyId>,
    ) -> Self {
        disagreeing.sort_unstable();
        disagreeing.dedup();
        Self {
            result,
            transcript_hash,
            acknowledged,
            disagreeing,
        }
    }

    /// Applies a retried confirmation of this result ([`crate::reconfirm::Reconfirm`], run by
    /// every party on the transcript hash): Confirmed when the retry confirmed the same hash;
    /// otherwise still unconfirmed — acknowledged if this party acknowledged in either run —
    /// naming the parties the retry is missing.
    pub fn settle(self, retry: &Termination<()>) -> Termination<T> {
        match retry {
            Termination::Confirmed {
                transcript_hash, ..
            } if *transcript_hash == self.transcript_hash => Termination::Confirmed {
                result: self.result,
                transcript_hash: self.transcript_hash,
            },
            Termination::Confirmed { .. } => Termination::Unconfirmed(self),
            Termination::Unconfirmed(u) => Termination::Unconfirmed(Self::new(
                self.result,
                self.transcript_hash,
                self.acknowledged || u.acknowledged,
                u.disagreeing.clone(),
            )),
        }
    }

    /// The same outcome with the result mapped (e.g. a key share to its public part).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Unconfirmed<U> {
        Unconfirmed {
            result: f(self.result),
            transcript_hash: self.transcript_hash,
            acknowledged: self.acknowledged,
            disagreeing: self.disagreeing,
        }
    }
}

impl<T> Termination<T> {
    /// The end of the acknowledgement round for a party that acknowledged `transcript_hash`:
    /// Confirmed when every other party's acknowledgement is `Ack(transcript_hash)`; otherwise
    /// Unconfirmed (acknowledged), naming the others. `None` stands for a message that is not an
    /// acknowledgement.
    pub fn from_acknowledgements<'a>(
        result: T,
        transcript_hash: [u8; 32],
        acks: impl IntoIterator<Item = (PartyId, Option<&'a Acknowledgement>)>,
    ) -> Self {
        let disagreeing: Vec<PartyId> = acks
            .into_iter()
            .filter(|(_, a)| !matches!(a, Some(Acknowledgement::Ack(h)) if *h == transcript_hash))
            .map(|(p, _)| p)
            .collect();
        if disagreeing.is_empty() {
            Self::Confirmed {
                result,
                transcript_hash,
            }
        } else {
            Self::Unconfirmed(Unconfirmed::new(result, transcript_hash, true, disagreeing))
        }
    }

    /// Whether every other party acknowledged.
    pub fn is_confirmed(&self) -> bool {
        matches!(self, Self::Confirmed { .. })
    }

    /// The result, confirmed or not.
    pub fn result(&self) -> &T {
        match self {
            Self::Confirmed { result, .. } => result,
            Self::Unconfirmed(u) => &u.result,
        }
    }

    /// The acknowledged transcript hash, or this party's own when unconfirmed.
    pub fn transcript_hash(&self) -> &[u8; 32] {
        match self {
            Self::Confirmed {
                transcript_hash, ..
            } => transcript_hash,
            Self::Unconfirmed(u) => &u.transcript_hash,
        }
    }

    /// Whether the old share (of a refresh) may now be deleted: only when Confirmed (and
    /// preferably after a test signature with the new shares).
    pub fn may_delete_old_share(&self) -> bool {
        self.is_confirmed()
    }

    /// The confirmed result, or the unconfirmed outcome to keep.
    pub fn into_confirmed(self) -> Result<T, Unconfirmed<T>> {
        match self {
            Self::Confirmed { result, .. } => Ok(result),
            Self::Unconfirmed(u) => Err(u),
        }
    }

    /// The result, confirmed or not (what the caller may do with it depends on the outcome:
    /// look before taking it).
    pub fn into_result(self) -> T {
        match self {
            Self::Confirmed { result, .. } => result,
            Self::Unconfirmed(u) => u.result,
        }
    }

    /// The same outcome with the result mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Termination<U> {
        match self {
            Self::Confirmed {
                result,
                transcript_hash,
            } => Termination::Confirmed {
                result: f(result),
                transcript_hash,
            },
            Self::Unconfirmed(u) => Termination::Unconfirmed(u.map(f)),
        }
    }
}

/// The parties among `confirmations` whose transcript hash is not `mine` (`None`: a message
/// that is not a confirmation) — the `disagreeing` of a party that declines.
pub fn mismatched_confirmations(
    mine: &[u8; 32],
    confirmations: impl IntoIterator<Item = (PartyId, Option<[u8; 32]>)>,
) -> Vec<PartyId> {
    confirmations
        .into_iter()
        .filter(|(_, h)| h.as_ref() != Some(mine))
        .map(|(p, _)| p)
        .collect()
}

/// The acknowledgement round's message: the sender holds the result under the hash and every
/// confirmation it received matched (`Ack`), or not (`Decline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acknowledgement {
    /// Every confirmation this party received equals its transcript hash (given); it holds
    /// the result under it.
    Ack([u8; 32]),
    /// A confirmation this party received differed from its transcript hash (given), was
    /// missing, or a party misbehaved: it will not acknowledge.
    Decline([u8; 32]),
}

impl Acknowledgement {
    /// Encoded length.
    pub const LEN: usize = 33;

    /// The transcript hash it names.
    pub fn transcript_hash(&self) -> &[u8; 32] {
        match self {
            Self::Ack(h) | Self::Decline(h) => h,
        }
    }

    /// `u8 verdict (1 = ack, 2 = decline) || hash[32]` (`SPEC.md` §6).
    pub fn encode(&self, w: &mut Writer) {
        let (tag, h) = match self {
            Self::Ack(h) => (1, h),
            Self::Decline(h) => (2, h),
        };
        w.u8(tag);
        w.bytes(h);
    }

    /// Reads what [`Acknowledgement::encode`] wrote.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.u8()?;
        let h = r.array::<32>()?;
        match tag {
            1 => Ok(Self::Ack(h)),
            2 => Ok(Self::Decline(h)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

/// What a machine's `stop_waiting` ends with: the messages still to send (a `Decline` when the
/// party had not acknowledged yet, so that it can never be counted later) and the outcome.
pub type Stopped<M, T> = (Vec<Envelope<M>>, Unconfirmed<T>);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn p(i: u16) -> PartyId {
        PartyId::new(i).unwrap()
    }

    #[test]
    fn confirmed_only_when_every_ack_names_our_hash() {
        let h = [7; 32];
        let ack = Acknowledgement::Ack(h);
        let other = Acknowledgement::Ack([8; 32]);
        let decline = Acknowledgement::Decline(h);
        let all =
            Termination::from_acknowledgements((), h, [(p(2), Some(&ack)), (p(3), Some(&ack))]);
        assert!(all.is_confirmed());
        let t = Termination::from_acknowledgements(
            (),
            h,
            [(p(4), Some(&decline)), (p(2), Some(&other)), (p(3), None)],
        );
        let u = t.into_confirmed().unwrap_err();
        assert!(u.acknowledged);
        assert_eq!(u.disagreeing, [p(2), p(3), p(4)]);
    }

    #[test]
    fn settle_needs_a_confirmed_retry_of_the_same_hash() {
        let u = || Unconfirmed::new(5u8, [1; 32], false, alloc::vec![p(3)]);
        let same = Termination::Confirmed {
            result: (),
            transcript_hash: [1; 32],
        };
        let other = Termination::Confirmed {
            result: (),
            transcript_hash: [2; 32],
        };
        let failed =
            Termination::Unconfirmed(Unconfirmed::new((), [1; 32], true, alloc::vec![p(2)]));
        assert!(u().settle(&same).is_confirmed());
        assert!(!u().settle(&other).is_confirmed());
        let still = u().settle(&failed).into_confirmed().unwrap_err();
        assert!(still.acknowledged);
        assert_eq!(still.disagreeing, [p(2)]);
    }

    #[test]
    fn acknowledgement_encoding() {
        let mut w = Writer::new();
        Acknowledgement::Decline([0xab; 32]).encode(&mut w);
        let bytes = w.finish();
        assert_eq!(bytes.len(), Acknowledgement::LEN);
        assert_eq!(bytes[0], 2);
        let back = Acknowledgement::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(back, Acknowledgement::Decline([0xab; 32]));
        let mut bad = bytes.clone();
        bad[0] = 3;
        assert_eq!(
            Acknowledgement::decode(&mut Reader::new(&bad)),
            Err(DecodeError::InvalidTag(3))
        );
    }
}
