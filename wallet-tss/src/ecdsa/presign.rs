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
//!    `u_i + u_j = r·φ` and `v_i + v_j = sk·φ`. The [`Presignature`] keeps `(R, φ_i, u_i, v_i)`.
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
    SecretScalar, SecretVec, SessionId, Step, Transcript, WireObject, Writer,
};

use crate::mul::{MulMsg1, MulMsg2, MulReceiverState};
use crate::ot::{MulReceiverSetup, MulSenderSetup};

use super::derive::DerivationPath;
use super::keygen::KeyShare;
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
/// agree on. Freely copyable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignatureInfo {
    /// The presignature's id: a hash of the presign transcript (the same for both signers).
    pub id: [u8; 32],
    /// The key's id ([`KeyShare::key_id`]).
    pub key_id: [u8; 32],
    /// The two signers.
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
        w.parties(&self.signers);
        self.path.encode(w);
        w.point::<Secp256k1>(&self.public_key);
        w.point::<Secp256k1>(&self.instance_point);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let v = Self {
            id: r.array()?,
            key_id: r.array()?,
            signers: r.parties()?,
            path: DerivationPath::decode(r)?,
            public_key: r.point::<Secp256k1>()?,
            instance_point: r.point::<Secp256k1>()?,
        };
        if v.signers.len() != 2 {
            return Err(DecodeError::InvalidValue);
        }
        Ok(v)
    }
    /// The other signer (for `me` one of the two).
    pub fn counterparty(&self, me: PartyId) -> Option<PartyId> {
        self.signers.others(me).next()
    }
    /// The verifying key of [`PresignatureInfo::public_key`].
    pub fn verifying_key(&self) -> Result<k256::ecdsa::VerifyingKey, Error> {
        super::keygen::verifying_key(&self.public_key)
    }
}

/// Body: `PresignatureInfo` (`id[32] key_id[32] parties path public_key[33] R[33]`).
impl WireObject for PresignatureInfo {
    const KIND: ObjectKind = kinds::PRESIGNATURE_INFO;
    const MAX_LEN: usize = 4 + 64 + 6 + 1 + 4 * 255 + 66;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);
    fn encode_body(&self, w: &mut Writer) {
        self.encode(w);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode(r)
    }
}

/// One signer's presignature: **single use**, not `Clone`, consumed by
/// [`Presignature::sign`].
///
/// ```compile_fail
/// # fn f(p: wallet_tss::ecdsa::Presignature) {
/// let first = p.sign(&[1u8; 32]);
/// let second = p.sign(&[2u8; 32]); // error[E0382]: use of moved value: `p`
/// # }
/// ```
///
/// ```compile_fail
/// # fn f(p: wallet_tss::ecdsa::Presignature) {
/// let copy = p.clone(); // error[E0599]: no method named `clone`
/// # }
/// ```
///
/// Signing twice with one presignature (two messages, same `R`) reveals the key. Persisting one
/// goes through [`Presignature::seal`] / [`Presignature::restore`] with its id. **Storage rule:
/// mark the id used durably (e.g. a committed database row) before releasing the partial
/// signature, and refuse to restore an id marked used.** A sealed presignature holds secrets:
/// store the bytes encrypted.
pub struct Presignature {
    info: PresignatureInfo,
    me: PartyId,
    phi: SecretScalar<Secp256k1>,
    u: SecretScalar<Secp256k1>,
    v: SecretScalar<Secp256k1>,
}

impl fmt::Debug for Presignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presignature")
            .field("info", &self.info)
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

impl Presignature {
    /// The public part.
    pub fn info(&self) -> &PresignatureInfo {
        &self.info
    }
    /// The presignature's id.
    pub fn id(&self) -> &[u8; 32] {
        &self.info.id
    }
    /// This signer.
    pub fn me(&self) -> PartyId {
        self.me
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

    /// Seals the presignature for storage: returns its id and its encoding (`kind 0x0385`:
    /// `me u16 || info || φ[32] || u[32] || v[32]`), consuming it. Store the bytes encrypted,
    /// keyed by the id; see the storage rule on [`Presignature`].
    pub fn seal(self) -> ([u8; 32], SecretVec) {
        (self.info.id, self.encode_secret())
    }

    /// The sealed encoding without consuming (crate-internal: the sign machine's state).
    pub(crate) fn encode_secret(&self) -> SecretVec {
        let mut w = Writer::new();
        w.bytes(
            &wallet_types::Header {
                version: wallet_types::FORMAT_VERSION,
                kind: kinds::PRESIGNATURE,
                curve: Some(wallet_types::CurveId::Secp256k1),
            }
            .to_bytes(),
        );
        w.party(self.me);
        self.info.encode(&mut w);
        w.secret_scalar(&self.phi);
        w.secret_scalar(&self.u);
        w.secret_scalar(&self.v);
        w.into_secret()
    }

    /// Restores a presignature sealed under `id`. The caller must first check that `id` is not
    /// marked used (storage rule on [`Presignature`]).
    pub fn restore(id: &[u8; 32], bytes: &[u8]) -> Result<Self, DecodeError> {
        const MAX: usize = 4 + 2 + 1200 + 96;
        if bytes.len() > MAX {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX,
            });
        }
        let mut r = Reader::new(bytes);
        let h = wallet_types::Header::parse(&r.array()?)?;
        if h.version != wallet_types::FORMAT_VERSION {
            return Err(DecodeError::UnsupportedVersion(h.version));
        }
        if h.kind != kinds::PRESIGNATURE {
            return Err(DecodeError::WrongKind {
                expected: kinds::PRESIGNATURE.0,
                found: h.kind.0,
            });
        }
        if h.curve != Some(wallet_types::CurveId::Secp256k1) {
            return Err(DecodeError::WrongCurve {
                expected: wallet_types::CurveId::Secp256k1.to_byte(),
                found: h.curve.map_or(0, wallet_types::CurveId::to_byte),
            });
        }
        let me = r.party()?;
        let info = PresignatureInfo::decode(&mut r)?;
        let phi = r.secret_scalar::<Secp256k1>()?;
        let u = r.secret_scalar::<Secp256k1>()?;
        let v = r.secret_scalar::<Secp256k1>()?;
        r.finish()?;
        if info.id != *id || !info.signers.contains(me) {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self {
            info,
            me,
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
    path: DerivationPath,
    public_key: Point,
    /// `sk_i = λ_i·(x_i + δ)`.
    sk: SecretScalar<Secp256k1>,
    /// `Y_j = X_j + δ·G`, so that `pk_j = λ_j·Y_j` (the factor `λ_j` is folded into the
    /// step-8 check's scalar instead of being multiplied in here).
    y_other: Point,
    sender_setup: MulSenderSetup,
    receiver_setup: MulReceiverSetup,
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
fn encode_points<const N: usize>(points: &[Point; N]) -> [[u8; 33]; N] {
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
    let mut t = Transcript::new(
        PRESIGN_PROTOCOL,
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
fn instance_commitment(
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
fn batch_coefficient<R: CryptoRng + ?Sized>(rng: &mut R) -> k256::Scalar {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    k256::Scalar::from(u128::from_le_bytes(bytes))
}

/// One signer of the presign protocol (see the module docs).
pub struct Presign {
    me: PartyId,
    life: Lifecycle<State>,
}

impl fmt::Debug for Presign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presign")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl State {
    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Vec<Envelope<PresignMessage>>, Error> {
        let me = self.inbox.me();
        // Step 5: instance key r_i, R_i = r_i·G, commitment (computed with the machine: Cache).
        let commitment = self.cache.commitment;
        // Step 6: as Bob (input χ = φ_i sampled inside the multiplication).
        let session = mul_session(self.inbox.session(), &self.key_id, self.other, me);
        let (state, msg1) =
            crate::mul::mul_receiver_round1(&self.receiver_setup, &session, 2, rng)?;
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

    fn advance<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(Vec<Envelope<PresignMessage>>, Option<Presignature>), Error> {
        let mut out = Vec::new();
        while let Some(mut msgs) = self.inbox.take_current() {
            let j = self.other;
            let m = msgs.remove(&j).ok_or(Error::Internal)?;
            match m {
                PresignMessage::Round1(m) if self.inbox.current_round() == 2 => {
                    out.push(self.round1(m, rng)?);
                }
                PresignMessage::Round2(m) if self.inbox.current_round() == 3 => {
                    return Ok((out, Some(self.round2(m, rng)?)));
                }
                _ => return Err(Error::blame(j, Reason::MalformedMessage)),
            }
        }
        Ok((out, None))
    }

    fn round1<R: CryptoRng + ?Sized>(
        &mut self,
        m: PresignRound1,
        rng: &mut R,
    ) -> Result<Envelope<PresignMessage>, Error> {
        let me = self.inbox.me();
        let j = self.other;
        self.commitment_other = Some(m.commitment);
        // Step 7: as Alice with inputs (r_i, sk_i).
        let session = mul_session(self.inbox.session(), &self.key_id, me, j);
        let inputs = [self.r.duplicate(), self.sk.duplicate()];
        let (c, msg2) =
            crate::mul::mul_sender_round2(&self.sender_setup, &session, &inputs, &m.mul, j, rng)
                .map_err(super::attribute(j))?;
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
    fn round2<R: CryptoRng + ?Sized>(
        &mut self,
        m: PresignRound2,
        rng: &mut R,
    ) -> Result<Presignature, Error> {
        let me = self.inbox.me();
        let j = self.other;
        // Step 8: decommitment.
        let com = self.commitment_other.ok_or(Error::Internal)?;
        let R_j = m.instance_point;
        let R_j_bytes = super::derive::compressed(&R_j);
        if instance_commitment(&self.cache.prefix, j, &R_j_bytes, &m.salt) != com {
            return Err(Error::blame(j, Reason::CommitmentMismatch));
        }
        // Step 8: finish the multiplication as Bob.
        let session = mul_session(self.inbox.session(), &self.key_id, j, me);
        // An answer to a first message sent before a restart is `StaleAnswer` (a rejection):
        // checked before the state is taken, so the machine keeps it.
        let state = self.mul.as_ref().ok_or(Error::Internal)?;
        state
            .check_answers(&m.mul, j)
            .map_err(super::attribute(j))?;
        let state = self.mul.take().ok_or(Error::Internal)?;
        let (phi, d) = state
            .finish(&self.receiver_setup, &session, &m.mul, j)
            .map_err(super::attribute(j))?;
        let [d_u, d_v]: [SecretScalar<Secp256k1>; 2] = d.try_into().map_err(|_| Error::Internal)?;
        // Step 8: consistency checks χ·R_j = Γ^u + d^u·G and χ·pk_j = Γ^v + d^v·G, batched
        // with a fresh local ρ < 2^128 (module docs: sound except with probability 2^-128)
        // as (check u) + ρ'·(check v), ρ' = ρ·(i − j), pk_j = λ_j·Y_j, ρ'·λ_j = ρ·i:
        // χ·R_j + (ρ·i·χ)·Y_j − ρ'·Γ^v = Γ^u + (d^u + ρ'·d^v)·G.
        // χ = φ_i and d are secret: one constant-time three-term multi-scalar multiplication
        // and one constant-time fixed-base multiplication.
        let rho = batch_coefficient(rng);
        let (i_scalar, j_scalar) = (me.to_scalar::<Secp256k1>(), j.to_scalar::<Secp256k1>());
        let rho_v = rho * (i_scalar - j_scalar);
        let phi_y = SecretScalar::<Secp256k1>::new(rho * i_scalar * phi.expose());
        let lhs = Point::lincomb(&[
            (R_j, *phi.expose()),
            (self.y_other, *phi_y.expose()),
            (m.gamma_v, -rho_v),
        ]);
        let d = SecretScalar::<Secp256k1>::new(*d_u.expose() + rho_v * d_v.expose());
        let rhs = m.gamma_u + d.public();
        if lhs != rhs {
            return Err(Error::blame(j, Reason::MultiplicationCheck));
        }
        // Step 9 (message-independent part).
        let R_i = self.cache.instance_point;
        let R = R_i + R_j;
        if bool::from(R.is_identity()) {
            return Err(Error::blame(j, Reason::InvalidResult));
        }
        let c_u = self.c_u.take().ok_or(Error::Internal)?;
        let c_v = self.c_v.take().ok_or(Error::Internal)?;
        let u = SecretScalar::<Secp256k1>::new(
            *self.r.expose() * phi.expose() + c_u.expose() + d_u.expose(),
        );
        let v = SecretScalar::<Secp256k1>::new(
            *self.sk.expose() * phi.expose() + c_v.expose() + d_v.expose(),
        );
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
            signers: self.inbox.parties().clone(),
            path: self.path.clone(),
            public_key: self.public_key,
            instance_point: R,
        };
        Ok(Presignature {
            info,
            me,
            phi,
            u,
            v,
        })
    }
}

impl Presign {
    /// A presign machine for `key.me()` with the other signer `other`, bound to the derivation
    /// `path` and the fresh `session` (see the module docs).
    ///
    /// Errors: `other` is this party or not a party of the key
    /// ([`ParamError::NotAMember`]); `other` is banned ([`KeyShare::ban`]:
    /// [`ParamError::Mismatch`]); the path hits BIP-32's invalid-child case
    /// ([`ParamError::OutOfRange`]: use the next index).
    pub fn new<R: CryptoRng + ?Sized>(
        key: &KeyShare,
        other: PartyId,
        path: DerivationPath,
        session: SessionId,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let me = key.me();
        if other == me || !key.parties().contains(other) {
            return Err(ParamError::NotAMember(other).into());
        }
        // No pairing: `other` was banned ([`KeyShare::ban`]).
        let pair = key.pair(other).ok_or(ParamError::Mismatch)?;
        let signers = Parties::new([me, other])?;
        let derivation = key.derive(&path).map_err(|_| ParamError::OutOfRange)?;
        let delta = derivation.tweak;
        let lambda_me = super::pair_lagrange(me, other).ok_or(Error::Internal)?;
        let sk = SecretScalar::new(lambda_me * (*key.secret_share().expose() + delta));
        // Y_j = X_j + δ·G (pk_j = λ_j·Y_j): X_j by Horner's rule with the small id j, and
        // δ·G = K_δ − K (the derivation computed it already). Public data, a few additions.
        let commitments = key.commitments().map_err(|_| Error::Internal)?;
        let y_other =
            commitments.share_commitment(other) + derivation.public_key - key.public_key();
        let inbox = Inbox::new(session, me, signers, rounds())?;
        let r = SecretScalar::random(rng);
        let salt = SecretBytes::random(rng);
        let key_id = *key.key_id();
        let cache = Cache::new(&inbox, &key_id, &path, &derivation.public_key, &r, &salt);
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                other,
                key_id,
                path,
                public_key: derivation.public_key,
                sk,
                y_other,
                sender_setup: pair.sender.duplicate(),
                receiver_setup: pair.receiver.duplicate(),
                r,
                salt,
                mul: None,
                commitment_other: None,
                c_u: None,
                c_v: None,
                cache,
            }),
        })
    }
}

impl Protocol for Presign {
    type Message = PresignMessage;
    type Output = Presignature;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<PresignMessage, Presignature>, Error> {
        self.life
            .start(|s| Ok((Step::Continue(s.start(rng)?), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<PresignMessage>,
        rng: &mut R,
    ) -> Result<Step<PresignMessage, Presignature>, Error> {
        self.life.step(|s| {
            s.inbox.receive(incoming)?;
            let (out, output) = s.advance(rng)?;
            Ok(Step::from_round(out, output))
        })
    }
}

const MAX_OBJ: usize = 1 << 21;

fn put_opt_scalar(w: &mut Writer, s: &Option<SecretScalar<Secp256k1>>) {
    match s {
        Some(s) => {
            w.u8(1);
            w.secret_scalar(s);
        }
        None => w.u8(0),
    }
}

fn get_opt_scalar(r: &mut Reader<'_>) -> Result<Option<SecretScalar<Secp256k1>>, DecodeError> {
    Ok(if r.bool()? {
        Some(r.secret_scalar::<Secp256k1>()?)
    } else {
        None
    })
}

/// State body: `me u16 || lifecycle u8`; if created / running: `inbox || other u16 ||
/// key_id[32] || path || public_key[33] || sk[32] || Y_j[33] || u32be(len) ||
/// MulSenderSetup || u32be(len) || MulReceiverSetup || r[32] || salt[32] || has u8 ||
/// [u32be(len) || MulReceiverState] || has u8 || [commitment[32]] || has u8 || [c_u[32]] ||
/// has u8 || [c_v[32]]`, where `Y_j = X_j + δ·G` is the counterparty's derived share
/// commitment (its public additive share is `pk_j = λ_j·Y_j`). `R_i`, its encoding, `com_i`
/// and the transcript prefix are recomputed on decode, not stored. Holds secrets: store
/// encrypted.
impl WireObject for Presign {
    const KIND: ObjectKind = kinds::PRESIGN_STATE;
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
        s.path.encode(w);
        w.point::<Secp256k1>(&s.public_key);
        w.secret_scalar(&s.sk);
        w.point::<Secp256k1>(&s.y_other);
        w.object(&s.sender_setup);
        w.object(&s.receiver_setup);
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
                let path = DerivationPath::decode(r)?;
                let public_key = r.point::<Secp256k1>()?;
                let sk = r.secret_scalar::<Secp256k1>()?;
                let y_other = r.point::<Secp256k1>()?;
                let sender_setup = MulSenderSetup::from_bytes(r.var_bytes(MAX_OBJ)?)?;
                let receiver_setup = MulReceiverSetup::from_bytes(r.var_bytes(MAX_OBJ)?)?;
                if sender_setup.counterparty() != other || receiver_setup.counterparty() != other {
                    return Err(DecodeError::InvalidValue);
                }
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
                    path,
                    public_key,
                    sk,
                    y_other,
                    sender_setup,
                    receiver_setup,
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
