//! The ECDSA device party (wallet-tss two-party ECDSA): key generation, presigning and the
//! online partial signature, one call per received message, the whole party sealed between
//! calls.
//!
//! The party's key share, its pairwise OT setups and bans, its presignatures and an in-flight
//! machine live in a [`DeviceStore`] (this module's [`KeyStore`]): single-threaded (a wasm
//! instance is), and encoded as a whole into one sealed object (kind `EcdsaDevice`, see
//! [`crate::seal`]) after every call. JavaScript never sees the key share, the machine states
//! or the presignatures in clear; it stores the sealed bytes and passes them back.
//!
//! A call that fails with a misbehaviour of the counterparty may still have changed the party:
//! a ban of the pairing ([`wallet_types::Error::must_ban`]) or an aborted machine. Such an
//! error carries the new sealed state ([`WasmError::state`], the `state` property of the JS
//! exception), and the caller must store it — otherwise the ban would be forgotten with the
//! error. A rejected message (wrong session, round or sender) carries none: nothing changed.
//!
//! Storage rule (DESIGN, invariant 10): after [`partial_sign`] the caller stores the returned
//! state (the presignature is gone from it) before it sends the partial signature.

use core::cell::{RefCell, RefMut};

use rand_core::CryptoRng;
use wallet_tss::ecdsa::{
    DerivationPath, InstallError, KeyShare, KeyStore, Keygen, KeygenMessage, PairingGuard,
    PartialSignature, Presign, PresignMessage, PresignState, PresignatureInfo, PublicKeyPackage,
};
use wallet_types::{
    Envelope, ErrorKind, OneTimeStore, Parties, PartyId, Protocol, Reader, SecretVec, SessionId,
    Step, StoreError, WireObject, Writer,
};

use crate::error::{Result, WasmError, array};
use crate::seal::{SealedKind, WrapSecret, open, seal};
use crate::store::SealedOneTime;

const STATE_VERSION: u8 = 1;
/// Upper bounds used when decoding a state (one presignature is a few hundred bytes sealed; an
/// in-flight presign machine holds its OT extension state, a few hundred kilobytes at most).
const MAX_BLOB: usize = 4 << 20;

/// The device's [`KeyStore`]: a key share (none before key generation finished), its
/// presignatures, and nothing shared with another thread (`RefCell`; a borrow conflict is
/// [`StoreError::Unavailable`], never a panic).
#[derive(Default)]
pub struct DeviceStore {
    key: RefCell<Option<KeyShare>>,
    presignatures: SealedOneTime,
}

impl core::fmt::Debug for DeviceStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeviceStore(<redacted>)")
    }
}

/// A locked pairing of a [`DeviceStore`].
pub struct DeviceGuard<'a> {
    key: RefMut<'a, KeyShare>,
    other: PartyId,
}

impl PairingGuard for DeviceGuard<'_> {
    fn key(&self) -> &KeyShare {
        &self.key
    }
    fn ban(&mut self) -> core::result::Result<(), StoreError> {
        // Durable in the sense this store has: the ban is in the state sealed after the call,
        // which the error hands back (see the module docs).
        self.key.ban(self.other);
        Ok(())
    }
}

impl OneTimeStore for DeviceStore {
    fn put(
        &self,
        scope: &[u8; 32],
        id: &[u8; 32],
        sealed: SecretVec,
    ) -> core::result::Result<(), StoreError> {
        self.presignatures.put(scope, id, sealed)
    }
    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> core::result::Result<SecretVec, StoreError> {
        self.presignatures.take(scope, id)
    }
    fn retire(&self, scope: &[u8; 32]) -> core::result::Result<(), StoreError> {
        self.presignatures.retire(scope)
    }
}

impl KeyStore for DeviceStore {
    type Guard<'a> = DeviceGuard<'a>;

    fn lock_pairing(&self, other: PartyId) -> core::result::Result<DeviceGuard<'_>, StoreError> {
        let key = self
            .key
            .try_borrow_mut()
            .map_err(|_| StoreError::Unavailable)?;
        let key = RefMut::filter_map(key, Option::as_mut).map_err(|_| StoreError::NotFound)?;
        Ok(DeviceGuard { key, other })
    }

    fn install(
        &self,
        next: KeyShare,
        lift_bans: &[PartyId],
    ) -> core::result::Result<(), InstallError> {
        let Ok(mut key) = self.key.try_borrow_mut() else {
            return Err(InstallError::refused(StoreError::Unavailable.into(), next));
        };
        let Some(current) = key.as_ref() else {
            return Err(InstallError::refused(StoreError::NotFound.into(), next));
        };
        if let Err(e) = wallet_tss::ecdsa::store::check_successor(current, &next) {
            return Err(InstallError::refused(e, next));
        }
        let old = *current.key_id();
        // Checked above: `successor` only carries the bans over now.
        let next = wallet_tss::ecdsa::store::successor(current, next, lift_bans)
            .map_err(|error| InstallError { error, share: None })?;
        *key = Some(next);
        drop(key);
        self.retire(&old).map_err(|e| InstallError {
            error: e.into(),
            share: None,
        })
    }
}

/// What the party is doing besides holding its key.
enum Machine {
    None,
    Keygen(Box<Keygen>),
    Presign(Box<PresignState>),
}

/// The whole device party, as sealed between calls.
struct Device {
    store: DeviceStore,
    machine: Machine,
}

impl Device {
    fn encode(&self) -> Result<SecretVec> {
        let mut w = Writer::secret();
        w.u8(STATE_VERSION);
        let key = self
            .store
            .key
            .try_borrow()
            .map_err(|_| state_err("store busy"))?;
        match key.as_ref() {
            Some(k) => {
                w.bool(true);
                w.var_bytes(k.to_secret_bytes().expose());
            }
            None => w.bool(false),
        }
        match &self.machine {
            Machine::None => w.u8(0),
            Machine::Keygen(k) => {
                w.u8(1);
                w.var_bytes(k.to_secret_bytes().expose());
            }
            Machine::Presign(p) => {
                w.u8(2);
                w.var_bytes(p.to_secret_bytes().expose());
            }
        }
        self.store.presignatures.encode(&mut w)?;
        Ok(w.into_secret())
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.u8()? != STATE_VERSION {
            return Err(state_err("unknown state version"));
        }
        let key = if r.bool()? {
            Some(KeyShare::from_bytes(r.var_bytes(MAX_BLOB)?)?)
        } else {
            None
        };
        let machine = match r.u8()? {
            0 => Machine::None,
            1 => Machine::Keygen(Box::new(Keygen::from_bytes(r.var_bytes(MAX_BLOB)?)?)),
            2 => Machine::Presign(Box::new(PresignState::from_bytes(r.var_bytes(MAX_BLOB)?)?)),
            _ => return Err(state_err("unknown machine tag")),
        };
        let presignatures = SealedOneTime::decode(&mut r)?;
        r.finish()?;
        Ok(Self {
            store: DeviceStore {
                key: RefCell::new(key),
                presignatures,
            },
            machine,
        })
    }

    fn open(wrap: &WrapSecret, sealed: &[u8]) -> Result<Self> {
        Self::decode(open(wrap, SealedKind::EcdsaDevice, sealed)?.expose())
    }

    fn seal<R: CryptoRng + ?Sized>(&self, wrap: &WrapSecret, rng: &mut R) -> Result<Vec<u8>> {
        seal(wrap, SealedKind::EcdsaDevice, self.encode()?.expose(), rng)
    }

    fn public_package(&self) -> Result<PublicKeyPackage> {
        let key = self
            .store
            .key
            .try_borrow()
            .map_err(|_| state_err("store busy"))?;
        key.as_ref()
            .map(KeyShare::public_package)
            .ok_or_else(|| state_err("no key share yet: run key generation first"))
    }
}

fn state_err(m: &str) -> WasmError {
    WasmError::new("state", m)
}

/// The result of one call: the new sealed state, the messages to send (encoded envelopes; in
/// the two-party protocols every message goes to the counterparty), and the output once the
/// protocol finished (an encoded public object).
#[derive(Debug)]
pub struct DeviceStep {
    /// The sealed state to store (replacing the previous one).
    pub state: Vec<u8>,
    /// Encoded envelopes for the counterparty.
    pub outgoing: Vec<Vec<u8>>,
    /// Key generation: the `PublicKeyPackage`; presigning: the `PresignatureInfo`; signing:
    /// the `PartialSignature`.
    pub output: Option<Vec<u8>>,
}

fn encode_all<M: WireObject>(out: Vec<Envelope<M>>) -> Vec<Vec<u8>> {
    out.iter().map(Envelope::encode).collect()
}

fn session(bytes: &[u8]) -> Result<SessionId> {
    Ok(SessionId(array("session id", bytes)?))
}

fn party(id: u16) -> Result<PartyId> {
    PartyId::new(id).ok_or_else(|| WasmError::new("input", "party id zero"))
}

/// An empty device (no key yet), sealed.
pub fn new_device<R: CryptoRng + ?Sized>(wrap: &WrapSecret, rng: &mut R) -> Result<Vec<u8>> {
    Device {
        store: DeviceStore::default(),
        machine: Machine::None,
    }
    .seal(wrap, rng)
}

/// Starts key generation as party `me` of `1..=parties` in session `session_id` (32 bytes,
/// agreed with the other parties beforehand). The state must hold no key yet.
pub fn keygen_start<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    state: &[u8],
    session_id: &[u8],
    me: u16,
    parties: u16,
    rng: &mut R,
) -> Result<DeviceStep> {
    let mut dev = Device::open(wrap, state)?;
    if dev.public_package().is_ok() {
        return Err(state_err("this device already holds a key share"));
    }
    let parties = Parties::range(parties).map_err(wallet_types::Error::from)?;
    let mut m = Keygen::new(session(session_id)?, party(me)?, parties, rng)?;
    let step = m.start(rng)?;
    let Step::Continue(out) = step else {
        return Err(state_err("key generation finished in its first round"));
    };
    dev.machine = Machine::Keygen(Box::new(m));
    Ok(DeviceStep {
        state: dev.seal(wrap, rng)?,
        outgoing: encode_all(out),
        output: None,
    })
}

/// Seals `dev` into the error when the machine may have changed (anything but a rejection).
fn protocol_error<R: CryptoRng + ?Sized>(
    e: wallet_types::Error,
    dev: &Device,
    wrap: &WrapSecret,
    rng: &mut R,
) -> WasmError {
    let rejected = e.kind() == ErrorKind::Rejected;
    let err = WasmError::from(e);
    if rejected {
        return err;
    }
    match dev.seal(wrap, rng) {
        Ok(s) => err.with_state(s),
        Err(_) => err,
    }
}

fn keygen_handle<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    mut dev: Device,
    mut m: Keygen,
    message: &[u8],
    rng: &mut R,
) -> Result<DeviceStep> {
    let env = Envelope::<KeygenMessage>::decode(message).map_err(|e| WasmError::from(e.error))?;
    match m.handle(env, rng) {
        Ok(Step::Continue(out)) => {
            dev.machine = Machine::Keygen(Box::new(m));
            Ok(DeviceStep {
                state: dev.seal(wrap, rng)?,
                outgoing: encode_all(out),
                output: None,
            })
        }
        Ok(Step::Done(out, t)) => {
            // An unconfirmed key is kept in the error's state as the machine that produced it
            // is: the caller retries the confirmation or starts over; never half-installed.
            let key = t.into_confirmed().map_err(|u| {
                state_err(&format!(
                    "key generation ended unconfirmed (disagreeing: {:?})",
                    u.disagreeing
                ))
            })?;
            let package = key.public_package();
            *dev.store
                .key
                .try_borrow_mut()
                .map_err(|_| state_err("store busy"))? = Some(key);
            dev.machine = Machine::None;
            Ok(DeviceStep {
                state: dev.seal(wrap, rng)?,
                outgoing: encode_all(out),
                output: Some(package.to_bytes()),
            })
        }
        Err(e) => {
            dev.machine = Machine::Keygen(Box::new(m));
            Err(protocol_error(e, &dev, wrap, rng))
        }
    }
}

/// Starts a presignature with counterparty `other` for derivation path `path` (e.g.
/// `"m/0/1"`, non-hardened) in session `session_id` (32 bytes, agreed beforehand).
pub fn presign_start<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    state: &[u8],
    other: u16,
    path: &str,
    session_id: &[u8],
    rng: &mut R,
) -> Result<DeviceStep> {
    let mut dev = Device::open(wrap, state)?;
    if !matches!(dev.machine, Machine::None) {
        return Err(state_err("another protocol run is in progress"));
    }
    let path = DerivationPath::parse(path).map_err(|e| WasmError::new("input", e.to_string()))?;
    let (out, saved) = {
        let mut m = Presign::new(&dev.store, party(other)?, path, session(session_id)?, rng)?;
        let Step::Continue(out) = m.start(rng)? else {
            return Err(state_err("presigning finished in its first round"));
        };
        (out, m.save())
    };
    dev.machine = Machine::Presign(Box::new(PresignState::from_bytes(saved.expose())?));
    Ok(DeviceStep {
        state: dev.seal(wrap, rng)?,
        outgoing: encode_all(out),
        output: None,
    })
}

fn presign_handle<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    mut dev: Device,
    st: PresignState,
    message: &[u8],
    rng: &mut R,
) -> Result<DeviceStep> {
    let env = Envelope::<PresignMessage>::decode(message).map_err(|e| WasmError::from(e.error))?;
    let (result, saved) = {
        let mut m = Presign::from_state(&dev.store, st);
        let r = m.handle(env, rng);
        (r, m.save())
    };
    match result {
        Ok(Step::Continue(out)) => {
            dev.machine = Machine::Presign(Box::new(PresignState::from_bytes(saved.expose())?));
            Ok(DeviceStep {
                state: dev.seal(wrap, rng)?,
                outgoing: encode_all(out),
                output: None,
            })
        }
        Ok(Step::Done(out, info)) => {
            dev.machine = Machine::None;
            Ok(DeviceStep {
                state: dev.seal(wrap, rng)?,
                outgoing: encode_all(out),
                output: Some(info.to_bytes()),
            })
        }
        Err(e) => {
            dev.machine = Machine::Presign(Box::new(PresignState::from_bytes(saved.expose())?));
            Err(protocol_error(e, &dev, wrap, rng))
        }
    }
}

/// Hands one received message (an encoded envelope) to the protocol run in progress.
pub fn handle<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    state: &[u8],
    message: &[u8],
    rng: &mut R,
) -> Result<DeviceStep> {
    let mut dev = Device::open(wrap, state)?;
    match core::mem::replace(&mut dev.machine, Machine::None) {
        Machine::None => Err(state_err("no protocol run in progress")),
        Machine::Keygen(m) => keygen_handle(wrap, dev, *m, message, rng),
        Machine::Presign(p) => presign_handle(wrap, dev, *p, message, rng),
    }
}

/// The online step: takes the presignature `info` out of the state (once) and returns this
/// party's partial signature of the 32-byte `message_hash`. Store the returned state before
/// sending the partial signature.
pub fn partial_sign<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    state: &[u8],
    info: &[u8],
    message_hash: &[u8],
    rng: &mut R,
) -> Result<DeviceStep> {
    let dev = Device::open(wrap, state)?;
    let info = PresignatureInfo::from_bytes(info)?;
    let partial =
        wallet_tss::ecdsa::partial_sign(&dev.store, &info, &array("message hash", message_hash)?);
    match partial {
        Ok(p) => Ok(DeviceStep {
            state: dev.seal(wrap, rng)?,
            outgoing: Vec::new(),
            output: Some(p.to_bytes()),
        }),
        Err(e) => Err(protocol_error(e, &dev, wrap, rng)),
    }
}

/// The public key package of the device's key share (public).
pub fn public_package(wrap: &WrapSecret, state: &[u8]) -> Result<Vec<u8>> {
    Ok(Device::open(wrap, state)?.public_package()?.to_bytes())
}

/// How many unused presignatures the state holds.
pub fn presignatures(wrap: &WrapSecret, state: &[u8]) -> Result<usize> {
    let dev = Device::open(wrap, state)?;
    let key_id = *dev.public_package()?.key_id();
    dev.store.presignatures.count(&key_id)
}

/// Combines the two partial signatures into the ECDSA signature (public inputs only): `r || s
/// || recovery_id`, low S, verified against the presignature's derived key before it is
/// returned. Also returns that key (SEC1 compressed).
pub fn combine(
    public_package: &[u8],
    info: &[u8],
    message_hash: &[u8],
    a: &[u8],
    b: &[u8],
) -> Result<(Vec<u8>, Vec<u8>)> {
    let package = PublicKeyPackage::from_bytes(public_package)?;
    let info = PresignatureInfo::from_bytes(info)?;
    let (a, b) = (
        PartialSignature::from_bytes(a)?,
        PartialSignature::from_bytes(b)?,
    );
    let (sig, recid) = wallet_tss::ecdsa::combine(
        &package,
        &info,
        &array("message hash", message_hash)?,
        &a,
        &b,
    )?;
    let vk = info.verifying_key()?;
    let mut out = sig.to_bytes().to_vec();
    out.push(recid.to_byte());
    Ok((out, vk.to_sec1_bytes().to_vec()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    use rand_core::SeedableRng;

    /// Runs one protocol between two sealed devices, message by message, until both produced
    /// an output; returns the outputs.
    fn run(
        wraps: [&WrapSecret; 2],
        states: &mut [Vec<u8>; 2],
        first: [DeviceStep; 2],
        rng: &mut rand_chacha::ChaCha20Rng,
    ) -> [Vec<u8>; 2] {
        let mut outputs: [Option<Vec<u8>>; 2] = [None, None];
        let mut queue: Vec<(usize, Vec<u8>)> = Vec::new();
        for (i, s) in first.into_iter().enumerate() {
            states[i] = s.state;
            queue.extend(s.outgoing.into_iter().map(|m| (1 - i, m)));
        }
        while let Some((to, m)) = queue.pop() {
            let s = handle(wraps[to], &states[to], &m, rng).unwrap();
            states[to] = s.state;
            queue.extend(s.outgoing.into_iter().map(|m| (1 - to, m)));
            if s.output.is_some() {
                outputs[to] = s.output;
            }
        }
        outputs.map(|o| o.unwrap())
    }

    #[test]
    fn keygen_presign_sign_through_sealed_state() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let (wd, ws) = (
            WrapSecret::from_slice(&[1; 32]).unwrap(),
            WrapSecret::from_slice(&[2; 32]).unwrap(),
        );
        let mut states = [
            new_device(&wd, &mut rng).unwrap(),
            new_device(&ws, &mut rng).unwrap(),
        ];
        let sid = [9u8; 32];
        let first = [
            keygen_start(&wd, &states[0], &sid, 1, 2, &mut rng).unwrap(),
            keygen_start(&ws, &states[1], &sid, 2, 2, &mut rng).unwrap(),
        ];
        let [pk_d, pk_s] = run([&wd, &ws], &mut states, first, &mut rng);
        assert_eq!(pk_d, pk_s);
        assert_eq!(public_package(&wd, &states[0]).unwrap(), pk_d);
        // A second key generation on a device that holds a key is refused.
        assert_eq!(
            keygen_start(&wd, &states[0], &sid, 1, 2, &mut rng)
                .unwrap_err()
                .kind(),
            "state"
        );

        let psid = [10u8; 32];
        let first = [
            presign_start(&wd, &states[0], 2, "m/0/1", &psid, &mut rng).unwrap(),
            presign_start(&ws, &states[1], 1, "m/0/1", &psid, &mut rng).unwrap(),
        ];
        let [info_d, info_s] = run([&wd, &ws], &mut states, first, &mut rng);
        assert_eq!(info_d, info_s);
        assert_eq!(presignatures(&wd, &states[0]).unwrap(), 1);

        let hash = [3u8; 32];
        let before = states[0].clone();
        let d = partial_sign(&wd, &states[0], &info_d, &hash, &mut rng).unwrap();
        let s = partial_sign(&ws, &states[1], &info_s, &hash, &mut rng).unwrap();
        // The presignature is gone from the new state: a second use is refused.
        assert_eq!(
            partial_sign(&wd, &d.state, &info_d, &hash, &mut rng)
                .unwrap_err()
                .kind(),
            "usage"
        );
        assert_eq!(presignatures(&wd, &d.state).unwrap(), 0);
        let (sig, vk) = combine(
            &pk_d,
            &info_d,
            &hash,
            &d.output.unwrap(),
            &s.output.unwrap(),
        )
        .unwrap();
        let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&vk).unwrap();
        vk.verify_prehash(
            &hash,
            &k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap(),
        )
        .unwrap();
        // The device's state opens only with its own secret.
        assert_eq!(
            partial_sign(&ws, &before, &info_d, &hash, &mut rng)
                .unwrap_err()
                .kind(),
            "unwrap"
        );
    }

    #[test]
    fn a_tampered_presign_message_hands_back_the_aborted_state() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
        let (wd, ws) = (
            WrapSecret::from_slice(&[1; 32]).unwrap(),
            WrapSecret::from_slice(&[2; 32]).unwrap(),
        );
        let mut states = [
            new_device(&wd, &mut rng).unwrap(),
            new_device(&ws, &mut rng).unwrap(),
        ];
        let first = [
            keygen_start(&wd, &states[0], &[1; 32], 1, 2, &mut rng).unwrap(),
            keygen_start(&ws, &states[1], &[1; 32], 2, 2, &mut rng).unwrap(),
        ];
        run([&wd, &ws], &mut states, first, &mut rng);
        let d = presign_start(&wd, &states[0], 2, "m", &[2; 32], &mut rng).unwrap();
        let s = presign_start(&ws, &states[1], 1, "m", &[2; 32], &mut rng).unwrap();
        // The server's first message with its last byte (inside the OT payload) flipped.
        let mut m = s.outgoing[0].clone();
        let last = m.len() - 1;
        m[last] ^= 1;
        let e = handle(&wd, &d.state, &m, &mut rng).unwrap_err();
        assert_eq!(e.kind(), "misbehaviour", "{e}");
        // The error carries the new state: the machine aborted there, so the genuine message
        // no longer completes the run on it (while the old state would still accept it).
        let aborted = e.state().unwrap().to_vec();
        assert!(handle(&wd, &aborted, &s.outgoing[0], &mut rng).is_err());
        assert!(handle(&wd, &d.state, &s.outgoing[0], &mut rng).is_ok());
    }

    #[test]
    fn rejected_and_garbage_messages() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(6);
        let w = WrapSecret::from_slice(&[1; 32]).unwrap();
        let st = new_device(&w, &mut rng).unwrap();
        assert_eq!(handle(&w, &st, b"x", &mut rng).unwrap_err().kind(), "state");
        let s = keygen_start(&w, &st, &[1; 32], 1, 2, &mut rng).unwrap();
        assert_eq!(
            handle(&w, &s.state, b"garbage", &mut rng)
                .unwrap_err()
                .kind(),
            "input"
        );
        // Our own first message comes back: not from the counterparty, refused, no state.
        let e = handle(&w, &s.state, &s.outgoing[0], &mut rng).unwrap_err();
        assert!(
            matches!(e.kind(), "rejected" | "misbehaviour" | "usage"),
            "{e}"
        );
        assert_eq!(
            presign_start(&w, &st, 2, "m", &[2; 32], &mut rng)
                .unwrap_err()
                .kind(),
            "usage"
        );
        assert_eq!(public_package(&w, &st).unwrap_err().kind(), "state");
    }
}
