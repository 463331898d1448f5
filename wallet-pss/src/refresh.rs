//! Distributed proactive refresh (Herzberg, Jarecki, Krawczyk, Yung 1995, §3 "share renewal").
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
//! 2. **Confirm** (broadcast): a transcript hash of every `Δᵢ`. Round 1 is point-to-point, so a
//!    dealer could send different commitments to different parties; this round catches it
//!    ([`Reason::ConfirmationMismatch`]), and no party ends with a new share that others lack.
//!
//! The transport must encrypt point-to-point messages (they carry sub-shares); use
//! [`crate::ecies`] where it does not.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use rand_core::CryptoRng;
use wallet_sss::{Commitments, Polynomial};
use wallet_types::group::Group;
use wallet_types::{
    Curve, CurveId, DecodeError, Envelope, Error, Inbox, Lifecycle, ObjectKind, PartyId, Protocol,
    Reader, Reason, Recipient, RoundSpec, SecretScalar, SessionId, Step, Transcript, WireObject,
    Writer,
};

use crate::deal::DealMessage;
use crate::key::{KeyShare, read_commitments, write_commitments};

/// Object kind of a refresh machine's state.
pub const KIND_REFRESH_STATE: ObjectKind = ObjectKind(0x0511);
const PROTOCOL: &str = "wallet-pss/refresh";
const VERSION: u16 = 1;

/// A refresh message: round 1 deals a sharing of zero (point-to-point), round 2 confirms.
pub type RefreshMessage<C> = DealMessage<C>;

fn rounds() -> Vec<RoundSpec> {
    vec![RoundSpec::p2p(), RoundSpec::broadcast()]
}

struct State<C: Curve> {
    inbox: Inbox<RefreshMessage<C>>,
    key: KeyShare<C>,
    /// Our own dealing, kept from `start` to the end of round 1.
    own: Option<(Commitments<C>, SecretScalar<C>)>,
    /// After round 1: the new share, the new commitments and the confirmation hash.
    result: Option<(SecretScalar<C>, Commitments<C>, [u8; 32])>,
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
            .finish_non_exhaustive()
    }
}

impl<C: Curve> Refresh<C> {
    /// A refresh of `key` among all of its parties in `session` (fresh per refresh, e.g. from
    /// [`wallet_types::session_id`]). Every party of the key must take part.
    pub fn new(session: SessionId, key: KeyShare<C>) -> Result<Self, Error> {
        let me = key.me();
        let inbox = Inbox::new(session, me, key.parties().clone(), rounds())?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                key,
                own: None,
                result: None,
            }),
        })
    }
}

fn confirmation<C: Curve>(
    session: &SessionId,
    key: &KeyShare<C>,
    dealings: &BTreeMap<PartyId, Commitments<C>>,
) -> [u8; 32] {
    let mut t = Transcript::new(PROTOCOL, VERSION, Some(C::ID), session);
    t.append_u64("epoch", key.epoch());
    t.append_point::<C>("public-key", &key.public_key());
    for (p, c) in dealings {
        t.append_party("dealer", *p);
        for point in c.points() {
            t.append_point::<C>("commitment", point);
        }
    }
    t.output32("confirm")
}

impl<C: Curve> State<C> {
    fn advance(&mut self) -> Result<Step<RefreshMessage<C>, KeyShare<C>>, Error> {
        let mut out = Vec::new();
        while let Some(msgs) = self.inbox.take_current() {
            match self.inbox.current_round() - 1 {
                1 => {
                    let me = self.inbox.me();
                    let t = self.key.threshold();
                    let (own_c, own_s) = self.own.take().ok_or(Error::Internal)?;
                    let mut dealings = BTreeMap::new();
                    let mut new_share =
                        SecretScalar::<C>::new(*self.key.share().expose() + own_s.expose());
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
                    let mut commitments = self.key.commitments().clone();
                    for c in dealings.values() {
                        commitments = commitments.add(c).map_err(|_| Error::Internal)?;
                    }
                    let h = confirmation(self.inbox.session(), &self.key, &dealings);
                    self.result = Some((new_share, commitments, h));
                    out.push(
                        self.inbox
                            .envelope(2, Recipient::All, RefreshMessage::Confirm(h)),
                    );
                }
                2 => {
                    let (_, _, h) = self.result.as_ref().ok_or(Error::Internal)?;
                    let mut bad = Vec::new();
                    for (p, m) in msgs {
                        match m {
                            RefreshMessage::Confirm(x) if x == *h => {}
                            RefreshMessage::Confirm(_) => bad.push(p),
                            RefreshMessage::Deal { .. } => {
                                return Err(Error::blame(p, Reason::MalformedMessage));
                            }
                        }
                    }
                    if !bad.is_empty() {
                        return Err(Error::blame_all(bad, Reason::ConfirmationMismatch));
                    }
                    let (share, commitments, _) = self.result.take().ok_or(Error::Internal)?;
                    let next = self.key.epoch().checked_add(1).ok_or(Error::Internal)?;
                    let key = KeyShare::new(
                        self.key.me(),
                        self.key.threshold(),
                        self.key.parties().clone(),
                        share,
                        commitments,
                        next,
                    )
                    .map_err(|_| Error::Internal)?;
                    return Ok(Step::Done(out, key));
                }
                _ => return Err(Error::Internal),
            }
        }
        Ok(Step::Continue(out))
    }
}

impl<C: Curve> Protocol for Refresh<C> {
    type Message = RefreshMessage<C>;
    type Output = KeyShare<C>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<RefreshMessage<C>, KeyShare<C>>, Error> {
        self.life.start(|s| {
            let t = s.key.threshold();
            let delta = Polynomial::<C>::random(SecretScalar::zero(), t, rng)
                .map_err(|_| Error::Internal)?;
            let commitments = delta.commit();
            let me = s.inbox.me();
            let mut out = Vec::new();
            for p in s.key.parties().others(me) {
                out.push(s.inbox.envelope(
                    1,
                    Recipient::One(p),
                    RefreshMessage::Deal {
                        commitments: commitments.clone(),
                        sub_share: delta.share_for(p),
                    },
                ));
            }
            s.own = Some((commitments, delta.share_for(me)));
            Ok((Step::Continue(out), false))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<RefreshMessage<C>>,
        _rng: &mut R,
    ) -> Result<Step<RefreshMessage<C>, KeyShare<C>>, Error> {
        self.life.step(|s| {
            s.inbox.receive(incoming)?;
            s.advance()
        })
    }
}

/// `me party || lifecycle u8` and, while created / running: `inbox || key share (body) ||
/// has_own bool || [commitments || scalar] || has_result bool || [scalar || commitments ||
/// hash[32]]`. Holds secrets: store encrypted.
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
            s.key.encode_body(w);
            match &s.own {
                Some((c, x)) => {
                    w.bool(true);
                    write_commitments::<C>(w, c);
                    w.secret_scalar(x);
                }
                None => w.bool(false),
            }
            match &s.result {
                Some((x, c, h)) => {
                    w.bool(true);
                    w.secret_scalar(x);
                    write_commitments::<C>(w, c);
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
                let key = KeyShare::<C>::decode_body(r)?;
                if inbox.me() != me || key.me() != me || inbox.parties() != key.parties() {
                    return Err(DecodeError::InvalidValue);
                }
                let own = if r.bool()? {
                    Some((read_commitments::<C>(r)?, r.secret_scalar::<C>()?))
                } else {
                    None
                };
                let result = if r.bool()? {
                    Some((
                        r.secret_scalar::<C>()?,
                        read_commitments::<C>(r)?,
                        r.array()?,
                    ))
                } else {
                    None
                };
                let s = State {
                    inbox,
                    key,
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
