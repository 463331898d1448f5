//! Distributed key generation: FROST KeyGen (Komlo–Goldberg 2020, Figure 1) — Pedersen's DKG
//! with a Schnorr proof of knowledge of each dealer's constant term — plus a **confirmation
//! round**, so that a DKG never ends with honest parties holding different keys, and an
//! **acknowledgement round**, so that no party is told "done" unless every party holds the key.
//!
//! Rounds, for `t`-of-`n` parties `P₁..Pₙ` (`2 ≤ t ≤ n`) in session `sid`:
//!
//! 1. **Commit** (broadcast). `Pᵢ` draws `fᵢ(x) = aᵢ₀ + aᵢ₁x + … + aᵢ,ₜ₋₁xᵗ⁻¹`, broadcasts its
//!    Feldman commitment `Φᵢ = (aᵢ₀·G, …, aᵢ,ₜ₋₁·G)` and `σᵢ = (Rᵢ, μᵢ)`, a Schnorr proof of
//!    knowledge of `aᵢ₀`: `Rᵢ = k·G`, `cᵢ = T(sid, parties, t; i, Φᵢ₀, Rᵢ)`, `μᵢ = k + aᵢ₀·cᵢ`.
//!    Receivers check `Rⱼ = μⱼ·G − cⱼ·Φⱼ₀` for every `j` (batched; on failure each proof is checked
//!    alone and the culprits are blamed: [`Reason::InvalidProof`]) and that `|Φⱼ| = t`.
//!    The proofs stop rogue-key attacks (a dealer choosing `Φⱼ₀` as a function of the others').
//! 2. **Shares** (point-to-point, encrypted by the transport). `Pᵢ` sends `fᵢ(j)` to `Pⱼ`. `Pⱼ`
//!    verifies each against `Φᵢ` (Feldman; batched, then one by one to name culprits:
//!    [`Reason::InvalidShare`]) and sets `sⱼ = Σᵢ fᵢ(j)`, `Φ = Σᵢ Φᵢ`, `Y = Φ₀`.
//! 3. **Confirm** (broadcast). `Pⱼ` broadcasts, for every party `i`, the digest of the round-1
//!    message it received from `Pᵢ`, and the hash of the whole transcript (all commitments and
//!    the group key). Any difference means some party's round-1 broadcast was not the same for
//!    everybody: the DKG fails with [`Reason::ConfirmationMismatch`], blaming the party whose
//!    broadcast is in dispute (the confirmer itself if only its hash differs, or if the dispute
//!    is about our own message, which we know).
//!
//! 4. **Acknowledge** (broadcast). `Pⱼ` broadcasts `Ack(hash)` when every confirmation matched
//!    its own, otherwise `Decline(hash)` ([`wallet_types::termination`]).
//!
//! Blame in round 3 rests on the confirmer's word: without transferable signatures nobody can
//! prove what it received, so a lying confirmer can make the DKG fail blaming another party —
//! but it can never make honest parties finish with different keys.
//!
//! **Termination (invariant 11).** The output is a [`Termination`] of the party's
//! [`KeyPackage`] (secret share `sⱼ`, group key `Y`, the group commitment `Φ` and hence every
//! party's share commitment, threshold and party set). It is `Confirmed` only when every other
//! party acknowledged the same hash: then every honest party holds its share of the same key.
//! A failure in round 1 or 2 aborts (nothing is computed yet, and nobody can be Confirmed
//! without this party's acknowledgement). A failure from round 3 on — a confirmation mismatch
//! (culprits as above), a declined, missing or equivocated acknowledgement, any misbehaviour —
//! ends the machine `Unconfirmed` with its key package **kept**: a party that acknowledged may
//! be needed by Confirmed parties that already publish the key, so it must never discard it.
//! [`DkgParty::stop_waiting`] ends a run whose last messages do not come the same way. Use the
//! key (publish its address) only when Confirmed; see the table in
//! [`wallet_types::termination`] for the unconfirmed cases.
//!
//! A 2-of-3 DKG, with the message loop a transport replaces spelled out:
//!
//! ```
//! use std::collections::VecDeque;
//! use wallet_tss::frost::dkg::DkgParty;
//! use wallet_types::{Ed25519, Error, Parties, Protocol, Recipient, SessionId, Step};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let parties = Parties::range(3)?;
//! let sid = SessionId::random(&mut rng); // agreed and fresh (wallet_types::session_id)
//! let mut machines = parties
//!     .iter()
//!     .map(|me| DkgParty::<Ed25519>::new(sid, me, parties.clone(), 2, &mut rng))
//!     .collect::<Result<Vec<_>, _>>()?;
//!
//! let mut queue = VecDeque::new();
//! let mut keys = Vec::new();
//! let mut steps = Vec::new();
//! for m in machines.iter_mut() {
//!     steps.push(m.start(&mut rng)?);
//! }
//! loop {
//!     for step in steps.drain(..) {
//!         match step {
//!             Step::Continue(out) => queue.extend(out),
//!             // Keep the key only once every party acknowledged it (invariant 11).
//!             Step::Done(out, key) => {
//!                 queue.extend(out);
//!                 keys.push(key.into_confirmed().map_err(|_| Error::Internal)?);
//!             }
//!         }
//!     }
//!     let Some(envelope) = queue.pop_front() else { break };
//!     // Round 1, 3 and 4 messages are broadcasts, round 2 shares go to one party each
//!     // (over an encrypted channel when the parties are not in one process).
//!     for m in machines.iter_mut() {
//!         let to_me = match envelope.recipient {
//!             Recipient::One(id) => m.me() == id,
//!             Recipient::All => m.me() != envelope.sender,
//!         };
//!         if to_me {
//!             steps.push(m.handle(envelope.clone(), &mut rng)?);
//!         }
//!     }
//! }
//! assert_eq!(keys.len(), 3);
//! let group_key = keys[0].public().group_key_bytes();
//! assert!(keys.iter().all(|k| k.public().group_key_bytes() == group_key));
//! # Ok::<(), wallet_types::Error>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use group::Group;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use wallet_sss::{Commitments, Polynomial};
use wallet_types::{
    Acknowledgement, DecodeError, Envelope, Error, ErrorKind, HEADER_LEN, Inbox, Lifecycle,
    MAX_PARTIES, ObjectKind, ParamError, Parties, PartyId, Protocol, Reader, Reason, Recipient,
    RoundMessage, RoundSpec, SecretScalar, SessionId, Step, Stopped, Termination, Transcript,
    Unconfirmed, WireObject, Writer,
};

use super::ciphersuite::Ciphersuite;
use super::keys::{KeyPackage, PublicKeyPackage, share_commitment};
use super::{KIND_DKG_MESSAGE, KIND_DKG_STATE};

const PROTOCOL: &str = "wallet-tss/frost-dkg";
/// The hashes are those of version 1 (the acknowledgement round added no hash).
const VERSION: u16 = 1;

/// A secret share in transit (round 2). `Clone` only because protocol messages must be; the
/// value is zeroized on drop and never printed.
pub struct DkgShare<C: Ciphersuite>(SecretScalar<C>);

impl<C: Ciphersuite> DkgShare<C> {
    /// Wraps a share value `fᵢ(j)`.
    pub fn new(value: SecretScalar<C>) -> Self {
        Self(value)
    }
}

impl<C: Ciphersuite> Clone for DkgShare<C> {
    fn clone(&self) -> Self {
        Self(self.0.duplicate())
    }
}

impl<C: Ciphersuite> fmt::Debug for DkgShare<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DkgShare(<redacted>)")
    }
}

/// A DKG message.
#[allow(non_snake_case)]
#[derive(Clone, Debug)]
pub enum DkgMessage<C: Ciphersuite> {
    /// Round 1 (broadcast): Feldman commitment `Φᵢ` and proof of knowledge `(Rᵢ, μᵢ)`.
    Commit {
        /// `Φᵢ = (aᵢ₀·G, …)`, `t` points.
        commitment: Vec<C::Point>,
        /// The proof's commitment `Rᵢ`.
        R: C::Point,
        /// The proof's response `μᵢ`.
        mu: C::Scalar,
    },
    /// Round 2 (point-to-point): `fᵢ(j)`.
    Share(DkgShare<C>),
    /// Round 3 (broadcast): per-party round-1 digests (in party order) and the transcript hash.
    Confirm {
        /// Digest of the round-1 message received from each party, in party order.
        digests: Vec<[u8; 32]>,
        /// Hash of all commitments and the group key.
        hash: [u8; 32],
    },
    /// Round 4 (broadcast): the acknowledgement of the confirmation hash.
    Acknowledge(Acknowledgement),
}

impl<C: Ciphersuite> DkgMessage<C> {
    /// Builds the round-1 message of `me` for a given polynomial (what [`DkgParty`] does in
    /// `start`; public so that tests can play a dealer that equivocates).
    pub fn commit<R: CryptoRng + ?Sized>(
        session: &SessionId,
        parties: &Parties,
        threshold: usize,
        me: PartyId,
        poly: &Polynomial<C>,
        rng: &mut R,
    ) -> Self {
        let commitment = commit_polynomial(poly);
        let k = SecretScalar::<C>::random(rng);
        #[allow(non_snake_case)]
        let R = C::base_mul(k.expose());
        let a0 = poly
            .coefficients()
            .first()
            .map(|a| *a.expose())
            .unwrap_or_default();
        let phi0 = commitment
            .first()
            .copied()
            .unwrap_or_else(C::Point::identity);
        let c = pok_challenge::<C>(session, parties, threshold, me, &phi0, &R);
        let mu = *k.expose() + a0 * c;
        Self::Commit { commitment, R, mu }
    }
}

impl<C: Ciphersuite> RoundMessage for DkgMessage<C> {
    fn round(&self) -> u16 {
        match self {
            Self::Commit { .. } => 1,
            Self::Share(_) => 2,
            Self::Confirm { .. } => 3,
            Self::Acknowledge(_) => 4,
        }
    }
}

/// Body: `tag u8` then
/// * `1` Commit: `u16 t || Φ₀ || … || Φₜ₋₁ || R || μ` (`Φ₀`, `R` non-identity);
/// * `2` Share: `SerializeScalar(fᵢ(j))`;
/// * `3` Confirm: `u16 n || n × digest[32] || hash[32]`;
/// * `4` Acknowledge: `u8 verdict (1 ack, 2 decline) || hash[32]`.
impl<C: Ciphersuite> WireObject for DkgMessage<C> {
    const KIND: ObjectKind = KIND_DKG_MESSAGE;
    const MAX_LEN: usize = HEADER_LEN + 1 + 2 + 33 * (MAX_PARTIES + 1) + 32;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Commit { commitment, R, mu } => {
                w.u8(1);
                w.u16(commitment.len() as u16);
                for p in commitment {
                    w.bytes(C::encode_point(p).as_ref());
                }
                w.point::<C>(R);
                w.scalar::<C>(mu);
            }
            Self::Share(s) => {
                w.u8(2);
                w.secret_scalar::<C>(&s.0);
            }
            Self::Confirm { digests, hash } => {
                w.u8(3);
                w.u16(digests.len() as u16);
                for d in digests {
                    w.bytes(d);
                }
                w.bytes(hash);
            }
            Self::Acknowledge(a) => {
                w.u8(4);
                a.encode(w);
            }
        }
    }

    #[allow(non_snake_case)]
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => {
                let t = r.count16(MAX_PARTIES, C::POINT_LEN)?;
                if t == 0 {
                    return Err(DecodeError::InvalidValue);
                }
                let mut commitment = Vec::with_capacity(t);
                for k in 0..t {
                    commitment.push(if k == 0 {
                        r.point::<C>()?
                    } else {
                        r.point_or_identity::<C>()?
                    });
                }
                let R = r.point::<C>()?;
                let mu = r.scalar::<C>()?;
                Ok(Self::Commit { commitment, R, mu })
            }
            2 => Ok(Self::Share(DkgShare(r.secret_scalar::<C>()?))),
            3 => {
                let n = r.count16(MAX_PARTIES, 32)?;
                let mut digests = Vec::with_capacity(n);
                for _ in 0..n {
                    digests.push(r.array::<32>()?);
                }
                let hash = r.array::<32>()?;
                Ok(Self::Confirm { digests, hash })
            }
            4 => Ok(Self::Acknowledge(Acknowledgement::decode(r)?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

fn base_transcript<C: Ciphersuite>(
    session: &SessionId,
    parties: &Parties,
    threshold: usize,
) -> Transcript {
    let mut t = Transcript::new(PROTOCOL, VERSION, Some(C::ID), session);
    t.append("parties", &parties.to_bytes());
    t.append_u64("threshold", threshold as u64);
    t
}

#[allow(non_snake_case)]
fn pok_challenge<C: Ciphersuite>(
    session: &SessionId,
    parties: &Parties,
    threshold: usize,
    who: PartyId,
    phi0: &C::Point,
    R: &C::Point,
) -> C::Scalar {
    let mut t = base_transcript::<C>(session, parties, threshold);
    t.append_party("prover", who);
    t.append_point::<C>("phi0", phi0);
    t.append_point::<C>("R", R);
    t.challenge::<C>("pok")
}

fn round1_digest<C: Ciphersuite>(
    session: &SessionId,
    parties: &Parties,
    threshold: usize,
    who: PartyId,
    msg: &DkgMessage<C>,
) -> [u8; 32] {
    let mut t = base_transcript::<C>(session, parties, threshold);
    t.append_party("sender", who);
    t.append("round1", &msg.to_bytes());
    t.output32("round1-digest")
}

/// Feldman commitment `(a₀·G, …, aₜ₋₁·G)` of a polynomial (the ciphersuite's fixed-base
/// multiplication; same result as `Polynomial::commit`).
pub(crate) fn commit_polynomial<C: Ciphersuite>(poly: &Polynomial<C>) -> Vec<C::Point> {
    poly.coefficients()
        .iter()
        .map(|a| C::base_mul(a.expose()))
        .collect()
}

fn rounds() -> Vec<RoundSpec> {
    vec![
        RoundSpec::broadcast(),
        RoundSpec::p2p(),
        RoundSpec::broadcast(),
        RoundSpec::broadcast(),
    ]
}

fn random_weight<C: Ciphersuite, R: CryptoRng + ?Sized>(rng: &mut R) -> C::Scalar {
    use ff::PrimeField;
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    C::Scalar::from_u128(u128::from_le_bytes(b))
}

type DkgStep<C> = Step<DkgMessage<C>, Termination<KeyPackage<C>>>;

struct State<C: Ciphersuite> {
    inbox: Inbox<DkgMessage<C>>,
    threshold: usize,
    /// Our polynomial; dropped (zeroized) once our own share of it is taken in round 2.
    poly: Option<Polynomial<C>>,
    /// Every party's `Φᵢ` (ours included).
    commitments: BTreeMap<PartyId, Vec<C::Point>>,
    /// Digest of every party's round-1 message as we received it (ours as we sent it).
    digests: BTreeMap<PartyId, [u8; 32]>,
    /// After round 2: our share, the public package and the transcript hash.
    result: Option<(SecretScalar<C>, PublicKeyPackage<C>, [u8; 32])>,
}

/// One party of the DKG, as a [`Protocol`] machine. Its serialized state holds secrets (its
/// polynomial, then its key share): store it encrypted.
pub struct DkgParty<C: Ciphersuite> {
    me: PartyId,
    life: Lifecycle<State<C>>,
}

impl<C: Ciphersuite> fmt::Debug for DkgParty<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkgParty")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl<C: Ciphersuite> DkgParty<C> {
    /// A `threshold`-of-`parties` DKG party `me` in `session` (a fresh id agreed by all, e.g.
    /// with `wallet_types::session_id`). `2 ≤ threshold ≤ n`. The polynomial is drawn here.
    pub fn new<R: CryptoRng + ?Sized>(
        session: SessionId,
        me: PartyId,
        parties: Parties,
        threshold: usize,
        rng: &mut R,
    ) -> Result<Self, Error> {
        if threshold < 2 || threshold > parties.len() {
            return Err(ParamError::InvalidThreshold {
                threshold,
                parties: parties.len(),
            }
            .into());
        }
        let inbox = Inbox::new(session, me, parties, rounds())?;
        let poly = Polynomial::random(SecretScalar::random(rng), threshold, rng)
            .map_err(|_| Error::Params(ParamError::OutOfRange))?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                threshold,
                poly: Some(poly),
                commitments: BTreeMap::new(),
                digests: BTreeMap::new(),
                result: None,
            }),
        })
    }

    /// Ends a machine whose run stopped making progress (a party stays silent; the caller's
    /// timeout is up) without losing what it computed: past round 2 it ends [`Unconfirmed`]
    /// with the key package — and, if this party had not acknowledged yet, a `Decline` to
    /// broadcast, so that it can never be counted later — listing every other party. `None`
    /// with the machine unchanged when it was not started or is over; `None` with the machine
    /// ended when it has no key package yet (nothing to keep). Later calls answer
    /// [`Error::Finished`].
    pub fn stop_waiting(&mut self) -> Option<Stopped<DkgMessage<C>, KeyPackage<C>>> {
        match core::mem::replace(&mut self.life, Lifecycle::Finished) {
            Lifecycle::Running(mut s) => {
                // No key package yet: nothing to keep (the machine stays ended).
                s.result.as_ref()?;
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

impl<C: Ciphersuite> State<C> {
    fn session(&self) -> SessionId {
        *self.inbox.session()
    }

    #[allow(non_snake_case)]
    fn round1<R: CryptoRng + ?Sized>(
        &mut self,
        msgs: BTreeMap<PartyId, DkgMessage<C>>,
        rng: &mut R,
    ) -> Result<Vec<Envelope<DkgMessage<C>>>, Error> {
        let session = self.session();
        let parties = self.inbox.parties().clone();
        let t = self.threshold;
        // Shape first, then all proofs in one batch: Σ wⱼ·(μⱼ·G − cⱼ·Φⱼ₀ − Rⱼ) = 0. Every
        // scalar here (responses μⱼ, challenges cⱼ, weights) is public: variable time is fine.
        let mut proofs = Vec::with_capacity(msgs.len());
        for (p, m) in &msgs {
            let DkgMessage::Commit { commitment, R, mu } = m else {
                return Err(Error::blame(*p, Reason::MalformedMessage));
            };
            if commitment.len() != t {
                return Err(Error::blame(*p, Reason::MalformedMessage));
            }
            let phi0 = *commitment
                .first()
                .ok_or(Error::blame(*p, Reason::MalformedMessage))?;
            let c = pok_challenge::<C>(&session, &parties, t, *p, &phi0, R);
            proofs.push((*p, phi0, *R, *mu, c));
        }
        let mut scalars = Vec::with_capacity(2 * proofs.len() + 1);
        let mut points = Vec::with_capacity(2 * proofs.len() + 1);
        let mut g = C::Scalar::from(0u64);
        for (_, phi0, R, mu, c) in &proofs {
            let w = random_weight::<C, R>(rng);
            g += w * mu;
            scalars.push(-(w * c));
            points.push(*phi0);
            scalars.push(-w);
            points.push(*R);
        }
        scalars.push(g);
        points.push(C::Point::generator());
        if !C::msm_is_identity(&scalars, &points) {
            let bad: Vec<PartyId> = proofs
                .iter()
                .filter(|(_, phi0, R, mu, c)| C::mul_base_add_vartime(mu, &(-*c), phi0) != *R)
                .map(|(p, ..)| *p)
                .collect();
            return Err(if bad.is_empty() {
                Error::Internal
            } else {
                Error::blame_all(bad, Reason::InvalidProof)
            });
        }
        for (p, m) in msgs {
            self.digests
                .insert(p, round1_digest::<C>(&session, &parties, t, p, &m));
            if let DkgMessage::Commit { commitment, .. } = m {
                self.commitments.insert(p, commitment);
            }
        }
        let poly = self.poly.as_ref().ok_or(Error::Internal)?;
        let me = self.inbox.me();
        Ok(parties
            .others(me)
            .map(|j| {
                self.inbox.envelope(
                    2,
                    Recipient::One(j),
                    DkgMessage::Share(DkgShare(poly.share_for(j))),
                )
            })
            .collect())
    }

    fn round2<R: CryptoRng + ?Sized>(
        &mut self,
        msgs: BTreeMap<PartyId, DkgMessage<C>>,
        rng: &mut R,
    ) -> Result<Vec<Envelope<DkgMessage<C>>>, Error> {
        let me = self.inbox.me();
        let mut shares = Vec::with_capacity(msgs.len());
        for (p, m) in msgs {
            let DkgMessage::Share(s) = m else {
                return Err(Error::blame(p, Reason::MalformedMessage));
            };
            shares.push((p, s.0));
        }
        // Feldman, batched: (Σⱼ wⱼ·sⱼ)·G = Σⱼ wⱼ·Fⱼ(me) with Fⱼ(me) = Σₖ meᵏ·Φⱼ,ₖ evaluated by
        // Horner's rule on the small integer `me`.
        //
        // The two sides are computed apart on purpose: `g = Σⱼ wⱼ·sⱼ` depends on the secret
        // shares we received (their sum, with our own, is our key share), so by the rule of
        // `wallet_types::Curve` it goes through the constant-time fixed-base multiplication and
        // never into the variable-time MSM, whose running time depends on its scalars. The other
        // side has public points and weights that depend on no secret (fresh local randomness):
        // it stays variable time.
        let mut weights = Vec::with_capacity(shares.len());
        let mut points = Vec::with_capacity(shares.len());
        let mut g = SecretScalar::<C>::zero();
        for (p, s) in &shares {
            let phi = self.commitments.get(p).ok_or(Error::Internal)?;
            let w = random_weight::<C, R>(rng);
            *g.expose_mut() += w * s.expose();
            weights.push(w);
            points.push(share_commitment::<C>(phi, me));
        }
        let lhs = C::base_mul(g.expose());
        drop(g);
        if !bool::from(lhs.ct_eq(&C::msm(&weights, &points))) {
            let mut bad = Vec::new();
            for (p, s) in &shares {
                let phi = self.commitments.get(p).ok_or(Error::Internal)?;
                let comm = Commitments::<C>::new(phi.clone()).map_err(|_| Error::Internal)?;
                if !comm.verify_share(me, s) {
                    bad.push(*p);
                }
            }
            return Err(if bad.is_empty() {
                Error::Internal
            } else {
                Error::blame_all(bad, Reason::InvalidShare)
            });
        }
        let poly = self.poly.take().ok_or(Error::Internal)?;
        let mut secret = poly.share_for(me);
        drop(poly);
        for (_, s) in &shares {
            *secret.expose_mut() += s.expose();
        }
        // Φ = Σᵢ Φᵢ, Y = Φ₀.
        let t = self.threshold;
        let mut phi = vec![C::Point::identity(); t];
        for c in self.commitments.values() {
            for (acc, p) in phi.iter_mut().zip(c) {
                *acc += p;
            }
        }
        let parties = self.inbox.parties().clone();
        let public = PublicKeyPackage::new(parties.clone(), phi).map_err(|_| Error::Internal)?;
        let digests: Vec<[u8; 32]> = parties
            .iter()
            .map(|p| self.digests.get(&p).copied().ok_or(Error::Internal))
            .collect::<Result<_, _>>()?;
        let mut tr = base_transcript::<C>(&self.session(), &parties, t);
        for (p, d) in parties.iter().zip(&digests) {
            tr.append_party("party", p);
            tr.append("round1-digest", d);
        }
        for p in public.commitment() {
            tr.append_point::<C>("group-commitment", p);
        }
        tr.append_point::<C>("group-key", public.group_key().get());
        let hash = tr.output32("confirm");
        self.result = Some((secret, public, hash));
        Ok(vec![self.inbox.envelope(
            3,
            Recipient::All,
            DkgMessage::Confirm { digests, hash },
        )])
    }

    /// Round 3: every confirmation must match ours; then acknowledge. `Some` ends the run
    /// (declined, unconfirmed).
    fn round3(
        &mut self,
        msgs: BTreeMap<PartyId, DkgMessage<C>>,
        out: &mut Vec<Envelope<DkgMessage<C>>>,
    ) -> Result<Option<DkgStep<C>>, Error> {
        let (_, _, hash) = self.result.as_ref().ok_or(Error::Internal)?;
        let parties = self.inbox.parties().clone();
        let mine: Vec<[u8; 32]> = parties
            .iter()
            .map(|p| self.digests.get(&p).copied().ok_or(Error::Internal))
            .collect::<Result<_, _>>()?;
        let me = self.inbox.me();
        let mut culprits = Vec::new();
        for (p, m) in &msgs {
            // A malformed confirmation is a disagreement too: the share exists now, so it is
            // kept rather than dropped by an abort.
            let DkgMessage::Confirm {
                digests,
                hash: theirs,
            } = m
            else {
                culprits.push(*p);
                continue;
            };
            if digests.len() != mine.len() {
                culprits.push(*p);
                continue;
            }
            let contested: Vec<PartyId> = parties
                .iter()
                .zip(digests.iter().zip(&mine))
                .filter(|(_, (a, b))| a != b)
                .map(|(q, _)| q)
                .collect();
            if contested.is_empty() {
                if theirs != hash {
                    culprits.push(*p);
                }
            } else {
                for q in contested {
                    // We know what we sent ourselves: a dispute about our own message is the
                    // confirmer's lie (or a forgery on its channel).
                    culprits.push(if q == me { *p } else { q });
                }
            }
        }
        if !culprits.is_empty() {
            return self
                .conclude(core::mem::take(out), false, culprits)
                .map(Some);
        }
        let hash = *hash;
        out.push(self.inbox.envelope(
            4,
            Recipient::All,
            DkgMessage::Acknowledge(Acknowledgement::Ack(hash)),
        ));
        Ok(None)
    }

    /// Round 4: Confirmed iff every other party acknowledged our hash.
    fn round4(
        &mut self,
        msgs: BTreeMap<PartyId, DkgMessage<C>>,
    ) -> Result<Termination<KeyPackage<C>>, Error> {
        let (kp, hash) = self.take_result()?;
        Ok(Termination::from_acknowledgements(
            kp,
            hash,
            msgs.iter().map(|(p, m)| match m {
                DkgMessage::Acknowledge(a) => (*p, Some(a)),
                _ => (*p, None),
            }),
        ))
    }

    fn take_result(&mut self) -> Result<(KeyPackage<C>, [u8; 32]), Error> {
        let (secret, public, hash) = self.result.take().ok_or(Error::Internal)?;
        let kp = KeyPackage::new(self.inbox.me(), secret, public).map_err(|_| Error::Internal)?;
        Ok((kp, hash))
    }

    /// Round 4 is current once this party has acknowledged.
    fn acknowledged(&self) -> bool {
        self.inbox.current_round() >= 4
    }

    /// Ends the run after round 2 on a failure, keeping the key package; a party that has not
    /// acknowledged yet declines (so that nobody waits for it or counts it).
    fn conclude(
        &mut self,
        mut out: Vec<Envelope<DkgMessage<C>>>,
        acknowledged: bool,
        disagreeing: Vec<PartyId>,
    ) -> Result<DkgStep<C>, Error> {
        let (kp, hash) = self.take_result()?;
        if !acknowledged {
            out.push(self.inbox.envelope(
                4,
                Recipient::All,
                DkgMessage::Acknowledge(Acknowledgement::Decline(hash)),
            ));
        }
        Ok(Step::Done(
            out,
            Termination::Unconfirmed(Unconfirmed::new(kp, hash, acknowledged, disagreeing)),
        ))
    }

    fn advance<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<DkgStep<C>, Error> {
        let mut out = Vec::new();
        while let Some(msgs) = self.inbox.take_current() {
            match self.inbox.current_round().saturating_sub(1) {
                1 => out.extend(self.round1(msgs, rng)?),
                2 => out.extend(self.round2(msgs, rng)?),
                3 => {
                    if let Some(done) = self.round3(msgs, &mut out)? {
                        return Ok(done);
                    }
                }
                4 => return Ok(Step::Done(out, self.round4(msgs)?)),
                _ => return Err(Error::Internal),
            }
        }
        Ok(Step::Continue(out))
    }
}

impl<C: Ciphersuite> Protocol for DkgParty<C> {
    type Message = DkgMessage<C>;
    type Output = Termination<KeyPackage<C>>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<DkgStep<C>, Error> {
        self.life.start(|s| {
            let me = s.inbox.me();
            let session = s.session();
            let parties = s.inbox.parties().clone();
            let poly = s.poly.as_ref().ok_or(Error::Internal)?;
            let msg = DkgMessage::commit(&session, &parties, s.threshold, me, poly, rng);
            s.digests.insert(
                me,
                round1_digest::<C>(&session, &parties, s.threshold, me, &msg),
            );
            if let DkgMessage::Commit { commitment, .. } = &msg {
                s.commitments.insert(me, commitment.clone());
            }
            Ok((
                Step::Continue(vec![s.inbox.envelope(1, Recipient::All, msg)]),
                false,
            ))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<DkgMessage<C>>,
        rng: &mut R,
    ) -> Result<DkgStep<C>, Error> {
        self.life.step(|s| match s.inbox.receive(incoming) {
            Ok(_) => s.advance(rng),
            // Once the key package exists, a misbehaving party (an equivocation, a message of
            // another round) must not make this party drop it: end unconfirmed, naming it.
            Err(e) if e.kind() == ErrorKind::Misbehaviour && s.result.is_some() => {
                let acknowledged = s.acknowledged();
                s.conclude(Vec::new(), acknowledged, e.culprits().to_vec())
            }
            Err(e) => Err(e),
        })
    }
}

/// State body: `me u16 || lifecycle tag u8`; if created (0) or running (1):
/// `inbox || u16 t || has_poly u8 || [t × SerializeScalar(aₖ)] || u16 k || k × (party ||
/// t × point) || u16 m || m × (party || digest[32]) || has_result u8 ||
/// [SerializeScalar(sᵢ) || PublicKeyPackage body || hash[32]]` (the inbox has four rounds: a
/// new kind, `0x0313`; the three-round state `0x0311` is refused as a wrong kind). Holds
/// secrets.
impl<C: Ciphersuite> WireObject for DkgParty<C> {
    const KIND: ObjectKind = KIND_DKG_STATE;
    const MAX_LEN: usize = 1 << 24;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else { return };
        s.inbox.encode(w);
        w.u16(s.threshold as u16);
        match &s.poly {
            Some(p) => {
                w.u8(1);
                for a in p.coefficients() {
                    w.secret_scalar::<C>(a);
                }
            }
            None => w.u8(0),
        }
        w.u16(s.commitments.len() as u16);
        for (p, c) in &s.commitments {
            w.party(*p);
            for point in c {
                w.bytes(C::encode_point(point).as_ref());
            }
        }
        w.u16(s.digests.len() as u16);
        for (p, d) in &s.digests {
            w.party(*p);
            w.bytes(d);
        }
        match &s.result {
            Some((secret, public, hash)) => {
                w.u8(1);
                w.secret_scalar::<C>(secret);
                public.encode_body(w);
                w.bytes(hash);
            }
            None => w.u8(0),
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::decode(r, rounds())?;
                if inbox.me() != me {
                    return Err(DecodeError::InvalidValue);
                }
                let n = inbox.parties().len();
                let t = usize::from(r.u16()?);
                if t < 2 || t > n {
                    return Err(DecodeError::InvalidValue);
                }
                let poly = if r.bool()? {
                    let mut coeffs = Vec::with_capacity(t);
                    for _ in 0..t {
                        coeffs.push(r.secret_scalar::<C>()?);
                    }
                    Some(
                        Polynomial::from_coefficients(coeffs)
                            .map_err(|_| DecodeError::InvalidValue)?,
                    )
                } else {
                    None
                };
                let k = r.count16(n, 2 + t * C::POINT_LEN)?;
                let mut commitments = BTreeMap::new();
                for _ in 0..k {
                    let p = r.party()?;
                    let mut c = Vec::with_capacity(t);
                    for j in 0..t {
                        c.push(if j == 0 {
                            r.point::<C>()?
                        } else {
                            r.point_or_identity::<C>()?
                        });
                    }
                    if commitments
                        .keys()
                        .next_back()
                        .is_some_and(|last| *last >= p)
                    {
                        return Err(DecodeError::NotSorted);
                    }
                    if !inbox.parties().contains(p) {
                        return Err(DecodeError::InvalidValue);
                    }
                    commitments.insert(p, c);
                }
                let m = r.count16(n, 34)?;
                let mut digests = BTreeMap::new();
                for _ in 0..m {
                    let p = r.party()?;
                    let d = r.array::<32>()?;
                    if digests.keys().next_back().is_some_and(|last| *last >= p) {
                        return Err(DecodeError::NotSorted);
                    }
                    if !inbox.parties().contains(p) {
                        return Err(DecodeError::InvalidValue);
                    }
                    digests.insert(p, d);
                }
                let result = if r.bool()? {
                    let secret = r.secret_scalar::<C>()?;
                    let public = PublicKeyPackage::<C>::decode_body(r)?;
                    let hash = r.array::<32>()?;
                    Some((secret, public, hash))
                } else {
                    None
                };
                let s = State {
                    inbox,
                    threshold: t,
                    poly,
                    commitments,
                    digests,
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
