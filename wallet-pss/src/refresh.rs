//! Distributed proactive refresh (Herzberg, Jarecki, Krawczyk, Yung 1995, §3 "share renewal"),
//! with acknowledged termination.
//!
//! The holders of a `(t, n)` sharing re-randomise their shares without changing the secret:
//! every party deals a Feldman-verified sharing of **zero** and adds every sub-share it receives
//! to its share. Public key, threshold and party set stay the same; the shares (and share
//! commitments) are new and belong to epoch `e + 1`. Shares of different epochs do not combine:
//! `t − 1` old shares plus anything of the new epoch reveal nothing, which is the point — an
//! attacker must collect `t` shares *within one epoch*.
//!
//! Rounds:
//!
//! 1. **Deal** (point-to-point): party `i` draws `δᵢ` of degree `t − 1` with `δᵢ(0) = 0`, sends
//!    party `j` the commitments `Δᵢ = (δᵢ,ₖ·G)ₖ` and `δᵢ(j)`. Party `j` checks `Δᵢ` has `t`
//!    entries ([`Reason::MalformedMessage`]), that `Δᵢ,₀` is the identity (otherwise the key
//!    would change: [`Reason::PublicKeyMismatch`]) and that `δᵢ(j)·G` matches `Δᵢ` at `j`
//!    ([`Reason::InvalidShare`]). New share `s'ⱼ = sⱼ + Σᵢ δᵢ(j)`; new commitments `C + Σᵢ Δᵢ`.
//!    A failure here aborts, naming the dealer: nothing has been computed yet, and no party can
//!    finish without this party's acknowledgement.
//! 2. **Confirm** (broadcast): the transcript hash `h` of the old sharing (epoch, parties,
//!    threshold, **every old commitment**) and every `Δᵢ`. Round 1 is point-to-point, so a
//!    dealer could show different commitments to different parties; they then hold different
//!    `h`.
//! 3. **Acknowledge** (broadcast): `Ack(h)` if every confirmation equals this party's `h`, else
//!    `Decline(h)` ([`wallet_types::termination`]).
//!
//! **Termination (invariant 11).** The output is a [`Termination`]: `Confirmed` only when every
//! other party acknowledged the same `h`. Any failure after round 1 — a mismatching, declined or
//! missing confirmation or acknowledgement, an equivocation — ends the machine `Unconfirmed`
//! with the new share **kept**, naming the parties whose agreement is missing; if messages stop
//! coming, [`Refresh::stop_waiting`] ends it the same way. A party below the threshold can
//! therefore not make an honest party lose the key: no honest party is Confirmed unless every
//! honest party holds the new share under the same `h`.
//!
//! The machine never takes the caller's old share: [`Refresh::new`] borrows it and deals at
//! once, so the machine holds only its dealing and `sᵢ + δᵢ(i)`. Whatever happens to the run —
//! an error, an abort, an unconfirmed end — the caller still has its old [`KeyShare`].
//! **Deletion rule:** delete the old share only on a Confirmed outcome, and preferably only
//! after a test signature with the new shares ([`release_old_share`]); on an unconfirmed one keep
//! both, as the table in [`wallet_types::termination`] says.
//!
//! A refresh of a 1-of-n key changes nothing (every share is the whole key, and the only
//! degree-0 sharing of zero is zero): it is refused unless asked for
//! ([`Refresh::new_allowing_threshold_one`]).
//!
//! The transport must encrypt point-to-point messages (they carry sub-shares); use
//! [`crate::ecies`] where it does not. Rounds 2 and 3 need no reliable broadcast: an
//! inconsistent broadcast is what the acknowledgement round detects.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! use wallet_pss::{KeyShare, Refresh};
//! use wallet_sss::Polynomial;
//! use wallet_types::{sim::Simulator, Parties, Secp256k1, SecretScalar, SessionId};
//! # let f = Polynomial::<Secp256k1>::random(SecretScalar::random(&mut rng), 2, &mut rng)?;
//! # let parties = Parties::range(3)?;
//! # let old: Vec<KeyShare<Secp256k1>> = parties.iter()
//! #     .map(|p| KeyShare::new(p, 2, parties.clone(), f.share_for(p), f.commit(), 0))
//! #     .collect::<Result<_, _>>()?;
//! // `old`: the three shares of epoch 0. Each party lends its share to its machine.
//! let session = SessionId::random(&mut rng); // fresh, agreed
//! let mut sim = Simulator::new(7); // in production: any transport
//! for k in &old {
//!     let machine = Refresh::new(session, k, sim.rng())?;
//!     sim.add(machine);
//! }
//! let out = sim.run();
//! // Every party acknowledged the same transcript hash: the new shares may replace the old
//! // ones (ideally after a test signature with the new shares, see `release_old_share`).
//! assert!(out.outputs.values().all(|o| o.may_delete_old_share()));
//! let new: Vec<KeyShare<Secp256k1>> =
//!     out.outputs.into_values().map(|o| o.into_result()).collect();
//! assert!(new.iter().all(|k| k.epoch() == 1 && k.public_key() == old[0].public_key()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Byte layouts: `wallet-pss/SPEC.md` §4.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use rand_core::CryptoRng;
use wallet_sss::{Commitments, Polynomial};
use wallet_types::group::Group;
use wallet_types::termination::mismatched_confirmations;
use wallet_types::{
    Acknowledgement, Curve, CurveId, DecodeError, Envelope, Error, ErrorKind, HEADER_LEN, Inbox,
    Lifecycle, MAX_PARTIES, ObjectKind, ParamError, PartyId, Protocol, Reader, Reason, Recipient,
    RoundMessage, RoundSpec, SecretScalar, SessionId, Step, Stopped, Termination, Transcript,
    Unconfirmed, WireObject, Writer,
};

use crate::key::{KeyShare, read_commitments, write_commitments};

/// Object kind of a refresh message (version 2: deal, confirm, acknowledge; `0x0510`, the
/// two-round message, is retired for refresh).
pub const KIND_REFRESH_MESSAGE: ObjectKind = ObjectKind(0x0512);
/// Object kind of a refresh machine's state (version 2; `0x0511` is retired).
pub const KIND_REFRESH_STATE: ObjectKind = ObjectKind(0x0513);
const PROTOCOL: &str = "wallet-pss/refresh";
const VERSION: u16 = 2;

/// A refresh message: round 1 deals a sharing of zero (point-to-point), round 2 confirms the
/// transcript hash, round 3 acknowledges (or declines) it.
#[derive(Debug)]
pub enum RefreshMessage<C: Curve> {
    /// Round 1 (point-to-point): the dealer's commitments `Δᵢ` and the recipient's sub-share
    /// `δᵢ(j)`.
    Deal {
        /// `Δᵢ`.
        commitments: Commitments<C>,
        /// `δᵢ(j)`.
        sub_share: SecretScalar<C>,
    },
    /// Round 2 (broadcast): the sender's transcript hash.
    Confirm([u8; 32]),
    /// Round 3 (broadcast): the sender's acknowledgement.
    Acknowledge(Acknowledgement),
}

impl<C: Curve> RoundMessage for RefreshMessage<C> {
    fn round(&self) -> u16 {
        match self {
            Self::Deal { .. } => 1,
            Self::Confirm(_) => 2,
            Self::Acknowledge(_) => 3,
        }
    }
}

/// `tag u8` then, for 1 (deal): `commitments || sub_share scalar`; for 2 (confirm):
/// `hash[32]`; for 3 (acknowledge): `u8 verdict || hash[32]` (`SPEC.md` §4).
impl<C: Curve> WireObject for RefreshMessage<C> {
    const KIND: ObjectKind = KIND_REFRESH_MESSAGE;
    const MAX_LEN: usize = HEADER_LEN + 1 + 2 + 33 * MAX_PARTIES + 32;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Deal {
                commitments,
                sub_share,
            } => {
                w.u8(1);
                write_commitments::<C>(w, commitments);
                w.secret_scalar(sub_share);
            }
            Self::Confirm(h) => {
                w.u8(2);
                w.bytes(h);
            }
            Self::Acknowledge(a) => {
                w.u8(3);
                a.encode(w);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Deal {
                commitments: read_commitments::<C>(r)?,
                sub_share: r.secret_scalar::<C>()?,
            }),
            2 => Ok(Self::Confirm(r.array()?)),
            3 => Ok(Self::Acknowledge(Acknowledgement::decode(r)?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

fn rounds() -> Vec<RoundSpec> {
    vec![
        RoundSpec::p2p(),
        RoundSpec::broadcast(),
        RoundSpec::broadcast(),
    ]
}

/// This party's dealing to the others, until `start` sends it.
struct Outgoing<C: Curve> {
    commitments: Commitments<C>,
    sub_shares: BTreeMap<PartyId, SecretScalar<C>>,
}

struct State<C: Curve> {
    inbox: Inbox<RefreshMessage<C>>,
    threshold: usize,
    /// The old sharing's commitments (public) and epoch.
    old_commitments: Commitments<C>,
    epoch: u64,
    outgoing: Option<Outgoing<C>>,
    /// Until round 1: our `Δᵢ` and `sᵢ + δᵢ(i)` (never the old share alone).
    own: Option<(Commitments<C>, SecretScalar<C>)>,
    /// From round 1 on: the new key share and the transcript hash.
    result: Option<(KeyShare<C>, [u8; 32])>,
}

/// One party of a distributed refresh.
pub struct Refresh<C: Curve> {
    me: PartyId,
    life: Lifecycle<State<C>>,
}

impl<C: Curve> core::fmt::Debug for Refresh<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Refresh")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

type RefreshStep<C> = Step<RefreshMessage<C>, Termination<KeyShare<C>>>;

impl<C: Curve> Refresh<C> {
    /// A refresh of `key` among all of its parties in `session` (fresh per refresh, e.g. from
    /// [`wallet_types::session_id`]). Every party of the key must take part.
    ///
    /// The share is only **borrowed**: the party deals here (drawing `δᵢ` from `rng`) and the
    /// machine keeps its dealing and `sᵢ + δᵢ(i)`, never the old share. Keep the old share
    /// until the outcome allows deleting it ([`Termination::may_delete_old_share`]).
    ///
    /// A key of threshold 1 is refused ([`ParamError::InvalidThreshold`]): its refresh changes
    /// no share. [`Refresh::new_allowing_threshold_one`] runs it anyway.
    pub fn new<R: CryptoRng + ?Sized>(
        session: SessionId,
        key: &KeyShare<C>,
        rng: &mut R,
    ) -> Result<Self, Error> {
        if key.threshold() == 1 {
            return Err(ParamError::InvalidThreshold {
                threshold: 1,
                parties: key.parties().len(),
            }
            .into());
        }
        Self::new_allowing_threshold_one(session, key, rng)
    }

    /// [`Refresh::new`] that also accepts a key of threshold 1, whose refresh leaves every
    /// share as it was and only moves the epoch (every share is the whole key). Use it only
    /// when that is what you want.
    pub fn new_allowing_threshold_one<R: CryptoRng + ?Sized>(
        session: SessionId,
        key: &KeyShare<C>,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let me = key.me();
        if key.epoch() == u64::MAX {
            return Err(ParamError::OutOfRange.into());
        }
        let inbox = Inbox::new(session, me, key.parties().clone(), rounds())?;
        let t = key.threshold();
        let delta =
            Polynomial::<C>::random(SecretScalar::zero(), t, rng).map_err(|_| Error::Internal)?;
        let commitments = delta.commit();
        let sub_shares = key
            .parties()
            .others(me)
            .map(|p| (p, delta.share_for(p)))
            .collect();
        let own = SecretScalar::<C>::new(*key.share().expose() + delta.share_for(me).expose());
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                threshold: t,
                old_commitments: key.commitments().clone(),
                epoch: key.epoch(),
                outgoing: Some(Outgoing {
                    commitments: commitments.clone(),
                    sub_shares,
                }),
                own: Some((commitments, own)),
                result: None,
            }),
        })
    }

    /// Ends a machine whose run stopped making progress (a party stays silent; the caller's
    /// timeout is up) without losing what it computed: past round 1 it ends
    /// [`Unconfirmed`] with the new share — and, if this party had not acknowledged yet, a
    /// `Decline` to broadcast, so that it can never be counted later — listing every other
    /// party. `None` with the machine unchanged when it was not started or is over; `None`
    /// with the machine ended when it has no new share yet (nothing to keep: the old share is
    /// the caller's). Later calls answer [`Error::Finished`].
    pub fn stop_waiting(&mut self) -> Option<Stopped<RefreshMessage<C>, KeyShare<C>>> {
        match core::mem::replace(&mut self.life, Lifecycle::Finished) {
            Lifecycle::Running(mut s) => {
                let others = s.inbox.parties().others(self.me).collect();
                let acknowledged = s.acknowledged();
                match s.conclude(Vec::new(), acknowledged, others) {
                    Ok(Step::Done(out, Termination::Unconfirmed(u))) => Some((out, u)),
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

/// The transcript hash: the old sharing and every dealer's commitments (`SPEC.md` §4).
fn transcript_hash<C: Curve>(
    session: &SessionId,
    parties: &wallet_types::Parties,
    threshold: usize,
    epoch: u64,
    old: &Commitments<C>,
    dealings: &BTreeMap<PartyId, Commitments<C>>,
) -> [u8; 32] {
    let mut t = Transcript::new(PROTOCOL, VERSION, Some(C::ID), session);
    let mut w = Writer::new();
    w.parties(parties);
    t.append("parties", &w.finish());
    t.append_u64("threshold", threshold as u64);
    t.append_u64("epoch", epoch);
    for point in old.points() {
        t.append_point::<C>("old-commitment", point);
    }
    for (p, c) in dealings {
        t.append_party("dealer", *p);
        for point in c.points() {
            t.append_point::<C>("commitment", point);
        }
    }
    t.output32("confirm")
}

impl<C: Curve> State<C> {
    /// Round 3 is current once this party has acknowledged.
    fn acknowledged(&self) -> bool {
        self.inbox.current_round() >= 3
    }

    /// Ends the run after round 1 on a failure, keeping the new share; a party that has not
    /// acknowledged yet declines (so that nobody waits for it or counts it).
    fn conclude(
        &mut self,
        mut out: Vec<Envelope<RefreshMessage<C>>>,
        acknowledged: bool,
        disagreeing: Vec<PartyId>,
    ) -> Result<RefreshStep<C>, Error> {
        let (share, h) = self.result.take().ok_or(Error::Internal)?;
        if !acknowledged {
            out.push(self.inbox.envelope(
                3,
                Recipient::All,
                RefreshMessage::Acknowledge(Acknowledgement::Decline(h)),
            ));
        }
        Ok(Step::Done(
            out,
            Termination::Unconfirmed(Unconfirmed::new(share, h, acknowledged, disagreeing)),
        ))
    }

    fn advance(&mut self) -> Result<RefreshStep<C>, Error> {
        let mut out = Vec::new();
        loop {
            let round = self.inbox.current_round();
            let Some(msgs) = self.inbox.take_current() else {
                return Ok(Step::Continue(out));
            };
            match round {
                1 => self.round1(msgs, &mut out)?,
                2 => {
                    let (_, h) = self.result.as_ref().ok_or(Error::Internal)?;
                    let h = *h;
                    let bad = mismatched_confirmations(
                        &h,
                        msgs.iter().map(|(p, m)| match m {
                            RefreshMessage::Confirm(x) => (*p, Some(*x)),
                            // The inbox refuses a message of another round: defensive only.
                            _ => (*p, None),
                        }),
                    );
                    if !bad.is_empty() {
                        return self.conclude(out, false, bad);
                    }
                    out.push(self.inbox.envelope(
                        3,
                        Recipient::All,
                        RefreshMessage::Acknowledge(Acknowledgement::Ack(h)),
                    ));
                }
                3 => {
                    let (share, h) = self.result.take().ok_or(Error::Internal)?;
                    let t = Termination::from_acknowledgements(
                        share,
                        h,
                        msgs.iter().map(|(p, m)| match m {
                            RefreshMessage::Acknowledge(a) => (*p, Some(a)),
                            _ => (*p, None),
                        }),
                    );
                    return Ok(Step::Done(out, t));
                }
                _ => return Err(Error::Internal),
            }
        }
    }

    /// Round 1: verify every dealing, add the sub-shares, confirm.
    fn round1(
        &mut self,
        msgs: BTreeMap<PartyId, RefreshMessage<C>>,
        out: &mut Vec<Envelope<RefreshMessage<C>>>,
    ) -> Result<(), Error> {
        let me = self.inbox.me();
        let t = self.threshold;
        let (own_c, mut new_share) = self.own.take().ok_or(Error::Internal)?;
        let mut dealings = BTreeMap::new();
        let mut malformed = Vec::new();
        let mut key_changers = Vec::new();
        let mut bad_shares = Vec::new();
        for (p, m) in msgs {
            let RefreshMessage::Deal {
                commitments,
                sub_share,
            } = m
            else {
                malformed.push(p);
                continue;
            };
            if commitments.threshold() != t {
                malformed.push(p);
            } else if !bool::from(commitments.public_key().is_identity()) {
                key_changers.push(p);
            } else if !commitments.verify_share(me, &sub_share) {
                bad_shares.push(p);
            } else {
                *new_share.expose_mut() += sub_share.expose();
                dealings.insert(p, commitments);
            }
        }
        for (culprits, reason) in [
            (malformed, Reason::MalformedMessage),
            (key_changers, Reason::PublicKeyMismatch),
            (bad_shares, Reason::InvalidShare),
        ] {
            if !culprits.is_empty() {
                return Err(Error::blame_all(culprits, reason));
            }
        }
        dealings.insert(me, own_c);
        let mut commitments = self.old_commitments.clone();
        for c in dealings.values() {
            commitments = commitments.add(c).map_err(|_| Error::Internal)?;
        }
        let parties = self.inbox.parties().clone();
        let h = transcript_hash(
            self.inbox.session(),
            &parties,
            t,
            self.epoch,
            &self.old_commitments,
            &dealings,
        );
        let next = self.epoch.checked_add(1).ok_or(Error::Internal)?;
        let key = KeyShare::new(me, t, parties, new_share, commitments, next)
            .map_err(|_| Error::Internal)?;
        self.result = Some((key, h));
        out.push(
            self.inbox
                .envelope(2, Recipient::All, RefreshMessage::Confirm(h)),
        );
        Ok(())
    }
}

impl<C: Curve> Protocol for Refresh<C> {
    type Message = RefreshMessage<C>;
    type Output = Termination<KeyShare<C>>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(&mut self, _rng: &mut R) -> Result<RefreshStep<C>, Error> {
        self.life.start(|s| {
            let mut out = Vec::new();
            if let Some(d) = s.outgoing.take() {
                for (j, sub_share) in d.sub_shares {
                    out.push(s.inbox.envelope(
                        1,
                        Recipient::One(j),
                        RefreshMessage::Deal {
                            commitments: d.commitments.clone(),
                            sub_share,
                        },
                    ));
                }
            }
            Ok((Step::Continue(out), false))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<RefreshMessage<C>>,
        _rng: &mut R,
    ) -> Result<RefreshStep<C>, Error> {
        self.life.step(|s| match s.inbox.receive(incoming) {
            Ok(_) => s.advance(),
            // Once the new share exists, a misbehaving party (an equivocation, a message of
            // another round) must not make this party drop it: end unconfirmed, naming it.
            Err(e) if e.kind() == ErrorKind::Misbehaviour && s.result.is_some() => {
                let acknowledged = s.acknowledged();
                s.conclude(Vec::new(), acknowledged, e.culprits().to_vec())
            }
            Err(e) => Err(e),
        })
    }
}

/// `me party || lifecycle u8` and, while created / running: `inbox || u16 t ||
/// old commitments || epoch u64 || has_outgoing bool || [commitments || u16 n ||
/// n × (party || scalar)] || has_own bool || [commitments || scalar] || has_result bool ||
/// [key share body || hash[32]]` (`SPEC.md` §4). Holds secrets: store encrypted.
impl<C: Curve> WireObject for Refresh<C> {
    const KIND: ObjectKind = KIND_REFRESH_STATE;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        if let Some(s) = self.life.state() {
            s.inbox.encode(w);
            w.u16(s.threshold as u16);
            write_commitments::<C>(w, &s.old_commitments);
            w.u64(s.epoch);
            match &s.outgoing {
                Some(d) => {
                    w.bool(true);
                    write_commitments::<C>(w, &d.commitments);
                    w.u16(d.sub_shares.len() as u16);
                    for (p, x) in &d.sub_shares {
                        w.party(*p);
                        w.secret_scalar(x);
                    }
                }
                None => w.bool(false),
            }
            match &s.own {
                Some((c, x)) => {
                    w.bool(true);
                    write_commitments::<C>(w, c);
                    w.secret_scalar(x);
                }
                None => w.bool(false),
            }
            match &s.result {
                Some((k, h)) => {
                    w.bool(true);
                    k.encode_body(w);
                    w.bytes(h);
                }
                None => w.bool(false),
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::decode(r, rounds())?;
                let parties = inbox.parties().clone();
                let threshold = usize::from(r.u16()?);
                let old_commitments = read_commitments::<C>(r)?;
                let epoch = r.u64()?;
                if inbox.me() != me
                    || threshold == 0
                    || threshold > parties.len()
                    || old_commitments.threshold() != threshold
                    || bool::from(old_commitments.public_key().is_identity())
                    || epoch == u64::MAX
                {
                    return Err(DecodeError::InvalidValue);
                }
                let outgoing = if r.bool()? {
                    let commitments = read_commitments::<C>(r)?;
                    let n = r.count16(parties.len(), 2 + C::SCALAR_LEN)?;
                    let mut sub_shares = BTreeMap::new();
                    for _ in 0..n {
                        let p = r.party()?;
                        if p == me
                            || !parties.contains(p)
                            || sub_shares.keys().next_back().is_some_and(|l| *l >= p)
                        {
                            return Err(DecodeError::InvalidValue);
                        }
                        sub_shares.insert(p, r.secret_scalar::<C>()?);
                    }
                    if commitments.threshold() != threshold {
                        return Err(DecodeError::InvalidValue);
                    }
                    Some(Outgoing {
                        commitments,
                        sub_shares,
                    })
                } else {
                    None
                };
                let own = if r.bool()? {
                    let c = read_commitments::<C>(r)?;
                    if c.threshold() != threshold {
                        return Err(DecodeError::InvalidValue);
                    }
                    Some((c, r.secret_scalar::<C>()?))
                } else {
                    None
                };
                let result = if r.bool()? {
                    let k = KeyShare::<C>::decode_body(r)?;
                    if k.me() != me || k.parties() != &parties || k.threshold() != threshold {
                        return Err(DecodeError::InvalidValue);
                    }
                    Some((k, r.array()?))
                } else {
                    None
                };
                let s = State {
                    inbox,
                    threshold,
                    old_commitments,
                    epoch,
                    outgoing,
                    own,
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

// ------------------------------------------------------------------------------------------
// Deleting the old share
// ------------------------------------------------------------------------------------------

const TEST_PROTOCOL: &str = "wallet-pss/refresh-test-signature";

/// The 32 bytes a test signature with the new shares signs before an old share is deleted
/// ([`release_old_share`]): transcript `("wallet-pss/refresh-test-signature", 1, curve, 0³²)`
/// with the transcript hash and the new epoch (`SPEC.md` §4). Sign them with the new shares
/// (FROST: as the message; ECDSA: as the prehash).
pub fn test_message<C: Curve>(transcript_hash: &[u8; 32], new_epoch: u64) -> [u8; 32] {
    let mut t = Transcript::new(TEST_PROTOCOL, 1, Some(C::ID), &SessionId::default());
    t.append("transcript-hash", transcript_hash);
    t.append_u64("epoch", new_epoch);
    t.output32("test-message")
}

/// A signature that can be checked against a public key: what [`release_old_share`] accepts
/// as the test signature. Implemented for FROST signatures (any ciphersuite) and for ECDSA
/// signatures on secp256k1 (over the 32-byte message as the prehash).
pub trait TestSignature<C: Curve> {
    /// Whether this is a valid signature of `message` under `public_key`.
    fn verifies(&self, public_key: &C::Point, message: &[u8; 32]) -> bool;
}

impl<C: wallet_tss::frost::Ciphersuite> TestSignature<C> for wallet_tss::frost::Signature<C> {
    fn verifies(&self, public_key: &C::Point, message: &[u8; 32]) -> bool {
        self.verify(public_key, message)
    }
}

impl TestSignature<wallet_types::Secp256k1> for k256::ecdsa::Signature {
    fn verifies(&self, public_key: &k256::ProjectivePoint, message: &[u8; 32]) -> bool {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        k256::ecdsa::VerifyingKey::from_affine(public_key.to_affine())
            .is_ok_and(|vk| vk.verify_prehash(message, self).is_ok())
    }
}

/// Hands the old share back **for deletion** only when the refresh is Confirmed and a test
/// signature made with the new shares verifies: over [`test_message`] of the confirmed
/// transcript hash and the new epoch, under the public key, which must be the old share's
/// (unchanged). Otherwise the old share comes back in the error, to be kept.
///
/// The signature shows that holders of the new sharing under that transcript hash can sign (a
/// signature cannot show *which* shares made it: an honest party signs the test message only
/// with its new share). It is checked in addition to, never instead of, every party's
/// acknowledgement: an Unconfirmed outcome never releases the old share.
pub fn release_old_share<C: Curve, S: TestSignature<C>>(
    old: KeyShare<C>,
    outcome: &Termination<KeyShare<C>>,
    signature: &S,
) -> Result<KeyShare<C>, (KeyShare<C>, KeepOldShare)> {
    let Termination::Confirmed {
        result: new,
        transcript_hash,
    } = outcome
    else {
        return Err((old, KeepOldShare::Unconfirmed));
    };
    let same_key = new.public_key() == old.public_key()
        && new.me() == old.me()
        && new.parties() == old.parties()
        && old.epoch().checked_add(1) == Some(new.epoch());
    if !same_key {
        return Err((old, KeepOldShare::OtherKey));
    }
    let message = test_message::<C>(transcript_hash, new.epoch());
    if !signature.verifies(&new.public_key(), &message) {
        return Err((old, KeepOldShare::BadSignature));
    }
    Ok(old)
}

/// Why [`release_old_share`] handed the old share back to be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepOldShare {
    /// The refresh is not Confirmed: some party's acknowledgement is missing.
    Unconfirmed,
    /// The new share is not the refresh of this old share (another key, party, party set or
    /// an epoch other than the next).
    OtherKey,
    /// The test signature does not verify over [`test_message`] under the public key.
    BadSignature,
}

impl core::fmt::Display for KeepOldShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Unconfirmed => "the refresh is not confirmed by every party",
            Self::OtherKey => "the new share is not the refresh of this old share",
            Self::BadSignature => "the test signature with the new shares does not verify",
        })
    }
}

impl core::error::Error for KeepOldShare {}
