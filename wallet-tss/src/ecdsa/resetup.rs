//! Fresh pairwise OT setups for a refreshed or reshared 2-of-n key (a new **epoch**).
//!
//! `wallet-pss` re-randomises the Shamir shares of a key (refresh: a sharing of zero is added;
//! reshare: the key is dealt to a new party set). That alone does not give an ECDSA
//! [`KeyShare`]: signing also needs the pairwise multiplication (VOLE) setups of
//! [`crate::ot`], and they must be **new**. An attacker who compromised a device in epoch `e`
//! learned that device's OT-extension setup secrets (Alice's correlation `Δ` and seeds, Bob's
//! seeds); if the setups were kept, it could break the privacy of the VOLE multiplications of
//! every later presignature of that device's counterparties, and from those learn share
//! material of the new epoch — undoing exactly what the refresh was for. Proactive security
//! therefore needs fresh setups every epoch, which is what [`Resetup`] runs: it takes a party's
//! new key material ([`ResetupInput`]) and outputs a [`KeyShare`] of the new epoch.
//!
//! Seven rounds, all point-to-point (the OT setup is a chain of five alternating messages; the
//! sixth confirms that every setup completed, the seventh acknowledges the confirmations):
//!
//! 1. Each party sends every other party the hash `context = T("context")` of its public input
//!    (party set, previous key id, epoch, `X`, `A₁`, chain code) and OT setup message 1 (as
//!    Bob). On receipt, a different `context` is [`Reason::ConfirmationMismatch`] naming the
//!    sender (the parties disagree on what they are re-setting up: abort and investigate).
//! 2. – 5. OT setup messages 2–5, as in [`super::Keygen`] (same session derivation per ordered
//!    pair: `SessionId::derive("ecdsa-ot-setup" ‖ a ‖ b)` of this run's session). Failures are
//!    [`Reason::BaseOt`] / [`Reason::OtConsistency`] naming the counterparty, for which
//!    [`Error::must_ban`] is non-empty.
//! 6. When all its setups are complete (on receipt of the round-5 messages), each party sends
//!    every other party `c = T("confirm")` over the context and the setup ids of every ordered
//!    pair. On all round-6 messages: if each equals its own `c`, it sends every other party
//!    `Ack(c)`, otherwise `Decline(c)` and ends ([`wallet_types::termination`]).
//! 7. On all round-7 messages: the output is [`Termination::Confirmed`] iff every other party
//!    acknowledged `c`. The new [`KeyShare`] has `key_id = T("key-id")`: a fresh identifier that
//!    binds the previous key id and the epoch (presignatures are bound to the key id, so
//!    presignatures and key shares of different epochs never combine).
//!
//! ## Ending together (invariant 11)
//!
//! The output is a [`Termination`] of the new [`KeyShare`], as in [`super::Keygen`]. No party is
//! Confirmed before every other party acknowledged that every confirmation it received matched
//! its own: then every honest party holds the new share of the same epoch (same key id, complete
//! pairings). A failure in rounds 1–5 (a context mismatch, a failed OT check) aborts: no party
//! can be Confirmed without the failed party's acknowledgement, which it never sends, so the
//! others wait (their caller ends them with [`Resetup::stop_waiting`], keeping what they
//! computed) and every party keeps signing with the previous epoch (the new Shamir share the
//! failed machine was given is dropped with it: run the refresh or reshare again for a new
//! epoch). A failure from round 6 on —
//! a mismatching, declined, missing or equivocated confirmation or acknowledgement, any
//! misbehaviour — ends the machine [`Termination::Unconfirmed`] with the new share **kept**,
//! never zeroized (the six-round resetup aborted there: a round-6 confirmation right for some
//! parties and wrong for others left the first on the new epoch and the others without it).
//!
//! What the caller does with the outcome (the old share is the one in its
//! [`KeyStore`](super::KeyStore); the resetup never touches it):
//!
//! * **Confirmed**: install the new share ([`install_confirmed`](super::install_confirmed) or
//!   [`KeyStore::install`](super::KeyStore::install)), which retires the old epoch.
//! * **Unconfirmed**: keep **both** — the old share stays installed (it still signs with every
//!   party that did not move on) and the new one is stored aside, encrypted. Reach agreement by
//!   retrying the confirmation on [`Unconfirmed::transcript_hash`] with
//!   [`wallet_types::reconfirm::Reconfirm`] among the new share's holders, then
//!   [`Unconfirmed::settle`]: a Confirmed retry installs the new share. If `acknowledged` is
//!   set, other parties may already be Confirmed and on the new epoch: never discard the new
//!   share. [`install_confirmed`](super::install_confirmed) refuses an Unconfirmed outcome and
//!   hands it back.
//!
//! The run's session id must be fresh (e.g. `SessionId::derive("ecdsa-resetup")` of the
//! refresh's own fresh session).
//!
//! ## Bans carry over
//!
//! A party this share banned ([`KeyShare::ban`], after a failed check of the reusable setup:
//! [`Error::must_ban`]) stays banned in the new epoch: [`ResetupInput`] carries the banned
//! parties ([`ResetupInput::carry_bans`], which `wallet-pss` calls with the previous share), and
//! the output [`KeyShare`] has no pairing with them ([`KeyShare::banned`] lists them again).
//!
//! The setups with a banned party are still **run**, symmetrically, and then dropped (zeroized)
//! when the new share is assembled. Skipping them would need both sides, and every other party,
//! to know the ban — but a ban is a local decision: the banned party may never have learned of it
//! (an honest victim of a corrupted message, or a cheater that will not say), so it would wait
//! for setup messages that never come and the refresh would stall for everybody. Running the
//! setup costs one pair's setup (a few milliseconds) and exposes nothing: its secrets are fresh
//! and never used. The banned party may end with a share that lists a pairing with this party;
//! [`super::Presign::new`] on this side refuses it, as before the refresh.
//!
//! Lifting a ban is explicit: [`ResetupInput::lift_ban`] before the resetup gives the new epoch a
//! fresh pairing with that party. It is safe as far as the OT layer goes (the new setups share
//! nothing with the one a failed check may have leaked), so lift a ban when the reason for it is
//! gone — e.g. the device was re-provisioned, or the failure was traced to a broken transport —
//! not by default: a counterparty that cheated once can probe the new setup the same way.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use wallet_types::group::Group;
use wallet_types::termination::mismatched_confirmations;
use wallet_types::{
    Acknowledgement, Curve, DecodeError, Envelope, Error, ErrorKind, Inbox, Lifecycle, ObjectKind,
    ParamError, Parties, PartyId, Protocol, Reader, Reason, Recipient, RoundMessage, RoundSpec,
    Secp256k1, SecretScalar, SessionId, Step, Stopped, Termination, Transcript, Unconfirmed,
    WireObject, Writer,
};

use crate::ot::{OtSetupMsg1, OtSetupMsg2, OtSetupMsg3, OtSetupMsg4, OtSetupMsg5};

use super::keygen::{KeyShare, get_high, get_low, horner, put_high, put_low};
use super::pairwise::PairwiseSetups;
use super::{RESETUP_PROTOCOL, THRESHOLD, VERSION, kinds};

type Point = k256::ProjectivePoint;

const ROUNDS: u16 = 7;

fn rounds() -> Vec<RoundSpec> {
    (0..ROUNDS).map(|_| RoundSpec::p2p()).collect()
}

/// One party's key material of the new epoch (from `wallet-pss`'s refresh or reshare), and the
/// parties it stays banned with (see the [module docs](self#bans-carry-over)).
///
/// Build it with [`ResetupInput::new`] (no bans), then [`ResetupInput::carry_bans`] with the
/// previous epoch's share; [`ResetupInput::lift_ban`] is the only way to re-pair a party that
/// share had banned.
pub struct ResetupInput {
    /// This party.
    pub me: PartyId,
    /// The parties of the new sharing (at least the threshold).
    pub parties: Parties,
    /// This party's new Shamir share `x_i`.
    pub share: SecretScalar<Secp256k1>,
    /// The new aggregated Feldman commitments `(X, A₁, …, A_{t−1})`: `X` is the (unchanged)
    /// public key, their number `t ≥ 2` the new threshold.
    pub commitments: Vec<Point>,
    /// The BIP-32 chain code (unchanged by refresh and reshare: addresses stay the same).
    pub chain_code: [u8; 32],
    /// The new epoch.
    pub epoch: u64,
    /// The key id of the previous epoch ([`KeyShare::key_id`]).
    pub previous_key_id: [u8; 32],
    /// The other parties the output share has no pairing with.
    banned: BTreeSet<PartyId>,
}

impl ResetupInput {
    /// The input for `me`'s new share `share` of the key with commitments `commitments` among
    /// `parties`, at `epoch`, following the epoch with key id `previous_key_id`. No party is
    /// banned: add the previous share's bans with [`ResetupInput::carry_bans`].
    pub fn new(
        me: PartyId,
        parties: Parties,
        share: SecretScalar<Secp256k1>,
        commitments: Vec<Point>,
        chain_code: [u8; 32],
        epoch: u64,
        previous_key_id: [u8; 32],
    ) -> Self {
        Self {
            me,
            parties,
            share,
            commitments,
            chain_code,
            epoch,
            previous_key_id,
            banned: BTreeSet::new(),
        }
    }

    /// Carries the bans of `previous` (this party's share of the previous epoch) over: every
    /// party [`KeyShare::banned`] lists that is also in the new party set stays banned (a party
    /// that left the set needs no ban). Returns how many bans were carried.
    pub fn carry_bans(&mut self, previous: &KeyShare) -> usize {
        let before = self.banned.len();
        let carried: Vec<PartyId> = previous
            .banned()
            .filter(|p| *p != self.me && self.parties.contains(*p))
            .collect();
        self.banned.extend(carried);
        self.banned.len() - before
    }

    /// Bans `p` in the new epoch (the output share has no pairing with it). Returns whether it
    /// was not banned already. [`Resetup::new`] refuses a ban of a party outside the new set or
    /// of this party.
    pub fn ban(&mut self, p: PartyId) -> bool {
        self.banned.insert(p)
    }

    /// **Lifts** the ban of `p`: the new epoch gets a fresh pairing with it. An explicit
    /// decision of the caller (see the [module docs](self#bans-carry-over) for when it is
    /// sound). Returns whether `p` was banned.
    pub fn lift_ban(&mut self, p: PartyId) -> bool {
        self.banned.remove(&p)
    }

    /// The parties the output share will have no pairing with, in id order.
    pub fn banned(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.banned.iter().copied()
    }
}

impl fmt::Debug for ResetupInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetupInput")
            .field("me", &self.me)
            .field("parties", &self.parties)
            .field("epoch", &self.epoch)
            .field("banned", &self.banned)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Round 1 of a resetup: the context hash and OT setup message 1.
#[derive(Clone, Debug)]
pub struct ResetupRound1 {
    /// `T("context")` of the sender's public input.
    pub context: [u8; 32],
    /// OT setup message 1 (sender as Bob, recipient as Alice).
    pub ot: OtSetupMsg1,
}

/// A resetup message (all rounds point-to-point).
// Messages are moved once per round; boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ResetupMessage {
    /// Context hash and OT message 1.
    Round1(ResetupRound1),
    /// OT message 2 (sender as Alice).
    Round2(OtSetupMsg2),
    /// OT message 3 (sender as Bob).
    Round3(OtSetupMsg3),
    /// OT message 4 (sender as Alice).
    Round4(OtSetupMsg4),
    /// OT message 5 (sender as Bob).
    Round5(OtSetupMsg5),
    /// The setup confirmation `T("confirm")` (see the module docs).
    Round6([u8; 32]),
    /// The acknowledgement of the round-6 confirmations.
    Round7(Acknowledgement),
}

impl RoundMessage for ResetupMessage {
    fn round(&self) -> u16 {
        match self {
            Self::Round1(_) => 1,
            Self::Round2(_) => 2,
            Self::Round3(_) => 3,
            Self::Round4(_) => 4,
            Self::Round5(_) => 5,
            Self::Round6(_) => 6,
            Self::Round7(_) => 7,
        }
    }
}

fn put_obj<T: WireObject>(w: &mut Writer, o: &T) {
    w.object(o);
}

fn get_obj<T: WireObject>(r: &mut Reader<'_>) -> Result<T, DecodeError> {
    T::from_bytes(r.var_bytes(T::MAX_LEN)?)
}

/// Body: `round u8 ||` round 1: `context[32] || ot`; rounds 2–5: `ot`; round 6:
/// `confirmation[32]`; round 7: `verdict u8 (1 ack, 2 decline) || hash[32]`, where `ot` is
/// `u32be(len) || OT setup message` (a full wire object of `crate::ot`). The kind is new with
/// the seventh round (`0x03a0`; the six-round message's `0x0389` is refused as
/// [`DecodeError::WrongKind`]). See `SPEC.md`.
impl WireObject for ResetupMessage {
    const KIND: ObjectKind = kinds::RESETUP_MESSAGE;
    const MAX_LEN: usize = 1 << 20;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.u8(self.round() as u8);
        match self {
            Self::Round1(m) => {
                w.bytes(&m.context);
                put_obj(w, &m.ot);
            }
            Self::Round2(m) => put_obj(w, m),
            Self::Round3(m) => put_obj(w, m),
            Self::Round4(m) => put_obj(w, m),
            Self::Round5(m) => put_obj(w, m),
            Self::Round6(c) => w.bytes(c),
            Self::Round7(a) => a.encode(w),
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            1 => Self::Round1(ResetupRound1 {
                context: r.array()?,
                ot: get_obj(r)?,
            }),
            2 => Self::Round2(get_obj(r)?),
            3 => Self::Round3(get_obj(r)?),
            4 => Self::Round4(get_obj(r)?),
            5 => Self::Round5(get_obj(r)?),
            6 => Self::Round6(r.array()?),
            7 => Self::Round7(Acknowledgement::decode(r)?),
            t => return Err(DecodeError::InvalidTag(t)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

struct State {
    inbox: Inbox<ResetupMessage>,
    share: SecretScalar<Secp256k1>,
    commitments: Vec<Point>,
    chain_code: [u8; 32],
    epoch: u64,
    previous_key_id: [u8; 32],
    /// Parties whose fresh pairing is dropped from the output (bans carried over).
    banned: BTreeSet<PartyId>,
    /// The setup confirmation `c` (the transcript hash of the termination), once every setup
    /// is complete (round 5).
    confirmation: Option<[u8; 32]>,
    setups: PairwiseSetups,
}

/// One party of a resetup (see the module docs for the rounds).
pub struct Resetup {
    me: PartyId,
    life: Lifecycle<State>,
}

impl fmt::Debug for Resetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resetup")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl Resetup {
    /// A resetup machine for `input.me` in a fresh `session`.
    ///
    /// Errors: fewer than 2 parties ([`ParamError::TooFewParties`]), `me` not among them
    /// ([`ParamError::NotAMember`]), a share that does not match `X + me·A₁` or an identity
    /// public key ([`ParamError::Mismatch`]), a ban of a party outside the set
    /// ([`ParamError::NotAMember`]) or of `me` ([`ParamError::Mismatch`]).
    pub fn new(session: SessionId, input: ResetupInput) -> Result<Self, Error> {
        let ResetupInput {
            me,
            parties,
            share,
            commitments,
            chain_code,
            epoch,
            previous_key_id,
            banned,
        } = input;
        if commitments.len() < THRESHOLD || commitments.len() > wallet_types::MAX_PARTIES {
            return Err(ParamError::OutOfRange.into());
        }
        if parties.len() < commitments.len() {
            return Err(ParamError::TooFewParties {
                needed: commitments.len(),
                given: parties.len(),
            }
            .into());
        }
        if !parties.contains(me) {
            return Err(ParamError::NotAMember(me).into());
        }
        let x = commitments.first().copied().unwrap_or_default();
        if bool::from(x.is_identity()) || share.public() != horner(&commitments, me) {
            return Err(ParamError::Mismatch.into());
        }
        check_bans(me, &parties, &banned)?;
        let inbox = Inbox::new(session, me, parties, rounds())?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                share,
                commitments,
                chain_code,
                epoch,
                previous_key_id,
                banned,
                confirmation: None,
                setups: PairwiseSetups::default(),
            }),
        })
    }
}

impl Resetup {
    /// Ends a machine whose run stopped making progress (a party stays silent; the caller's
    /// timeout is up) without losing what it computed: once every setup is complete (round 5)
    /// it ends [`Unconfirmed`] with the new key share — and, if this party had not acknowledged
    /// yet, a `Decline` to every other party, so that it can never be counted later — listing
    /// every other party. `None` with the machine unchanged when it was not started or is
    /// over; `None` with the machine ended when it has no new share yet (nothing to keep: the
    /// previous epoch's share is the caller's). Later calls answer [`Error::Finished`].
    pub fn stop_waiting(&mut self) -> Option<Stopped<ResetupMessage, KeyShare>> {
        match core::mem::replace(&mut self.life, Lifecycle::Finished) {
            Lifecycle::Running(mut s) => {
                if !s.holds_result() {
                    return None;
                }
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

/// Every banned party is another party of the set.
fn check_bans(
    me: PartyId,
    parties: &Parties,
    banned: &BTreeSet<PartyId>,
) -> Result<(), ParamError> {
    for p in banned {
        if *p == me {
            return Err(ParamError::Mismatch);
        }
        if !parties.contains(*p) {
            return Err(ParamError::NotAMember(*p));
        }
    }
    Ok(())
}

impl State {
    fn session(&self) -> SessionId {
        *self.inbox.session()
    }

    /// The transcript of the public input.
    fn transcript(&self) -> Transcript {
        let mut t = Transcript::new(
            RESETUP_PROTOCOL,
            VERSION,
            Some(Secp256k1::ID),
            self.inbox.session(),
        );
        let mut w = Writer::new();
        w.parties(self.inbox.parties());
        t.append("parties", &w.finish());
        t.append_u64("threshold", self.commitments.len() as u64);
        t.append("previous-key-id", &self.previous_key_id);
        t.append_u64("epoch", self.epoch);
        for (k, c) in self.commitments.iter().enumerate() {
            let label = match k {
                0 => "X",
                1 => "A1",
                _ => "A-k",
            };
            t.append_point::<Secp256k1>(label, c);
        }
        t.append("chain-code", &self.chain_code);
        t
    }

    /// The transcript of the public input and every setup id (after all setups completed).
    fn full_transcript(&self) -> Result<Transcript, Error> {
        let mut t = self.transcript();
        self.setups.append_setup_ids(
            &mut t,
            self.inbox.session(),
            self.inbox.me(),
            self.inbox.parties(),
        )?;
        Ok(t)
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Vec<Envelope<ResetupMessage>>, Error> {
        let me = self.inbox.me();
        let session = self.session();
        let parties = self.inbox.parties().clone();
        let context = self.transcript().output32("context");
        Ok(self
            .setups
            .round1(&session, me, &parties, rng)
            .into_iter()
            .map(|(j, ot)| {
                self.inbox.envelope(
                    1,
                    Recipient::One(j),
                    ResetupMessage::Round1(ResetupRound1 { context, ot }),
                )
            })
            .collect())
    }

    fn advance<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<ResetupStep, Error> {
        let mut out = Vec::new();
        let me = self.inbox.me();
        let session = self.session();
        while let Some(msgs) = self.inbox.take_current() {
            let round = self.inbox.current_round() - 1;
            if round == 1 {
                let mine = self.transcript().output32("context");
                let bad: Vec<PartyId> = msgs
                    .iter()
                    .filter(|(_, m)| !matches!(m, ResetupMessage::Round1(r) if r.context == mine))
                    .map(|(j, _)| *j)
                    .collect();
                if !bad.is_empty() {
                    return Err(Error::blame_all(bad, Reason::ConfirmationMismatch));
                }
            }
            if round == 5 {
                for (j, m) in &msgs {
                    let ResetupMessage::Round5(m5) = m else {
                        return Err(Error::blame(*j, Reason::MalformedMessage));
                    };
                    self.setups.finish_alice(*j, m5)?;
                }
                // Every setup of this party is complete: confirm it to every other party.
                let confirmation = self.full_transcript()?.output32("confirm");
                self.confirmation = Some(confirmation);
                self.send_all(&mut out, 6, ResetupMessage::Round6(confirmation));
                continue;
            }
            if round == 6 {
                // Every confirmation must equal ours; then acknowledge, else decline and end.
                let mine = self.confirmation.ok_or(Error::Internal)?;
                let bad = mismatched_confirmations(
                    &mine,
                    msgs.iter().map(|(j, m)| match m {
                        ResetupMessage::Round6(c) => (*j, Some(*c)),
                        // The inbox refuses a message of another round: defensive only.
                        _ => (*j, None),
                    }),
                );
                if !bad.is_empty() {
                    return self.conclude(out, false, bad);
                }
                self.send_all(
                    &mut out,
                    7,
                    ResetupMessage::Round7(Acknowledgement::Ack(mine)),
                );
                continue;
            }
            if round == 7 {
                // Confirmed iff every other party acknowledged our confirmation.
                let mine = self.confirmation.ok_or(Error::Internal)?;
                let key = self.finish()?;
                let t = Termination::from_acknowledgements(
                    key,
                    mine,
                    msgs.iter().map(|(j, m)| match m {
                        ResetupMessage::Round7(a) => (*j, Some(a)),
                        _ => (*j, None),
                    }),
                );
                return Ok(Step::Done(out, t));
            }
            for (j, m) in msgs {
                let reply = match (round, m) {
                    (1, ResetupMessage::Round1(m)) => {
                        ResetupMessage::Round2(self.setups.round2(&session, me, j, &m.ot, rng)?)
                    }
                    (2, ResetupMessage::Round2(m)) => {
                        ResetupMessage::Round3(self.setups.round3(j, &m)?)
                    }
                    (3, ResetupMessage::Round3(m)) => {
                        ResetupMessage::Round4(self.setups.round4(j, &m)?)
                    }
                    (4, ResetupMessage::Round4(m)) => {
                        ResetupMessage::Round5(self.setups.round5(j, &m)?)
                    }
                    _ => return Err(Error::blame(j, Reason::MalformedMessage)),
                };
                out.push(self.inbox.envelope(round + 1, Recipient::One(j), reply));
            }
        }
        Ok(Step::Continue(out))
    }

    /// Whether the new key share can be assembled (every setup complete, from round 5 on): a
    /// failure from then on ends the run unconfirmed instead of dropping it.
    fn holds_result(&self) -> bool {
        self.confirmation.is_some()
    }

    /// Round 7 is current once this party has acknowledged.
    fn acknowledged(&self) -> bool {
        self.inbox.current_round() >= 7
    }

    /// Ends the run after round 5 on a failure, keeping the new key share; a party that has not
    /// acknowledged yet declines to every other party (so that nobody waits for it or counts
    /// it).
    fn conclude(
        &mut self,
        mut out: Vec<Envelope<ResetupMessage>>,
        acknowledged: bool,
        disagreeing: Vec<PartyId>,
    ) -> Result<ResetupStep, Error> {
        let c = self.confirmation.ok_or(Error::Internal)?;
        let key = self.finish()?;
        if !acknowledged {
            self.send_all(
                &mut out,
                7,
                ResetupMessage::Round7(Acknowledgement::Decline(c)),
            );
        }
        Ok(Step::Done(
            out,
            Termination::Unconfirmed(Unconfirmed::new(key, c, acknowledged, disagreeing)),
        ))
    }

    fn send_all(&self, out: &mut Vec<Envelope<ResetupMessage>>, round: u16, m: ResetupMessage) {
        for j in self.inbox.parties().others(self.inbox.me()) {
            out.push(self.inbox.envelope(round, Recipient::One(j), m.clone()));
        }
    }

    fn finish(&mut self) -> Result<KeyShare, Error> {
        let me = self.inbox.me();
        let parties = self.inbox.parties().clone();
        let key_id = self.full_transcript()?.output32("key-id");
        let mut pairs = self.setups.take(me, &parties)?;
        // Bans carry over: the fresh setups with banned parties were run (so that the protocol
        // completes for everybody) and are dropped here; their secrets are zeroized on drop.
        for p in &self.banned {
            pairs.remove(p);
        }
        let share = core::mem::replace(&mut self.share, SecretScalar::zero());
        Ok(KeyShare::assemble(
            key_id,
            self.epoch,
            me,
            parties,
            share,
            self.commitments.clone(),
            self.chain_code,
            pairs,
        ))
    }
}

type ResetupStep = Step<ResetupMessage, Termination<KeyShare>>;

impl Protocol for Resetup {
    type Message = ResetupMessage;
    type Output = Termination<KeyShare>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<ResetupStep, Error> {
        self.life
            .start(|s| Ok((Step::Continue(s.start(rng)?), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<ResetupMessage>,
        rng: &mut R,
    ) -> Result<ResetupStep, Error> {
        self.life.step(|s| match s.inbox.receive(incoming) {
            Ok(_) => s.advance(rng),
            // Once the new key share exists, a misbehaving party (an equivocation, a message of
            // another round) must not make this party drop it: end unconfirmed, naming it.
            Err(e) if e.kind() == ErrorKind::Misbehaviour && s.holds_result() => {
                let acknowledged = s.acknowledged();
                s.conclude(Vec::new(), acknowledged, e.culprits().to_vec())
            }
            Err(e) => Err(e),
        })
    }
}

/// State body: `me u16 || lifecycle u8`; if created / running: `inbox || share[32] || X[33] ||
/// A₁[33] || chain_code[32] || epoch u64 || previous_key_id[32] || u16 b || b × party` (the
/// banned parties, strictly increasing) `|| has_confirmation u8 || [confirmation[32]] ||
/// pairwise setups` (the same encoding as in the `Keygen` state). Holds secrets: store
/// encrypted. The kind is new with the seventh round (`0x03a1`; the layout is that of `0x0392`
/// with a seven-round inbox): the six-round state `0x0392` and the state without bans `0x038a`
/// are refused as [`DecodeError::WrongKind`], never restored into a machine that would end at
/// another round than its peers.
impl WireObject for Resetup {
    const KIND: ObjectKind = kinds::RESETUP_STATE;
    const MAX_LEN: usize = 1 << 26;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else {
            return;
        };
        s.inbox.encode(w);
        w.secret_scalar(&s.share);
        put_low(w, &s.commitments);
        w.bytes(&s.chain_code);
        w.u64(s.epoch);
        w.bytes(&s.previous_key_id);
        w.u16(s.banned.len() as u16);
        for p in &s.banned {
            w.party(*p);
        }
        match &s.confirmation {
            Some(c) => {
                w.u8(1);
                w.bytes(c);
            }
            None => w.u8(0),
        }
        s.setups.encode(w);
        put_high(w, &s.commitments);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::<ResetupMessage>::decode(r, rounds())?;
                if inbox.me() != me || inbox.parties().len() < THRESHOLD {
                    return Err(DecodeError::InvalidValue);
                }
                let parties = inbox.parties().clone();
                let share = r.secret_scalar::<Secp256k1>()?;
                let mut commitments = get_low(r)?;
                let chain_code = r.array()?;
                let epoch = r.u64()?;
                let previous_key_id = r.array()?;
                let mut banned = BTreeSet::new();
                let mut last = None;
                for _ in 0..r.count16(parties.len(), 2)? {
                    let p = r.party()?;
                    if last >= Some(p) {
                        return Err(DecodeError::NotSorted);
                    }
                    last = Some(p);
                    banned.insert(p);
                }
                check_bans(me, &parties, &banned).map_err(|_| DecodeError::InvalidValue)?;
                let confirmation = if r.bool()? { Some(r.array()?) } else { None };
                let setups = PairwiseSetups::decode(r, me, &parties)?;
                get_high(r, &mut commitments)?;
                if parties.len() < commitments.len() || share.public() != horner(&commitments, me) {
                    return Err(DecodeError::InvalidValue);
                }
                let s = State {
                    inbox,
                    share,
                    commitments,
                    chain_code,
                    epoch,
                    previous_key_id,
                    banned,
                    confirmation,
                    setups,
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn round6_and_round7_encodings_are_frozen() {
        let mut c = [0u8; 32];
        for (i, b) in c.iter_mut().enumerate() {
            *b = i as u8;
        }
        let m = ResetupMessage::Round6(c);
        let bytes = m.to_bytes();
        assert_eq!(
            hex::encode(&bytes),
            "0103a00106000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        );
        let back = ResetupMessage::from_bytes(&bytes).unwrap();
        assert!(matches!(back, ResetupMessage::Round6(x) if x == c));
        let ack = ResetupMessage::Round7(Acknowledgement::Ack(c));
        assert_eq!(
            hex::encode(ack.to_bytes()),
            "0103a0010701000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        );
        let decline = ResetupMessage::Round7(Acknowledgement::Decline(c));
        let bytes7 = decline.to_bytes();
        assert!(matches!(
            ResetupMessage::from_bytes(&bytes7).unwrap(),
            ResetupMessage::Round7(Acknowledgement::Decline(x)) if x == c
        ));
        // Unknown round tags and verdicts are refused.
        let mut bad = bytes.clone();
        bad[4] = 8;
        assert_eq!(
            ResetupMessage::from_bytes(&bad).err(),
            Some(DecodeError::InvalidTag(8))
        );
        let mut bad = bytes7.clone();
        bad[5] = 3;
        assert_eq!(
            ResetupMessage::from_bytes(&bad).err(),
            Some(DecodeError::InvalidTag(3))
        );
    }
}
