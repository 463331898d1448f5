//! Stores for one-time material: the library, not the caller, keeps a presignature or a nonce
//! pair single-use across crashes, restores and parallel workers.
//!
//! A protocol that produces one-time material (an ECDSA presignature, a FROST nonce pair) puts
//! its sealed encoding into a [`OneTimeStore`] under a **scope** (the key id of the key share it
//! belongs to: one scope per epoch) and an **id** (the material's public id). Using it goes
//! through [`OneTimeStore::take`], which removes it and remembers the id, atomically and durably,
//! *before* the library computes anything from it. A refresh or reshare retires the old scope
//! ([`OneTimeStore::retire`]): every entry of the old epoch is erased and the scope refuses new
//! entries for good.
//!
//! # The contract an implementation keeps
//!
//! * **Linearizable.** `put`, `take` and `retire` behave as if they ran one at a time, in some
//!   order consistent with real time, across every thread and process that shares the store.
//!   Of two concurrent `take`s of one id, exactly one returns the entry.
//! * **Durable before it returns `Ok`.** After `take` returns, a crash and restart cannot bring
//!   the entry back (commit the deletion and the tombstone first); after `put` returns, the
//!   entry survives a crash; after `retire` returns, nothing of the scope does.
//! * **Tombstones.** An id that was taken is remembered in its scope: a later `put` or `take` of
//!   it is [`StoreError::AlreadyUsed`]. A `put` of an id that is present is refused the same way
//!   (a machine state restored twice cannot store a second, different copy). Tombstones of a
//!   retired scope may be dropped: the scope itself refuses everything.
//! * **Retired scopes** stay retired: `put` and `take` answer [`StoreError::Retired`].
//! * On any backend failure the operation changes nothing and returns
//!   [`StoreError::Unavailable`].
//!
//! A database-backed store does each operation in one transaction: `take` is
//! `DELETE ... RETURNING` plus an insert into a tombstone table keyed by `(scope, id)`, committed
//! before returning; `put` inserts with a uniqueness constraint over entries and tombstones;
//! `retire` deletes the scope's rows and inserts the scope into a retired-scopes table.
//!
//! [`MemoryOneTimeStore`] (feature `std`) is the in-memory implementation: linearizable within
//! one process (one mutex), not durable across process restarts.

use alloc::collections::{BTreeMap, BTreeSet};

use crate::error::StoreError;
use crate::secret::SecretVec;

/// A store of sealed one-time material (see the [module docs](self) for the contract).
pub trait OneTimeStore {
    /// Stores `sealed` under `(scope, id)`. Refuses an id that is present or was taken
    /// ([`StoreError::AlreadyUsed`]) and a retired scope ([`StoreError::Retired`]).
    fn put(&self, scope: &[u8; 32], id: &[u8; 32], sealed: SecretVec) -> Result<(), StoreError>;

    /// Removes the entry `(scope, id)`, records `id` as used, and returns the entry — atomically
    /// and durably, before returning. [`StoreError::NotFound`], [`StoreError::AlreadyUsed`] or
    /// [`StoreError::Retired`] otherwise.
    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError>;

    /// Erases every entry of `scope` and refuses the scope from now on.
    fn retire(&self, scope: &[u8; 32]) -> Result<(), StoreError>;
}

impl<T: OneTimeStore + ?Sized> OneTimeStore for &T {
    fn put(&self, scope: &[u8; 32], id: &[u8; 32], sealed: SecretVec) -> Result<(), StoreError> {
        (**self).put(scope, id, sealed)
    }
    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError> {
        (**self).take(scope, id)
    }
    fn retire(&self, scope: &[u8; 32]) -> Result<(), StoreError> {
        (**self).retire(scope)
    }
}

impl<T: OneTimeStore + ?Sized> OneTimeStore for alloc::sync::Arc<T> {
    fn put(&self, scope: &[u8; 32], id: &[u8; 32], sealed: SecretVec) -> Result<(), StoreError> {
        (**self).put(scope, id, sealed)
    }
    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError> {
        (**self).take(scope, id)
    }
    fn retire(&self, scope: &[u8; 32]) -> Result<(), StoreError> {
        (**self).retire(scope)
    }
}

/// The state of a [`OneTimeStore`] as plain data, for implementations that put it behind their
/// own lock (the in-memory store, a single-threaded `no_std` store behind a `RefCell`).
#[derive(Default)]
pub struct OneTimeEntries {
    entries: BTreeMap<([u8; 32], [u8; 32]), SecretVec>,
    used: BTreeSet<([u8; 32], [u8; 32])>,
    retired: BTreeSet<[u8; 32]>,
}

impl core::fmt::Debug for OneTimeEntries {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OneTimeEntries")
            .field("entries", &self.entries.len())
            .field("used", &self.used.len())
            .field("retired", &self.retired.len())
            .finish()
    }
}

impl OneTimeEntries {
    /// [`OneTimeStore::put`] on the data.
    pub fn put(
        &mut self,
        scope: &[u8; 32],
        id: &[u8; 32],
        sealed: SecretVec,
    ) -> Result<(), StoreError> {
        if self.retired.contains(scope) {
            return Err(StoreError::Retired);
        }
        let key = (*scope, *id);
        if self.used.contains(&key) || self.entries.contains_key(&key) {
            return Err(StoreError::AlreadyUsed);
        }
        self.entries.insert(key, sealed);
        Ok(())
    }

    /// [`OneTimeStore::take`] on the data.
    pub fn take(&mut self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError> {
        if self.retired.contains(scope) {
            return Err(StoreError::Retired);
        }
        let key = (*scope, *id);
        if self.used.contains(&key) {
            return Err(StoreError::AlreadyUsed);
        }
        let sealed = self.entries.remove(&key).ok_or(StoreError::NotFound)?;
        self.used.insert(key);
        Ok(sealed)
    }

    /// [`OneTimeStore::retire`] on the data (entries are zeroized as they are dropped).
    pub fn retire(&mut self, scope: &[u8; 32]) {
        self.entries.retain(|(s, _), _| s != scope);
        self.used.retain(|(s, _)| s != scope);
        self.retired.insert(*scope);
    }

    /// How many entries `scope` holds.
    pub fn count(&self, scope: &[u8; 32]) -> usize {
        self.entries.keys().filter(|(s, _)| s == scope).count()
    }
}

/// The in-memory [`OneTimeStore`]: one mutex, linearizable within the process; nothing survives
/// the process (so it is durable in the only sense that matters in memory: a taken entry is gone).
#[cfg(feature = "std")]
#[derive(Debug, Default)]
pub struct MemoryOneTimeStore {
    inner: std::sync::Mutex<OneTimeEntries>,
}

#[cfg(feature = "std")]
impl MemoryOneTimeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries `scope` holds (e.g. presignatures left for a key).
    pub fn count(&self, scope: &[u8; 32]) -> Result<usize, StoreError> {
        Ok(self.lock()?.count(scope))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, OneTimeEntries>, StoreError> {
        self.inner.lock().map_err(|_| StoreError::Unavailable)
    }
}

#[cfg(feature = "std")]
impl OneTimeStore for MemoryOneTimeStore {
    fn put(&self, scope: &[u8; 32], id: &[u8; 32], sealed: SecretVec) -> Result<(), StoreError> {
        self.lock()?.put(scope, id, sealed)
    }
    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError> {
        self.lock()?.take(scope, id)
    }
    fn retire(&self, scope: &[u8; 32]) -> Result<(), StoreError> {
        self.lock()?.retire(scope);
        Ok(())
    }
}

#[cfg(all(test, feature = "std"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(b: u8) -> SecretVec {
        SecretVec::from_slice(&[b; 4])
    }

    #[test]
    fn take_is_single_use_and_put_refuses_a_known_id() {
        let s = MemoryOneTimeStore::new();
        let (scope, id) = ([1u8; 32], [2u8; 32]);
        s.put(&scope, &id, entry(7)).unwrap();
        assert_eq!(s.put(&scope, &id, entry(8)), Err(StoreError::AlreadyUsed));
        assert_eq!(s.take(&scope, &id).unwrap().expose(), &[7u8; 4]);
        assert_eq!(
            s.take(&scope, &id).map(|_| ()),
            Err(StoreError::AlreadyUsed)
        );
        assert_eq!(s.put(&scope, &id, entry(9)), Err(StoreError::AlreadyUsed));
        assert_eq!(
            s.take(&scope, &[3u8; 32]).map(|_| ()),
            Err(StoreError::NotFound)
        );
    }

    #[test]
    fn retire_erases_the_scope_and_refuses_it_for_good() {
        let s = MemoryOneTimeStore::new();
        let (old, new, id) = ([1u8; 32], [4u8; 32], [2u8; 32]);
        s.put(&old, &id, entry(1)).unwrap();
        s.put(&new, &id, entry(2)).unwrap();
        s.retire(&old).unwrap();
        assert_eq!(s.count(&old).unwrap(), 0);
        assert_eq!(s.take(&old, &id).map(|_| ()), Err(StoreError::Retired));
        assert_eq!(s.put(&old, &[5u8; 32], entry(3)), Err(StoreError::Retired));
        assert_eq!(s.take(&new, &id).unwrap().expose(), &[2u8; 4]);
    }

    #[test]
    fn concurrent_takes_give_the_entry_once() {
        let s = std::sync::Arc::new(MemoryOneTimeStore::new());
        let scope = [9u8; 32];
        for i in 0..64u8 {
            s.put(&scope, &[i; 32], entry(i)).unwrap();
        }
        let workers: std::vec::Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..64u8)
                        .filter(|i| s.take(&scope, &[*i; 32]).is_ok())
                        .count()
                })
            })
            .collect();
        let total: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(total, 64);
    }
}
