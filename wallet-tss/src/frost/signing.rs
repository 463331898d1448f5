//! The online signing round as [`Protocol`] machines: a [`Coordinator`] and the [`Signer`]s
//! (RFC 9591 §5: the coordinator sends the signing package, each signer answers with one
//! share, the coordinator aggregates). Nonce preprocessing happened before (offline, see
//! [`crate::frost::round1`]): the coordinator starts with the signers' published commitments.
//!
//! Rounds of session `sid`, among the coordinator `C` and the signers `S`:
//! 1. `C` → all (broadcast): [`SigningMessage::Package`].
//! 2. each signer → `C` (point-to-point): [`SigningMessage::Share`].
//!
//! A signer checks the package (exactly the agreed signers, its own commitment is one of its
//! unused nonce pairs, the message is the expected one if set) before consuming the nonce
//! pair; the coordinator verifies every share and names the culprits of invalid ones.
//!
//! **Storage rule.** When a [`Signer`] returns [`Step::Done`], its output holds the nonce pool
//! *without* the pair just used. Persist that pool (or mark [`SignerOutput::used`] used)
//! durably **before** sending the share; a signer state saved before the share was computed
//! still holds the nonce pair and must never be restored after the share was released.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use wallet_types::{
    DecodeError, Delivery, Envelope, Error, Inbox, Lifecycle, ObjectKind, ParamError, Parties,
    PartyId, Protocol, Reader, Reason, Recipient, RoundMessage, RoundSpec, SessionId, Step,
    WireObject, Writer,
};

use super::aggregate::{Signature, aggregate};
use super::ciphersuite::Ciphersuite;
use super::keys::{KeyPackage, PublicKeyPackage};
use super::round1::{NonceId, NoncePool};
use super::round2::{MAX_MESSAGE_LEN, SignatureShare, SigningPackage, check_signers, sign};
use super::{KIND_COORDINATOR_STATE, KIND_SIGNER_STATE, KIND_SIGNING_MESSAGE, KIND_SIGNING_STATE};

/// A message of the signing round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningMessage<C: Ciphersuite> {
    /// Round 1 (coordinator → signers, broadcast).
    Package(SigningPackage<C>),
    /// Round 2 (signer → coordinator).
    Share(SignatureShare<C>),
}

impl<C: Ciphersuite> RoundMessage for SigningMessage<C> {
    fn round(&self) -> u16 {
        match self {
            Self::Package(_) => 1,
            Self::Share(_) => 2,
        }
    }
}

/// Body: `tag u8` (1 = package, 2 = share) then the [`SigningPackage`] / [`SignatureShare`]
/// body.
impl<C: Ciphersuite> WireObject for SigningMessage<C> {
    const KIND: ObjectKind = KIND_SIGNING_MESSAGE;
    const MAX_LEN: usize = 1 + SigningPackage::<C>::MAX_LEN;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Package(p) => {
                w.u8(1);
                p.encode_body(w);
            }
            Self::Share(s) => {
                w.u8(2);
                s.encode_body(w);
            }
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Package(SigningPackage::decode_body(r)?)),
            2 => Ok(Self::Share(SignatureShare::decode_body(r)?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

fn rounds(coordinator: PartyId, signers: &Parties) -> Vec<RoundSpec> {
    vec![
        RoundSpec {
            delivery: Delivery::Broadcast,
            senders: Parties::new([coordinator]).ok(),
        },
        RoundSpec {
            delivery: Delivery::P2p,
            senders: Some(signers.clone()),
        },
    ]
}

fn all_parties(coordinator: PartyId, signers: &Parties) -> Result<Parties, ParamError> {
    if signers.contains(coordinator) {
        return Err(ParamError::DuplicateParty(coordinator));
    }
    Parties::new(signers.iter().chain([coordinator]))
}

// ---------------------------------------------------------------------------------------------
// Signer
// ---------------------------------------------------------------------------------------------

struct SignerState<C: Ciphersuite> {
    inbox: Inbox<SigningMessage<C>>,
    coordinator: PartyId,
    signers: Parties,
    key: KeyPackage<C>,
    pool: NoncePool<C>,
    message: Option<Vec<u8>>,
}

/// What a signer ends with.
#[derive(Debug)]
pub struct SignerOutput<C: Ciphersuite> {
    /// The nonce pair consumed (mark it used).
    pub used: NonceId,
    /// The unused nonce pairs (persist before sending the share).
    pub pool: NoncePool<C>,
    /// The share sent.
    pub share: SignatureShare<C>,
}

/// A signer of one signing session.
pub struct Signer<C: Ciphersuite> {
    me: PartyId,
    life: Lifecycle<SignerState<C>>,
}

impl<C: Ciphersuite> fmt::Debug for Signer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl<C: Ciphersuite> Signer<C> {
    /// A signer with `key` in `session`, expecting a package from `coordinator` naming exactly
    /// `signers` (which include this party, not the coordinator), signing with one pair of
    /// `pool`.
    pub fn new(
        session: SessionId,
        key: KeyPackage<C>,
        coordinator: PartyId,
        signers: Parties,
        pool: NoncePool<C>,
    ) -> Result<Self, Error> {
        let me = key.id();
        if !signers.contains(me) {
            return Err(ParamError::NotAMember(me).into());
        }
        if !signers.is_subset_of(key.public().parties()) || signers.len() < key.public().threshold()
        {
            return Err(ParamError::TooFewParties {
                needed: key.public().threshold(),
                given: signers.len(),
            }
            .into());
        }
        let parties = all_parties(coordinator, &signers)?;
        let inbox = Inbox::new(session, me, parties, rounds(coordinator, &signers))?;
        Ok(Self {
            me,
            life: Lifecycle::Created(SignerState {
                inbox,
                coordinator,
                signers,
                key,
                pool,
                message: None,
            }),
        })
    }

    /// Sign only this message (the package is refused, blaming the coordinator, otherwise).
    pub fn expect_message(mut self, message: Vec<u8>) -> Self {
        if let Lifecycle::Created(s) = &mut self.life {
            s.message = Some(message);
        }
        self
    }
}

impl<C: Ciphersuite> SignerState<C> {
    fn on_package(
        &mut self,
        msgs: BTreeMap<PartyId, SigningMessage<C>>,
    ) -> Result<(Envelope<SigningMessage<C>>, SignerOutput<C>), Error> {
        let coord = self.coordinator;
        let Some(SigningMessage::Package(package)) = msgs.get(&coord) else {
            return Err(Error::blame(coord, Reason::MalformedMessage));
        };
        // Exactly the agreed signers: no omission, no addition (duplicates cannot decode).
        if !package
            .commitments()
            .keys()
            .copied()
            .eq(self.signers.iter())
        {
            return Err(Error::blame(coord, Reason::MalformedMessage));
        }
        if self
            .message
            .as_deref()
            .is_some_and(|m| m != package.message())
        {
            return Err(Error::blame(coord, Reason::MalformedMessage));
        }
        let me = self.key.id();
        let mine = package.commitments().get(&me).ok_or(Error::Internal)?;
        let nonces = self
            .pool
            .take(mine)
            .ok_or(Error::blame(coord, Reason::CommitmentMismatch))?;
        let used = nonces.id();
        let share = sign(package, nonces, &self.key).map_err(|e| match e {
            Error::Params(_) => Error::blame(coord, Reason::MalformedMessage),
            e => e,
        })?;
        let env = self
            .inbox
            .envelope(2, Recipient::One(coord), SigningMessage::Share(share));
        let pool = core::mem::take(&mut self.pool);
        Ok((env, SignerOutput { used, pool, share }))
    }
}

impl<C: Ciphersuite> Protocol for Signer<C> {
    type Message = SigningMessage<C>;
    type Output = SignerOutput<C>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, SignerOutput<C>>, Error> {
        self.life.start(|_| Ok((Step::Continue(Vec::new()), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<SigningMessage<C>>,
        _rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, SignerOutput<C>>, Error> {
        self.life.run(|s| {
            s.inbox.receive(incoming)?;
            match s.inbox.take_current() {
                Some(msgs) => {
                    let (env, out) = s.on_package(msgs)?;
                    Ok((Step::Done(vec![env], out), true))
                }
                None => Ok((Step::Continue(Vec::new()), false)),
            }
        })
    }
}

/// State body: `me u16 || tag u8`; if created / running: `coordinator u16 || signers ||
/// inbox || KeyPackage body || u32 k || k × (d || e) || has_message u8 || [u32 len ||
/// message]`. Holds the key share and the nonces: store encrypted.
impl<C: Ciphersuite> WireObject for Signer<C> {
    const KIND: ObjectKind = KIND_SIGNER_STATE;
    const MAX_LEN: usize = 1 << 24;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else { return };
        w.party(s.coordinator);
        w.parties(&s.signers);
        s.inbox.encode(w);
        s.key.encode_body(w);
        s.pool.encode_secret(w);
        match &s.message {
            Some(m) => {
                w.u8(1);
                w.var_bytes(m);
            }
            None => w.u8(0),
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let coordinator = r.party()?;
                let signers = r.parties()?;
                let inbox = Inbox::decode(r, rounds(coordinator, &signers))?;
                let expected =
                    all_parties(coordinator, &signers).map_err(|_| DecodeError::InvalidValue)?;
                if inbox.me() != me || *inbox.parties() != expected {
                    return Err(DecodeError::InvalidValue);
                }
                let key = KeyPackage::<C>::decode_body(r)?;
                if key.id() != me {
                    return Err(DecodeError::InvalidValue);
                }
                let pool = NoncePool::decode_secret(r, 1 << 16)?;
                let message = if r.bool()? {
                    Some(r.var_bytes(MAX_MESSAGE_LEN)?.to_vec())
                } else {
                    None
                };
                let s = SignerState {
                    inbox,
                    coordinator,
                    signers,
                    key,
                    pool,
                    message,
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

// ---------------------------------------------------------------------------------------------
// Coordinator
// ---------------------------------------------------------------------------------------------

struct CoordinatorState<C: Ciphersuite> {
    inbox: Inbox<SigningMessage<C>>,
    public: PublicKeyPackage<C>,
    package: SigningPackage<C>,
}

/// The coordinator of one signing session: sends the package, verifies and aggregates the
/// shares. Output: the signature (verified against the group key).
pub struct Coordinator<C: Ciphersuite> {
    me: PartyId,
    life: Lifecycle<CoordinatorState<C>>,
}

impl<C: Ciphersuite> fmt::Debug for Coordinator<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coordinator")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl<C: Ciphersuite> Coordinator<C> {
    /// A coordinator `me` (not one of the signers) in `session`, for `package` (the signers'
    /// commitments and the message) under the key `public`.
    pub fn new(
        session: SessionId,
        me: PartyId,
        public: PublicKeyPackage<C>,
        package: SigningPackage<C>,
    ) -> Result<Self, Error> {
        check_signers(&public, &package)?;
        let signers = Parties::new(package.signers())?;
        let parties = all_parties(me, &signers)?;
        let inbox = Inbox::new(session, me, parties, rounds(me, &signers))?;
        Ok(Self {
            me,
            life: Lifecycle::Created(CoordinatorState {
                inbox,
                public,
                package,
            }),
        })
    }
}

impl<C: Ciphersuite> Protocol for Coordinator<C> {
    type Message = SigningMessage<C>;
    type Output = Signature<C>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, Signature<C>>, Error> {
        self.life.start(|s| {
            // Round 1 has no sender but us: take it so that round-2 shares are awaited.
            let _ = s.inbox.take_current();
            let env = s.inbox.envelope(
                1,
                Recipient::All,
                SigningMessage::Package(s.package.clone()),
            );
            Ok((Step::Continue(vec![env]), false))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<SigningMessage<C>>,
        _rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, Signature<C>>, Error> {
        self.life.run(|s| {
            s.inbox.receive(incoming)?;
            let Some(msgs) = s.inbox.take_current() else {
                return Ok((Step::Continue(Vec::new()), false));
            };
            let mut shares = BTreeMap::new();
            for (p, m) in msgs {
                let SigningMessage::Share(z) = m else {
                    return Err(Error::blame(p, Reason::MalformedMessage));
                };
                shares.insert(p, z);
            }
            let sig = aggregate(&s.package, &shares, &s.public)?;
            Ok((Step::Done(Vec::new(), sig), true))
        })
    }
}

/// State body: `me u16 || tag u8`; if created / running: `inbox || PublicKeyPackage body ||
/// SigningPackage body`. Public data only.
impl<C: Ciphersuite> WireObject for Coordinator<C> {
    const KIND: ObjectKind = KIND_COORDINATOR_STATE;
    const MAX_LEN: usize = 1 << 24;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else { return };
        s.public.encode_body(w);
        s.package.encode_body(w);
        s.inbox.encode(w);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let public = PublicKeyPackage::<C>::decode_body(r)?;
                let package = SigningPackage::<C>::decode_body(r)?;
                check_signers(&public, &package).map_err(|_| DecodeError::InvalidValue)?;
                let signers =
                    Parties::new(package.signers()).map_err(|_| DecodeError::InvalidValue)?;
                let inbox = Inbox::decode(r, rounds(me, &signers))?;
                if inbox.me() != me
                    || *inbox.parties()
                        != all_parties(me, &signers).map_err(|_| DecodeError::InvalidValue)?
                {
                    return Err(DecodeError::InvalidValue);
                }
                let s = CoordinatorState {
                    inbox,
                    public,
                    package,
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

// ---------------------------------------------------------------------------------------------
// Either role (one machine type for a simulator run)
// ---------------------------------------------------------------------------------------------

/// Either role of a signing session, so that one simulator (or one dispatch table) can run
/// all parties.
#[derive(Debug)]
pub enum SigningParty<C: Ciphersuite> {
    /// A signer.
    Signer(Signer<C>),
    /// The coordinator.
    Coordinator(Coordinator<C>),
}

/// Output of a [`SigningParty`].
#[derive(Debug)]
pub enum SigningOutput<C: Ciphersuite> {
    /// A signer's output.
    Signer(SignerOutput<C>),
    /// The coordinator's signature.
    Coordinator(Signature<C>),
}

fn map_step<M, A, B>(s: Step<M, A>, f: impl FnOnce(A) -> B) -> Step<M, B> {
    match s {
        Step::Continue(m) => Step::Continue(m),
        Step::Done(m, o) => Step::Done(m, f(o)),
    }
}

impl<C: Ciphersuite> Protocol for SigningParty<C> {
    type Message = SigningMessage<C>;
    type Output = SigningOutput<C>;

    fn me(&self) -> PartyId {
        match self {
            Self::Signer(s) => s.me(),
            Self::Coordinator(c) => c.me(),
        }
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, SigningOutput<C>>, Error> {
        Ok(match self {
            Self::Signer(s) => map_step(s.start(rng)?, SigningOutput::Signer),
            Self::Coordinator(c) => map_step(c.start(rng)?, SigningOutput::Coordinator),
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<SigningMessage<C>>,
        rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, SigningOutput<C>>, Error> {
        Ok(match self {
            Self::Signer(s) => map_step(s.handle(incoming, rng)?, SigningOutput::Signer),
            Self::Coordinator(c) => map_step(c.handle(incoming, rng)?, SigningOutput::Coordinator),
        })
    }
}

/// Body: `role u8` (1 = signer, 2 = coordinator) then that machine's full encoding
/// (`u32 len || header || body`).
impl<C: Ciphersuite> WireObject for SigningParty<C> {
    const KIND: ObjectKind = KIND_SIGNING_STATE;
    const MAX_LEN: usize = 1 << 24;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Signer(s) => {
                w.u8(1);
                w.object(s);
            }
            Self::Coordinator(c) => {
                w.u8(2);
                w.object(c);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Signer(Signer::from_bytes(
                r.var_bytes(Self::MAX_LEN)?,
            )?)),
            2 => Ok(Self::Coordinator(Coordinator::from_bytes(
                r.var_bytes(Self::MAX_LEN)?,
            )?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}
