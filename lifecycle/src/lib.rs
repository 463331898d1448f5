//! # wallet-lifecycle
//!
//! Every flow of the three wallet architectures, end to end, in process, as a user of the
//! crates would write them: the `wallet_lifecycle` example prints them as a report, and the
//! integration tests run the very same functions. Protocol messages move as encoded bytes
//! through `wallet_types::sim::Simulator` (no faults), so message counts and bytes on the wire
//! are what a transport would carry. Every signature is checked with the ecosystem's own
//! verifier (`k256`, `ed25519-dalek`) before it is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{RecoveryId, Signature as EcdsaSig, VerifyingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;
use sha3::{Digest, Keccak256};
use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfServer};
use wallet_kek::{
    Argon2Params, Credential, DEFAULT_MAX_ATTEMPTS, Envelope, HardenedKind, KekError, NewSlot,
    OprfPending, OprfRequest, OprfResponse, OprfServerKey, Payload, PayloadKind, PrfOutput,
    PrfSalt, RecordId, RecordKeyCertificate, SlotId, Unlocked, WalletId,
};
use wallet_pss::frost::{from_key_share, to_key_share};
use wallet_pss::{KeyShare, Reshare, ReshareConfig, ReshareOutput};
use wallet_sss::encoding::WALLET_SHARE;
use wallet_sss::wallet as sss;
use wallet_tss::ecdsa::{
    self, DerivationPath, Keygen, MemoryKeyStore, Presign, PresignatureInfo, PublicKeyPackage,
    partial_sign,
};
use wallet_tss::frost::dkg::DkgParty;
use wallet_tss::frost::{KeyPackage, aggregate, round1, round2};
use wallet_types::sim::Simulator;
use wallet_types::{
    Curve, Ed25519, Parties, PartyId, Protocol, SessionId, Termination, WireObject,
};

/// One step of a flow.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// The flow (architecture) it belongs to.
    pub flow: &'static str,
    /// What the step did.
    pub name: String,
    /// Wall time of the step.
    pub millis: f64,
    /// Protocol messages sent (a broadcast counts once).
    pub messages: usize,
    /// Bytes on the wire (encoded messages with their envelopes), or stored (an envelope).
    pub bytes: usize,
    /// A short human-readable result.
    pub detail: String,
    /// The public key (SEC1 compressed, hex) the step ended with, for steps of a key that must
    /// stay the same across the flow.
    pub public_key: Option<String>,
    /// The label of that key within its flow.
    pub key: Option<&'static str>,
}

/// A signature produced by a flow, verified before it was recorded.
#[derive(Clone, Debug)]
pub struct SignatureRecord {
    /// The flow that produced it.
    pub flow: &'static str,
    /// `"secp256k1"` or `"ed25519"`.
    pub curve: &'static str,
    /// SEC1 compressed (33 B) or RFC 8032 (32 B) public key, hex.
    pub public_key: String,
    /// The Ethereum address (secp256k1 only).
    pub address: Option<String>,
    /// ECDSA: the 32-byte prehash; Ed25519: the signed bytes (hex).
    pub message: String,
    /// `r || s` or `R || S` (hex).
    pub signature: String,
    /// ECDSA recovery id.
    pub recovery_id: Option<u8>,
}

/// The whole run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every step in order.
    pub steps: Vec<StepReport>,
    /// Every signature, verified.
    pub signatures: Vec<SignatureRecord>,
}

impl Report {
    fn step(
        &mut self,
        flow: &'static str,
        name: &str,
        t0: Instant,
        messages: usize,
        bytes: usize,
        detail: String,
    ) {
        self.steps.push(StepReport {
            flow,
            name: name.into(),
            millis: t0.elapsed().as_secs_f64() * 1e3,
            messages,
            bytes,
            detail,
            public_key: None,
            key: None,
        });
    }

    /// Labels the last step with the public key `vk` (under the label `key`).
    fn keyed(&mut self, key: &'static str, vk: &VerifyingKey) {
        if let Some(s) = self.steps.last_mut() {
            s.public_key = Some(hex::encode(vk.to_sec1_point(true).as_bytes()));
            s.key = Some(key);
        }
    }
}

mod threshold;
pub use threshold::{combined_flow, threshold_flow};

type Res<T> = Result<T, String>;

/// The results of a run in which every party acknowledged (a key is used, and an old share
/// replaced, only then; an unconfirmed result would be kept and its confirmation retried).
pub(crate) fn confirmed<T>(
    outputs: BTreeMap<PartyId, Termination<T>>,
) -> Res<BTreeMap<PartyId, T>> {
    outputs
        .into_iter()
        .map(|(p, o)| {
            o.into_confirmed()
                .map(|r| (p, r))
                .map_err(|u| format!("{p}: unconfirmed, disagreeing {:?}", u.disagreeing))
        })
        .collect()
}

pub(crate) fn err<E: core::fmt::Display>(ctx: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{ctx}: {e}")
}

/// EIP-55 Ethereum address of a secp256k1 public key.
pub fn eth_address(vk: &VerifyingKey) -> String {
    let point = vk.to_sec1_point(false);
    let digest = Keccak256::digest(point.as_bytes().get(1..).unwrap_or(&[]));
    let lower = hex::encode(digest.get(12..).unwrap_or(&[]));
    let check = hex::encode(Keccak256::digest(lower.as_bytes()));
    let mut out = String::from("0x");
    for (c, h) in lower.chars().zip(check.chars()) {
        if c.is_ascii_alphabetic() && h.to_digit(16).unwrap_or(0) >= 8 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Verifies an ECDSA signature with k256 (and that the recovery id recovers the key) and
/// records it.
pub(crate) fn record_ecdsa(
    report: &mut Report,
    flow: &'static str,
    vk: &VerifyingKey,
    hash: &[u8; 32],
    sig: &[u8; 64],
    recid: u8,
) -> Res<()> {
    let s = EcdsaSig::from_slice(sig).map_err(err("signature encoding"))?;
    vk.verify_prehash(hash, &s).map_err(err("k256 verify"))?;
    let rid = RecoveryId::from_byte(recid).ok_or("recovery id")?;
    let rec = VerifyingKey::recover_from_prehash(hash, &s, rid).map_err(err("k256 recover"))?;
    if &rec != vk {
        return Err(format!("{flow}: recovery id does not recover the key"));
    }
    if s.normalize_s() != s {
        return Err(format!("{flow}: signature is not low-S"));
    }
    report.signatures.push(SignatureRecord {
        flow,
        curve: "secp256k1",
        public_key: hex::encode(vk.to_sec1_point(true).as_bytes()),
        address: Some(eth_address(vk)),
        message: hex::encode(hash),
        signature: hex::encode(sig),
        recovery_id: Some(recid),
    });
    Ok(())
}

/// Verifies an Ed25519 signature with `verify_strict` and records it.
fn record_ed25519(
    report: &mut Report,
    flow: &'static str,
    pk: &[u8; 32],
    msg: &[u8],
    sig: &[u8; 64],
) -> Res<()> {
    let vk = ed25519_dalek::VerifyingKey::from_bytes(pk).map_err(err("ed25519 key"))?;
    vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
        .map_err(err("ed25519 verify_strict"))?;
    report.signatures.push(SignatureRecord {
        flow,
        curve: "ed25519",
        public_key: hex::encode(pk),
        address: None,
        message: hex::encode(msg),
        signature: hex::encode(sig),
        recovery_id: None,
    });
    Ok(())
}

/// Runs protocol machines to completion; returns outputs, messages and bytes.
pub(crate) fn run<P: Protocol + WireObject>(
    machines: Vec<P>,
    seed: u64,
) -> Res<(BTreeMap<PartyId, P::Output>, usize, usize)> {
    run_in(Simulator::new(seed), machines)
}

/// [`run`] in a given simulator (for machines restored with a store handle).
pub(crate) fn run_in<P: Protocol>(
    mut sim: Simulator<P>,
    machines: Vec<P>,
) -> Res<(BTreeMap<PartyId, P::Output>, usize, usize)> {
    for m in machines {
        sim.add(m);
    }
    let out = sim.run();
    if let Some((p, e)) = out.failures.iter().next() {
        return Err(format!("{p} failed: {e}"));
    }
    if !out.stalled.is_empty() {
        return Err(format!("stalled: {:?}", out.stalled));
    }
    Ok((out.outputs, out.messages_sent, out.bytes_sent))
}

// ---------------------------------------------------------------------------------------------
// 1. PRF-as-KEK
// ---------------------------------------------------------------------------------------------

/// The provider's guess-limited OPRF server of the examples (in process, in-memory records).
pub type RecoveryServer = OprfServer<MemoryOprfRecordStore>;

/// Enrols a hardened recovery-answer slot `(question, answer)` into `env` (opened as
/// `unlocked`) with `server`, the wallet-kek way: the server registers a record whose reset key
/// comes from the envelope and answers with the record key's certificate (checked against the
/// server identity the application pins), one enrolment evaluation, the slot added, the counter reset with
/// the opened envelope's proof. Returns the slot id.
pub fn enrol_hardened_answer(
    env: &mut Envelope,
    unlocked: &Unlocked,
    server: &RecoveryServer,
    (question, answer): (&str, &str),
    rng: &mut ChaCha20Rng,
) -> Res<SlotId> {
    // The application ships with the server's identity and pins a record key only from a
    // certificate under it (here the identity is read from the in-process server).
    let identity = server.key().identity().map_err(err("identity"))?;
    let record = RecordId::random(rng);
    let certificate = server
        .register_certified(
            record,
            unlocked.oprf_reset_key(&record).map_err(err("reset key"))?,
            DEFAULT_MAX_ATTEMPTS,
        )
        .map_err(err("register"))?;
    let certificate =
        RecordKeyCertificate::from_bytes(&certificate.to_bytes()).map_err(err("certificate"))?;
    let record_key = certificate
        .verify(&identity, &record)
        .map_err(err("certificate"))?;
    let (pending, req) = OprfPending::enrol(
        env.wallet_id(),
        HardenedKind::RecoveryAnswer,
        record,
        record_key,
        answer,
        rng,
    )
    .map_err(err("enrol"))?;
    let resp = server.evaluate(&req, rng).map_err(err("evaluate"))?;
    let factor = pending.finish(&resp).map_err(err("finish"))?;
    let slot = env
        .add_slot(
            unlocked,
            &NewSlot::HardenedRecoveryAnswer {
                question,
                factor: &factor,
                params: Argon2Params::default(),
            },
            rng,
        )
        .map_err(err("add recovery"))?;
    let proof = unlocked
        .oprf_reset_proof(&record, resp.nonce())
        .map_err(err("reset proof"))?;
    server.reset(&proof).map_err(err("reset"))?;
    Ok(slot)
}

/// One recovery attempt with `answer` on the hardened slot `slot` (one counted OPRF evaluation,
/// every message encoded and decoded as on the wire): `Some` with the opened envelope (the
/// counter reset with its proof) or `None` for a wrong answer (the attempt stays counted).
pub fn open_with_answer(
    env: &Envelope,
    slot: SlotId,
    answer: &str,
    server: &RecoveryServer,
    rng: &mut ChaCha20Rng,
) -> Res<Option<Unlocked>> {
    let (pending, req) = OprfPending::unlock(env, slot, answer, rng).map_err(err("unlock"))?;
    let req = OprfRequest::from_bytes(&req.to_bytes()).map_err(err("request"))?;
    let resp = server.evaluate(&req, rng).map_err(err("evaluate"))?;
    let resp = OprfResponse::from_bytes(&resp.to_bytes()).map_err(err("response"))?;
    let factor = pending.finish(&resp).map_err(err("finish"))?;
    match env.open(&Credential::Hardened {
        slot,
        factor: &factor,
    }) {
        Ok(unlocked) => {
            let proof = unlocked
                .oprf_reset_proof(resp.record(), resp.nonce())
                .map_err(err("reset proof"))?;
            server.reset(&proof).map_err(err("reset"))?;
            Ok(Some(unlocked))
        }
        Err(KekError::Unwrap) => Ok(None),
        Err(e) => Err(format!("open: {e}")),
    }
}

/// The OPRF record id a hardened slot names.
fn record_of(env: &Envelope, slot: SlotId) -> Res<RecordId> {
    env.slot(slot)
        .and_then(|s| s.params().oprf_record().copied())
        .ok_or_else(|| "not a hardened slot".to_string())
}

/// The default consumer path: a key created on device A, wrapped for two passkeys and a
/// hardened recovery answer (Argon2id + the OPRF server's evaluation); signed on A; A is lost;
/// device B opens the envelope (fetched from the server, which only ever held the envelope)
/// with the second passkey and signs; the answer opens it through the guess-limited server.
pub fn kek_flow(rng: &mut ChaCha20Rng, report: &mut Report) -> Res<()> {
    const F: &str = "prf-as-kek";
    let t0 = Instant::now();
    let wallet = WalletId::random(rng);
    // The authenticators' PRF outputs (in a browser: WebAuthn `prf` extension results).
    let mut out_a = [0u8; 32];
    let mut out_b = [0u8; 32];
    rng.fill_bytes(&mut out_a);
    rng.fill_bytes(&mut out_b);
    let (prf_a, prf_b) = (PrfOutput::new(out_a), PrfOutput::new(out_b));
    let (salt_a, salt_b) = (PrfSalt::random(rng), PrfSalt::random(rng));
    let first = NewSlot::Prf {
        credential_id: b"passkey-A",
        rp_id: "wallet.example",
        salt: salt_a,
        output: &prf_a,
    };
    let (mut env, pk) =
        Envelope::generate_secp256k1(wallet, &first, rng).map_err(err("generate"))?;
    let cred_a = Credential::Prf {
        credential_id: b"passkey-A",
        output: &prf_a,
    };
    let unlocked = env.open(&cred_a).map_err(err("open A"))?;
    let second = NewSlot::Prf {
        credential_id: b"passkey-B",
        rp_id: "wallet.example",
        salt: salt_b,
        output: &prf_b,
    };
    env.add_slot(&unlocked, &second, rng)
        .map_err(err("add passkey B"))?;
    // The recovery answer goes into a hardened slot (the recommended kind): its KEK needs
    // Argon2id of the answer *and* one evaluation by the provider's guess-limited OPRF server,
    // so neither the envelope store nor the OPRF server can test guesses offline.
    let oprf_server = OprfServer::new(OprfServerKey::generate(rng), MemoryOprfRecordStore::new());
    let recovery_slot = enrol_hardened_answer(
        &mut env,
        &unlocked,
        &oprf_server,
        ("first pet's name?", "  Rex "),
        rng,
    )?;
    drop(unlocked);
    let stored = env.to_bytes();
    report.step(
        F,
        "create on device A; wrap for 2 passkeys + hardened recovery answer",
        t0,
        0,
        stored.len(),
        format!("envelope {} B, {} slots", stored.len(), env.slots().len()),
    );

    let vk = VerifyingKey::from_sec1_bytes(&pk).map_err(err("public key"))?;
    let t0 = Instant::now();
    let hash: [u8; 32] = Keccak256::digest(b"tx 1 from device A").into();
    let sig = env.sign_secp256k1(&cred_a, &hash).map_err(err("sign A"))?;
    record_ecdsa(report, F, &vk, &hash, &sig.signature, sig.recovery_id)?;
    report.step(
        F,
        "sign on device A (unwrap + sign + zeroize)",
        t0,
        0,
        0,
        "verified with k256".into(),
    );

    // Device A is lost. Device B fetches the envelope from the server and uses passkey B.
    let t0 = Instant::now();
    let fetched = Envelope::from_bytes(&stored).map_err(err("fetch"))?;
    let cred_b = Credential::Prf {
        credential_id: b"passkey-B",
        output: &prf_b,
    };
    let hash: [u8; 32] = Keccak256::digest(b"tx 2 from device B").into();
    let sig = fetched
        .sign_secp256k1(&cred_b, &hash)
        .map_err(err("sign B"))?;
    record_ecdsa(report, F, &vk, &hash, &sig.signature, sig.recovery_id)?;
    report.step(
        F,
        "device A lost: device B opens with passkey B and signs",
        t0,
        0,
        stored.len(),
        "same address".into(),
    );

    // Recovery with the answer: one counted OPRF evaluation; a wrong answer stays counted,
    // the right one opens and resets the counter.
    let t0 = Instant::now();
    let record = record_of(&fetched, recovery_slot)?;
    let failures = || -> Res<u32> {
        let left = oprf_server
            .attempts_left(&record)
            .map_err(err("attempts"))?;
        Ok(DEFAULT_MAX_ATTEMPTS - left)
    };
    if open_with_answer(&fetched, recovery_slot, "Max", &oprf_server, rng)?.is_some() {
        return Err("a wrong recovery answer opened the envelope".into());
    }
    let counted = failures()?;
    if open_with_answer(&fetched, recovery_slot, "rex", &oprf_server, rng)?.is_none() {
        return Err("the recovery answer did not open the envelope".into());
    }
    let after_reset = failures()?;
    let wrong = PrfOutput::new([0u8; 32]);
    let bad = Credential::Prf {
        credential_id: b"passkey-B",
        output: &wrong,
    };
    if fetched.open(&bad).is_ok() {
        return Err("a wrong PRF output opened the envelope".into());
    }
    report.step(
        F,
        "recovery answer opens via the OPRF server; wrong answer counted",
        t0,
        0,
        0,
        format!(
            "wrong answer counted ({counted} of {DEFAULT_MAX_ATTEMPTS}), reset after the right one ({after_reset})"
        ),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 2. SSS 2-of-3
// ---------------------------------------------------------------------------------------------

/// The SSS wallet: device / auth / recovery shares (the recovery share backed up under a
/// hardened recovery answer), sign by reconstructing in memory, recover a device with the
/// answer, rotate the share set, export the mnemonic.
pub fn sss_flow(rng: &mut ChaCha20Rng, report: &mut Report) -> Res<()> {
    const F: &str = "sss-2-of-3";
    let t0 = Instant::now();
    let w = sss::create(rng).map_err(err("create"))?;
    let address = w.info.ethereum.address_string();
    let share_bytes: usize = [&w.device, &w.auth, &w.recovery]
        .iter()
        .map(|s| s.to_secret_bytes().len())
        .sum();
    // The user's backup of the recovery share: an envelope whose only slot is a hardened
    // recovery answer (the device's passkey slot is needed to enrol it, then removed), so
    // neither the backup store nor the OPRF server can guess the answer offline.
    let server = RecoveryServer::new(OprfServerKey::generate(rng), MemoryOprfRecordStore::new());
    let mut prf_bytes = [0u8; 32];
    rng.fill_bytes(&mut prf_bytes);
    let prf = PrfOutput::new(prf_bytes);
    let first = NewSlot::Prf {
        credential_id: b"device-passkey",
        rp_id: "wallet.example",
        salt: PrfSalt::random(rng),
        output: &prf,
    };
    let payload =
        Payload::opaque(WALLET_SHARE.0, w.recovery.to_secret_bytes()).map_err(err("payload"))?;
    let mut backup =
        Envelope::seal(WalletId::random(rng), &payload, &first, rng).map_err(err("seal"))?;
    let unlocked = backup
        .open(&Credential::Prf {
            credential_id: b"device-passkey",
            output: &prf,
        })
        .map_err(err("open backup"))?;
    let passkey_slot = unlocked.slot();
    let answer_slot = enrol_hardened_answer(
        &mut backup,
        &unlocked,
        &server,
        ("first school?", "Elm Street Primary"),
        rng,
    )?;
    backup
        .remove_slot(&unlocked, passkey_slot, rng)
        .map_err(err("remove passkey slot"))?;
    drop(unlocked);
    let stored_backup = backup.to_bytes();
    report.step(
        F,
        "create: device / auth / recovery shares (recovery under a hardened answer)",
        t0,
        0,
        share_bytes + stored_backup.len(),
        format!("address {address}"),
    );

    let vk = VerifyingKey::from_sec1_bytes(&w.info.ethereum.public_key).map_err(err("key"))?;
    let t0 = Instant::now();
    let hash: [u8; 32] = Keccak256::digest(b"sss tx 1").into();
    let sig = sss::sign_ecdsa(&w.device, &w.auth, 0, &hash).map_err(err("sign"))?;
    record_ecdsa(report, F, &vk, &hash, &sig.signature, sig.recovery_id)?;
    report.step(
        F,
        "sign with device + auth (reconstruct, derive, sign, zeroize)",
        t0,
        0,
        0,
        "verified with k256".into(),
    );

    // Device lost: the new device fetches the backup, the user answers, the OPRF server
    // counts the attempt, and the recovery share opens.
    let t0 = Instant::now();
    let fetched = Envelope::from_bytes(&stored_backup).map_err(err("fetch backup"))?;
    let opened = open_with_answer(&fetched, answer_slot, " elm street primary", &server, rng)?
        .ok_or("the recovery answer did not open the backup")?;
    if opened.payload().kind() != PayloadKind::Opaque(WALLET_SHARE.0) {
        return Err("the backup holds another kind of secret".into());
    }
    let recovery = sss::WalletShare::from_bytes(opened.payload().expose()).map_err(err("share"))?;
    drop(opened);
    let new_device = sss::recover_device(&w.auth, &recovery).map_err(err("recover"))?;
    let hash: [u8; 32] = Keccak256::digest(b"sss tx 2").into();
    let sig =
        sss::sign_ecdsa(&new_device, &w.auth, 0, &hash).map_err(err("sign after recovery"))?;
    record_ecdsa(report, F, &vk, &hash, &sig.signature, sig.recovery_id)?;
    report.step(
        F,
        "recover a new device: the answer opens the backup; auth + recovery",
        t0,
        0,
        0,
        "same address".into(),
    );

    let t0 = Instant::now();
    let rotated = sss::rotate(&w.auth, &w.recovery, rng).map_err(err("rotate"))?;
    if rotated.info.ethereum != w.info.ethereum {
        return Err("rotation changed the account".into());
    }
    if sss::sign_ecdsa(&w.device, &rotated.auth, 0, &hash).is_ok() {
        return Err("an old share combined with a new one".into());
    }
    report.step(
        F,
        "rotate the share set (old shares refused)",
        t0,
        0,
        0,
        "old + new refused".into(),
    );

    let t0 = Instant::now();
    let phrase = sss::export_mnemonic(&rotated.device, &rotated.recovery).map_err(err("export"))?;
    let words = phrase.split_whitespace().count();
    let again = sss::import_mnemonic(&phrase, rng).map_err(err("import"))?;
    if again.info.ethereum != w.info.ethereum {
        return Err("mnemonic re-import gives another account".into());
    }
    report.step(
        F,
        "export the BIP-39 mnemonic (re-import: same account)",
        t0,
        0,
        0,
        format!("{words} words (not printed)"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3. Two-party ECDSA
// ---------------------------------------------------------------------------------------------

/// A server-side policy: a "transaction" is `amount (u64 BE) || memo`; the server parses it,
/// refuses amounts over its limit and hashes it itself before releasing its share.
pub fn server_policy(tx: &[u8], limit: u64) -> Res<[u8; 32]> {
    let amount = tx
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or("malformed transaction")?;
    if amount > limit {
        return Err(format!("policy: amount {amount} over the limit {limit}"));
    }
    Ok(Keccak256::digest(tx).into())
}

fn tx(amount: u64, memo: &str) -> Vec<u8> {
    let mut t = amount.to_be_bytes().to_vec();
    t.extend_from_slice(memo.as_bytes());
    t
}

/// One key store per party: from here on each key share is used only through its store,
/// which owns its pairings' OT setups, its bans and its presignatures.
pub(crate) fn key_stores(
    keys: BTreeMap<PartyId, ecdsa::KeyShare>,
) -> BTreeMap<PartyId, MemoryKeyStore> {
    keys.into_iter()
        .map(|(p, k)| (p, MemoryKeyStore::new(k)))
        .collect()
}

pub(crate) fn store(
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    p: PartyId,
) -> Res<&MemoryKeyStore> {
    stores
        .get(&p)
        .ok_or_else(|| format!("no key store for {p}"))
}

pub(crate) fn public_package(s: &MemoryKeyStore) -> Res<PublicKeyPackage> {
    s.public_package().map_err(err("public package"))
}

pub(crate) fn verifying_key(p: &k256::ProjectivePoint) -> Res<VerifyingKey> {
    VerifyingKey::from_sec1_bytes(&ecdsa::derive::compressed(p)).map_err(err("verifying key"))
}

/// One presignature between `a` and `b`: each party's secret half is sealed into its store;
/// the output is the public part both agree on.
pub(crate) fn presign_pair(
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    a: PartyId,
    b: PartyId,
    path: &DerivationPath,
    rng: &mut ChaCha20Rng,
    seed: u64,
) -> Res<(PresignatureInfo, usize, usize)> {
    let session = SessionId::random(rng);
    let (sa, sb) = (store(stores, a)?, store(stores, b)?);
    let ma = Presign::new(sa, b, path.clone(), session, rng).map_err(err("presign a"))?;
    let mb = Presign::new(sb, a, path.clone(), session, rng).map_err(err("presign b"))?;
    // A crashed machine is restored from its bytes on its store again (never copied in memory).
    let sim = Simulator::with_restore(
        seed,
        Box::new(|m: &Presign<&MemoryKeyStore>| Presign::restore(*m.store(), m.save().expose())),
    );
    let (mut out, m, by) = run_in(sim, vec![ma, mb])?;
    let ia = out.remove(&a).ok_or("presignature a")?;
    let ib = out.remove(&b).ok_or("presignature b")?;
    if ia != ib {
        return Err("the signers disagree on the presignature".into());
    }
    Ok((ia, m, by))
}

/// The online phase between `a` and `b`: each takes its presignature of `info` out of its
/// store (single use) and releases its partial; the partials combine (verified) under the
/// current public package. Returns the signature, its recovery id and the online bytes.
pub(crate) fn sign_pair(
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    a: PartyId,
    b: PartyId,
    info: &PresignatureInfo,
    hash: &[u8; 32],
) -> Res<(EcdsaSig, RecoveryId, usize)> {
    let (sa, sb) = (store(stores, a)?, store(stores, b)?);
    // `b` (the server, when there is one) decides first: the policy gate is before this call.
    let pb = partial_sign(sb, info, hash).map_err(err("partial sign b"))?;
    let pa = partial_sign(sa, info, hash).map_err(err("partial sign a"))?;
    let online_bytes = pa.to_bytes().len() + pb.to_bytes().len();
    let (sig, recid) =
        ecdsa::combine(&public_package(sa)?, info, hash, &pa, &pb).map_err(err("combine"))?;
    Ok((sig, recid, online_bytes))
}

/// One presignature at the root key between `a` and `b`, signed for `Keccak256(label)` and
/// checked and recorded under `vk`. Returns the presign's messages and bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn presign_sign_record(
    report: &mut Report,
    flow: &'static str,
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    (a, b): (PartyId, PartyId),
    vk: &VerifyingKey,
    label: &[u8],
    rng: &mut ChaCha20Rng,
    seed: u64,
) -> Res<(usize, usize)> {
    let (info, m, by) = presign_pair(stores, a, b, &DerivationPath::root(), rng, seed)?;
    let hash: [u8; 32] = Keccak256::digest(label).into();
    let (sig, recid, _) = sign_pair(stores, a, b, &info, &hash)?;
    record_ecdsa(
        report,
        flow,
        vk,
        &hash,
        &sig.to_bytes().into(),
        recid.to_byte(),
    )?;
    Ok((m, by))
}

/// Two-party ECDSA: DKG (device / server, and 2-of-3 with a backup), a batch of presignatures
/// offline, online signing behind a server policy that refuses one over-limit request, a derived
/// child address, a proactive refresh (new shares and OT setups, same address), export.
///
/// Each party's key share lives in its own [`MemoryKeyStore`] from the DKG on: presign seals
/// the secret halves into the stores, signing takes them out (once), the refresh reads the
/// share from the store and installs the next epoch's into it.
pub fn ecdsa_flow(rng: &mut ChaCha20Rng, report: &mut Report) -> Res<()> {
    const F: &str = "tss-ecdsa";
    let pid = |n: u16| PartyId::new(n).ok_or_else(|| "id".to_string());
    let (device, server, backup) = (pid(1)?, pid(2)?, pid(3)?);

    // 2-of-2 device / server.
    let t0 = Instant::now();
    let parties = Parties::range(2).map_err(err("parties"))?;
    let session = SessionId::random(rng);
    let machines = parties
        .iter()
        .map(|p| Keygen::new(session, p, parties.clone(), rng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err("keygen"))?;
    let (keys, m, b) = run(machines, 11)?;
    let stores = key_stores(confirmed(keys)?);
    let root = public_package(store(&stores, device)?)?;
    let vk = verifying_key(&root.public_key())?;
    report.step(
        F,
        "DKG 2-of-2 device/server (+ chain code, OT setups)",
        t0,
        m,
        b,
        format!("address {}", eth_address(&vk)),
    );

    // Presign a batch offline.
    let t0 = Instant::now();
    let mut batch = Vec::new();
    let (mut msgs, mut bytes) = (0, 0);
    for i in 0..3 {
        let (info, m, b) = presign_pair(
            &stores,
            device,
            server,
            &DerivationPath::root(),
            rng,
            20 + i,
        )?;
        batch.push(info);
        msgs += m;
        bytes += b;
    }
    let held = store(&stores, server)?
        .presignatures()
        .map_err(err("count"))?;
    report.step(
        F,
        "presign a batch of 3 (offline)",
        t0,
        msgs,
        bytes,
        format!("3 presignature pairs (sealed in the stores; the server holds {held})"),
    );

    // Online: within the limit.
    let t0 = Instant::now();
    let info = batch.pop().ok_or("batch")?;
    let request = tx(40, "coffee");
    let hash = server_policy(&request, 100)?;
    // The server's store marks the presignature used before its partial is released.
    let (sig, recid, online_bytes) = sign_pair(&stores, device, server, &info, &hash)?;
    // Single use: the same presignature is refused a second time, for any message.
    match partial_sign(store(&stores, server)?, &info, &hash) {
        Err(wallet_types::Error::Store(wallet_types::StoreError::AlreadyUsed)) => {}
        other => return Err(format!("a presignature was taken twice: {other:?}")),
    }
    record_ecdsa(
        report,
        F,
        &vk,
        &hash,
        &sig.to_bytes().into(),
        recid.to_byte(),
    )?;
    report.step(
        F,
        "sign online: policy ok (amount 40 <= 100)",
        t0,
        2,
        online_bytes,
        "verified with k256".into(),
    );

    // Online: over the limit — refused before the server's presignature is used.
    let t0 = Instant::now();
    let over = tx(1_000, "car");
    match server_policy(&over, 100) {
        Ok(_) => return Err("the policy accepted an over-limit request".into()),
        Err(e) => report.step(
            F,
            "sign online: policy refuses amount 1000 > 100",
            t0,
            1,
            over.len(),
            e,
        ),
    }

    // Derived child address m/0/1.
    let t0 = Instant::now();
    let path = DerivationPath::parse("m/0/1").map_err(err("path"))?;
    let child = root.derive(&path).map_err(err("derive"))?;
    let child_vk = verifying_key(&child.public_key)?;
    let (cinfo, m, b) = presign_pair(&stores, device, server, &path, rng, 30)?;
    let hash = server_policy(&tx(5, "child"), 100)?;
    let (sig, recid, _) = sign_pair(&stores, device, server, &cinfo, &hash)?;
    record_ecdsa(
        report,
        F,
        &child_vk,
        &hash,
        &sig.to_bytes().into(),
        recid.to_byte(),
    )?;
    report.step(
        F,
        "derive child m/0/1, presign bound to the path, sign",
        t0,
        m + 2,
        b,
        format!("child address {}", eth_address(&child_vk)),
    );

    // Proactive refresh: a sharing of zero re-randomises both shares (wallet-pss), then fresh
    // pairwise OT setups (a device compromised in epoch 0 leaked its OT-extension secrets; kept
    // setups would expose later multiplications). Same key, same chain code, same addresses.
    // Each party reads its share from its store and installs the epoch-1 share into it.
    let t0 = Instant::now();
    let rsession = SessionId::random(rng);
    let machines = stores
        .values()
        .map(|s| {
            s.with_key(|k| wallet_pss::ecdsa::refresh(rsession, k, rng))
                .map_err(err("store"))?
                .map_err(err("refresh"))
        })
        .collect::<Res<Vec<_>>>()?;
    let (refreshed, m1, b1) = run(machines, 13)?;
    // Only a refresh every party acknowledged goes on (the epoch-0 share stays in the store
    // until the epoch-1 share is installed).
    let refreshed = confirmed(refreshed)?;
    let resetup_session = rsession.derive(b"ecdsa-resetup");
    let machines = refreshed
        .into_iter()
        .map(|(p, new)| {
            store(&stores, p)?
                .with_key(|old| wallet_pss::ecdsa::resetup_after_refresh(resetup_session, new, old))
                .map_err(err("store"))?
                .map_err(err("resetup"))
        })
        .collect::<Res<Vec<_>>>()?;
    let (new_keys, m2, b2) = run(machines, 14)?;
    for (p, outcome) in new_keys {
        let new = outcome.result();
        if new.public_key() != root.public_key()
            || new.chain_code() != root.chain_code()
            || new.epoch() != 1
        {
            return Err("refresh changed the key or the chain code".into());
        }
        // Installed only when every party acknowledged the new epoch (an unconfirmed share is
        // handed back, to be kept next to the epoch-0 share); refuses an older or same epoch
        // and another key; retires epoch 0's presignatures.
        wallet_tss::ecdsa::install_confirmed(store(&stores, p)?, outcome, &[])
            .map_err(err("install"))?;
    }
    let (ninfo, m3, b3) = presign_pair(&stores, device, server, &path, rng, 31)?;
    let hash = server_policy(&tx(7, "after refresh"), 100)?;
    let (sig, recid, _) = sign_pair(&stores, device, server, &ninfo, &hash)?;
    record_ecdsa(
        report,
        F,
        &child_vk,
        &hash,
        &sig.to_bytes().into(),
        recid.to_byte(),
    )?;
    // A leftover epoch-0 presignature can no longer sign: the store holds the epoch-1 share,
    // so taking it is refused before anything is computed from it.
    let old_info = batch.pop().ok_or("batch")?;
    let refused = match partial_sign(store(&stores, device)?, &old_info, &hash) {
        Ok(_) => return Err("an epoch-0 presignature signed after the refresh".into()),
        Err(e @ wallet_types::Error::WrongEpoch { .. }) => e,
        Err(e) => return Err(format!("epoch-0 presignature: unexpected error {e}")),
    };
    report.step(
        F,
        "refresh (zero-sharing + fresh OT setups), sign m/0/1 again",
        t0,
        m1 + m2 + m3 + 2,
        b1 + b2 + b3,
        format!(
            "epoch 1, same child address {}; epoch-0 presignature refused ({refused})",
            eth_address(&child_vk)
        ),
    );

    // Export (end of the threshold guarantee): both (current) shares give the key of the
    // address.
    let t0 = Instant::now();
    let sk = store(&stores, device)?
        .with_key(|d| {
            store(&stores, server)?
                .with_key(|s| ecdsa::export_private_key(d, s, &DerivationPath::root()))
                .map_err(err("store"))?
                .map_err(err("export"))
        })
        .map_err(err("store"))??;
    let exported =
        k256::ecdsa::SigningKey::from_bytes(&wallet_types::Secp256k1::encode_scalar(sk.expose()))
            .map_err(err("exported key"))?;
    if exported.verifying_key() != &vk {
        return Err("exported key does not match".into());
    }
    report.step(
        F,
        "export with both shares (ends the threshold guarantee)",
        t0,
        0,
        0,
        "matches the address".into(),
    );

    // 2-of-3 with a backup: device + backup sign when the server is unavailable.
    let t0 = Instant::now();
    let parties = Parties::range(3).map_err(err("parties"))?;
    let session = SessionId::random(rng);
    let machines = parties
        .iter()
        .map(|p| Keygen::new(session, p, parties.clone(), rng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err("keygen 3"))?;
    let (keys3, m, b) = run(machines, 12)?;
    let stores3 = key_stores(confirmed(keys3)?);
    let vk3 = verifying_key(&public_package(store(&stores3, device)?)?.public_key())?;
    let (m2, b2) = presign_sign_record(
        report,
        F,
        &stores3,
        (device, backup),
        &vk3,
        b"signed with the backup",
        rng,
        40,
    )?;
    report.step(
        F,
        "DKG 2-of-3 (device/server/backup); device + backup sign",
        t0,
        m + m2 + 2,
        b + b2,
        format!("address {}", eth_address(&vk3)),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 4. FROST Ed25519
// ---------------------------------------------------------------------------------------------

fn frost_sign(
    kps: &[&KeyPackage<Ed25519>],
    msg: &[u8],
    rng: &mut ChaCha20Rng,
) -> Res<([u8; 64], usize)> {
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for k in kps {
        let (mut n, c) = round1::preprocess(k, 1, rng);
        nonces.insert(k.id(), n.pop().ok_or("nonce")?);
        commitments.insert(k.id(), *c.first().ok_or("commitment")?);
    }
    let package = round2::SigningPackage::new(commitments, msg.to_vec()).map_err(err("package"))?;
    let mut shares = BTreeMap::new();
    let mut bytes = 0;
    for k in kps {
        let n = nonces.remove(&k.id()).ok_or("nonce")?;
        let z = round2::sign(&package, n, k).map_err(err("sign"))?;
        bytes += z.to_bytes().len();
        shares.insert(k.id(), z);
    }
    let first = kps.first().ok_or("signers")?;
    let sig = aggregate::aggregate(&package, &shares, first.public()).map_err(err("aggregate"))?;
    Ok((sig.to_array(), bytes))
}

fn reshare(
    keys: Vec<KeyShare<Ed25519>>,
    dealers: &[u16],
    new: &[u16],
    t: usize,
    rng: &mut ChaCha20Rng,
    seed: u64,
) -> Res<(Vec<KeyShare<Ed25519>>, usize, usize)> {
    let first = keys.first().ok_or("keys")?;
    let cfg = ReshareConfig {
        old_commitments: first.commitments().clone(),
        old_parties: first.parties().clone(),
        old_epoch: first.epoch(),
        dealers: Parties::from_ids(dealers).map_err(err("dealers"))?,
        new_parties: Parties::from_ids(new).map_err(err("new parties"))?,
        new_threshold: t,
        allow_threshold_one: false,
    };
    let session = SessionId::random(rng);
    let by_id: BTreeMap<PartyId, KeyShare<Ed25519>> =
        keys.into_iter().map(|k| (k.me(), k)).collect();
    let everyone: BTreeSet<PartyId> = cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
    let mut machines = Vec::new();
    for p in everyone {
        // Borrowed: the old shares stay here until every new party acknowledged.
        let old = by_id.get(&p).filter(|_| cfg.dealers.contains(p));
        machines.push(Reshare::new(session, cfg.clone(), p, old, rng).map_err(err("reshare"))?);
    }
    let (out, m, b) = run(machines, seed)?;
    if let Some((p, o)) = out.iter().find(|(_, o)| !o.may_delete_old_share()) {
        return Err(format!(
            "reshare: {p} ended unconfirmed ({o:?}); old shares kept"
        ));
    }
    drop(by_id);
    let keys = out
        .into_values()
        .filter_map(ReshareOutput::into_confirmed_share)
        .collect();
    Ok((keys, m, b))
}

/// FROST 2-of-3: DKG, nonce preprocessing, signing; add a device and remove one by reshare;
/// sign again under the same public key.
pub fn frost_flow(rng: &mut ChaCha20Rng, report: &mut Report) -> Res<()> {
    const F: &str = "tss-frost";
    let t0 = Instant::now();
    let parties = Parties::range(3).map_err(err("parties"))?;
    let session = SessionId::random(rng);
    let machines = parties
        .iter()
        .map(|p| DkgParty::<Ed25519>::new(session, p, parties.clone(), 2, rng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err("dkg"))?;
    let (kps, m, b) = run(machines, 50)?;
    let kps: Vec<KeyPackage<Ed25519>> = confirmed(kps)?.into_values().collect();
    let first = kps.first().ok_or("dkg output")?;
    let pk: [u8; 32] = first.public().group_key_bytes();
    report.step(
        F,
        "DKG 2-of-3 (PoK, Feldman, confirmation)",
        t0,
        m,
        b,
        format!("public key {}", hex::encode(pk)),
    );

    let t0 = Instant::now();
    let msg = b"frost: send 1 SOL";
    let signers: Vec<&KeyPackage<Ed25519>> = kps.iter().take(2).collect();
    let (sig, bytes) = frost_sign(&signers, msg, rng)?;
    record_ed25519(report, F, &pk, msg, &sig)?;
    report.step(
        F,
        "preprocess nonces, sign with P1 + P2, aggregate (shares verified)",
        t0,
        2,
        bytes,
        "verify_strict ok".into(),
    );

    let t0 = Instant::now();
    let shares: Vec<KeyShare<Ed25519>> = kps
        .iter()
        .map(|k| to_key_share(k, 0))
        .collect::<Result<_, _>>()
        .map_err(err("to key share"))?;
    let (added, m, b) = reshare(shares, &[1, 2], &[1, 2, 3, 4], 2, rng, 51)?;
    report.step(
        F,
        "add device 4 by reshare (2-of-4)",
        t0,
        m,
        b,
        "same public key".into(),
    );
    let t0 = Instant::now();
    let (removed, m, b) = reshare(added, &[1, 4], &[2, 3, 4], 2, rng, 52)?;
    report.step(
        F,
        "remove device 1 by reshare (2-of-3 over 2, 3, 4)",
        t0,
        m,
        b,
        "same public key".into(),
    );

    let t0 = Instant::now();
    let new_kps: Vec<KeyPackage<Ed25519>> = removed
        .iter()
        .map(from_key_share)
        .collect::<Result<_, _>>()
        .map_err(err("from key share"))?;
    if new_kps.iter().any(|k| k.public().group_key_bytes() != pk) {
        return Err("reshare changed the public key".into());
    }
    let signers: Vec<&KeyPackage<Ed25519>> = new_kps.iter().filter(|k| k.id().get() != 2).collect();
    let msg = b"frost: signed by devices 3 and 4";
    let (sig, bytes) = frost_sign(&signers, msg, rng)?;
    record_ed25519(report, F, &pk, msg, &sig)?;
    // The removed device's old key package cannot sign with the new devices.
    let stale = kps.first().ok_or("stale")?;
    let mixed: Vec<&KeyPackage<Ed25519>> = vec![stale, new_kps.iter().last().ok_or("new")?];
    if frost_sign(&mixed, b"mixed", rng).is_ok() {
        return Err("the removed device still signs".into());
    }
    report.step(
        F,
        "sign again with devices 3 + 4 under the same key; removed device refused",
        t0,
        2,
        bytes,
        "verify_strict ok".into(),
    );
    Ok(())
}

/// Runs every flow with a seeded RNG.
pub fn run_all(seed: u64) -> Res<Report> {
    use rand_core::SeedableRng;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut report = Report::default();
    kek_flow(&mut rng, &mut report)?;
    sss_flow(&mut rng, &mut report)?;
    ecdsa_flow(&mut rng, &mut report)?;
    threshold_flow(&mut rng, &mut report)?;
    combined_flow(&mut rng, &mut report)?;
    frost_flow(&mut rng, &mut report)?;
    Ok(report)
}
