//! The online signing round of the BIP-340 / Taproot mode ([`crate::frost::taproot`]) as
//! [`Protocol`](wallet_types::Protocol) machines: a [`TaprootCoordinator`], the
//! [`TaprootSigner`]s and either role ([`TaprootSigningParty`]), run like the RFC 9591 machines
//! of [`crate::frost::signing`] — they *are* those machines in the mode [`TaprootMode`], so the
//! round structure, the inbox rules (duplicates ignored, equivocation blamed, wrong session /
//! round / sender rejected without a state change), the abort rule and the one-time-store
//! discipline are the same code.
//!
//! Rounds of session `sid`, among the coordinator `C` and the signers `S`:
//! 1. `C` → all (broadcast): [`ModeSigningMessage::Package`] with a
//!    [`TaprootSigningPackage`] (the spend — derivation path and tweak — and the FROST package).
//! 2. each signer → `C` (point-to-point): [`ModeSigningMessage::Share`].
//!
//! **Signer.** Before it takes its nonce pair out of the [`OneTimeStore`], a signer checks the
//! package: exactly the agreed signers, its own commitment names one of the pairs this session
//! may use, the message is the expected one ([`ModeSigner::expect_message`]) and the spend is
//! the expected one ([`TaprootSigner::expect_spend`]) when the caller fixed them. A refusal
//! blames the coordinator and leaves the pair in the store. Then it computes the spend's
//! [`TaprootKey`] from its own root package and chain code and signs with the effective share
//! ([`taproot::sign_with_store`]). Its state (kind `0x0332`) holds nonce ids, never nonces: a
//! state restored twice signs at most once, the other copy gets
//! `Error::Store(StoreError::AlreadyUsed)`.
//!
//! **Coordinator.** It computes the spend's key once ([`TaprootKey::new`]) from the root
//! package and the chain code, verifies every share against the effective (tweaked, even-y)
//! key and names the signers of invalid ones ([`wallet_types::Reason::InvalidSignatureShare`]),
//! and outputs the [`Bip340Signature`], verified under the output key.
//!
//! **Chain code.** Every signer and the coordinator must use the same chain code (e.g.
//! [`taproot::default_chain_code`]); a signer with another one computes another key, and its
//! share is blamed as invalid.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
//! use std::collections::BTreeMap;
//! use wallet_tss::ecdsa::DerivationPath;
//! use wallet_tss::frost::{keys, round1, taproot};
//! use wallet_tss::frost::taproot_signing::{TaprootCoordinator, TaprootSigner};
//! use wallet_types::{
//!     MemoryOneTimeStore, Parties, PartyId, Protocol, Recipient, Secp256k1, SecretScalar,
//!     SessionId, Step,
//! };
//! let keys = keys::split_secret(
//!     SecretScalar::<Secp256k1>::random(&mut rng), 2, &Parties::range(3).unwrap(), &mut rng,
//! ).unwrap();
//! let cc = taproot::default_chain_code(keys[0].public());
//! let spend = taproot::TaprootSpend::new(
//!     DerivationPath::parse("m/0/1").unwrap(),
//!     taproot::TapTweak::ScriptTree([0x42; 32]),
//! );
//! let (session, coord, sighash) = (SessionId([1; 32]), PartyId::new(9).unwrap(), [7u8; 32]);
//! let signing: Parties = Parties::new([keys[0].id(), keys[2].id()]).unwrap();
//!
//! // Offline: each signer seals a nonce pair into its one-time store, publishes the commitment.
//! let store = MemoryOneTimeStore::new();
//! let mut commitments = BTreeMap::new();
//! let mut signers = Vec::new();
//! for k in [&keys[0], &keys[2]] {
//!     let c = round1::preprocess_into(&store, k, 1, &mut rng).unwrap();
//!     commitments.insert(k.id(), c[0]);
//!     let s = TaprootSigner::new(
//!         &store, session, k.duplicate(), cc, coord, signing.clone(), [c[0].id()],
//!     ).unwrap();
//!     signers.push(s.expect_spend(spend.clone()).expect_message(sighash.to_vec()));
//! }
//!
//! // Online: the coordinator broadcasts the package, every signer answers with its share.
//! let package = taproot::TaprootSigningPackage::new(spend, commitments, sighash.to_vec()).unwrap();
//! let mut c = TaprootCoordinator::new(session, coord, keys[0].public().clone(), cc, package).unwrap();
//! let output_key = c.key().unwrap().output_key();
//! let Step::Continue(broadcast) = c.start(&mut rng).unwrap() else { unreachable!() };
//! let mut signature = None;
//! for s in &mut signers {
//!     let _ = s.start(&mut rng).unwrap();
//!     let Step::Done(shares, _used) = s.handle(broadcast[0].clone(), &mut rng).unwrap() else {
//!         unreachable!()
//!     };
//!     assert_eq!(shares[0].recipient, Recipient::One(coord));
//!     for env in shares {
//!         if let Step::Done(_, sig) = c.handle(env, &mut rng).unwrap() {
//!             signature = Some(sig);
//!         }
//!     }
//! }
//! assert!(signature.unwrap().verify(&output_key, &sighash));
//! ```

use alloc::collections::BTreeMap;

use wallet_types::store::OneTimeStore;
use wallet_types::{
    DecodeError, Error, ObjectKind, Parties, PartyId, Reader, Secp256k1, SessionId, WireObject,
    Writer,
};

use super::keys::{KeyPackage, PublicKeyPackage};
use super::round1::NonceId;
use super::round2::{SignatureShare, SigningPackage};
use super::signing::{
    ModeCoordinator, ModeSigner, ModeSignerState, ModeSigningMessage, ModeSigningOutput,
    ModeSigningParty, ModeSigningPartyState, SigningMode, sealed,
};
use super::taproot::{self, Bip340Signature, TaprootKey, TaprootSigningPackage, TaprootSpend};

/// [`TaprootSigningMessage`].
pub const KIND_TAPROOT_SIGNING_MESSAGE: ObjectKind = ObjectKind(0x0331);
/// [`TaprootSignerState`] (secret: the root key share; no nonce).
pub const KIND_TAPROOT_SIGNER_STATE: ObjectKind = ObjectKind(0x0332);
/// [`TaprootCoordinator`] state (public).
pub const KIND_TAPROOT_COORDINATOR_STATE: ObjectKind = ObjectKind(0x0333);
/// [`TaprootSigningPartyState`] (either role).
pub const KIND_TAPROOT_SIGNING_STATE: ObjectKind = ObjectKind(0x0334);

/// The BIP-340 / Taproot mode of the signing machines (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaprootMode;

impl sealed::Sealed for TaprootMode {}

/// What a Taproot signer holds besides its root key share: the chain code and, if the caller
/// fixed it, the only spend it signs for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaprootSignerContext {
    chain_code: [u8; 32],
    spend: Option<TaprootSpend>,
}

impl TaprootSignerContext {
    /// The BIP-32 chain code of the root key.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }
    /// The expected spend, if fixed.
    pub fn spend(&self) -> Option<&TaprootSpend> {
        self.spend.as_ref()
    }
}

/// What a Taproot coordinator verifies shares against: the root package, the chain code and
/// the key of the package's spend computed from them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaprootVerifier {
    root: PublicKeyPackage<Secp256k1>,
    chain_code: [u8; 32],
    key: TaprootKey,
}

impl TaprootVerifier {
    /// Computes the key of `spend` under `root` and `chain_code` ([`TaprootKey::new`]).
    fn new(
        root: PublicKeyPackage<Secp256k1>,
        chain_code: [u8; 32],
        spend: &TaprootSpend,
    ) -> Result<Self, Error> {
        let key = TaprootKey::new(&root, &chain_code, spend)?;
        Ok(Self {
            root,
            chain_code,
            key,
        })
    }
    /// The spend's key (output key, internal key, parity).
    pub fn key(&self) -> &TaprootKey {
        &self.key
    }
    /// The BIP-32 chain code of the root key.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }
}

impl SigningMode<Secp256k1> for TaprootMode {
    type Package = TaprootSigningPackage;
    type SignerContext = TaprootSignerContext;
    type Verifier = TaprootVerifier;
    type Signature = Bip340Signature;

    const MESSAGE_KIND: ObjectKind = KIND_TAPROOT_SIGNING_MESSAGE;
    const SIGNER_STATE_KIND: ObjectKind = KIND_TAPROOT_SIGNER_STATE;
    const COORDINATOR_STATE_KIND: ObjectKind = KIND_TAPROOT_COORDINATOR_STATE;
    const PARTY_STATE_KIND: ObjectKind = KIND_TAPROOT_SIGNING_STATE;
    const PACKAGE_MAX_LEN: usize = TaprootSigningPackage::MAX_LEN;

    fn signing_package(package: &TaprootSigningPackage) -> &SigningPackage<Secp256k1> {
        package.package()
    }
    fn encode_package(package: &TaprootSigningPackage, w: &mut Writer) {
        package.encode_body(w);
    }
    fn decode_package(r: &mut Reader<'_>) -> Result<TaprootSigningPackage, DecodeError> {
        TaprootSigningPackage::decode_body(r)
    }
    fn accepts(context: &TaprootSignerContext, package: &TaprootSigningPackage) -> bool {
        context.spend.as_ref().is_none_or(|s| s == package.spend())
    }
    fn sign<S: OneTimeStore + ?Sized>(
        context: &TaprootSignerContext,
        package: &TaprootSigningPackage,
        store: &S,
        key: &KeyPackage<Secp256k1>,
    ) -> Result<SignatureShare<Secp256k1>, Error> {
        // Checks the signers and the spend's key before it takes the pair out of the store.
        taproot::sign_with_store(package, store, key, &context.chain_code)
    }
    fn encode_signer_context(context: &TaprootSignerContext, w: &mut Writer) {
        w.bytes(&context.chain_code);
        w.bool(context.spend.is_some());
        if let Some(s) = &context.spend {
            s.encode(w);
        }
    }
    fn decode_signer_context(r: &mut Reader<'_>) -> Result<TaprootSignerContext, DecodeError> {
        let chain_code = r.array()?;
        let spend = if r.bool()? {
            Some(TaprootSpend::decode(r)?)
        } else {
            None
        };
        Ok(TaprootSignerContext { chain_code, spend })
    }
    fn public(verifier: &TaprootVerifier) -> &PublicKeyPackage<Secp256k1> {
        &verifier.root
    }
    fn aggregate(
        verifier: &TaprootVerifier,
        package: &TaprootSigningPackage,
        shares: &BTreeMap<PartyId, SignatureShare<Secp256k1>>,
    ) -> Result<Bip340Signature, Error> {
        taproot::aggregate(package, shares, &verifier.key)
    }
    fn encode_coordinator(
        verifier: &TaprootVerifier,
        package: &TaprootSigningPackage,
        w: &mut Writer,
    ) {
        verifier.root.encode_body(w);
        w.bytes(&verifier.chain_code);
        package.encode_body(w);
    }
    fn decode_coordinator(
        r: &mut Reader<'_>,
    ) -> Result<(TaprootVerifier, TaprootSigningPackage), DecodeError> {
        let root = PublicKeyPackage::<Secp256k1>::decode_body(r)?;
        let chain_code = r.array()?;
        let package = TaprootSigningPackage::decode_body(r)?;
        // The key is recomputed, not stored: a state cannot carry a key of another spend.
        let verifier = TaprootVerifier::new(root, chain_code, package.spend())
            .map_err(|_| DecodeError::InvalidValue)?;
        Ok((verifier, package))
    }
}

/// A message of the Taproot signing round (kind `0x0331`).
pub type TaprootSigningMessage = ModeSigningMessage<Secp256k1, TaprootMode>;
/// A Taproot signer (its state is kind `0x0332`).
pub type TaprootSigner<S> = ModeSigner<Secp256k1, S, TaprootMode>;
/// The serialized form of a [`TaprootSigner`] (kind `0x0332`).
pub type TaprootSignerState = ModeSignerState<Secp256k1, TaprootMode>;
/// The Taproot coordinator (its state is kind `0x0333`).
pub type TaprootCoordinator = ModeCoordinator<Secp256k1, TaprootMode>;
/// Either role of a Taproot signing session.
pub type TaprootSigningParty<S> = ModeSigningParty<Secp256k1, S, TaprootMode>;
/// The serialized form of a [`TaprootSigningParty`] (kind `0x0334`).
pub type TaprootSigningPartyState = ModeSigningPartyState<Secp256k1, TaprootMode>;
/// Output of a [`TaprootSigningParty`].
pub type TaprootSigningOutput = ModeSigningOutput<Secp256k1, TaprootMode>;

impl<S: OneTimeStore> ModeSigner<Secp256k1, S, TaprootMode> {
    /// A Taproot signer with the root key share `key` and the root key's BIP-32 `chain_code`
    /// in `session`, expecting a package from `coordinator` naming exactly `signers` (which
    /// include this party, not the coordinator), signing with one of the nonce pairs `nonces`
    /// (their public ids; the pairs must be sealed in `store` under `key`'s scope). Errors as
    /// [`Signer::new`](super::signing::Signer::new).
    pub fn new(
        store: S,
        session: SessionId,
        key: KeyPackage<Secp256k1>,
        chain_code: [u8; 32],
        coordinator: PartyId,
        signers: Parties,
        nonces: impl IntoIterator<Item = NonceId>,
    ) -> Result<Self, Error> {
        let context = TaprootSignerContext {
            chain_code,
            spend: None,
        };
        Self::with_context(store, session, key, context, coordinator, signers, nonces)
    }

    /// Sign only for this spend (path and tweak): a package for any other is refused, blaming
    /// the coordinator, before the nonce pair is taken. Effective before [`Protocol::start`](wallet_types::Protocol::start).
    pub fn expect_spend(mut self, spend: TaprootSpend) -> Self {
        if let Some(c) = self.context_mut() {
            c.spend = Some(spend);
        }
        self
    }
}

impl ModeCoordinator<Secp256k1, TaprootMode> {
    /// A coordinator `me` (not one of the signers) in `session` for `package` (spend,
    /// commitments and message) under the root key `root` with BIP-32 `chain_code`.
    ///
    /// Errors: the signers are not `t` or more parties of `root`; the spend has no valid key
    /// ([`wallet_types::ParamError::OutOfRange`], see [`TaprootKey::new`]).
    pub fn new(
        session: SessionId,
        me: PartyId,
        root: PublicKeyPackage<Secp256k1>,
        chain_code: [u8; 32],
        package: TaprootSigningPackage,
    ) -> Result<Self, Error> {
        let verifier = TaprootVerifier::new(root, chain_code, package.spend())?;
        Self::with_verifier(session, me, verifier, package)
    }

    /// The key of the session's spend (what the signature verifies under), while the session
    /// runs (`None` once finished or aborted).
    pub fn key(&self) -> Option<&TaprootKey> {
        self.verifier().map(TaprootVerifier::key)
    }
}
