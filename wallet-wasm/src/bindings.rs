//! The `#[wasm_bindgen]` surface: one thin wrapper per function of the other modules.
//!
//! Bytes are `Uint8Array`s; several results come back as a plain object (field names in
//! camelCase). Secret inputs (PRF outputs, wrapping secrets) are taken by value and zeroized
//! when the call returns. Errors are thrown as `Error` with `kind` (see [`WasmError::kind`])
//! and, where a failed call still changed the sealed state, `state`.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::error::WasmError;
use crate::seal::WrapSecret;
use crate::{ecdsa, frost, kek, platform_rng, sss};

type JsResult<T> = core::result::Result<T, JsValue>;

fn js_err(e: WasmError) -> JsValue {
    let err = js_sys::Error::new(e.message());
    // Setting a property on a fresh Error object cannot fail; if it did, the message still
    // reaches the caller.
    let _ = Reflect::set(&err, &"kind".into(), &e.kind().into());
    if let Some(state) = e.state() {
        let _ = Reflect::set(&err, &"state".into(), &Uint8Array::from(state).into());
    }
    err.into()
}

fn obj(fields: &[(&str, JsValue)]) -> JsResult<JsValue> {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &(*k).into(), v)?;
    }
    Ok(o.into())
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

fn wrap(secret: Vec<u8>) -> JsResult<WrapSecret> {
    let secret = Zeroizing::new(secret);
    WrapSecret::from_slice(&secret).map_err(js_err)
}

fn rng() -> JsResult<rand_chacha::ChaCha20Rng> {
    platform_rng().map_err(js_err)
}

fn curve(name: &str) -> JsResult<kek::KeyCurve> {
    kek::KeyCurve::parse(name).map_err(js_err)
}

// ---- passkey envelopes ------------------------------------------------------------------

/// A fresh PRF salt for a new passkey slot.
#[wasm_bindgen(js_name = kekNewPrfSalt)]
pub fn kek_new_prf_salt() -> JsResult<Uint8Array> {
    Ok(Uint8Array::from(kek::new_prf_salt(&mut rng()?).as_slice()))
}

/// A new key in a new envelope with one passkey slot: `{ envelope, publicKey }`.
#[wasm_bindgen(js_name = kekGenerate)]
pub fn kek_generate(
    curve_name: &str,
    rp_id: &str,
    credential_id: &[u8],
    salt: &[u8],
    prf: Vec<u8>,
) -> JsResult<JsValue> {
    let prf = Zeroizing::new(prf);
    let (env, public) = kek::generate(
        curve(curve_name)?,
        rp_id,
        credential_id,
        salt,
        &prf,
        &mut rng()?,
    )
    .map_err(js_err)?;
    obj(&[("envelope", bytes(&env)), ("publicKey", bytes(&public))])
}

/// `[{ credentialId, salt }]` of every passkey slot.
#[wasm_bindgen(js_name = kekPrfRequests)]
pub fn kek_prf_requests(envelope: &[u8]) -> JsResult<Array> {
    let out = Array::new();
    for (id, salt) in kek::prf_requests(envelope).map_err(js_err)? {
        out.push(&obj(&[
            ("credentialId", bytes(&id)),
            ("salt", bytes(&salt)),
        ])?);
    }
    Ok(out)
}

/// Opens with a passkey; returns the public key.
#[wasm_bindgen(js_name = kekOpen)]
pub fn kek_open(envelope: &[u8], credential_id: &[u8], prf: Vec<u8>) -> JsResult<Uint8Array> {
    let prf = Zeroizing::new(prf);
    kek::open(envelope, credential_id, &prf)
        .map(|p| Uint8Array::from(p.as_slice()))
        .map_err(js_err)
}

/// Adds a passkey slot (opened with an existing passkey): `{ envelope, slot }`.
#[wasm_bindgen(js_name = kekAddPasskey)]
pub fn kek_add_passkey(
    envelope: &[u8],
    credential_id: &[u8],
    prf: Vec<u8>,
    rp_id: &str,
    new_credential_id: &[u8],
    new_salt: &[u8],
    new_prf: Vec<u8>,
) -> JsResult<JsValue> {
    let (prf, new_prf) = (Zeroizing::new(prf), Zeroizing::new(new_prf));
    let (env, slot) = kek::add_passkey(
        envelope,
        credential_id,
        &prf,
        rp_id,
        new_credential_id,
        new_salt,
        &new_prf,
        &mut rng()?,
    )
    .map_err(js_err)?;
    obj(&[("envelope", bytes(&env)), ("slot", slot.into())])
}

/// The slot id of a passkey, or `undefined`.
#[wasm_bindgen(js_name = kekSlotOf)]
pub fn kek_slot_of(envelope: &[u8], credential_id: &[u8]) -> JsResult<Option<u16>> {
    kek::slot_of(envelope, credential_id).map_err(js_err)
}

/// Removes a slot (opened with a passkey); returns the new envelope.
#[wasm_bindgen(js_name = kekRemoveSlot)]
pub fn kek_remove_slot(
    envelope: &[u8],
    credential_id: &[u8],
    prf: Vec<u8>,
    slot: u16,
) -> JsResult<Uint8Array> {
    let prf = Zeroizing::new(prf);
    kek::remove_slot(envelope, credential_id, &prf, slot, &mut rng()?)
        .map(|e| Uint8Array::from(e.as_slice()))
        .map_err(js_err)
}

/// Opens, signs, zeroizes: secp256k1 `r || s || v` over a 32-byte hash, Ed25519 over the message.
#[wasm_bindgen(js_name = kekSign)]
pub fn kek_sign(
    envelope: &[u8],
    credential_id: &[u8],
    prf: Vec<u8>,
    message: &[u8],
) -> JsResult<Uint8Array> {
    let prf = Zeroizing::new(prf);
    kek::sign(envelope, credential_id, &prf, message)
        .map(|s| Uint8Array::from(s.as_slice()))
        .map_err(js_err)
}

// ---- hardened recovery answer (OPRF) ------------------------------------------------------

/// Every hardened slot of the envelope: `[{ slot, kind, question, record }]` (`question` is
/// `null` for a password slot).
#[wasm_bindgen(js_name = kekHardenedSlots)]
pub fn kek_hardened_slots(envelope: &[u8]) -> JsResult<Array> {
    let out = Array::new();
    for s in kek::hardened_slots(envelope).map_err(js_err)? {
        out.push(&obj(&[
            ("slot", s.slot.into()),
            ("kind", s.kind.into()),
            ("question", s.question.map_or(JsValue::NULL, |q| q.into())),
            ("record", bytes(&s.record)),
        ])?);
    }
    Ok(out)
}

/// `{ record, attemptsLeft }` of an `OprfResponse` (what the server claims is left).
#[wasm_bindgen(js_name = kekOprfResponseInfo)]
pub fn kek_oprf_response_info(response: &[u8]) -> JsResult<JsValue> {
    let (record, left) = kek::oprf_response_info(response).map_err(js_err)?;
    obj(&[("record", bytes(&record)), ("attemptsLeft", left.into())])
}

/// The `ResetProof` answering a server's `ResetChallenge`, the envelope opened with a passkey
/// (unlocks a record locked by wrong answers).
#[wasm_bindgen(js_name = kekOprfResetWithPasskey)]
pub fn kek_oprf_reset_with_passkey(
    envelope: &[u8],
    credential_id: &[u8],
    prf: Vec<u8>,
    challenge: &[u8],
) -> JsResult<Uint8Array> {
    let prf = Zeroizing::new(prf);
    kek::oprf_reset_with_passkey(envelope, credential_id, &prf, challenge)
        .map(|p| Uint8Array::from(p.as_slice()))
        .map_err(js_err)
}

/// Adding a hardened recovery-answer slot to a passkey envelope (an opaque handle: the opened
/// envelope and the OPRF client state stay in wasm memory). `HardenedEnrolment.begin(envelope,
/// credentialId, prf)`, then `registration()` to the server's `register`, `request(serverKey,
/// answer)` to its `evaluate`, and `finish(question, response)` (consumes the handle):
/// `{ envelope, slot, resetProof }`, the proof for its `reset`. An enrolment given up before
/// `finish` is dropped with `free()` (which zeroizes the opened envelope at once).
#[wasm_bindgen]
pub struct HardenedEnrolment(kek::HardenedEnrolment);

#[wasm_bindgen]
impl HardenedEnrolment {
    /// Opens the envelope with a passkey and draws the new slot's record id.
    pub fn begin(envelope: &[u8], credential_id: &[u8], prf: Vec<u8>) -> JsResult<Self> {
        let prf = Zeroizing::new(prf);
        kek::HardenedEnrolment::begin(envelope, credential_id, &prf, &mut rng()?)
            .map(Self)
            .map_err(js_err)
    }

    /// The record id (32 bytes, public).
    pub fn record(&self) -> Uint8Array {
        Uint8Array::from(self.0.record().as_slice())
    }

    /// `recordId || resetKey` (64 bytes) for the server's `register` only: send it over TLS,
    /// then `fill(0)` it; never store it.
    pub fn registration(&self) -> JsResult<Uint8Array> {
        let r = self.0.registration().map_err(js_err)?;
        Ok(Uint8Array::from(r.as_slice()))
    }

    /// The enrolment `OprfRequest` for `answer` under the record key the server returned.
    pub fn request(&mut self, server_key: &[u8], answer: String) -> JsResult<Uint8Array> {
        let answer = Zeroizing::new(answer);
        self.0
            .request(server_key, &answer, &mut rng()?)
            .map(|r| Uint8Array::from(r.as_slice()))
            .map_err(js_err)
    }

    /// The enrolment `OprfRequest` for `answer`, with the record key taken from the server's
    /// `RecordKeyCertificate` only if it verifies under `identity` (the server identity the
    /// application ships with). The recommended form of [`HardenedEnrolment::request`].
    #[wasm_bindgen(js_name = requestCertified)]
    pub fn request_certified(
        &mut self,
        certificate: &[u8],
        identity: &[u8],
        answer: String,
    ) -> JsResult<Uint8Array> {
        let answer = Zeroizing::new(answer);
        self.0
            .request_certified(certificate, identity, &answer, &mut rng()?)
            .map(|r| Uint8Array::from(r.as_slice()))
            .map_err(js_err)
    }

    /// Checks the `OprfResponse`, adds the slot: `{ envelope, slot, resetProof }`. Consumes the
    /// handle (also on error).
    pub fn finish(self, question: &str, response: &[u8]) -> JsResult<JsValue> {
        let done = self
            .0
            .finish(question, response, &mut rng()?)
            .map_err(js_err)?;
        obj(&[
            ("envelope", bytes(&done.envelope)),
            ("slot", done.slot.into()),
            ("resetProof", bytes(&done.reset_proof)),
        ])
    }
}

/// One attempt to open an envelope through a hardened slot (an opaque handle: the OPRF client
/// state, with the normalised answer, stays in wasm memory). `HardenedUnlock.start(envelope,
/// slot, answer)`, `request()` to the server's `evaluate`, then `sign(response, message)`
/// (consumes the handle): `{ signature, publicKey, resetProof }`; a wrong answer throws
/// `kind: "unwrap"`. An attempt given up before `sign` is dropped with `free()`.
#[wasm_bindgen]
pub struct HardenedUnlock(kek::HardenedUnlock);

#[wasm_bindgen]
impl HardenedUnlock {
    /// Starts an attempt with `answer` (as typed) on hardened slot `slot`.
    pub fn start(envelope: &[u8], slot: u16, answer: String) -> JsResult<Self> {
        let answer = Zeroizing::new(answer);
        kek::HardenedUnlock::start(envelope, slot, &answer, &mut rng()?)
            .map(Self)
            .map_err(js_err)
    }

    /// The `OprfRequest` bytes for the server's `evaluate`.
    pub fn request(&self) -> Uint8Array {
        Uint8Array::from(self.0.request())
    }

    /// The slot's record id (32 bytes).
    pub fn record(&self) -> JsResult<Uint8Array> {
        self.0
            .record()
            .map(|r| Uint8Array::from(r.as_slice()))
            .map_err(js_err)
    }

    /// Finishes with the server's `OprfResponse`, opens, signs (secp256k1: a 32-byte hash,
    /// `r || s || v`; Ed25519: the message), zeroizes: `{ signature, publicKey, resetProof }`.
    /// Consumes the handle (also on error).
    pub fn sign(self, response: &[u8], message: &[u8]) -> JsResult<JsValue> {
        let s = self.0.sign(response, message).map_err(js_err)?;
        obj(&[
            ("signature", bytes(&s.signature)),
            ("publicKey", bytes(&s.public_key)),
            ("resetProof", bytes(&s.reset_proof)),
        ])
    }
}

// ---- Shamir share set -------------------------------------------------------------------

/// Deals a share set: `{ device, auth, recovery, setId, ethereumPublicKey, ethereumAddress,
/// ed25519PublicKey }`, each share sealed under its holder's wrapping secret.
#[wasm_bindgen(js_name = sssCreate)]
pub fn sss_create(device: Vec<u8>, auth: Vec<u8>, recovery: Vec<u8>) -> JsResult<JsValue> {
    let (d, a, r) = (wrap(device)?, wrap(auth)?, wrap(recovery)?);
    let set = sss::create(&d, &a, &r, &mut rng()?).map_err(js_err)?;
    let [sd, sa, sr] = &set.sealed;
    obj(&[
        ("device", bytes(sd)),
        ("auth", bytes(sa)),
        ("recovery", bytes(sr)),
        ("setId", bytes(&set.set_id)),
        ("ethereumPublicKey", bytes(&set.ethereum_public_key)),
        ("ethereumAddress", set.ethereum_address.as_str().into()),
        ("ed25519PublicKey", bytes(&set.ed25519_public_key)),
    ])
}

/// Signs with two sealed shares: `{ publicKey, signature }`.
#[wasm_bindgen(js_name = sssSign)]
pub fn sss_sign(
    wrap_a: Vec<u8>,
    share_a: &[u8],
    wrap_b: Vec<u8>,
    share_b: &[u8],
    curve_name: &str,
    index: u32,
    message: &[u8],
) -> JsResult<JsValue> {
    let (wa, wb) = (wrap(wrap_a)?, wrap(wrap_b)?);
    let a = sss::SealedShare {
        wrap: &wa,
        sealed: share_a,
    };
    let b = sss::SealedShare {
        wrap: &wb,
        sealed: share_b,
    };
    let (pk, sig) = sss::sign(&a, &b, curve(curve_name)?, index, message).map_err(js_err)?;
    obj(&[("publicKey", bytes(&pk)), ("signature", bytes(&sig))])
}

/// Rebuilds the device share from two others, sealed under `device`.
#[wasm_bindgen(js_name = sssRecoverDevice)]
pub fn sss_recover_device(
    wrap_a: Vec<u8>,
    share_a: &[u8],
    wrap_b: Vec<u8>,
    share_b: &[u8],
    device: Vec<u8>,
) -> JsResult<Uint8Array> {
    let (wa, wb, wd) = (wrap(wrap_a)?, wrap(wrap_b)?, wrap(device)?);
    let a = sss::SealedShare {
        wrap: &wa,
        sealed: share_a,
    };
    let b = sss::SealedShare {
        wrap: &wb,
        sealed: share_b,
    };
    sss::recover_device(&a, &b, &wd, &mut rng()?)
        .map(|s| Uint8Array::from(s.as_slice()))
        .map_err(js_err)
}

/// The BIP-39 mnemonic, sealed under `export`.
#[wasm_bindgen(js_name = sssExportMnemonic)]
pub fn sss_export_mnemonic(
    wrap_a: Vec<u8>,
    share_a: &[u8],
    wrap_b: Vec<u8>,
    share_b: &[u8],
    export: Vec<u8>,
) -> JsResult<Uint8Array> {
    let (wa, wb, we) = (wrap(wrap_a)?, wrap(wrap_b)?, wrap(export)?);
    let a = sss::SealedShare {
        wrap: &wa,
        sealed: share_a,
    };
    let b = sss::SealedShare {
        wrap: &wb,
        sealed: share_b,
    };
    sss::export_mnemonic(&a, &b, &we, &mut rng()?)
        .map(|s| Uint8Array::from(s.as_slice()))
        .map_err(js_err)
}

// ---- ECDSA device party -----------------------------------------------------------------

fn step(s: ecdsa::DeviceStep) -> JsResult<JsValue> {
    let outgoing = Array::new();
    for m in &s.outgoing {
        outgoing.push(&bytes(m));
    }
    obj(&[
        ("state", bytes(&s.state)),
        ("outgoing", outgoing.into()),
        ("output", s.output.as_deref().map_or(JsValue::NULL, bytes)),
    ])
}

/// An empty sealed device state.
#[wasm_bindgen(js_name = ecdsaNewDevice)]
pub fn ecdsa_new_device(wrap_secret: Vec<u8>) -> JsResult<Uint8Array> {
    let w = wrap(wrap_secret)?;
    ecdsa::new_device(&w, &mut rng()?)
        .map(|s| Uint8Array::from(s.as_slice()))
        .map_err(js_err)
}

/// Starts key generation: `{ state, outgoing, output }`.
#[wasm_bindgen(js_name = ecdsaKeygenStart)]
pub fn ecdsa_keygen_start(
    wrap_secret: Vec<u8>,
    state: &[u8],
    session_id: &[u8],
    me: u16,
    parties: u16,
) -> JsResult<JsValue> {
    let w = wrap(wrap_secret)?;
    step(ecdsa::keygen_start(&w, state, session_id, me, parties, &mut rng()?).map_err(js_err)?)
}

/// Starts a presignature with `other` for `path`: `{ state, outgoing, output }`.
#[wasm_bindgen(js_name = ecdsaPresignStart)]
pub fn ecdsa_presign_start(
    wrap_secret: Vec<u8>,
    state: &[u8],
    other: u16,
    path: &str,
    session_id: &[u8],
) -> JsResult<JsValue> {
    let w = wrap(wrap_secret)?;
    step(ecdsa::presign_start(&w, state, other, path, session_id, &mut rng()?).map_err(js_err)?)
}

/// Hands one received message to the run in progress: `{ state, outgoing, output }`.
#[wasm_bindgen(js_name = ecdsaHandle)]
pub fn ecdsa_handle(wrap_secret: Vec<u8>, state: &[u8], message: &[u8]) -> JsResult<JsValue> {
    let w = wrap(wrap_secret)?;
    step(ecdsa::handle(&w, state, message, &mut rng()?).map_err(js_err)?)
}

/// The partial signature (`output`) and the state without the presignature.
#[wasm_bindgen(js_name = ecdsaPartialSign)]
pub fn ecdsa_partial_sign(
    wrap_secret: Vec<u8>,
    state: &[u8],
    info: &[u8],
    message_hash: &[u8],
) -> JsResult<JsValue> {
    let w = wrap(wrap_secret)?;
    step(ecdsa::partial_sign(&w, state, info, message_hash, &mut rng()?).map_err(js_err)?)
}

/// The device's public key package.
#[wasm_bindgen(js_name = ecdsaPublicPackage)]
pub fn ecdsa_public_package(wrap_secret: Vec<u8>, state: &[u8]) -> JsResult<Uint8Array> {
    let w = wrap(wrap_secret)?;
    ecdsa::public_package(&w, state)
        .map(|p| Uint8Array::from(p.as_slice()))
        .map_err(js_err)
}

/// How many unused presignatures the state holds.
#[wasm_bindgen(js_name = ecdsaPresignatures)]
pub fn ecdsa_presignatures(wrap_secret: Vec<u8>, state: &[u8]) -> JsResult<u32> {
    let w = wrap(wrap_secret)?;
    let n = ecdsa::presignatures(&w, state).map_err(js_err)?;
    u32::try_from(n).map_err(|_| js_err(WasmError::new("state", "count out of range")))
}

/// Combines two partial signatures: `{ signature, publicKey }` (verified before returning).
#[wasm_bindgen(js_name = ecdsaCombine)]
pub fn ecdsa_combine(
    public_package: &[u8],
    info: &[u8],
    message_hash: &[u8],
    a: &[u8],
    b: &[u8],
) -> JsResult<JsValue> {
    let (sig, pk) = ecdsa::combine(public_package, info, message_hash, a, b).map_err(js_err)?;
    obj(&[("signature", bytes(&sig)), ("publicKey", bytes(&pk))])
}

// ---- FROST signer -----------------------------------------------------------------------

/// `count` nonce pairs: `{ state, commitments }`.
#[wasm_bindgen(js_name = frostCommit)]
pub fn frost_commit(wrap_secret: Vec<u8>, state: &[u8], count: usize) -> JsResult<JsValue> {
    let w = wrap(wrap_secret)?;
    let (state, commitments) = frost::commit(&w, state, count, &mut rng()?).map_err(js_err)?;
    let list = Array::new();
    for c in &commitments {
        list.push(&bytes(c));
    }
    obj(&[("state", bytes(&state)), ("commitments", list.into())])
}

/// The signature share for a signing package: `{ state, share }`.
#[wasm_bindgen(js_name = frostSign)]
pub fn frost_sign(wrap_secret: Vec<u8>, state: &[u8], package: &[u8]) -> JsResult<JsValue> {
    let w = wrap(wrap_secret)?;
    let (state, share) = frost::sign(&w, state, package, &mut rng()?).map_err(js_err)?;
    obj(&[("state", bytes(&state)), ("share", bytes(&share))])
}

/// `{ id, publicKeyPackage }` of a signer state.
#[wasm_bindgen(js_name = frostPublic)]
pub fn frost_public(wrap_secret: Vec<u8>, state: &[u8]) -> JsResult<JsValue> {
    let w = wrap(wrap_secret)?;
    let (id, package) = frost::public(&w, state).map_err(js_err)?;
    obj(&[("id", id.into()), ("publicKeyPackage", bytes(&package))])
}
