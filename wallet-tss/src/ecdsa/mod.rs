//! Threshold ECDSA on secp256k1 after DKLs23 ("Threshold ECDSA in Three Rounds", Doerner,
//! Kondi, Lee, shelat; ePrint 2023/765): any threshold `2 ≤ t ≤ n` ([`Keygen::with_threshold`];
//! [`Keygen::new`] is 2-of-n: 2-of-2 device/server, 2-of-3 device/server/backup). Two signers
//! of a 2-of-n key presign with [`Presign`], the two-party specialisation; any `t` or more
//! signers with [`MultiPresign`], the protocol as the paper writes it.
//!
//! The private key is never assembled: not at creation ([`keygen`], a DKG), not when signing
//! ([`presign`] + [`sign`]). Only [`export`] assembles it, on purpose, with two shares.
//!
//! ## Map of the paper
//!
//! | here | DKLs23 |
//! |---|---|
//! | [`keygen`] | Functionality 3.2 (`F_DKG`) realised by a Pedersen/Feldman DKG with Schnorr proofs of knowledge, confirmation and acknowledgement rounds (the FROST KeyGen shape), plus, per ordered pair, the setup of `F_RVOLE` (Functionality 5.1; the base OTs and OT-extension setup of [`crate::ot`]) and a commit-then-reveal chain code |
//! | [`presign`] | Protocol 3.6, steps 5–9 for two signers (rounds 1–2 and the checks on receiving round 2): instance keys `R_i` committed then opened, the two `F_RVOLE` instances of the pair (Protocol 5.2, [`crate::mul`]), the consistency checks on `Γ^u`, `Γ^v`; ends with `u_i`, `v_i`, `φ_i`, `R` |
//! | [`presign_multi`] | Protocol 3.6, steps 4–9 for `t` signers: `F_Zero` (the zero-sharing of the additive key shares), random `χ_{i,j}` per pair with the `ψ_{i,j}` corrections, `t(t−1)` multiplications, the per-pair `Γ` checks and `Σ pk_j = pk` |
//! | [`sign`] | Protocol 3.6, step 9 (last part) and step 10: `w_i = H(m)·φ_i + r_x·v_i`, `s = Σw / Σu`, verification of the result |
//! | [`derive`](mod@derive) | BIP-32 `CKDpub` on the shared public key; Groth–Shoup 2022 on presignatures and derivation |
//! | [`export`] | not in the paper: Lagrange interpolation of `t` shares |
//! | [`import`] | not in the paper: a dealer split of an existing key, paired by [`resetup`] and refreshed at once |
//! | [`resetup`] | not in the paper: fresh `F_RVOLE` setups for every ordered pair after a proactive refresh / reshare of the shares (`wallet-pss`), giving a key share of a new epoch |
//! | [`store`] | not in the paper: the one owner of a party's key share, pairings, bans, epoch and presignatures ([`KeyStore`], [`MemoryKeyStore`]); DKLs18's rule that an abort ends "the pairing and all its concurrent sessions", enforced |
//!
//! Specialisation to two signers ([`Presign`]; the paper and [`MultiPresign`] are written for
//! `t` signers):
//! * With one counterparty, `P_i`'s inversion mask `φ_i` *is* its random `F_RVOLE` input
//!   `χ_{i,j}` (the paper samples `φ_i` and sends the correction `ψ_{i,j} = φ_i − χ_{i,j}` so that
//!   one `φ_i` serves several counterparties; with one, `ψ = 0` and is not sent).
//! * The zero-sharing `F_Zero` that re-randomises the additive key shares is not used: with a
//!   signer pair the additive shares are `sk_i = λ_i·(x_i + δ)` (`δ` the BIP-32 tweak of the
//!   path, 0 at the root) and their public values `pk_i = λ_i·(X_i + δ·G)` follow from the DKG's
//!   public share commitments `X_i`. Each party checks its
//!   counterparty's `Γ^v` against this `pk_j` directly — a stronger check than the paper's
//!   `Σ pk_j = pk`, which also names the culprit.
//! * The paper's `Γ^v` check reads `χ·lagrange(P, j, 0)·P(j)`; the value consistent with the
//!   definition of `Γ^v` is `χ·pk_j` (other implementations report the same correction), which is
//!   what is checked here.
//!
//! ## Flow
//!
//! ```text
//! keygen (once, all n parties, 7 rounds)  ->  KeyShare per party (secret share, share commitments,
//!                                    public key, chain code, OT setups with every other party)
//! MemoryKeyStore::new(key_share)  ->  the one owner of that share (or your own KeyStore)
//! presign (any 2 parties of a 2-of-n key, 2 rounds, no message; Presign::new(&store, ..);
//!          any t or more of a t-of-n key: MultiPresign::new(&store, signers, ..))
//!                                 ->  PresignatureInfo (public); each part sealed in its store
//! sign (1 message each)  partial_sign(&store, &info, &hash) -> PartialSignature
//!                                    (takes the part out of the store: single use)
//! combine the partials  ->  (k256::ecdsa::Signature, RecoveryId), verified, low-S
//!                           (combine for two, combine_all for any number)
//! refresh / reshare (wallet-pss) + resetup (all parties of the new set, 7 rounds)
//!                                 ->  Termination<KeyShare> of epoch e+1: same public key
//!                                     and chain code, new shares, new key id, fresh OT
//!                                     setups; install_confirmed(&store, outcome, &[]) ends
//!                                     epoch e for good — only when Confirmed
//! ```
//!
//! Sizes (2-of-2, with the multiplication of [`crate::mul`]): key generation sends 12 messages,
//! 43 kB in all (2-of-3: 36 messages, 129 kB); a presignature takes 4 messages, 165 kB in all
//! (14 kB in round 1 and 68 kB in round 2, each way); the online message is 102 bytes; a
//! [`KeyShare`] of a 2-of-2 key is 12.6 kB.
//!
//! ```
//! use wallet_tss::ecdsa::*;
//! use wallet_tss::k256::ecdsa::VerifyingKey;
//! use wallet_types::{Error, Parties, PartyId, Protocol, Recipient, SessionId, Step};
//! # use rand_core::SeedableRng;
//!
//! /// The in-process stand-in for a transport: starts every machine, then hands each
//! /// outgoing envelope to its recipient (with two parties a broadcast goes to the other one)
//! /// until the queue is empty. Between two processes each side runs this loop with "send /
//! /// receive over the network" in place of the queue (see `docs/integration.md`).
//! fn run<P: Protocol>(mut machines: Vec<P>, rng: &mut impl rand_core::CryptoRng)
//!     -> Result<Vec<P::Output>, Error>
//! {
//!     let (mut queue, mut outputs) = (Vec::new(), Vec::new());
//!     let mut steps = Vec::new();
//!     for m in machines.iter_mut() {
//!         steps.push(m.start(rng)?);
//!     }
//!     loop {
//!         for step in steps.drain(..) {
//!             match step {
//!                 Step::Continue(out) => queue.extend(out),
//!                 Step::Done(out, output) => { queue.extend(out); outputs.push(output) }
//!             }
//!         }
//!         let Some(envelope) = queue.pop() else { return Ok(outputs) };
//!         let (to, from) = (envelope.recipient, envelope.sender);
//!         let m = machines
//!             .iter_mut()
//!             .find(|m| match to { Recipient::One(id) => m.me() == id, Recipient::All => m.me() != from })
//!             .ok_or(Error::Internal)?;
//!         steps.push(m.handle(envelope, rng)?);
//!     }
//! }
//!
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let parties = Parties::range(2)?;
//! let (device, server) = (PartyId::new(1).ok_or(Error::Internal)?, PartyId::new(2).ok_or(Error::Internal)?);
//! let sid = SessionId::random(&mut rng); // agreed, fresh
//! let machines = parties.iter().map(|p| Keygen::new(sid, p, parties.clone(), &mut rng)).collect::<Result<Vec<_>, _>>()?;
//! let mut keys = run(machines, &mut rng)? // move the messages over your transport
//!     .into_iter()
//!     .map(|o| o.into_confirmed()) // use a key only once every party acknowledged it
//!     .collect::<Result<Vec<_>, _>>()
//!     .map_err(|_| wallet_types::Error::Internal)?;
//! keys.sort_by_key(|k| k.me());
//! // Each party hands its share to the store that owns it from now on.
//! let server_store = MemoryKeyStore::new(keys.pop().unwrap());
//! let device_store = MemoryKeyStore::new(keys.pop().unwrap());
//! let path = DerivationPath::parse("m/0/1").unwrap();
//! let sid = SessionId::random(&mut rng);
//! let machines = vec![
//!     Presign::new(&device_store, server, path.clone(), sid, &mut rng)?,
//!     Presign::new(&server_store, device, path.clone(), sid, &mut rng)?,
//! ];
//! let info = run(machines, &mut rng)?.pop().ok_or(Error::Internal)?; // public; the halves stay in the stores
//! let hash = [7u8; 32];
//! let a = partial_sign(&device_store, &info, &hash)?;
//! let b = partial_sign(&server_store, &info, &hash)?;
//! let (sig, recid) = combine(&device_store.public_package()?, &info, &hash, &a, &b)?;
//! let vk = VerifyingKey::recover_from_prehash(&hash, &sig, recid).map_err(|_| Error::Internal)?;
//! assert_eq!(vk, info.verifying_key()?);
//! # Ok::<(), wallet_types::Error>(())
//! ```
//!
//! ## Transport and storage
//!
//! Messages must travel over channels that **authenticate the sender** and **encrypt**
//! point-to-point traffic (the DKG's round 2 carries secret shares; the OT messages must not be
//! seen by a third party). Key generation sends the broadcast part of each round point-to-point;
//! its confirmation round detects a party that told different parties different things, and
//! its last two rounds make the parties end together: no party outputs a [`KeyShare`] before
//! every other party confirmed that all its OT setups completed, and none is Confirmed before
//! every other party acknowledged those confirmations (otherwise the share is output
//! unconfirmed and must be kept: [`wallet_types::termination`]). The [`resetup`] of a new
//! epoch ends the same way; [`install_confirmed`] moves a store to the new epoch only on a
//! Confirmed outcome.
//! Serialized machines and [`KeyShare`]s hold secrets: store them encrypted (e.g. under a
//! `wallet-kek` envelope). Presignatures never leave the [`KeyStore`]: they are sealed there
//! under a key derived from the current share (AES-256-GCM, HKDF-SHA256) and taken out once.
//!
//! **What to erase, and when.** After [`KeyStore::install`] of a new epoch: every persisted
//! copy of the old [`KeyShare`] (its bytes would let a party of the old epoch sign together with
//! another party's old bytes); old presign / sign machine states may stay (the store refuses
//! them, [`Error::WrongEpoch`](wallet_types::Error::WrongEpoch)) but are useless; sealed
//! presignatures of the old epoch are erased by the store and, wherever a copy survived, cannot
//! be opened without the old share.
//!
//! ## Cheating and bans
//!
//! Every failed check is an [`wallet_types::Error::Misbehaviour`] naming the counterparty. Checks
//! that protect the *reusable* pairwise OT setup (base OT, OT-extension consistency, the
//! multiplication's check, and — conservatively — the `Γ` checks on the multiplication's
//! outputs) carry a reason for which [`wallet_types::Error::must_ban`] is non-empty. The presign
//! machine records that ban in its [`KeyStore`] itself, under the pairing's lock, before it
//! returns the error: every other session with that party — live, restored from bytes, or in
//! another worker sharing the store — is refused with
//! [`Error::Banned`](wallet_types::Error::Banned) before the setup is used again, and so are
//! [`Presign::new`] and [`partial_sign`]. A ban survives in the stored share and across refresh
//! ([`KeyStore::install`] carries it over; lifting one is an explicit `lift_bans`).

pub mod derive;
pub mod export;
pub mod import;
pub mod keygen;
mod pairwise;
pub mod presign;
pub mod presign_multi;
pub mod resetup;
mod seal;
pub mod sign;
pub mod store;

pub use derive::{DerivationPath, DeriveError};
pub use export::{ExportError, export_private_key, export_private_key_from};
pub use keygen::{KeyShare, Keygen, KeygenMessage, PublicKeyPackage};
pub use presign::{Presign, PresignMessage, PresignState, PresignatureInfo};
pub use presign_multi::{MultiPresign, MultiPresignMessage, MultiPresignState};
pub use resetup::{Resetup, ResetupInput, ResetupMessage};
pub use sign::{
    PartialSignature, Sign, SignMessage, SignState, combine, combine_all, partial_sign,
};
#[cfg(feature = "std")]
pub use store::MemoryKeyStore;
pub use store::{InstallError, KeyStore, NotInstalled, PairingGuard, install_confirmed};

use wallet_types::ObjectKind;

/// Wire object kinds of this module (range `0x0380..=0x03bf`; see `SPEC.md`).
pub mod kinds {
    use super::ObjectKind;
    /// A key-generation message (seven rounds, the last an acknowledgement; the five- and
    /// six-round protocols' `0x0380` and `0x0390` are retired, so a message of either is a
    /// decode error, [`wallet_types::DecodeError::WrongKind`]).
    pub const KEYGEN_MESSAGE: ObjectKind = ObjectKind(0x039d);
    /// A key-generation machine's state (seven rounds; the five- and six-round states' `0x0381`
    /// and `0x0391` are retired: such a state decodes to
    /// [`wallet_types::DecodeError::WrongKind`], never into a machine that would run an old
    /// protocol against new peers).
    pub const KEYGEN_STATE: ObjectKind = ObjectKind(0x039e);
    /// A party's key share (the output of key generation).
    pub const KEY_SHARE: ObjectKind = ObjectKind(0x0382);
    /// A presign message.
    pub const PRESIGN_MESSAGE: ObjectKind = ObjectKind(0x0383);
    /// A presign machine's state (version 2: no key material, epoch; `0x0384` retired).
    pub const PRESIGN_STATE: ObjectKind = ObjectKind(0x039a);
    /// A sealed presignature (version 2: encrypted under the share's seal key; `0x0385`
    /// retired).
    pub const PRESIGNATURE: ObjectKind = ObjectKind(0x0399);
    /// A partial signature (the online message).
    pub const PARTIAL_SIGNATURE: ObjectKind = ObjectKind(0x0386);
    /// A sign machine's state (version 2: the presignature id only; `0x0387` retired).
    pub const SIGN_STATE: ObjectKind = ObjectKind(0x039b);
    /// The public part of a presignature (version 2: with the epoch; `0x0388` retired).
    pub const PRESIGNATURE_INFO: ObjectKind = ObjectKind(0x039c);
    /// A resetup message (fresh OT setups after refresh / reshare; version 2: seven rounds,
    /// the last an acknowledgement). The six-round message's `0x0389` is retired: a message of
    /// it is a decode error, [`wallet_types::DecodeError::WrongKind`].
    pub const RESETUP_MESSAGE: ObjectKind = ObjectKind(0x03a0);
    /// A resetup machine's state (version 2: seven rounds, with the banned parties). The
    /// six-round state `0x0392` and the state without bans `0x038a` are retired and decode to
    /// [`wallet_types::DecodeError::WrongKind`].
    pub const RESETUP_STATE: ObjectKind = ObjectKind(0x03a1);
    /// The public part of a key share ([`super::PublicKeyPackage`]).
    pub const PUBLIC_KEY_PACKAGE: ObjectKind = ObjectKind(0x0398);
    /// A message of the `t`-party presign ([`super::MultiPresign`]).
    pub const MULTI_PRESIGN_MESSAGE: ObjectKind = ObjectKind(0x03a8);
    /// A `t`-party presign machine's state.
    pub const MULTI_PRESIGN_STATE: ObjectKind = ObjectKind(0x03a9);
    /// A party's share of an imported key ([`super::import::ImportShare`]).
    pub const IMPORT_SHARE: ObjectKind = ObjectKind(0x03aa);
}

/// Protocol names (transcript domain separation).
pub(crate) const DKG_PROTOCOL: &str = "wallet-tss/ecdsa-dkls23/keygen";
pub(crate) const PRESIGN_PROTOCOL: &str = "wallet-tss/ecdsa-dkls23/presign";
pub(crate) const MULTI_PRESIGN_PROTOCOL: &str = "wallet-tss/ecdsa-dkls23/presign-t";
pub(crate) const RESETUP_PROTOCOL: &str = "wallet-tss/ecdsa-dkls23/resetup";
pub(crate) const IMPORT_PROTOCOL: &str = "wallet-tss/ecdsa-dkls23/import";
pub(crate) const VERSION: u16 = 1;

/// The default (and smallest) threshold: [`Keygen::new`] makes 2-of-n keys; any
/// `2 ≤ t ≤ n` with [`Keygen::with_threshold`].
pub const THRESHOLD: usize = 2;

/// `λ_i` of `i` in the pair `{i, j}` at 0: `j / (j − i)`.
pub(crate) fn pair_lagrange(
    i: wallet_types::PartyId,
    j: wallet_types::PartyId,
) -> Option<k256::Scalar> {
    let xi = i.to_scalar::<wallet_types::Secp256k1>();
    let xj = j.to_scalar::<wallet_types::Secp256k1>();
    let inv = Option::<k256::Scalar>::from((xj - xi).invert())?;
    Some(xj * inv)
}

/// Maps an error of a sub-protocol step fed with `sender`'s message: a *rejection* there (e.g.
/// an embedded session id of another run) is misbehaviour here, because the envelope was
/// authenticated and already accepted for this round — the machine cannot stay unchanged.
/// Except [`wallet_types::Error::StaleAnswer`]: an honest sender's answer to what this party
/// sent before it was restored; it stays a rejection that blames nobody.
pub(crate) fn attribute(
    sender: wallet_types::PartyId,
) -> impl Fn(wallet_types::Error) -> wallet_types::Error {
    move |e| {
        if e.kind() == wallet_types::ErrorKind::Rejected
            && !matches!(e, wallet_types::Error::StaleAnswer { .. })
        {
            wallet_types::Error::blame(sender, wallet_types::Reason::Replay)
        } else {
            e
        }
    }
}
