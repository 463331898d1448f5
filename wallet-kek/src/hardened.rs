//! OPRF-hardened password and recovery-answer slots with a guess-limited server
//! (`SPEC.md` §3.3 and §10).
//!
//! A hardened slot's KEK needs two things nobody holds alone: the Argon2id output of the
//! normalised secret, and an RFC 9497 VOPRF evaluation ([`crate::oprf`]) by a server that holds
//! a per-record OPRF key and counts attempts:
//!
//! ```text
//! input     = "wallet-kek/oprf-input" || u16be(1) || slot_kind || wallet_id[32] || record_id[32]
//!             || normalised secret
//! y         = VOPRF(skS_record, input)                           (64 bytes, proof checked
//!                                                                 against the pinned pkS)
//! stretched = Argon2id(normalised secret, argon2_salt, m, t, p)
//! KEK       = HKDF-SHA256(ikm = stretched || y,
//!                         info = label || u16be(1) || wallet_id || record_id || pkS)
//! ```
//!
//! ## Who can test a guess
//!
//! | who holds what | Argon2 slot (02 / 03) | hardened slot (04 / 05) |
//! |---|---|---|
//! | the envelope store alone (every public value of the envelope) | offline, one Argon2id per guess, unlimited | **none**: each guess needs `y`, i.e. one evaluation by the server |
//! | the OPRF server alone (keys, counters, reset keys, every message it saw) | none (no envelope) | **none**: it never sees the secret (only `r·H(input)`) and has no wrapped DEK to test a KEK against |
//! | anyone online (the user's client included) | — | one guess per evaluation, at most `max_attempts` failures until a reset |
//! | store and server together (or a stolen server key plus the envelope) | offline, Argon2id per guess | offline, Argon2id + one OPRF evaluation per guess — as weak as the Argon2 slot, never weaker |
//!
//! An Argon2-only slot left in the same envelope keeps its own offline attack: migrate by adding
//! the hardened slot and **removing** the old one ([`crate::Envelope::remove_slot`]), and have
//! the store discard older copies.
//!
//! ## Why one key per record
//!
//! The server sees only blinded elements, so it cannot tell which input it evaluates. With one
//! key for all records, a user who resets their own counter (they know their own answer) could
//! spend unlimited evaluations on inputs of *another* user's slot. Every record therefore has
//! its own key pair, `DeriveKeyPair(seed, "wallet-kek/oprf-record-key" || u16be(1) ||
//! record_id)`, and the record's public key is pinned in the slot.
//!
//! ## The guess limit
//!
//! Every evaluation counts as a failure *before* it is answered (the server cannot see whether
//! the guess was right): [`OprfServerKey::evaluate`] refuses once `failures ≥ max_attempts`
//! ([`KekError::OprfLockedOut`]). The counter goes back to zero only through
//! [`OprfRecord::reset`] with a [`ResetProof`]: an HMAC over the record id and a fresh,
//! single-use server nonce under a *reset key* derived from the envelope's DEK. Only someone
//! who opened the envelope (through this slot, or through any other slot such as a passkey)
//! can compute it. The reset key is derived from the random DEK, not from the password-derived
//! KEK: a reset key derived from the KEK would give the server (which knows `skS`) an offline
//! test of guesses.
//!
//! **Storage rule for the server**: the record with the incremented counter must be durable
//! *before* the response leaves, and evaluations of one record must not run on copies of the
//! same state; otherwise a crash or a parallel request replays budget. Run the server as
//! [`crate::oprf_server::OprfServer`] over an [`crate::oprf_server::OprfRecordStore`], which
//! enforces both (each operation is one atomic update of one record; the response is released
//! only after the write). [`OprfServerKey::evaluate`] on a record in memory leaves both to the
//! caller. [`OprfServerKey`] and [`OprfRecord`] encodings hold secrets (the OPRF seed, the reset
//! key): store them encrypted.
//!
//! ## Why plain functions instead of a [`wallet_types::Protocol`] machine
//!
//! The exchange is one request and one response between a client and a server that keeps no
//! session: a multi-party round machine (party ids, broadcast, inbox, equivocation) would add
//! nothing. The client's state between the two messages is one value consumed by
//! [`OprfPending::finish`]; the server's state is the [`OprfRecord`] it keeps per slot. Every
//! message has a wire header, one canonical encoding and is validated on decode; the rules of
//! the protocol trait that apply still hold (no I/O, randomness passed in, a wrong record or a
//! malformed value rejected without changing the record, typed errors).
//!
//! **Rekeying** ([`crate::Envelope::rekey`]) changes the DEK and hence every reset key, so it
//! refuses to carry a hardened slot over (a kept slot would still open, but no unlock could
//! reset its counter again, and it would lock itself after `max_attempts` correct answers):
//! rekey with the other slots, then enrol the hardened slots again.

use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use wallet_types::{DecodeError, ObjectKind, Reader, SecretBytes, SecretVec, WireObject, Writer};

use crate::crypto::hkdf_sha256;
use crate::envelope::{Envelope, SlotId, SlotParams};
use crate::error::KekError;
use crate::oprf::{
    self, BlindState, OPRF_ELEMENT_LEN, OPRF_OUTPUT_LEN, OPRF_PROOF_LEN, OPRF_SEED_LEN, OprfOutput,
    OprfPublicKey,
};
use crate::password::{self, ARGON2_SALT_LEN, Argon2Params, TextSecret};
use crate::prf::{KDF_VERSION, Kek, WalletId};

/// Length of a record id.
pub const RECORD_ID_LEN: usize = 32;
/// Length of a server reset nonce.
pub const RESET_NONCE_LEN: usize = 32;
/// Default guess limit of a new record.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// Largest guess limit a record may have.
pub const MAX_MAX_ATTEMPTS: u32 = 1000;

/// Wire kind of [`OprfRequest`].
pub const OPRF_REQUEST_KIND: ObjectKind = ObjectKind(0x0402);
/// Wire kind of [`OprfResponse`].
pub const OPRF_RESPONSE_KIND: ObjectKind = ObjectKind(0x0403);
/// Wire kind of [`ResetProof`].
pub const RESET_PROOF_KIND: ObjectKind = ObjectKind(0x0404);
/// Wire kind of [`OprfServerKey`] (secret).
pub const OPRF_SERVER_KEY_KIND: ObjectKind = ObjectKind(0x0405);
/// Wire kind of [`OprfRecord`] (secret).
pub const OPRF_RECORD_KIND: ObjectKind = ObjectKind(0x0406);
/// Wire kind of [`ResetChallenge`].
pub const RESET_CHALLENGE_KIND: ObjectKind = ObjectKind(0x0407);

/// Domain label of the OPRF input.
pub const OPRF_INPUT_LABEL: &[u8] = b"wallet-kek/oprf-input";
/// Domain label of a record's `DeriveKeyPair` info.
pub const RECORD_KEY_LABEL: &[u8] = b"wallet-kek/oprf-record-key";
/// HKDF label of hardened password KEKs.
pub const HARDENED_PASSWORD_KEK_LABEL: &[u8] = b"wallet-kek/hardened-password-kek";
/// HKDF label of hardened recovery-answer KEKs.
pub const HARDENED_RECOVERY_KEK_LABEL: &[u8] = b"wallet-kek/hardened-recovery-kek";
/// HKDF label of reset keys.
pub const RESET_KEY_LABEL: &[u8] = b"wallet-kek/oprf-reset-key";
/// HMAC label of reset proofs.
pub const RESET_MAC_LABEL: &[u8] = b"wallet-kek/oprf-reset";

/// Slot kind byte of a hardened password slot.
pub(crate) const SLOT_HARDENED_PASSWORD: u8 = 4;
/// Slot kind byte of a hardened recovery-answer slot.
pub(crate) const SLOT_HARDENED_RECOVERY: u8 = 5;

/// The key a record's counter is reset with (secret; the server stores it).
pub type ResetKey = SecretBytes<32>;

/// Names one hardened slot at the OPRF server (random, chosen by the client at enrolment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(pub [u8; RECORD_ID_LEN]);

impl RecordId {
    /// A fresh random record id.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut b = [0u8; RECORD_ID_LEN];
        rng.fill_bytes(&mut b);
        Self(b)
    }
    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; RECORD_ID_LEN] {
        &self.0
    }
}

/// What a hardened slot protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HardenedKind {
    /// A password (NFKC only).
    Password,
    /// A recovery answer (normalised as `SPEC.md` §3.2).
    RecoveryAnswer,
}

impl HardenedKind {
    fn text(self) -> TextSecret {
        match self {
            Self::Password => TextSecret::Password,
            Self::RecoveryAnswer => TextSecret::RecoveryAnswer,
        }
    }
    /// The slot kind byte (`04` / `05`).
    pub fn slot_kind(self) -> u8 {
        match self {
            Self::Password => SLOT_HARDENED_PASSWORD,
            Self::RecoveryAnswer => SLOT_HARDENED_RECOVERY,
        }
    }
    fn kek_label(self) -> &'static [u8] {
        match self {
            Self::Password => HARDENED_PASSWORD_KEK_LABEL,
            Self::RecoveryAnswer => HARDENED_RECOVERY_KEK_LABEL,
        }
    }
}

/// `"wallet-kek/oprf-record-key" || u16be(1) || record_id`: the `info` of the record's
/// `DeriveKeyPair`.
pub fn record_key_info(record: &RecordId) -> Vec<u8> {
    let mut v = Vec::with_capacity(RECORD_KEY_LABEL.len() + 2 + RECORD_ID_LEN);
    v.extend_from_slice(RECORD_KEY_LABEL);
    v.extend_from_slice(&KDF_VERSION.to_be_bytes());
    v.extend_from_slice(record.as_bytes());
    v
}

/// The OPRF input of a hardened slot (secret: it contains the normalised secret).
fn oprf_input(
    kind: HardenedKind,
    wallet_id: &WalletId,
    record: &RecordId,
    normalized: &SecretVec,
) -> SecretVec {
    let mut w = Writer::secret();
    w.bytes(OPRF_INPUT_LABEL);
    w.u16(KDF_VERSION);
    w.u8(kind.slot_kind());
    w.bytes(wallet_id.as_bytes());
    w.bytes(record.as_bytes());
    w.bytes(normalized.expose());
    w.into_secret()
}

/// The KEK of a hardened slot from the Argon2id output and the OPRF output (`SPEC.md` §3.3).
pub(crate) fn hardened_kek(
    factor: &HardenedFactor,
    salt: &[u8; ARGON2_SALT_LEN],
    params: &Argon2Params,
) -> Result<Kek, KekError> {
    let stretched = password::stretch(&factor.normalized, salt, params)?;
    kek_from_parts(
        factor.kind,
        &stretched,
        &factor.output,
        &factor.wallet_id,
        &factor.record,
        &factor.server_key,
    )
}

fn kek_from_parts(
    kind: HardenedKind,
    stretched: &SecretBytes<32>,
    output: &OprfOutput,
    wallet_id: &WalletId,
    record: &RecordId,
    server_key: &OprfPublicKey,
) -> Result<Kek, KekError> {
    let mut ikm = SecretBytes::<{ 32 + OPRF_OUTPUT_LEN }>::new([0; 32 + OPRF_OUTPUT_LEN]);
    let (a, b) = ikm.expose_mut().split_at_mut(32);
    a.copy_from_slice(stretched.expose());
    b.copy_from_slice(output.expose());
    let label = kind.kek_label();
    let mut info = Vec::with_capacity(label.len() + 2 + 32 + RECORD_ID_LEN + OPRF_ELEMENT_LEN);
    info.extend_from_slice(label);
    info.extend_from_slice(&KDF_VERSION.to_be_bytes());
    info.extend_from_slice(wallet_id.as_bytes());
    info.extend_from_slice(record.as_bytes());
    info.extend_from_slice(server_key.as_bytes());
    let mut kek = Kek::new([0u8; 32]);
    hkdf_sha256(None, ikm.expose(), &info, kek.expose_mut())?;
    Ok(kek)
}

/// **Known-answer helper.** The hardened KEK from an already normalised secret and an OPRF
/// output (what an independent implementation checks against `SPEC.md` §7).
#[allow(clippy::too_many_arguments)]
pub fn derive_hardened_kek(
    kind: HardenedKind,
    secret: &str,
    oprf_output: &OprfOutput,
    salt: &[u8; ARGON2_SALT_LEN],
    params: &Argon2Params,
    wallet_id: &WalletId,
    record: &RecordId,
    server_key: &OprfPublicKey,
) -> Result<Kek, KekError> {
    let n = password::normalize(kind.text(), secret)?;
    let stretched = password::stretch(&n, salt, params)?;
    kek_from_parts(kind, &stretched, oprf_output, wallet_id, record, server_key)
}

/// The reset key of a record: `HKDF(ikm = DEK, info = "wallet-kek/oprf-reset-key" || u16be(1)
/// || wallet_id || record_id)`.
pub(crate) fn reset_key(
    dek: &SecretBytes<32>,
    wallet_id: &WalletId,
    record: &RecordId,
) -> Result<ResetKey, KekError> {
    let mut info = Vec::with_capacity(RESET_KEY_LABEL.len() + 2 + 32 + RECORD_ID_LEN);
    info.extend_from_slice(RESET_KEY_LABEL);
    info.extend_from_slice(&KDF_VERSION.to_be_bytes());
    info.extend_from_slice(wallet_id.as_bytes());
    info.extend_from_slice(record.as_bytes());
    let mut k = ResetKey::new([0; 32]);
    hkdf_sha256(None, dek.expose(), &info, k.expose_mut())?;
    Ok(k)
}

/// `HMAC-SHA256(reset_key, "wallet-kek/oprf-reset" || u16be(1) || record_id || nonce)`.
fn reset_mac(
    key: &ResetKey,
    record: &RecordId,
    nonce: &[u8; RESET_NONCE_LEN],
) -> Result<Hmac<Sha256>, KekError> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.expose()).map_err(|_| KekError::InvalidInput)?;
    mac.update(RESET_MAC_LABEL);
    mac.update(&KDF_VERSION.to_be_bytes());
    mac.update(record.as_bytes());
    mac.update(nonce);
    Ok(mac)
}

/// The reset proof for `record` and a server nonce, under a reset key (called through
/// [`crate::Unlocked::oprf_reset_proof`]).
pub(crate) fn make_reset_proof(
    key: &ResetKey,
    record: RecordId,
    nonce: [u8; RESET_NONCE_LEN],
) -> Result<ResetProof, KekError> {
    let tag = reset_mac(key, &record, &nonce)?.finalize().into_bytes();
    let mut mac = [0u8; 32];
    mac.copy_from_slice(tag.as_slice());
    Ok(ResetProof { record, nonce, mac })
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Client → server: evaluate the OPRF of this record at a blinded element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OprfRequest {
    record: RecordId,
    blinded: [u8; OPRF_ELEMENT_LEN],
}

impl OprfRequest {
    /// The record to evaluate under.
    pub fn record(&self) -> &RecordId {
        &self.record
    }
}

impl WireObject for OprfRequest {
    const KIND: ObjectKind = OPRF_REQUEST_KIND;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + RECORD_ID_LEN + OPRF_ELEMENT_LEN;
    const CURVE: Option<wallet_types::CurveId> = None;
    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.record.as_bytes());
        w.bytes(&self.blinded);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            record: RecordId(r.array()?),
            blinded: r.array()?,
        })
    }
}

/// Server → client: the evaluated element, the DLEQ proof, a fresh reset nonce and how many
/// attempts remain after this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OprfResponse {
    record: RecordId,
    evaluated: [u8; OPRF_ELEMENT_LEN],
    proof: [u8; OPRF_PROOF_LEN],
    nonce: [u8; RESET_NONCE_LEN],
    attempts_left: u32,
}

impl OprfResponse {
    /// The record evaluated under.
    pub fn record(&self) -> &RecordId {
        &self.record
    }
    /// The nonce a [`ResetProof`] must answer.
    pub fn nonce(&self) -> &[u8; RESET_NONCE_LEN] {
        &self.nonce
    }
    /// Failures the server still accepts before it locks the record (as the server claims it).
    pub fn attempts_left(&self) -> u32 {
        self.attempts_left
    }
}

impl WireObject for OprfResponse {
    const KIND: ObjectKind = OPRF_RESPONSE_KIND;
    const MAX_LEN: usize = wallet_types::HEADER_LEN
        + RECORD_ID_LEN
        + OPRF_ELEMENT_LEN
        + OPRF_PROOF_LEN
        + RESET_NONCE_LEN
        + 4;
    const CURVE: Option<wallet_types::CurveId> = None;
    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.record.as_bytes());
        w.bytes(&self.evaluated);
        w.bytes(&self.proof);
        w.bytes(&self.nonce);
        w.u32(self.attempts_left);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let v = Self {
            record: RecordId(r.array()?),
            evaluated: r.array()?,
            proof: r.array()?,
            nonce: r.array()?,
            attempts_left: r.u32()?,
        };
        if v.attempts_left > MAX_MAX_ATTEMPTS {
            return Err(DecodeError::InvalidValue);
        }
        Ok(v)
    }
}

/// Server → client: a fresh reset nonce without an evaluation (to reset a locked record after
/// opening the envelope through another slot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetChallenge {
    record: RecordId,
    nonce: [u8; RESET_NONCE_LEN],
}

impl ResetChallenge {
    /// The record.
    pub fn record(&self) -> &RecordId {
        &self.record
    }
    /// The nonce a [`ResetProof`] must answer.
    pub fn nonce(&self) -> &[u8; RESET_NONCE_LEN] {
        &self.nonce
    }
}

impl WireObject for ResetChallenge {
    const KIND: ObjectKind = RESET_CHALLENGE_KIND;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + RECORD_ID_LEN + RESET_NONCE_LEN;
    const CURVE: Option<wallet_types::CurveId> = None;
    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.record.as_bytes());
        w.bytes(&self.nonce);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            record: RecordId(r.array()?),
            nonce: r.array()?,
        })
    }
}

/// Client → server: proof that the client opened the envelope, answering one server nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetProof {
    record: RecordId,
    nonce: [u8; RESET_NONCE_LEN],
    mac: [u8; 32],
}

impl ResetProof {
    /// The record to reset.
    pub fn record(&self) -> &RecordId {
        &self.record
    }
}

impl WireObject for ResetProof {
    const KIND: ObjectKind = RESET_PROOF_KIND;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + RECORD_ID_LEN + RESET_NONCE_LEN + 32;
    const CURVE: Option<wallet_types::CurveId> = None;
    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.record.as_bytes());
        w.bytes(&self.nonce);
        w.bytes(&self.mac);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            record: RecordId(r.array()?),
            nonce: r.array()?,
            mac: r.array()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// The OPRF server's master seed (secret). Every record's key pair is derived from it.
pub struct OprfServerKey {
    seed: SecretBytes<OPRF_SEED_LEN>,
}

impl fmt::Debug for OprfServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OprfServerKey(<redacted>)")
    }
}

impl OprfServerKey {
    /// The master seed (for the identity key, [`crate::oprf_identity`]).
    pub(crate) fn seed(&self) -> &SecretBytes<OPRF_SEED_LEN> {
        &self.seed
    }

    /// A fresh random master seed.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self {
            seed: SecretBytes::random(rng),
        }
    }

    /// A server key from a given seed (tests, known answers, a seed kept in an HSM).
    pub fn from_seed(seed: SecretBytes<OPRF_SEED_LEN>) -> Self {
        Self { seed }
    }

    /// The public key of a record (what the client pins in the slot).
    pub fn public_key(&self, record: &RecordId) -> Result<OprfPublicKey, KekError> {
        oprf::derive_public_key(&self.seed, &record_key_info(record))
    }

    /// Creates the record of a new hardened slot: the client's reset key (from
    /// [`crate::Unlocked::oprf_reset_key`]) and the guess limit (`1..=1000`). Returns the
    /// record to store and the public key to send back.
    pub fn register(
        &self,
        record: RecordId,
        reset_key: ResetKey,
        max_attempts: u32,
    ) -> Result<(OprfRecord, OprfPublicKey), KekError> {
        if !(1..=MAX_MAX_ATTEMPTS).contains(&max_attempts) {
            return Err(KekError::InvalidInput);
        }
        let pk = self.public_key(&record)?;
        Ok((
            OprfRecord {
                record,
                max_attempts,
                failures: 0,
                reset_key,
                pending: None,
            },
            pk,
        ))
    }

    /// Answers an [`OprfRequest`] for `record`: refuses a request for another record
    /// ([`KekError::OprfWrongRecord`]), a locked record ([`KekError::OprfLockedOut`]) and a
    /// malformed blinded element ([`KekError::Decode`]) **without changing the record**;
    /// otherwise counts one failure, draws a fresh reset nonce, and evaluates.
    ///
    /// Persist the updated record durably before sending the response, and serialise
    /// evaluations of one record (module docs) — or use [`crate::oprf_server::OprfServer`],
    /// which does both.
    pub fn evaluate<R: CryptoRng + ?Sized>(
        &self,
        record: &mut OprfRecord,
        request: &OprfRequest,
        rng: &mut R,
    ) -> Result<OprfResponse, KekError> {
        if request.record != record.record {
            return Err(KekError::OprfWrongRecord);
        }
        if record.is_locked() {
            return Err(KekError::OprfLockedOut);
        }
        let (evaluated, proof) = oprf::blind_evaluate(
            &self.seed,
            &record_key_info(&record.record),
            &request.blinded,
            rng,
        )?;
        let mut nonce = [0u8; RESET_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        record.failures = record.failures.saturating_add(1);
        record.pending = Some(nonce);
        Ok(OprfResponse {
            record: record.record,
            evaluated,
            proof,
            nonce,
            attempts_left: record.attempts_left(),
        })
    }
}

impl WireObject for OprfServerKey {
    const KIND: ObjectKind = OPRF_SERVER_KEY_KIND;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + OPRF_SEED_LEN;
    const CURVE: Option<wallet_types::CurveId> = None;
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.seed.expose());
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut b = r.array::<OPRF_SEED_LEN>()?;
        let seed = SecretBytes::new(b);
        zeroize::Zeroize::zeroize(&mut b);
        Ok(Self { seed })
    }
}

/// The server's state of one hardened slot: guess limit, failures since the last reset, the
/// reset key (secret) and the pending reset nonce. Store it encrypted.
pub struct OprfRecord {
    record: RecordId,
    max_attempts: u32,
    failures: u32,
    reset_key: ResetKey,
    pending: Option<[u8; RESET_NONCE_LEN]>,
}

impl fmt::Debug for OprfRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OprfRecord")
            .field("record", &self.record)
            .field("max_attempts", &self.max_attempts)
            .field("failures", &self.failures)
            .field("reset_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl OprfRecord {
    /// The record id.
    pub fn record(&self) -> &RecordId {
        &self.record
    }
    /// Evaluations answered since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }
    /// The guess limit.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// Evaluations still allowed before the record locks.
    pub fn attempts_left(&self) -> u32 {
        self.max_attempts.saturating_sub(self.failures)
    }
    /// Whether the record refuses evaluations until a reset.
    pub fn is_locked(&self) -> bool {
        self.failures >= self.max_attempts
    }

    /// A fresh reset nonce without an evaluation (allowed while locked: resetting needs the
    /// envelope opened, e.g. through a passkey slot). Replaces any pending nonce.
    pub fn challenge<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> ResetChallenge {
        let mut nonce = [0u8; RESET_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        self.pending = Some(nonce);
        ResetChallenge {
            record: self.record,
            nonce,
        }
    }

    /// Resets the failure counter if `proof` answers the pending nonce under the reset key.
    /// A proof for another record is [`KekError::OprfWrongRecord`] (nothing changes); any
    /// other failure is [`KekError::OprfBadReset`] and consumes the pending nonce (one try per
    /// nonce) but leaves the counter as it is.
    pub fn reset(&mut self, proof: &ResetProof) -> Result<(), KekError> {
        if proof.record != self.record {
            return Err(KekError::OprfWrongRecord);
        }
        let pending = self.pending.take().ok_or(KekError::OprfBadReset)?;
        let nonce_ok = pending.ct_eq(&proof.nonce);
        let mac = reset_mac(&self.reset_key, &self.record, &pending)?;
        let mac_ok = mac.verify_slice(&proof.mac).is_ok();
        if bool::from(nonce_ok) && mac_ok {
            self.failures = 0;
            Ok(())
        } else {
            Err(KekError::OprfBadReset)
        }
    }
}

impl WireObject for OprfRecord {
    const KIND: ObjectKind = OPRF_RECORD_KIND;
    const MAX_LEN: usize =
        wallet_types::HEADER_LEN + RECORD_ID_LEN + 4 + 4 + 32 + 1 + RESET_NONCE_LEN;
    const CURVE: Option<wallet_types::CurveId> = None;
    const SECRET: bool = true;
    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.record.as_bytes());
        w.u32(self.max_attempts);
        w.u32(self.failures);
        w.bytes(self.reset_key.expose());
        match &self.pending {
            None => w.u8(0),
            Some(n) => {
                w.u8(1);
                w.bytes(n);
            }
        }
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let record = RecordId(r.array()?);
        let max_attempts = r.u32()?;
        let failures = r.u32()?;
        if !(1..=MAX_MAX_ATTEMPTS).contains(&max_attempts) || failures > max_attempts {
            return Err(DecodeError::InvalidValue);
        }
        let mut k = r.array::<32>()?;
        let reset_key = ResetKey::new(k);
        zeroize::Zeroize::zeroize(&mut k);
        let pending = match r.u8()? {
            0 => None,
            1 => Some(r.array()?),
            other => return Err(DecodeError::InvalidTag(other)),
        };
        Ok(Self {
            record,
            max_attempts,
            failures,
            reset_key,
            pending,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// The client between its [`OprfRequest`] and the server's [`OprfResponse`]: the blind, the
/// normalised secret, and what the response must match (record, pinned key). Consumed by
/// [`OprfPending::finish`]; its `Debug` prints no secret.
pub struct OprfPending {
    kind: HardenedKind,
    wallet_id: WalletId,
    record: RecordId,
    server_key: OprfPublicKey,
    normalized: SecretVec,
    input: SecretVec,
    state: BlindState,
}

impl fmt::Debug for OprfPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OprfPending")
            .field("kind", &self.kind)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl OprfPending {
    /// Starts an evaluation for a new slot (enrolment): the record id the client chose, the
    /// public key the server returned from [`OprfServerKey::register`] (pinned from now on).
    pub fn enrol<R: CryptoRng + ?Sized>(
        wallet_id: &WalletId,
        kind: HardenedKind,
        record: RecordId,
        server_key: OprfPublicKey,
        secret: &str,
        rng: &mut R,
    ) -> Result<(Self, OprfRequest), KekError> {
        let normalized = password::normalize(kind.text(), secret)?;
        let input = oprf_input(kind, wallet_id, &record, &normalized);
        let (state, blinded) = oprf::blind(input.expose(), rng)?;
        Ok((
            Self {
                kind,
                wallet_id: *wallet_id,
                record,
                server_key,
                normalized,
                input,
                state,
            },
            OprfRequest { record, blinded },
        ))
    }

    /// Starts an evaluation to open the hardened slot `slot` of `envelope` with `secret`
    /// (a password or an answer, as typed). The record and the pinned key come from the slot.
    pub fn unlock<R: CryptoRng + ?Sized>(
        envelope: &Envelope,
        slot: SlotId,
        secret: &str,
        rng: &mut R,
    ) -> Result<(Self, OprfRequest), KekError> {
        let s = envelope
            .slot(slot)
            .ok_or(KekError::UnknownSlot(slot.get()))?;
        let (kind, record, server_key) = match s.params() {
            SlotParams::HardenedPassword {
                record, server_key, ..
            } => (HardenedKind::Password, *record, *server_key),
            SlotParams::HardenedRecoveryAnswer {
                record, server_key, ..
            } => (HardenedKind::RecoveryAnswer, *record, *server_key),
            _ => return Err(KekError::WrongSlotKind),
        };
        Self::enrol(envelope.wallet_id(), kind, record, server_key, secret, rng)
    }

    /// Checks the server's response (same record, proof valid under the pinned key) and
    /// finishes the OPRF. A response to another request (a replay) fails the proof check.
    pub fn finish(self, response: &OprfResponse) -> Result<HardenedFactor, KekError> {
        if response.record != self.record {
            return Err(KekError::OprfWrongRecord);
        }
        let output = oprf::finalize(
            self.state,
            self.input.expose(),
            &response.evaluated,
            &response.proof,
            &self.server_key,
            self.record.0,
        )?;
        Ok(HardenedFactor {
            kind: self.kind,
            wallet_id: self.wallet_id,
            record: self.record,
            server_key: self.server_key,
            normalized: self.normalized,
            output,
        })
    }
}

/// A finished OPRF evaluation for one record: the secret material a hardened slot's KEK is
/// derived from (with Argon2id, when the slot is created or opened). Only made by
/// [`OprfPending::finish`], i.e. after the server's proof verified under the pinned key.
pub struct HardenedFactor {
    kind: HardenedKind,
    wallet_id: WalletId,
    record: RecordId,
    server_key: OprfPublicKey,
    normalized: SecretVec,
    output: OprfOutput,
}

impl fmt::Debug for HardenedFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HardenedFactor")
            .field("kind", &self.kind)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl HardenedFactor {
    /// Password or recovery answer.
    pub fn kind(&self) -> HardenedKind {
        self.kind
    }
    /// The record evaluated under.
    pub fn record(&self) -> &RecordId {
        &self.record
    }
    /// The pinned server key the proof verified under.
    pub fn server_key(&self) -> &OprfPublicKey {
        &self.server_key
    }
    /// The wallet id bound into the OPRF input.
    pub fn wallet_id(&self) -> &WalletId {
        &self.wallet_id
    }
}
