//! The one state-machine trait of every interactive protocol, and the round bookkeeping they
//! share.
//!
//! ## The rules every machine follows
//!
//! 1. **Sans-IO**: no I/O, no clock, no global RNG. The caller passes randomness in and moves the
//!    [`Envelope`]s however it likes.
//! 2. Messages for a later round are **buffered** ([`Inbox`]).
//! 3. An **identical duplicate** is ignored ([`Received::Duplicate`]).
//! 4. A sender who sends **two different messages for one round** is blamed
//!    ([`Reason::Equivocation`]).
//! 5. A wrong session, an unknown sender, a message not addressed to us or for a round that does
//!    not exist is **rejected without changing state** ([`crate::ErrorKind::Rejected`]).
//! 6. After a failed check the machine **aborts**: it drops its secrets (they are zeroized on
//!    drop) and answers every later call with [`Error::Aborted`] ([`Lifecycle`]). The one
//!    exception: a key-producing machine that has computed its result ends with it, unconfirmed,
//!    instead of dropping it ([`crate::termination`]), so that a late failure cannot destroy a
//!    key others may rely on.
//! 7. A machine can be **serialized between rounds** ([`WireObject`]); those bytes hold secrets
//!    and must be stored encrypted (e.g. under a wallet-kek envelope).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use rand_core::CryptoRng;

use crate::error::{Error, ParamError, Reason};
use crate::message::{Envelope, Recipient};
use crate::party::{Parties, PartyId, SessionId};
use crate::wire::{DecodeError, Reader, WireObject, Writer};

/// What a machine asks the caller to do after a call.
#[must_use = "the outgoing messages must be sent"]
#[derive(Debug)]
pub enum Step<M, O> {
    /// Send these messages and wait for more.
    Continue(Vec<Envelope<M>>),
    /// Send these (last) messages; the protocol's output is ready.
    Done(Vec<Envelope<M>>, O),
}

impl<M, O> Step<M, O> {
    /// `Done` when the round processing produced the output, `Continue` otherwise.
    pub fn from_round(out: Vec<Envelope<M>>, output: Option<O>) -> Self {
        match output {
            Some(o) => Self::Done(out, o),
            None => Self::Continue(out),
        }
    }

    /// The messages to send.
    pub fn messages(&self) -> &[Envelope<M>] {
        match self {
            Self::Continue(m) | Self::Done(m, _) => m,
        }
    }
}

/// An interactive protocol party as a sans-IO state machine.
///
/// Construct the machine with its parameters, call [`Protocol::start`] once, then
/// [`Protocol::handle`] with each received message, sending whatever each call returns, until
/// [`Step::Done`]. All errors are [`Error`]s, which name culprits where a party misbehaved.
pub trait Protocol: Sized {
    /// The protocol's message (one enum over its rounds). Not required to be `Clone`:
    /// point-to-point messages may carry secret shares.
    type Message: WireObject + RoundMessage + core::fmt::Debug;
    /// The result of a successful run.
    type Output;

    /// This party.
    fn me(&self) -> PartyId;

    /// Produces the first round's messages.
    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<Self::Message, Self::Output>, Error>;

    /// Processes one received message.
    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<Self::Message>,
        rng: &mut R,
    ) -> Result<Step<Self::Message, Self::Output>, Error>;
}

/// A protocol message knows which round it belongs to; the [`Inbox`] blames a sender whose
/// message sits in the envelope of another round.
pub trait RoundMessage {
    /// The round (1-based) this message belongs to.
    fn round(&self) -> u16;
}

/// How a round's messages travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// One message from each sender to everybody.
    Broadcast,
    /// One message from each sender to each recipient.
    P2p,
}

/// One round's shape: its delivery and who sends in it (`None`: every other party).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundSpec {
    /// Broadcast or point-to-point.
    pub delivery: Delivery,
    /// The senders, or `None` for all parties except the receiver.
    pub senders: Option<Parties>,
}

impl RoundSpec {
    /// A broadcast round in which every other party sends.
    pub const fn broadcast() -> Self {
        Self {
            delivery: Delivery::Broadcast,
            senders: None,
        }
    }
    /// A point-to-point round in which every other party sends.
    pub const fn p2p() -> Self {
        Self {
            delivery: Delivery::P2p,
            senders: None,
        }
    }
}

/// Outcome of [`Inbox::receive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// The message was new and is stored.
    Stored,
    /// An identical copy was seen before; nothing changed.
    Duplicate,
}

/// Round bookkeeping shared by all machines: validation of addressing, buffering of early
/// messages, duplicate suppression and equivocation detection.
///
/// It remembers a SHA-256 digest of every accepted message (not the message: point-to-point
/// messages can carry secrets), so duplicates and equivocations are recognised even after the
/// round was processed.
#[derive(Clone, Debug)]
pub struct Inbox<M> {
    session: SessionId,
    me: PartyId,
    parties: Parties,
    rounds: Vec<RoundSpec>,
    /// The first round not yet taken.
    current: u16,
    pending: BTreeMap<(u16, PartyId), M>,
    seen: BTreeMap<(u16, PartyId), [u8; 32]>,
}

impl<M: WireObject + RoundMessage> Inbox<M> {
    /// An inbox for `me` among `parties` (which include `me`) with the given rounds (round `i`
    /// is `rounds[i - 1]`).
    pub fn new(
        session: SessionId,
        me: PartyId,
        parties: Parties,
        rounds: Vec<RoundSpec>,
    ) -> Result<Self, ParamError> {
        if !parties.contains(me) {
            return Err(ParamError::NotAMember(me));
        }
        if rounds.len() > usize::from(u16::MAX - 1) {
            return Err(ParamError::OutOfRange);
        }
        Ok(Self {
            session,
            me,
            parties,
            rounds,
            current: 1,
            pending: BTreeMap::new(),
            seen: BTreeMap::new(),
        })
    }

    /// The session.
    pub fn session(&self) -> &SessionId {
        &self.session
    }
    /// This party.
    pub fn me(&self) -> PartyId {
        self.me
    }
    /// All parties (including this one).
    pub fn parties(&self) -> &Parties {
        &self.parties
    }
    /// The first round not yet taken.
    pub fn current_round(&self) -> u16 {
        self.current
    }

    fn spec(&self, round: u16) -> Option<&RoundSpec> {
        self.rounds.get(usize::from(round).checked_sub(1)?)
    }

    fn expected_senders(&self, round: u16) -> Vec<PartyId> {
        match self.spec(round).and_then(|s| s.senders.as_ref()) {
            Some(s) => s.iter().filter(|p| *p != self.me).collect(),
            None => self.parties.others(self.me).collect(),
        }
    }

    /// Validates and stores a message. Rejections leave the inbox unchanged; an equivocation is
    /// reported as misbehaviour (the caller must abort).
    pub fn receive(&mut self, env: Envelope<M>) -> Result<Received, Error> {
        let sender = env.sender;
        if env.session != self.session {
            return Err(Error::WrongSession { sender });
        }
        if sender == self.me || !self.parties.contains(sender) {
            return Err(Error::UnknownSender { sender });
        }
        let round = env.round;
        let spec = self
            .spec(round)
            .ok_or(Error::UnexpectedMessage { sender, round })?;
        match (spec.delivery, env.recipient) {
            (Delivery::Broadcast, Recipient::All) => {}
            (Delivery::P2p, Recipient::One(p)) if p == self.me => {}
            (Delivery::P2p, Recipient::One(_)) => return Err(Error::NotForUs { sender }),
            _ => return Err(Error::UnexpectedMessage { sender, round }),
        }
        if !self.expected_senders(round).contains(&sender) {
            return Err(Error::UnexpectedMessage { sender, round });
        }
        if env.payload.round() != round {
            // An authenticated sender put one round's message into another round's envelope.
            return Err(Error::blame(sender, Reason::MalformedMessage));
        }
        // Hashed as it is encoded: no buffer (point-to-point payloads may carry secret shares,
        // and the large ones would only be copied).
        let digest = crate::wire::digest_of(&env.payload);
        if let Some(prev) = self.seen.get(&(round, sender)) {
            return if *prev == digest {
                Ok(Received::Duplicate)
            } else {
                Err(Error::blame(sender, Reason::Equivocation))
            };
        }
        if round < self.current {
            // Cannot happen for an honest flow (a round is only taken once complete), but a
            // message for a finished round that we never saw must not be accepted.
            return Err(Error::UnexpectedMessage { sender, round });
        }
        self.seen.insert((round, sender), digest);
        self.pending.insert((round, sender), env.payload);
        Ok(Received::Stored)
    }

    /// Whether every expected sender's message for the current round is here.
    pub fn current_complete(&self) -> bool {
        let r = self.current;
        self.spec(r).is_some()
            && self
                .expected_senders(r)
                .iter()
                .all(|p| self.pending.contains_key(&(r, *p)))
    }

    /// If the current round is complete, removes and returns its messages (by sender) and moves
    /// to the next round.
    pub fn take_current(&mut self) -> Option<BTreeMap<PartyId, M>> {
        if !self.current_complete() {
            return None;
        }
        let r = self.current;
        let mut out = BTreeMap::new();
        for p in self.expected_senders(r) {
            if let Some(m) = self.pending.remove(&(r, p)) {
                out.insert(p, m);
            }
        }
        self.current = r.saturating_add(1);
        Some(out)
    }

    /// Builds an outgoing envelope from this party.
    pub fn envelope(&self, round: u16, recipient: Recipient, payload: M) -> Envelope<M> {
        Envelope {
            session: self.session,
            round,
            sender: self.me,
            recipient,
            payload,
        }
    }

    /// Serializes the inbox (the caller passes how to serialize a round spec list: they are
    /// reconstructed by the machine, not stored).
    pub fn encode(&self, w: &mut Writer) {
        w.session(&self.session);
        w.party(self.me);
        w.parties(&self.parties);
        w.u16(self.current);
        w.u32(self.pending.len() as u32);
        for ((round, p), m) in &self.pending {
            w.u16(*round);
            w.party(*p);
            w.object(m);
        }
        w.u32(self.seen.len() as u32);
        for ((round, p), d) in &self.seen {
            w.u16(*round);
            w.party(*p);
            w.bytes(d);
        }
    }

    /// Restores an inbox written by [`Inbox::encode`]; `rounds` must be the machine's round
    /// list (it is part of the protocol, not of the state).
    pub fn decode(r: &mut Reader<'_>, rounds: Vec<RoundSpec>) -> Result<Self, DecodeError> {
        let session = r.session()?;
        let me = r.party()?;
        let parties = r.parties()?;
        let current = r.u16()?;
        let mut inbox =
            Self::new(session, me, parties, rounds).map_err(|_| DecodeError::InvalidValue)?;
        if current == 0 || usize::from(current) > inbox.rounds.len() + 1 {
            return Err(DecodeError::InvalidValue);
        }
        inbox.current = current;
        let max = inbox.parties.len().saturating_mul(inbox.rounds.len());
        // Both maps are written in key order; only that order is accepted (strictly increasing
        // keys: no duplicates, and one encoding per state).
        let n = r.count(max, 8)?;
        let mut last = None;
        for _ in 0..n {
            let key = (r.u16()?, r.party()?);
            let m = M::from_bytes(r.var_bytes(crate::message::MAX_PAYLOAD_LEN)?)?;
            let (round, p) = key;
            if inbox.spec(round).is_none() || !inbox.parties.contains(p) || round < current {
                return Err(DecodeError::InvalidValue);
            }
            if last >= Some(key) {
                return Err(DecodeError::InvalidValue);
            }
            last = Some(key);
            inbox.pending.insert(key, m);
        }
        let n = r.count(max, 36)?;
        let mut last = None;
        for _ in 0..n {
            let key = (r.u16()?, r.party()?);
            let d = r.array::<32>()?;
            if last >= Some(key) {
                return Err(DecodeError::InvalidValue);
            }
            last = Some(key);
            inbox.seen.insert(key, d);
        }
        Ok(inbox)
    }
}

/// The life of a machine: running with its state, finished, or aborted.
///
/// [`Lifecycle::run`] implements rule 6: a misbehaviour error drops the running state (secrets
/// are zeroized by their own `Drop`) and every later call answers [`Error::Aborted`]; a
/// rejection leaves the state as it was.
#[derive(Debug)]
pub enum Lifecycle<S> {
    /// Waiting for `start`.
    Created(S),
    /// Running.
    Running(S),
    /// Output produced.
    Finished,
    /// A check failed.
    Aborted,
}

impl<S> Lifecycle<S> {
    /// Runs `f` on the running state. On a misbehaviour / usage error from `f`, the state is
    /// dropped and the machine is aborted; on a rejection nothing changes. `f` returns `true`
    /// with its value when the protocol is finished (the state is then dropped).
    pub fn run<T>(
        &mut self,
        f: impl FnOnce(&mut S) -> Result<(T, bool), Error>,
    ) -> Result<T, Error> {
        let state = match self {
            Self::Running(s) => s,
            Self::Created(_) => return Err(Error::NotStarted),
            Self::Finished => return Err(Error::Finished),
            Self::Aborted => return Err(Error::Aborted),
        };
        match f(state) {
            Ok((v, done)) => {
                if done {
                    *self = Self::Finished;
                }
                Ok(v)
            }
            Err(e) => {
                if e.kind() != crate::error::ErrorKind::Rejected {
                    *self = Self::Aborted;
                }
                Err(e)
            }
        }
    }

    /// [`Lifecycle::run`] for a call that returns a [`Step`]: the machine is finished exactly
    /// when the step is [`Step::Done`], so the flag is derived rather than passed.
    pub fn step<M, O>(
        &mut self,
        f: impl FnOnce(&mut S) -> Result<Step<M, O>, Error>,
    ) -> Result<Step<M, O>, Error> {
        self.run(|s| {
            let step = f(s)?;
            let done = matches!(step, Step::Done(..));
            Ok((step, done))
        })
    }

    /// Moves from `Created` to `Running` and runs `f` (the first round).
    pub fn start<T>(
        &mut self,
        f: impl FnOnce(&mut S) -> Result<(T, bool), Error>,
    ) -> Result<T, Error> {
        match core::mem::replace(self, Self::Aborted) {
            Self::Created(s) => {
                *self = Self::Running(s);
                self.run(f)
            }
            other => {
                let err = match &other {
                    Self::Finished => Error::Finished,
                    Self::Aborted => Error::Aborted,
                    _ => Error::NotStarted,
                };
                *self = other;
                Err(err)
            }
        }
    }

    /// Tag byte for serialization: 0 created, 1 running, 2 finished, 3 aborted.
    pub fn tag(&self) -> u8 {
        match self {
            Self::Created(_) => 0,
            Self::Running(_) => 1,
            Self::Finished => 2,
            Self::Aborted => 3,
        }
    }

    /// The state, if created or running.
    pub fn state(&self) -> Option<&S> {
        match self {
            Self::Created(s) | Self::Running(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::session_id::SessionIdMessage;
    use crate::{Reader, Writer};

    fn inbox_with_two_pending() -> Inbox<SessionIdMessage> {
        let parties = Parties::range(3).unwrap();
        let me = PartyId::new(1).unwrap();
        let session = SessionId([7; 32]);
        let rounds = alloc::vec![RoundSpec::broadcast(), RoundSpec::broadcast()];
        let mut inbox = Inbox::new(session, me, parties, rounds).unwrap();
        for (sender, byte) in [(2u16, 0xa2u8), (3, 0xa3)] {
            let env = Envelope {
                session,
                round: 2,
                sender: PartyId::new(sender).unwrap(),
                recipient: Recipient::All,
                payload: SessionIdMessage::Reveal([byte; 32]),
            };
            assert_eq!(inbox.receive(env).unwrap(), Received::Stored);
        }
        inbox
    }

    fn encoded(inbox: &Inbox<SessionIdMessage>) -> Vec<u8> {
        let mut w = Writer::new();
        inbox.encode(&mut w);
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Inbox<SessionIdMessage>, DecodeError> {
        let rounds = alloc::vec![RoundSpec::broadcast(), RoundSpec::broadcast()];
        Inbox::decode(&mut Reader::new(bytes), rounds)
    }

    /// The inbox state has one encoding: entries in key order only. The same two pending
    /// messages (or two digests) in the other order are refused, not silently re-sorted (a
    /// fuzzing find: the re-encoding of such a state differed from its input).
    #[test]
    fn inbox_entries_must_be_in_key_order() {
        let inbox = inbox_with_two_pending();
        let bytes = encoded(&inbox);
        let back = decode(&bytes).unwrap();
        assert_eq!(encoded(&back), bytes);
        // Layout: session 32 ‖ me 2 ‖ parties (2 + 3·2) ‖ current 2 ‖ u32 n ‖ entries ‖ u32 m ‖ …
        let start = 32 + 2 + 8 + 2 + 4;
        let entry = 2 + 2 + 4 + (4 + 1 + 32);
        let mut pending = bytes.clone();
        let (a, b) = (start..start + entry, start + entry..start + 2 * entry);
        let first = pending[a.clone()].to_vec();
        pending.copy_within(b.clone(), a.start);
        pending[b.start..b.end].copy_from_slice(&first);
        assert_ne!(pending, bytes);
        assert_eq!(decode(&pending).err(), Some(DecodeError::InvalidValue));
        let seen = start + 2 * entry + 4;
        let mut digests = bytes.clone();
        let first = digests[seen..seen + 36].to_vec();
        digests.copy_within(seen + 36..seen + 72, seen);
        digests[seen + 36..seen + 72].copy_from_slice(&first);
        assert_ne!(digests, bytes);
        assert_eq!(decode(&digests).err(), Some(DecodeError::InvalidValue));
    }
}
