//! Retrying the confirmation of an unconfirmed result ([`crate::termination`]).
//!
//! A key generation or refresh that ended [`Termination::Unconfirmed`] somewhere left a result
//! that every party may hold but not every party knows the others hold. `Reconfirm` runs the
//! same two closing rounds again, in a fresh session, on the transcript hash alone: every party
//! that holds a result under the hash — Confirmed or not — takes part.
//!
//! 1. **Confirm** (broadcast): the transcript hash `h`.
//! 2. **Acknowledge** (broadcast): `Ack(h)` if every confirmation equals `h`, else `Decline(h)`.
//!
//! The output is a `Termination<()>` with the same guarantees as the original run's; feed it to
//! [`Unconfirmed::settle`] to turn a kept result into a confirmed one. Run it only while holding
//! a result under `h`: an acknowledgement tells the others they may delete their old shares.
//!
//! ```
//! use wallet_types::reconfirm::Reconfirm;
//! use wallet_types::{Parties, Protocol, Recipient, SessionId, Step, Unconfirmed};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let parties = Parties::range(3).unwrap();
//! // Party 1 kept an unconfirmed result under `h` (every party holds one under `h`).
//! let h = [9; 32];
//! let kept = Unconfirmed::new("new share of party 1", h, true, vec![]);
//! let mut machines: Vec<Reconfirm> = parties.iter()
//!     .map(|p| Reconfirm::new(SessionId([4; 32]), p, parties.clone(), h))
//!     .collect::<Result<_, _>>()?;
//! let mut queue = Vec::new();
//! for m in machines.iter_mut() {
//!     queue.extend(m.start(&mut rng)?.messages().to_vec());
//! }
//! let mut outputs = Vec::new();
//! while let Some(env) = queue.pop() {
//!     for m in machines.iter_mut().filter(|m| m.me() != env.sender) {
//!         match m.handle(env.clone(), &mut rng)? {
//!             Step::Continue(out) => queue.extend(out),
//!             Step::Done(out, o) => { queue.extend(out); outputs.push((m.me(), o)); }
//!         }
//!     }
//! }
//! let (_, retry) = outputs.iter().find(|(p, _)| p.get() == 1).unwrap();
//! assert!(kept.settle(retry).is_confirmed());
//! # Ok::<(), wallet_types::Error>(())
//! ```

use alloc::vec;
use alloc::vec::Vec;

use rand_core::CryptoRng;

use crate::CurveId;
use crate::error::{Error, ErrorKind, ParamError};
use crate::message::{Envelope, Recipient};
use crate::party::{Parties, PartyId, SessionId};
use crate::protocol::{Inbox, Lifecycle, Protocol, RoundMessage, RoundSpec, Step};
use crate::termination::{
    Acknowledgement, Stopped, Termination, Unconfirmed, mismatched_confirmations,
};
use crate::wire::{DecodeError, HEADER_LEN, ObjectKind, Reader, WireObject, Writer};

/// A message of [`Reconfirm`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReconfirmMessage {
    /// Round 1 (broadcast): the transcript hash this party holds a result under.
    Confirm([u8; 32]),
    /// Round 2 (broadcast): the acknowledgement.
    Acknowledge(Acknowledgement),
}

impl RoundMessage for ReconfirmMessage {
    fn round(&self) -> u16 {
        match self {
            Self::Confirm(_) => 1,
            Self::Acknowledge(_) => 2,
        }
    }
}

/// Body: `tag u8` then `1`: `hash[32]`; `2`: acknowledgement (`u8 verdict || hash[32]`).
impl WireObject for ReconfirmMessage {
    const KIND: ObjectKind = ObjectKind::RECONFIRM_MESSAGE;
    const MAX_LEN: usize = HEADER_LEN + 1 + Acknowledgement::LEN;
    const CURVE: Option<CurveId> = None;

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Confirm(h) => {
                w.u8(1);
                w.bytes(h);
            }
            Self::Acknowledge(a) => {
                w.u8(2);
                a.encode(w);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Confirm(r.array()?)),
            2 => Ok(Self::Acknowledge(Acknowledgement::decode(r)?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

fn rounds() -> Vec<RoundSpec> {
    vec![RoundSpec::broadcast(), RoundSpec::broadcast()]
}

struct State {
    inbox: Inbox<ReconfirmMessage>,
    hash: [u8; 32],
}

type ReconfirmStep = Step<ReconfirmMessage, Termination<()>>;

impl State {
    /// Round 2 is current once this party has acknowledged.
    fn acknowledged(&self) -> bool {
        self.inbox.current_round() >= 2
    }

    fn conclude(&self, acknowledged: bool, disagreeing: Vec<PartyId>) -> ReconfirmStep {
        let out = if acknowledged {
            Vec::new()
        } else {
            vec![self.inbox.envelope(
                2,
                Recipient::All,
                ReconfirmMessage::Acknowledge(Acknowledgement::Decline(self.hash)),
            )]
        };
        Step::Done(
            out,
            Termination::Unconfirmed(Unconfirmed::new((), self.hash, acknowledged, disagreeing)),
        )
    }

    fn advance(&mut self) -> ReconfirmStep {
        let mut out = Vec::new();
        loop {
            let round = self.inbox.current_round();
            let Some(msgs) = self.inbox.take_current() else {
                return Step::Continue(out);
            };
            if round == 1 {
                let bad = mismatched_confirmations(
                    &self.hash,
                    msgs.iter().map(|(p, m)| match m {
                        ReconfirmMessage::Confirm(h) => (*p, Some(*h)),
                        ReconfirmMessage::Acknowledge(_) => (*p, None),
                    }),
                );
                if !bad.is_empty() {
                    return self.conclude(false, bad);
                }
                out.push(self.inbox.envelope(
                    2,
                    Recipient::All,
                    ReconfirmMessage::Acknowledge(Acknowledgement::Ack(self.hash)),
                ));
            } else {
                let t = Termination::from_acknowledgements(
                    (),
                    self.hash,
                    msgs.iter().map(|(p, m)| match m {
                        ReconfirmMessage::Acknowledge(a) => (*p, Some(a)),
                        ReconfirmMessage::Confirm(_) => (*p, None),
                    }),
                );
                return Step::Done(out, t);
            }
        }
    }
}

/// One party of a retried confirmation (see the [module docs](self)).
pub struct Reconfirm {
    me: PartyId,
    life: Lifecycle<State>,
}

impl core::fmt::Debug for Reconfirm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reconfirm")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl Reconfirm {
    /// A retry of the confirmation of `transcript_hash` by `me` among `parties` (all holders of
    /// the result, at least two) in a fresh, agreed `session`.
    pub fn new(
        session: SessionId,
        me: PartyId,
        parties: Parties,
        transcript_hash: [u8; 32],
    ) -> Result<Self, Error> {
        if parties.len() < 2 {
            return Err(ParamError::TooFewParties {
                needed: 2,
                given: parties.len(),
            }
            .into());
        }
        let inbox = Inbox::new(session, me, parties, rounds())?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                hash: transcript_hash,
            }),
        })
    }

    /// Ends a retry that stopped making progress (the caller's timeout): unconfirmed, every
    /// other party listed, with a `Decline` to send if this party had not acknowledged yet.
    /// `None` (the machine unchanged) when it was not started or is over.
    pub fn stop_waiting(&mut self) -> Option<Stopped<ReconfirmMessage, ()>> {
        match core::mem::replace(&mut self.life, Lifecycle::Finished) {
            Lifecycle::Running(s) => {
                let others = s.inbox.parties().others(self.me).collect();
                match s.conclude(s.acknowledged(), others) {
                    Step::Done(out, Termination::Unconfirmed(u)) => Some((out, u)),
                    _ => None,
                }
            }
            other => {
                self.life = other;
                None
            }
        }
    }
}

impl Protocol for Reconfirm {
    type Message = ReconfirmMessage;
    type Output = Termination<()>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(&mut self, _rng: &mut R) -> Result<ReconfirmStep, Error> {
        self.life.start(|s| {
            let env = s
                .inbox
                .envelope(1, Recipient::All, ReconfirmMessage::Confirm(s.hash));
            Ok((Step::Continue(vec![env]), false))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<ReconfirmMessage>,
        _rng: &mut R,
    ) -> Result<ReconfirmStep, Error> {
        self.life.step(|s| match s.inbox.receive(incoming) {
            Ok(_) => Ok(s.advance()),
            // An equivocation or a misplaced message ends the retry unconfirmed, naming the
            // sender, instead of aborting.
            Err(e) if e.kind() == ErrorKind::Misbehaviour => {
                Ok(s.conclude(s.acknowledged(), e.culprits().to_vec()))
            }
            Err(e) => Err(e),
        })
    }
}

/// `me party || lifecycle u8` and, while created / running: `inbox || hash[32]` (`SPEC.md` §6).
impl WireObject for Reconfirm {
    const KIND: ObjectKind = ObjectKind::RECONFIRM_STATE;
    const MAX_LEN: usize = 1 << 20;
    const CURVE: Option<CurveId> = None;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        if let Some(s) = self.life.state() {
            s.inbox.encode(w);
            w.bytes(&s.hash);
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::decode(r, rounds())?;
                if inbox.me() != me || inbox.parties().len() < 2 {
                    return Err(DecodeError::InvalidValue);
                }
                let s = State {
                    inbox,
                    hash: r.array()?,
                };
                if tag == 0 {
                    Lifecycle::Created(s)
                } else {
                    Lifecycle::Running(s)
                }
            }
            2 => Lifecycle::Finished,
            3 => Lifecycle::Aborted,
            t => return Err(DecodeError::InvalidTag(t)),
        };
        Ok(Self { me, life })
    }
}
