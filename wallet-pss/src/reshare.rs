//! Verifiable resharing from `(t, n)` to `(t', n')` (Desmedt–Jajodia 1997; verifiable
//! redistribution of Wong–Wang–Wing 2002).
//!
//! A set `S` of at least `t` old parties (the **dealers**) redistributes the secret to a new
//! party set `N'` with threshold `t'`; the public key stays the same. Dealer `i ∈ S` has the
//! Lagrange-weighted share `λᵢ·sᵢ` (with `λᵢ` the coefficient at zero over `S`), so that
//! `Σᵢ λᵢ·sᵢ = s`. It deals a fresh polynomial `fᵢ` of degree `t' − 1` with `fᵢ(0) = λᵢ·sᵢ`:
//!
//! 1. **Deal** (point-to-point, dealers → new parties): commitments `Fᵢ = (fᵢ,ₖ·G)ₖ` and the
//!    sub-share `fᵢ(j)`. New party `j` checks `|Fᵢ| = t'` ([`Reason::MalformedMessage`]),
//!    `Fᵢ,₀ = λᵢ·Yᵢ` where `Yᵢ = g^{sᵢ}` is dealer `i`'s share commitment from the **old**
//!    commitments — a dealer that would change the group key is caught here
//!    ([`Reason::PublicKeyMismatch`]) — and `fᵢ(j)·G` against `Fᵢ` ([`Reason::InvalidShare`]).
//!    New share `s'ⱼ = Σᵢ fᵢ(j)`, new commitments `Σᵢ Fᵢ` (whose constant term is
//!    `Σᵢ λᵢ·Yᵢ = Y`, the unchanged public key).
//! 2. **Confirm** (broadcast by the new parties, received by everybody): a transcript hash of
//!    every `Fᵢ`. A dealer that sent different commitments to different parties is caught
//!    ([`Reason::ConfirmationMismatch`]); a dealer that is not a new party learns that the new
//!    parties agree and may then delete its old share.
//!
//! A party in both sets (a device that stays) plays both roles in one machine; this is the case
//! other libraries have got wrong (its own sub-share must be included exactly once, and it
//! must not wait for a message from itself). The removed party's old share is of epoch `e`; the
//! new shares are of epoch `e + 1` on an independent polynomial, so old shares — the removed
//! one included — combine with nothing new.
//!
//! For recipients that are offline, [`deal_sealed`] / [`combine_sealed`] produce and consume the
//! same dealing with every sub-share ECIES-encrypted to the recipient's factor key, so it can be
//! posted to a store and picked up later.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use rand_core::CryptoRng;
use wallet_sss::{Commitments, Polynomial, lagrange_at_zero};
use wallet_types::subtle::ConstantTimeEq;
use wallet_types::{
    Curve, CurveId, DecodeError, Delivery, Envelope, Error, Inbox, Lifecycle, ObjectKind,
    ParamError, Parties, PartyId, Protocol, Reader, Reason, Recipient, RoundSpec, SecretScalar,
    SessionId, Step, Transcript, WireObject, Writer,
};

use crate::deal::DealMessage;
use crate::ecies::{self, Ciphertext, Context};
use crate::error::PssError;
use crate::key::{KeyShare, read_commitments, write_commitments};

/// Object kind of a reshare machine's state.
pub const KIND_RESHARE_STATE: ObjectKind = ObjectKind(0x0521);
/// Object kind of a sealed (ECIES) dealing for offline recipients.
pub const KIND_SEALED_DEALING: ObjectKind = ObjectKind(0x0522);
const PROTOCOL: &str = "wallet-pss/reshare";
const VERSION: u16 = 1;

/// The public description of a reshare, identical for every participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReshareConfig<C: Curve> {
    /// Commitments to the old group polynomial (give every old share commitment and the key).
    pub old_commitments: Commitments<C>,
    /// The old party set.
    pub old_parties: Parties,
    /// The old epoch.
    pub old_epoch: u64,
    /// The dealers: at least `t` old parties.
    pub dealers: Parties,
    /// The new party set.
    pub new_parties: Parties,
    /// The new threshold `t'` (`1 ≤ t' ≤ |N'|`).
    pub new_threshold: usize,
}

impl<C: Curve> ReshareConfig<C> {
    /// Checks the configuration's consistency.
    pub fn check(&self) -> Result<(), ParamError> {
        let t = self.old_commitments.threshold();
        if !self.dealers.is_subset_of(&self.old_parties) {
            return Err(ParamError::Mismatch);
        }
        if self.dealers.len() < t {
            return Err(ParamError::TooFewParties {
                needed: t,
                given: self.dealers.len(),
            });
        }
        if self.new_threshold == 0 || self.new_threshold > self.new_parties.len() {
            return Err(ParamError::InvalidThreshold {
                threshold: self.new_threshold,
                parties: self.new_parties.len(),
            });
        }
        if self.old_epoch == u64::MAX {
            return Err(ParamError::OutOfRange);
        }
        Ok(())
    }

    /// The epoch of the new shares.
    pub fn new_epoch(&self) -> u64 {
        self.old_epoch.saturating_add(1)
    }

    fn all_parties(&self) -> Result<Parties, ParamError> {
        Parties::new(
            self.dealers
                .iter()
                .chain(self.new_parties.iter())
                .collect::<alloc::collections::BTreeSet<_>>(),
        )
    }

    fn lambda(&self, dealer: PartyId) -> Result<C::Scalar, Error> {
        lagrange_at_zero::<C>(self.dealers.as_slice(), dealer).map_err(|_| Error::Internal)
    }
}

/// One dealer's contribution: commitments and the sub-share for every new party.
struct Dealing<C: Curve> {
    commitments: Commitments<C>,
    sub_shares: BTreeMap<PartyId, SecretScalar<C>>,
}

fn deal<C: Curve, R: CryptoRng + ?Sized>(
    config: &ReshareConfig<C>,
    key: &KeyShare<C>,
    rng: &mut R,
) -> Result<Dealing<C>, Error> {
    if key.commitments() != &config.old_commitments
        || key.epoch() != config.old_epoch
        || key.parties() != &config.old_parties
        || !config.dealers.contains(key.me())
    {
        return Err(ParamError::Mismatch.into());
    }
    let lambda = config.lambda(key.me())?;
    let constant = SecretScalar::<C>::new(lambda * key.share().expose());
    let f = Polynomial::<C>::random(constant, config.new_threshold, rng)
        .map_err(|_| Error::Internal)?;
    let sub_shares = config
        .new_parties
        .iter()
        .map(|j| (j, f.share_for(j)))
        .collect();
    Ok(Dealing {
        commitments: f.commit(),
        sub_shares,
    })
}

/// Checks dealer `dealer`'s commitments and the sub-share for `me`.
fn check_dealing<C: Curve>(
    config: &ReshareConfig<C>,
    dealer: PartyId,
    commitments: &Commitments<C>,
    me: PartyId,
    sub_share: &SecretScalar<C>,
) -> Result<(), Reason> {
    if commitments.threshold() != config.new_threshold {
        return Err(Reason::MalformedMessage);
    }
    let lambda = config
        .lambda(dealer)
        .map_err(|_| Reason::MalformedMessage)?;
    let expected = config.old_commitments.share_commitment(dealer) * lambda;
    if !bool::from(commitments.public_key().ct_eq(&expected)) {
        return Err(Reason::PublicKeyMismatch);
    }
    if !commitments.verify_share(me, sub_share) {
        return Err(Reason::InvalidShare);
    }
    Ok(())
}

/// Sums verified dealings into the new key share.
fn combine<C: Curve>(
    config: &ReshareConfig<C>,
    me: PartyId,
    dealings: &BTreeMap<PartyId, (Commitments<C>, SecretScalar<C>)>,
) -> Result<KeyShare<C>, Error> {
    if dealings.len() != config.dealers.len() {
        return Err(Error::Internal);
    }
    let mut share = SecretScalar::<C>::zero();
    for (_, s) in dealings.values() {
        *share.expose_mut() += s.expose();
    }
    let commitments =
        Commitments::sum(dealings.values().map(|(c, _)| c)).map_err(|_| Error::Internal)?;
    if commitments.public_key() != config.old_commitments.public_key() {
        // Unreachable when every dealing passed `check_dealing` (Σ λᵢ·Yᵢ = Y).
        return Err(Error::Internal);
    }
    KeyShare::new(
        me,
        config.new_threshold,
        config.new_parties.clone(),
        share,
        commitments,
        config.new_epoch(),
    )
    .map_err(|_| Error::Internal)
}

fn confirmation<C: Curve>(
    session: &SessionId,
    config: &ReshareConfig<C>,
    dealings: impl Iterator<Item = (PartyId, Commitments<C>)>,
) -> [u8; 32] {
    let mut t = Transcript::new(PROTOCOL, VERSION, Some(C::ID), session);
    t.append_u64("old-epoch", config.old_epoch);
    // Every old commitment, not only the key: all participants must have been given the same
    // description of the old sharing (a new party learns it from the account metadata).
    for point in config.old_commitments.points() {
        t.append_point::<C>("old-commitment", point);
    }
    t.append_u64("new-threshold", config.new_threshold as u64);
    for p in config.new_parties.iter() {
        t.append_party("new-party", p);
    }
    for (p, c) in dealings {
        t.append_party("dealer", p);
        for point in c.points() {
            t.append_point::<C>("commitment", point);
        }
    }
    t.output32("confirm")
}

// ------------------------------------------------------------------------------------------
// The interactive machine
// ------------------------------------------------------------------------------------------

/// A reshare message: round 1 deals `Fᵢ` and `fᵢ(j)` (point-to-point), round 2 confirms.
pub type ReshareMessage<C> = DealMessage<C>;

/// What a reshare party ends with.
#[derive(Debug)]
pub enum ReshareOutput<C: Curve> {
    /// A share of the new sharing (a new party).
    NewShare(KeyShare<C>),
    /// This party only dealt (it is not in the new set). Every new party confirmed the same
    /// dealing, so the old share can now be deleted: it is of no use against the new sharing.
    Dealt,
}

/// Round 1 is sent by the dealers to the new parties; a dealer that is not a new party
/// expects nothing in it (its sender list is just itself, which the inbox never expects).
fn rounds<C: Curve>(config: &ReshareConfig<C>, me: PartyId) -> Result<Vec<RoundSpec>, ParamError> {
    let round1_senders = if config.new_parties.contains(me) {
        config.dealers.clone()
    } else {
        Parties::new([me])?
    };
    Ok(vec![
        RoundSpec {
            delivery: Delivery::P2p,
            senders: Some(round1_senders),
        },
        RoundSpec {
            delivery: Delivery::Broadcast,
            senders: Some(config.new_parties.clone()),
        },
    ])
}

struct State<C: Curve> {
    config: ReshareConfig<C>,
    inbox: Inbox<ReshareMessage<C>>,
    /// The dealer's own old share (dealers only; dropped once dealt).
    old: Option<KeyShare<C>>,
    /// Our own dealing to ourselves (a dealer that is also a new party).
    own: Option<(Commitments<C>, SecretScalar<C>)>,
    /// New parties after round 1: the new share and the confirmation hash. Dealer-only parties:
    /// only the hash is unused.
    result: Option<(Option<KeyShare<C>>, [u8; 32])>,
}

/// One party of a reshare: a dealer, a new party, or both.
pub struct Reshare<C: Curve> {
    me: PartyId,
    life: Lifecycle<State<C>>,
}

impl<C: Curve> core::fmt::Debug for Reshare<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reshare")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

impl<C: Curve> Reshare<C> {
    /// A reshare party. `old` is this party's key share if it is a dealer (and must be `None`
    /// otherwise); `me` must be a dealer or a new party.
    pub fn new(
        session: SessionId,
        config: ReshareConfig<C>,
        me: PartyId,
        old: Option<KeyShare<C>>,
    ) -> Result<Self, Error> {
        config.check()?;
        let is_dealer = config.dealers.contains(me);
        if is_dealer != old.is_some() {
            return Err(ParamError::Mismatch.into());
        }
        if let Some(k) = &old
            && (k.me() != me
                || k.commitments() != &config.old_commitments
                || k.epoch() != config.old_epoch)
        {
            return Err(ParamError::Mismatch.into());
        }
        let all = config.all_parties()?;
        let inbox = Inbox::new(session, me, all, rounds(&config, me)?)?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                config,
                inbox,
                old,
                own: None,
                result: None,
            }),
        })
    }
}

impl<C: Curve> State<C> {
    fn is_new(&self) -> bool {
        self.config.new_parties.contains(self.inbox.me())
    }

    fn advance(&mut self) -> Result<Step<ReshareMessage<C>, ReshareOutput<C>>, Error> {
        let mut out = Vec::new();
        loop {
            // A dealer-only party has no round 1 to receive: it skips to round 2.
            let round = self.inbox.current_round();
            let Some(msgs) = self.inbox.take_current() else {
                return Ok(Step::Continue(out));
            };
            match round {
                1 if !self.is_new() => {}
                1 => {
                    let me = self.inbox.me();
                    let mut dealings = BTreeMap::new();
                    let mut blamed: BTreeMap<u8, (Reason, Vec<PartyId>)> = BTreeMap::new();
                    for (p, m) in msgs {
                        let ReshareMessage::Deal {
                            commitments,
                            sub_share,
                        } = m
                        else {
                            return Err(Error::blame(p, Reason::MalformedMessage));
                        };
                        match check_dealing(&self.config, p, &commitments, me, &sub_share) {
                            Ok(()) => {
                                dealings.insert(p, (commitments, sub_share));
                            }
                            Err(reason) => {
                                let order = match reason {
                                    Reason::MalformedMessage => 0,
                                    Reason::PublicKeyMismatch => 1,
                                    _ => 2,
                                };
                                blamed
                                    .entry(order)
                                    .or_insert((reason, Vec::new()))
                                    .1
                                    .push(p);
                            }
                        }
                    }
                    if let Some((reason, culprits)) = blamed.into_values().next() {
                        return Err(Error::blame_all(culprits, reason));
                    }
                    if let Some(own) = self.own.take() {
                        dealings.insert(me, own);
                    }
                    let h = confirmation(
                        self.inbox.session(),
                        &self.config,
                        dealings.iter().map(|(p, (c, _))| (*p, c.clone())),
                    );
                    let key = combine(&self.config, me, &dealings)?;
                    self.result = Some((Some(key), h));
                    out.push(
                        self.inbox
                            .envelope(2, Recipient::All, ReshareMessage::Confirm(h)),
                    );
                }
                2 => {
                    let mut hashes: BTreeMap<[u8; 32], Vec<PartyId>> = BTreeMap::new();
                    for (p, m) in msgs {
                        match m {
                            ReshareMessage::Confirm(h) => hashes.entry(h).or_default().push(p),
                            ReshareMessage::Deal { .. } => {
                                return Err(Error::blame(p, Reason::MalformedMessage));
                            }
                        }
                    }
                    return if self.is_new() {
                        let (key, h) = self.result.take().ok_or(Error::Internal)?;
                        let bad: Vec<PartyId> = hashes
                            .iter()
                            .filter(|(x, _)| **x != h)
                            .flat_map(|(_, ps)| ps.iter().copied())
                            .collect();
                        if !bad.is_empty() {
                            return Err(Error::blame_all(bad, Reason::ConfirmationMismatch));
                        }
                        let key = key.ok_or(Error::Internal)?;
                        Ok(Step::Done(out, ReshareOutput::NewShare(key)))
                    } else if hashes.len() == 1 {
                        Ok(Step::Done(out, ReshareOutput::Dealt))
                    } else {
                        // The new parties disagree; blame all but the largest agreeing group.
                        let largest = hashes.values().map(Vec::len).max().unwrap_or(0);
                        let mut keep_one = true;
                        let mut bad = Vec::new();
                        for ps in hashes.values() {
                            if ps.len() == largest && keep_one {
                                keep_one = false;
                            } else {
                                bad.extend(ps.iter().copied());
                            }
                        }
                        Err(Error::blame_all(bad, Reason::ConfirmationMismatch))
                    };
                }
                _ => return Err(Error::Internal),
            }
        }
    }
}

impl<C: Curve> Protocol for Reshare<C> {
    type Message = ReshareMessage<C>;
    type Output = ReshareOutput<C>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<ReshareMessage<C>, ReshareOutput<C>>, Error> {
        self.life.start(|s| {
            let me = s.inbox.me();
            let mut out = Vec::new();
            if let Some(old) = s.old.take() {
                let mut d = deal(&s.config, &old, rng)?;
                drop(old);
                for (j, sub) in core::mem::take(&mut d.sub_shares) {
                    if j == me {
                        s.own = Some((d.commitments.clone(), sub));
                    } else {
                        out.push(s.inbox.envelope(
                            1,
                            Recipient::One(j),
                            ReshareMessage::Deal {
                                commitments: d.commitments.clone(),
                                sub_share: sub,
                            },
                        ));
                    }
                }
            }
            // A dealer-only party receives nothing in round 1: its round 1 is complete now.
            Ok(match s.advance()? {
                Step::Continue(more) => {
                    out.extend(more);
                    (Step::Continue(out), false)
                }
                Step::Done(more, o) => {
                    out.extend(more);
                    (Step::Done(out, o), true)
                }
            })
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<ReshareMessage<C>>,
        _rng: &mut R,
    ) -> Result<Step<ReshareMessage<C>, ReshareOutput<C>>, Error> {
        self.life.step(|s| {
            s.inbox.receive(incoming)?;
            s.advance()
        })
    }
}

fn write_config<C: Curve>(w: &mut Writer, c: &ReshareConfig<C>) {
    write_commitments::<C>(w, &c.old_commitments);
    w.parties(&c.old_parties);
    w.u64(c.old_epoch);
    w.parties(&c.dealers);
    w.parties(&c.new_parties);
    w.u16(c.new_threshold as u16);
}

fn read_config<C: Curve>(r: &mut Reader<'_>) -> Result<ReshareConfig<C>, DecodeError> {
    let c = ReshareConfig {
        old_commitments: read_commitments::<C>(r)?,
        old_parties: r.parties()?,
        old_epoch: r.u64()?,
        dealers: r.parties()?,
        new_parties: r.parties()?,
        new_threshold: usize::from(r.u16()?),
    };
    c.check().map_err(|_| DecodeError::InvalidValue)?;
    Ok(c)
}

/// `me party || lifecycle u8` and, while created / running: `config || inbox || has_old bool ||
/// [key share body] || has_own bool || [commitments || scalar] || has_result bool ||
/// [has_key bool || [key share body] || hash[32]]`. Holds secrets: store encrypted.
impl<C: Curve> WireObject for Reshare<C> {
    const KIND: ObjectKind = KIND_RESHARE_STATE;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        if let Some(s) = self.life.state() {
            write_config(w, &s.config);
            s.inbox.encode(w);
            match &s.old {
                Some(k) => {
                    w.bool(true);
                    k.encode_body(w);
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
                    match k {
                        Some(k) => {
                            w.bool(true);
                            k.encode_body(w);
                        }
                        None => w.bool(false),
                    }
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
                let config = read_config::<C>(r)?;
                let inbox = Inbox::decode(
                    r,
                    rounds(&config, me).map_err(|_| DecodeError::InvalidValue)?,
                )?;
                if inbox.me() != me {
                    return Err(DecodeError::InvalidValue);
                }
                let old = if r.bool()? {
                    Some(KeyShare::<C>::decode_body(r)?)
                } else {
                    None
                };
                let own = if r.bool()? {
                    Some((read_commitments::<C>(r)?, r.secret_scalar::<C>()?))
                } else {
                    None
                };
                let result = if r.bool()? {
                    let k = if r.bool()? {
                        Some(KeyShare::<C>::decode_body(r)?)
                    } else {
                        None
                    };
                    Some((k, r.array()?))
                } else {
                    None
                };
                let s = State {
                    config,
                    inbox,
                    old,
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
// Offline recipients: ECIES-sealed dealings
// ------------------------------------------------------------------------------------------

/// A dealer's contribution for offline recipients: its commitments and one ECIES ciphertext of
/// the sub-share per new party, encrypted to that party's factor key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedDealing<C: Curve> {
    /// The dealer.
    pub dealer: PartyId,
    /// `Fᵢ`.
    pub commitments: Commitments<C>,
    /// Sub-shares, sealed per recipient.
    pub sealed: BTreeMap<PartyId, Ciphertext<C>>,
}

/// `dealer party || commitments || u16 n || n × (party || var_bytes ciphertext object)`.
impl<C: Curve> WireObject for SealedDealing<C> {
    const KIND: ObjectKind = KIND_SEALED_DEALING;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.dealer);
        write_commitments::<C>(w, &self.commitments);
        w.u16(self.sealed.len() as u16);
        for (p, ct) in &self.sealed {
            w.party(*p);
            w.object(ct);
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let dealer = r.party()?;
        let commitments = read_commitments::<C>(r)?;
        let n = r.count16(wallet_types::MAX_PARTIES, 6)?;
        let mut sealed = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let p = r.party()?;
            if last.is_some_and(|l| l >= p) {
                return Err(DecodeError::NotSorted);
            }
            last = Some(p);
            let ct = Ciphertext::<C>::from_bytes(r.var_bytes(Ciphertext::<C>::MAX_LEN)?)?;
            sealed.insert(p, ct);
        }
        Ok(Self {
            dealer,
            commitments,
            sealed,
        })
    }
}

/// Deals this party's contribution with every sub-share sealed to the recipient's factor key
/// (`recipient_keys` must hold a key for every new party).
pub fn deal_sealed<C: Curve, R: CryptoRng + ?Sized>(
    session: &SessionId,
    config: &ReshareConfig<C>,
    key: &KeyShare<C>,
    recipient_keys: &BTreeMap<PartyId, C::Point>,
    rng: &mut R,
) -> Result<SealedDealing<C>, PssError> {
    config.check().map_err(|_| PssError::InvalidInput)?;
    let d = deal(config, key, rng).map_err(|_| PssError::Mismatch)?;
    let mut sealed = BTreeMap::new();
    for (j, sub) in &d.sub_shares {
        let q = recipient_keys.get(j).ok_or(PssError::InvalidInput)?;
        let ctx = Context {
            session: *session,
            epoch: config.new_epoch(),
            recipient: *j,
        };
        let mut w = Writer::new();
        w.secret_scalar(sub);
        let pt = w.into_secret();
        sealed.insert(*j, ecies::seal::<C, R>(q, &ctx, pt.expose(), rng)?);
    }
    Ok(SealedDealing {
        dealer: key.me(),
        commitments: d.commitments,
        sealed,
    })
}

/// Opens and verifies one sealed dealing per dealer and combines them into this party's new
/// key share. A dealing that fails names its dealer.
pub fn combine_sealed<C: Curve>(
    session: &SessionId,
    config: &ReshareConfig<C>,
    me: PartyId,
    factor_secret: &SecretScalar<C>,
    dealings: &[SealedDealing<C>],
) -> Result<KeyShare<C>, PssError> {
    config.check().map_err(|_| PssError::InvalidInput)?;
    if !config.new_parties.contains(me) {
        return Err(PssError::InvalidInput);
    }
    let ctx = Context {
        session: *session,
        epoch: config.new_epoch(),
        recipient: me,
    };
    let mut accepted = BTreeMap::new();
    for d in dealings {
        if !config.dealers.contains(d.dealer) || accepted.contains_key(&d.dealer) {
            return Err(PssError::Mismatch);
        }
        let ct = d
            .sealed
            .get(&me)
            .ok_or(PssError::InvalidSubShare(d.dealer))?;
        let pt = ecies::open(factor_secret, &ctx, ct).map_err(|e| match e {
            PssError::ContextMismatch => PssError::ContextMismatch,
            _ => PssError::InvalidSubShare(d.dealer),
        })?;
        let mut r = Reader::new(pt.expose());
        let sub = r
            .secret_scalar::<C>()
            .and_then(|s| r.finish().map(|()| s))
            .map_err(|_| PssError::InvalidSubShare(d.dealer))?;
        match check_dealing(config, d.dealer, &d.commitments, me, &sub) {
            Ok(()) => {}
            Err(Reason::PublicKeyMismatch) => return Err(PssError::KeyChanged(d.dealer)),
            Err(_) => return Err(PssError::InvalidSubShare(d.dealer)),
        }
        accepted.insert(d.dealer, (d.commitments.clone(), sub));
    }
    if accepted.len() != config.dealers.len() {
        return Err(PssError::TooFew {
            needed: config.dealers.len(),
            given: accepted.len(),
        });
    }
    combine(config, me, &accepted).map_err(|_| PssError::Internal)
}
