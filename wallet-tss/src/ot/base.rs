//! Base OT: a batch of [`BASE_OTS`] random 1-out-of-2 OTs by the **Verified Simplest OT**
//! (π_VSOT) of DKLs18 (ePrint 2018/499, Appendix A, Protocol 7), itself the "Simplest OT" of
//! Chou–Orlandi (ePrint 2015/267) plus a verification phase that makes it simulatable against a
//! malicious receiver.
//!
//! Roles: **Bob is the OT sender** (he learns both pads `ρ⁰_j, ρ¹_j`), **Alice the OT receiver**
//! with choice bits `ω ∈ {0,1}^128` (she learns `ρ^{ω_j}_j`). In the OT extension built on top
//! ([`super::ext`]) `ω` becomes Alice's secret correlation `Δ`.
//!
//! Steps (`P7.n` is step n of Protocol 7), over secp256k1 with generator `G`:
//!
//! 1. *(Bob, P7.1)* `b ← Z_q*`, `B = b·G`; a Schnorr proof of knowledge of `b` (the paper's
//!    `F_DL` call, made non-interactive by Fiat–Shamir). Send [`OtSetupMsg1`].
//! 2. *(Alice, P7.2–3)* verify the proof; for each `j`: `a_j ← Z_q*`,
//!    `A_j = a_j·G + ω_j·B`, `ρ^{ω_j}_j = H_j(a_j·B)`. Send [`OtSetupMsg2`].
//! 3. *(Bob, P7.4–5)* check every `A_j` (a valid non-identity point, `A_j ≠ B`);
//!    `ρ⁰_j = H_j(b·A_j)`, `ρ¹_j = H_j(b·(A_j − B))`; the challenge
//!    `ξ_j = H'_j(H''_j(ρ⁰_j)) ⊕ H'_j(H''_j(ρ¹_j))`. Send [`OtSetupMsg3`].
//! 4. *(Alice, P7.6)* response `ρ'_j = H'_j(H''_j(ρ^{ω_j}_j)) ⊕ ω_j·ξ_j`. Send [`OtSetupMsg4`].
//! 5. *(Bob, P7.7)* check `ρ'_j = H'_j(H''_j(ρ⁰_j))` for every `j` (else blame Alice,
//!    [`Reason::BaseOt`]); open `γ⁰_j = H''_j(ρ⁰_j)`, `γ¹_j = H''_j(ρ¹_j)`. Send [`OtSetupMsg5`].
//!    Bob's output: `(ρ⁰_j, ρ¹_j)` → [`MulReceiverSetup`].
//! 6. *(Alice, P7.8)* check `γ^{ω_j}_j = H''_j(ρ^{ω_j}_j)` and `ξ_j = H'_j(γ⁰_j) ⊕ H'_j(γ¹_j)`
//!    (else blame Bob, [`Reason::BaseOt`]). Alice's output: `(ω, ρ^{ω_j}_j)` → [`MulSenderSetup`].
//!
//! One sender key `B` serves all 128 transfers: every hash `H_j, H'_j, H''_j` is a
//! [`Transcript`] output bound to the session, both party ids and the index `j` (the remark after
//! Protocol 7 on batching). Every received point is decoded by the strict decoder (on the curve,
//! canonical, not the identity) before use.
//!
//! Security: CDH in secp256k1, SHA-512 as a random oracle. VSOT realises OT *with selective
//! failure by the sender*: a cheating Bob can test a guess of one `ω_j` and is caught if the
//! guess is wrong, so a failed check here must end the pairing ([`wallet_types::Error::must_ban`]).

use alloc::vec::Vec;

use k256::{ProjectivePoint, Scalar};
use rand_core::CryptoRng;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use wallet_types::{
    Curve, CurveId, DecodeError, Error, ObjectKind, PartyId, Reader, Reason, Secp256k1,
    SecretBytes, SecretScalar, SessionId, Transcript, WireObject, Writer,
};

use zeroize::Zeroizing;

use super::ext::{MulReceiverSetup, MulSenderSetup};
use super::{BASE_OTS, kinds};

const PROTOCOL: &str = "wallet-tss/ot-vsot";
const VERSION: u16 = 1;

/// Bit `j` of a packed choice vector (little-endian bit order inside each byte). Every caller
/// passes an OT index `j < BASE_OTS` (loops over the 128 base OTs), so the byte exists; the
/// `map_or` is there for the no-indexing lint, not as a fallback.
fn bit(bits: &[u8; BASE_OTS / 8], j: usize) -> u8 {
    bits.get(j / 8).map_or(0, |b| (b >> (j % 8)) & 1)
}

fn base_transcript(session: &SessionId, alice: PartyId, bob: PartyId) -> Transcript {
    let mut t = Transcript::new(PROTOCOL, VERSION, Some(CurveId::Secp256k1), session);
    t.append_party("alice", alice);
    t.append_party("bob", bob);
    t
}

/// `H_j(P)`: the pad of OT `j` from a Diffie–Hellman point (given by its SEC1 encoding, the
/// bytes `Transcript::append_point` would append).
fn h_pad(t: &Transcript, j: usize, p: &[u8]) -> [u8; 32] {
    let mut t = t.clone();
    t.append_u64("index", j as u64);
    t.append("dh", p);
    t.output32("rho")
}

/// The pads `H_j(P_j)` of a batch of points, normalized to affine with one shared inversion.
fn h_pads(t: &Transcript, points: &[ProjectivePoint]) -> Vec<SecretBytes<32>> {
    use group::{Curve as _, GroupEncoding as _};
    let mut affine = alloc::vec![k256::AffinePoint::IDENTITY; points.len()];
    ProjectivePoint::batch_normalize(points, &mut affine);
    let pads = affine
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let mut enc = p.to_bytes();
            let pad = SecretBytes::new(h_pad(t, j, enc.as_slice()));
            zeroize::Zeroize::zeroize(enc.as_mut_slice());
            pad
        })
        .collect();
    zeroize::Zeroize::zeroize(affine.as_mut_slice());
    pads
}

/// `s·B` for a fixed `B` through a table of `d·16^w·B` (`w < 64`, `d < 16`): 64 additions and a
/// constant-time scan of 16 entries per window instead of a full variable-base ladder. Alice
/// multiplies Bob's one key `B` by 128 secret scalars.
struct FixedBaseTable(Vec<[ProjectivePoint; 16]>);

impl FixedBaseTable {
    fn new(base: &ProjectivePoint) -> Self {
        let mut windows = Vec::with_capacity(64);
        let mut unit = *base;
        for _ in 0..64 {
            let mut row = [ProjectivePoint::IDENTITY; 16];
            let mut acc = ProjectivePoint::IDENTITY;
            for entry in row.iter_mut().skip(1) {
                acc += unit;
                *entry = acc;
            }
            windows.push(row);
            unit = acc + unit; // 16·unit
        }
        Self(windows)
    }

    fn mul(&self, s: &Scalar) -> ProjectivePoint {
        let bytes = Zeroizing::new(s.to_bytes());
        let mut acc = ProjectivePoint::IDENTITY;
        // Windows 2k and 2k + 1 are the low and high nibble of byte k from the end (big-endian
        // encoding): 32 bytes, 64 windows.
        for (byte, rows) in bytes.iter().rev().zip(self.0.chunks_exact(2)) {
            for (half, row) in rows.iter().enumerate() {
                let nibble = (byte >> (4 * half)) & 0x0f;
                let mut sel = ProjectivePoint::IDENTITY;
                for (d, entry) in row.iter().enumerate() {
                    sel.conditional_assign(entry, (d as u8).ct_eq(&nibble));
                }
                acc += sel;
            }
        }
        acc
    }
}

/// `H''_j(ρ)`: the opening `γ`.
fn h_gamma(t: &Transcript, j: usize, rho: &[u8; 32]) -> [u8; 32] {
    let mut t = t.clone();
    t.append_u64("index", j as u64);
    t.append("rho", rho);
    t.output32("gamma")
}

/// `H'_j(γ)`.
fn h_delta(t: &Transcript, j: usize, gamma: &[u8; 32]) -> [u8; 32] {
    let mut t = t.clone();
    t.append_u64("index", j as u64);
    t.append("gamma", gamma);
    t.output32("delta")
}

fn xor32(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
    out
}

fn check_session(expected: &SessionId, got: &SessionId, sender: PartyId) -> Result<(), Error> {
    if expected != got {
        return Err(Error::WrongSession { sender });
    }
    Ok(())
}

fn read_fixed_list<T>(
    r: &mut Reader<'_>,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut v = Vec::with_capacity(BASE_OTS);
    for _ in 0..BASE_OTS {
        v.push(item(r)?);
    }
    Ok(v)
}

fn secret32(r: &mut Reader<'_>) -> Result<SecretBytes<32>, DecodeError> {
    let mut a = r.array::<32>()?;
    let s = SecretBytes::new(a);
    zeroize::Zeroize::zeroize(&mut a);
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Setup message 1, Bob → Alice: the OT sender's key `B = b·G` with a Schnorr proof of
/// knowledge of `b` (Protocol 7 step 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtSetupMsg1 {
    session: SessionId,
    big_b: ProjectivePoint,
    proof_r: ProjectivePoint,
    proof_s: Scalar,
}

/// Setup message 2, Alice → Bob: the 128 encoded choices `A_j = a_j·G + ω_j·B` (steps 2–3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtSetupMsg2 {
    session: SessionId,
    points: Vec<ProjectivePoint>,
}

/// Setup message 3, Bob → Alice: the 128 challenges `ξ_j` (steps 4–5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtSetupMsg3 {
    session: SessionId,
    challenges: Vec<[u8; 32]>,
}

/// Setup message 4, Alice → Bob: the 128 responses `ρ'_j` (step 6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtSetupMsg4 {
    session: SessionId,
    responses: Vec<[u8; 32]>,
}

/// Setup message 5, Bob → Alice: the 128 openings `(γ⁰_j, γ¹_j)` (step 7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtSetupMsg5 {
    session: SessionId,
    openings: Vec<([u8; 32], [u8; 32])>,
}

macro_rules! session_getter {
    ($($t:ty),*) => {$(
        impl $t {
            /// The setup session this message belongs to.
            pub fn session(&self) -> &SessionId {
                &self.session
            }
        }
    )*};
}
session_getter!(
    OtSetupMsg1,
    OtSetupMsg2,
    OtSetupMsg3,
    OtSetupMsg4,
    OtSetupMsg5
);

impl WireObject for OtSetupMsg1 {
    const KIND: ObjectKind = kinds::SETUP_MSG1;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + 32 + 33 + 33 + 32;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        w.point::<Secp256k1>(&self.big_b);
        w.point::<Secp256k1>(&self.proof_r);
        w.scalar::<Secp256k1>(&self.proof_s);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            session: r.session()?,
            big_b: r.point::<Secp256k1>()?,
            proof_r: r.point::<Secp256k1>()?,
            proof_s: r.scalar::<Secp256k1>()?,
        })
    }
}

impl WireObject for OtSetupMsg2 {
    const KIND: ObjectKind = kinds::SETUP_MSG2;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + 32 + 33 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        for p in &self.points {
            w.point::<Secp256k1>(p);
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            session: r.session()?,
            points: read_fixed_list(r, |r| r.point::<Secp256k1>())?,
        })
    }
}

impl WireObject for OtSetupMsg3 {
    const KIND: ObjectKind = kinds::SETUP_MSG3;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + 32 + 32 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        for c in &self.challenges {
            w.bytes(c);
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            session: r.session()?,
            challenges: read_fixed_list(r, |r| r.array::<32>())?,
        })
    }
}

impl WireObject for OtSetupMsg4 {
    const KIND: ObjectKind = kinds::SETUP_MSG4;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + 32 + 32 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        for c in &self.responses {
            w.bytes(c);
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            session: r.session()?,
            responses: read_fixed_list(r, |r| r.array::<32>())?,
        })
    }
}

impl WireObject for OtSetupMsg5 {
    const KIND: ObjectKind = kinds::SETUP_MSG5;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + 32 + 64 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        for (g0, g1) in &self.openings {
            w.bytes(g0);
            w.bytes(g1);
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            session: r.session()?,
            openings: read_fixed_list(r, |r| Ok((r.array::<32>()?, r.array::<32>()?)))?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// States
// ---------------------------------------------------------------------------------------------

/// Bob's state after sending message 1 (holds `b`).
pub struct SetupBob1 {
    session: SessionId,
    me: PartyId,
    alice: PartyId,
    b: SecretScalar<Secp256k1>,
    big_b: ProjectivePoint,
}

/// Alice's state after sending message 2 (holds `ω` and `ρ^{ω_j}_j`).
pub struct SetupAlice2 {
    session: SessionId,
    me: PartyId,
    bob: PartyId,
    omega: SecretBytes<{ BASE_OTS / 8 }>,
    rho: Vec<SecretBytes<32>>,
}

/// Bob's state after sending message 3 (holds both pads of every OT).
pub struct SetupBob3 {
    session: SessionId,
    me: PartyId,
    alice: PartyId,
    rho0: Vec<SecretBytes<32>>,
    rho1: Vec<SecretBytes<32>>,
}

/// Alice's state after sending message 4 (holds `ω`, her pads and Bob's challenges).
pub struct SetupAlice4 {
    session: SessionId,
    me: PartyId,
    bob: PartyId,
    omega: SecretBytes<{ BASE_OTS / 8 }>,
    rho: Vec<SecretBytes<32>>,
    challenges: Vec<[u8; 32]>,
}

impl core::fmt::Debug for SetupBob1 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SetupBob1({} with {}, <redacted>)", self.me, self.alice)
    }
}
impl core::fmt::Debug for SetupAlice2 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SetupAlice2({} with {}, <redacted>)", self.me, self.bob)
    }
}
impl core::fmt::Debug for SetupBob3 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SetupBob3({} with {}, <redacted>)", self.me, self.alice)
    }
}
impl core::fmt::Debug for SetupAlice4 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SetupAlice4({} with {}, <redacted>)", self.me, self.bob)
    }
}

macro_rules! state_accessors {
    ($($t:ty),*) => {$(
        impl $t {
            /// The setup session. A message whose `session()` differs is rejected with
            /// `WrongSession`; check before calling the round function if the state must survive
            /// a rejection (round functions consume their state).
            pub fn session(&self) -> &SessionId {
                &self.session
            }
            /// This party.
            pub fn me(&self) -> PartyId {
                self.me
            }
        }
    )*};
}
state_accessors!(SetupBob1, SetupAlice2, SetupBob3, SetupAlice4);

const STATE_HEAD: usize = wallet_types::HEADER_LEN + 32 + 2 + 2;

impl WireObject for SetupBob1 {
    const KIND: ObjectKind = kinds::SETUP_BOB1;
    const MAX_LEN: usize = STATE_HEAD + 32 + 33;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        w.party(self.me);
        w.party(self.alice);
        w.secret_scalar(&self.b);
        w.point::<Secp256k1>(&self.big_b);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let session = r.session()?;
        let me = r.party()?;
        let alice = r.party()?;
        let b = r.secret_scalar::<Secp256k1>()?;
        let big_b = r.point::<Secp256k1>()?;
        if me == alice || bool::from(b.is_zero()) || b.public() != big_b {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self {
            session,
            me,
            alice,
            b,
            big_b,
        })
    }
}

impl WireObject for SetupAlice2 {
    const KIND: ObjectKind = kinds::SETUP_ALICE2;
    const MAX_LEN: usize = STATE_HEAD + BASE_OTS / 8 + 32 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        w.party(self.me);
        w.party(self.bob);
        w.bytes(self.omega.expose());
        for p in &self.rho {
            w.bytes(p.expose());
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let session = r.session()?;
        let me = r.party()?;
        let bob = r.party()?;
        if me == bob {
            return Err(DecodeError::InvalidValue);
        }
        let mut o = r.array::<{ BASE_OTS / 8 }>()?;
        let omega = SecretBytes::new(o);
        zeroize::Zeroize::zeroize(&mut o);
        Ok(Self {
            session,
            me,
            bob,
            omega,
            rho: read_fixed_list(r, secret32)?,
        })
    }
}

impl WireObject for SetupBob3 {
    const KIND: ObjectKind = kinds::SETUP_BOB3;
    const MAX_LEN: usize = STATE_HEAD + 64 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        w.party(self.me);
        w.party(self.alice);
        for (p0, p1) in self.rho0.iter().zip(&self.rho1) {
            w.bytes(p0.expose());
            w.bytes(p1.expose());
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let session = r.session()?;
        let me = r.party()?;
        let alice = r.party()?;
        if me == alice {
            return Err(DecodeError::InvalidValue);
        }
        let mut rho0 = Vec::with_capacity(BASE_OTS);
        let mut rho1 = Vec::with_capacity(BASE_OTS);
        for _ in 0..BASE_OTS {
            rho0.push(secret32(r)?);
            rho1.push(secret32(r)?);
        }
        Ok(Self {
            session,
            me,
            alice,
            rho0,
            rho1,
        })
    }
}

impl WireObject for SetupAlice4 {
    const KIND: ObjectKind = kinds::SETUP_ALICE4;
    const MAX_LEN: usize = STATE_HEAD + BASE_OTS / 8 + 64 * BASE_OTS;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        w.party(self.me);
        w.party(self.bob);
        w.bytes(self.omega.expose());
        for (p, c) in self.rho.iter().zip(&self.challenges) {
            w.bytes(p.expose());
            w.bytes(c);
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let session = r.session()?;
        let me = r.party()?;
        let bob = r.party()?;
        if me == bob {
            return Err(DecodeError::InvalidValue);
        }
        let mut o = r.array::<{ BASE_OTS / 8 }>()?;
        let omega = SecretBytes::new(o);
        zeroize::Zeroize::zeroize(&mut o);
        let mut rho = Vec::with_capacity(BASE_OTS);
        let mut challenges = Vec::with_capacity(BASE_OTS);
        for _ in 0..BASE_OTS {
            rho.push(secret32(r)?);
            challenges.push(r.array::<32>()?);
        }
        Ok(Self {
            session,
            me,
            bob,
            omega,
            rho,
            challenges,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Round functions
// ---------------------------------------------------------------------------------------------

fn schnorr_challenge(t: &Transcript, big_b: &ProjectivePoint, r: &ProjectivePoint) -> Scalar {
    let mut t = t.clone();
    t.append_point::<Secp256k1>("B", big_b);
    t.append_point::<Secp256k1>("R", r);
    t.challenge::<Secp256k1>("pok")
}

/// Step 1 (Bob, the base-OT sender and future VOLE receiver): start the setup with `alice`.
///
/// `session` must be fresh and agreed by both parties for this ordered pair (e.g. derived from
/// the DKG session and both ids).
pub fn setup_bob_round1<R: CryptoRng + ?Sized>(
    session: &SessionId,
    me: PartyId,
    alice: PartyId,
    rng: &mut R,
) -> (SetupBob1, OtSetupMsg1) {
    let t = base_transcript(session, alice, me);
    let b = SecretScalar::<Secp256k1>::random(rng);
    let big_b = b.public();
    let k = SecretScalar::<Secp256k1>::random(rng);
    let proof_r = k.public();
    let e = schnorr_challenge(&t, &big_b, &proof_r);
    let proof_s = *k.expose() + e * b.expose();
    (
        SetupBob1 {
            session: *session,
            me,
            alice,
            b,
            big_b,
        },
        OtSetupMsg1 {
            session: *session,
            big_b,
            proof_r,
            proof_s,
        },
    )
}

/// Steps 2–3 (Alice, the base-OT receiver and future VOLE sender): check Bob's proof, pick the
/// secret choice bits `ω` (the extension's `Δ`) and answer with the encoded choices.
///
/// Errors: `WrongSession` (message of another session, state unchanged),
/// `Misbehaviour { culprits: [bob], reason: InvalidProof }`.
pub fn setup_alice_round2<R: CryptoRng + ?Sized>(
    session: &SessionId,
    me: PartyId,
    bob: PartyId,
    msg1: &OtSetupMsg1,
    rng: &mut R,
) -> Result<(SetupAlice2, OtSetupMsg2), Error> {
    check_session(session, &msg1.session, bob)?;
    if me == bob {
        return Err(Error::Params(wallet_types::ParamError::Mismatch));
    }
    let t = base_transcript(session, me, bob);
    // P7.1 F_DL: s·G − e·B = R.
    let e = schnorr_challenge(&t, &msg1.big_b, &msg1.proof_r);
    if Secp256k1::mul_base_add_vartime(&msg1.proof_s, &(-e), &msg1.big_b) != msg1.proof_r {
        return Err(Error::blame(bob, Reason::InvalidProof));
    }
    let omega = SecretBytes::<{ BASE_OTS / 8 }>::random(rng);
    let mut points = Vec::with_capacity(BASE_OTS);
    let mut dh = Vec::with_capacity(BASE_OTS);
    let table = FixedBaseTable::new(&msg1.big_b);
    for j in 0..BASE_OTS {
        // P7.2 A_j = a_j·G + ω_j·B, selected in constant time.
        let a = SecretScalar::<Secp256k1>::random(rng);
        let p0 = a.public();
        let p1 = p0 + msg1.big_b;
        let choice = Choice::from(bit(omega.expose(), j));
        points.push(ProjectivePoint::conditional_select(&p0, &p1, choice));
        dh.push(table.mul(a.expose()));
    }
    // P7.3 ρ^ω_j = H_j(a_j·B).
    let rho = h_pads(&t, &dh);
    zeroize::Zeroize::zeroize(dh.as_mut_slice());
    Ok((
        SetupAlice2 {
            session: *session,
            me,
            bob,
            omega,
            rho,
        },
        OtSetupMsg2 {
            session: *session,
            points,
        },
    ))
}

/// Steps 4–5 (Bob): validate Alice's encoded choices, derive both pads of every OT and send the
/// challenges.
///
/// Errors: `WrongSession` (the state is consumed: compare [`OtSetupMsg2::session`] with
/// [`SetupBob1::session`] first to keep it), `Misbehaviour { [alice], BaseOt }` for `A_j = B`.
pub fn setup_bob_round3(
    state: SetupBob1,
    msg2: &OtSetupMsg2,
) -> Result<(SetupBob3, OtSetupMsg3), Error> {
    check_session(&state.session, &msg2.session, state.alice)?;
    if msg2.points.len() != BASE_OTS {
        return Err(Error::blame(state.alice, Reason::MalformedMessage));
    }
    let t = base_transcript(&state.session, state.alice, state.me);
    let b_times_b = state.big_b * state.b.expose();
    let mut dh0 = Vec::with_capacity(BASE_OTS);
    let mut dh1 = Vec::with_capacity(BASE_OTS);
    for a_j in &msg2.points {
        // Decoding already rejected off-curve, non-canonical and identity points; A_j = B would
        // make b·(A_j − B) the identity (a pad known to everyone).
        if *a_j == state.big_b {
            return Err(Error::blame(state.alice, Reason::BaseOt));
        }
        // P7.4 ρ⁰_j = H_j(b·A_j), ρ¹_j = H_j(b·A_j − b·B).
        let p = *a_j * state.b.expose();
        dh0.push(p);
        dh1.push(p - b_times_b);
    }
    let rho0 = h_pads(&t, &dh0);
    let rho1 = h_pads(&t, &dh1);
    zeroize::Zeroize::zeroize(dh0.as_mut_slice());
    zeroize::Zeroize::zeroize(dh1.as_mut_slice());
    // P7.5 ξ_j = H'(H''(ρ⁰)) ⊕ H'(H''(ρ¹)).
    let challenges = rho0
        .iter()
        .zip(&rho1)
        .enumerate()
        .map(|(j, (r0, r1))| {
            xor32(
                &h_delta(&t, j, &h_gamma(&t, j, r0.expose())),
                &h_delta(&t, j, &h_gamma(&t, j, r1.expose())),
            )
        })
        .collect();
    Ok((
        SetupBob3 {
            session: state.session,
            me: state.me,
            alice: state.alice,
            rho0,
            rho1,
        },
        OtSetupMsg3 {
            session: state.session,
            challenges,
        },
    ))
}

/// Step 6 (Alice): answer the challenges.
pub fn setup_alice_round4(
    state: SetupAlice2,
    msg3: &OtSetupMsg3,
) -> Result<(SetupAlice4, OtSetupMsg4), Error> {
    check_session(&state.session, &msg3.session, state.bob)?;
    if msg3.challenges.len() != BASE_OTS {
        return Err(Error::blame(state.bob, Reason::MalformedMessage));
    }
    let t = base_transcript(&state.session, state.me, state.bob);
    let mut responses = Vec::with_capacity(BASE_OTS);
    for (j, (rho, xi)) in state.rho.iter().zip(&msg3.challenges).enumerate() {
        // P7.6 ρ'_j = H'(H''(ρ^ω_j)) ⊕ ω_j·ξ_j (masked, no branch on ω_j).
        let mask = 0u8.wrapping_sub(bit(state.omega.expose(), j));
        let mut resp = h_delta(&t, j, &h_gamma(&t, j, rho.expose()));
        for (o, x) in resp.iter_mut().zip(xi) {
            *o ^= x & mask;
        }
        responses.push(resp);
    }
    Ok((
        SetupAlice4 {
            session: state.session,
            me: state.me,
            bob: state.bob,
            omega: state.omega,
            rho: state.rho,
            challenges: msg3.challenges.clone(),
        },
        OtSetupMsg4 {
            session: state.session,
            responses,
        },
    ))
}

/// Step 7 (Bob): verify Alice's responses, open the pads' hashes; Bob's setup is complete.
///
/// Errors: `Misbehaviour { [alice], BaseOt }` when a response is wrong.
pub fn setup_bob_round5(
    state: SetupBob3,
    msg4: &OtSetupMsg4,
) -> Result<(MulReceiverSetup, OtSetupMsg5), Error> {
    check_session(&state.session, &msg4.session, state.alice)?;
    if msg4.responses.len() != BASE_OTS {
        return Err(Error::blame(state.alice, Reason::MalformedMessage));
    }
    let t = base_transcript(&state.session, state.alice, state.me);
    let mut ok = Choice::from(1);
    let mut openings = Vec::with_capacity(BASE_OTS);
    for (j, ((r0, r1), resp)) in state
        .rho0
        .iter()
        .zip(&state.rho1)
        .zip(&msg4.responses)
        .enumerate()
    {
        let g0 = h_gamma(&t, j, r0.expose());
        let g1 = h_gamma(&t, j, r1.expose());
        // P7.7 ρ'_j must equal H'(H''(ρ⁰_j)).
        ok &= h_delta(&t, j, &g0).ct_eq(resp);
        openings.push((g0, g1));
    }
    if !bool::from(ok) {
        return Err(Error::blame(state.alice, Reason::BaseOt));
    }
    let setup = MulReceiverSetup::new(state.session, state.me, state.alice, state.rho0, state.rho1);
    Ok((
        setup,
        OtSetupMsg5 {
            session: state.session,
            openings,
        },
    ))
}

/// Step 8 (Alice): verify Bob's openings against her pads and his challenges; Alice's setup is
/// complete.
///
/// Errors: `Misbehaviour { [bob], BaseOt }` when an opening or a challenge is inconsistent.
pub fn setup_alice_finish(state: SetupAlice4, msg5: &OtSetupMsg5) -> Result<MulSenderSetup, Error> {
    check_session(&state.session, &msg5.session, state.bob)?;
    if msg5.openings.len() != BASE_OTS {
        return Err(Error::blame(state.bob, Reason::MalformedMessage));
    }
    let t = base_transcript(&state.session, state.me, state.bob);
    let mut ok = Choice::from(1);
    for (j, ((rho, xi), (g0, g1))) in state
        .rho
        .iter()
        .zip(&state.challenges)
        .zip(&msg5.openings)
        .enumerate()
    {
        // P7.8 γ^{ω_j} = H''(ρ^{ω_j}) and ξ_j = H'(γ⁰) ⊕ H'(γ¹).
        let choice = Choice::from(bit(state.omega.expose(), j));
        let mut mine = [0u8; 32];
        for ((m, a), b) in mine.iter_mut().zip(g0).zip(g1) {
            *m = u8::conditional_select(a, b, choice);
        }
        ok &= h_gamma(&t, j, rho.expose()).ct_eq(&mine);
        ok &= xor32(&h_delta(&t, j, g0), &h_delta(&t, j, g1)).ct_eq(xi);
    }
    if !bool::from(ok) {
        return Err(Error::blame(state.bob, Reason::BaseOt));
    }
    Ok(MulSenderSetup::new(
        state.session,
        state.me,
        state.bob,
        state.omega,
        state.rho,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn fixed_base_table_multiplies() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let base = SecretScalar::<Secp256k1>::random(&mut rng).public();
        let table = FixedBaseTable::new(&base);
        for s in [Scalar::ZERO, Scalar::ONE, -Scalar::ONE, Scalar::from(16u64)] {
            assert_eq!(table.mul(&s), base * s);
        }
        for _ in 0..20 {
            let s = *SecretScalar::<Secp256k1>::random(&mut rng).expose();
            assert_eq!(table.mul(&s), base * s);
        }
    }
}
