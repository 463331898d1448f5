//! The one owner of a party's ECDSA key share: its pairings, its bans, its epoch and its
//! presignatures.
//!
//! A two-party ECDSA key share is used by many sessions: every presignature runs two
//! multiplications on the pairwise OT setups (Alice's correlation `Δ` and seeds, Bob's seeds),
//! and a failed check of those setups may have leaked a bit of them — the pairing must then end
//! for **every** session at once, or a counterparty that runs many sessions in parallel reads
//! `Δ` bit by bit (one corrupted column per session) and with it the share. So the machines of
//! this module hold no copy of the setups or of the share: each step that uses them borrows them
//! from a [`KeyStore`] under the pairing's lock ([`KeyStore::lock_pairing`]), checks the ban and
//! the epoch at that moment, and records a ban ([`PairingGuard::ban`]) before the lock is
//! released when a check fails with [`Error::must_ban`]. Any other session that would use the
//! pairing — live, restored from bytes, or in another worker sharing the store — is refused with
//! [`Error::Banned`] before the setup is touched again.
//!
//! The store also owns the one-time material ([`OneTimeStore`], scope = key id):
//! presignatures are put into it by the presign machine, sealed under a key derived from the
//! current key share (so a copy kept elsewhere dies with the share), and taken out atomically by
//! [`partial_sign`](super::partial_sign) before anything is computed from them. Installing the
//! next epoch's key share ([`KeyStore::install`]) retires the old key id: its presignatures are
//! erased, and states and presignatures of the old epoch are refused ([`Error::WrongEpoch`]).
//!
//! # The contract of an implementation
//!
//! * [`KeyStore::lock_pairing`] is exclusive per pairing against every other `lock_pairing` of
//!   the same pairing and against [`KeyStore::install`], across every thread and process that
//!   shares the key (a database: one row lock per pairing, `SELECT … FOR UPDATE`, held until the
//!   guard drops).
//! * [`PairingGuard::ban`] is durable before it returns (committed), so the next session that
//!   locks the pairing sees it; a ban is never lifted except by an explicit
//!   [`KeyStore::install`] with `lift_bans`.
//! * [`KeyStore::install`] replaces the share with the one [`successor`] returns, then retires
//!   the old key id in the one-time store, both before it returns; it is exclusive against
//!   every `lock_pairing`.
//! * The [`OneTimeStore`] contract (wallet-types) for the presignatures.
//!
//! [`MemoryKeyStore`] (feature `std`) is the in-memory implementation: one mutex for the key
//! share (so the sessions of one key run their OT steps one at a time — a few hundred
//! microseconds each) and one for the presignatures.
//!
//! ```
//! # use wallet_tss::ecdsa::*;
//! # use wallet_types::{Parties, PartyId, Protocol, SessionId, Step, Envelope};
//! # use rand_core::SeedableRng;
//! # fn run<P: Protocol>(mut m: Vec<P>, rng: &mut rand_chacha::ChaCha20Rng) -> Vec<P::Output> {
//! #     let mut q: Vec<Envelope<P::Message>> = Vec::new();
//! #     let mut out = Vec::new();
//! #     for x in m.iter_mut() { match x.start(rng).unwrap() { Step::Continue(e) => q.extend(e), Step::Done(e, o) => { q.extend(e); out.push(o) } } }
//! #     while let Some(env) = q.pop() {
//! #         let wallet_types::Recipient::One(to) = env.recipient else { unreachable!() };
//! #         let x = m.iter_mut().find(|x| x.me() == to).unwrap();
//! #         match x.handle(env, rng).unwrap() { Step::Continue(e) => q.extend(e), Step::Done(e, o) => { q.extend(e); out.push(o) } }
//! #     }
//! #     out
//! # }
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! # let parties = Parties::range(2)?;
//! # let sid = SessionId::random(&mut rng);
//! # let machines = parties.iter().map(|p| Keygen::new(sid, p, parties.clone(), &mut rng)).collect::<Result<Vec<_>, _>>()?;
//! # let mut keys = run(machines, &mut rng).into_iter().map(|o| o.into_result()).collect::<Vec<_>>();
//! # keys.sort_by_key(|k| k.me());
//! let (device, server) = (PartyId::new(1).unwrap(), PartyId::new(2).unwrap());
//! // Each party hands its key share to its store once; from then on it is used only through it.
//! let server_store = MemoryKeyStore::new(keys.pop().unwrap());
//! let device_store = MemoryKeyStore::new(keys.pop().unwrap());
//! let path = DerivationPath::root();
//! let sid = SessionId::random(&mut rng);
//! let machines = vec![
//!     Presign::new(&device_store, server, path.clone(), sid, &mut rng)?,
//!     Presign::new(&server_store, device, path.clone(), sid, &mut rng)?,
//! ];
//! let infos = run(machines, &mut rng); // the presignatures stay in the stores, sealed
//! let info = &infos[0];
//! let hash = [7u8; 32];
//! let a = partial_sign(&device_store, info, &hash)?;
//! let b = partial_sign(&server_store, info, &hash)?;
//! // Single use: a second take of the same presignature is refused.
//! assert!(partial_sign(&device_store, info, &hash).is_err());
//! let (sig, recid) = combine(&device_store.public_package()?, info, &hash, &a, &b)?;
//! # let _ = (sig, recid);
//! # Ok::<(), wallet_types::Error>(())
//! ```

use alloc::vec::Vec;

use wallet_types::{
    Error, OneTimeStore, ParamError, PartyId, StoreError, Termination, Unconfirmed,
};

use super::keygen::{KeyShare, PairSetup};

/// The one owner of a party's ECDSA key share (see the [module docs](self) for the contract).
pub trait KeyStore: OneTimeStore {
    /// The locked pairing; the lock is released when it drops.
    type Guard<'a>: PairingGuard
    where
        Self: 'a;

    /// Locks the pairing with `other` and gives access to the current key share.
    fn lock_pairing(&self, other: PartyId) -> Result<Self::Guard<'_>, StoreError>;

    /// Replaces the key share by the next epoch's: `next` must pass [`successor`] against the
    /// current share (which carries the current bans over, except `lift_bans`); then the old
    /// key id is retired in the one-time store (its presignatures are erased).
    ///
    /// **Contract:** on an error the store hands `next` back in [`InstallError::share`] unless it
    /// holds it (installed, e.g. when only the retirement of the old epoch failed): a refused
    /// or failed install never loses a share the other parties may have moved on with.
    // The error hands the key share back (moved once, never copied).
    #[allow(clippy::result_large_err)]
    fn install(&self, next: KeyShare, lift_bans: &[PartyId]) -> Result<(), InstallError>;
}

/// Why [`KeyStore::install`] did not complete, with the share it was given whenever the store
/// does not hold it: keep that share (it may be the only copy of this party's new epoch).
pub struct InstallError {
    /// What failed: [`ParamError::Mismatch`] for a share that is not the current one's
    /// successor, a store error for a backend failure.
    pub error: Error,
    /// The share, handed back; `None` when the store installed it (and only a later step, the
    /// retirement of the old epoch, failed).
    pub share: Option<KeyShare>,
}

impl InstallError {
    /// The share was not installed: `share` comes back with `error`.
    pub fn refused(error: Error, share: KeyShare) -> Self {
        Self {
            error,
            share: Some(share),
        }
    }
}

impl core::fmt::Debug for InstallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InstallError")
            .field("error", &self.error)
            .field("share_returned", &self.share.is_some())
            .finish()
    }
}

impl core::fmt::Display for InstallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.share {
            Some(_) => write!(
                f,
                "key share not installed ({}); the share is handed back",
                self.error
            ),
            None => write!(f, "key share installed, but: {}", self.error),
        }
    }
}

impl core::error::Error for InstallError {}

/// `?` on an install keeps the error and **drops the handed-back share**: match on
/// [`InstallError::share`] instead where the share must survive.
impl From<InstallError> for Error {
    fn from(e: InstallError) -> Self {
        e.error
    }
}

impl PartialEq<Error> for InstallError {
    fn eq(&self, other: &Error) -> bool {
        self.error == *other
    }
}

/// A locked pairing of a [`KeyStore`].
pub trait PairingGuard {
    /// The current key share.
    fn key(&self) -> &KeyShare;
    /// Ends the pairing with the locked counterparty (drops and zeroizes its OT setups), durably,
    /// before returning.
    fn ban(&mut self) -> Result<(), StoreError>;
}

impl<T: KeyStore + ?Sized> KeyStore for &T {
    type Guard<'a>
        = T::Guard<'a>
    where
        Self: 'a;
    fn lock_pairing(&self, other: PartyId) -> Result<Self::Guard<'_>, StoreError> {
        (**self).lock_pairing(other)
    }
    fn install(&self, next: KeyShare, lift_bans: &[PartyId]) -> Result<(), InstallError> {
        (**self).install(next, lift_bans)
    }
}

impl<T: KeyStore + ?Sized> KeyStore for alloc::sync::Arc<T> {
    type Guard<'a>
        = T::Guard<'a>
    where
        Self: 'a;
    fn lock_pairing(&self, other: PartyId) -> Result<Self::Guard<'_>, StoreError> {
        (**self).lock_pairing(other)
    }
    fn install(&self, next: KeyShare, lift_bans: &[PartyId]) -> Result<(), InstallError> {
        (**self).install(next, lift_bans)
    }
}

/// Checks that `next` may replace `current` and returns it with the bans of `current` carried
/// over (every party banned by `current` stays banned, except those in `lift_bans`, which keep
/// the pairing `next` has with them).
///
/// Errors ([`ParamError::Mismatch`]): another party, another public key or chain code, or an
/// epoch that is not later than the current one (a replayed or older share).
pub fn successor(
    current: &KeyShare,
    next: KeyShare,
    lift_bans: &[PartyId],
) -> Result<KeyShare, Error> {
    check_successor(current, &next)?;
    Ok(carry_bans(current, next, lift_bans))
}

/// `next` with the bans of `current` (except `lift_bans`) carried over.
fn carry_bans(current: &KeyShare, mut next: KeyShare, lift_bans: &[PartyId]) -> KeyShare {
    let banned: Vec<PartyId> = current
        .banned()
        .filter(|p| !lift_bans.contains(p))
        .collect();
    for p in banned {
        next.ban(p);
    }
    next
}

/// The check of [`successor`], without taking `next` (a [`KeyStore::install`] runs it before it
/// takes the share, so that a refused share can be handed back).
pub fn check_successor(current: &KeyShare, next: &KeyShare) -> Result<(), Error> {
    if next.me() != current.me()
        || next.public_key() != current.public_key()
        || next.chain_code() != current.chain_code()
        || next.epoch() <= current.epoch()
        || next.key_id() == current.key_id()
    {
        return Err(ParamError::Mismatch.into());
    }
    Ok(())
}

/// Why [`install_confirmed`] did not install a resetup's outcome. Every variant that can hand
/// the new share back does: it must be kept, not dropped.
#[derive(Debug)]
#[non_exhaustive]
pub enum NotInstalled {
    /// The resetup is not confirmed by every party: the outcome comes back, to be kept next to
    /// the old share (which stays installed and still signs) until a retried confirmation
    /// ([`wallet_types::reconfirm::Reconfirm`], [`Unconfirmed::settle`]) confirms it.
    Unconfirmed(Unconfirmed<KeyShare>),
    /// The store's current share does not accept the confirmed share as its successor (another
    /// party, key or chain code, or not a later epoch: [`ParamError::Mismatch`]), or the store
    /// could not be read: the share comes back with the error.
    Refused(KeyShare, Error),
    /// The store failed after installing the share (e.g. the retirement of the old epoch): the
    /// store holds the new share; only the error comes back.
    Failed(Error),
}

impl core::fmt::Display for NotInstalled {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unconfirmed(u) => write!(
                f,
                "the new key share is not confirmed (missing agreement of {:?}); keep it and the old share",
                u.disagreeing
            ),
            Self::Refused(_, e) => write!(f, "the store refused the new key share: {e}"),
            Self::Failed(e) => write!(f, "the store failed to install the new key share: {e}"),
        }
    }
}

impl core::error::Error for NotInstalled {}

/// Installs the outcome of a [`Resetup`](super::Resetup) into `store` **only if it is
/// Confirmed** (every party acknowledged the new epoch): the step that retires the old epoch
/// happens only when no honest party can be left without the new one. An Unconfirmed outcome is
/// refused and handed back ([`NotInstalled::Unconfirmed`]): keep it and the old share (see the
/// [resetup docs](super::resetup#ending-together-invariant-11)). The confirmed share is checked
/// against the store's current share before it is handed to [`KeyStore::install`], so a share
/// the store would refuse comes back too ([`NotInstalled::Refused`]).
// The error hands the key share back (moved once, never copied); boxing it would only add an
// allocation holding secrets.
#[allow(clippy::result_large_err)]
pub fn install_confirmed<S: KeyStore + ?Sized>(
    store: &S,
    outcome: Termination<KeyShare>,
    lift_bans: &[PartyId],
) -> Result<(), NotInstalled> {
    let next = outcome
        .into_confirmed()
        .map_err(NotInstalled::Unconfirmed)?;
    let Some(other) = next.parties().others(next.me()).next() else {
        return Err(NotInstalled::Refused(next, Error::Internal));
    };
    let checked = match store.lock_pairing(other) {
        Ok(guard) => check_successor(guard.key(), &next),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = checked {
        return Err(NotInstalled::Refused(next, e));
    }
    store.install(next, lift_bans).map_err(|e| match e.share {
        Some(share) => NotInstalled::Refused(share, e.error),
        None => NotInstalled::Failed(e.error),
    })
}

/// Runs `f` with the current key share and its pairing with `other` under the pairing's lock:
/// refused with [`Error::WrongEpoch`] when the share is no longer of key `key_id` (epoch
/// `epoch`), with [`Error::Banned`] when the pairing was ended; a failure of `f` that must end
/// the pairing ([`Error::must_ban`]) is recorded before the lock is released.
pub(crate) fn with_pairing<S: KeyStore + ?Sized, T>(
    store: &S,
    other: PartyId,
    key_id: &[u8; 32],
    epoch: u64,
    f: impl FnOnce(&KeyShare, &PairSetup) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut guard = store.lock_pairing(other)?;
    let result = {
        let key = guard.key();
        current(key, key_id, epoch)?;
        let pair = key.pair(other).ok_or(Error::Banned { party: other })?;
        f(key, pair)
    };
    if let Err(e) = &result
        && e.must_ban().contains(&other)
    {
        guard.ban()?;
    }
    result
}

/// [`Error::WrongEpoch`] unless `key` is the share of key `key_id`.
pub(crate) fn current(key: &KeyShare, key_id: &[u8; 32], epoch: u64) -> Result<(), Error> {
    if key.key_id() != key_id {
        return Err(Error::WrongEpoch {
            current: key.epoch(),
            found: epoch,
        });
    }
    Ok(())
}

#[cfg(feature = "std")]
pub use memory::MemoryKeyStore;

#[cfg(feature = "std")]
mod memory {
    use std::sync::{Mutex, MutexGuard};

    use wallet_types::{
        MemoryOneTimeStore, OneTimeStore, PartyId, SecretVec, StoreError, WireObject,
    };

    use super::super::keygen::{KeyShare, PublicKeyPackage};
    use super::{InstallError, KeyStore, PairingGuard};

    /// The in-memory [`KeyStore`]: the key share behind one mutex, the presignatures in a
    /// [`MemoryOneTimeStore`]. Share it between threads by reference or `Arc`; never build two
    /// stores from copies of one key share (each would keep its own bans).
    #[derive(Debug)]
    pub struct MemoryKeyStore {
        key: Mutex<KeyShare>,
        presignatures: MemoryOneTimeStore,
    }

    /// A locked pairing of a [`MemoryKeyStore`].
    pub struct MemoryGuard<'a> {
        key: MutexGuard<'a, KeyShare>,
        other: PartyId,
    }

    impl PairingGuard for MemoryGuard<'_> {
        fn key(&self) -> &KeyShare {
            &self.key
        }
        fn ban(&mut self) -> Result<(), StoreError> {
            self.key.ban(self.other);
            Ok(())
        }
    }

    impl MemoryKeyStore {
        /// A store owning `key`.
        pub fn new(key: KeyShare) -> Self {
            Self {
                key: Mutex::new(key),
                presignatures: MemoryOneTimeStore::new(),
            }
        }

        fn lock(&self) -> Result<MutexGuard<'_, KeyShare>, StoreError> {
            self.key.lock().map_err(|_| StoreError::Unavailable)
        }

        /// This store's party.
        pub fn me(&self) -> Result<PartyId, StoreError> {
            Ok(self.lock()?.me())
        }

        /// The public part of the current key share.
        pub fn public_package(&self) -> Result<PublicKeyPackage, StoreError> {
            Ok(self.lock()?.public_package())
        }

        /// The current epoch.
        pub fn epoch(&self) -> Result<u64, StoreError> {
            Ok(self.lock()?.epoch())
        }

        /// The parties whose pairing was ended by a ban.
        pub fn banned(&self) -> Result<std::vec::Vec<PartyId>, StoreError> {
            Ok(self.lock()?.banned().collect())
        }

        /// How many unused presignatures of the current epoch the store holds.
        pub fn presignatures(&self) -> Result<usize, StoreError> {
            let key_id = *self.lock()?.key_id();
            self.presignatures.count(&key_id)
        }

        /// The current key share's encoding (secret: store it encrypted), e.g. to persist the
        /// store. Bans are part of it.
        pub fn encode_key(&self) -> Result<SecretVec, StoreError> {
            Ok(self.lock()?.to_secret_bytes())
        }

        /// Runs `f` on the current key share (for a refresh or reshare, which need the secret
        /// share; see `wallet-pss`), under the store's lock.
        pub fn with_key<T>(&self, f: impl FnOnce(&KeyShare) -> T) -> Result<T, StoreError> {
            let key = self.lock()?;
            Ok(f(&key))
        }
    }

    impl OneTimeStore for MemoryKeyStore {
        fn put(
            &self,
            scope: &[u8; 32],
            id: &[u8; 32],
            sealed: SecretVec,
        ) -> Result<(), StoreError> {
            self.presignatures.put(scope, id, sealed)
        }
        fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError> {
            self.presignatures.take(scope, id)
        }
        fn retire(&self, scope: &[u8; 32]) -> Result<(), StoreError> {
            self.presignatures.retire(scope)
        }
    }

    impl KeyStore for MemoryKeyStore {
        type Guard<'a> = MemoryGuard<'a>;

        fn lock_pairing(&self, other: PartyId) -> Result<MemoryGuard<'_>, StoreError> {
            Ok(MemoryGuard {
                key: self.lock()?,
                other,
            })
        }

        fn install(&self, next: KeyShare, lift_bans: &[PartyId]) -> Result<(), InstallError> {
            let mut key = match self.lock() {
                Ok(k) => k,
                Err(e) => return Err(InstallError::refused(e.into(), next)),
            };
            if let Err(e) = super::check_successor(&key, &next) {
                return Err(InstallError::refused(e, next));
            }
            let next = super::carry_bans(&key, next, lift_bans);
            let old = *key.key_id();
            // The old share (and its OT setups) is zeroized as it drops.
            *key = next;
            self.presignatures.retire(&old).map_err(|e| InstallError {
                error: e.into(),
                share: None,
            })
        }
    }
}
