//! The offline phase: DKLs23 Protocol 3.6, steps 5–9 without the message.
//!
//! Two signers `P_i`, `P_j` (any two parties of the key) with additive shares of the (derived)
//! key `sk_i = λ_i·(x_i + δ)` (Lagrange coefficient of the pair, BIP-32 tweak `δ` of the path
//! fixed *now*, see [`super::derive`]) and public `pk_i = λ_i·(X_i + δ·G)`. Two point-to-point
//! rounds:
//!
//! 1. (steps 5–6) `P_i` samples its instance key `r_i` and sends a commitment
//!    `com_i = T("instance-commit", i, R_i = r_i·G, salt_i)`; as **Bob** of the `F_RVOLE`
//!    instance with `P_j` as Alice it sends the multiplication's first message
//!    ([`crate::mul::mul_receiver_round1`]), whose random input `χ_{i,j}` is `P_i`'s inversion
//!    mask `φ_i` (with one counterparty the paper's `ψ` correction is zero).
//! 2. (step 7) On `P_j`'s round 1: as **Alice** with input `(r_i, sk_i)`
//!    ([`crate::mul::mul_sender_round2`]), `P_i` obtains `c^u_{i,j}`, `c^v_{i,j}` with
//!    `c^u_{i,j} + d^u_{j,i} = r_i·φ_j` and `c^v_{i,j} + d^v_{j,i} = sk_i·φ_j`, and sends the
//!    multiplication's second message, `Γ^u_{i,j} = c^u_{i,j}·G`, `Γ^v_{i,j} = c^v_{i,j}·G` and
//!    the opening `(R_i, salt_i)`.
//! 3. (step 8, on `P_j`'s round 2) check the opening of `com_j` ([`Reason::CommitmentMismatch`]);
//!    finish the multiplication as Bob (its own checks: [`Reason::OtConsistency`] /
//!    [`Reason::MultiplicationCheck`]), obtaining `φ_i` and `d^u_{i,j}`, `d^v_{i,j}`; check
//!    `φ_i·R_j = Γ^u_{j,i} + d^u_{i,j}·G` and `φ_i·pk_j = Γ^v_{j,i} + d^v_{i,j}·G`
//!    ([`Reason::MultiplicationCheck`], which bans: the counterparty fed the multiplication
//!    inputs other than the ones it is committed to). The two equations are checked as one
//!    random linear combination (see [below](#the-step-8-checks-batched)).
//! 4. (step 9, message-independent part) `R = R_i + R_j`,
//!    `u_i = r_i·φ_i + c^u_{i,j} + d^u_{i,j}`, `v_i = sk_i·φ_i + c^v_{i,j} + d^v_{i,j}`, so
//!    `u_i + u_j = r·φ` and `v_i + v_j = sk·φ`. The presignature `(R, φ_i, u_i, v_i)` is sealed
//!    into the signer's [`KeyStore`] under its id; the machine outputs its public
//!    [`PresignatureInfo`].
//!
//! ## Who owns what
//!
//! The machine never holds the key share or the pairing's OT setups: steps 6, 7 and 8 borrow
//! them from the [`KeyStore`] under the pairing's lock ([`super::store`]), so a ban recorded by
//! any session, or a newer epoch installed since, stops this one before the setup is touched.
//! `sk_i` is computed inside that lock and dropped there. The state holds only this session's
//! ephemeral secrets (`r_i`, the salt, Bob's OT outputs, `c^u`, `c^v`).
//!
//! The session id given to [`Presign::new`] must be fresh for every presignature (agree on one
//! with [`wallet_types::session_id`] or let the server pick a random one: the commitment of round
//! 1 makes `R` unbiased either way, but a repeated id would let round messages of another run be
//! replayed). It names the two multiplications and is bound into the presignature's id.
//!
//! ## The step-8 checks, batched
//!
//! Write `E_u = φ_i·R_j − Γ^u_{j,i} − d^u_{i,j}·G` and `E_v = φ_i·pk_j − Γ^v_{j,i} − d^v_{i,j}·G`;
//! the paper's two checks are `E_u = 0` and `E_v = 0`. `P_i` instead draws a fresh local
//! `ρ ∈ [0, 2^128)` from its own randomness *after* `P_j`'s round-2 message has fixed `E_u`
//! and `E_v`, and checks `E_u + ρ·E_v = 0`, i.e.
//!
//! ```text
//! φ_i·(R_j + ρ·pk_j) = Γ^u_{j,i} + ρ·Γ^v_{j,i} + (d^u_{i,j} + ρ·d^v_{i,j})·G,
//! ```
//!
//! If `E_v ≠ 0` it generates the group (prime order `q > 2^128`), so exactly one `ρ mod q`
//! satisfies the equation and the check passes with probability at most `2^-128`; if
//! `E_v = 0` the check is `E_u = 0` itself. This is the standard small-exponent batch
//! verification (Bellare–Garay–Rabin, "Fast batch verification for modular exponentiation and
//! digital signatures", Eurocrypt 1998). `ρ` is neither sent nor derived from the transcript
//! (the check is local, no Fiat–Shamir is needed) and a failure still names `P_j` with
//! [`Reason::MultiplicationCheck`]: either equation failing means `P_j` misbehaved.
//!
//! It is evaluated with `ρ' = ρ·(i − j)` in place of `ρ` (the map `ρ ↦ ρ·(i − j)` is
//! injective mod `q` as `i ≠ j`, so the bound above holds unchanged) and with
//! `Y_j = X_j + δ·G`, for which `pk_j = λ_j·Y_j` and `ρ'·λ_j = ρ·i` (`λ_j = i/(i − j)`):
//!
//! ```text
//! φ_i·R_j + (ρ·i·φ_i)·Y_j − ρ'·Γ^v_{j,i} = Γ^u_{j,i} + (d^u_{i,j} + ρ'·d^v_{i,j})·G
//! ```
//!
//! — one constant-time three-term multi-scalar multiplication and one constant-time
//! fixed-base multiplication, instead of two variable-base and two fixed-base
//! multiplications, and neither `pk_j` nor `λ_j` (a field inversion) is ever computed. Every
//! scalar that involves the secrets `φ_i`, `d^u`, `d^v` goes through constant-time
//! arithmetic.

use alloc::vec::Vec;
use core::fmt;

use k256::elliptic_curve::ops::LinearCombination;
use rand_core::CryptoRng;
use wallet_types::group::{Curve as _, Group, GroupEncoding};
use wallet_types::{
    DecodeError, Envelope, Error, Inbox, Lifecycle, ObjectKind, ParamError, Parties, PartyId,
    Protocol, Reader, Reason, Recipient, RoundMessage, RoundSpec, Secp256k1, SecretBytes,
    SecretScalar, SecretVec, SessionId, Step, StoreError, Transcript, WireObject, Writer,
};

use crate::mul::{MulMsg1, MulMsg2, MulReceiverState};

use super::derive::DerivationPath;
use super::keygen::{KeyShare, PairSetup};
use super::store::{KeyStore, PairingGuard, with_pairing};
use super::{PRESIGN_PROTOCOL, VERSION, kinds};

type Point = k256::ProjectivePoint;

fn rounds() -> Vec<RoundSpec> {
    alloc::vec![RoundSpec::p2p(), RoundSpec::p2p()]
}

/// The session of the multiplication in which `alice` is Alice and `bob` is Bob.
///
/// The key id is bound in, so that two signers holding shares of different epochs (or keys)
/// fail on the first multiplication message — before any OT-extension check that a mismatched
/// setup would otherwise fail (and wrongly flag as a reason to ban) — with
/// `Misbehaviour { [counterparty], Replay }`: the message belongs to another key.
fn mul_session(session: &SessionId, key_id: &[u8; 32], alice: PartyId, bob: PartyId) -> SessionId {
    let mut label = Vec::with_capacity(53);
    label.extend_from_slice(b"ecdsa-presign-mul");
    label.extend_from_slice(&alice.to_bytes());
    label.extend_from_slice(&bob.to_bytes());
    label.extend_from_slice(key_id);
    session.derive(&label)
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Round 1: commitment to `R_i` and the multiplication's first message (sender as Bob).
#[derive(Clone, Debug)]
pub struct PresignRound1 {
    /// `T("instance-commit", i, R_i, salt_i)`.
    pub commitment: [u8; 32],
    /// `F_RVOLE` message 1 (sender as Bob).
    pub mul: MulMsg1,
}

/// Round 2: opening of `R_i`, the multiplication's second message (sender as Alice), `Γ`s.
#[derive(Clone, Debug)]
pub struct PresignRound2 {
    /// The instance point `R_i`.
    pub instance_point: Point,
    /// The commitment's salt.
    pub salt: [u8; 32],
    /// `Γ^u = c^u·G`.
    pub gamma_u: Point,
    /// `Γ^v = c^v·G`.
    pub gamma_v: Point,
    /// `F_RVOLE` message 2 (sender as Alice).
    pub mul: MulMsg2,
}

/// A presign message.
// Messages are built once and moved a few times per round; boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum PresignMessage {
    /// Round 1.
    Round1(PresignRound1),
    /// Round 2.
    Round2(PresignRound2),
}

impl RoundMessage for PresignMessage {
    fn round(&self) -> u16 {
        match self {
            Self::Round1(_) => 1,
            Self::Round2(_) => 2,
        }
    }
}

/// Body: `round u8 ||` round 1: `commitment[32] || u32be(len) || MulMsg1`; round 2:
/// `R_i[33] || salt[32] || Γ^u[33] || Γ^v[33] || u32be(len) || MulMsg2`. See `SPEC.md`.
impl WireObject for PresignMessage {
    const KIND: ObjectKind = kinds::PRESIGN_MESSAGE;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.u8(self.round() as u8);
        match self {
            Self::Round1(m) => {
                w.bytes(&m.commitment);
                w.object(&m.mul);
            }
            Self::Round2(m) => {
                // The same bytes as `w.point` three times, with one field inversion.
                let [r, gu, gv] = encode_points(&[m.instance_point, m.gamma_u, m.gamma_v]);
                w.bytes(&r);
                w.bytes(&m.salt);
                w.bytes(&gu);
                w.bytes(&gv);
                w.object(&m.mul);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            1 => Self::Round1(PresignRound1 {
                commitment: r.array()?,
                mul: MulMsg1::from_bytes(r.var_bytes(MulMsg1::MAX_LEN)?)?,
            }),
            2 => Self::Round2(PresignRound2 {
                instance_point: r.point::<Secp256k1>()?,
                salt: r.array()?,
                gamma_u: r.point::<Secp256k1>()?,
                gamma_v: r.point::<Secp256k1>()?,
                mul: MulMsg2::from_bytes(r.var_bytes(MulMsg2::MAX_LEN)?)?,
            }),
            t => return Err(DecodeError::InvalidTag(t)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Presignature
// ---------------------------------------------------------------------------------------------

/// The public part of a presignature: what both signers (and a coordinator that combines)
/// agree on. Freely copyable. The secret half of each signer stays sealed in its
/// [`KeyStore`]; [`super::partial_sign`] takes it out once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignatureInfo {
    /// The presignature's id: a hash of the presign transcript (the same for both signers).
    pub id: [u8; 32],
    /// The key's id ([`KeyShare::key_id`]) of the epoch the presignature belongs to.
    pub key_id: [u8; 32],
    /// That epoch ([`KeyShare::epoch`]).
    pub epoch: u64,
    /// The signers (two for [`Presign`], `t` or more for [`super::MultiPresign`]).
    pub signers: Parties,
    /// The derivation path the presignature is bound to.
    pub path: DerivationPath,
    /// The (derived) public key the signature will verify under.
    pub public_key: Point,
    /// The instance point `R = k·G` (the signature's `r` is its x-coordinate mod q).
    pub instance_point: Point,
}

impl PresignatureInfo {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.id);
        w.bytes(&self.key_id);
        w.u64(self.epoch);
        w.parties(&self.signers);
        self.path.encode(w);
        w.point::<Secp256k1>(&self.public_key);
        w.point::<Secp256k1>(&self.instance_point);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let v = Self {
            id: r.array()?,
            key_id: r.array()?,
            epoch: r.u64()?,
            signers: r.parties()?,
            path: DerivationPath::decode(r)?,
            public_key: r.point::<Secp256k1>()?,
            instance_point: r.point::<Secp256k1>()?,
        };
        if v.signers.len() < 2 {
            return Err(DecodeError::InvalidValue);
        }
        Ok(v)
    }
    /// The other signer (for `me` one of two signers; with more, the first other one).
    pub fn counterparty(&self, me: PartyId) -> Option<PartyId> {
        self.signers.others(me).next()
    }
    /// The verifying key of [`PresignatureInfo::public_key`].
    pub fn verifying_key(&self) -> Result<k256::ecdsa::VerifyingKey, Error> {
        super::keygen::verifying_key(&self.public_key)
    }
}

/// Body: `id[32] key_id[32] epoch u64 parties path public_key[33] R[33]`.
impl WireObject for PresignatureInfo {
    const KIND: ObjectKind = kinds::PRESIGNATURE_INFO;
    const MAX_LEN: usize = 4 + 64 + 8 + 2 + 2 * wallet_types::MAX_PARTIES + 1 + 4 * 255 + 66;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);
    fn encode_body(&self, w: &mut Writer) {
        self.encode(w);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode(r)
    }
}

/// One signer's presignature `(φ_i, u_i, v_i)`, inside the crate only: the presign machine
/// seals it into the key store, [`super::partial_sign`] takes it out once and consumes it.
/// Signing twice with one presignature (two messages, same `R`) reveals the key.
///
/// It keeps of the [`PresignatureInfo`] what signing needs — the id, the key id and epoch it
/// belongs to, the signers and `r_x = R.x mod q` — all of it authenticated by the seal, so the
/// online step never decodes a point and never trusts the caller's copy of the info.
pub(crate) struct Presignature {
    id: [u8; 32],
    key_id: [u8; 32],
    epoch: u64,
    signers: Parties,
    me: PartyId,
    r_x: k256::Scalar,
    phi: SecretScalar<Secp256k1>,
    u: SecretScalar<Secp256k1>,
    v: SecretScalar<Secp256k1>,
}

impl fmt::Debug for Presignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presignature")
            .field("id", &self.id)
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

const SEALED_HEADER: wallet_types::Header = wallet_types::Header {
    version: wallet_types::FORMAT_VERSION,
    kind: kinds::PRESIGNATURE,
    curve: Some(wallet_types::CurveId::Secp256k1),
};

/// The largest sealed presignature: header, me, id, key id, epoch, a signer set, `r_x`, nonce,
/// three scalars and the tag.
const SEALED_MAX: usize =
    4 + 2 + 32 + 32 + 8 + 2 + 2 * wallet_types::MAX_PARTIES + 32 + 12 + 96 + 16;

impl Presignature {
    /// The presignature for `info` with the secrets of signer `me`.
    pub(super) fn new(
        info: &PresignatureInfo,
        me: PartyId,
        phi: SecretScalar<Secp256k1>,
        u: SecretScalar<Secp256k1>,
        v: SecretScalar<Secp256k1>,
    ) -> Self {
        use wallet_types::EcdsaCurve;
        let (r_x, _, _) = Secp256k1::x_scalar(&info.instance_point);
        Self {
            id: info.id,
            key_id: info.key_id,
            epoch: info.epoch,
            signers: info.signers.clone(),
            me,
            r_x,
            phi,
            u,
            v,
        }
    }

    /// The presignature's id.
    pub(crate) fn id(&self) -> &[u8; 32] {
        &self.id
    }
    /// This signer.
    pub(crate) fn me(&self) -> PartyId {
        self.me
    }
    /// `r_x = R.x mod q` (the signature's `r`).
    pub(crate) fn r_x(&self) -> &k256::Scalar {
        &self.r_x
    }

    pub(crate) fn parts(
        &self,
    ) -> (
        &SecretScalar<Secp256k1>,
        &SecretScalar<Secp256k1>,
        &SecretScalar<Secp256k1>,
    ) {
        (&self.phi, &self.u, &self.v)
    }

    /// The authenticated public part: `header || me u16 || id[32] || key_id[32] || epoch u64 ||
    /// signers || r_x[32]`.
    fn public_part(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(&SEALED_HEADER.to_bytes());
        w.party(self.me);
        w.bytes(&self.id);
        w.bytes(&self.key_id);
        w.u64(self.epoch);
        w.parties(&self.signers);
        w.scalar::<Secp256k1>(&self.r_x);
        w.finish()
    }

    /// Seals the presignature under the seal key of `key` (the current share): kind `0x0399`,
    /// `public part || nonce[12] || AES-256-GCM(φ[32] || u[32] || v[32]) || tag[16]` with the
    /// public part as associated data. A refresh replaces the share, and with it the seal key:
    /// copies of sealed presignatures of an earlier epoch, wherever they were kept, can no
    /// longer be opened.
    pub(super) fn seal<R: CryptoRng + ?Sized>(
        self,
        key: &KeyShare,
        rng: &mut R,
    ) -> Result<SecretVec, Error> {
        let aad = self.public_part();
        let mut plain = Writer::secret();
        plain.secret_scalar(&self.phi);
        plain.secret_scalar(&self.u);
        plain.secret_scalar(&self.v);
        let plain = plain.into_secret();
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        let sealed = super::seal::seal(&key.seal_key()?, &nonce, &aad, plain.expose())?;
        let mut out = Writer::secret();
        out.bytes(&aad);
        out.bytes(&nonce);
        out.bytes(&sealed);
        Ok(out.into_secret())
    }

    /// Opens a presignature sealed by [`Presignature::seal`] under `key`'s seal key, expecting
    /// `info`'s id. A presignature of another epoch or key is [`Error::WrongEpoch`]; another id
    /// or a presignature of another party is [`ParamError::Mismatch`]; bytes that do not open
    /// (corrupted by the store) are [`Error::Store`]`(`[`StoreError::Unavailable`]`)` — a local
    /// storage failure, never blamed on a counterparty.
    pub(crate) fn unseal(
        key: &KeyShare,
        info: &PresignatureInfo,
        bytes: &[u8],
    ) -> Result<Self, Error> {
        let corrupt = || Error::Store(StoreError::Unavailable);
        if bytes.len() > SEALED_MAX {
            return Err(corrupt());
        }
        let mut r = Reader::new(bytes);
        let h = wallet_types::Header::parse(&r.array().map_err(|_| corrupt())?)
            .map_err(|_| corrupt())?;
        if h != SEALED_HEADER {
            return Err(corrupt());
        }
        let me = r.party().map_err(|_| corrupt())?;
        let id: [u8; 32] = r.array().map_err(|_| corrupt())?;
        let key_id: [u8; 32] = r.array().map_err(|_| corrupt())?;
        let epoch = r.u64().map_err(|_| corrupt())?;
        let signers = r.parties().map_err(|_| corrupt())?;
        let r_x = r.scalar::<Secp256k1>().map_err(|_| corrupt())?;
        if key_id != *key.key_id() {
            return Err(Error::WrongEpoch {
                current: key.epoch(),
                found: epoch,
            });
        }
        if id != info.id || me != key.me() || signers.len() < 2 || !signers.contains(me) {
            return Err(ParamError::Mismatch.into());
        }
        let aad_len = bytes.len() - r.remaining();
        let aad = bytes.get(..aad_len).ok_or_else(corrupt)?;
        let nonce: [u8; 12] = r.array().map_err(|_| corrupt())?;
        let rest = bytes.get(aad_len + 12..).ok_or_else(corrupt)?;
        let plain =
            super::seal::open(&key.seal_key()?, &nonce, aad, rest).map_err(|_| corrupt())?;
        let mut p = Reader::new(plain.expose());
        let phi = p.secret_scalar::<Secp256k1>().map_err(|_| corrupt())?;
        let u = p.secret_scalar::<Secp256k1>().map_err(|_| corrupt())?;
        let v = p.secret_scalar::<Secp256k1>().map_err(|_| corrupt())?;
        p.finish().map_err(|_| corrupt())?;
        Ok(Self {
            id,
            key_id,
            epoch,
            signers,
            me,
            r_x,
            phi,
            u,
            v,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

struct State {
    inbox: Inbox<PresignMessage>,
    other: PartyId,
    key_id: [u8; 32],
    epoch: u64,
    path: DerivationPath,
    public_key: Point,
    /// The BIP-32 tweak `δ` of the path (public): `sk_i = λ_i·(x_i + δ)` is computed from the
    /// store's current share at the one step that needs it, never kept.
    delta: k256::Scalar,
    /// `λ_i` of this party in the pair (public).
    lambda: k256::Scalar,
    /// `Y_j = X_j + δ·G`, so that `pk_j = λ_j·Y_j` (the factor `λ_j` is folded into the
    /// step-8 check's scalar instead of being multiplied in here).
    y_other: Point,
    r: SecretScalar<Secp256k1>,
    salt: SecretBytes<32>,
    mul: Option<MulReceiverState>,
    commitment_other: Option<[u8; 32]>,
    c_u: Option<SecretScalar<Secp256k1>>,
    c_v: Option<SecretScalar<Secp256k1>>,
    /// Derived from the fields above; recomputed on construction and on decode, never stored.
    cache: Cache,
}

/// What every round would otherwise recompute (each point encoding is a field inversion,
/// `r_i·G` a fixed-base multiplication).
struct Cache {
    /// The transcript up to and including the public key (see [`prefix`]).
    prefix: Transcript,
    /// `R_i = r_i·G`.
    instance_point: Point,
    /// The encoding of `R_i`.
    instance_bytes: [u8; 33],
    /// `com_i = T("instance-commit", i, R_i, salt_i)`.
    commitment: [u8; 32],
}

impl Cache {
    fn new(
        inbox: &Inbox<PresignMessage>,
        key_id: &[u8; 32],
        path: &DerivationPath,
        public_key: &Point,
        r: &SecretScalar<Secp256k1>,
        salt: &SecretBytes<32>,
    ) -> Self {
        let instance_point = r.public();
        let [pk_bytes, instance_bytes] = encode_points(&[*public_key, instance_point]);
        let prefix = prefix(inbox.session(), key_id, inbox.parties(), path, &pk_bytes);
        let commitment = instance_commitment(&prefix, inbox.me(), &instance_bytes, salt.expose());
        Self {
            prefix,
            instance_point,
            instance_bytes,
            commitment,
        }
    }
}

/// The SEC1 compressed encodings of `points` (the bytes of `Writer::point` /
/// `Transcript::append_point`, the identity included), with one field inversion for all of
/// them (constant time: Montgomery's trick through `group::Curve::batch_normalize`).
pub(super) fn encode_points<const N: usize>(points: &[Point; N]) -> [[u8; 33]; N] {
    let mut affine = [k256::AffinePoint::IDENTITY; N];
    Point::batch_normalize(points, &mut affine);
    affine.map(|a| {
        let mut out = [0u8; 33];
        out.copy_from_slice(a.to_bytes().as_slice());
        out
    })
}

/// The presign transcript's common prefix: session, key id, signers and path, public key.
fn prefix(
    session: &SessionId,
    key_id: &[u8; 32],
    signers: &Parties,
    path: &DerivationPath,
    public_key: &[u8; 33],
) -> Transcript {
    prefix_of(PRESIGN_PROTOCOL, session, key_id, signers, path, public_key)
}

/// [`prefix`] under the protocol name `protocol` (the two-party and the `t`-party presign are
/// separate protocols: their transcripts never coincide).
pub(super) fn prefix_of(
    protocol: &str,
    session: &SessionId,
    key_id: &[u8; 32],
    signers: &Parties,
    path: &DerivationPath,
    public_key: &[u8; 33],
) -> Transcript {
    let mut t = Transcript::new(
        protocol,
        VERSION,
        Some(wallet_types::CurveId::Secp256k1),
        session,
    );
    t.append("key-id", key_id);
    let mut w = Writer::new();
    w.parties(signers);
    path.encode(&mut w);
    t.append("signers-and-path", &w.finish());
    // = `append_point("public-key", public_key)`.
    t.append("public-key", public_key);
    t
}

/// `T("instance-commit", who, R, salt)` on top of the prefix; `point` is `R`'s encoding
/// (so the same bytes as `append_point("instance-point", R)`).
pub(super) fn instance_commitment(
    prefix: &Transcript,
    who: PartyId,
    point: &[u8; 33],
    salt: &[u8; 32],
) -> [u8; 32] {
    let mut t = prefix.clone();
    t.append_party("party", who);
    t.append("instance-point", point);
    t.append("salt", salt);
    t.output32("instance-commit")
}

/// A fresh local `ρ ∈ [0, 2^128)` for the batched step-8 check (module docs).
pub(super) fn batch_coefficient<R: CryptoRng + ?Sized>(rng: &mut R) -> k256::Scalar {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    k256::Scalar::from(u128::from_le_bytes(bytes))
}

/// One signer of the presign protocol (see the module docs), working on the key share owned
/// by its [`KeyStore`] `S` (e.g. `&MemoryKeyStore` or `Arc<MemoryKeyStore>`).
///
/// The machine holds no copy of the key share or of the pairing's OT setups: every step that
/// uses them borrows them from the store under the pairing's lock, refuses a banned pairing
/// ([`Error::Banned`]) or a share of a later epoch ([`Error::WrongEpoch`]), and records a ban
/// in the store before returning an error for which [`Error::must_ban`] is non-empty. Its
/// output is the [`PresignatureInfo`]; the secret half is sealed into the store.
///
/// Persist it between rounds with [`Presign::save`] and [`Presign::restore`] (the bytes hold
/// this session's ephemeral secrets, not the key share: store them encrypted).
pub struct Presign<S: KeyStore> {
    store: S,
    inner: PresignState,
}

/// The serialized form of a [`Presign`] machine (kind `0x039a`): everything but the store.
/// Decoding it needs no key material; [`Presign::restore`] attaches it to a store again.
pub struct PresignState {
    me: PartyId,
    life: Lifecycle<State>,
}

impl<S: KeyStore> fmt::Debug for Presign<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl fmt::Debug for PresignState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presign")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl State {
    /// Runs `f` with the current share and the pairing with the counterparty (store module).
    fn with_pairing<S: KeyStore + ?Sized, T>(
        &self,
        store: &S,
        f: impl FnOnce(&KeyShare, &PairSetup) -> Result<T, Error>,
    ) -> Result<T, Error> {
        with_pairing(store, self.other, &self.key_id, self.epoch, f)
    }

    fn start<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        rng: &mut R,
    ) -> Result<Vec<Envelope<PresignMessage>>, Error> {
        let me = self.inbox.me();
        // Step 5: instance key r_i, R_i = r_i·G, commitment (computed with the machine: Cache).
        let commitment = self.cache.commitment;
        // Step 6: as Bob (input χ = φ_i sampled inside the multiplication).
        let session = mul_session(self.inbox.session(), &self.key_id, self.other, me);
        let (state, msg1) = self.with_pairing(store, |_, pair| {
            crate::mul::mul_receiver_round1(&pair.receiver, &session, 2, rng)
        })?;
        self.mul = Some(state);
        Ok(alloc::vec![self.inbox.envelope(
            1,
            Recipient::One(self.other),
            PresignMessage::Round1(PresignRound1 {
                commitment,
                mul: msg1,
            }),
        )])
    }

    fn advance<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        rng: &mut R,
    ) -> Result<(Vec<Envelope<PresignMessage>>, Option<PresignatureInfo>), Error> {
        let mut out = Vec::new();
        while let Some(mut msgs) = self.inbox.take_current() {
            let j = self.other;
            let m = msgs.remove(&j).ok_or(Error::Internal)?;
            match m {
                PresignMessage::Round1(m) if self.inbox.current_round() == 2 => {
                    out.push(self.round1(store, m, rng)?);
                }
                PresignMessage::Round2(m) if self.inbox.current_round() == 3 => {
                    return Ok((out, Some(self.round2(store, m, rng)?)));
                }
                _ => return Err(Error::blame(j, Reason::MalformedMessage)),
            }
        }
        Ok((out, None))
    }

    fn round1<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        m: PresignRound1,
        rng: &mut R,
    ) -> Result<Envelope<PresignMessage>, Error> {
        let me = self.inbox.me();
        let j = self.other;
        self.commitment_other = Some(m.commitment);
        // Step 7: as Alice with inputs (r_i, sk_i), sk_i = λ_i·(x_i + δ) from the current share.
        let session = mul_session(self.inbox.session(), &self.key_id, me, j);
        let (c, msg2) = self.with_pairing(store, |key, pair| {
            let sk = SecretScalar::new(self.lambda * (*key.secret_share().expose() + self.delta));
            let inputs = [self.r.duplicate(), sk];
            crate::mul::mul_sender_round2(&pair.sender, &session, &inputs, &m.mul, j, rng)
                .map_err(super::attribute(j))
        })?;
        let [c_u, c_v]: [SecretScalar<Secp256k1>; 2] = c.try_into().map_err(|_| Error::Internal)?;
        let gamma_u = c_u.public();
        let gamma_v = c_v.public();
        self.c_u = Some(c_u);
        self.c_v = Some(c_v);
        Ok(self.inbox.envelope(
            2,
            Recipient::One(j),
            PresignMessage::Round2(PresignRound2 {
                instance_point: self.cache.instance_point,
                salt: *self.salt.expose(),
                gamma_u,
                gamma_v,
                mul: msg2,
            }),
        ))
    }

    #[allow(non_snake_case)]
    fn round2<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        m: PresignRound2,
        rng: &mut R,
    ) -> Result<PresignatureInfo, Error> {
        let me = self.inbox.me();
        let j = self.other;
        // Step 8: decommitment.
        let com = self.commitment_other.ok_or(Error::Internal)?;
        let R_j = m.instance_point;
        let R_j_bytes = super::derive::compressed(&R_j);
        if instance_commitment(&self.cache.prefix, j, &R_j_bytes, &m.salt) != com {
            return Err(Error::blame(j, Reason::CommitmentMismatch));
        }
        let session = mul_session(self.inbox.session(), &self.key_id, j, me);
        // An answer to a first message sent before a restart is `StaleAnswer` (a rejection):
        // checked before the state is taken, so the machine keeps it.
        let state = self.mul.as_ref().ok_or(Error::Internal)?;
        state
            .check_answers(&m.mul, j)
            .map_err(super::attribute(j))?;
        let state = self.mul.take().ok_or(Error::Internal)?;
        let (R_i, c_u, c_v) = (
            self.cache.instance_point,
            self.c_u.take().ok_or(Error::Internal)?,
            self.c_v.take().ok_or(Error::Internal)?,
        );
        let (r, y_other, lambda, delta) = (&self.r, self.y_other, self.lambda, self.delta);
        let mut t = self.cache.prefix.clone();
        for p in self.inbox.parties().iter() {
            let (point, c) = if p == me {
                (&self.cache.instance_bytes, &self.cache.commitment)
            } else {
                (&R_j_bytes, &com)
            };
            t.append_party("party", p);
            // = `append_point("instance-point", R_p)`.
            t.append("instance-point", point);
            t.append("instance-commit", c);
        }
        let info = PresignatureInfo {
            id: t.output32("presignature-id"),
            key_id: self.key_id,
            epoch: self.epoch,
            signers: self.inbox.parties().clone(),
            path: self.path.clone(),
            public_key: self.public_key,
            instance_point: R_i + R_j,
        };
        // Everything that uses the pairing or the share runs under the pairing's lock; a
        // failed multiplication or Γ check is recorded as a ban before the lock is released.
        let sealed = self.with_pairing(store, |key, pair| {
            // Step 8: finish the multiplication as Bob.
            let (phi, d) = state
                .finish(&pair.receiver, &session, &m.mul, j)
                .map_err(super::attribute(j))?;
            let [d_u, d_v]: [SecretScalar<Secp256k1>; 2] =
                d.try_into().map_err(|_| Error::Internal)?;
            // Step 8: consistency checks χ·R_j = Γ^u + d^u·G and χ·pk_j = Γ^v + d^v·G, batched
            // with a fresh local ρ < 2^128 (module docs: sound except with probability 2^-128)
            // as (check u) + ρ'·(check v), ρ' = ρ·(i − j), pk_j = λ_j·Y_j, ρ'·λ_j = ρ·i:
            // χ·R_j + (ρ·i·χ)·Y_j − ρ'·Γ^v = Γ^u + (d^u + ρ'·d^v)·G.
            // χ = φ_i and d are secret: one constant-time three-term multi-scalar
            // multiplication and one constant-time fixed-base multiplication.
            let rho = batch_coefficient(rng);
            let (i_scalar, j_scalar) = (me.to_scalar::<Secp256k1>(), j.to_scalar::<Secp256k1>());
            let rho_v = rho * (i_scalar - j_scalar);
            let phi_y = SecretScalar::<Secp256k1>::new(rho * i_scalar * phi.expose());
            let lhs = Point::lincomb(&[
                (R_j, *phi.expose()),
                (y_other, *phi_y.expose()),
                (m.gamma_v, -rho_v),
            ]);
            let d = SecretScalar::<Secp256k1>::new(*d_u.expose() + rho_v * d_v.expose());
            let rhs = m.gamma_u + d.public();
            if lhs != rhs {
                return Err(Error::blame(j, Reason::MultiplicationCheck));
            }
            // Step 9 (message-independent part).
            if bool::from(info.instance_point.is_identity()) {
                return Err(Error::blame(j, Reason::InvalidResult));
            }
            let sk =
                SecretScalar::<Secp256k1>::new(lambda * (*key.secret_share().expose() + delta));
            let u = SecretScalar::<Secp256k1>::new(
                *r.expose() * phi.expose() + c_u.expose() + d_u.expose(),
            );
            let v = SecretScalar::<Secp256k1>::new(
                *sk.expose() * phi.expose() + c_v.expose() + d_v.expose(),
            );
            Presignature::new(&info, me, phi, u, v).seal(key, rng)
        })?;
        // Single use across restores: a state restored from before this round cannot store a
        // second copy under the same id (the store refuses a known id).
        store.put(&info.key_id, &info.id, sealed)?;
        Ok(info)
    }
}

impl<S: KeyStore> Presign<S> {
    /// A presign machine for the store's party with the other signer `other`, bound to the
    /// derivation `path` and the fresh `session` (see the module docs).
    ///
    /// Errors: `other` is this party or not a party of the key
    /// ([`ParamError::NotAMember`]); the pairing with `other` was ended ([`Error::Banned`]);
    /// the path hits BIP-32's invalid-child case ([`ParamError::OutOfRange`]: use the next
    /// index); the store failed ([`Error::Store`]).
    pub fn new<R: CryptoRng + ?Sized>(
        store: S,
        other: PartyId,
        path: DerivationPath,
        session: SessionId,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let guard = store.lock_pairing(other)?;
        let key = guard.key();
        let me = key.me();
        if other == me || !key.parties().contains(other) {
            return Err(ParamError::NotAMember(other).into());
        }
        if key.pair(other).is_none() {
            return Err(Error::Banned { party: other });
        }
        // Two signers hold an additive sharing of the key only for a threshold of 2.
        if key.threshold() != 2 {
            return Err(ParamError::TooFewParties {
                needed: key.threshold(),
                given: 2,
            }
            .into());
        }
        let signers = Parties::new([me, other])?;
        let derivation = key.derive(&path).map_err(|_| ParamError::OutOfRange)?;
        let lambda = super::pair_lagrange(me, other).ok_or(Error::Internal)?;
        // Y_j = X_j + δ·G (pk_j = λ_j·Y_j): X_j by Horner's rule with the small id j, and
        // δ·G = K_δ − K (the derivation computed it already). Public data, a few additions.
        let commitments = key.commitments().map_err(|_| Error::Internal)?;
        let y_other =
            commitments.share_commitment(other) + derivation.public_key - key.public_key();
        let (key_id, epoch) = (*key.key_id(), key.epoch());
        drop(guard);
        let inbox = Inbox::new(session, me, signers, rounds())?;
        let r = SecretScalar::random(rng);
        let salt = SecretBytes::random(rng);
        let cache = Cache::new(&inbox, &key_id, &path, &derivation.public_key, &r, &salt);
        Ok(Self {
            store,
            inner: PresignState {
                me,
                life: Lifecycle::Created(State {
                    inbox,
                    other,
                    key_id,
                    epoch,
                    path,
                    public_key: derivation.public_key,
                    delta: derivation.tweak,
                    lambda,
                    y_other,
                    r,
                    salt,
                    mul: None,
                    commitment_other: None,
                    c_u: None,
                    c_v: None,
                    cache,
                }),
            },
        })
    }

    /// The machine's serialized state (kind `0x039a`; ephemeral secrets of this session, no
    /// key material: store encrypted).
    pub fn save(&self) -> SecretVec {
        self.inner.to_secret_bytes()
    }

    /// A machine restored from [`Presign::save`]'s bytes, working on `store` again. The store
    /// decides at the next step whether the session may go on: a ban recorded since, or a
    /// refresh installed since, refuses it; a second restore of the same bytes cannot store a
    /// second presignature under one id.
    pub fn restore(store: S, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_state(store, PresignState::from_bytes(bytes)?))
    }

    /// Attaches a decoded state to `store`.
    pub fn from_state(store: S, inner: PresignState) -> Self {
        Self { store, inner }
    }

    /// The store the machine works on.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: KeyStore> Protocol for Presign<S> {
    type Message = PresignMessage;
    type Output = PresignatureInfo;

    fn me(&self) -> PartyId {
        self.inner.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<PresignMessage, PresignatureInfo>, Error> {
        let store = &self.store;
        self.inner
            .life
            .start(|s| Ok((Step::Continue(s.start(store, rng)?), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<PresignMessage>,
        rng: &mut R,
    ) -> Result<Step<PresignMessage, PresignatureInfo>, Error> {
        let store = &self.store;
        self.inner.life.step(|s| {
            s.inbox.receive(incoming)?;
            let (out, output) = s.advance(store, rng)?;
            Ok(Step::from_round(out, output))
        })
    }
}

pub(super) fn put_opt_scalar(w: &mut Writer, s: &Option<SecretScalar<Secp256k1>>) {
    match s {
        Some(s) => {
            w.u8(1);
            w.secret_scalar(s);
        }
        None => w.u8(0),
    }
}

pub(super) fn get_opt_scalar(
    r: &mut Reader<'_>,
) -> Result<Option<SecretScalar<Secp256k1>>, DecodeError> {
    Ok(if r.bool()? {
        Some(r.secret_scalar::<Secp256k1>()?)
    } else {
        None
    })
}

pub(super) const MAX_OBJ: usize = 1 << 21;

/// State body: `me u16 || lifecycle u8`; if created / running: `inbox || other u16 ||
/// key_id[32] || epoch u64 || path || public_key[33] || δ[32] || λ_i[32] || Y_j[33] ||
/// r[32] || salt[32] || has u8 || [u32be(len) || MulReceiverState] || has u8 ||
/// [commitment[32]] || has u8 || [c_u[32]] || has u8 || [c_v[32]]`, where `Y_j = X_j + δ·G`
/// is the counterparty's derived share commitment. No key share and no OT setup: those stay
/// in the store. `R_i`, its encoding, `com_i` and the transcript prefix are recomputed on
/// decode. Holds this session's secrets: store encrypted.
impl WireObject for PresignState {
    const KIND: ObjectKind = kinds::PRESIGN_STATE;
    const SECRET: bool = true;
    const MAX_LEN: usize = 1 << 23;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else {
            return;
        };
        s.inbox.encode(w);
        w.party(s.other);
        w.bytes(&s.key_id);
        w.u64(s.epoch);
        s.path.encode(w);
        w.point::<Secp256k1>(&s.public_key);
        w.scalar::<Secp256k1>(&s.delta);
        w.scalar::<Secp256k1>(&s.lambda);
        w.point::<Secp256k1>(&s.y_other);
        w.secret_scalar(&s.r);
        w.bytes(s.salt.expose());
        match &s.mul {
            Some(m) => {
                w.u8(1);
                w.object(m);
            }
            None => w.u8(0),
        }
        match &s.commitment_other {
            Some(c) => {
                w.u8(1);
                w.bytes(c);
            }
            None => w.u8(0),
        }
        put_opt_scalar(w, &s.c_u);
        put_opt_scalar(w, &s.c_v);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::<PresignMessage>::decode(r, rounds())?;
                let other = r.party()?;
                if inbox.me() != me
                    || inbox.parties().len() != 2
                    || other == me
                    || !inbox.parties().contains(other)
                {
                    return Err(DecodeError::InvalidValue);
                }
                let key_id = r.array()?;
                let epoch = r.u64()?;
                let path = DerivationPath::decode(r)?;
                let public_key = r.point::<Secp256k1>()?;
                let delta = r.scalar::<Secp256k1>()?;
                let lambda = r.scalar::<Secp256k1>()?;
                if super::pair_lagrange(me, other) != Some(lambda) {
                    return Err(DecodeError::InvalidValue);
                }
                let y_other = r.point::<Secp256k1>()?;
                let rr = r.secret_scalar::<Secp256k1>()?;
                let salt = SecretBytes::new(r.array()?);
                let mul = if r.bool()? {
                    Some(MulReceiverState::from_bytes(r.var_bytes(MAX_OBJ)?)?)
                } else {
                    None
                };
                let commitment_other = if r.bool()? { Some(r.array()?) } else { None };
                let c_u = get_opt_scalar(r)?;
                let c_v = get_opt_scalar(r)?;
                let cache = Cache::new(&inbox, &key_id, &path, &public_key, &rr, &salt);
                let s = State {
                    inbox,
                    other,
                    key_id,
                    epoch,
                    path,
                    public_key,
                    delta,
                    lambda,
                    y_other,
                    r: rr,
                    salt,
                    mul,
                    commitment_other,
                    c_u,
                    c_v,
                    cache,
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

/// Attacks for the adversarial tests of the crates (feature `test-utils`; never in production).
#[cfg(feature = "test-utils")]
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// The round-1 message of a **malicious** `attacker` (its store's party) to `victim` in the
    /// presign `session`: a random commitment and, as Bob, an OT-extension message whose
    /// column `column` (1..=127) has one bit flipped in the first check row, with Bob's check
    /// values computed honestly from the flipped columns. The victim's consistency check then
    /// passes exactly when bit `column` of its `Δ` is 0: one session, one bit of `Δ`.
    pub fn probe_round1<S: KeyStore, R: CryptoRng + ?Sized>(
        attacker: &S,
        victim: PartyId,
        session: &SessionId,
        column: usize,
        rng: &mut R,
    ) -> Result<PresignMessage, Error> {
        let guard = attacker.lock_pairing(victim)?;
        let key = guard.key();
        let pair = key.pair(victim).ok_or(Error::Banned { party: victim })?;
        let mul = mul_session(session, key.key_id(), victim, key.me());
        let words = (crate::mul::XI + 192) / 64;
        let word = (column.max(1) - 1) * words + crate::mul::XI / 64;
        let flip = move |u: &mut [u64]| {
            if let Some(w) = u.get_mut(word) {
                *w ^= 1;
            }
        };
        let msg1 = crate::mul::mul_receiver_round1_deviating(&pair.receiver, &mul, rng, &flip)?;
        let mut commitment = [0u8; 32];
        rng.fill_bytes(&mut commitment);
        Ok(PresignMessage::Round1(PresignRound1 {
            commitment,
            mul: msg1,
        }))
    }

    /// Bit `column` of the victim's `Δ` with `attacker` — what the probe of [`probe_round1`]
    /// reads — so that a test can count exactly what an attacker learnt. `None` once the
    /// pairing is banned (its setup is gone).
    pub fn delta_bit<S: KeyStore>(victim: &S, attacker: PartyId, column: usize) -> Option<bool> {
        let guard = victim.lock_pairing(attacker).ok()?;
        let pair = guard.key().pair(attacker)?;
        let delta = pair.sender.delta_word();
        Some((*delta >> column) & 1 == 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn batched_encoding_is_the_point_encoding() {
        let g = Point::GENERATOR;
        let a = g * k256::Scalar::from(7u64) + g; // z ≠ 1
        let b = a.double() + g * k256::Scalar::from(123_456_789u64);
        let c = -b;
        let enc = encode_points(&[a, Point::IDENTITY, b, c]);
        for (p, e) in [a, Point::IDENTITY, b, c].iter().zip(enc.iter()) {
            assert_eq!(p.to_bytes().as_slice(), e.as_slice());
        }
        assert_ne!(enc[2], enc[3]);
    }
}
