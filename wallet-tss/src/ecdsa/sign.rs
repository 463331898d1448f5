//! The online phase: DKLs23 Protocol 3.6, step 9 (message part) and step 10.
//!
//! Each signer consumes its [`Presignature`] with the 32-byte message hash `m` and releases one
//! message, `(u_i, w_i)` with `w_i = m·φ_i + r_x·v_i` (`r_x` = x-coordinate of `R` mod q). Anyone
//! holding both and the [`PresignatureInfo`] computes
//! `s = (w_i + w_j) / (u_i + u_j) = (m + r_x·sk)·φ / (k·φ)`, which is an ECDSA signature with
//! nonce `k = r_i + r_j`; it is normalised to **low S** (BIP-62 / Ethereum's EIP-2), given its
//! **recovery id** (`y` parity of `R`, flipped with `s`, and whether `R.x ≥ q`), and **verified**
//! before it is returned.
//!
//! **Policy gate.** The message reaches each signer explicitly, before it releases anything: a
//! server party checks the hash (spending limit, allow-list, a transaction it parsed itself)
//! and simply does not call [`Presignature::sign`] (or drops its [`Sign`] machine) if it refuses.
//! The presignature is then wasted, never reused. See `examples/ecdsa_2p.rs`.

use alloc::vec::Vec;
use core::fmt;

use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::scalar::IsHigh;
use rand_core::CryptoRng;
use wallet_types::{
    DecodeError, EcdsaCurve, Envelope, Error, Inbox, Lifecycle, ObjectKind, ParamError, PartyId,
    Protocol, Reader, Reason, Recipient, RoundMessage, RoundSpec, Secp256k1, SessionId, Step,
    WireObject, Writer,
};

use super::kinds;
use super::presign::{Presignature, PresignatureInfo};

/// One signer's online message. Public (it reveals nothing about the key without the other
/// signer's presignature secrets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartialSignature {
    /// The presignature it completes.
    pub presignature_id: [u8; 32],
    /// Who produced it.
    pub signer: PartyId,
    /// `u_i` (share of `k·φ`).
    pub u: k256::Scalar,
    /// `w_i = m·φ_i + r_x·v_i`.
    pub w: k256::Scalar,
}

/// The sign machine's message is the partial signature.
pub type SignMessage = PartialSignature;

impl RoundMessage for PartialSignature {
    fn round(&self) -> u16 {
        1
    }
}

/// Body: `presignature_id[32] || signer u16 || u[32] || w[32]` (scalars big-endian, `< q`).
impl WireObject for PartialSignature {
    const KIND: ObjectKind = kinds::PARTIAL_SIGNATURE;
    const MAX_LEN: usize = 4 + 32 + 2 + 64;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(&self.presignature_id);
        w.party(self.signer);
        w.scalar::<Secp256k1>(&self.u);
        w.scalar::<Secp256k1>(&self.w);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            presignature_id: r.array()?,
            signer: r.party()?,
            u: r.scalar::<Secp256k1>()?,
            w: r.scalar::<Secp256k1>()?,
        })
    }
}

/// The message hash as a scalar (SEC 1 §4.1.3 step 5 for a 32-byte hash: reduce mod q).
fn hash_scalar(msg_hash: &[u8; 32]) -> k256::Scalar {
    let mut b = k256::FieldBytes::default();
    b.copy_from_slice(msg_hash);
    <k256::Scalar as Reduce<k256::FieldBytes>>::reduce(&b)
}

impl Presignature {
    /// Step 9: the online share for `msg_hash`, consuming the presignature (single use).
    ///
    /// Call this only after the presignature's id is marked used in durable storage (see the
    /// storage rule on [`Presignature`]), and only for a message this party agrees to sign.
    pub fn sign(self, msg_hash: &[u8; 32]) -> PartialSignature {
        let (r_x, _, _) = Secp256k1::x_scalar(&self.info().instance_point);
        let (phi, u, v) = self.parts();
        let w = hash_scalar(msg_hash) * phi.expose() + r_x * v.expose();
        PartialSignature {
            presignature_id: self.info().id,
            signer: self.me(),
            u: *u.expose(),
            w,
        }
    }
}

/// Step 10: combines the two partial signatures of `info`'s signers into a verified, low-S ECDSA
/// signature with its recovery id.
///
/// Errors: a partial for another presignature or from a non-signer
/// ([`ParamError::Mismatch`]); a result that does not verify names both signers
/// ([`Reason::InvalidSignatureShare`]) — a signer that holds one of the partials itself uses the
/// [`Sign`] machine, which blames only the counterparty.
pub fn combine(
    info: &PresignatureInfo,
    msg_hash: &[u8; 32],
    a: &PartialSignature,
    b: &PartialSignature,
) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), Error> {
    let culprits: Vec<PartyId> = info.signers.iter().collect();
    combine_blaming(info, msg_hash, a, b, culprits)
}

fn combine_blaming(
    info: &PresignatureInfo,
    msg_hash: &[u8; 32],
    a: &PartialSignature,
    b: &PartialSignature,
    culprits: Vec<PartyId>,
) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), Error> {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    for p in [a, b] {
        if p.presignature_id != info.id || !info.signers.contains(p.signer) {
            return Err(ParamError::Mismatch.into());
        }
    }
    if a.signer == b.signer {
        return Err(ParamError::DuplicateParty(a.signer).into());
    }
    let bad = || Error::blame_all(culprits.clone(), Reason::InvalidSignatureShare);
    let (r, y_odd, x_reduced) = Secp256k1::x_scalar(&info.instance_point);
    let denominator = a.u + b.u;
    let inv = Option::<k256::Scalar>::from(denominator.invert()).ok_or_else(bad)?;
    let mut s = (a.w + b.w) * inv;
    let mut y_odd = y_odd;
    // Low-S: s and −s both verify; −s corresponds to −R, whose y parity is the opposite.
    if bool::from(s.is_high()) {
        s = -s;
        y_odd = !y_odd;
    }
    if bool::from(r.is_zero()) || bool::from(s.is_zero()) {
        return Err(bad());
    }
    let sig = k256::ecdsa::Signature::from_scalars(r, s).map_err(|_| bad())?;
    let recid = k256::ecdsa::RecoveryId::new(y_odd, x_reduced);
    let vk = info.verifying_key()?;
    vk.verify_prehash(msg_hash, &sig).map_err(|_| bad())?;
    Ok((sig, recid))
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

struct State {
    inbox: Inbox<PartialSignature>,
    info: PresignatureInfo,
    msg_hash: [u8; 32],
    /// Before `start`.
    presignature: Option<Presignature>,
    /// After `start`.
    mine: Option<PartialSignature>,
}

/// One signer of the online phase as a machine: one point-to-point round in which each signer
/// sends its [`PartialSignature`]; both output the combined signature.
///
/// Its session is the presignature's id, so a partial for another presignature is rejected
/// ([`Error::WrongSession`]). Serialized before `start`, the machine holds the presignature:
/// the storage rule on [`Presignature`] applies to those bytes.
pub struct Sign {
    me: PartyId,
    life: Lifecycle<State>,
}

impl fmt::Debug for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sign")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl Sign {
    /// A sign machine that will consume `presignature` for `msg_hash` when started. The policy
    /// decision (whether to sign this hash) belongs before this call.
    pub fn new(presignature: Presignature, msg_hash: [u8; 32]) -> Result<Self, Error> {
        let me = presignature.me();
        let info = presignature.info().clone();
        let inbox = Inbox::new(
            SessionId(info.id),
            me,
            info.signers.clone(),
            alloc::vec![RoundSpec::p2p()],
        )?;
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                inbox,
                info,
                msg_hash,
                presignature: Some(presignature),
                mine: None,
            }),
        })
    }
}

impl Protocol for Sign {
    type Message = PartialSignature;
    type Output = (k256::ecdsa::Signature, k256::ecdsa::RecoveryId);

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<PartialSignature, Self::Output>, Error> {
        let me = self.me;
        self.life.start(|s| {
            let p = s.presignature.take().ok_or(Error::Internal)?;
            let other = s.info.counterparty(me).ok_or(Error::Internal)?;
            let partial = p.sign(&s.msg_hash);
            s.mine = Some(partial.clone());
            Ok((
                Step::Continue(alloc::vec![s.inbox.envelope(
                    1,
                    Recipient::One(other),
                    partial
                )]),
                false,
            ))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<PartialSignature>,
        _rng: &mut R,
    ) -> Result<Step<PartialSignature, Self::Output>, Error> {
        let me = self.me;
        self.life.run(|s| {
            s.inbox.receive(incoming)?;
            let Some(mut msgs) = s.inbox.take_current() else {
                return Ok((Step::Continue(Vec::new()), false));
            };
            let other = s.info.counterparty(me).ok_or(Error::Internal)?;
            let theirs = msgs.remove(&other).ok_or(Error::Internal)?;
            if theirs.signer != other || theirs.presignature_id != s.info.id {
                return Err(Error::blame(other, Reason::MalformedMessage));
            }
            let mine = s.mine.as_ref().ok_or(Error::Internal)?;
            let out = combine_blaming(&s.info, &s.msg_hash, mine, &theirs, alloc::vec![other])?;
            Ok((Step::Done(Vec::new(), out), true))
        })
    }
}

/// State body: `me u16 || lifecycle u8`; if created / running: `inbox || info || msg_hash[32]
/// || has u8 || [u32be(len) || sealed presignature] || has u8 || [PartialSignature body]`.
/// Before `start` it holds the presignature: store encrypted, and never restore it twice.
impl WireObject for Sign {
    const KIND: ObjectKind = kinds::SIGN_STATE;
    const MAX_LEN: usize = 1 << 16;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else {
            return;
        };
        s.inbox.encode(w);
        w.object(&s.info);
        w.bytes(&s.msg_hash);
        match &s.presignature {
            Some(p) => {
                w.u8(1);
                w.var_bytes(p.encode_secret().expose());
            }
            None => w.u8(0),
        }
        match &s.mine {
            Some(m) => {
                w.u8(1);
                m.encode_body(w);
            }
            None => w.u8(0),
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::<PartialSignature>::decode(r, alloc::vec![RoundSpec::p2p()])?;
                let info = PresignatureInfo::from_bytes(r.var_bytes(PresignatureInfo::MAX_LEN)?)?;
                if inbox.me() != me
                    || inbox.session().0 != info.id
                    || *inbox.parties() != info.signers
                {
                    return Err(DecodeError::InvalidValue);
                }
                let msg_hash = r.array()?;
                let presignature = if r.bool()? {
                    Some(Presignature::restore(&info.id, r.var_bytes(4096)?)?)
                } else {
                    None
                };
                let mine = if r.bool()? {
                    Some(PartialSignature::decode_body(r)?)
                } else {
                    None
                };
                let s = State {
                    inbox,
                    info,
                    msg_hash,
                    presignature,
                    mine,
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
