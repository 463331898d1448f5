//! A deterministic simulator for [`Protocol`] machines (feature `test-utils`).
//!
//! It runs a set of machines to completion with a seeded RNG, moving **encoded** messages (so
//! every run also exercises the wire format), and can drop, duplicate, delay, reorder, tamper
//! with, re-address and replay messages, and crash a party and restore it from its serialized
//! state. Protocol crates use it for their adversarial tests.
//!
//! ```
//! use wallet_types::sim::{Fault, FaultRule, Simulator};
//! use wallet_types::session_id::SessionIdAgreement;
//! use wallet_types::{Parties, SessionId};
//!
//! let parties = Parties::range(3).unwrap();
//! let mut sim = Simulator::new(42);
//! for p in parties.iter() {
//!     let m = SessionIdAgreement::new(SessionId([7; 32]), p, parties.clone(), sim.rng()).unwrap();
//!     sim.add(m);
//! }
//! sim.rule(FaultRule::any(Fault::Duplicate).times(3));
//! let out = sim.run();
//! assert_eq!(out.outputs.len(), 3);
//! ```

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::error::{Error, ErrorKind};
use crate::message::{Envelope, Recipient};
use crate::party::{PartyId, SessionId};
use crate::protocol::{Protocol, Step};
use crate::wire::WireObject;

/// A message in flight: the encoded payload and the party it is being delivered to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// The recipient of this copy (a broadcast is fanned out into one copy per recipient).
    pub to: PartyId,
    /// The envelope with the encoded payload.
    pub envelope: Envelope<Vec<u8>>,
}

type TamperFn = Box<dyn FnMut(&mut InFlight, &mut ChaCha20Rng)>;

/// What to do to a matching message.
pub enum Fault {
    /// Never deliver it.
    Drop,
    /// Deliver it twice.
    Duplicate,
    /// Put it back at the end of the queue (delivered after everything sent so far).
    Delay,
    /// Flip one random bit of the encoded payload.
    FlipBit,
    /// Change the message by a function (typed tampering, re-addressing, …).
    Tamper(TamperFn),
    /// Claim it came from another party (a broken or hostile transport).
    WrongSender(PartyId),
    /// Deliver it with another session id.
    WrongSession(SessionId),
}

impl core::fmt::Debug for Fault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Drop => f.write_str("Drop"),
            Self::Duplicate => f.write_str("Duplicate"),
            Self::Delay => f.write_str("Delay"),
            Self::FlipBit => f.write_str("FlipBit"),
            Self::Tamper(_) => f.write_str("Tamper(..)"),
            Self::WrongSender(p) => write!(f, "WrongSender({p})"),
            Self::WrongSession(s) => write!(f, "WrongSession({s:?})"),
        }
    }
}

impl Fault {
    /// Typed tampering: decode the payload as `M`, apply `f`, re-encode.
    pub fn tamper_payload<M: WireObject + 'static>(mut f: impl FnMut(&mut M) + 'static) -> Self {
        Self::Tamper(Box::new(move |m: &mut InFlight, _rng: &mut ChaCha20Rng| {
            if let Ok(mut msg) = M::from_bytes(&m.envelope.payload) {
                f(&mut msg);
                m.envelope.payload = msg.to_bytes();
            }
        }))
    }

    /// Replace the payload with other bytes (e.g. an equivocating second message).
    pub fn replace_payload(bytes: Vec<u8>) -> Self {
        Self::Tamper(Box::new(move |m: &mut InFlight, _rng: &mut ChaCha20Rng| {
            m.envelope.payload = bytes.clone();
        }))
    }
}

/// A fault applied to the messages that match a filter, a bounded number of times.
#[derive(Debug)]
pub struct FaultRule {
    /// Only messages from this sender (as sent, before any fault).
    pub from: Option<PartyId>,
    /// Only copies delivered to this party.
    pub to: Option<PartyId>,
    /// Only messages of this round.
    pub round: Option<u16>,
    /// What to do.
    pub fault: Fault,
    /// How many more messages it applies to.
    pub remaining: usize,
}

impl FaultRule {
    /// Applies `fault` to the next matching message of any sender, recipient and round.
    pub fn any(fault: Fault) -> Self {
        Self {
            from: None,
            to: None,
            round: None,
            fault,
            remaining: 1,
        }
    }
    /// Restricts to one sender.
    pub fn from(mut self, p: PartyId) -> Self {
        self.from = Some(p);
        self
    }
    /// Restricts to one recipient.
    pub fn to(mut self, p: PartyId) -> Self {
        self.to = Some(p);
        self
    }
    /// Restricts to one round.
    pub fn round(mut self, r: u16) -> Self {
        self.round = Some(r);
        self
    }
    /// Applies to the next `n` matching messages.
    pub fn times(mut self, n: usize) -> Self {
        self.remaining = n;
        self
    }
    fn matches(&self, m: &InFlight) -> bool {
        self.remaining > 0
            && self.from.is_none_or(|p| p == m.envelope.sender)
            && self.to.is_none_or(|p| p == m.to)
            && self.round.is_none_or(|r| r == m.envelope.round)
    }
}

/// Where a party ended.
#[derive(Debug)]
enum Status<O> {
    Running,
    Done(O),
    Failed(Error),
}

/// The result of a simulation.
#[derive(Debug)]
pub struct Outcome<O> {
    /// Outputs of the parties that finished.
    pub outputs: BTreeMap<PartyId, O>,
    /// Parties that aborted, with their error.
    pub failures: BTreeMap<PartyId, Error>,
    /// Parties still waiting when no message was left (a dropped message stalls a protocol).
    pub stalled: Vec<PartyId>,
    /// Messages a machine rejected without changing state (wrong session, unknown sender, …).
    pub rejections: Vec<(PartyId, Error)>,
    /// Message copies handed to machines.
    pub deliveries: usize,
    /// Copies that reached a machine after it had finished (answered with `Error::Finished`).
    pub late: usize,
    /// Messages sent (a broadcast counts once).
    pub messages_sent: usize,
    /// Encoded bytes sent (envelope included; a broadcast counts once).
    pub bytes_sent: usize,
}

impl<O> Outcome<O> {
    /// Whether every party finished.
    pub fn all_done(&self, n: usize) -> bool {
        self.outputs.len() == n && self.failures.is_empty()
    }
}

/// How the simulator serializes and restores a machine (a crash): by default through
/// [`WireObject`]; machines whose restore needs more than bytes (a handle on their key store)
/// give their own with [`Simulator::with_restore`].
pub type Restorer<P> = Box<dyn Fn(&P) -> Result<P, crate::wire::DecodeError>>;

/// The simulator.
pub struct Simulator<P: Protocol> {
    restorer: Restorer<P>,
    machines: BTreeMap<PartyId, P>,
    status: BTreeMap<PartyId, Status<P::Output>>,
    queue: VecDeque<InFlight>,
    rng: ChaCha20Rng,
    rules: Vec<FaultRule>,
    reorder: bool,
    restore_every_step: bool,
    crash_after: BTreeMap<PartyId, usize>,
    handled: BTreeMap<PartyId, usize>,
    sent: Vec<Envelope<Vec<u8>>>,
    rejections: Vec<(PartyId, Error)>,
    deliveries: usize,
    late: usize,
    bytes_sent: usize,
    max_deliveries: usize,
}

impl<P: Protocol + WireObject> Simulator<P> {
    /// An empty simulator whose randomness (machines' and faults') comes from `seed`.
    pub fn new(seed: u64) -> Self {
        Self::with_restore(
            seed,
            Box::new(|m: &P| P::from_bytes(m.to_secret_bytes().expose())),
        )
    }
}

impl<P: Protocol> Simulator<P> {
    /// [`Simulator::new`] for machines restored by `restorer` (called with the running machine,
    /// it must serialize it and build a new machine from the bytes alone, plus whatever handle
    /// the old machine holds — never by copying its state in memory).
    pub fn with_restore(seed: u64, restorer: Restorer<P>) -> Self {
        Self {
            restorer,
            machines: BTreeMap::new(),
            status: BTreeMap::new(),
            queue: VecDeque::new(),
            rng: ChaCha20Rng::seed_from_u64(seed),
            rules: Vec::new(),
            reorder: false,
            restore_every_step: false,
            crash_after: BTreeMap::new(),
            handled: BTreeMap::new(),
            sent: Vec::new(),
            rejections: Vec::new(),
            deliveries: 0,
            late: 0,
            bytes_sent: 0,
            max_deliveries: 1_000_000,
        }
    }

    /// The simulator's RNG (use it to construct machines, so the whole run is seeded).
    pub fn rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.rng
    }

    /// Adds a machine.
    pub fn add(&mut self, machine: P) -> &mut Self {
        let id = machine.me();
        self.machines.insert(id, machine);
        self.status.insert(id, Status::Running);
        self
    }

    /// Adds a fault rule (rules are tried in order; the first match applies).
    pub fn rule(&mut self, r: FaultRule) -> &mut Self {
        self.rules.push(r);
        self
    }

    /// Delivers queued messages in random order instead of FIFO.
    pub fn reorder(&mut self, on: bool) -> &mut Self {
        self.reorder = on;
        self
    }

    /// Serializes and restores every machine after every call (tests the state encoding at
    /// every point of the protocol).
    pub fn restore_every_step(&mut self, on: bool) -> &mut Self {
        self.restore_every_step = on;
        self
    }

    /// Crashes `party` after it has handled `n` messages and restores it from its serialized
    /// state.
    pub fn crash_after(&mut self, party: PartyId, n: usize) -> &mut Self {
        self.crash_after.insert(party, n);
        self
    }

    /// Injects a message (e.g. a replay captured from another run) to be delivered to `to`.
    pub fn inject(&mut self, to: PartyId, envelope: Envelope<Vec<u8>>) -> &mut Self {
        self.queue.push_back(InFlight { to, envelope });
        self
    }

    /// Every message sent so far (encoded payloads), in order; for replays into other runs.
    pub fn sent(&self) -> &[Envelope<Vec<u8>>] {
        &self.sent
    }

    /// Direct access to a machine (to inspect its state in tests).
    pub fn machine(&self, p: PartyId) -> Option<&P> {
        self.machines.get(&p)
    }

    fn enqueue(&mut self, out: Vec<Envelope<P::Message>>) {
        for env in out {
            let env = env.map(|m| m.to_bytes());
            self.bytes_sent += env.to_bytes().len();
            self.sent.push(env.clone());
            let recipients: Vec<PartyId> = match env.recipient {
                Recipient::All => self
                    .machines
                    .keys()
                    .copied()
                    .filter(|p| *p != env.sender)
                    .collect(),
                Recipient::One(p) => alloc::vec![p],
            };
            for to in recipients {
                self.queue.push_back(InFlight {
                    to,
                    envelope: env.clone(),
                });
            }
        }
    }

    fn record(&mut self, p: PartyId, r: Result<Step<P::Message, P::Output>, Error>) {
        match r {
            Ok(Step::Continue(out)) => self.enqueue(out),
            Ok(Step::Done(out, o)) => {
                self.enqueue(out);
                self.status.insert(p, Status::Done(o));
            }
            Err(e) if e.kind() == ErrorKind::Rejected => self.rejections.push((p, e)),
            Err(e) => {
                match self.status.get(&p) {
                    Some(Status::Running) => {
                        self.status.insert(p, Status::Failed(e));
                    }
                    // A late copy (a duplicate) reaching a finished machine.
                    Some(Status::Done(_)) if e == Error::Finished => self.late += 1,
                    _ => self.rejections.push((p, e)),
                }
            }
        }
    }

    fn restore(&mut self, p: PartyId) {
        if let Some(m) = self.machines.get(&p) {
            match (self.restorer)(m) {
                Ok(restored) => {
                    self.machines.insert(p, restored);
                }
                Err(e) => {
                    self.status.insert(
                        p,
                        Status::Failed(Error::Decode {
                            sender: p,
                            error: e,
                        }),
                    );
                }
            }
        }
    }

    fn apply_faults(&mut self, mut m: InFlight) -> Vec<InFlight> {
        let Some(rule) = self.rules.iter_mut().find(|r| r.matches(&m)) else {
            return alloc::vec![m];
        };
        rule.remaining -= 1;
        match &mut rule.fault {
            Fault::Drop => Vec::new(),
            Fault::Duplicate => alloc::vec![m.clone(), m],
            Fault::Delay => {
                self.queue.push_back(m);
                Vec::new()
            }
            Fault::FlipBit => {
                let n = m.envelope.payload.len();
                if n > 0 {
                    let i = (self.rng.next_u64() % n as u64) as usize;
                    let bit = (self.rng.next_u32() % 8) as u8;
                    if let Some(b) = m.envelope.payload.get_mut(i) {
                        *b ^= 1 << bit;
                    }
                }
                alloc::vec![m]
            }
            Fault::Tamper(f) => {
                f(&mut m, &mut self.rng);
                alloc::vec![m]
            }
            Fault::WrongSender(p) => {
                m.envelope.sender = *p;
                alloc::vec![m]
            }
            Fault::WrongSession(s) => {
                m.envelope.session = *s;
                alloc::vec![m]
            }
        }
    }

    fn deliver(&mut self, m: InFlight) {
        let to = m.to;
        if !matches!(
            self.status.get(&to),
            Some(Status::Running | Status::Done(_))
        ) {
            return;
        }
        let Some(machine) = self.machines.get_mut(&to) else {
            return;
        };
        self.deliveries += 1;
        let sender = m.envelope.sender;
        let decoded = match P::Message::from_bytes(&m.envelope.payload) {
            Ok(d) => d,
            Err(error) => {
                // The transport authenticated the sender: an undecodable payload is its fault.
                let e = Error::Decode { sender, error };
                self.record(to, Err(e));
                return;
            }
        };
        let r = machine.handle(m.envelope.map(|_| decoded), &mut self.rng);
        self.record(to, r);
        let count = self.handled.entry(to).or_insert(0);
        *count += 1;
        let crash = self.crash_after.get(&to) == Some(count);
        if crash || self.restore_every_step {
            self.restore(to);
        }
    }

    /// Starts every machine and delivers messages until none is left.
    pub fn run(&mut self) -> Outcome<P::Output> {
        let ids: Vec<PartyId> = self.machines.keys().copied().collect();
        for p in &ids {
            if let Some(m) = self.machines.get_mut(p) {
                let r = m.start(&mut self.rng);
                self.record(*p, r);
            }
            if self.restore_every_step {
                self.restore(*p);
            }
        }
        self.resume()
    }

    /// Delivers messages until none is left (after [`Simulator::run`] and later injections).
    pub fn resume(&mut self) -> Outcome<P::Output> {
        let mut steps = 0;
        while steps < self.max_deliveries {
            let next = if self.reorder && !self.queue.is_empty() {
                let i = (self.rng.next_u64() % self.queue.len() as u64) as usize;
                self.queue.remove(i)
            } else {
                self.queue.pop_front()
            };
            let Some(m) = next else { break };
            steps += 1;
            for copy in self.apply_faults(m) {
                self.deliver(copy);
            }
        }
        self.outcome()
    }

    fn outcome(&mut self) -> Outcome<P::Output> {
        let mut outputs = BTreeMap::new();
        let mut failures = BTreeMap::new();
        let mut stalled = Vec::new();
        for (p, s) in core::mem::take(&mut self.status) {
            match s {
                Status::Running => {
                    stalled.push(p);
                    self.status.insert(p, Status::Running);
                }
                Status::Done(o) => {
                    outputs.insert(p, o);
                }
                Status::Failed(e) => {
                    failures.insert(p, e);
                }
            }
        }
        for p in outputs.keys().chain(failures.keys()) {
            self.machines.remove(p);
        }
        Outcome {
            outputs,
            failures,
            stalled,
            rejections: core::mem::take(&mut self.rejections),
            deliveries: self.deliveries,
            late: self.late,
            messages_sent: self.sent.len(),
            bytes_sent: self.bytes_sent,
        }
    }
}
