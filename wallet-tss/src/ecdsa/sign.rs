//! The online phase: DKLs23 Protocol 3.6, step 9 (message part) and step 10.
//!
//! Each signer takes its half of the presignature out of its [`KeyStore`] ([`partial_sign`],
//! atomically: one use across restores and workers) with the 32-byte message hash `m` and
//! releases one message, `(u_i, w_i)` with `w_i = m·φ_i + r_x·v_i` (`r_x` = x-coordinate of `R` mod q). Anyone
//! holding every signer's and the [`PresignatureInfo`] computes
//! `s = Σ w_i / Σ u_i = (m + r_x·sk)·φ / (k·φ)`, which is an ECDSA signature with
//! nonce `k = Σ r_i` (two signers of [`super::Presign`], or the `t` or more of
//! [`super::MultiPresign`]); it is normalised to **low S** (BIP-62 / Ethereum's EIP-2), given its
//! **recovery id** (`y` parity of `R`, flipped with `s`, and whether `R.x ≥ q`), and **verified**
//! before it is returned.
//!
//! **Policy gate.** The message reaches each signer explicitly, before it releases anything: a
//! server party checks the hash (spending limit, allow-list, a transaction it parsed itself)
//! and simply does not call [`partial_sign`] (or drops its [`Sign`] machine) if it refuses.
//! The presignature then stays unused in the store (a later refresh erases it). See `examples/ecdsa_2p.rs`.

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

use super::keygen::PublicKeyPackage;
use super::kinds;
use super::presign::{Presignature, PresignatureInfo};
use super::store::{KeyStore, PairingGuard};

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
    fn sign(self, msg_hash: &[u8; 32]) -> PartialSignature {
        let (phi, u, v) = self.parts();
        let w = hash_scalar(msg_hash) * phi.expose() + self.r_x() * v.expose();
        PartialSignature {
            presignature_id: *self.id(),
            signer: self.me(),
            u: *u.expose(),
            w,
        }
    }
}

/// Step 9: this party's online share of the presignature `info` for `msg_hash`.
///
/// The presignature is **taken** from the store first — atomically and durably, so that no
/// restore, retry or other worker can use it again — then opened under the current share's
/// seal key and consumed. Call it only for a message this party agrees to sign (the policy
/// gate: see the module docs).
///
/// Errors: the presignature belongs to another epoch ([`Error::WrongEpoch`]: a refresh or
/// reshare ended it); it was used already ([`Error::Store`]`(`[`wallet_types::StoreError::AlreadyUsed`]`)`)
/// or is unknown (`NotFound`; `Retired` for an erased epoch); the pairing with the other
/// signer was ended ([`Error::Banned`]); `info` does not match what the store holds
/// ([`ParamError::Mismatch`]).
pub fn partial_sign<S: KeyStore + ?Sized>(
    store: &S,
    info: &PresignatureInfo,
    msg_hash: &[u8; 32],
) -> Result<PartialSignature, Error> {
    let guard = store.lock_pairing(info_counterparty(store, info)?)?;
    let key = guard.key();
    super::store::current(key, &info.key_id, info.epoch)?;
    let me = key.me();
    if !info.signers.contains(me) || info.signers.len() < key.threshold() {
        return Err(ParamError::Mismatch.into());
    }
    // Every pairing of the signer set must still be live (a ban ends them all, in every
    // session: a presignature with a banned party is never used).
    if let Some(p) = info.signers.others(me).find(|p| key.pair(*p).is_none()) {
        return Err(Error::Banned { party: p });
    }
    let sealed = store.take(&info.key_id, &info.id)?;
    let presignature = Presignature::unseal(key, info, sealed.expose())?;
    Ok(presignature.sign(msg_hash))
}

/// A counterparty of `info` for the store's party (the pairing to lock: with two signers the
/// other one, with more the first other one). The store's party is learnt under the lock of
/// any pairing of `info`'s signers, so this locks once per call.
fn info_counterparty<S: KeyStore + ?Sized>(
    store: &S,
    info: &PresignatureInfo,
) -> Result<PartyId, Error> {
    let mut signers = info.signers.iter();
    let (a, b) = (
        signers.next().ok_or(ParamError::Mismatch)?,
        signers.next().ok_or(ParamError::Mismatch)?,
    );
    let me = store.lock_pairing(a)?.key().me();
    Ok(if me == a { b } else { a })
}

/// Step 10: combines the two partial signatures of `info`'s signers into a verified, low-S ECDSA
/// signature with its recovery id, for the key `key` (the public package of the **current**
/// epoch: a presignature of any other epoch is refused with [`Error::WrongEpoch`]).
///
/// Errors: a partial for another presignature or from a non-signer, or signers that are not
/// parties of the key ([`ParamError::Mismatch`]); a result that does not verify names both
/// signers ([`Reason::InvalidSignatureShare`]) — a signer that holds one of the partials itself
/// uses the [`Sign`] machine, which blames only the counterparty.
pub fn combine(
    key: &PublicKeyPackage,
    info: &PresignatureInfo,
    msg_hash: &[u8; 32],
    a: &PartialSignature,
    b: &PartialSignature,
) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), Error> {
    combine_all(key, info, msg_hash, &[a.clone(), b.clone()])
}

/// Step 10 for any number of signers: combines the partial signatures of **every** signer of
/// `info` (in any order) into a verified, low-S ECDSA signature with its recovery id, as
/// [`combine`] does for two.
///
/// Errors as [`combine`]; besides, a missing signer's partial is [`ParamError::Mismatch`] and a
/// signer's second partial [`ParamError::DuplicateParty`].
pub fn combine_all(
    key: &PublicKeyPackage,
    info: &PresignatureInfo,
    msg_hash: &[u8; 32],
    partials: &[PartialSignature],
) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), Error> {
    let culprits: Vec<PartyId> = info.signers.iter().collect();
    combine_blaming(key, info, msg_hash, partials, culprits)
}

fn combine_blaming(
    key: &PublicKeyPackage,
    info: &PresignatureInfo,
    msg_hash: &[u8; 32],
    partials: &[PartialSignature],
    culprits: Vec<PartyId>,
) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), Error> {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    if info.key_id != *key.key_id() {
        return Err(Error::WrongEpoch {
            current: key.epoch(),
            found: info.epoch,
        });
    }
    if !info.signers.iter().all(|p| key.parties().contains(p))
        || info.signers.len() < key.threshold()
    {
        return Err(ParamError::Mismatch.into());
    }
    let mut seen = alloc::collections::BTreeSet::new();
    for p in partials {
        if p.presignature_id != info.id || !info.signers.contains(p.signer) {
            return Err(ParamError::Mismatch.into());
        }
        if !seen.insert(p.signer) {
            return Err(ParamError::DuplicateParty(p.signer).into());
        }
    }
    if seen.len() != info.signers.len() {
        return Err(ParamError::Mismatch.into());
    }
    let bad = || Error::blame_all(culprits.clone(), Reason::InvalidSignatureShare);
    let (r, y_odd, x_reduced) = Secp256k1::x_scalar(&info.instance_point);
    let (u_sum, w_sum) = partials
        .iter()
        .fold((k256::Scalar::ZERO, k256::Scalar::ZERO), |(u, w), p| {
            (u + p.u, w + p.w)
        });
    let inv = Option::<k256::Scalar>::from(u_sum.invert()).ok_or_else(bad)?;
    let mut s = w_sum * inv;
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
    /// After `start`: this party's partial (public).
    mine: Option<PartialSignature>,
}

/// One signer of the online phase as a machine: one point-to-point round in which each signer
/// sends its [`PartialSignature`] to every other signer; all output the combined signature (a
/// result that does not verify names every other signer: [`Reason::InvalidSignatureShare`]).
///
/// Its session is the presignature's id, so a partial for another presignature is rejected
/// ([`Error::WrongSession`]). `start` takes the presignature out of the store
/// ([`partial_sign`]); the machine never holds it, so restoring a saved state twice cannot sign
/// twice (the second `start` is refused by the store), and combining checks the epoch again.
pub struct Sign<S: KeyStore> {
    store: S,
    inner: SignState,
}

/// The serialized form of a [`Sign`] machine (kind `0x039b`): public data only.
pub struct SignState {
    me: PartyId,
    life: Lifecycle<State>,
}

impl<S: KeyStore> fmt::Debug for Sign<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl fmt::Debug for SignState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sign")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

impl<S: KeyStore> Sign<S> {
    /// A sign machine for the store's party that will take the presignature `info` from `store`
    /// for `msg_hash` when started. The policy decision (whether to sign this hash) belongs
    /// before this call.
    pub fn new(store: S, info: PresignatureInfo, msg_hash: [u8; 32]) -> Result<Self, Error> {
        let me = {
            let other = info.signers.iter().next().ok_or(ParamError::Mismatch)?;
            store.lock_pairing(other)?.key().me()
        };
        if !info.signers.contains(me) {
            return Err(ParamError::NotAMember(me).into());
        }
        let inbox = Inbox::new(
            SessionId(info.id),
            me,
            info.signers.clone(),
            alloc::vec![RoundSpec::p2p()],
        )?;
        Ok(Self {
            store,
            inner: SignState {
                me,
                life: Lifecycle::Created(State {
                    inbox,
                    info,
                    msg_hash,
                    mine: None,
                }),
            },
        })
    }

    /// The machine's serialized state (public data only).
    pub fn save(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// A machine restored from [`Sign::save`]'s bytes, on `store` again.
    pub fn restore(store: S, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            store,
            inner: SignState::from_bytes(bytes)?,
        })
    }

    /// The store the machine works on.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: KeyStore> Protocol for Sign<S> {
    type Message = PartialSignature;
    type Output = (k256::ecdsa::Signature, k256::ecdsa::RecoveryId);

    fn me(&self) -> PartyId {
        self.inner.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        _rng: &mut R,
    ) -> Result<Step<PartialSignature, Self::Output>, Error> {
        let me = self.inner.me;
        let store = &self.store;
        self.inner.life.start(|s| {
            let partial = partial_sign(store, &s.info, &s.msg_hash)?;
            let out = s
                .info
                .signers
                .others(me)
                .map(|j| s.inbox.envelope(1, Recipient::One(j), partial.clone()))
                .collect();
            s.mine = Some(partial);
            Ok((Step::Continue(out), false))
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<PartialSignature>,
        _rng: &mut R,
    ) -> Result<Step<PartialSignature, Self::Output>, Error> {
        let me = self.inner.me;
        let store = &self.store;
        self.inner.life.run(|s| {
            s.inbox.receive(incoming)?;
            let Some(msgs) = s.inbox.take_current() else {
                return Ok((Step::Continue(Vec::new()), false));
            };
            let mine = s.mine.as_ref().ok_or(Error::Internal)?;
            let mut partials = alloc::vec![mine.clone()];
            for (j, theirs) in msgs {
                if theirs.signer != j || theirs.presignature_id != s.info.id {
                    return Err(Error::blame(j, Reason::MalformedMessage));
                }
                partials.push(theirs);
            }
            let others: Vec<PartyId> = s.info.signers.others(me).collect();
            let first = *others.first().ok_or(Error::Internal)?;
            let key = store.lock_pairing(first)?.key().public_package();
            let out = combine_blaming(&key, &s.info, &s.msg_hash, &partials, others)?;
            Ok((Step::Done(Vec::new(), out), true))
        })
    }
}

/// State body: `me u16 || lifecycle u8`; if created / running: `inbox || u32be(len) ||
/// PresignatureInfo || msg_hash[32] || has u8 || [PartialSignature body]`. Public data only:
/// the presignature stays in the store until `start` takes it.
impl WireObject for SignState {
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
                let mine = if r.bool()? {
                    Some(PartialSignature::decode_body(r)?)
                } else {
                    None
                };
                let s = State {
                    inbox,
                    info,
                    msg_hash,
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
