//! Helpers shared by the FROST integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use wallet_tss::frost::dkg::DkgParty;
use wallet_tss::frost::signing::{
    Coordinator, ModeCoordinator, ModeSigner, ModeSigningOutput, ModeSigningParty, Signer,
    SigningMode, SigningParty,
};
use wallet_tss::frost::{
    Ciphersuite, KeyPackage, Signature, SigningCommitments, SigningPackage, round1,
};
use wallet_types::sim::{Outcome, Simulator};
use wallet_types::{
    Ed25519, Error, MemoryOneTimeStore, Parties, PartyId, SessionId, Termination, WireObject,
};

pub const SID: SessionId = SessionId([0x5a; 32]);
pub const COORD: u16 = 100;

pub fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

pub fn dkg_sim(t: usize, n: u16, seed: u64) -> Simulator<DkgParty<Ed25519>> {
    let parties = Parties::range(n).unwrap();
    let mut s = Simulator::new(seed);
    for p in parties.iter() {
        let m = DkgParty::new(SID, p, parties.clone(), t, s.rng()).unwrap();
        s.add(m);
    }
    s
}

/// Every party finished confirmed with the same public package; returns the key packages by id.
pub fn dkg_ok(
    out: Outcome<Termination<KeyPackage<Ed25519>>>,
    n: usize,
) -> BTreeMap<PartyId, KeyPackage<Ed25519>> {
    assert!(out.failures.is_empty(), "failures: {:?}", out.failures);
    assert_eq!(out.outputs.len(), n, "stalled: {:?}", out.stalled);
    let keys: BTreeMap<PartyId, KeyPackage<Ed25519>> = out
        .outputs
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect();
    let first = keys.values().next().unwrap().public().clone();
    assert!(keys.values().all(|k| *k.public() == first));
    keys
}

pub fn run_dkg(t: usize, n: u16, seed: u64) -> BTreeMap<PartyId, KeyPackage<Ed25519>> {
    dkg_ok(dkg_sim(t, n, seed).run(), n as usize)
}

/// A signing party whose signer keeps its nonces in a shared in-memory store.
pub type PartyOn<'a> = SigningParty<Ed25519, &'a MemoryOneTimeStore>;

/// A simulator of signing parties in mode `M` whose crashes restore signers from their bytes
/// onto the same store (never by copying their state in memory) and the coordinator from its
/// bytes.
pub fn restoring_simulator<'a, C: Ciphersuite, M: SigningMode<C>>(
    seed: u64,
) -> Simulator<ModeSigningParty<C, &'a MemoryOneTimeStore, M>> {
    Simulator::with_restore(
        seed,
        Box::new(
            |m: &ModeSigningParty<C, &'a MemoryOneTimeStore, M>| match m {
                ModeSigningParty::Signer(s) => Ok(ModeSigningParty::Signer(ModeSigner::restore(
                    *s.store(),
                    s.save().expose(),
                )?)),
                ModeSigningParty::Coordinator(c) => Ok(ModeSigningParty::Coordinator(
                    ModeCoordinator::from_bytes(&c.to_bytes())?,
                )),
            },
        ),
    )
}

/// [`restoring_simulator`] of RFC 9591 parties.
pub fn store_simulator<'a>(seed: u64) -> Simulator<PartyOn<'a>> {
    restoring_simulator(seed)
}

/// A signer of `set` with coordinator `COORD`, allowed to use the nonce pairs `nonces`.
pub fn signer_on<'a>(
    store: &'a MemoryOneTimeStore,
    key: KeyPackage<Ed25519>,
    set: &Parties,
    nonces: &[SigningCommitments<Ed25519>],
) -> Signer<Ed25519, &'a MemoryOneTimeStore> {
    Signer::new(
        store,
        SID,
        key,
        pid(COORD),
        set.clone(),
        nonces.iter().map(SigningCommitments::id),
    )
    .unwrap()
}

/// A signing simulator: coordinator `COORD`, the given signers each with one fresh nonce pair
/// sealed into `store`, whose commitment goes into the package.
pub fn signing_sim<'a>(
    store: &'a MemoryOneTimeStore,
    keys: &BTreeMap<PartyId, KeyPackage<Ed25519>>,
    signers: &[u16],
    message: &[u8],
    seed: u64,
) -> Simulator<PartyOn<'a>> {
    let mut s = store_simulator(seed);
    let set = Parties::from_ids(signers).unwrap();
    let mut commitments = BTreeMap::new();
    let mut machines = Vec::new();
    for p in set.iter() {
        let key = keys[&p].duplicate();
        let c = round1::preprocess_into(store, &key, 1, s.rng()).unwrap();
        commitments.insert(p, c[0]);
        machines.push(SigningParty::Signer(signer_on(store, key, &set, &c)));
    }
    let public = keys.values().next().unwrap().public().clone();
    let package = SigningPackage::new(commitments, message.to_vec()).unwrap();
    machines.push(SigningParty::Coordinator(
        Coordinator::new(SID, pid(COORD), public, package).unwrap(),
    ));
    for m in machines {
        s.add(m);
    }
    s
}

/// The coordinator's signature, if it finished.
pub fn signature_of<C: Ciphersuite, M: SigningMode<C>>(
    out: &Outcome<ModeSigningOutput<C, M>>,
) -> Option<M::Signature>
where
    M::Signature: Copy,
{
    match out.outputs.get(&pid(COORD))? {
        ModeSigningOutput::Coordinator(sig) => Some(*sig),
        ModeSigningOutput::Signer(_) => None,
    }
}

pub fn verify_strict(
    keys: &BTreeMap<PartyId, KeyPackage<Ed25519>>,
    msg: &[u8],
    sig: &Signature<Ed25519>,
) {
    let pk = keys.values().next().unwrap().public().group_key_bytes();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    vk.verify_strict(msg, &sig.to_dalek()).unwrap();
}

/// Every failure of an honest machine blames exactly `culprit` (the culprit's own machine,
/// whose outgoing messages were tampered with, is not under test).
pub fn only_blames<O: std::fmt::Debug>(
    out: &Outcome<O>,
    culprit: u16,
    reason: Option<wallet_types::Reason>,
) {
    assert!(
        out.failures.keys().any(|p| p.get() != culprit),
        "nobody noticed: {out:?}"
    );
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

pub fn is_misbehaviour(e: &Error) -> bool {
    e.kind() == wallet_types::ErrorKind::Misbehaviour
}
