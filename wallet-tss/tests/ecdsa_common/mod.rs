//! Shared helpers of the ECDSA integration tests: run key generation and presigning through the
//! simulator.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use wallet_tss::ecdsa::{DerivationPath, KeyShare, Keygen, Presign, Presignature};
use wallet_types::sim::{Outcome, Simulator};
use wallet_types::{Parties, PartyId, SessionId};

pub fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

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

pub fn keys_of(out: Outcome<KeyShare>, n: usize) -> BTreeMap<PartyId, KeyShare> {
    assert!(out.failures.is_empty(), "failures: {:?}", out.failures);
    assert_eq!(out.outputs.len(), n, "stalled: {:?}", out.stalled);
    let first = out.outputs.values().next().unwrap();
    for k in out.outputs.values() {
        assert_eq!(k.key_id(), first.key_id());
        assert_eq!(k.public_key(), first.public_key());
        assert_eq!(k.chain_code(), first.chain_code());
    }
    out.outputs
}

pub fn keygen(n: u16, seed: u64) -> BTreeMap<PartyId, KeyShare> {
    keys_of(keygen_sim(n, seed).run(), n as usize)
}

pub fn presign_sim(
    keys: &BTreeMap<PartyId, KeyShare>,
    a: u16,
    b: u16,
    path: &DerivationPath,
    seed: u64,
) -> Simulator<Presign> {
    let mut sim = Simulator::new(seed);
    let session = SessionId([seed as u8; 32]).derive(b"presign-test");
    for (me, other) in [(a, b), (b, a)] {
        let m = Presign::new(
            &keys[&pid(me)],
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

pub fn presigs_of(mut out: Outcome<Presignature>) -> (Presignature, Presignature) {
    assert!(out.failures.is_empty(), "failures: {:?}", out.failures);
    assert_eq!(out.outputs.len(), 2, "stalled: {:?}", out.stalled);
    let mut it = std::mem::take(&mut out.outputs).into_values();
    let x = it.next().unwrap();
    let y = it.next().unwrap();
    assert_eq!(x.info(), y.info());
    (x, y)
}

pub fn presign(
    keys: &BTreeMap<PartyId, KeyShare>,
    a: u16,
    b: u16,
    path: &DerivationPath,
    seed: u64,
) -> (Presignature, Presignature) {
    presigs_of(presign_sim(keys, a, b, path, seed).run())
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
