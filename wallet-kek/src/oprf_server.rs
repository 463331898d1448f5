//! The guess-limited OPRF server over a record store: the library, not the caller, keeps the
//! guess budget across crashes and parallel workers.
//!
//! [`OprfServerKey::evaluate`] and [`OprfRecord::reset`] work on a record in memory and leave
//! two duties to the caller: persist the counted record **before** the response leaves, and
//! never let two evaluations of one record run on copies of the same state. A server that
//! answers first and persists afterwards gives away a free guess per crash; two workers that
//! load the same record both count from the same number, so each parallel request is a free
//! guess. [`OprfServer`] does both through an [`OprfRecordStore`]: every operation is one
//! atomic read-modify-write of one record, and an evaluation's response is returned only
//! after the store has durably accepted the incremented counter.
//!
//! # The contract a store keeps
//!
//! * **Linearizable per record.** [`OprfRecordStore::update`] loads the record, runs the
//!   closure on it, and writes it back, as if no other operation on that record ran in between
//!   (a row lock, a compare-and-swap on a version column, one mutex). Of two concurrent
//!   updates, the second sees the first's result.
//! * **Durable before `Ok`.** When `update` returns `Ok`, the record the closure left survives a
//!   crash. When the closure returns an error, nothing is written.
//! * **Unique ids.** [`OprfRecordStore::insert`] refuses an id that is present
//!   ([`StoreError::AlreadyUsed`]); the server never overwrites a record's reset key.
//! * On a backend failure nothing changes and the operation returns
//!   [`StoreError::Unavailable`] (as [`KekError::Store`]). A failed write after a counted
//!   evaluation therefore releases no response: the client retries with a new request.
//!
//! Records hold secrets (the reset key): a store keeps their encodings
//! ([`WireObject::to_secret_bytes`], kind `0x0406`) encrypted at rest.
//!
//! [`MemoryOprfRecordStore`] (feature `std`) is the in-memory implementation: linearizable
//! within one process (one mutex), not durable across restarts.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfServer};
//! use wallet_kek::{OprfServerKey, RecordId, ResetKey};
//!
//! let server = OprfServer::new(OprfServerKey::generate(&mut rng), MemoryOprfRecordStore::new());
//! let record = RecordId::random(&mut rng);
//! // The client sends the record id and the reset key of its envelope (`Unlocked::oprf_reset_key`).
//! let pinned = server.register(record, ResetKey::new([7; 32]), 10)?;
//! assert_eq!(pinned, server.key().public_key(&record)?);
//! assert_eq!(server.attempts_left(&record)?, 10);
//! # Ok::<(), wallet_kek::KekError>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use wallet_types::StoreError;
use wallet_types::WireObject;

use crate::error::KekError;
use crate::hardened::{
    OprfRecord, OprfRequest, OprfResponse, OprfServerKey, RecordId, ResetChallenge, ResetKey,
    ResetProof,
};
use crate::oprf::OprfPublicKey;
use crate::oprf_identity::RecordKeyCertificate;

/// Durable storage of [`OprfRecord`]s with an atomic read-modify-write per record (see the
/// [module docs](self) for the contract).
pub trait OprfRecordStore {
    /// Stores a new record. [`StoreError::AlreadyUsed`] if its id is present.
    fn insert(&self, record: OprfRecord) -> Result<(), KekError>;

    /// A copy of record `id` as stored ([`StoreError::NotFound`] if absent).
    fn load(&self, id: &RecordId) -> Result<OprfRecord, KekError>;

    /// Loads record `id` ([`StoreError::NotFound`] if absent), runs `f` on it and, if `f`
    /// returns `Ok`, persists the changed record durably before returning `Ok`. If `f` fails,
    /// nothing is written and its error is returned. A store may run `f` more than once (a
    /// compare-and-swap retry on a fresh load); only the run whose record it persisted counts,
    /// and the server uses the value of the last run.
    fn update(
        &self,
        id: &RecordId,
        f: &mut dyn FnMut(&mut OprfRecord) -> Result<(), KekError>,
    ) -> Result<(), KekError>;
}

impl<T: OprfRecordStore + ?Sized> OprfRecordStore for &T {
    fn insert(&self, record: OprfRecord) -> Result<(), KekError> {
        (**self).insert(record)
    }
    fn load(&self, id: &RecordId) -> Result<OprfRecord, KekError> {
        (**self).load(id)
    }
    fn update(
        &self,
        id: &RecordId,
        f: &mut dyn FnMut(&mut OprfRecord) -> Result<(), KekError>,
    ) -> Result<(), KekError> {
        (**self).update(id, f)
    }
}

/// The guess-limited OPRF server: the master key and the store of its records. Every
/// operation is one atomic update of one record ([module docs](self)).
pub struct OprfServer<S: OprfRecordStore> {
    key: OprfServerKey,
    store: S,
}

impl<S: OprfRecordStore> fmt::Debug for OprfServer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OprfServer")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<S: OprfRecordStore> OprfServer<S> {
    /// A server over `store`.
    pub fn new(key: OprfServerKey, store: S) -> Self {
        Self { key, store }
    }

    /// The master key (for the records' public keys).
    pub fn key(&self) -> &OprfServerKey {
        &self.key
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Registers the record of a new hardened slot ([`OprfServerKey::register`]) and stores it;
    /// returns the public key the client pins. An id that exists is refused
    /// ([`KekError::Store`] with [`StoreError::AlreadyUsed`]): a second enrolment cannot
    /// replace a record's reset key or counter.
    pub fn register(
        &self,
        record: RecordId,
        reset_key: ResetKey,
        max_attempts: u32,
    ) -> Result<OprfPublicKey, KekError> {
        let (rec, pk) = self.key.register(record, reset_key, max_attempts)?;
        self.store.insert(rec)?;
        Ok(pk)
    }

    /// [`OprfServer::register`], answered with the record key's certificate under the
    /// server's identity ([`crate::oprf_identity`]) instead of the bare key: the client checks
    /// it against the identity it pins ([`crate::RecordKeyCertificate::verify`]).
    pub fn register_certified(
        &self,
        record: RecordId,
        reset_key: ResetKey,
        max_attempts: u32,
    ) -> Result<RecordKeyCertificate, KekError> {
        self.register(record, reset_key, max_attempts)?;
        self.key.certify(&record)
    }

    /// Answers `request` ([`OprfServerKey::evaluate`]): counts the attempt, and returns the
    /// response only after the store has durably accepted the counted record. Refusals
    /// (a locked record, a malformed element) write nothing.
    pub fn evaluate<R: CryptoRng + ?Sized>(
        &self,
        request: &OprfRequest,
        rng: &mut R,
    ) -> Result<OprfResponse, KekError> {
        let mut out = None;
        self.store.update(request.record(), &mut |rec| {
            out = Some(self.key.evaluate(rec, request, rng)?);
            Ok(())
        })?;
        out.ok_or(KekError::Store(StoreError::Unavailable))
    }

    /// A fresh reset nonce for `record` ([`OprfRecord::challenge`]), stored before it is
    /// returned.
    pub fn challenge<R: CryptoRng + ?Sized>(
        &self,
        record: &RecordId,
        rng: &mut R,
    ) -> Result<ResetChallenge, KekError> {
        let mut out = None;
        self.store.update(record, &mut |rec| {
            out = Some(rec.challenge(rng));
            Ok(())
        })?;
        out.ok_or(KekError::Store(StoreError::Unavailable))
    }

    /// Resets the record's counter with `proof` ([`OprfRecord::reset`]). A failed proof still
    /// consumes the pending nonce, and that is stored too: one try per nonce holds across
    /// parallel requests and restarts.
    pub fn reset(&self, proof: &ResetProof) -> Result<(), KekError> {
        let mut out = None;
        self.store.update(proof.record(), &mut |rec| {
            out = Some(rec.reset(proof));
            Ok(())
        })?;
        out.ok_or(KekError::Store(StoreError::Unavailable))?
    }

    /// How many evaluations `record` still allows before it locks.
    pub fn attempts_left(&self, record: &RecordId) -> Result<u32, KekError> {
        Ok(self.store.load(record)?.attempts_left())
    }
}

/// The in-memory [`OprfRecordStore`] (feature `std`): records kept as their encodings behind
/// one mutex, so an update works on a decoded copy and a failed closure leaves the stored bytes
/// as they were. Linearizable within one process; not durable across restarts.
#[cfg(feature = "std")]
#[derive(Default)]
pub struct MemoryOprfRecordStore {
    records: std::sync::Mutex<alloc::collections::BTreeMap<RecordId, wallet_types::SecretVec>>,
}

#[cfg(feature = "std")]
impl fmt::Debug for MemoryOprfRecordStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryOprfRecordStore(<redacted>)")
    }
}

#[cfg(feature = "std")]
impl MemoryOprfRecordStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(
        &self,
    ) -> Result<
        std::sync::MutexGuard<'_, alloc::collections::BTreeMap<RecordId, wallet_types::SecretVec>>,
        KekError,
    > {
        self.records
            .lock()
            .map_err(|_| KekError::Store(StoreError::Unavailable))
    }
}

#[cfg(feature = "std")]
impl OprfRecordStore for MemoryOprfRecordStore {
    fn insert(&self, record: OprfRecord) -> Result<(), KekError> {
        let mut map = self.lock()?;
        if map.contains_key(record.record()) {
            return Err(KekError::Store(StoreError::AlreadyUsed));
        }
        map.insert(*record.record(), record.to_secret_bytes());
        Ok(())
    }

    fn load(&self, id: &RecordId) -> Result<OprfRecord, KekError> {
        let map = self.lock()?;
        let stored = map.get(id).ok_or(KekError::Store(StoreError::NotFound))?;
        OprfRecord::from_bytes(stored.expose())
            .map_err(|_| KekError::Store(StoreError::Unavailable))
    }

    fn update(
        &self,
        id: &RecordId,
        f: &mut dyn FnMut(&mut OprfRecord) -> Result<(), KekError>,
    ) -> Result<(), KekError> {
        let mut map = self.lock()?;
        let stored = map.get(id).ok_or(KekError::Store(StoreError::NotFound))?;
        let mut rec = OprfRecord::from_bytes(stored.expose())
            .map_err(|_| KekError::Store(StoreError::Unavailable))?;
        f(&mut rec)?;
        map.insert(*id, rec.to_secret_bytes());
        Ok(())
    }
}
