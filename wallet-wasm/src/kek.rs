//! Passkey envelopes (wallet-kek) with the WebAuthn PRF output passed in.
//!
//! The page asks WebAuthn for the PRF at the slot's salt (`extensions.prf.eval.first` = the salt
//! of [`new_prf_salt`] or of [`prf_requests`]) and hands the 32-byte output to these functions;
//! the wallet key never leaves Rust: an envelope is public ciphertext, and only public keys and
//! signatures come out.
//!
//! ## Hardened recovery answer (OPRF)
//!
//! A recovery answer can open the envelope through a hardened slot (wallet-kek `SPEC.md` §3.3,
//! §10): its KEK needs Argon2id of the normalised answer *and* one VOPRF evaluation by the
//! provider's guess-limited server, so neither whoever stores the envelope nor the server can
//! test guesses offline, and online guesses stop after the record's limit (10) until a reset.
//! The client's state between its request and the server's response (the blind and the
//! normalised answer) and the envelope opened for enrolment stay in wasm memory, in opaque
//! handles ([`HardenedEnrolment`], [`HardenedUnlock`]) consumed by their last call; what
//! JavaScript carries are wire objects of wallet-kek (`OprfRequest`, `OprfResponse`,
//! `ResetProof`, `ResetChallenge`), the record's public key, and, once, the registration for
//! the server (`record_id || reset_key`: the reset key is for the server only, sent over TLS
//! and then zeroized). The server side is wallet-kek's `oprf_server::OprfServer` (the test peer,
//! `examples/browser_peer.rs`, serves it over HTTP).
//!
//! ```js
//! // Enrolment: the envelope opened with a passkey (its PRF output at the slot's salt).
//! const enrolment = HardenedEnrolment.begin(envelope, credentialId, prf);
//! prf.fill(0);
//! const registration = enrolment.registration();           // record id || reset key
//! const certificate = await post("/oprf/register", registration); // record key, certified
//! registration.fill(0);
//! // SERVER_IDENTITY: the provider's OPRF identity (32 bytes), shipped with the application.
//! const request = enrolment.requestCertified(certificate, SERVER_IDENTITY, answer);
//! const enrolResponse = await post("/oprf/evaluate", request);
//! const { envelope: withAnswer, slot, resetProof } = enrolment.finish(question, enrolResponse);
//! await post("/oprf/reset", resetProof);                   // the enrolment attempt given back
//! store(withAnswer);
//!
//! // Recovery: one counted attempt per call; the key signs inside wasm.
//! const [{ slot: s, question: q }] = kekHardenedSlots(withAnswer); // show q to the user
//! const attempt = HardenedUnlock.start(withAnswer, s, typedAnswer); // case / spacing normalised
//! const response = await post("/oprf/evaluate", attempt.request());
//! kekOprfResponseInfo(response).attemptsLeft;               // what the server says is left
//! try {
//!   const { signature, publicKey, resetProof } = attempt.sign(response, messageHash);
//!   await post("/oprf/reset", resetProof);                 // the counter back to zero
//! } catch (e) {
//!   if (e.kind === "unwrap") { /* wrong answer: the attempt stays counted */ }
//!   else if (e.kind === "oprf") { /* another server or record answered, or locked out */ }
//! }
//! // A locked record: `/oprf/challenge` with the record id, then
//! // kekOprfResetWithPasskey(envelope, credentialId, prf, challenge) -> `/oprf/reset`.
//! ```
//!
//! The same natively, with the server in process:
//!
//! ```
//! use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfServer};
//! use wallet_kek::{OprfRequest, OprfServerKey, RecordId, ResetKey, ResetProof};
//! use wallet_types::WireObject;
//! use wallet_wasm::kek::{self, HardenedEnrolment, HardenedUnlock};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = wallet_wasm::platform_rng()?;
//! let server = OprfServer::new(OprfServerKey::generate(&mut rng), MemoryOprfRecordStore::new());
//! let evaluate = |request: &[u8], rng: &mut _| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//!     Ok(server.evaluate(&OprfRequest::from_bytes(request)?, rng)?.to_bytes())
//! };
//! let (prf, salt) = ([7u8; 32], kek::new_prf_salt(&mut rng));
//! let (envelope, public_key) =
//!     kek::generate(kek::KeyCurve::Secp256k1, "wallet.example", b"cred", &salt, &prf, &mut rng)?;
//!
//! let mut enrolment = HardenedEnrolment::begin(&envelope, b"cred", &prf, &mut rng)?;
//! let registration = enrolment.registration()?; // the server's `register`:
//! let (record, reset_key) = registration.split_at(32);
//! let server_key = server.register(
//!     RecordId(record.try_into()?),
//!     ResetKey::from_slice(reset_key).ok_or("reset key")?,
//!     10,
//! )?;
//! let request = enrolment.request(server_key.as_bytes(), "Mr. Whiskers", &mut rng)?;
//! let done = enrolment.finish("First pet?", &evaluate(&request, &mut rng)?, &mut rng)?;
//! server.reset(&ResetProof::from_bytes(&done.reset_proof)?)?;
//!
//! let attempt = HardenedUnlock::start(&done.envelope, done.slot, " mr. WHISKERS", &mut rng)?;
//! let response = evaluate(attempt.request(), &mut rng)?;
//! assert_eq!(kek::oprf_response_info(&response)?.1, 9);
//! let signed = attempt.sign(&response, &[1u8; 32])?;
//! assert_eq!((signed.public_key, signed.signature.len()), (public_key, 65));
//! server.reset(&ResetProof::from_bytes(&signed.reset_proof)?)?;
//! # Ok(())
//! # }
//! ```

use rand_core::CryptoRng;
use wallet_kek::{
    Argon2Params, Credential, Envelope, HardenedKind, KekError, NewSlot, OprfIdentity, OprfPending,
    OprfPublicKey, OprfResponse, PayloadKind, PrfOutput, PrfSalt, RecordId, RecordKeyCertificate,
    ResetChallenge, SlotId, SlotParams, Unlocked, WalletId,
};
use wallet_types::WireObject;
use zeroize::Zeroizing;

use crate::error::{Result, WasmError, array};

/// Which key an envelope holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCurve {
    /// secp256k1 (Ethereum, Bitcoin): 33-byte compressed public key, 65-byte signatures.
    Secp256k1,
    /// Ed25519 (Solana and others): 32-byte public key, 64-byte signatures.
    Ed25519,
}

impl KeyCurve {
    /// `"secp256k1"` or `"ed25519"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "secp256k1" => Ok(Self::Secp256k1),
            "ed25519" => Ok(Self::Ed25519),
            other => Err(WasmError::new("input", format!("unknown curve {other:?}"))),
        }
    }
}

fn prf_output(bytes: &[u8]) -> Result<PrfOutput> {
    PrfOutput::from_slice(bytes).ok_or_else(|| {
        WasmError::new(
            "input",
            format!("PRF output: {} bytes, 32 expected", bytes.len()),
        )
    })
}

fn decode(envelope: &[u8]) -> Result<Envelope> {
    Ok(Envelope::from_bytes(envelope).map_err(wallet_kek::KekError::from)?)
}

/// A fresh PRF salt (public) for a new passkey slot: evaluate the PRF at it, then call
/// [`generate`] or [`add_passkey`] with the same salt.
pub fn new_prf_salt<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; 32] {
    PrfSalt::random(rng).0
}

/// A new wallet key straight into a new envelope with one passkey slot. Returns the envelope
/// and the public key.
pub fn generate<R: CryptoRng + ?Sized>(
    curve: KeyCurve,
    rp_id: &str,
    credential_id: &[u8],
    salt: &[u8],
    prf: &[u8],
    rng: &mut R,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let output = prf_output(prf)?;
    let slot = NewSlot::Prf {
        credential_id,
        rp_id,
        salt: PrfSalt(array("PRF salt", salt)?),
        output: &output,
    };
    let wallet_id = WalletId::random(rng);
    let (env, public) = match curve {
        KeyCurve::Secp256k1 => {
            let (e, p) = Envelope::generate_secp256k1(wallet_id, &slot, rng)?;
            (e, p.to_vec())
        }
        KeyCurve::Ed25519 => {
            let (e, p) = Envelope::generate_ed25519(wallet_id, &slot, rng)?;
            (e, p.to_vec())
        }
    };
    Ok((env.to_bytes(), public))
}

/// `(credential id, PRF salt)` of every passkey slot: what the page puts into
/// `allowCredentials` and `extensions.prf.evalByCredential`.
pub fn prf_requests(envelope: &[u8]) -> Result<Vec<(Vec<u8>, [u8; 32])>> {
    Ok(decode(envelope)?
        .prf_requests()
        .map(|(id, salt)| (id.to_vec(), salt.0))
        .collect())
}

/// Opens the envelope with a passkey and returns the public key (a check that this passkey
/// opens it; the key stays inside).
pub fn open(envelope: &[u8], credential_id: &[u8], prf: &[u8]) -> Result<Vec<u8>> {
    let output = prf_output(prf)?;
    let unlocked = decode(envelope)?.open(&Credential::Prf {
        credential_id,
        output: &output,
    })?;
    unlocked
        .payload()
        .public_key()
        .ok_or_else(|| WasmError::new("kek", "the envelope holds no signing key"))
}

/// Adds a passkey slot: the envelope is opened with an existing passkey (`credential_id`,
/// `prf`), the new one is given by its credential id, salt and PRF output. Returns the new
/// envelope and the new slot's id.
#[allow(clippy::too_many_arguments)]
pub fn add_passkey<R: CryptoRng + ?Sized>(
    envelope: &[u8],
    credential_id: &[u8],
    prf: &[u8],
    rp_id: &str,
    new_credential_id: &[u8],
    new_salt: &[u8],
    new_prf: &[u8],
    rng: &mut R,
) -> Result<(Vec<u8>, u16)> {
    let mut env = decode(envelope)?;
    let output = prf_output(prf)?;
    let new_output = prf_output(new_prf)?;
    let unlocked = env.open(&Credential::Prf {
        credential_id,
        output: &output,
    })?;
    let id = env.add_slot(
        &unlocked,
        &NewSlot::Prf {
            credential_id: new_credential_id,
            rp_id,
            salt: PrfSalt(array("PRF salt", new_salt)?),
            output: &new_output,
        },
        rng,
    )?;
    Ok((env.to_bytes(), id.get()))
}

/// The slot id of a passkey's slot, if it has one.
pub fn slot_of(envelope: &[u8], credential_id: &[u8]) -> Result<Option<u16>> {
    Ok(decode(envelope)?
        .prf_slot(credential_id)
        .map(|s| s.id().get()))
}

/// Removes slot `slot` (opened with the passkey `credential_id`); refuses the last slot.
pub fn remove_slot<R: CryptoRng + ?Sized>(
    envelope: &[u8],
    credential_id: &[u8],
    prf: &[u8],
    slot: u16,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let mut env = decode(envelope)?;
    let output = prf_output(prf)?;
    let unlocked = env.open(&Credential::Prf {
        credential_id,
        output: &output,
    })?;
    let id = SlotId::new(slot).ok_or_else(|| WasmError::new("input", "slot id zero"))?;
    env.remove_slot(&unlocked, id, rng)?;
    Ok(env.to_bytes())
}

/// Opens, signs and zeroizes. secp256k1: `prehash` is the 32-byte message hash and the result
/// is `r || s || recovery_id` (65 bytes, low S); Ed25519: `message` is signed as is (RFC 8032),
/// 64 bytes.
pub fn sign(envelope: &[u8], credential_id: &[u8], prf: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    let env = decode(envelope)?;
    let output = prf_output(prf)?;
    let cred = Credential::Prf {
        credential_id,
        output: &output,
    };
    match env.payload_kind() {
        wallet_kek::PayloadKind::Secp256k1 => {
            let s = env.sign_secp256k1(&cred, &array("message hash", message)?)?;
            let mut out = s.signature.to_vec();
            out.push(s.recovery_id);
            Ok(out)
        }
        _ => Ok(env.sign_ed25519(&cred, message)?.to_bytes().to_vec()),
    }
}

fn decode_response(response: &[u8]) -> Result<OprfResponse> {
    Ok(OprfResponse::from_bytes(response).map_err(KekError::from)?)
}

/// Signs with an opened envelope as [`sign`] does.
fn sign_unlocked(unlocked: &Unlocked, message: &[u8]) -> Result<Vec<u8>> {
    let payload = unlocked.payload();
    match payload.kind() {
        PayloadKind::Secp256k1 => {
            let s = payload.sign_secp256k1(&array("message hash", message)?)?;
            let mut out = s.signature.to_vec();
            out.push(s.recovery_id);
            Ok(out)
        }
        PayloadKind::Ed25519Seed => Ok(payload.sign_ed25519(message)?.to_bytes().to_vec()),
        _ => Err(KekError::WrongPayloadKind.into()),
    }
}

// ---- hardened recovery answer (OPRF, wallet-kek SPEC.md §3.3 and §10) ------------------------

/// Length of a [`HardenedEnrolment::registration`]: `record_id[32] || reset_key[32]`.
pub const REGISTRATION_LEN: usize = 64;

/// A hardened slot of an envelope, as the page lists it (all public).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardenedSlot {
    /// The slot id (what [`HardenedUnlock::start`] takes).
    pub slot: u16,
    /// `"recovery-answer"` or `"password"`.
    pub kind: &'static str,
    /// The question shown to the user (recovery answers), stored in clear in the envelope.
    pub question: Option<String>,
    /// The slot's record id at the OPRF server.
    pub record: [u8; 32],
}

/// Every hardened slot of the envelope (in slot order).
pub fn hardened_slots(envelope: &[u8]) -> Result<Vec<HardenedSlot>> {
    Ok(decode(envelope)?
        .slots()
        .iter()
        .filter_map(|s| match s.params() {
            SlotParams::HardenedRecoveryAnswer {
                record, question, ..
            } => Some(HardenedSlot {
                slot: s.id().get(),
                kind: "recovery-answer",
                question: Some(question.clone()),
                record: record.0,
            }),
            SlotParams::HardenedPassword { record, .. } => Some(HardenedSlot {
                slot: s.id().get(),
                kind: "password",
                question: None,
                record: record.0,
            }),
            _ => None,
        })
        .collect())
}

/// `(record id, attempts left)` of an OPRF response: what the server claims is left of the
/// record's guess budget after this evaluation (informational; the server enforces it).
pub fn oprf_response_info(response: &[u8]) -> Result<([u8; 32], u32)> {
    let r = decode_response(response)?;
    Ok((r.record().0, r.attempts_left()))
}

/// Adding a hardened recovery-answer slot to a passkey envelope, between its three messages.
///
/// Holds the envelope opened with the passkey (its DEK and key stay in this value, never in
/// JavaScript), the fresh record id, and, after [`HardenedEnrolment::request`], the client's
/// OPRF state (blind and normalised answer). Consumed by [`HardenedEnrolment::finish`]; its
/// `Debug` prints the record id only.
///
/// The enrolment does, in order (`SPEC.md` §5, "Add a hardened slot"):
/// 1. [`begin`](Self::begin): open with the passkey, draw a record id; the
///    [`registration`](Self::registration) goes to the server's `register`, which answers with
///    the record's OPRF public key (32 bytes, pinned in the slot from now on);
/// 2. [`request`](Self::request) with that key and the answer: the `OprfRequest` for the
///    server's `evaluate`;
/// 3. [`finish`](Self::finish) with the `OprfResponse`: the new envelope, the slot id and the
///    `ResetProof` for the server's `reset` (which brings the enrolment evaluation's count back
///    to zero).
///
/// If anything fails after registration, start again with [`begin`](Self::begin): a new
/// record id (a record cannot be registered twice; the server may expire unused records).
pub struct HardenedEnrolment {
    envelope: Envelope,
    unlocked: Unlocked,
    record: RecordId,
    pending: Option<OprfPending>,
}

impl core::fmt::Debug for HardenedEnrolment {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HardenedEnrolment")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl HardenedEnrolment {
    /// Opens `envelope` with the passkey (`credential_id`, `prf`) and draws the new slot's
    /// record id. A wrong passkey is the opaque `"unwrap"` error.
    pub fn begin<R: CryptoRng + ?Sized>(
        envelope: &[u8],
        credential_id: &[u8],
        prf: &[u8],
        rng: &mut R,
    ) -> Result<Self> {
        let envelope = decode(envelope)?;
        let output = prf_output(prf)?;
        let unlocked = envelope.open(&Credential::Prf {
            credential_id,
            output: &output,
        })?;
        Ok(Self {
            envelope,
            unlocked,
            record: RecordId::random(rng),
            pending: None,
        })
    }

    /// The new slot's record id (public).
    pub fn record(&self) -> [u8; 32] {
        self.record.0
    }

    /// The registration for the OPRF server, `record_id[32] || reset_key[32]`
    /// ([`REGISTRATION_LEN`] bytes). The reset key is derived from the envelope's DEK and is
    /// **for the server only** (it lets its holder reset the record's guess counter): send it
    /// over the authenticated, encrypted channel to the server and zeroize it; never store it on
    /// the client.
    pub fn registration(&self) -> Result<Zeroizing<Vec<u8>>> {
        let key = self.unlocked.oprf_reset_key(&self.record)?;
        let mut out = Zeroizing::new(Vec::with_capacity(REGISTRATION_LEN));
        out.extend_from_slice(&self.record.0);
        out.extend_from_slice(key.expose());
        Ok(out)
    }

    /// The enrolment evaluation of `answer` (as typed; normalised inside) under the record's
    /// public key `server_key` as the server's `register` returned it (32 bytes, a canonical
    /// ristretto255 element). Returns the `OprfRequest` bytes for the server's `evaluate`.
    /// Calling it again replaces the pending evaluation (a retry after a lost response): only
    /// the latest request's response finishes.
    pub fn request<R: CryptoRng + ?Sized>(
        &mut self,
        server_key: &[u8],
        answer: &str,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let key = OprfPublicKey::from_bytes(&array("OPRF public key", server_key)?)
            .map_err(|_| WasmError::new("input", "OPRF public key: not a ristretto255 element"))?;
        let (pending, request) = OprfPending::enrol(
            self.envelope.wallet_id(),
            HardenedKind::RecoveryAnswer,
            self.record,
            key,
            answer,
            rng,
        )?;
        self.pending = Some(pending);
        Ok(request.to_bytes())
    }

    /// [`request`](Self::request) with the record key taken from the server's
    /// `RecordKeyCertificate` (wallet-kek `SPEC.md` §10.4) — only if it certifies this
    /// enrolment's record under `identity`, the server identity the application ships with (32
    /// bytes, Ed25519). The recommended form: an impostor answering the registration cannot
    /// get its own key pinned (an `"oprf"` error).
    pub fn request_certified<R: CryptoRng + ?Sized>(
        &mut self,
        certificate: &[u8],
        identity: &[u8],
        answer: &str,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let certificate = RecordKeyCertificate::from_bytes(certificate).map_err(KekError::from)?;
        let identity = OprfIdentity(array("server identity", identity)?);
        let key = certificate.verify(&identity, &self.record)?;
        self.request(key.as_bytes(), answer, rng)
    }

    /// Checks the server's `OprfResponse` (same record, proof valid under the pinned key),
    /// adds the hardened recovery-answer slot with `question` (Argon2id at
    /// [`Argon2Params::DEFAULT`]) and returns the new envelope, the slot id and the
    /// `ResetProof` bytes for the server's `reset`. Consumes the enrolment whatever the outcome.
    pub fn finish<R: CryptoRng + ?Sized>(
        self,
        question: &str,
        response: &[u8],
        rng: &mut R,
    ) -> Result<HardenedEnrolled> {
        let Self {
            mut envelope,
            unlocked,
            record,
            pending,
        } = self;
        let pending = pending
            .ok_or_else(|| WasmError::new("state", "no OPRF request made for this enrolment"))?;
        let response = decode_response(response)?;
        let factor = pending.finish(&response)?;
        let slot = envelope.add_slot(
            &unlocked,
            &NewSlot::HardenedRecoveryAnswer {
                question,
                factor: &factor,
                params: Argon2Params::DEFAULT,
            },
            rng,
        )?;
        let proof = unlocked.oprf_reset_proof(&record, response.nonce())?;
        Ok(HardenedEnrolled {
            envelope: envelope.to_bytes(),
            slot: slot.get(),
            reset_proof: proof.to_bytes(),
        })
    }
}

/// What a finished enrolment gives: all public (ciphertext, an id, a protocol message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardenedEnrolled {
    /// The envelope with the new slot (store it in place of the old one).
    pub envelope: Vec<u8>,
    /// The new slot's id.
    pub slot: u16,
    /// The `ResetProof` for the server's `reset` (answers the enrolment response's nonce).
    pub reset_proof: Vec<u8>,
}

/// Opening an envelope through a hardened slot, between the `OprfRequest` and the server's
/// `OprfResponse`: the envelope, the slot and the client's OPRF state (blind and normalised
/// answer, secret). Consumed by [`HardenedUnlock::sign`]; its `Debug` prints the slot only.
///
/// Every attempt costs one of the record's guesses at the server (counted before it answers);
/// a successful [`HardenedUnlock::sign`] returns the `ResetProof` that gives them back.
pub struct HardenedUnlock {
    envelope: Envelope,
    slot: SlotId,
    pending: OprfPending,
    request: Vec<u8>,
}

impl core::fmt::Debug for HardenedUnlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HardenedUnlock")
            .field("slot", &self.slot.get())
            .finish_non_exhaustive()
    }
}

impl HardenedUnlock {
    /// Starts opening hardened slot `slot` of `envelope` with `answer` (as typed: case, spacing
    /// and punctuation are normalised as `SPEC.md` §3.2 says). The `OprfRequest` for the
    /// server's `evaluate` is [`HardenedUnlock::request`].
    pub fn start<R: CryptoRng + ?Sized>(
        envelope: &[u8],
        slot: u16,
        answer: &str,
        rng: &mut R,
    ) -> Result<Self> {
        let envelope = decode(envelope)?;
        let slot = SlotId::new(slot).ok_or_else(|| WasmError::new("input", "slot id zero"))?;
        let (pending, request) = OprfPending::unlock(&envelope, slot, answer, rng)?;
        Ok(Self {
            envelope,
            slot,
            pending,
            request: request.to_bytes(),
        })
    }

    /// The `OprfRequest` bytes (public: a blinded element and the record id).
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// The record id the request names (where to send it).
    pub fn record(&self) -> Result<[u8; 32]> {
        let s = self
            .envelope
            .slot(self.slot)
            .and_then(|s| s.params().oprf_record())
            .ok_or(KekError::WrongSlotKind)?;
        Ok(s.0)
    }

    /// Finishes the OPRF with the server's `OprfResponse`, opens the envelope, signs
    /// `message` as [`sign`] does (secp256k1: a 32-byte hash, `r || s || v`; Ed25519: the
    /// message) and zeroizes. A wrong answer is the opaque `"unwrap"` error (the attempt stays
    /// counted at the server); a response that does not verify under the slot's pinned key or
    /// names another record is an `"oprf"` error, a malformed one `"input"`. Consumed whatever
    /// the outcome: the next attempt starts again.
    pub fn sign(self, response: &[u8], message: &[u8]) -> Result<HardenedSignature> {
        let response = decode_response(response)?;
        let factor = self.pending.finish(&response)?;
        let unlocked = self.envelope.open(&Credential::Hardened {
            slot: self.slot,
            factor: &factor,
        })?;
        let signature = sign_unlocked(&unlocked, message)?;
        let public_key = unlocked
            .payload()
            .public_key()
            .ok_or_else(|| WasmError::new("kek", "the envelope holds no signing key"))?;
        let proof = unlocked.oprf_reset_proof(response.record(), response.nonce())?;
        Ok(HardenedSignature {
            signature,
            public_key,
            reset_proof: proof.to_bytes(),
        })
    }
}

/// A signature made through a hardened slot, and the proof that resets the record's counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardenedSignature {
    /// As [`sign`] returns it.
    pub signature: Vec<u8>,
    /// The envelope's public key.
    pub public_key: Vec<u8>,
    /// The `ResetProof` for the server's `reset` (answers this response's nonce).
    pub reset_proof: Vec<u8>,
}

/// The `ResetProof` answering a server's `ResetChallenge`, with the envelope opened by a
/// passkey: how a record locked by wrong answers is unlocked again by the user's passkey. The
/// challenge must name a hardened slot of this envelope (else an `"oprf"` error).
pub fn oprf_reset_with_passkey(
    envelope: &[u8],
    credential_id: &[u8],
    prf: &[u8],
    challenge: &[u8],
) -> Result<Vec<u8>> {
    let env = decode(envelope)?;
    let challenge = ResetChallenge::from_bytes(challenge).map_err(KekError::from)?;
    if !env
        .slots()
        .iter()
        .any(|s| s.params().oprf_record() == Some(challenge.record()))
    {
        return Err(KekError::OprfWrongRecord.into());
    }
    let output = prf_output(prf)?;
    let unlocked = env.open(&Credential::Prf {
        credential_id,
        output: &output,
    })?;
    Ok(unlocked
        .oprf_reset_proof(challenge.record(), challenge.nonce())?
        .to_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    use rand_core::SeedableRng;

    #[test]
    fn two_passkeys_sign_remove_and_refuse() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let (cred_a, prf_a) = (b"cred-a".as_slice(), [1u8; 32]);
        let (cred_b, prf_b) = (b"cred-b".as_slice(), [2u8; 32]);
        let salt_a = new_prf_salt(&mut rng);
        let (env, public) = generate(
            KeyCurve::Secp256k1,
            "wallet.example",
            cred_a,
            &salt_a,
            &prf_a,
            &mut rng,
        )
        .unwrap();
        assert_eq!(prf_requests(&env).unwrap(), vec![(cred_a.to_vec(), salt_a)]);
        let salt_b = new_prf_salt(&mut rng);
        let (env, slot_b) = add_passkey(
            &env,
            cred_a,
            &prf_a,
            "wallet.example",
            cred_b,
            &salt_b,
            &prf_b,
            &mut rng,
        )
        .unwrap();
        assert_eq!(slot_of(&env, cred_b).unwrap(), Some(slot_b));
        let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&public).unwrap();
        for (cred, prf) in [(cred_a, &prf_a), (cred_b, &prf_b)] {
            assert_eq!(open(&env, cred, prf).unwrap(), public);
            let sig = sign(&env, cred, prf, &[9; 32]).unwrap();
            let s = k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap();
            vk.verify_prehash(&[9; 32], &s).unwrap();
        }
        // An unknown PRF output (an unregistered passkey) is refused, opaquely.
        assert_eq!(open(&env, cred_a, &[3; 32]).unwrap_err().kind(), "unwrap");
        assert_eq!(
            sign(&env, b"other", &prf_a, &[9; 32]).unwrap_err().kind(),
            "unwrap"
        );
        // A's slot removed (opened with B): A no longer opens, B still does.
        let slot_a = slot_of(&env, cred_a).unwrap().unwrap();
        let env = remove_slot(&env, cred_b, &prf_b, slot_a, &mut rng).unwrap();
        assert_eq!(open(&env, cred_a, &prf_a).unwrap_err().kind(), "unwrap");
        assert_eq!(open(&env, cred_b, &prf_b).unwrap(), public);
        assert_eq!(
            remove_slot(&env, cred_b, &prf_b, slot_b, &mut rng)
                .unwrap_err()
                .kind(),
            "kek"
        );
        // Bad lengths are input errors.
        assert_eq!(open(&env, cred_b, &[0; 31]).unwrap_err().kind(), "input");
        assert_eq!(open(&env[1..], cred_b, &prf_b).unwrap_err().kind(), "input");
    }

    #[test]
    fn ed25519_envelope_signs_the_message() {
        use ed25519_dalek::Verifier;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let salt = new_prf_salt(&mut rng);
        let (env, public) = generate(
            KeyCurve::Ed25519,
            "wallet.example",
            b"c",
            &salt,
            &[5; 32],
            &mut rng,
        )
        .unwrap();
        let sig = sign(&env, b"c", &[5; 32], b"hello").unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&public.try_into().unwrap()).unwrap();
        vk.verify(
            b"hello",
            &ed25519_dalek::Signature::from_slice(&sig).unwrap(),
        )
        .unwrap();
    }

    mod hardened {
        use super::super::*;
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfServer};
        use wallet_kek::{OprfRequest, OprfServerKey, ResetKey, ResetProof};

        type Server = OprfServer<MemoryOprfRecordStore>;

        const CRED: &[u8] = b"passkey-a";
        const PRF: [u8; 32] = [0x11; 32];
        const QUESTION: &str = "First pet's name?";

        fn server(rng: &mut ChaCha20Rng) -> Server {
            OprfServer::new(OprfServerKey::generate(rng), MemoryOprfRecordStore::new())
        }

        /// What the server's `register` endpoint does with a registration.
        fn register(server: &Server, registration: &[u8], max_attempts: u32) -> Vec<u8> {
            assert_eq!(registration.len(), REGISTRATION_LEN);
            let (record, key) = registration.split_at(32);
            let record = RecordId(record.try_into().unwrap());
            let key = ResetKey::from_slice(key).unwrap();
            server
                .register(record, key, max_attempts)
                .unwrap()
                .as_bytes()
                .to_vec()
        }

        fn evaluate(server: &Server, request: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
            server
                .evaluate(&OprfRequest::from_bytes(request).unwrap(), rng)
                .unwrap()
                .to_bytes()
        }

        fn reset(server: &Server, proof: &[u8]) {
            server
                .reset(&ResetProof::from_bytes(proof).unwrap())
                .unwrap();
        }

        /// A passkey envelope with a hardened answer enrolled at `server`: `(envelope,
        /// public key, slot, record)`.
        fn enrolled(
            server: &Server,
            answer: &str,
            max_attempts: u32,
            rng: &mut ChaCha20Rng,
        ) -> (Vec<u8>, Vec<u8>, u16, RecordId) {
            let salt = new_prf_salt(rng);
            let (env, public) =
                generate(KeyCurve::Secp256k1, "localhost", CRED, &salt, &PRF, rng).unwrap();
            let mut enrol = HardenedEnrolment::begin(&env, CRED, &PRF, rng).unwrap();
            let record = RecordId(enrol.record());
            let key = register(server, &enrol.registration().unwrap(), max_attempts);
            let request = enrol.request(&key, answer, rng).unwrap();
            let response = evaluate(server, &request, rng);
            assert_eq!(server.attempts_left(&record).unwrap(), max_attempts - 1);
            let done = enrol.finish(QUESTION, &response, rng).unwrap();
            reset(server, &done.reset_proof);
            assert_eq!(server.attempts_left(&record).unwrap(), max_attempts);
            (done.envelope, public, done.slot, record)
        }

        /// The certified enrolment: the record key is taken only from a certificate that
        /// verifies under the pinned identity; an impostor's certificate, another record's, a
        /// malformed one or a malformed identity is refused before any request exists.
        #[test]
        fn certified_enrolment_refuses_an_impostor() {
            let mut rng = ChaCha20Rng::seed_from_u64(48);
            let server = server(&mut rng);
            let identity = server.key().identity().unwrap().0;
            let salt = new_prf_salt(&mut rng);
            let (env, _) = generate(
                KeyCurve::Secp256k1,
                "localhost",
                CRED,
                &salt,
                &PRF,
                &mut rng,
            )
            .unwrap();
            let mut enrol = HardenedEnrolment::begin(&env, CRED, &PRF, &mut rng).unwrap();
            let record = RecordId(enrol.record());
            let reg = enrol.registration().unwrap();
            let cert = server
                .register_certified(record, ResetKey::from_slice(&reg[32..]).unwrap(), 10)
                .unwrap()
                .to_bytes();
            let impostor = OprfServerKey::generate(&mut rng);
            let forged = impostor.certify(&record).unwrap().to_bytes();
            let other = server.key().certify(&RecordId([7; 32])).unwrap().to_bytes();
            for (c, id, kind) in [
                (&forged, identity, "oprf"),
                (&other, identity, "oprf"),
                (&cert, impostor.identity().unwrap().0, "oprf"),
            ] {
                assert_eq!(
                    enrol
                        .request_certified(c, &id, "Rex", &mut rng)
                        .unwrap_err()
                        .kind(),
                    kind
                );
            }
            assert_eq!(
                enrol
                    .request_certified(&cert[..10], &identity, "Rex", &mut rng)
                    .unwrap_err()
                    .kind(),
                "input"
            );
            assert_eq!(
                enrol
                    .request_certified(&cert, &identity[..31], "Rex", &mut rng)
                    .unwrap_err()
                    .kind(),
                "input"
            );
            let request = enrol
                .request_certified(&cert, &identity, "Rex", &mut rng)
                .unwrap();
            let response = evaluate(&server, &request, &mut rng);
            let done = enrol.finish(QUESTION, &response, &mut rng).unwrap();
            reset(&server, &done.reset_proof);
            assert_eq!(server.attempts_left(&record).unwrap(), 10);
        }

        #[test]
        fn enrol_refuse_a_wrong_answer_sign_with_the_right_one_and_reset() {
            let mut rng = ChaCha20Rng::seed_from_u64(41);
            let server = server(&mut rng);
            let (env, public, slot, record) = enrolled(&server, "Mr. Whiskers", 10, &mut rng);
            assert_eq!(
                hardened_slots(&env).unwrap(),
                vec![HardenedSlot {
                    slot,
                    kind: "recovery-answer",
                    question: Some(QUESTION.into()),
                    record: record.0,
                }]
            );
            // The passkey still opens the envelope.
            assert_eq!(open(&env, CRED, &PRF).unwrap(), public);

            // A wrong answer: the server counts it, the envelope stays shut (opaque error).
            let wrong = HardenedUnlock::start(&env, slot, "Mr. Mittens", &mut rng).unwrap();
            assert_eq!(wrong.record().unwrap(), record.0);
            let response = evaluate(&server, wrong.request(), &mut rng);
            assert_eq!(oprf_response_info(&response).unwrap(), (record.0, 9));
            assert_eq!(
                wrong.sign(&response, &[7; 32]).unwrap_err().kind(),
                "unwrap"
            );
            assert_eq!(server.attempts_left(&record).unwrap(), 9);

            // The right answer typed with other case and spacing signs for the same key.
            let right = HardenedUnlock::start(&env, slot, "  mr.   WHISKERS ", &mut rng).unwrap();
            let response = evaluate(&server, right.request(), &mut rng);
            assert_eq!(server.attempts_left(&record).unwrap(), 8);
            let signed = right.sign(&response, &[7; 32]).unwrap();
            assert_eq!(signed.public_key, public);
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&public).unwrap();
            let sig = k256::ecdsa::Signature::from_slice(&signed.signature[..64]).unwrap();
            vk.verify_prehash(&[7; 32], &sig).unwrap();
            // The reset proof gives the budget back, once.
            reset(&server, &signed.reset_proof);
            assert_eq!(server.attempts_left(&record).unwrap(), 10);
            let again = ResetProof::from_bytes(&signed.reset_proof).unwrap();
            assert!(server.reset(&again).is_err());
        }

        #[test]
        fn malformed_foreign_and_impostor_responses_are_refused() {
            let mut rng = ChaCha20Rng::seed_from_u64(42);
            let server = server(&mut rng);
            let (env, _, slot, _) = enrolled(&server, "Rex", 10, &mut rng);
            let (other_env, _, _, _) = enrolled(&server, "Rex", 10, &mut rng);

            // A malformed response: truncated, trailing bytes, empty.
            let attempt = HardenedUnlock::start(&env, slot, "rex", &mut rng).unwrap();
            let good = evaluate(&server, attempt.request(), &mut rng);
            for bad in [
                &good[..good.len() - 1],
                &[good.as_slice(), &[0]].concat(),
                &[],
            ] {
                let a = HardenedUnlock::start(&env, slot, "rex", &mut rng).unwrap();
                assert_eq!(a.sign(bad, &[1; 32]).unwrap_err().kind(), "input");
            }
            // The response to that attempt still finishes it.
            assert!(attempt.sign(&good, &[1; 32]).is_ok());

            // A response for another record (another envelope's slot).
            let theirs = HardenedUnlock::start(&other_env, slot, "rex", &mut rng).unwrap();
            let foreign = evaluate(&server, theirs.request(), &mut rng);
            let mine = HardenedUnlock::start(&env, slot, "rex", &mut rng).unwrap();
            let e = mine.sign(&foreign, &[1; 32]).unwrap_err();
            assert_eq!(e.kind(), "oprf", "{e}");

            // A replayed response (to another request for the same record) fails the proof.
            let first = HardenedUnlock::start(&env, slot, "rex", &mut rng).unwrap();
            let second = HardenedUnlock::start(&env, slot, "rex", &mut rng).unwrap();
            let for_first = evaluate(&server, first.request(), &mut rng);
            assert_eq!(
                second.sign(&for_first, &[1; 32]).unwrap_err().kind(),
                "oprf"
            );

            // An impostor server (another master key) answering for the same record.
            let impostor = self::server(&mut rng);
            let a = HardenedUnlock::start(&env, slot, "rex", &mut rng).unwrap();
            let req = OprfRequest::from_bytes(a.request()).unwrap();
            impostor
                .register(*req.record(), ResetKey::new([0; 32]), 10)
                .unwrap();
            let fake = evaluate(&impostor, a.request(), &mut rng);
            assert_eq!(a.sign(&fake, &[1; 32]).unwrap_err().kind(), "oprf");

            // Bad inputs to start: slot 0, a passkey slot, an unknown slot, a broken envelope.
            let passkey_slot = slot_of(&env, CRED).unwrap().unwrap();
            for (env, slot, kind) in [
                (env.as_slice(), 0, "input"),
                (env.as_slice(), passkey_slot, "kek"),
                (env.as_slice(), 99, "kek"),
                (&env[..env.len() - 1], slot, "input"),
            ] {
                assert_eq!(
                    HardenedUnlock::start(env, slot, "rex", &mut rng)
                        .unwrap_err()
                        .kind(),
                    kind
                );
            }
        }

        #[test]
        fn enrolment_refuses_bad_keys_responses_and_passkeys() {
            let mut rng = ChaCha20Rng::seed_from_u64(43);
            let server = server(&mut rng);
            let salt = new_prf_salt(&mut rng);
            let (env, _) =
                generate(KeyCurve::Ed25519, "localhost", CRED, &salt, &PRF, &mut rng).unwrap();
            assert_eq!(
                HardenedEnrolment::begin(&env, CRED, &[0x12; 32], &mut rng)
                    .unwrap_err()
                    .kind(),
                "unwrap"
            );
            // No request yet: finish is a state error.
            let e = HardenedEnrolment::begin(&env, CRED, &PRF, &mut rng).unwrap();
            assert_eq!(
                e.finish(QUESTION, &[], &mut rng).unwrap_err().kind(),
                "state"
            );
            // A server key that is not a ristretto255 element, or of the wrong length.
            let mut e = HardenedEnrolment::begin(&env, CRED, &PRF, &mut rng).unwrap();
            assert_eq!(
                e.request(&[0xff; 32], "a", &mut rng).unwrap_err().kind(),
                "input"
            );
            assert_eq!(
                e.request(&[1; 31], "a", &mut rng).unwrap_err().kind(),
                "input"
            );
            // A malformed response consumes the enrolment and changes nothing.
            let key = register(&server, &e.registration().unwrap(), 10);
            e.request(&key, "Rex", &mut rng).unwrap();
            assert_eq!(
                e.finish(QUESTION, &[0; 40], &mut rng).unwrap_err().kind(),
                "input"
            );
            // A pinned key the server does not hold: its response fails the proof.
            let mut e = HardenedEnrolment::begin(&env, CRED, &PRF, &mut rng).unwrap();
            let record = RecordId(e.record());
            let real = register(&server, &e.registration().unwrap(), 10);
            let other = OprfServerKey::generate(&mut rng)
                .public_key(&record)
                .unwrap();
            assert_ne!(real, other.as_bytes());
            let request = e.request(other.as_bytes(), "Rex", &mut rng).unwrap();
            let response = evaluate(&server, &request, &mut rng);
            assert_eq!(
                e.finish(QUESTION, &response, &mut rng).unwrap_err().kind(),
                "oprf"
            );
            // The Ed25519 envelope enrols and signs through the answer.
            let mut e = HardenedEnrolment::begin(&env, CRED, &PRF, &mut rng).unwrap();
            let key = register(&server, &e.registration().unwrap(), 10);
            let request = e.request(&key, "Rex", &mut rng).unwrap();
            let done = e
                .finish(QUESTION, &evaluate(&server, &request, &mut rng), &mut rng)
                .unwrap();
            reset(&server, &done.reset_proof);
            let u = HardenedUnlock::start(&done.envelope, done.slot, "REX", &mut rng).unwrap();
            let response = evaluate(&server, u.request(), &mut rng);
            let signed = u.sign(&response, b"hello").unwrap();
            use ed25519_dalek::Verifier;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(
                &signed.public_key.clone().try_into().unwrap(),
            )
            .unwrap();
            vk.verify(
                b"hello",
                &ed25519_dalek::Signature::from_slice(&signed.signature).unwrap(),
            )
            .unwrap();
        }

        #[test]
        fn a_locked_record_is_reset_with_the_passkey() {
            let mut rng = ChaCha20Rng::seed_from_u64(44);
            let server = server(&mut rng);
            let (env, _, slot, record) = enrolled(&server, "Rex", 2, &mut rng);
            for _ in 0..2 {
                let a = HardenedUnlock::start(&env, slot, "fido", &mut rng).unwrap();
                let r = evaluate(&server, a.request(), &mut rng);
                assert_eq!(a.sign(&r, &[1; 32]).unwrap_err().kind(), "unwrap");
            }
            let a = HardenedUnlock::start(&env, slot, "rex", &mut rng).unwrap();
            let req = OprfRequest::from_bytes(a.request()).unwrap();
            assert_eq!(
                crate::WasmError::from(server.evaluate(&req, &mut rng).unwrap_err()).kind(),
                "oprf"
            );
            // The passkey answers a challenge; the record opens again.
            let challenge = server.challenge(&record, &mut rng).unwrap().to_bytes();
            assert_eq!(
                oprf_reset_with_passkey(&env, CRED, &[9; 32], &challenge)
                    .unwrap_err()
                    .kind(),
                "unwrap"
            );
            let challenge = server.challenge(&record, &mut rng).unwrap().to_bytes();
            reset(
                &server,
                &oprf_reset_with_passkey(&env, CRED, &PRF, &challenge).unwrap(),
            );
            assert_eq!(server.attempts_left(&record).unwrap(), 2);
            let r = evaluate(&server, a.request(), &mut rng);
            assert!(a.sign(&r, &[1; 32]).is_ok());
            // A challenge for a record of another envelope is refused before opening.
            let (_, _, _, theirs) = enrolled(&server, "Rex", 2, &mut rng);
            let foreign = server.challenge(&theirs, &mut rng).unwrap().to_bytes();
            assert_eq!(
                oprf_reset_with_passkey(&env, CRED, &PRF, &foreign)
                    .unwrap_err()
                    .kind(),
                "oprf"
            );
            assert_eq!(
                oprf_reset_with_passkey(&env, CRED, &PRF, &foreign[1..])
                    .unwrap_err()
                    .kind(),
                "input"
            );
        }
    }
}
