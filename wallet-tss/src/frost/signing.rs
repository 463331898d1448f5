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
//!
//! **One machine, two modes.** The machines are generic over a [`SigningMode`]: what the
//! round's package is, how a signer checks its mode-specific part and makes its share, and how
//! the coordinator aggregates. [`Plain`] is RFC 9591 ([`Signer`], [`Coordinator`],
//! [`SigningParty`], kinds `0x0320`–`0x0325`); [`TaprootMode`](super::taproot_signing::TaprootMode)
//! is the BIP-340 / Taproot mode of FROST(secp256k1) ([`super::taproot_signing`], kinds
//! `0x0331`–`0x0334`). Round structure, inbox rules, nonce-store discipline and the state
//! layout are the same code for both.

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

pub(crate) mod sealed {
    /// Only this crate's modes implement [`super::SigningMode`].
    pub trait Sealed {}
}

/// What differs between the signing rounds of RFC 9591 ([`Plain`]) and of its BIP-340 /
/// Taproot mode ([`TaprootMode`](super::taproot_signing::TaprootMode)): the package the
/// coordinator broadcasts, what a signer knows besides its key share and how it makes its
/// share, what the coordinator verifies the shares against and what it outputs. Sealed: the
/// machines rely on every hook keeping the rules in the module docs.
pub trait SigningMode<C: Ciphersuite>: sealed::Sealed + Copy + fmt::Debug + Eq + 'static {
    /// The round-1 package.
    type Package: Clone + fmt::Debug + PartialEq + Eq;
    /// What a signer holds besides its key share, nonce ids and expected message.
    type SignerContext;
    /// What the coordinator verifies shares against.
    type Verifier;
    /// The coordinator's output.
    type Signature: fmt::Debug;

    /// Kind of the round messages.
    const MESSAGE_KIND: ObjectKind;
    /// Kind of a signer's state.
    const SIGNER_STATE_KIND: ObjectKind;
    /// Kind of the coordinator's state.
    const COORDINATOR_STATE_KIND: ObjectKind;
    /// Kind of the either-role state.
    const PARTY_STATE_KIND: ObjectKind;
    /// Largest encoding of a package (header included).
    const PACKAGE_MAX_LEN: usize;

    /// The FROST package inside (commitments and message).
    fn signing_package(package: &Self::Package) -> &SigningPackage<C>;
    /// Writes the package body.
    fn encode_package(package: &Self::Package, w: &mut Writer);
    /// Reads a package body.
    fn decode_package(r: &mut Reader<'_>) -> Result<Self::Package, DecodeError>;

    /// Whether a signer with `context` accepts the mode-specific part of `package` (the
    /// signer set, its commitment and the message are checked by the machine).
    fn accepts(context: &Self::SignerContext, package: &Self::Package) -> bool;
    /// The signer's share: every check that can refuse the package first, then the nonce pair
    /// is taken out of `store`, then the share is computed.
    fn sign<S: OneTimeStore + ?Sized>(
        context: &Self::SignerContext,
        package: &Self::Package,
        store: &S,
        key: &KeyPackage<C>,
    ) -> Result<SignatureShare<C>, Error>;
    /// Writes the signer context (appended to the signer state).
    fn encode_signer_context(context: &Self::SignerContext, w: &mut Writer);
    /// Reads the signer context.
    fn decode_signer_context(r: &mut Reader<'_>) -> Result<Self::SignerContext, DecodeError>;

    /// The root public package (the signers must be `t` or more of its parties).
    fn public(verifier: &Self::Verifier) -> &PublicKeyPackage<C>;
    /// Verifies the shares (naming the culprits of invalid ones) and aggregates them.
    fn aggregate(
        verifier: &Self::Verifier,
        package: &Self::Package,
        shares: &BTreeMap<PartyId, SignatureShare<C>>,
    ) -> Result<Self::Signature, Error>;
    /// Writes the verifier and the package (coordinator state).
    fn encode_coordinator(verifier: &Self::Verifier, package: &Self::Package, w: &mut Writer);
    /// Reads what [`SigningMode::encode_coordinator`] wrote.
    fn decode_coordinator(
        r: &mut Reader<'_>,
    ) -> Result<(Self::Verifier, Self::Package), DecodeError>;
}

/// RFC 9591 signing: the package is a [`SigningPackage`], the output a [`Signature`] under
/// the group key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plain;

impl sealed::Sealed for Plain {}

impl<C: Ciphersuite> SigningMode<C> for Plain {
    type Package = SigningPackage<C>;
    type SignerContext = ();
    type Verifier = PublicKeyPackage<C>;
    type Signature = Signature<C>;

    const MESSAGE_KIND: ObjectKind = KIND_SIGNING_MESSAGE;
    const SIGNER_STATE_KIND: ObjectKind = KIND_SIGNER_STATE;
    const COORDINATOR_STATE_KIND: ObjectKind = KIND_COORDINATOR_STATE;
    const PARTY_STATE_KIND: ObjectKind = KIND_SIGNING_STATE;
    const PACKAGE_MAX_LEN: usize = SigningPackage::<C>::MAX_LEN;

    fn signing_package(package: &SigningPackage<C>) -> &SigningPackage<C> {
        package
    }
    fn encode_package(package: &SigningPackage<C>, w: &mut Writer) {
        package.encode_body(w);
    }
    fn decode_package(r: &mut Reader<'_>) -> Result<SigningPackage<C>, DecodeError> {
        SigningPackage::decode_body(r)
    }
    fn accepts(_: &(), _: &SigningPackage<C>) -> bool {
        true
    }
    fn sign<S: OneTimeStore + ?Sized>(
        _: &(),
        package: &SigningPackage<C>,
        store: &S,
        key: &KeyPackage<C>,
    ) -> Result<SignatureShare<C>, Error> {
        sign_with_store(package, store, key)
    }
    fn encode_signer_context(_: &(), _: &mut Writer) {}
    fn decode_signer_context(_: &mut Reader<'_>) -> Result<(), DecodeError> {
        Ok(())
    }
    fn public(verifier: &PublicKeyPackage<C>) -> &PublicKeyPackage<C> {
        verifier
    }
    fn aggregate(
        verifier: &PublicKeyPackage<C>,
        package: &SigningPackage<C>,
        shares: &BTreeMap<PartyId, SignatureShare<C>>,
    ) -> Result<Signature<C>, Error> {
        aggregate(package, shares, verifier)
    }
    fn encode_coordinator(
        verifier: &PublicKeyPackage<C>,
        package: &SigningPackage<C>,
        w: &mut Writer,
    ) {
        verifier.encode_body(w);
        package.encode_body(w);
    }
    fn decode_coordinator(
        r: &mut Reader<'_>,
    ) -> Result<(PublicKeyPackage<C>, SigningPackage<C>), DecodeError> {
        let public = PublicKeyPackage::<C>::decode_body(r)?;
        let package = SigningPackage::<C>::decode_body(r)?;
        Ok((public, package))
    }
}

/// A message of the signing round in mode `M`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModeSigningMessage<C: Ciphersuite, M: SigningMode<C>> {
    /// Round 1 (coordinator → signers, broadcast).
    Package(M::Package),
    /// Round 2 (signer → coordinator).
    Share(SignatureShare<C>),
}

/// A message of the RFC 9591 signing round (kind `0x0320`).
pub type SigningMessage<C> = ModeSigningMessage<C, Plain>;

impl<C: Ciphersuite, M: SigningMode<C>> RoundMessage for ModeSigningMessage<C, M> {
    fn round(&self) -> u16 {
        match self {
            Self::Package(_) => 1,
            Self::Share(_) => 2,
        }
    }
}

/// Body: `tag u8` (1 = package, 2 = share) then the package body (a [`SigningPackage`] for
/// [`Plain`], kind `0x0320`) / the [`SignatureShare`] body.
impl<C: Ciphersuite, M: SigningMode<C>> WireObject for ModeSigningMessage<C, M> {
    const KIND: ObjectKind = M::MESSAGE_KIND;
    const MAX_LEN: usize = 1 + M::PACKAGE_MAX_LEN;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Package(p) => {
                w.u8(1);
                M::encode_package(p, w);
            }
            Self::Share(s) => {
                w.u8(2);
                s.encode_body(w);
            }
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Package(M::decode_package(r)?)),
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

struct State<C: Ciphersuite, M: SigningMode<C>> {
    inbox: Inbox<ModeSigningMessage<C, M>>,
    coordinator: PartyId,
    signers: Parties,
    key: KeyPackage<C>,
    /// The public ids of the nonce pairs (in the store) this session may use.
    nonces: BTreeSet<NonceId>,
    message: Option<Vec<u8>>,
    context: M::SignerContext,
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

/// A signer of one signing session in mode `M` ([`Signer`] for RFC 9591,
/// [`TaprootSigner`](super::taproot_signing::TaprootSigner) for BIP-340 / Taproot), working on
/// the [`OneTimeStore`] `S` that holds its sealed nonce pairs (e.g. `&MemoryOneTimeStore` or
/// `Arc<MemoryOneTimeStore>`; pairs go in with
/// [`preprocess_into`](super::round1::preprocess_into) or
/// [`SigningNonces::seal_into`](super::SigningNonces::seal_into)).
///
/// The machine holds no nonce: only the public ids of the pairs it may use. When the package
/// arrives it checks it (exactly the agreed signers, the expected message if set, its own
/// commitment names one of its pairs, the mode's own part), then **takes** the named pair out
/// of the store — atomically and durably, the id recorded as used — before the share is
/// computed. Restoring a saved state twice (a crash and a retry, two workers) therefore signs
/// at most once: the second take is `Error::Store(StoreError::AlreadyUsed)` and that machine
/// aborts. After a refresh or reshare retired the key share's scope
/// ([`retire_nonces`](super::round1::retire_nonces)), a state of the old epoch is refused the
/// same way (`StoreError::Retired`).
///
/// Persist it between calls with [`ModeSigner::save`] and [`ModeSigner::restore`]; the bytes
/// hold the key share (not the nonces): store them encrypted.
pub struct ModeSigner<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> {
    store: S,
    inner: ModeSignerState<C, M>,
}

/// An RFC 9591 signer.
pub type Signer<C, S> = ModeSigner<C, S, Plain>;

/// The serialized form of a [`ModeSigner`] (kind `0x0324` for [`Plain`]): the key share and
/// public data, no nonce. Decoding needs no store; [`ModeSigner::restore`] attaches it to one
/// again.
pub struct ModeSignerState<C: Ciphersuite, M: SigningMode<C>> {
    me: PartyId,
    life: Lifecycle<State<C, M>>,
}

/// The serialized form of a [`Signer`] (kind `0x0324`).
pub type SignerState<C> = ModeSignerState<C, Plain>;

impl<C: Ciphersuite, M: SigningMode<C>> fmt::Debug for ModeSignerState<C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> fmt::Debug for ModeSigner<C, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<C: Ciphersuite, S: OneTimeStore> ModeSigner<C, S, Plain> {
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
        Self::with_context(store, session, key, (), coordinator, signers, nonces)
    }
}

impl<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> ModeSigner<C, S, M> {
    /// [`Signer::new`] in mode `M` with the signer's mode context.
    pub(crate) fn with_context(
        store: S,
        session: SessionId,
        key: KeyPackage<C>,
        context: M::SignerContext,
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
            inner: ModeSignerState {
                me,
                life: Lifecycle::Created(State {
                    inbox,
                    coordinator,
                    signers,
                    key,
                    nonces,
                    message: None,
                    context,
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

    /// The mode context of a machine not started yet (to fix it before the first call).
    pub(crate) fn context_mut(&mut self) -> Option<&mut M::SignerContext> {
        match &mut self.inner.life {
            Lifecycle::Created(s) => Some(&mut s.context),
            _ => None,
        }
    }

    /// The machine's serialized state (kind `0x0324` for [`Plain`]: the key share, no nonce;
    /// store it encrypted).
    pub fn save(&self) -> SecretVec {
        self.inner.to_secret_bytes()
    }

    /// A machine restored from [`ModeSigner::save`]'s bytes, working on `store` again.
    /// Restoring the same bytes any number of times signs at most once: the store decides.
    pub fn restore(store: S, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_state(store, ModeSignerState::from_bytes(bytes)?))
    }

    /// Attaches a decoded state to `store`.
    pub fn from_state(store: S, inner: ModeSignerState<C, M>) -> Self {
        Self { store, inner }
    }

    /// The store the machine works on.
    pub fn store(&self) -> &S {
        &self.store
    }
}

/// A message this party sends.
type Outgoing<C, M> = Envelope<ModeSigningMessage<C, M>>;

impl<C: Ciphersuite, M: SigningMode<C>> State<C, M> {
    fn on_package<S: OneTimeStore + ?Sized>(
        &mut self,
        store: &S,
        msgs: BTreeMap<PartyId, ModeSigningMessage<C, M>>,
    ) -> Result<(Outgoing<C, M>, SignerOutput<C>), Error> {
        let coord = self.coordinator;
        let Some(ModeSigningMessage::Package(package)) = msgs.get(&coord) else {
            return Err(Error::blame(coord, Reason::MalformedMessage));
        };
        let inner = M::signing_package(package);
        // Exactly the agreed signers: no omission, no addition (duplicates cannot decode).
        if !inner.commitments().keys().copied().eq(self.signers.iter()) {
            return Err(Error::blame(coord, Reason::MalformedMessage));
        }
        if self
            .message
            .as_deref()
            .is_some_and(|m| m != inner.message())
        {
            return Err(Error::blame(coord, Reason::MalformedMessage));
        }
        if !M::accepts(&self.context, package) {
            return Err(Error::blame(coord, Reason::MalformedMessage));
        }
        let me = self.key.id();
        let used = inner.commitments().get(&me).ok_or(Error::Internal)?.id();
        if !self.nonces.contains(&used) {
            return Err(Error::blame(coord, Reason::CommitmentMismatch));
        }
        // Every check that can refuse the package is above (or in `M::sign`, before its take):
        // from here the pair is taken out of the store (atomically, recorded as used) before
        // the share is computed from it.
        let share = M::sign(&self.context, package, store, &self.key).map_err(|e| match e {
            Error::Params(_) => Error::blame(coord, Reason::MalformedMessage),
            e => e,
        })?;
        self.nonces.remove(&used);
        let env = self
            .inbox
            .envelope(2, Recipient::One(coord), ModeSigningMessage::Share(share));
        Ok((env, SignerOutput { used, share }))
    }
}

impl<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> Protocol for ModeSigner<C, S, M> {
    type Message = ModeSigningMessage<C, M>;
    type Output = SignerOutput<C>;

    fn me(&self) -> PartyId {
        self.inner.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<ModeSigningMessage<C, M>, SignerOutput<C>>, Error> {
        self.inner
            .life
            .start(|_| Ok((Step::Continue(Vec::new()), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<ModeSigningMessage<C, M>>,
        _rng: &mut R,
    ) -> Result<Step<ModeSigningMessage<C, M>, SignerOutput<C>>, Error> {
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
/// has_message u8 || [u32 len || message] || signer context` (empty for [`Plain`]). Holds the
/// key share (store encrypted), never a nonce: the nonce pairs stay in the one-time store. The
/// first version (kind `0x0321`, which held the nonce pairs) is retired and decodes to
/// [`DecodeError::WrongKind`].
impl<C: Ciphersuite, M: SigningMode<C>> WireObject for ModeSignerState<C, M> {
    const KIND: ObjectKind = M::SIGNER_STATE_KIND;
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
        M::encode_signer_context(&s.context, w);
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
                let context = M::decode_signer_context(r)?;
                let s = State {
                    inbox,
                    coordinator,
                    signers,
                    key,
                    nonces,
                    message,
                    context,
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

struct CoordinatorState<C: Ciphersuite, M: SigningMode<C>> {
    inbox: Inbox<ModeSigningMessage<C, M>>,
    verifier: M::Verifier,
    package: M::Package,
}

/// The coordinator of one signing session in mode `M` ([`Coordinator`] for RFC 9591,
/// [`TaprootCoordinator`](super::taproot_signing::TaprootCoordinator) for BIP-340 / Taproot):
/// sends the package, verifies and aggregates the shares. Output: the signature (verified
/// against the group key, or the Taproot output key).
pub struct ModeCoordinator<C: Ciphersuite, M: SigningMode<C>> {
    me: PartyId,
    life: Lifecycle<CoordinatorState<C, M>>,
}

/// The RFC 9591 coordinator (its state is kind `0x0322`).
pub type Coordinator<C> = ModeCoordinator<C, Plain>;

impl<C: Ciphersuite, M: SigningMode<C>> fmt::Debug for ModeCoordinator<C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coordinator")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl<C: Ciphersuite> ModeCoordinator<C, Plain> {
    /// A coordinator `me` (not one of the signers) in `session`, for `package` (the signers'
    /// commitments and the message) under the key `public`.
    pub fn new(
        session: SessionId,
        me: PartyId,
        public: PublicKeyPackage<C>,
        package: SigningPackage<C>,
    ) -> Result<Self, Error> {
        Self::with_verifier(session, me, public, package)
    }
}

impl<C: Ciphersuite, M: SigningMode<C>> ModeCoordinator<C, M> {
    /// [`Coordinator::new`] in mode `M`.
    pub(crate) fn with_verifier(
        session: SessionId,
        me: PartyId,
        verifier: M::Verifier,
        package: M::Package,
    ) -> Result<Self, Error> {
        let inner = M::signing_package(&package);
        check_signers(M::public(&verifier), inner)?;
        let signers = Parties::new(inner.signers())?;
        let parties = all_parties(me, &signers)?;
        let inbox = Inbox::new(session, me, parties, rounds(me, &signers))?;
        Ok(Self {
            me,
            life: Lifecycle::Created(CoordinatorState {
                inbox,
                verifier,
                package,
            }),
        })
    }

    /// What the shares are verified against, while the session runs.
    pub(crate) fn verifier(&self) -> Option<&M::Verifier> {
        self.life.state().map(|s| &s.verifier)
    }
}

impl<C: Ciphersuite, M: SigningMode<C>> Protocol for ModeCoordinator<C, M> {
    type Message = ModeSigningMessage<C, M>;
    type Output = M::Signature;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<ModeSigningMessage<C, M>, M::Signature>, Error> {
        self.life.start(|s| {
            // Round 1 has no sender but us: take it so that round-2 shares are awaited.
            let _ = s.inbox.take_current();
            let env = s.inbox.envelope(
                1,
                Recipient::All,
                ModeSigningMessage::Package(s.package.clone()),
            );
            Ok((Step::Continue(vec![env]), false))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<ModeSigningMessage<C, M>>,
        _rng: &mut R,
    ) -> Result<Step<ModeSigningMessage<C, M>, M::Signature>, Error> {
        self.life.run(|s| {
            s.inbox.receive(incoming)?;
            let Some(msgs) = s.inbox.take_current() else {
                return Ok((Step::Continue(Vec::new()), false));
            };
            let mut shares = BTreeMap::new();
            for (p, m) in msgs {
                let ModeSigningMessage::Share(z) = m else {
                    return Err(Error::blame(p, Reason::MalformedMessage));
                };
                shares.insert(p, z);
            }
            let sig = M::aggregate(&s.verifier, &s.package, &shares)?;
            Ok((Step::Done(Vec::new(), sig), true))
        })
    }
}

/// State body: `me u16 || tag u8`; if created / running: the mode's verifier and package
/// ([`Plain`], kind `0x0322`: `PublicKeyPackage body || SigningPackage body`) `|| inbox`.
/// Public data only.
impl<C: Ciphersuite, M: SigningMode<C>> WireObject for ModeCoordinator<C, M> {
    const KIND: ObjectKind = M::COORDINATOR_STATE_KIND;
    const MAX_LEN: usize = 1 << 24;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else { return };
        M::encode_coordinator(&s.verifier, &s.package, w);
        s.inbox.encode(w);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let (verifier, package) = M::decode_coordinator(r)?;
                let inner = M::signing_package(&package);
                check_signers(M::public(&verifier), inner)
                    .map_err(|_| DecodeError::InvalidValue)?;
                let signers =
                    Parties::new(inner.signers()).map_err(|_| DecodeError::InvalidValue)?;
                let inbox = Inbox::decode(r, rounds(me, &signers))?;
                if inbox.me() != me
                    || *inbox.parties()
                        != all_parties(me, &signers).map_err(|_| DecodeError::InvalidValue)?
                {
                    return Err(DecodeError::InvalidValue);
                }
                let s = CoordinatorState {
                    inbox,
                    verifier,
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

/// Either role of a signing session in mode `M`, so that one simulator (or one dispatch
/// table) can run all parties.
pub enum ModeSigningParty<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> {
    /// A signer.
    Signer(ModeSigner<C, S, M>),
    /// The coordinator.
    Coordinator(ModeCoordinator<C, M>),
}

/// Either role of an RFC 9591 signing session.
pub type SigningParty<C, S> = ModeSigningParty<C, S, Plain>;

/// The serialized form of a [`ModeSigningParty`] (kind `0x0325` for [`Plain`]).
#[derive(Debug)]
pub enum ModeSigningPartyState<C: Ciphersuite, M: SigningMode<C>> {
    /// A signer's state.
    Signer(ModeSignerState<C, M>),
    /// The coordinator's state.
    Coordinator(ModeCoordinator<C, M>),
}

/// The serialized form of a [`SigningParty`] (kind `0x0325`).
pub type SigningPartyState<C> = ModeSigningPartyState<C, Plain>;

impl<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> fmt::Debug for ModeSigningParty<C, S, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signer(s) => f.debug_tuple("Signer").field(s).finish(),
            Self::Coordinator(c) => f.debug_tuple("Coordinator").field(c).finish(),
        }
    }
}

impl<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> ModeSigningParty<C, S, M> {
    /// The machine's serialized state (secret when it is a signer's: store it encrypted).
    pub fn save(&self) -> SecretVec {
        let mut w = Writer::secret();
        w.bytes(&wallet_types::wire::header_of::<ModeSigningPartyState<C, M>>().to_bytes());
        match self {
            Self::Signer(s) => encode_party(&mut w, PartyRef::Signer(&s.inner)),
            Self::Coordinator(c) => encode_party(&mut w, PartyRef::Coordinator(c)),
        }
        w.into_secret()
    }

    /// A machine restored from [`ModeSigningParty::save`]'s bytes; a signer works on `store`
    /// again (a coordinator needs no store: `store` is dropped).
    pub fn restore(store: S, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_state(
            store,
            ModeSigningPartyState::from_bytes(bytes)?,
        ))
    }

    /// Attaches a decoded state to `store` (unused for a coordinator).
    pub fn from_state(store: S, state: ModeSigningPartyState<C, M>) -> Self {
        match state {
            ModeSigningPartyState::Signer(s) => Self::Signer(ModeSigner::from_state(store, s)),
            ModeSigningPartyState::Coordinator(c) => Self::Coordinator(c),
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

/// Output of a [`ModeSigningParty`].
#[derive(Debug)]
pub enum ModeSigningOutput<C: Ciphersuite, M: SigningMode<C>> {
    /// A signer's output.
    Signer(SignerOutput<C>),
    /// The coordinator's signature.
    Coordinator(M::Signature),
}

/// Output of a [`SigningParty`].
pub type SigningOutput<C> = ModeSigningOutput<C, Plain>;

fn map_step<M, A, B>(s: Step<M, A>, f: impl FnOnce(A) -> B) -> Step<M, B> {
    match s {
        Step::Continue(m) => Step::Continue(m),
        Step::Done(m, o) => Step::Done(m, f(o)),
    }
}

impl<C: Ciphersuite, S: OneTimeStore, M: SigningMode<C>> Protocol for ModeSigningParty<C, S, M> {
    type Message = ModeSigningMessage<C, M>;
    type Output = ModeSigningOutput<C, M>;

    fn me(&self) -> PartyId {
        match self {
            Self::Signer(s) => s.me(),
            Self::Coordinator(c) => c.me(),
        }
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<ModeSigningMessage<C, M>, ModeSigningOutput<C, M>>, Error> {
        Ok(match self {
            Self::Signer(s) => map_step(s.start(rng)?, ModeSigningOutput::Signer),
            Self::Coordinator(c) => map_step(c.start(rng)?, ModeSigningOutput::Coordinator),
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<ModeSigningMessage<C, M>>,
        rng: &mut R,
    ) -> Result<Step<ModeSigningMessage<C, M>, ModeSigningOutput<C, M>>, Error> {
        Ok(match self {
            Self::Signer(s) => map_step(s.handle(incoming, rng)?, ModeSigningOutput::Signer),
            Self::Coordinator(c) => {
                map_step(c.handle(incoming, rng)?, ModeSigningOutput::Coordinator)
            }
        })
    }
}

enum PartyRef<'a, C: Ciphersuite, M: SigningMode<C>> {
    Signer(&'a ModeSignerState<C, M>),
    Coordinator(&'a ModeCoordinator<C, M>),
}

/// The body of a [`ModeSigningPartyState`], from a borrowed machine.
fn encode_party<C: Ciphersuite, M: SigningMode<C>>(w: &mut Writer, party: PartyRef<'_, C, M>) {
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
/// (`u32 len || header || body`: for [`Plain`] a [`SignerState`] of kind `0x0324` or a
/// [`Coordinator`] of kind `0x0322`). The first version (kind `0x0323`, whose signer states
/// held nonces) is retired and decodes to [`DecodeError::WrongKind`].
impl<C: Ciphersuite, M: SigningMode<C>> WireObject for ModeSigningPartyState<C, M> {
    const KIND: ObjectKind = M::PARTY_STATE_KIND;
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
            1 => Ok(Self::Signer(ModeSignerState::from_bytes(
                r.var_bytes(Self::MAX_LEN)?,
            )?)),
            2 => Ok(Self::Coordinator(ModeCoordinator::from_bytes(
                r.var_bytes(Self::MAX_LEN)?,
            )?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}
