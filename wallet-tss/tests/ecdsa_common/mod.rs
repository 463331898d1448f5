//! Shared helpers of the ECDSA integration tests: run key generation and presigning through the
//! simulator, each party working on its own key store.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use k256::ecdsa::{RecoveryId, Signature};
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare, Keygen, MemoryKeyStore, PartialSignature, Presign, PresignatureInfo,
    Sign, combine, partial_sign,
};
use wallet_types::sim::{Outcome, Simulator};
use wallet_types::{Parties, PartyId, SessionId, Termination};

pub fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

pub type Stores = BTreeMap<PartyId, MemoryKeyStore>;
pub type PresignOn<'a> = Presign<&'a MemoryKeyStore>;
pub type SignOn<'a> = Sign<&'a MemoryKeyStore>;

pub fn keygen_sim(n: u16, seed: u64) -> Simulator<Keygen> {
    let parties = Parties::range(n).unwrap();
    let mut sim = Simulator::new(seed);
    let session = SessionId([seed as u8; 32]).derive(b"keygen-test");
    for p in parties.iter() {
        let m = Keygen::new(session, p, parties.clone(), sim.rng()).unwrap();
        sim.add(m);
    }
    sim
}

/// Every party finished confirmed with the same key; the key shares by party.
pub fn keys_of(out: Outcome<Termination<KeyShare>>, n: usize) -> BTreeMap<PartyId, KeyShare> {
    assert!(out.failures.is_empty(), "failures: {:?}", out.failures);
    assert_eq!(out.outputs.len(), n, "stalled: {:?}", out.stalled);
    let keys: BTreeMap<PartyId, KeyShare> = out
        .outputs
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect();
    let first = keys.values().next().unwrap();
    for k in keys.values() {
        assert_eq!(k.key_id(), first.key_id());
        assert_eq!(k.public_key(), first.public_key());
        assert_eq!(k.chain_code(), first.chain_code());
    }
    keys
}

pub fn keygen(n: u16, seed: u64) -> BTreeMap<PartyId, KeyShare> {
    keys_of(keygen_sim(n, seed).run(), n as usize)
}

/// Each party's key share handed to its own store.
pub fn stores_of(keys: BTreeMap<PartyId, KeyShare>) -> Stores {
    keys.into_iter()
        .map(|(p, k)| (p, MemoryKeyStore::new(k)))
        .collect()
}

/// A fresh `n`-party key, each share in its own store.
pub fn stores(n: u16, seed: u64) -> Stores {
    stores_of(keygen(n, seed))
}

/// A simulator that restores presign machines from their bytes onto the same store.
pub fn presign_simulator<'a>(seed: u64) -> Simulator<PresignOn<'a>> {
    Simulator::with_restore(
        seed,
        Box::new(|m: &PresignOn<'a>| Presign::restore(*m.store(), m.save().expose())),
    )
}

/// A simulator that restores sign machines from their bytes onto the same store.
pub fn sign_simulator<'a>(seed: u64) -> Simulator<SignOn<'a>> {
    Simulator::with_restore(
        seed,
        Box::new(|m: &SignOn<'a>| Sign::restore(*m.store(), &m.save())),
    )
}

pub fn presign_sim<'a>(
    stores: &'a Stores,
    a: u16,
    b: u16,
    path: &DerivationPath,
    seed: u64,
) -> Simulator<PresignOn<'a>> {
    let mut sim = presign_simulator(seed);
    let session = SessionId([seed as u8; 32]).derive(b"presign-test");
    for (me, other) in [(a, b), (b, a)] {
        let m = Presign::new(
            &stores[&pid(me)],
            pid(other),
            path.clone(),
            session,
            sim.rng(),
        )
        .unwrap();
        sim.add(m);
    }
    sim
}

/// The presignature both signers agree on (each holds its half sealed in its store).
pub fn info_of(out: Outcome<PresignatureInfo>) -> PresignatureInfo {
    assert!(out.failures.is_empty(), "failures: {:?}", out.failures);
    assert_eq!(out.outputs.len(), 2, "stalled: {:?}", out.stalled);
    let mut it = out.outputs.into_values();
    let x = it.next().unwrap();
    assert_eq!(Some(&x), it.next().as_ref());
    x
}

pub fn presign(
    stores: &Stores,
    a: u16,
    b: u16,
    path: &DerivationPath,
    seed: u64,
) -> PresignatureInfo {
    info_of(presign_sim(stores, a, b, path, seed).run())
}

/// Both signers' partials for `info`.
pub fn partials(
    stores: &Stores,
    info: &PresignatureInfo,
    hash: &[u8; 32],
) -> (PartialSignature, PartialSignature) {
    let mut it = info.signers.iter();
    let (a, b) = (it.next().unwrap(), it.next().unwrap());
    (
        partial_sign(&stores[&a], info, hash).unwrap(),
        partial_sign(&stores[&b], info, hash).unwrap(),
    )
}

/// Both signers sign `hash` with `info` and the partials are combined (in both orders).
pub fn sign_both(
    stores: &Stores,
    info: &PresignatureInfo,
    hash: &[u8; 32],
) -> (Signature, RecoveryId) {
    let (a, b) = partials(stores, info, hash);
    let key = stores[&a.signer].public_package().unwrap();
    let r1 = combine(&key, info, hash, &a, &b).unwrap();
    let r2 = combine(&key, info, hash, &b, &a).unwrap();
    assert_eq!(r1, r2);
    r1
}

/// Every failure names exactly `culprit` with `reason`; the culprit itself is not judged.
pub fn only_blames<O: std::fmt::Debug>(
    out: &Outcome<O>,
    culprit: u16,
    reason: Option<wallet_types::Reason>,
) {
    assert!(!out.failures.is_empty(), "nobody noticed: {out:?}");
    for (p, e) in &out.failures {
        if p.get() == culprit {
            continue;
        }
        assert_eq!(e.culprits(), &[pid(culprit)], "{p} blamed {e:?}");
        if let Some(r) = reason {
            assert_eq!(e.reason(), Some(r), "{p}: {e:?}");
        }
    }
}
