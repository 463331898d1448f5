//! Key generation (`t`-of-n, `2 ≤ t ≤ n`; [`Keygen::new`] is 2-of-n): a DKG, a chain code, and
//! the pairwise OT setup.
//!
//! Realises DKLs23's `F_DKG` (Functionality 3.2) with the Pedersen/Feldman DKG with Schnorr
//! proofs of knowledge (the FROST KeyGen shape, Komlo–Goldberg 2020, Fig. 1), followed by the
//! setup of `F_RVOLE` for every **ordered** pair (DKLs23 §3; [`crate::ot`]): each pair runs the
//! Verified Simplest OT + SoftSpokenOT setup twice, once with each party as Alice.
//!
//! All rounds are point-to-point (each message to `P_j` carries the broadcast part, which is the
//! same for every recipient, and the OT message of the pair). Seven rounds: each OT setup is a
//! chain of five alternating messages, the DKG rides on the first three, the sixth confirms
//! that every setup completed and the seventh acknowledges the confirmations:
//!
//! 1. `P_i` samples `f_i(x) = a_{i,0} + a_{i,1}·x + … + a_{i,t−1}·x^{t−1}` (degree `t − 1`),
//!    publishes Feldman commitments `C_i = (a_{i,0}·G, …, a_{i,t−1}·G)`, a Schnorr proof `σ_i = (R_i, z_i)` of
//!    `a_{i,0}` bound to `(session, i)`, a commitment `h_i = T("chain-code-commit", i, c_i)` to a
//!    random 32-byte chain-code contribution `c_i`; as Bob of the pair `(Alice = P_j, Bob =
//!    P_i)`, the OT setup's message 1.
//! 2. On all round-1 messages: verify every `σ_j` ([`Reason::InvalidProof`]). Send `P_j` its share
//!    `f_i(j)` (secret: the channel must encrypt), reveal `c_i`; as Alice, OT message 2.
//! 3. On all round-2 messages: verify `f_j(i)·G = Σ_k i^k·C_{j,k}`
//!    ([`Reason::InvalidShare`]) and `h_j` ([`Reason::CommitmentMismatch`]). Share
//!    `x_i = Σ_j f_j(i)`, public key `X = Σ_j C_{j,0}`, chain code
//!    `T("chain-code", c_1, …, c_n)`. Send the confirmation hash of everything broadcast; OT
//!    message 3.
//! 4. On all round-3 messages: confirmations must equal ours ([`Reason::ConfirmationMismatch`]
//!    names each party whose hash differs: it saw, or sent, something else). OT message 4.
//!    This is what makes the point-to-point "broadcast" of round 1 safe: a party that shows
//!    different commitments to different parties makes every party abort. Attribution is
//!    inherently ambiguous there (with three parties, the one shown the odd view cannot tell
//!    which of the other two lied), so treat this reason as "abort and investigate", not as
//!    proof against the named parties.
//! 5. OT message 5; on receipt of all round-5 messages every setup of `P_i` is complete. `P_i`
//!    sends every other party `T("confirm-setups")`: the transcript of round 4 (which fixes the
//!    key id) extended by the setup id of every ordered pair.
//! 6. On all round-6 messages: if each equals ours, `P_i` sends every other party `Ack(c)`,
//!    otherwise `Decline(c)` ([`wallet_types::termination`]).
//! 7. On all round-7 messages: the output is [`Termination::Confirmed`] iff every other party
//!    acknowledged our `c`.
//!
//! **Ending together (invariant 11).** The output is a [`Termination`] of the [`KeyShare`]. No
//! party is Confirmed before every other party acknowledged that every confirmation it got
//! matched: then every honest party holds the same key (key id, public key, chain code) with a
//! complete pairing with every other party. A failure before the key share exists (rounds 1–5:
//! a bad proof, share or OT message, a confirmation mismatch in round 4) aborts: no party can be
//! Confirmed without this party's acknowledgement, which it never sends, so the others wait
//! instead of storing a share that lists a pairing the failed party no longer has (their caller
//! sees a stalled run and ends it with [`Keygen::stop_waiting`]). A failure from round 6 on — a
//! mismatching, declined, missing or equivocated confirmation or acknowledgement, any
//! misbehaviour — ends the machine [`Termination::Unconfirmed`] with its key share **kept**
//! (the last-round gap of the six-round protocol: a wrong round-6 message to some parties made
//! those abort and drop their share while the others output theirs). Use the key only when
//! Confirmed; an unconfirmed party that acknowledged must keep its share (see the table in
//! [`wallet_types::termination`]).
//!
//! OT failures carry [`Reason::BaseOt`] / [`Reason::OtConsistency`] naming the counterparty, for
//! which [`wallet_types::Error::must_ban`] is non-empty.
//!
//! The key is uniformly random as long as one party is honest up to the usual rushing bias of
//! Pedersen DKGs (Gennaro et al. 1999), which is harmless for Schnorr-type and ECDSA
//! unforgeability (the same argument as FROST KeyGen). The chain code is commit-then-reveal and
//! hence unbiased.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use wallet_sss::{Commitments, Polynomial};
use wallet_types::group::Group;
use wallet_types::termination::mismatched_confirmations;
use wallet_types::{
    Acknowledgement, Curve, DecodeError, Envelope, Error, ErrorKind, Inbox, Lifecycle, ObjectKind,
    ParamError, Parties, PartyId, Protocol, Reader, Reason, Recipient, RoundMessage, RoundSpec,
    Secp256k1, SecretBytes, SecretScalar, SessionId, Step, Stopped, Termination, Transcript,
    Unconfirmed, WireObject, Writer,
};

use crate::ot::{
    MulReceiverSetup, MulSenderSetup, OtSetupMsg1, OtSetupMsg2, OtSetupMsg3, OtSetupMsg4,
    OtSetupMsg5,
};

use super::pairwise::PairwiseSetups;

use super::derive::{Derivation, DerivationPath, DeriveError, derive_public};
use super::{DKG_PROTOCOL, THRESHOLD, VERSION, kinds};

type Point = k256::ProjectivePoint;
type Scalar = k256::Scalar;

const ROUNDS: u16 = 7;

fn rounds() -> Vec<RoundSpec> {
    (0..ROUNDS).map(|_| RoundSpec::p2p()).collect()
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// A Shamir share in transit (round 2). Zeroized on drop, never printed; `Clone` only because
/// protocol messages must be (the simulator copies envelopes).
#[derive(Clone)]
pub struct ShareInTransit(Scalar);

impl ShareInTransit {
    /// The share as a secret scalar.
    pub fn to_secret(&self) -> SecretScalar<Secp256k1> {
        SecretScalar::new(self.0)
    }
    /// Wraps a share value (tests tamper with shares through this).
    pub fn new(s: &SecretScalar<Secp256k1>) -> Self {
        Self(*s.expose())
    }
}

impl Drop for ShareInTransit {
    fn drop(&mut self) {
        wallet_types::zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for ShareInTransit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShareInTransit(<redacted>)")
    }
}

/// Round 1: DKG commitments, proof of knowledge, chain-code commitment, OT message 1.
#[derive(Clone, Debug)]
pub struct KeygenRound1 {
    /// Feldman commitments `(a₀·G, …, a_{t−1}·G)` (`t` = the threshold, at least 2).
    pub commitments: Vec<Point>,
    /// Schnorr proof nonce commitment `R`.
    pub proof_r: Point,
    /// Schnorr proof response `z`.
    pub proof_z: Scalar,
    /// `T("chain-code-commit", i, c_i)`.
    pub chain_code_commitment: [u8; 32],
    /// OT setup message 1 (sender as Bob, recipient as Alice).
    pub ot: OtSetupMsg1,
}

/// Round 2: the recipient's share, the chain-code reveal, OT message 2.
#[derive(Clone, Debug)]
pub struct KeygenRound2 {
    /// `f_i(j)` for the recipient `j`.
    pub share: ShareInTransit,
    /// The chain-code contribution `c_i`.
    pub chain_code: [u8; 32],
    /// OT setup message 2 (sender as Alice).
    pub ot: OtSetupMsg2,
}

/// Round 3: confirmation, OT message 3.
#[derive(Clone, Debug)]
pub struct KeygenRound3 {
    /// The confirmation hash.
    pub confirmation: [u8; 32],
    /// OT setup message 3 (sender as Bob).
    pub ot: OtSetupMsg3,
}

/// A key-generation message.
// Messages are built once and moved a few times per round; boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum KeygenMessage {
    /// Round 1.
    Round1(KeygenRound1),
    /// Round 2.
    Round2(KeygenRound2),
    /// Round 3.
    Round3(KeygenRound3),
    /// Round 4: OT setup message 4 (sender as Alice).
    Round4(OtSetupMsg4),
    /// Round 5: OT setup message 5 (sender as Bob).
    Round5(OtSetupMsg5),
    /// Round 6: the setup confirmation `T("confirm-setups")` (see the module docs).
    Round6([u8; 32]),
    /// Round 7: the acknowledgement of the round-6 confirmations.
    Round7(Acknowledgement),
}

impl RoundMessage for KeygenMessage {
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

/// `C₀[33] || C₁[33]`: the two coefficients every sharing has (threshold 2 and up).
pub(crate) fn put_low(w: &mut Writer, c: &[Point]) {
    for p in c.iter().take(2) {
        w.point::<Secp256k1>(p);
    }
}

/// The coefficients above `C₁`, for a threshold `t > 2` only: `u8 (t − 2) || (t − 2) × C_k[33]`,
/// at the **end** of the body, so that a 2-of-n encoding is byte for byte the one from before
/// thresholds above 2 existed (and decodes as before).
pub(crate) fn put_high(w: &mut Writer, c: &[Point]) {
    if let Some(high) = c.get(2..).filter(|h| !h.is_empty()) {
        w.u8(high.len() as u8);
        for p in high {
            w.point::<Secp256k1>(p);
        }
    }
}

pub(crate) fn get_low(r: &mut Reader<'_>) -> Result<Vec<Point>, DecodeError> {
    Ok(alloc::vec![
        r.point::<Secp256k1>()?,
        r.point::<Secp256k1>()?
    ])
}

/// Reads [`put_high`]'s block if the body goes on (nothing follows it).
pub(crate) fn get_high(r: &mut Reader<'_>, c: &mut Vec<Point>) -> Result<(), DecodeError> {
    if r.remaining() == 0 {
        return Ok(());
    }
    let k = r.u8()?;
    if k == 0 || 2 + usize::from(k) > wallet_types::MAX_PARTIES {
        return Err(DecodeError::InvalidValue);
    }
    for _ in 0..k {
        c.push(r.point::<Secp256k1>()?);
    }
    Ok(())
}

/// `Σ_k p^k·C_k` by Horner's rule (public data; `p` is a small id).
pub(crate) fn horner(c: &[Point], p: PartyId) -> Point {
    let x = p.to_scalar::<Secp256k1>();
    c.iter()
        .rev()
        .fold(Point::identity(), |acc, ck| acc * x + ck)
}

fn put_secret_obj<T: WireObject>(w: &mut Writer, o: &T) {
    let b = o.to_secret_bytes();
    w.var_bytes(b.expose());
}

/// Body: `round u8 || fields`; round 1: `C₀[33] C₁[33] R[33] z[32] h[32] ot`, round 2:
/// `share[32] c[32] ot`, round 3: `confirmation[32] ot`, rounds 4–5: `ot`, round 6:
/// `setup_confirmation[32]`, round 7: `verdict u8 (1 ack, 2 decline) || hash[32]`, where `ot` is `u32be(len) || OT setup message` (a full wire object
/// of `crate::ot`). See `SPEC.md`.
impl WireObject for KeygenMessage {
    const KIND: ObjectKind = kinds::KEYGEN_MESSAGE;
    const MAX_LEN: usize = 1 << 20;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.u8(self.round() as u8);
        match self {
            Self::Round1(m) => {
                put_low(w, &m.commitments);
                w.point::<Secp256k1>(&m.proof_r);
                w.scalar::<Secp256k1>(&m.proof_z);
                w.bytes(&m.chain_code_commitment);
                put_obj(w, &m.ot);
                put_high(w, &m.commitments);
            }
            Self::Round2(m) => {
                w.scalar::<Secp256k1>(&m.share.0);
                w.bytes(&m.chain_code);
                put_obj(w, &m.ot);
            }
            Self::Round3(m) => {
                w.bytes(&m.confirmation);
                put_obj(w, &m.ot);
            }
            Self::Round4(m) => put_obj(w, m),
            Self::Round5(m) => put_obj(w, m),
            Self::Round6(c) => w.bytes(c),
            Self::Round7(a) => a.encode(w),
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            1 => {
                let mut commitments = get_low(r)?;
                let proof_r = r.point::<Secp256k1>()?;
                let proof_z = r.scalar::<Secp256k1>()?;
                let chain_code_commitment = r.array()?;
                let ot = get_obj(r)?;
                get_high(r, &mut commitments)?;
                Self::Round1(KeygenRound1 {
                    commitments,
                    proof_r,
                    proof_z,
                    chain_code_commitment,
                    ot,
                })
            }
            2 => Self::Round2(KeygenRound2 {
                share: ShareInTransit(r.scalar::<Secp256k1>()?),
                chain_code: r.array()?,
                ot: get_obj(r)?,
            }),
            3 => Self::Round3(KeygenRound3 {
                confirmation: r.array()?,
                ot: get_obj(r)?,
            }),
            4 => Self::Round4(get_obj(r)?),
            5 => Self::Round5(get_obj(r)?),
            6 => Self::Round6(r.array()?),
            7 => Self::Round7(Acknowledgement::decode(r)?),
            t => return Err(DecodeError::InvalidTag(t)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The key share
// ---------------------------------------------------------------------------------------------

/// The reusable pairwise multiplication setups with one counterparty.
pub struct PairSetup {
    /// This party as Alice (VOLE sender) with the counterparty as Bob.
    pub(crate) sender: MulSenderSetup,
    /// This party as Bob (VOLE receiver) with the counterparty as Alice.
    pub(crate) receiver: MulReceiverSetup,
}

impl fmt::Debug for PairSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairSetup(<redacted>)")
    }
}

/// One party's output of key generation: its Shamir share of the key, the public share
/// commitments of every party, the public key, the chain code and its OT setups with every other
/// party. Holds secrets: serialize with [`WireObject::to_secret_bytes`] and store encrypted.
/// Hand it to the [`KeyStore`](super::KeyStore) that owns it from then on
/// ([`MemoryKeyStore::new`](super::MemoryKeyStore::new)): presigning and signing go through the
/// store.
///
/// A plain, unzeroized encoding does not compile ([`WireObject::SECRET`]):
///
/// ```compile_fail
/// use wallet_types::WireObject;
/// fn leak(k: &wallet_tss::ecdsa::KeyShare) -> Vec<u8> { k.to_bytes() }
/// let f: fn(&wallet_tss::ecdsa::KeyShare) -> Vec<u8> = leak;
/// # let _ = f;
/// ```
pub struct KeyShare {
    key_id: [u8; 32],
    /// 0 after key generation; set by [`super::Resetup`] after a refresh or reshare.
    epoch: u64,
    me: PartyId,
    parties: Parties,
    share: SecretScalar<Secp256k1>,
    /// Aggregated Feldman commitments `(X, A₁, …, A_{t−1})`: party `j`'s share commitment is
    /// `Σ_k j^k·A_k` (`A₀ = X`); `t` is the threshold.
    commitments: Vec<Point>,
    chain_code: [u8; 32],
    pairs: BTreeMap<PartyId, PairSetup>,
}

impl fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShare")
            .field("key_id", &KeyIdHex(&self.key_id))
            .field("epoch", &self.epoch)
            .field("me", &self.me)
            .field("parties", &self.parties)
            .finish_non_exhaustive()
    }
}

struct KeyIdHex<'a>(&'a [u8; 32]);
impl fmt::Debug for KeyIdHex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…")
    }
}

impl KeyShare {
    /// Assembles a key share (crate-internal: [`super::Resetup`] builds new-epoch shares).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn assemble(
        key_id: [u8; 32],
        epoch: u64,
        me: PartyId,
        parties: Parties,
        share: SecretScalar<Secp256k1>,
        commitments: Vec<Point>,
        chain_code: [u8; 32],
        pairs: BTreeMap<PartyId, PairSetup>,
    ) -> Self {
        Self {
            key_id,
            epoch,
            me,
            parties,
            share,
            commitments,
            chain_code,
            pairs,
        }
    }
    /// The key's identifier: a hash of the DKG transcript (the same for every party), or after
    /// a refresh / reshare of the [`super::Resetup`] transcript (which binds the previous key id
    /// and the epoch). Presignatures are bound to it, so those of different epochs never mix.
    pub fn key_id(&self) -> &[u8; 32] {
        &self.key_id
    }
    /// The epoch of this share: 0 after [`Keygen`], the refresh / reshare epoch after
    /// [`super::Resetup`].
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// This party.
    pub fn me(&self) -> PartyId {
        self.me
    }
    /// All parties of the key.
    pub fn parties(&self) -> &Parties {
        &self.parties
    }
    /// The public key.
    pub fn public_key(&self) -> Point {
        self.commitments.first().copied().unwrap_or_default()
    }
    /// The threshold `t`: any `t` parties sign together, fewer learn nothing.
    pub fn threshold(&self) -> usize {
        self.commitments.len()
    }
    /// The public key as a `k256` verifying key.
    pub fn verifying_key(&self) -> Result<k256::ecdsa::VerifyingKey, Error> {
        verifying_key(&self.public_key())
    }
    /// The BIP-32 chain code agreed at key generation.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }
    /// Party `p`'s share commitment `x_p·G`.
    pub fn share_commitment(&self, p: PartyId) -> Point {
        horner(&self.commitments, p)
    }
    /// The aggregated Feldman commitments.
    pub fn commitments(&self) -> Result<Commitments<Secp256k1>, ParamError> {
        Commitments::new(self.commitments.clone()).map_err(|_| ParamError::Mismatch)
    }
    /// BIP-32 `CKDpub` of the key along `path` (public; every party gets the same result).
    pub fn derive(&self, path: &DerivationPath) -> Result<Derivation, DeriveError> {
        derive_public(&self.public_key(), &self.chain_code, path)
    }
    /// This party's Shamir share `x_i` (with [`KeyShare::commitments`], a share of the 2-of-n
    /// sharing of the key). **For refresh, reshare and export only** (`wallet-pss` re-randomises
    /// it); signing never needs it outside this crate. Never store or send it in the clear.
    pub fn secret_share(&self) -> &SecretScalar<Secp256k1> {
        &self.share
    }
    /// The public part of this share.
    pub fn public_package(&self) -> PublicKeyPackage {
        PublicKeyPackage {
            key_id: self.key_id,
            epoch: self.epoch,
            parties: self.parties.clone(),
            commitments: self.commitments.clone(),
            chain_code: self.chain_code,
        }
    }
    /// The key under which this share's presignatures are sealed at rest (it dies with the
    /// share: see [`super::seal`]).
    pub(crate) fn seal_key(&self) -> Result<SecretBytes<32>, Error> {
        super::seal::seal_key(&self.share, &self.key_id)
    }
    pub(crate) fn pair(&self, p: PartyId) -> Option<&PairSetup> {
        self.pairs.get(&p)
    }

    /// Acts on [`Error::must_ban`]: drops (and zeroizes) the OT setups with `p`, so that no
    /// presign with `p` can run on this share again (a failed check of the reusable setup may
    /// have leaked part of it). Persist the key share afterwards. Returns whether a pairing was
    /// dropped. Signing with `p` again needs a new key generation (or a resharing).
    pub fn ban(&mut self, p: PartyId) -> bool {
        self.pairs.remove(&p).is_some()
    }

    /// The other parties this share can still presign with (not banned).
    pub fn paired(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.pairs.keys().copied()
    }

    /// The parties banned with [`KeyShare::ban`].
    pub fn banned(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.parties
            .others(self.me)
            .filter(|p| !self.pairs.contains_key(p))
    }
}

/// The public part of a key share, the same for every party of one epoch: what a coordinator
/// that combines partial signatures ([`super::combine`]) or a new device needs. Freely
/// copyable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyPackage {
    key_id: [u8; 32],
    epoch: u64,
    parties: Parties,
    commitments: Vec<Point>,
    chain_code: [u8; 32],
}

impl PublicKeyPackage {
    /// The key id of this epoch ([`KeyShare::key_id`]).
    pub fn key_id(&self) -> &[u8; 32] {
        &self.key_id
    }
    /// The epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// All parties of the key.
    pub fn parties(&self) -> &Parties {
        &self.parties
    }
    /// The public key.
    pub fn public_key(&self) -> Point {
        self.commitments.first().copied().unwrap_or_default()
    }
    /// The threshold `t` of the key.
    pub fn threshold(&self) -> usize {
        self.commitments.len()
    }
    /// The BIP-32 chain code.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }
    /// Party `p`'s share commitment `x_p·G`.
    pub fn share_commitment(&self, p: PartyId) -> Point {
        horner(&self.commitments, p)
    }
    /// BIP-32 `CKDpub` of the key along `path`.
    pub fn derive(&self, path: &DerivationPath) -> Result<Derivation, DeriveError> {
        derive_public(&self.public_key(), &self.chain_code, path)
    }
    /// The public key as a `k256` verifying key.
    pub fn verifying_key(&self) -> Result<k256::ecdsa::VerifyingKey, Error> {
        verifying_key(&self.public_key())
    }
    /// The aggregated Feldman commitments `(X, A₁, …, A_{t−1})` (e.g. a reshare's old
    /// commitments).
    pub fn commitments(&self) -> Result<Commitments<Secp256k1>, ParamError> {
        Commitments::new(self.commitments.clone()).map_err(|_| ParamError::Mismatch)
    }
}

/// Body: `key_id[32] || epoch u64 || parties || X[33] || A₁[33] || chain_code[32]`, then for a
/// threshold `t > 2` only `u8 (t − 2) || A₂[33] … A_{t−1}[33]` (a 2-of-n package is
/// byte for byte the encoding from before thresholds above 2).
impl WireObject for PublicKeyPackage {
    const KIND: ObjectKind = kinds::PUBLIC_KEY_PACKAGE;
    const MAX_LEN: usize =
        4 + 32 + 8 + 2 + 2 * wallet_types::MAX_PARTIES + 33 * wallet_types::MAX_PARTIES + 1 + 32;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(&self.key_id);
        w.u64(self.epoch);
        w.parties(&self.parties);
        put_low(w, &self.commitments);
        w.bytes(&self.chain_code);
        put_high(w, &self.commitments);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let v = Self {
            key_id: r.array()?,
            epoch: r.u64()?,
            parties: r.parties()?,
            commitments: get_low(r)?,
            chain_code: r.array()?,
        };
        let mut v = v;
        get_high(r, &mut v.commitments)?;
        if v.parties.len() < v.threshold() || bool::from(v.public_key().is_identity()) {
            return Err(DecodeError::InvalidValue);
        }
        Ok(v)
    }
}

/// A `k256` verifying key for a point (fails only for the identity, which no key here is).
pub(crate) fn verifying_key(p: &Point) -> Result<k256::ecdsa::VerifyingKey, Error> {
    k256::ecdsa::VerifyingKey::from_affine(p.to_affine()).map_err(|_| Error::Internal)
}

const MAX_PAIR_SETUP: usize = 1 << 16;

/// Body: `key_id[32] || me u16 || parties || share[32] || X[33] || A₁[33] || chain_code[32] ||
/// u16 count || count × (party u16 || u32be(len) || MulSenderSetup || u32be(len) ||
/// MulReceiverSetup)` (one entry per other party not banned, in id order) `|| epoch u64` (the
/// epoch is always written; a body that ends before it, from before epochs existed, decodes as
/// epoch 0), then for a threshold `t > 2` only `u8 (t − 2) || A₂[33] … A_{t−1}[33]` (so a 2-of-n
/// share is byte for byte the encoding from before thresholds above 2). Secret: store
/// encrypted.
impl WireObject for KeyShare {
    const KIND: ObjectKind = kinds::KEY_SHARE;
    const SECRET: bool = true;
    const MAX_LEN: usize = 1 << 26;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(&self.key_id);
        w.party(self.me);
        w.parties(&self.parties);
        w.secret_scalar(&self.share);
        put_low(w, &self.commitments);
        w.bytes(&self.chain_code);
        w.u16(self.pairs.len() as u16);
        for (p, s) in &self.pairs {
            w.party(*p);
            put_secret_obj(w, &s.sender);
            put_secret_obj(w, &s.receiver);
        }
        w.u64(self.epoch);
        put_high(w, &self.commitments);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let key_id = r.array()?;
        let me = r.party()?;
        let parties = r.parties()?;
        if !parties.contains(me) || parties.len() < THRESHOLD {
            return Err(DecodeError::InvalidValue);
        }
        let share = r.secret_scalar::<Secp256k1>()?;
        let mut commitments = get_low(r)?;
        let chain_code = r.array()?;
        // At most one entry per other party; fewer after bans.
        let n = r.count16(parties.len() - 1, 2)?;
        let mut pairs = BTreeMap::new();
        for _ in 0..n {
            let p = r.party()?;
            if p == me || !parties.contains(p) {
                return Err(DecodeError::InvalidValue);
            }
            let sender: MulSenderSetup = MulSenderSetup::from_bytes(r.var_bytes(MAX_PAIR_SETUP)?)?;
            let receiver: MulReceiverSetup =
                MulReceiverSetup::from_bytes(r.var_bytes(MAX_PAIR_SETUP)?)?;
            if sender.counterparty() != p || receiver.counterparty() != p {
                return Err(DecodeError::InvalidValue);
            }
            if pairs.insert(p, PairSetup { sender, receiver }).is_some() {
                return Err(DecodeError::InvalidValue);
            }
        }
        let epoch = if r.remaining() == 0 { 0 } else { r.u64()? };
        get_high(r, &mut commitments)?;
        if parties.len() < commitments.len() {
            return Err(DecodeError::InvalidValue);
        }
        let ks = Self {
            key_id,
            epoch,
            me,
            parties,
            share,
            commitments,
            chain_code,
            pairs,
        };
        // The share must match its commitment (catches a corrupted or mismatched file).
        if ks.share.public() != ks.share_commitment(me) {
            return Err(DecodeError::InvalidValue);
        }
        Ok(ks)
    }
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

/// What party `j` broadcast in round 1.
#[derive(Clone)]
struct Round1Public {
    commitments: Vec<Point>,
    proof_r: Point,
    proof_z: Scalar,
    chain_code_commitment: [u8; 32],
}

struct State {
    inbox: Inbox<KeygenMessage>,
    /// The threshold `t` (the number of coefficients of every party's polynomial).
    threshold: usize,
    /// Coefficients `(a₀, …, a_{t−1})` of this party's polynomial (dropped after round 2).
    poly: Option<Polynomial<Secp256k1>>,
    chain_code: SecretBytes<32>,
    /// Round-1 public values of every party (this one included).
    public: BTreeMap<PartyId, Round1Public>,
    /// Chain-code reveals (this one included), after round 2.
    reveals: BTreeMap<PartyId, [u8; 32]>,
    /// `x_i`, after round 2.
    share: Option<SecretScalar<Secp256k1>>,
    /// The confirmation hash, after round 2.
    confirmation: Option<[u8; 32]>,
    /// Whether the confirmations were checked.
    confirmed: bool,
    /// The setup confirmation `T("confirm-setups")`, once every setup is complete (round 5).
    setup_confirmation: Option<[u8; 32]>,
    setups: PairwiseSetups,
}

/// One party of the `t`-of-n key generation (see the module docs for the rounds).
pub struct Keygen {
    me: PartyId,
    life: Lifecycle<State>,
}

impl fmt::Debug for Keygen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keygen")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

fn base_transcript(session: &SessionId, parties: &Parties, threshold: usize) -> Transcript {
    let mut t = Transcript::new(DKG_PROTOCOL, VERSION, Some(Secp256k1::ID), session);
    let mut w = Writer::new();
    w.parties(parties);
    t.append("parties", &w.finish());
    t.append_u64("threshold", threshold as u64);
    t
}

fn proof_challenge(
    session: &SessionId,
    parties: &Parties,
    threshold: usize,
    who: PartyId,
    a0: &Point,
    r: &Point,
) -> Scalar {
    let mut t = base_transcript(session, parties, threshold);
    t.append_party("prover", who);
    t.append_point::<Secp256k1>("public", a0);
    t.append_point::<Secp256k1>("nonce", r);
    t.challenge::<Secp256k1>("schnorr-pok")
}

fn chain_code_commitment(
    session: &SessionId,
    parties: &Parties,
    threshold: usize,
    who: PartyId,
    c: &[u8; 32],
) -> [u8; 32] {
    let mut t = base_transcript(session, parties, threshold);
    t.append_party("party", who);
    t.append("chain-code", c);
    t.output32("chain-code-commit")
}

impl Keygen {
    /// A key-generation machine for `me` among `parties` (at least 2, including `me`) in a fresh
    /// `session` (agree on one with [`wallet_types::session_id`]; reusing a session id across
    /// runs lets old messages be replayed into the new run). Randomness is drawn here and in
    /// [`Protocol::start`].
    pub fn new<R: CryptoRng + ?Sized>(
        session: SessionId,
        me: PartyId,
        parties: Parties,
        rng: &mut R,
    ) -> Result<Self, Error> {
        Self::with_threshold(session, me, parties, THRESHOLD, rng)
    }

    /// A key-generation machine for a `threshold`-of-n key (`2 ≤ threshold ≤ n`): any
    /// `threshold` parties presign and sign together ([`super::MultiPresign`]; two parties use
    /// the faster [`super::Presign`]), fewer learn nothing about the key. Otherwise as
    /// [`Keygen::new`] (which is `with_threshold(…, 2, …)`).
    ///
    /// Errors: [`ParamError::TooFewParties`] for fewer parties than `threshold`,
    /// [`ParamError::OutOfRange`] for a threshold below 2.
    pub fn with_threshold<R: CryptoRng + ?Sized>(
        session: SessionId,
        me: PartyId,
        parties: Parties,
        threshold: usize,
        rng: &mut R,
    ) -> Result<Self, Error> {
        if threshold < THRESHOLD {
            return Err(ParamError::OutOfRange.into());
        }
        if parties.len() < threshold {
            return Err(ParamError::TooFewParties {
                needed: threshold,
                given: parties.len(),
            }
            .into());
        }
        let inbox = Inbox::new(session, me, parties, rounds())?;
        let poly = Polynomial::random(SecretScalar::random(rng), threshold, rng)
            .map_err(|_| Error::Internal)?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                threshold,
                poly: Some(poly),
                chain_code: SecretBytes::random(rng),
                public: BTreeMap::new(),
                reveals: BTreeMap::new(),
                share: None,
                confirmation: None,
                confirmed: false,
                setup_confirmation: None,
                setups: PairwiseSetups::default(),
            }),
        })
    }

    /// Ends a machine whose run stopped making progress (a party stays silent; the caller's
    /// timeout is up) without losing what it computed: once every setup is complete (round 5)
    /// it ends [`Unconfirmed`] with the key share — and, if this party had not acknowledged
    /// yet, a `Decline` to every other party, so that it can never be counted later — listing
    /// every other party. `None` with the machine unchanged when it was not started or is
    /// over; `None` with the machine ended when it has no key share yet (nothing to keep).
    /// Later calls answer [`Error::Finished`].
    pub fn stop_waiting(&mut self) -> Option<Stopped<KeygenMessage, KeyShare>> {
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

impl State {
    fn session(&self) -> SessionId {
        *self.inbox.session()
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Vec<Envelope<KeygenMessage>>, Error> {
        let me = self.inbox.me();
        let session = self.session();
        let parties = self.inbox.parties().clone();
        let t = self.threshold;
        let poly = self.poly.as_ref().ok_or(Error::Internal)?;
        let commitments = poly.commit().points().to_vec();
        let c0 = *commitments.first().ok_or(Error::Internal)?;
        if commitments.len() != t {
            return Err(Error::Internal);
        }
        // Schnorr proof of knowledge of a₀ (FROST KeyGen round 1, step 2).
        let k = SecretScalar::<Secp256k1>::random(rng);
        let proof_r = k.public();
        let ch = proof_challenge(&session, &parties, t, me, &c0, &proof_r);
        let a0 = poly.coefficients().first().ok_or(Error::Internal)?;
        let proof_z = *k.expose() + ch * a0.expose();
        let h = chain_code_commitment(&session, &parties, t, me, self.chain_code.expose());
        self.public.insert(
            me,
            Round1Public {
                commitments: commitments.clone(),
                proof_r,
                proof_z,
                chain_code_commitment: h,
            },
        );
        let mut out = Vec::new();
        // OT setup message 1: this party is Bob, j is Alice.
        for (j, m1) in self.setups.round1(&session, me, &parties, rng) {
            out.push(self.inbox.envelope(
                1,
                Recipient::One(j),
                KeygenMessage::Round1(KeygenRound1 {
                    commitments: commitments.clone(),
                    proof_r,
                    proof_z,
                    chain_code_commitment: h,
                    ot: m1,
                }),
            ));
        }
        Ok(out)
    }

    fn advance<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<KeygenStep, Error> {
        let mut out = Vec::new();
        while let Some(msgs) = self.inbox.take_current() {
            let round = self.inbox.current_round() - 1;
            match round {
                1 => self.round1(msgs, rng, &mut out)?,
                2 => self.round2(msgs, &mut out)?,
                3 => self.round3(msgs, &mut out)?,
                4 => self.round4(msgs, &mut out)?,
                5 => self.round5(msgs, &mut out)?,
                6 => {
                    if let Some(done) = self.round6(msgs, &mut out)? {
                        return Ok(done);
                    }
                }
                7 => return Ok(Step::Done(out, self.round7(msgs)?)),
                _ => return Err(Error::Internal),
            }
        }
        Ok(Step::Continue(out))
    }

    /// Whether the key share exists (every setup complete, from round 5 on): a failure from
    /// then on ends the run unconfirmed instead of dropping it.
    fn holds_result(&self) -> bool {
        self.setup_confirmation.is_some() && self.share.is_some()
    }

    /// Round 7 is current once this party has acknowledged.
    fn acknowledged(&self) -> bool {
        self.inbox.current_round() >= 7
    }

    /// Ends the run after round 5 on a failure, keeping the key share; a party that has not
    /// acknowledged yet declines to every other party (so that nobody waits for it or counts
    /// it).
    fn conclude(
        &mut self,
        mut out: Vec<Envelope<KeygenMessage>>,
        acknowledged: bool,
        disagreeing: Vec<PartyId>,
    ) -> Result<KeygenStep, Error> {
        let c = self.setup_confirmation.ok_or(Error::Internal)?;
        let key = self.finish()?;
        if !acknowledged {
            self.send_all(
                &mut out,
                7,
                KeygenMessage::Round7(Acknowledgement::Decline(c)),
            );
        }
        Ok(Step::Done(
            out,
            Termination::Unconfirmed(Unconfirmed::new(key, c, acknowledged, disagreeing)),
        ))
    }

    fn send_all(&self, out: &mut Vec<Envelope<KeygenMessage>>, round: u16, m: KeygenMessage) {
        for j in self.inbox.parties().others(self.inbox.me()) {
            out.push(self.inbox.envelope(round, Recipient::One(j), m.clone()));
        }
    }

    fn round1<R: CryptoRng + ?Sized>(
        &mut self,
        msgs: BTreeMap<PartyId, KeygenMessage>,
        rng: &mut R,
        out: &mut Vec<Envelope<KeygenMessage>>,
    ) -> Result<(), Error> {
        let me = self.inbox.me();
        let session = self.session();
        let parties = self.inbox.parties().clone();
        let mut ot_msgs = BTreeMap::new();
        let mut bad = Vec::new();
        for (j, m) in msgs {
            let KeygenMessage::Round1(m) = m else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            // A sharing of another degree: the sender runs another threshold.
            let Some(c0) = m
                .commitments
                .first()
                .filter(|_| m.commitments.len() == self.threshold)
            else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            // FROST KeyGen round 1, step 5: verify σ_j.
            let ch = proof_challenge(&session, &parties, self.threshold, j, c0, &m.proof_r);
            if Secp256k1::mul_base_add_vartime(&m.proof_z, &(-ch), c0) != m.proof_r {
                bad.push(j);
            }
            self.public.insert(
                j,
                Round1Public {
                    commitments: m.commitments,
                    proof_r: m.proof_r,
                    proof_z: m.proof_z,
                    chain_code_commitment: m.chain_code_commitment,
                },
            );
            ot_msgs.insert(j, m.ot);
        }
        if !bad.is_empty() {
            return Err(Error::blame_all(bad, Reason::InvalidProof));
        }
        let poly = self.poly.as_ref().ok_or(Error::Internal)?;
        for (j, m1) in ot_msgs {
            // OT setup message 2: this party is Alice, j is Bob.
            let m2 = self.setups.round2(&session, me, j, &m1, rng)?;
            let share = poly.share_for(j);
            out.push(self.inbox.envelope(
                2,
                Recipient::One(j),
                KeygenMessage::Round2(KeygenRound2 {
                    share: ShareInTransit::new(&share),
                    chain_code: *self.chain_code.expose(),
                    ot: m2,
                }),
            ));
        }
        Ok(())
    }

    fn transcript(&self) -> Result<Transcript, Error> {
        let parties = self.inbox.parties().clone();
        let mut t = base_transcript(&self.session(), &parties, self.threshold);
        for p in parties.iter() {
            let pubs = self.public.get(&p).ok_or(Error::Internal)?;
            let c = self.reveals.get(&p).ok_or(Error::Internal)?;
            t.append_party("party", p);
            for (k, ck) in pubs.commitments.iter().enumerate() {
                // "c0", "c1" as before thresholds above 2; "c-k" labels the higher ones, whose
                // index the threshold (in the base transcript) and the order fix.
                let label = match k {
                    0 => "c0",
                    1 => "c1",
                    _ => "c-k",
                };
                t.append_point::<Secp256k1>(label, ck);
            }
            t.append_point::<Secp256k1>("proof-r", &pubs.proof_r);
            t.append_scalar::<Secp256k1>("proof-z", &pubs.proof_z);
            t.append("chain-code-commit", &pubs.chain_code_commitment);
            t.append("chain-code", c);
        }
        Ok(t)
    }

    fn round2(
        &mut self,
        msgs: BTreeMap<PartyId, KeygenMessage>,
        out: &mut Vec<Envelope<KeygenMessage>>,
    ) -> Result<(), Error> {
        let me = self.inbox.me();
        let session = self.session();
        let parties = self.inbox.parties().clone();
        let poly = self.poly.take().ok_or(Error::Internal)?;
        let mut share = poly.share_for(me);
        drop(poly);
        let mut bad_share = Vec::new();
        let mut bad_commit = Vec::new();
        let mut ot_msgs = BTreeMap::new();
        for (j, m) in msgs {
            let KeygenMessage::Round2(m) = m else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            let pubs = self.public.get(&j).ok_or(Error::Internal)?;
            // FROST KeyGen round 2, step 2: f_j(i)·G = Σ_k i^k·C_{j,k}.
            let s = m.share.to_secret();
            if s.public() != horner(&pubs.commitments, me) {
                bad_share.push(j);
            }
            if chain_code_commitment(&session, &parties, self.threshold, j, &m.chain_code)
                != pubs.chain_code_commitment
            {
                bad_commit.push(j);
            }
            *share.expose_mut() += s.expose();
            self.reveals.insert(j, m.chain_code);
            ot_msgs.insert(j, m.ot);
        }
        if !bad_share.is_empty() {
            return Err(Error::blame_all(bad_share, Reason::InvalidShare));
        }
        if !bad_commit.is_empty() {
            return Err(Error::blame_all(bad_commit, Reason::CommitmentMismatch));
        }
        self.reveals.insert(me, *self.chain_code.expose());
        self.share = Some(share);
        let confirmation = self.transcript()?.output32("confirm");
        self.confirmation = Some(confirmation);
        for (j, m2) in ot_msgs {
            let m3 = self.setups.round3(j, &m2)?;
            out.push(self.inbox.envelope(
                3,
                Recipient::One(j),
                KeygenMessage::Round3(KeygenRound3 {
                    confirmation,
                    ot: m3,
                }),
            ));
        }
        Ok(())
    }

    fn round3(
        &mut self,
        msgs: BTreeMap<PartyId, KeygenMessage>,
        out: &mut Vec<Envelope<KeygenMessage>>,
    ) -> Result<(), Error> {
        let mine = self.confirmation.ok_or(Error::Internal)?;
        let mut bad = Vec::new();
        let mut ot_msgs = BTreeMap::new();
        for (j, m) in msgs {
            let KeygenMessage::Round3(m) = m else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            if m.confirmation != mine {
                bad.push(j);
            }
            ot_msgs.insert(j, m.ot);
        }
        if !bad.is_empty() {
            return Err(Error::blame_all(bad, Reason::ConfirmationMismatch));
        }
        self.confirmed = true;
        for (j, m3) in ot_msgs {
            let m4 = self.setups.round4(j, &m3)?;
            out.push(
                self.inbox
                    .envelope(4, Recipient::One(j), KeygenMessage::Round4(m4)),
            );
        }
        Ok(())
    }

    fn round4(
        &mut self,
        msgs: BTreeMap<PartyId, KeygenMessage>,
        out: &mut Vec<Envelope<KeygenMessage>>,
    ) -> Result<(), Error> {
        for (j, m) in msgs {
            let KeygenMessage::Round4(m4) = m else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            let m5 = self.setups.round5(j, &m4)?;
            out.push(
                self.inbox
                    .envelope(5, Recipient::One(j), KeygenMessage::Round5(m5)),
            );
        }
        Ok(())
    }

    fn round5(
        &mut self,
        msgs: BTreeMap<PartyId, KeygenMessage>,
        out: &mut Vec<Envelope<KeygenMessage>>,
    ) -> Result<(), Error> {
        for (j, m) in msgs {
            let KeygenMessage::Round5(m5) = m else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            self.setups.finish_alice(j, &m5)?;
        }
        // Every setup of this party is complete: confirm it to every other party.
        let c = self.setup_transcript()?.output32("confirm-setups");
        self.setup_confirmation = Some(c);
        for j in self.inbox.parties().clone().others(self.inbox.me()) {
            out.push(
                self.inbox
                    .envelope(6, Recipient::One(j), KeygenMessage::Round6(c)),
            );
        }
        Ok(())
    }

    /// Round 6: every setup confirmation must equal ours; then acknowledge. `Some` ends the
    /// run (declined, unconfirmed).
    fn round6(
        &mut self,
        msgs: BTreeMap<PartyId, KeygenMessage>,
        out: &mut Vec<Envelope<KeygenMessage>>,
    ) -> Result<Option<KeygenStep>, Error> {
        let mine = self.setup_confirmation.ok_or(Error::Internal)?;
        let bad = mismatched_confirmations(
            &mine,
            msgs.iter().map(|(j, m)| match m {
                KeygenMessage::Round6(c) => (*j, Some(*c)),
                _ => (*j, None),
            }),
        );
        if !bad.is_empty() {
            return self.conclude(core::mem::take(out), false, bad).map(Some);
        }
        self.send_all(out, 7, KeygenMessage::Round7(Acknowledgement::Ack(mine)));
        Ok(None)
    }

    /// Round 7: Confirmed iff every other party acknowledged our setup confirmation.
    fn round7(
        &mut self,
        msgs: BTreeMap<PartyId, KeygenMessage>,
    ) -> Result<Termination<KeyShare>, Error> {
        let mine = self.setup_confirmation.ok_or(Error::Internal)?;
        let key = self.finish()?;
        Ok(Termination::from_acknowledgements(
            key,
            mine,
            msgs.iter().map(|(j, m)| match m {
                KeygenMessage::Round7(a) => (*j, Some(a)),
                _ => (*j, None),
            }),
        ))
    }

    /// The DKG transcript extended by the setup id of every ordered pair (this party's setups
    /// must all be complete).
    fn setup_transcript(&self) -> Result<Transcript, Error> {
        if !self.confirmed {
            return Err(Error::Internal);
        }
        let mut t = self.transcript()?;
        self.setups.append_setup_ids(
            &mut t,
            self.inbox.session(),
            self.inbox.me(),
            self.inbox.parties(),
        )?;
        Ok(t)
    }

    fn finish(&mut self) -> Result<KeyShare, Error> {
        let me = self.inbox.me();
        let parties = self.inbox.parties().clone();
        let mut commitments = alloc::vec![Point::identity(); self.threshold];
        for pubs in self.public.values() {
            if pubs.commitments.len() != self.threshold {
                return Err(Error::Internal);
            }
            for (a, c) in commitments.iter_mut().zip(&pubs.commitments) {
                *a += c;
            }
        }
        let x = *commitments.first().ok_or(Error::Internal)?;
        if bool::from(x.is_identity()) {
            return Err(Error::Internal);
        }
        let share = self.share.take().ok_or(Error::Internal)?;
        if share.public() != horner(&commitments, me) {
            return Err(Error::Internal);
        }
        let t = self.transcript()?;
        let key_id = t.output32("key-id");
        let mut cct = t.clone();
        cct.append_point::<Secp256k1>("public-key", &x);
        let chain_code = cct.output32("chain-code");
        let pairs = self.setups.take(me, &parties)?;
        Ok(KeyShare {
            key_id,
            epoch: 0,
            me,
            parties,
            share,
            commitments,
            chain_code,
            pairs,
        })
    }
}

type KeygenStep = Step<KeygenMessage, Termination<KeyShare>>;

impl Protocol for Keygen {
    type Message = KeygenMessage;
    type Output = Termination<KeyShare>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<KeygenStep, Error> {
        self.life
            .start(|s| Ok((Step::Continue(s.start(rng)?), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<KeygenMessage>,
        rng: &mut R,
    ) -> Result<KeygenStep, Error> {
        self.life.step(|s| match s.inbox.receive(incoming) {
            Ok(_) => s.advance(rng),
            // Once the key share exists, a misbehaving party (an equivocation, a message of
            // another round) must not make this party drop it: end unconfirmed, naming it.
            Err(e) if e.kind() == ErrorKind::Misbehaviour && s.holds_result() => {
                let acknowledged = s.acknowledged();
                s.conclude(Vec::new(), acknowledged, e.culprits().to_vec())
            }
            Err(e) => Err(e),
        })
    }
}

/// State body: `me u16 || lifecycle u8`; if created / running: `inbox || has_poly u8 ||
/// [a₀[32] a₁[32]] || chain_code[32] || u16 n || n × (party, C₀, C₁, R, z, h) || u16 m ||
/// m × (party, reveal[32]) || has_share u8 || [share[32]] || has_confirmation u8 ||
/// [confirmation[32]] || confirmed u8 || has_setup_confirmation u8 || [setup_confirmation[32]]
/// || u16 k || k × (party, bob tag u8, u32 len, state) || u16 k || k × (party, alice tag u8,
/// [u32 len, state])`. Holds secrets: store encrypted. The kind is new with the seventh round
/// (`0x039e`; the six- and five-round states' `0x0391` and `0x0381` are refused as
/// [`DecodeError::WrongKind`]); the layout is that of `0x0391` with a seven-round inbox.
impl WireObject for Keygen {
    const KIND: ObjectKind = kinds::KEYGEN_STATE;
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
        match &s.poly {
            Some(p) => {
                w.u8(1);
                for c in p.coefficients() {
                    w.secret_scalar(c);
                }
            }
            None => w.u8(0),
        }
        w.bytes(s.chain_code.expose());
        w.u16(s.public.len() as u16);
        for (p, v) in &s.public {
            w.party(*p);
            put_low(w, &v.commitments);
            w.point::<Secp256k1>(&v.proof_r);
            w.scalar::<Secp256k1>(&v.proof_z);
            w.bytes(&v.chain_code_commitment);
        }
        w.u16(s.reveals.len() as u16);
        for (p, v) in &s.reveals {
            w.party(*p);
            w.bytes(v);
        }
        match &s.share {
            Some(x) => {
                w.u8(1);
                w.secret_scalar(x);
            }
            None => w.u8(0),
        }
        match &s.confirmation {
            Some(c) => {
                w.u8(1);
                w.bytes(c);
            }
            None => w.u8(0),
        }
        w.bool(s.confirmed);
        match &s.setup_confirmation {
            Some(c) => {
                w.u8(1);
                w.bytes(c);
            }
            None => w.u8(0),
        }
        s.setups.encode(w);
        // Threshold > 2 only: `u8 (t − 2)`, the higher coefficients of the polynomial (if
        // held), then each round-1 entry's higher commitments, in the order above.
        if s.threshold > THRESHOLD {
            w.u8((s.threshold - THRESHOLD) as u8);
            if let Some(p) = &s.poly {
                for c in p.coefficients().iter().skip(THRESHOLD) {
                    w.secret_scalar(c);
                }
            }
            for v in s.public.values() {
                for c in v.commitments.iter().skip(THRESHOLD) {
                    w.point::<Secp256k1>(c);
                }
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::<KeygenMessage>::decode(r, rounds())?;
                if inbox.me() != me || inbox.parties().len() < THRESHOLD {
                    return Err(DecodeError::InvalidValue);
                }
                let parties = inbox.parties().clone();
                let n = parties.len();
                let mut poly_low = if r.bool()? {
                    let a0 = r.secret_scalar::<Secp256k1>()?;
                    let a1 = r.secret_scalar::<Secp256k1>()?;
                    Some(alloc::vec![a0, a1])
                } else {
                    None
                };
                let chain_code = SecretBytes::new(r.array()?);
                let mut public = BTreeMap::new();
                for _ in 0..r.count16(n, 2 + 33 * 3 + 64)? {
                    let p = r.party()?;
                    let v = Round1Public {
                        commitments: get_low(r)?,
                        proof_r: r.point::<Secp256k1>()?,
                        proof_z: r.scalar::<Secp256k1>()?,
                        chain_code_commitment: r.array()?,
                    };
                    if !parties.contains(p) || public.insert(p, v).is_some() {
                        return Err(DecodeError::InvalidValue);
                    }
                }
                let mut reveals = BTreeMap::new();
                for _ in 0..r.count16(n, 34)? {
                    let p = r.party()?;
                    if !parties.contains(p) || reveals.insert(p, r.array()?).is_some() {
                        return Err(DecodeError::InvalidValue);
                    }
                }
                let share = if r.bool()? {
                    Some(r.secret_scalar::<Secp256k1>()?)
                } else {
                    None
                };
                let confirmation = if r.bool()? { Some(r.array()?) } else { None };
                let confirmed = r.bool()?;
                let setup_confirmation = if r.bool()? { Some(r.array()?) } else { None };
                let setups = PairwiseSetups::decode(r, me, &parties)?;
                let threshold = if r.remaining() == 0 {
                    THRESHOLD
                } else {
                    let k = usize::from(r.u8()?);
                    if k == 0 || THRESHOLD + k > n {
                        return Err(DecodeError::InvalidValue);
                    }
                    if let Some(c) = poly_low.as_mut() {
                        for _ in 0..k {
                            c.push(r.secret_scalar::<Secp256k1>()?);
                        }
                    }
                    for v in public.values_mut() {
                        for _ in 0..k {
                            v.commitments.push(r.point::<Secp256k1>()?);
                        }
                    }
                    THRESHOLD + k
                };
                let poly = match poly_low {
                    Some(c) => Some(
                        Polynomial::from_coefficients(c).map_err(|_| DecodeError::InvalidValue)?,
                    ),
                    None => None,
                };
                let s = State {
                    inbox,
                    threshold,
                    poly,
                    chain_code,
                    public,
                    reveals,
                    share,
                    confirmation,
                    confirmed,
                    setup_confirmation,
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
