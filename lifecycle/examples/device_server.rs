//! A device and a server as two OS processes talking over TCP on 127.0.0.1: two-party ECDSA
//! (key generation, a pool of presignatures, signing after the server's policy check) and
//! FROST(Ed25519) 2-of-3 (DKG with an offline backup share, signing by device + server).
//!
//! ```text
//! cargo run --release -p lifecycle --example device_server -- [--json] [--seed S]
//!     [--state-dir DIR] [--crash-server N:before|after]
//! ```
//!
//! This process is the device. For **every request** it starts a fresh server process (this
//! executable with `--serve DIR`), which listens on an ephemeral port of 127.0.0.1, answers one
//! request and exits: everything the server knows between requests is in `DIR/state.bin`,
//! AES-256-GCM-encrypted under `DIR/server.key` (in production a KMS or HSM key). The decisions
//! — session-id agreement, binding the authenticated sender, idempotent retries, what is
//! persisted when — are explained in `docs/integration.md`, with the measured bytes per
//! message.
//!
//! `--crash-server N:before` makes the N-th server process abort after reading its request
//! and before processing it; `N:after` makes it abort after it processed the request and
//! committed its state, before it answers. Either way the device sees the connection close,
//! starts a new server process and sends the same bytes again, and the run finishes.
//!
//! With `--json` one JSON object goes to stdout (`docs/example-output.md`: `"signatures"`, plus
//! `"requests"` with the bytes of each request and response, `"server_processes"` and
//! `"retries"`); the narrative goes to stderr.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Mutex, MutexGuard};

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha3::{Digest, Keccak256};
use wallet_lifecycle::{eth_address, server_policy};
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare, KeyStore, Keygen, MemoryKeyStore, PairingGuard, PartialSignature,
    Presign, PresignatureInfo, combine, partial_sign,
};
use wallet_tss::frost::dkg::DkgParty;
use wallet_tss::frost::round1::SigningCommitments;
use wallet_tss::frost::round2::{SignatureShare, SigningPackage};
use wallet_tss::frost::{KeyPackage, aggregate, round1, round2};
use wallet_types::retry::LastResponse;
use wallet_types::{
    Ed25519, Envelope, Error, OneTimeStore, Parties, PartyId, Protocol, Reader, Recipient,
    SecretBytes, SecretVec, SessionId, Step, StoreError, Transcript, WireObject, Writer, aead,
};

/// An error message; any displayable error converts into it (so `?` works on every crate's
/// errors), and it is shown to the user or sent back as a refusal.
#[derive(Debug)]
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

type Res<T> = Result<T, Fail>;

fn err<E: std::fmt::Display>(context: &'static str) -> impl Fn(E) -> Fail {
    move |e| Fail(format!("{context}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Parties, requests, framing
// ---------------------------------------------------------------------------------------------

const DEVICE: u16 = 1;
const SERVER: u16 = 2;
/// The FROST backup share: created on the device during the DKG and exported (paper, a second
/// device); it takes no part in signing here.
const BACKUP: u16 = 3;
/// The server's policy limit for a transaction amount.
const LIMIT: u64 = 100;
/// Largest frame either side reads (a presignature round is about 82 kB).
const MAX_FRAME: usize = 4 << 20;

const OP_HELLO: u8 = 1;
const OP_MESSAGES: u8 = 2;
const OP_ECDSA_SIGN: u8 = 3;
const OP_FROST_COMMIT: u8 = 4;
const OP_FROST_SIGN: u8 = 5;

const KIND_KEYGEN: u8 = 1;
const KIND_PRESIGN: u8 = 2;
const KIND_FROST_DKG: u8 = 3;

const STATUS_OK: u8 = 0;
const STATUS_REFUSED: u8 = 1;

fn party(n: u16) -> Res<PartyId> {
    PartyId::new(n).ok_or_else(|| Fail("party id 0".into()))
}

fn request(op: u8, session: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(op);
    w.bytes(session);
    w.var_bytes(payload);
    w.finish()
}

fn response(status: u8, body: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(status);
    w.var_bytes(body);
    w.finish()
}

/// A list of encoded envelopes and whether the sender's machine is done.
fn envelopes_body(done: bool, envs: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::new();
    w.bool(done);
    w.u32(envs.len() as u32);
    for e in envs {
        w.var_bytes(e);
    }
    w.finish()
}

fn read_envelopes(r: &mut Reader<'_>) -> Res<(bool, Vec<Vec<u8>>)> {
    let done = r.bool().map_err(err("done flag"))?;
    let n = r.count(1024, 4).map_err(err("envelope count"))?;
    let mut envs = Vec::with_capacity(n);
    for _ in 0..n {
        envs.push(r.var_bytes(MAX_FRAME).map_err(err("envelope"))?.to_vec());
    }
    Ok((done, envs))
}

fn write_frame(s: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    s.write_all(&(bytes.len() as u32).to_be_bytes())?;
    s.write_all(bytes)?;
    s.flush()
}

fn read_frame(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("frame too large"));
    }
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

/// The session id both sides derive from their fresh nonces (one round trip; see the guide):
/// fresh for each side as long as its own nonce is, so neither can replay an old session.
fn agree_session(kind: u8, device_nonce: &[u8; 32], server_nonce: &[u8; 32]) -> SessionId {
    let mut t = Transcript::new(
        "wallet-lifecycle/device-server/session",
        1,
        None,
        &SessionId([0; 32]),
    );
    t.append("kind", &[kind]);
    t.append("device-nonce", device_nonce);
    t.append("server-nonce", server_nonce);
    SessionId(t.output32("session-id"))
}

/// Binds an envelope received on an authenticated channel to the party the channel speaks
/// for: with one party the claimed sender is overwritten, with several (the device runs the
/// FROST backup's DKG machine too) the claim must be one of them.
fn bind_sender<M>(mut env: Envelope<M>, speaks_for: &[PartyId]) -> Res<Envelope<M>> {
    match speaks_for {
        [only] => env.sender = *only,
        many if many.contains(&env.sender) => {}
        _ => {
            return Err(Fail(format!(
                "sender {} not behind this connection",
                env.sender
            )));
        }
    }
    Ok(env)
}

// ---------------------------------------------------------------------------------------------
// The server's durable state and its key store
// ---------------------------------------------------------------------------------------------

/// One-time material (ECDSA presignature halves, FROST nonces), as data that is persisted.
#[derive(Default)]
struct OneTime {
    entries: BTreeMap<([u8; 32], [u8; 32]), SecretVec>,
    used: BTreeSet<([u8; 32], [u8; 32])>,
    retired: BTreeSet<[u8; 32]>,
}

struct Session {
    kind: u8,
    done: bool,
    machine: SecretVec,
}

/// Everything the server keeps between requests. Written in one atomic step (temporary file,
/// fsync, rename) after a request was processed and before it is answered.
#[derive(Default)]
struct ServerState {
    ecdsa_key: Option<SecretVec>,
    frost_key: Option<SecretVec>,
    onetime: OneTime,
    sessions: BTreeMap<[u8; 32], Session>,
    last: Option<LastResponse>,
}

const STATE_AAD: &[u8] = b"wallet-lifecycle/device-server/state/v1";

impl ServerState {
    fn encode(&self) -> SecretVec {
        let mut w = Writer::secret();
        for k in [&self.ecdsa_key, &self.frost_key] {
            w.bool(k.is_some());
            if let Some(k) = k {
                w.var_bytes(k.expose());
            }
        }
        w.u32(self.onetime.entries.len() as u32);
        for ((scope, id), sealed) in &self.onetime.entries {
            w.bytes(scope);
            w.bytes(id);
            w.var_bytes(sealed.expose());
        }
        w.u32(self.onetime.used.len() as u32);
        for (scope, id) in &self.onetime.used {
            w.bytes(scope);
            w.bytes(id);
        }
        w.u32(self.onetime.retired.len() as u32);
        for scope in &self.onetime.retired {
            w.bytes(scope);
        }
        w.u32(self.sessions.len() as u32);
        for (sid, s) in &self.sessions {
            w.bytes(sid);
            w.u8(s.kind);
            w.bool(s.done);
            w.var_bytes(s.machine.expose());
        }
        w.bool(self.last.is_some());
        if let Some(l) = &self.last {
            w.var_bytes(l.encode().expose());
        }
        w.into_secret()
    }

    fn decode(bytes: &[u8]) -> Res<Self> {
        let mut r = Reader::new(bytes);
        let mut st = Self::default();
        let e = err("server state");
        let opt = |r: &mut Reader<'_>| -> Res<Option<SecretVec>> {
            Ok(if r.bool().map_err(err("flag"))? {
                Some(SecretVec::from_slice(
                    r.var_bytes(MAX_FRAME).map_err(err("key"))?,
                ))
            } else {
                None
            })
        };
        st.ecdsa_key = opt(&mut r)?;
        st.frost_key = opt(&mut r)?;
        for _ in 0..r.count(1 << 20, 68).map_err(&e)? {
            let scope = r.array::<32>().map_err(&e)?;
            let id = r.array::<32>().map_err(&e)?;
            let sealed = SecretVec::from_slice(r.var_bytes(MAX_FRAME).map_err(&e)?);
            st.onetime.entries.insert((scope, id), sealed);
        }
        for _ in 0..r.count(1 << 20, 64).map_err(&e)? {
            let scope = r.array::<32>().map_err(&e)?;
            let id = r.array::<32>().map_err(&e)?;
            st.onetime.used.insert((scope, id));
        }
        for _ in 0..r.count(1 << 20, 32).map_err(&e)? {
            st.onetime.retired.insert(r.array::<32>().map_err(&e)?);
        }
        for _ in 0..r.count(1 << 20, 38).map_err(&e)? {
            let sid = r.array::<32>().map_err(&e)?;
            let kind = r.u8().map_err(&e)?;
            let done = r.bool().map_err(&e)?;
            let machine = SecretVec::from_slice(r.var_bytes(MAX_FRAME).map_err(&e)?);
            st.sessions.insert(
                sid,
                Session {
                    kind,
                    done,
                    machine,
                },
            );
        }
        if r.bool().map_err(&e)? {
            let l = r.var_bytes(MAX_FRAME + 64).map_err(&e)?;
            st.last = Some(LastResponse::decode(l).map_err(&e)?);
        }
        r.finish().map_err(&e)?;
        Ok(st)
    }
}

/// The server key that encrypts the state at rest (a KMS / HSM key in production).
fn server_key(dir: &Path) -> Res<SecretBytes<32>> {
    let path = dir.join("server.key");
    if let Ok(bytes) = std::fs::read(&path) {
        let key = SecretBytes::<32>::from_slice(&bytes).ok_or("server.key: wrong length");
        let mut bytes = bytes;
        zeroize::Zeroize::zeroize(&mut bytes);
        return Ok(key?);
    }
    let mut key = SecretBytes::new([0u8; 32]);
    wallet_types::os_rng().fill_bytes(key.expose_mut());
    write_atomically(&path, key.expose())?;
    Ok(key)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Res<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(err("create state"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err("state permissions"))?;
    }
    f.write_all(bytes).map_err(err("write state"))?;
    f.sync_all().map_err(err("sync state"))?;
    std::fs::rename(&tmp, path).map_err(err("commit state"))
}

fn load_state(dir: &Path, key: &SecretBytes<32>) -> Res<ServerState> {
    let Ok(file) = std::fs::read(dir.join("state.bin")) else {
        return Ok(ServerState::default());
    };
    let (nonce, sealed) = file
        .split_at_checked(aead::NONCE_LEN)
        .ok_or("state too short")?;
    let nonce: [u8; aead::NONCE_LEN] = nonce.try_into().map_err(err("nonce"))?;
    let plain = aead::open(key, &nonce, STATE_AAD, sealed).map_err(|_| "state does not decrypt")?;
    ServerState::decode(plain.expose())
}

fn save_state(dir: &Path, key: &SecretBytes<32>, state: &ServerState) -> Res<()> {
    let mut nonce = [0u8; aead::NONCE_LEN];
    wallet_types::os_rng().fill_bytes(&mut nonce);
    let sealed = aead::seal(key, &nonce, STATE_AAD, state.encode().expose())
        .map_err(|_| "state does not encrypt")?;
    let mut file = nonce.to_vec();
    file.extend_from_slice(&sealed);
    write_atomically(&dir.join("state.bin"), &file)
}

/// The server's key store for one request: the key share (if any) and the one-time material,
/// both taken out of [`ServerState`] and put back (with any ban) before the state is saved.
struct ServerStore {
    key: Option<Mutex<KeyShare>>,
    onetime: Mutex<OneTime>,
}

struct ServerGuard<'a> {
    key: MutexGuard<'a, KeyShare>,
    other: PartyId,
}

impl PairingGuard for ServerGuard<'_> {
    fn key(&self) -> &KeyShare {
        &self.key
    }
    fn ban(&mut self) -> Result<(), StoreError> {
        // Durable with the state commit, before any answer leaves the server.
        self.key.ban(self.other);
        Ok(())
    }
}

impl ServerStore {
    fn onetime(&self) -> Result<MutexGuard<'_, OneTime>, StoreError> {
        self.onetime.lock().map_err(|_| StoreError::Unavailable)
    }
}

impl OneTimeStore for ServerStore {
    fn put(&self, scope: &[u8; 32], id: &[u8; 32], sealed: SecretVec) -> Result<(), StoreError> {
        let mut o = self.onetime()?;
        if o.retired.contains(scope) {
            return Err(StoreError::Retired);
        }
        let k = (*scope, *id);
        if o.used.contains(&k) || o.entries.contains_key(&k) {
            return Err(StoreError::AlreadyUsed);
        }
        o.entries.insert(k, sealed);
        Ok(())
    }
    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError> {
        let mut o = self.onetime()?;
        if o.retired.contains(scope) {
            return Err(StoreError::Retired);
        }
        let k = (*scope, *id);
        if o.used.contains(&k) {
            return Err(StoreError::AlreadyUsed);
        }
        let sealed = o.entries.remove(&k).ok_or(StoreError::NotFound)?;
        o.used.insert(k);
        Ok(sealed)
    }
    fn retire(&self, scope: &[u8; 32]) -> Result<(), StoreError> {
        let mut o = self.onetime()?;
        o.entries.retain(|(s, _), _| s != scope);
        o.used.retain(|(s, _)| s != scope);
        o.retired.insert(*scope);
        Ok(())
    }
}

impl KeyStore for ServerStore {
    type Guard<'a> = ServerGuard<'a>;
    fn lock_pairing(&self, other: PartyId) -> Result<ServerGuard<'_>, StoreError> {
        let key = self
            .key
            .as_ref()
            .ok_or(StoreError::NotFound)?
            .lock()
            .map_err(|_| StoreError::Unavailable)?;
        Ok(ServerGuard { key, other })
    }
    fn install(
        &self,
        next: KeyShare,
        _lift_bans: &[PartyId],
    ) -> Result<(), wallet_tss::ecdsa::InstallError> {
        // This example does not refresh; see `MemoryKeyStore::install` for the contract (the
        // share is handed back, never dropped).
        Err(wallet_tss::ecdsa::InstallError {
            error: Error::Internal,
            share: Some(next),
        })
    }
}

/// Runs `f` with the state's key store, then writes the key share (bans) and the one-time
/// material back, whatever `f` returned.
fn with_store<T>(state: &mut ServerState, f: impl FnOnce(&ServerStore) -> Res<T>) -> Res<T> {
    let key = match &state.ecdsa_key {
        Some(bytes) => Some(Mutex::new(
            KeyShare::from_bytes(bytes.expose()).map_err(err("key share"))?,
        )),
        None => None,
    };
    let store = ServerStore {
        key,
        onetime: Mutex::new(std::mem::take(&mut state.onetime)),
    };
    let out = f(&store);
    state.onetime = store.onetime.into_inner().map_err(|_| "store poisoned")?;
    if let Some(k) = store.key {
        let k = k.into_inner().map_err(|_| "store poisoned")?;
        state.ecdsa_key = Some(k.to_secret_bytes());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The server: one process per request
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Crash {
    Before,
    After,
}

fn serve(dir: &Path, crash: Option<Crash>, seed: Option<u64>) -> Res<()> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(err("bind"))?;
    let port = listener.local_addr().map_err(err("addr"))?.port();
    println!("{port}");
    std::io::stdout().flush().map_err(err("stdout"))?;
    // The transport would authenticate the device here (mTLS, a session token): everything on
    // this connection speaks for the device's parties and nobody else.
    let (mut conn, _) = listener.accept().map_err(err("accept"))?;
    let request = read_frame(&mut conn).map_err(err("read request"))?;
    if crash == Some(Crash::Before) {
        eprintln!("  [server] aborting before processing (test)");
        std::process::abort();
    }
    let key = server_key(dir)?;
    let mut state = load_state(dir, &key)?;
    let answer = match state.last.as_ref().and_then(|l| l.replay(&request)) {
        Some(cached) => {
            eprintln!("  [server] a retry of the last request: the same answer again");
            cached.to_vec()
        }
        None => {
            let mut rng = server_rng(seed, &request);
            let answer = match handle(&mut state, &request, &mut rng) {
                Ok(body) => response(STATUS_OK, &body),
                Err(reason) => response(STATUS_REFUSED, reason.0.as_bytes()),
            };
            state.last = Some(LastResponse::new(&request, SecretVec::from_slice(&answer)));
            // One atomic commit: the new machine state, the one-time store and the answer.
            save_state(dir, &key, &state)?;
            answer
        }
    };
    if crash == Some(Crash::After) {
        eprintln!("  [server] aborting after the commit, before answering (test)");
        std::process::abort();
    }
    write_frame(&mut conn, &answer).map_err(err("write response"))
}

/// The server's RNG for one request: the OS generator, or (with `--seed`) derived from the
/// seed and the request, so that a run is reproducible and a reprocessed retry is identical.
fn server_rng(seed: Option<u64>, request: &[u8]) -> ChaCha20Rng {
    let mut s = [0u8; 32];
    match seed {
        Some(seed) => {
            let mut t = Transcript::new(
                "wallet-lifecycle/device-server/rng",
                1,
                None,
                &SessionId([0; 32]),
            );
            t.append("seed", &seed.to_be_bytes());
            t.append("request", request);
            s = t.output32("rng");
        }
        None => wallet_types::os_rng().fill_bytes(&mut s),
    }
    ChaCha20Rng::from_seed(s)
}

fn collect<M: WireObject, O>(step: Step<M, O>, out: &mut Vec<Vec<u8>>) -> Option<O> {
    let (msgs, o) = match step {
        Step::Continue(m) => (m, None),
        Step::Done(m, o) => (m, Some(o)),
    };
    out.extend(msgs.iter().map(Envelope::encode));
    o
}

fn handle(state: &mut ServerState, request: &[u8], rng: &mut ChaCha20Rng) -> Res<Vec<u8>> {
    let mut r = Reader::new(request);
    let e = err("request");
    let op = r.u8().map_err(&e)?;
    let sid = r.array::<32>().map_err(&e)?;
    let payload = r.var_bytes(MAX_FRAME).map_err(&e)?;
    r.finish().map_err(&e)?;
    let mut p = Reader::new(payload);
    let device = party(DEVICE)?;
    let server = party(SERVER)?;
    match op {
        OP_HELLO => {
            let kind = p.u8().map_err(&e)?;
            let device_nonce = p.array::<32>().map_err(&e)?;
            let mut server_nonce = [0u8; 32];
            rng.fill_bytes(&mut server_nonce);
            let sid = agree_session(kind, &device_nonce, &server_nonce);
            if state.sessions.contains_key(&sid.0) {
                return Err("session id seen before".into());
            }
            let mut out = Vec::new();
            let machine = match kind {
                KIND_KEYGEN => {
                    if state.ecdsa_key.is_some() {
                        return Err("this server already holds an ECDSA key".into());
                    }
                    let mut m = Keygen::new(sid, server, Parties::range(2)?, rng)?;
                    collect(m.start(rng)?, &mut out);
                    m.to_secret_bytes()
                }
                KIND_PRESIGN => {
                    let path =
                        std::str::from_utf8(p.var_bytes(256).map_err(&e)?).map_err(err("path"))?;
                    let path = DerivationPath::parse(path).map_err(err("path"))?;
                    with_store(state, |store| {
                        let mut m = Presign::new(store, device, path, sid, rng)?;
                        collect(m.start(rng)?, &mut out);
                        Ok(m.save())
                    })?
                }
                KIND_FROST_DKG => {
                    let mut m = DkgParty::<Ed25519>::new(sid, server, Parties::range(3)?, 2, rng)?;
                    collect(m.start(rng)?, &mut out);
                    m.to_secret_bytes()
                }
                _ => return Err("unknown session kind".into()),
            };
            p.finish().map_err(&e)?;
            state.sessions.insert(
                sid.0,
                Session {
                    kind,
                    done: false,
                    machine,
                },
            );
            let mut w = Writer::new();
            w.bytes(&server_nonce);
            w.bytes(&envelopes_body(false, &out));
            Ok(w.finish())
        }
        OP_MESSAGES => {
            let (_, envs) = read_envelopes(&mut p)?;
            p.finish().map_err(&e)?;
            let session = state.sessions.get(&sid).ok_or("unknown session")?;
            let (kind, done) = (session.kind, session.done);
            let bytes = SecretVec::from_slice(session.machine.expose());
            if done {
                return Ok(envelopes_body(true, &[]));
            }
            let mut out = Vec::new();
            let (machine, finished) = match kind {
                KIND_KEYGEN => {
                    let mut m = Keygen::from_bytes(bytes.expose()).map_err(err("state"))?;
                    let mut key = None;
                    for env in &envs {
                        let env = bind_sender(
                            Envelope::decode(env).map_err(err("envelope"))?,
                            &[device],
                        )?;
                        if let Some(t) = collect(m.handle(env, rng)?, &mut out) {
                            key = Some(t);
                        }
                    }
                    let finished = key.is_some();
                    if let Some(t) = key {
                        // Kept even if unconfirmed (invariant 11); used only once confirmed.
                        eprintln!(
                            "  [server] ECDSA key share stored (confirmed: {})",
                            t.is_confirmed()
                        );
                        state.ecdsa_key = Some(t.into_result().to_secret_bytes());
                    }
                    (m.to_secret_bytes(), finished)
                }
                KIND_PRESIGN => with_store(state, |store| {
                    let mut m = Presign::restore(store, bytes.expose()).map_err(err("state"))?;
                    let mut finished = false;
                    for env in &envs {
                        let env = bind_sender(
                            Envelope::decode(env).map_err(err("envelope"))?,
                            &[device],
                        )?;
                        finished |= collect(m.handle(env, rng)?, &mut out).is_some();
                    }
                    Ok((m.save(), finished))
                })?,
                KIND_FROST_DKG => {
                    let mut m =
                        DkgParty::<Ed25519>::from_bytes(bytes.expose()).map_err(err("state"))?;
                    let mut key = None;
                    let behind_device = [device, party(BACKUP)?];
                    for env in &envs {
                        let env = bind_sender(
                            Envelope::decode(env).map_err(err("envelope"))?,
                            &behind_device,
                        )?;
                        if let Some(t) = collect(m.handle(env, rng)?, &mut out) {
                            key = Some(t);
                        }
                    }
                    let finished = key.is_some();
                    if let Some(t) = key {
                        eprintln!(
                            "  [server] FROST key package stored (confirmed: {})",
                            t.is_confirmed()
                        );
                        state.frost_key = Some(t.into_result().to_secret_bytes());
                    }
                    (m.to_secret_bytes(), finished)
                }
                _ => return Err("unknown session kind".into()),
            };
            if let Some(s) = state.sessions.get_mut(&sid) {
                s.done = finished;
                // A finished machine's state is dropped; the session id stays, so it is refused.
                s.machine = if finished {
                    SecretVec::from_slice(&[])
                } else {
                    machine
                };
            }
            Ok(envelopes_body(finished, &out))
        }
        OP_ECDSA_SIGN => {
            let info = PresignatureInfo::from_bytes(p.var_bytes(MAX_FRAME).map_err(&e)?)
                .map_err(err("presignature info"))?;
            let tx = p.var_bytes(4096).map_err(&e)?.to_vec();
            p.finish().map_err(&e)?;
            // The policy check: the server parses the transaction and hashes it itself.
            let hash = server_policy(&tx, LIMIT)?;
            let partial = with_store(state, |store| Ok(partial_sign(store, &info, &hash)?))?;
            Ok(partial.to_bytes())
        }
        OP_FROST_COMMIT => {
            p.finish().map_err(&e)?;
            let key = frost_key(state)?;
            let commitments = with_store(state, |store| {
                Ok(round1::preprocess_into(store, &key, 1, rng)?)
            })?;
            Ok(commitments.first().ok_or("no commitments")?.to_bytes())
        }
        OP_FROST_SIGN => {
            let package =
                SigningPackage::<Ed25519>::from_bytes(p.var_bytes(MAX_FRAME).map_err(&e)?)
                    .map_err(err("signing package"))?;
            p.finish().map_err(&e)?;
            let key = frost_key(state)?;
            let share = with_store(state, |store| {
                Ok(round2::sign_with_store(&package, store, &key)?)
            })?;
            Ok(share.to_bytes())
        }
        _ => Err("unknown operation".into()),
    }
}

fn frost_key(state: &ServerState) -> Res<KeyPackage<Ed25519>> {
    let bytes = state.frost_key.as_ref().ok_or("no FROST key yet")?;
    KeyPackage::from_bytes(bytes.expose()).map_err(err("FROST key"))
}

// ---------------------------------------------------------------------------------------------
// The device
// ---------------------------------------------------------------------------------------------

struct Client {
    exe: PathBuf,
    dir: PathBuf,
    seed: Option<u64>,
    crash: Option<(usize, Crash)>,
    processes: usize,
    retries: usize,
    log: Vec<(String, usize, usize)>,
}

impl Client {
    /// Sends one request to a fresh server process; resends the same bytes to a new process
    /// when the answer does not come.
    fn call(&mut self, label: &str, request: &[u8]) -> Res<Vec<u8>> {
        for _attempt in 0..3 {
            self.processes += 1;
            let mut cmd = Command::new(&self.exe);
            cmd.arg("--serve")
                .arg(&self.dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            if let Some(s) = self.seed {
                cmd.arg("--seed").arg(s.to_string());
            }
            if let Some((n, crash)) = self.crash
                && n == self.processes
            {
                let at = if crash == Crash::Before {
                    "before"
                } else {
                    "after"
                };
                cmd.arg("--crash").arg(at);
            }
            let mut child = cmd.spawn().map_err(err("spawn server"))?;
            let mut line = String::new();
            let stdout = child.stdout.take().ok_or("server stdout")?;
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(err("server port"))?;
            let port: u16 = line.trim().parse().map_err(err("server port"))?;
            let answer = TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
                write_frame(&mut s, request)?;
                read_frame(&mut s)
            });
            let status = child.wait().map_err(err("wait server"))?;
            match answer {
                Ok(a) => {
                    self.log.push((label.to_string(), request.len(), a.len()));
                    let mut r = Reader::new(&a);
                    let st = r.u8().map_err(err("status"))?;
                    let body = r.var_bytes(MAX_FRAME).map_err(err("body"))?.to_vec();
                    r.finish().map_err(err("response"))?;
                    if st != STATUS_OK {
                        return Err(Fail(format!("refused: {}", String::from_utf8_lossy(&body))));
                    }
                    return Ok(body);
                }
                Err(e) => {
                    self.retries += 1;
                    eprintln!(
                        "  [device] no answer to {label} ({e}; server {status}): retrying with the same bytes"
                    );
                }
            }
        }
        Err(Fail(format!("{label}: no answer after 3 attempts")))
    }
}

/// Runs `locals` (the device's machines) against the server's machine of session `kind`:
/// agrees on the session id, then moves messages until every machine is done.
fn run_with_server<P: Protocol>(
    client: &mut Client,
    label: &str,
    kind: u8,
    extra: &[u8],
    rng: &mut ChaCha20Rng,
    make: impl FnOnce(SessionId, &mut ChaCha20Rng) -> Res<Vec<P>>,
) -> Res<Vec<P::Output>> {
    let server = party(SERVER)?;
    let mut device_nonce = [0u8; 32];
    rng.fill_bytes(&mut device_nonce);
    let mut hello = vec![kind];
    hello.extend_from_slice(&device_nonce);
    hello.extend_from_slice(extra);
    let body = client.call(
        &format!("{label}: hello"),
        &request(OP_HELLO, &[0; 32], &hello),
    )?;
    let mut r = Reader::new(&body);
    let server_nonce = r.array::<32>().map_err(err("server nonce"))?;
    let (mut server_done, first) = read_envelopes(&mut r)?;
    r.finish().map_err(err("hello"))?;
    let sid = agree_session(kind, &device_nonce, &server_nonce);

    let mut machines = make(sid, rng)?;
    let locals: Vec<PartyId> = machines.iter().map(Protocol::me).collect();
    let mut done = vec![false; machines.len()];
    let mut outputs = Vec::new();
    let mut local_q: VecDeque<(PartyId, Vec<u8>)> = VecDeque::new();
    let mut to_server: Vec<Vec<u8>> = Vec::new();
    let route = |bytes: Vec<u8>,
                 from: PartyId,
                 to: Recipient,
                 q: &mut VecDeque<(PartyId, Vec<u8>)>,
                 s: &mut Vec<Vec<u8>>| {
        if to == Recipient::One(server) || (to == Recipient::All && from != server) {
            s.push(bytes.clone());
        }
        for l in &locals {
            if *l != from && (to == Recipient::All || to == Recipient::One(*l)) {
                q.push_back((*l, bytes.clone()));
            }
        }
    };
    let from_server = |bytes: &[u8]| -> Res<(Vec<u8>, Recipient)> {
        // Bound to the server: this connection is the server's, whatever the bytes claim.
        let env = bind_sender(
            Envelope::<P::Message>::decode(bytes).map_err(err("envelope"))?,
            &[server],
        )?;
        Ok((env.encode(), env.recipient))
    };
    for b in &first {
        let (b, to) = from_server(b)?;
        route(b, server, to, &mut local_q, &mut to_server);
    }
    for (i, m) in machines.iter_mut().enumerate() {
        let me = m.me();
        let step = m.start(rng).map_err(err("start"))?;
        if let Some(o) = deliver(step, me, &route, &mut local_q, &mut to_server) {
            outputs.push(o);
            if let Some(d) = done.get_mut(i) {
                *d = true;
            }
        }
    }
    loop {
        while let Some((to, bytes)) = local_q.pop_front() {
            let i = locals
                .iter()
                .position(|l| *l == to)
                .ok_or("no such local party")?;
            if done.get(i).copied().unwrap_or(true) {
                continue; // a finished machine needs nothing more
            }
            let env = Envelope::<P::Message>::decode(&bytes).map_err(err("envelope"))?;
            let m = machines.get_mut(i).ok_or("no machine")?;
            let step = m.handle(env, rng).map_err(err("handle"))?;
            if let Some(o) = deliver(step, to, &route, &mut local_q, &mut to_server) {
                outputs.push(o);
                if let Some(d) = done.get_mut(i) {
                    *d = true;
                }
            }
        }
        if to_server.is_empty() {
            break;
        }
        let batch = envelopes_body(false, &std::mem::take(&mut to_server));
        let body = client.call(
            &format!("{label}: messages"),
            &request(OP_MESSAGES, &sid.0, &batch),
        )?;
        let mut r = Reader::new(&body);
        let (d, envs) = read_envelopes(&mut r)?;
        r.finish().map_err(err("messages"))?;
        server_done |= d;
        for b in &envs {
            let (b, to) = from_server(b)?;
            route(b, server, to, &mut local_q, &mut to_server);
        }
    }
    if !server_done || done.iter().any(|d| !d) {
        return Err(Fail(format!("{label}: the protocol stalled")));
    }
    Ok(outputs)
}

fn deliver<M: WireObject, O>(
    step: Step<M, O>,
    from: PartyId,
    route: &impl Fn(Vec<u8>, PartyId, Recipient, &mut VecDeque<(PartyId, Vec<u8>)>, &mut Vec<Vec<u8>>),
    q: &mut VecDeque<(PartyId, Vec<u8>)>,
    s: &mut Vec<Vec<u8>>,
) -> Option<O> {
    let (msgs, o) = match step {
        Step::Continue(m) => (m, None),
        Step::Done(m, o) => (m, Some(o)),
    };
    for env in msgs {
        route(env.encode(), from, env.recipient, q, s);
    }
    o
}

fn tx(amount: u64, memo: &str) -> Vec<u8> {
    let mut t = amount.to_be_bytes().to_vec();
    t.extend_from_slice(memo.as_bytes());
    t
}

struct Signatures {
    json: Vec<String>,
}

fn device(client: &mut Client, seed: Option<u64>) -> Res<Signatures> {
    let mut rng = match seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => {
            let mut s = [0u8; 32];
            wallet_types::os_rng().fill_bytes(&mut s);
            ChaCha20Rng::from_seed(s)
        }
    };
    let (device, server) = (party(DEVICE)?, party(SERVER)?);
    let mut json = Vec::new();

    // --- Two-party ECDSA: key generation.
    eprintln!("ECDSA 2-of-2: key generation");
    let outs = run_with_server(
        client,
        "ecdsa keygen",
        KIND_KEYGEN,
        &[],
        &mut rng,
        |sid, rng| Ok(vec![Keygen::new(sid, device, Parties::range(2)?, rng)?]),
    )?;
    let share = outs
        .into_iter()
        .next()
        .ok_or("no key")?
        .into_confirmed()
        .map_err(|_| "key generation not confirmed")?;
    let store = MemoryKeyStore::new(share);
    let vk = store
        .public_package()
        .map_err(err("package"))?
        .verifying_key()?;
    eprintln!("  address {}", eth_address(&vk));

    // --- A pool of presignatures (offline, while the user is idle).
    let path = "m/0/1";
    let mut extra = Vec::new();
    extra.extend_from_slice(&(path.len() as u32).to_be_bytes());
    extra.extend_from_slice(path.as_bytes());
    let mut pool = VecDeque::new();
    for i in 0..3 {
        eprintln!("ECDSA: presignature {} of 3 (path {path})", i + 1);
        let outs = run_with_server(
            client,
            "ecdsa presign",
            KIND_PRESIGN,
            &extra,
            &mut rng,
            |sid, rng| {
                let p = DerivationPath::parse(path).map_err(err("path"))?;
                Ok(vec![Presign::new(&store, server, p, sid, rng)?])
            },
        )?;
        pool.extend(outs);
    }

    // --- Signing: the server checks its policy, then releases its partial signature.
    for (amount, memo) in [(40, "coffee"), (1000, "car"), (7, "tip")] {
        let t = tx(amount, memo);
        let hash: [u8; 32] = Keccak256::digest(&t).into();
        let info = pool.front().ok_or("presignature pool empty")?;
        let mut payload = Writer::new();
        payload.var_bytes(&info.to_bytes());
        payload.var_bytes(&t);
        let answer = client.call(
            "ecdsa sign",
            &request(OP_ECDSA_SIGN, &[0; 32], &payload.finish()),
        );
        let server_partial = match answer {
            Ok(b) => PartialSignature::from_bytes(&b).map_err(err("partial signature"))?,
            Err(reason) => {
                // The presignature was not used by the server: it stays in the pool.
                eprintln!("ECDSA: amount {amount} {}", reason.0);
                continue;
            }
        };
        let info = pool.pop_front().ok_or("presignature pool empty")?;
        let ours = partial_sign(&store, &info, &hash)?;
        let (sig, recid) = combine(
            &store.public_package()?,
            &info,
            &hash,
            &ours,
            &server_partial,
        )?;
        let child = info.verifying_key()?;
        child.verify_prehash(&hash, &sig).map_err(err("verify"))?;
        eprintln!("ECDSA: amount {amount} signed under {path}, verified");
        json.push(format!(
            r#"{{"curve":"secp256k1","public_key":"{}","address":"{}","message_hash":"{}","signature":"{}","recovery_id":{}}}"#,
            hex::encode(child.to_sec1_bytes()),
            eth_address(&child),
            hex::encode(hash),
            hex::encode(sig.to_bytes()),
            recid.to_byte()
        ));
    }

    // --- FROST(Ed25519) 2-of-3: DKG with device, server and an offline backup.
    eprintln!("FROST 2-of-3: DKG (device, server, backup held by the device for export)");
    let backup = party(BACKUP)?;
    let outs = run_with_server(
        client,
        "frost dkg",
        KIND_FROST_DKG,
        &[],
        &mut rng,
        |sid, rng| {
            let parties = Parties::range(3)?;
            Ok(vec![
                DkgParty::<Ed25519>::new(sid, device, parties.clone(), 2, rng)?,
                DkgParty::<Ed25519>::new(sid, backup, parties, 2, rng)?,
            ])
        },
    )?;
    let mut keys = Vec::new();
    for o in outs {
        keys.push(o.into_confirmed().map_err(|_| "DKG not confirmed")?);
    }
    let key = keys
        .into_iter()
        .find(|k| k.id() == device)
        .ok_or("no device key")?;

    // --- FROST signing: the server commits to a nonce (stored, single use), then signs.
    let commit = client.call("frost commit", &request(OP_FROST_COMMIT, &[0; 32], &[]))?;
    let server_commitments =
        SigningCommitments::<Ed25519>::from_bytes(&commit).map_err(err("commitments"))?;
    let (mut nonces, ours) = round1::preprocess(&key, 1, &mut rng);
    let message = b"send 0.5 SOL to the savings account".to_vec();
    let commitments = BTreeMap::from([
        (device, *ours.first().ok_or("no commitment")?),
        (server, server_commitments),
    ]);
    let package = SigningPackage::new(commitments, message.clone()).map_err(err("package"))?;
    let mut payload = Writer::new();
    payload.var_bytes(&package.to_bytes());
    let share = client.call(
        "frost sign",
        &request(OP_FROST_SIGN, &[0; 32], &payload.finish()),
    )?;
    let server_share = SignatureShare::<Ed25519>::from_bytes(&share).map_err(err("share"))?;
    let nonce = nonces.pop().ok_or("no nonce")?;
    let our_share = round2::sign(&package, nonce, &key)?;
    let shares = BTreeMap::from([(device, our_share), (server, server_share)]);
    let sig = aggregate(&package, &shares, key.public())?;
    let group_key = key.public().group_key_bytes();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&group_key).map_err(err("group key"))?;
    vk.verify_strict(&message, &sig.to_dalek())
        .map_err(err("verify"))?;
    eprintln!("FROST: signed by device + server, verified (RFC 8032)");
    json.push(format!(
        r#"{{"curve":"ed25519","public_key":"{}","message":"{}","signature":"{}"}}"#,
        hex::encode(group_key),
        hex::encode(&message),
        hex::encode(sig.to_dalek().to_bytes())
    ));
    Ok(Signatures { json })
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

struct Args {
    json: bool,
    seed: Option<u64>,
    serve: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    crash: Option<Crash>,
    crash_server: Option<(usize, Crash)>,
}

fn crash_of(s: &str) -> Res<Crash> {
    match s {
        "before" => Ok(Crash::Before),
        "after" => Ok(Crash::After),
        _ => Err(Fail(format!("--crash: before or after, not {s}"))),
    }
}

fn parse_args() -> Res<Args> {
    let mut a = Args {
        json: false,
        seed: None,
        serve: None,
        state_dir: None,
        crash: None,
        crash_server: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(Fail(format!("{arg} needs a value")));
        match arg.as_str() {
            "--json" => a.json = true,
            "--seed" => a.seed = Some(value()?.parse().map_err(err("--seed"))?),
            "--serve" => a.serve = Some(PathBuf::from(value()?)),
            "--state-dir" => a.state_dir = Some(PathBuf::from(value()?)),
            "--crash" => a.crash = Some(crash_of(&value()?)?),
            "--crash-server" => {
                let v = value()?;
                let (n, c) = v.split_once(':').ok_or("--crash-server N:before|after")?;
                a.crash_server = Some((n.parse().map_err(err("--crash-server"))?, crash_of(c)?));
            }
            other => return Err(Fail(format!("unknown argument {other}"))),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| match &args.serve {
        Some(dir) => serve(dir, args.crash, args.seed),
        None => run_device(&args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.0);
            ExitCode::FAILURE
        }
    }
}

fn run_device(args: &Args) -> Res<()> {
    let (dir, temporary) = match &args.state_dir {
        Some(d) => (d.clone(), false),
        None => {
            let mut n = [0u8; 8];
            wallet_types::os_rng().fill_bytes(&mut n);
            (
                std::env::temp_dir().join(format!("wallet-device-server-{}", hex::encode(n))),
                true,
            )
        }
    };
    std::fs::create_dir_all(&dir).map_err(err("state dir"))?;
    let mut client = Client {
        exe: std::env::current_exe().map_err(err("current exe"))?,
        dir: dir.clone(),
        seed: args.seed,
        crash: args.crash_server,
        processes: 0,
        retries: 0,
        log: Vec::new(),
    };
    let result = device(&mut client, args.seed);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let sigs = result?;
    eprintln!();
    eprintln!("| request | request bytes | response bytes |");
    eprintln!("|---|---:|---:|");
    for (label, q, a) in &client.log {
        eprintln!("| {label} | {q} | {a} |");
    }
    eprintln!(
        "{} server processes, {} retries; server state in {}",
        client.processes,
        client.retries,
        if temporary {
            "a temporary directory (removed)"
        } else {
            "the given directory"
        }
    );
    if args.json {
        let requests: Vec<String> = client
            .log
            .iter()
            .map(|(l, q, a)| {
                format!(r#"{{"label":"{l}","request_bytes":{q},"response_bytes":{a}}}"#)
            })
            .collect();
        println!(
            r#"{{"signatures":[{}],"requests":[{}],"server_processes":{},"retries":{}}}"#,
            sigs.json.join(","),
            requests.join(","),
            client.processes,
            client.retries
        );
    }
    Ok(())
}
