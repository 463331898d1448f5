//! The one-time store inside a sealed state: presignatures (ECDSA) and nonce pairs (FROST),
//! with the ids already used and the retired scopes, encoded with the state that holds them.

use core::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use wallet_types::{OneTimeStore, Reader, SecretVec, StoreError, Writer};

use crate::error::{Result, WasmError};

/// Upper bounds used when decoding.
const MAX_ENTRIES: usize = 4096;
const MAX_ENTRY: usize = 4096;

#[derive(Default)]
struct Entries {
    entries: BTreeMap<([u8; 32], [u8; 32]), SecretVec>,
    used: BTreeSet<([u8; 32], [u8; 32])>,
    retired: BTreeSet<[u8; 32]>,
}

/// A single-threaded [`OneTimeStore`] (a wasm instance has one thread; a borrow conflict is
/// [`StoreError::Unavailable`], never a panic). "Durable" means: in the state sealed after the
/// call, which the caller stores before it releases the call's output.
#[derive(Default)]
pub struct SealedOneTime {
    inner: RefCell<Entries>,
}

impl core::fmt::Debug for SealedOneTime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SealedOneTime(<redacted>)")
    }
}

fn busy() -> WasmError {
    WasmError::new("state", "store busy")
}

fn len32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| WasmError::new("state", "state too large"))
}

impl SealedOneTime {
    /// How many entries `scope` holds.
    pub fn count(&self, scope: &[u8; 32]) -> Result<usize> {
        let e = self.inner.try_borrow().map_err(|_| busy())?;
        Ok(e.entries.keys().filter(|(s, _)| s == scope).count())
    }

    /// Appends the encoding.
    pub fn encode(&self, w: &mut Writer) -> Result<()> {
        let e = self.inner.try_borrow().map_err(|_| busy())?;
        w.u32(len32(e.entries.len())?);
        for ((s, i), v) in &e.entries {
            w.bytes(s);
            w.bytes(i);
            w.var_bytes(v.expose());
        }
        w.u32(len32(e.used.len())?);
        for (s, i) in &e.used {
            w.bytes(s);
            w.bytes(i);
        }
        w.u32(len32(e.retired.len())?);
        for s in &e.retired {
            w.bytes(s);
        }
        Ok(())
    }

    /// Reads what [`SealedOneTime::encode`] wrote.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let mut e = Entries::default();
        for _ in 0..r.count(MAX_ENTRIES, 68)? {
            let k = (r.array()?, r.array()?);
            e.entries
                .insert(k, SecretVec::from_slice(r.var_bytes(MAX_ENTRY)?));
        }
        for _ in 0..r.count(MAX_ENTRIES, 64)? {
            e.used.insert((r.array()?, r.array()?));
        }
        for _ in 0..r.count(MAX_ENTRIES, 32)? {
            e.retired.insert(r.array()?);
        }
        Ok(Self {
            inner: RefCell::new(e),
        })
    }
}

impl OneTimeStore for SealedOneTime {
    fn put(
        &self,
        scope: &[u8; 32],
        id: &[u8; 32],
        sealed: SecretVec,
    ) -> core::result::Result<(), StoreError> {
        let mut e = self
            .inner
            .try_borrow_mut()
            .map_err(|_| StoreError::Unavailable)?;
        if e.retired.contains(scope) {
            return Err(StoreError::Retired);
        }
        let k = (*scope, *id);
        if e.used.contains(&k) || e.entries.contains_key(&k) {
            return Err(StoreError::AlreadyUsed);
        }
        e.entries.insert(k, sealed);
        Ok(())
    }

    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> core::result::Result<SecretVec, StoreError> {
        let mut e = self
            .inner
            .try_borrow_mut()
            .map_err(|_| StoreError::Unavailable)?;
        if e.retired.contains(scope) {
            return Err(StoreError::Retired);
        }
        let k = (*scope, *id);
        if e.used.contains(&k) {
            return Err(StoreError::AlreadyUsed);
        }
        let sealed = e.entries.remove(&k).ok_or(StoreError::NotFound)?;
        e.used.insert(k);
        Ok(sealed)
    }

    fn retire(&self, scope: &[u8; 32]) -> core::result::Result<(), StoreError> {
        let mut e = self
            .inner
            .try_borrow_mut()
            .map_err(|_| StoreError::Unavailable)?;
        e.entries.retain(|(s, _), _| s != scope);
        e.used.retain(|(s, _)| s != scope);
        e.retired.insert(*scope);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn single_use_survives_encoding() {
        let s = SealedOneTime::default();
        let (a, b) = ([1; 32], [2; 32]);
        s.put(&a, &b, SecretVec::from_slice(b"x")).unwrap();
        assert_eq!(
            s.put(&a, &b, SecretVec::from_slice(b"y")),
            Err(StoreError::AlreadyUsed)
        );
        let mut w = Writer::new();
        s.encode(&mut w).unwrap();
        let bytes = w.finish();
        let t = SealedOneTime::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(t.count(&a).unwrap(), 1);
        assert_eq!(t.take(&a, &b).unwrap().expose(), b"x");
        let mut w = Writer::new();
        t.encode(&mut w).unwrap();
        let bytes = w.finish();
        let u = SealedOneTime::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(u.take(&a, &b).err(), Some(StoreError::AlreadyUsed));
        u.retire(&a).unwrap();
        assert_eq!(
            u.put(&a, &[3; 32], SecretVec::from_slice(b"z")),
            Err(StoreError::Retired)
        );
    }
}
