//! Commit-then-reveal agreement on a fresh [`SessionId`] among `n` parties.
//!
//! Every protocol run needs a session id that no single party chose (so none can replay an old
//! run's messages into it, or steer it). This small protocol produces one; it is also the first
//! real machine through [`Protocol`], exercising the rules every machine follows.
//!
//! Rounds (all broadcast), in the context of a caller-supplied `context` id (e.g. a hash of the
//! application, wallet and party set; it only separates unrelated agreements):
//!
//! 1. **Commit.** Party `i` samples `rᵢ` (32 random bytes) and broadcasts
//!    `cᵢ = T(context; "commit", i, rᵢ)`.
//! 2. **Reveal.** After all commitments: broadcast `rᵢ`. Each party checks `cⱼ` opens to `rⱼ`
//!    for every `j` (else blames `j`: [`Reason::CommitmentMismatch`]).
//! 3. **Confirm.** `sid = T(context; all (j, cⱼ, rⱼ) in id order)`. Broadcast `sid`; a party whose
//!    `sid` differs saw other commitments or reveals than we did (an equivocating broadcaster, or
//!    itself lying): it is blamed ([`Reason::ConfirmationMismatch`]) and no output is returned.
//!
//! Because every party commits before any reveals, no party can choose its `rᵢ` as a function of
//! the others': the result is uniformly random if at least one party is honest.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use rand_core::CryptoRng;

use crate::CurveId;
use crate::error::{Error, Reason};
use crate::message::{Envelope, Recipient};
use crate::party::{Parties, PartyId, SessionId};
use crate::protocol::{Inbox, Lifecycle, Protocol, RoundMessage, RoundSpec, Step};
use crate::secret::SecretBytes;
use crate::transcript::Transcript;
use crate::wire::{DecodeError, HEADER_LEN, ObjectKind, Reader, WireObject, Writer};

const PROTOCOL: &str = "wallet-types/session-id";
const VERSION: u16 = 1;

/// A message of the session-id agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionIdMessage {
    /// Round 1: the commitment `cᵢ`.
    Commit([u8; 32]),
    /// Round 2: the opening `rᵢ`.
    Reveal([u8; 32]),
    /// Round 3: the session id this party computed.
    Confirm([u8; 32]),
}

impl RoundMessage for SessionIdMessage {
    fn round(&self) -> u16 {
        match self {
            Self::Commit(_) => 1,
            Self::Reveal(_) => 2,
            Self::Confirm(_) => 3,
        }
    }
}

/// Body: `tag (1 = commit, 2 = reveal, 3 = confirm) || value[32]`.
impl WireObject for SessionIdMessage {
    const KIND: ObjectKind = ObjectKind::SESSION_ID_MESSAGE;
    const MAX_LEN: usize = HEADER_LEN + 33;
    const CURVE: Option<CurveId> = None;

    fn encode_body(&self, w: &mut Writer) {
        let (tag, v) = match self {
            Self::Commit(v) => (1, v),
            Self::Reveal(v) => (2, v),
            Self::Confirm(v) => (3, v),
        };
        w.u8(tag);
        w.bytes(v);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.u8()?;
        let v = r.array::<32>()?;
        match tag {
            1 => Ok(Self::Commit(v)),
            2 => Ok(Self::Reveal(v)),
            3 => Ok(Self::Confirm(v)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

fn rounds() -> Vec<RoundSpec> {
    vec![
        RoundSpec::broadcast(),
        RoundSpec::broadcast(),
        RoundSpec::broadcast(),
    ]
}

struct State {
    context: SessionId,
    inbox: Inbox<SessionIdMessage>,
    nonce: SecretBytes<32>,
    commitments: BTreeMap<PartyId, [u8; 32]>,
    reveals: BTreeMap<PartyId, [u8; 32]>,
    result: Option<SessionId>,
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("State")
            .field("round", &self.inbox.current_round())
            .finish_non_exhaustive()
    }
}

fn transcript(context: &SessionId, parties: &Parties) -> Transcript {
    let mut t = Transcript::new(PROTOCOL, VERSION, None, context);
    t.append("parties", &{
        let mut w = Writer::new();
        w.parties(parties);
        w.finish()
    });
    t
}

fn commitment(context: &SessionId, parties: &Parties, who: PartyId, r: &[u8; 32]) -> [u8; 32] {
    let mut t = transcript(context, parties);
    t.append_party("party", who);
    t.append("nonce", r);
    t.output32("commit")
}

/// One party of the session-id agreement.
#[derive(Debug)]
pub struct SessionIdAgreement {
    me: PartyId,
    life: Lifecycle<State>,
}

impl SessionIdAgreement {
    /// A machine for `me` among `parties` (which must contain `me` and at least one other
    /// party), in the given `context`. The nonce is drawn here from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(
        context: SessionId,
        me: PartyId,
        parties: Parties,
        rng: &mut R,
    ) -> Result<Self, Error> {
        if parties.len() < 2 {
            return Err(crate::error::ParamError::TooFewParties {
                needed: 2,
                given: parties.len(),
            }
            .into());
        }
        let inbox = Inbox::new(context, me, parties, rounds())?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                context,
                inbox,
                nonce: SecretBytes::random(rng),
                commitments: BTreeMap::new(),
                reveals: BTreeMap::new(),
                result: None,
            }),
        })
    }
}

impl State {
    fn advance(&mut self) -> Result<(Vec<Envelope<SessionIdMessage>>, Option<SessionId>), Error> {
        let mut out = Vec::new();
        while let Some(msgs) = self.inbox.take_current() {
            match self.inbox.current_round() - 1 {
                1 => {
                    for (p, m) in msgs {
                        let SessionIdMessage::Commit(c) = m else {
                            return Err(Error::blame(p, Reason::MalformedMessage));
                        };
                        self.commitments.insert(p, c);
                    }
                    out.push(self.inbox.envelope(
                        2,
                        Recipient::All,
                        SessionIdMessage::Reveal(*self.nonce.expose()),
                    ));
                }
                2 => {
                    let parties = self.inbox.parties().clone();
                    let mut bad = Vec::new();
                    for (p, m) in msgs {
                        let SessionIdMessage::Reveal(r) = m else {
                            return Err(Error::blame(p, Reason::MalformedMessage));
                        };
                        let c = self.commitments.get(&p).ok_or(Error::Internal)?;
                        if commitment(&self.context, &parties, p, &r) != *c {
                            bad.push(p);
                        }
                        self.reveals.insert(p, r);
                    }
                    if !bad.is_empty() {
                        return Err(Error::blame_all(bad, Reason::CommitmentMismatch));
                    }
                    let me = self.inbox.me();
                    self.reveals.insert(me, *self.nonce.expose());
                    let mut t = transcript(&self.context, &parties);
                    for p in parties.iter() {
                        let c = self.commitments.get(&p).ok_or(Error::Internal)?;
                        let r = self.reveals.get(&p).ok_or(Error::Internal)?;
                        t.append_party("party", p);
                        t.append("commitment", c);
                        t.append("nonce", r);
                    }
                    let sid = SessionId(t.output32("session-id"));
                    self.result = Some(sid);
                    out.push(self.inbox.envelope(
                        3,
                        Recipient::All,
                        SessionIdMessage::Confirm(sid.0),
                    ));
                }
                3 => {
                    let sid = self.result.ok_or(Error::Internal)?;
                    let mut bad = Vec::new();
                    for (p, m) in msgs {
                        match m {
                            SessionIdMessage::Confirm(s) if s == sid.0 => {}
                            SessionIdMessage::Confirm(_) => bad.push(p),
                            _ => return Err(Error::blame(p, Reason::MalformedMessage)),
                        }
                    }
                    if !bad.is_empty() {
                        return Err(Error::blame_all(bad, Reason::ConfirmationMismatch));
                    }
                    return Ok((out, Some(sid)));
                }
                _ => return Err(Error::Internal),
            }
        }
        Ok((out, None))
    }
}

impl Protocol for SessionIdAgreement {
    type Message = SessionIdMessage;
    type Output = SessionId;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<SessionIdMessage, SessionId>, Error> {
        self.life.start(|s| {
            let me = s.inbox.me();
            let parties = s.inbox.parties().clone();
            let c = commitment(&s.context, &parties, me, s.nonce.expose());
            s.commitments.insert(me, c);
            Ok((
                Step::Continue(vec![s.inbox.envelope(
                    1,
                    Recipient::All,
                    SessionIdMessage::Commit(c),
                )]),
                false,
            ))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<SessionIdMessage>,
        _rng: &mut R,
    ) -> Result<Step<SessionIdMessage, SessionId>, Error> {
        self.life.step(|s| {
            s.inbox.receive(incoming)?;
            let (out, output) = s.advance()?;
            Ok(Step::from_round(out, output))
        })
    }
}

/// State body: `lifecycle tag u8`; if created (0) or running (1): `context[32] || inbox ||
/// nonce[32] || has_result u8 || [result[32]] || u16 n || n × (party, commitment[32]) ||
/// u16 m || m × (party, reveal[32])`. Holds the secret nonce until it is revealed: a
/// [`WireObject::SECRET`] object (encode with `to_secret_bytes`, store it encrypted).
impl WireObject for SessionIdAgreement {
    const KIND: ObjectKind = ObjectKind::SESSION_ID_STATE;
    const MAX_LEN: usize = 1 << 20;
    const CURVE: Option<CurveId> = None;
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        if let Some(s) = self.life.state() {
            w.session(&s.context);
            s.inbox.encode(w);
            w.bytes(s.nonce.expose());
            match s.result {
                Some(r) => {
                    w.u8(1);
                    w.session(&r);
                }
                None => w.u8(0),
            }
            for map in [&s.commitments, &s.reveals] {
                w.u16(map.len() as u16);
                for (p, v) in map {
                    w.party(*p);
                    w.bytes(v);
                }
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let context = r.session()?;
                let inbox = Inbox::decode(r, rounds())?;
                if inbox.me() != me {
                    return Err(DecodeError::InvalidValue);
                }
                let nonce = SecretBytes::new(r.array::<32>()?);
                let result = if r.bool()? { Some(r.session()?) } else { None };
                let mut maps = [BTreeMap::new(), BTreeMap::new()];
                for map in maps.iter_mut() {
                    let n = r.count16(inbox.parties().len(), 34)?;
                    for _ in 0..n {
                        let p = r.party()?;
                        if !inbox.parties().contains(p) {
                            return Err(DecodeError::InvalidValue);
                        }
                        if map.insert(p, r.array::<32>()?).is_some() {
                            return Err(DecodeError::InvalidValue);
                        }
                    }
                }
                let [commitments, reveals] = maps;
                let s = State {
                    context,
                    inbox,
                    nonce,
                    commitments,
                    reveals,
                    result,
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
