//! The online signing round as [`Protocol`] machines: a [`Coordinator`] and the [`Signer`]s
//! (RFC 9591 §5: the coordinator sends the signing package, each signer answers with one
//! share, the coordinator aggregates). Nonce preprocessing happened before (offline, see
//! [`crate::frost::round1`]): each signer's nonce pairs are sealed in its one-time store and
//! the coordinator starts with the signers' published commitments.
//!
//! Rounds of session `sid`, among the coordinator `C` and the signers `S`:
//! 1. `C` → all (broadcast): [`SigningMessage::Package`].
//! 2. each signer → `C` (point-to-point): [`SigningMessage::Share`].
//!
//! A signer checks the package (exactly the agreed signers, its own commitment names one of the
//! nonce pairs this session may use, the message is the expected one if set) before it takes
//! the nonce pair out of its store; the coordinator verifies every share and names the culprits
//! of invalid ones.
//!
//! **Single use across restores.** A [`Signer`] never holds a nonce: its state ([`SignerState`],
//! what [`Signer::save`] writes) names the pairs by their public [`NonceId`]s, and the pairs
//! stay sealed in a [`OneTimeStore`] until the package arrives. Then the signer **takes** the
//! pair — atomically and durably, the id recorded as used — and only afterwards computes the
//! share. A state saved before the share was computed may be restored any number of times, by
//! a crashed process or by parallel workers: at most one of them signs, every other gets
//! `Error::Store(StoreError::AlreadyUsed)` (two shares with one nonce pair and different
//! messages would reveal the key share). Nothing needs persisting when a signer is done.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use wallet_types::store::OneTimeStore;
use wallet_types::{
    DecodeError, Delivery, Envelope, Error, Inbox, Lifecycle, ObjectKind, ParamError, Parties,
    PartyId, Protocol, Reader, Reason, Recipient, RoundMessage, RoundSpec, SecretVec, SessionId,
    Step, WireObject, Writer,
};

use super::aggregate::{Signature, aggregate};
use super::ciphersuite::Ciphersuite;
use super::keys::{KeyPackage, PublicKeyPackage};
use super::round1::NonceId;
use super::round2::{
    MAX_MESSAGE_LEN, SignatureShare, SigningPackage, check_signers, sign_with_store,
};
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

/// Largest number of nonce pairs one signer machine may choose from.
const MAX_NONCES: usize = 1 << 16;

struct State<C: Ciphersuite> {
    inbox: Inbox<SigningMessage<C>>,
    coordinator: PartyId,
    signers: Parties,
    key: KeyPackage<C>,
    /// The public ids of the nonce pairs (in the store) this session may use.
    nonces: BTreeSet<NonceId>,
    message: Option<Vec<u8>>,
}

/// What a signer ends with.
#[derive(Debug)]
pub struct SignerOutput<C: Ciphersuite> {
    /// The nonce pair consumed: already taken out of the store (recorded as used) before the
    /// share was computed.
    pub used: NonceId,
    /// The share sent.
    pub share: SignatureShare<C>,
}

/// A signer of one signing session, working on the [`OneTimeStore`] `S` that holds its sealed
/// nonce pairs (e.g. `&MemoryOneTimeStore` or `Arc<MemoryOneTimeStore>`; pairs go in with
/// [`preprocess_into`](super::round1::preprocess_into) or [`SigningNonces::seal_into`](super::SigningNonces::seal_into)).
///
/// The machine holds no nonce: only the public ids of the pairs it may use. When the package
/// arrives it **takes** the named pair out of the store — atomically and durably, the id
/// recorded as used — before the share is computed. Restoring a saved state twice (a crash
/// and a retry, two workers) therefore signs at most once: the second take is
/// `Error::Store(StoreError::AlreadyUsed)` and that machine aborts. After a refresh or reshare
/// retired the key share's scope ([`retire_nonces`](super::round1::retire_nonces)), a state of the old epoch is
/// refused the same way (`StoreError::Retired`).
///
/// Persist it between calls with [`Signer::save`] and [`Signer::restore`]; the bytes hold the
/// key share (not the nonces): store them encrypted.
pub struct Signer<C: Ciphersuite, S: OneTimeStore> {
    store: S,
    inner: SignerState<C>,
}

/// The serialized form of a [`Signer`] (kind `0x0324`): the key share and public data, no
/// nonce. Decoding needs no store; [`Signer::restore`] attaches it to one again.
pub struct SignerState<C: Ciphersuite> {
    me: PartyId,
    life: Lifecycle<State<C>>,
}

impl<C: Ciphersuite> fmt::Debug for SignerState<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl<C: Ciphersuite, S: OneTimeStore> fmt::Debug for Signer<C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<C: Ciphersuite, S: OneTimeStore> Signer<C, S> {
    /// A signer with `key` in `session`, expecting a package from `coordinator` naming exactly
    /// `signers` (which include this party, not the coordinator), signing with one of the nonce
    /// pairs `nonces` (their public ids; the pairs themselves must be sealed in `store` under
    /// `key`'s scope). A package naming any other pair is refused, blaming the coordinator.
    ///
    /// Errors: this party is not a signer ([`ParamError::NotAMember`]); the signers are not
    /// parties of the key or fewer than its threshold ([`ParamError::TooFewParties`]); more
    /// than 2¹⁶ nonce ids ([`ParamError::OutOfRange`]).
    pub fn new(
        store: S,
        session: SessionId,
        key: KeyPackage<C>,
        coordinator: PartyId,
        signers: Parties,
        nonces: impl IntoIterator<Item = NonceId>,
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
        let nonces: BTreeSet<NonceId> = nonces.into_iter().collect();
        if nonces.len() > MAX_NONCES {
            return Err(ParamError::OutOfRange.into());
        }
        let parties = all_parties(coordinator, &signers)?;
        let inbox = Inbox::new(session, me, parties, rounds(coordinator, &signers))?;
        Ok(Self {
            store,
            inner: SignerState {
                me,
                life: Lifecycle::Created(State {
                    inbox,
                    coordinator,
                    signers,
                    key,
                    nonces,
                    message: None,
                }),
            },
        })
    }

    /// Sign only this message (the package is refused, blaming the coordinator, otherwise).
    pub fn expect_message(mut self, message: Vec<u8>) -> Self {
        if let Lifecycle::Created(s) = &mut self.inner.life {
            s.message = Some(message);
        }
        self
    }

    /// The machine's serialized state (kind `0x0324`: the key share, no nonce; store it
    /// encrypted).
    pub fn save(&self) -> SecretVec {
        self.inner.to_secret_bytes()
    }

    /// A machine restored from [`Signer::save`]'s bytes, working on `store` again. Restoring
    /// the same bytes any number of times signs at most once: the store decides.
    pub fn restore(store: S, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_state(store, SignerState::from_bytes(bytes)?))
    }

    /// Attaches a decoded state to `store`.
    pub fn from_state(store: S, inner: SignerState<C>) -> Self {
        Self { store, inner }
    }

    /// The store the machine works on.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<C: Ciphersuite> State<C> {
    fn on_package<S: OneTimeStore + ?Sized>(
        &mut self,
        store: &S,
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
        let used = package.commitments().get(&me).ok_or(Error::Internal)?.id();
        if !self.nonces.contains(&used) {
            return Err(Error::blame(coord, Reason::CommitmentMismatch));
        }
        // Every check that can refuse the package is above: from here the pair is taken out of
        // the store (atomically, recorded as used) before the share is computed from it.
        let share = sign_with_store(package, store, &self.key).map_err(|e| match e {
            Error::Params(_) => Error::blame(coord, Reason::MalformedMessage),
            e => e,
        })?;
        self.nonces.remove(&used);
        let env = self
            .inbox
            .envelope(2, Recipient::One(coord), SigningMessage::Share(share));
        Ok((env, SignerOutput { used, share }))
    }
}

impl<C: Ciphersuite, S: OneTimeStore> Protocol for Signer<C, S> {
    type Message = SigningMessage<C>;
    type Output = SignerOutput<C>;

    fn me(&self) -> PartyId {
        self.inner.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, SignerOutput<C>>, Error> {
        self.inner
            .life
            .start(|_| Ok((Step::Continue(Vec::new()), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<SigningMessage<C>>,
        _rng: &mut R,
    ) -> Result<Step<SigningMessage<C>, SignerOutput<C>>, Error> {
        let store = &self.store;
        self.inner.life.run(|s| {
            s.inbox.receive(incoming)?;
            match s.inbox.take_current() {
                Some(msgs) => {
                    let (env, out) = s.on_package(store, msgs)?;
                    Ok((Step::Done(vec![env], out), true))
                }
                None => Ok((Step::Continue(Vec::new()), false)),
            }
        })
    }
}

/// State body: `me u16 || tag u8`; if created / running: `coordinator u16 || signers ||
/// inbox || KeyPackage body || u32 k || k × nonce id[32] (strictly increasing, k ≤ 2¹⁶) ||
/// has_message u8 || [u32 len || message]`. Holds the key share (store encrypted), never a
/// nonce: the nonce pairs stay in the one-time store. The first version (kind `0x0321`, which
/// held the nonce pairs) is retired and decodes to [`DecodeError::WrongKind`].
impl<C: Ciphersuite> WireObject for SignerState<C> {
    const KIND: ObjectKind = KIND_SIGNER_STATE;
    const MAX_LEN: usize = 1 << 24;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else { return };
        w.party(s.coordinator);
        w.parties(&s.signers);
        s.inbox.encode(w);
        s.key.encode_body(w);
        w.u32(s.nonces.len() as u32);
        for id in &s.nonces {
            w.bytes(&id.0);
        }
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
                let k = r.count(MAX_NONCES, 32)?;
                let mut nonces = BTreeSet::new();
                for _ in 0..k {
                    let id = NonceId(r.array()?);
                    if nonces.last().is_some_and(|last| *last >= id) {
                        return Err(DecodeError::NotSorted);
                    }
                    nonces.insert(id);
                }
                let message = if r.bool()? {
                    Some(r.var_bytes(MAX_MESSAGE_LEN)?.to_vec())
                } else {
                    None
                };
                let s = State {
                    inbox,
                    coordinator,
                    signers,
                    key,
                    nonces,
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
pub enum SigningParty<C: Ciphersuite, S: OneTimeStore> {
    /// A signer.
    Signer(Signer<C, S>),
    /// The coordinator.
    Coordinator(Coordinator<C>),
}

/// The serialized form of a [`SigningParty`] (kind `0x0325`).
#[derive(Debug)]
pub enum SigningPartyState<C: Ciphersuite> {
    /// A signer's state.
    Signer(SignerState<C>),
    /// The coordinator's state.
    Coordinator(Coordinator<C>),
}

impl<C: Ciphersuite, S: OneTimeStore> fmt::Debug for SigningParty<C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signer(s) => f.debug_tuple("Signer").field(s).finish(),
            Self::Coordinator(c) => f.debug_tuple("Coordinator").field(c).finish(),
        }
    }
}

impl<C: Ciphersuite, S: OneTimeStore> SigningParty<C, S> {
    /// The machine's serialized state (secret when it is a signer's: store it encrypted).
    pub fn save(&self) -> SecretVec {
        let mut w = Writer::secret();
        w.bytes(&wallet_types::wire::header_of::<SigningPartyState<C>>().to_bytes());
        match self {
            Self::Signer(s) => encode_party(&mut w, PartyRef::Signer(&s.inner)),
            Self::Coordinator(c) => encode_party(&mut w, PartyRef::Coordinator(c)),
        }
        w.into_secret()
    }

    /// A machine restored from [`SigningParty::save`]'s bytes; a signer works on `store` again
    /// (a coordinator needs no store: `store` is dropped).
    pub fn restore(store: S, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_state(
            store,
            SigningPartyState::from_bytes(bytes)?,
        ))
    }

    /// Attaches a decoded state to `store` (unused for a coordinator).
    pub fn from_state(store: S, state: SigningPartyState<C>) -> Self {
        match state {
            SigningPartyState::Signer(s) => Self::Signer(Signer::from_state(store, s)),
            SigningPartyState::Coordinator(c) => Self::Coordinator(c),
        }
    }

    /// A signer's store (`None` for the coordinator).
    pub fn store(&self) -> Option<&S> {
        match self {
            Self::Signer(s) => Some(s.store()),
            Self::Coordinator(_) => None,
        }
    }
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

impl<C: Ciphersuite, S: OneTimeStore> Protocol for SigningParty<C, S> {
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

enum PartyRef<'a, C: Ciphersuite> {
    Signer(&'a SignerState<C>),
    Coordinator(&'a Coordinator<C>),
}

/// The body of a [`SigningPartyState`], from a borrowed machine.
fn encode_party<C: Ciphersuite>(w: &mut Writer, party: PartyRef<'_, C>) {
    match party {
        PartyRef::Signer(s) => {
            w.u8(1);
            w.object(s);
        }
        PartyRef::Coordinator(c) => {
            w.u8(2);
            w.object(c);
        }
    }
}

/// Body: `role u8` (1 = signer, 2 = coordinator) then that machine's full encoding
/// (`u32 len || header || body`: a [`SignerState`] of kind `0x0324` or a [`Coordinator`] of
/// kind `0x0322`). The first version (kind `0x0323`, whose signer states held nonces) is
/// retired and decodes to [`DecodeError::WrongKind`].
impl<C: Ciphersuite> WireObject for SigningPartyState<C> {
    const KIND: ObjectKind = KIND_SIGNING_STATE;
    const MAX_LEN: usize = 1 << 24;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Signer(s) => encode_party(w, PartyRef::Signer(s)),
            Self::Coordinator(c) => encode_party(w, PartyRef::Coordinator(c)),
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Signer(SignerState::from_bytes(
                r.var_bytes(Self::MAX_LEN)?,
            )?)),
            2 => Ok(Self::Coordinator(Coordinator::from_bytes(
                r.var_bytes(Self::MAX_LEN)?,
            )?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}
