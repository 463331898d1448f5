//! Two-party ECDSA (DKLs23) keys of wallet-tss keep signing under the same public key and the
//! same derived addresses after refresh and after reshare (add a device, remove one), with
//! fresh pairwise OT setups; shares and presignatures of different epochs do not mix; a cheating
//! OT setup in the resetup is named and banned. Signing parties keep their share in a
//! `MemoryKeyStore`: the refresh reads it from there, and the next epoch's share is installed
//! into it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use wallet_pss::ecdsa::{
    check_reshare_config, refresh, refresh_input, resetup_after_refresh, resetup_after_reshare,
    reshare, reshare_input, to_key_share,
};
use wallet_pss::{KeyShare, ReshareConfig, ReshareOutput};
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare as EcdsaKeyShare, KeyStore, Keygen, MemoryKeyStore, MultiPresign,
    Presign, PresignatureInfo, PublicKeyPackage, Resetup, ResetupMessage, combine, combine_all,
    partial_sign,
};
use wallet_tss::ot::OtSetupMsg4;
use wallet_types::sim::{Fault, FaultRule, Simulator};
use wallet_types::{
    Error, ErrorKind, ParamError, Parties, PartyId, Reason, Secp256k1, SessionId, StoreError,
    Termination, WireObject,
};

type Stores = BTreeMap<PartyId, MemoryKeyStore>;

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

fn sid(seed: u64, label: &[u8]) -> SessionId {
    SessionId([seed as u8; 32]).derive(label)
}

/// The results of a run in which every party acknowledged.
fn confirmed<T>(outputs: BTreeMap<PartyId, Termination<T>>) -> BTreeMap<PartyId, T> {
    outputs
        .into_iter()
        .map(|(p, o)| {
            let r = o
                .into_confirmed()
                .unwrap_or_else(|u| panic!("{p} unconfirmed: {:?}", u.disagreeing));
            (p, r)
        })
        .collect()
}

fn keygen(n: u16, seed: u64) -> BTreeMap<PartyId, EcdsaKeyShare> {
    let parties = Parties::range(n).unwrap();
    let mut sim = Simulator::new(seed);
    for p in parties.iter() {
        let m = Keygen::new(sid(seed, b"keygen"), p, parties.clone(), sim.rng()).unwrap();
        sim.add(m);
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), n as usize);
    confirmed(out.outputs)
}

/// One store per party, owning its share.
fn stores(keys: BTreeMap<PartyId, EcdsaKeyShare>) -> Stores {
    keys.into_iter()
        .map(|(p, k)| (p, MemoryKeyStore::new(k)))
        .collect()
}

fn me(store: &MemoryKeyStore) -> PartyId {
    store.with_key(|k| k.me()).unwrap()
}

/// A copy of the store's current share as it would come back from a backup (bytes), in a
/// store of its own: what a stale backup of an earlier epoch gives.
fn backup(store: &MemoryKeyStore) -> MemoryKeyStore {
    MemoryKeyStore::new(EcdsaKeyShare::from_bytes(store.encode_key().unwrap().expose()).unwrap())
}

/// Installs the next epoch's shares: into the party's store if it has one, else (a device
/// added by a reshare) into a new store; the stores of parties not in `new` are returned.
fn install(stores: &mut Stores, new: BTreeMap<PartyId, EcdsaKeyShare>) -> Stores {
    let mut left = std::mem::take(stores);
    for (p, k) in new {
        match left.remove(&p) {
            Some(s) => {
                s.install(k, &[]).unwrap();
                stores.insert(p, s);
            }
            None => {
                stores.insert(p, MemoryKeyStore::new(k));
            }
        }
    }
    left
}

fn run_resetup(machines: Vec<Resetup>, seed: u64) -> BTreeMap<PartyId, EcdsaKeyShare> {
    let n = machines.len();
    let mut sim = Simulator::new(seed);
    for m in machines {
        sim.add(m);
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), n, "stalled: {:?}", out.stalled);
    confirmed(out.outputs)
}

/// Refresh (zero-sharing) then fresh OT setups, for every party of the key, each reading its
/// current share from its store; returns the next epoch's shares (not installed yet).
fn ecdsa_refresh(stores: &Stores, seed: u64) -> BTreeMap<PartyId, EcdsaKeyShare> {
    let mut sim = Simulator::new(seed);
    for s in stores.values() {
        let m = s
            .with_key(|k| refresh(sid(seed, b"refresh"), k, sim.rng()))
            .unwrap()
            .unwrap();
        sim.add(m);
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let machines = confirmed(out.outputs)
        .into_iter()
        .map(|(p, new)| {
            stores[&p]
                .with_key(|old| resetup_after_refresh(sid(seed, b"resetup"), new, old))
                .unwrap()
                .unwrap()
        })
        .collect();
    run_resetup(machines, seed)
}

/// Reshare to `new` (2-of-|new|) dealt by `dealers` (reading their shares from their stores),
/// then fresh OT setups among `new`; returns the next epoch's shares (not installed yet).
fn ecdsa_reshare(
    stores: &Stores,
    dealers: &[u16],
    new: &[u16],
    seed: u64,
) -> BTreeMap<PartyId, EcdsaKeyShare> {
    ecdsa_reshare_t(stores, dealers, new, 2, seed)
}

/// [`ecdsa_reshare`] to a `threshold`-of-|new| key.
fn ecdsa_reshare_t(
    stores: &Stores,
    dealers: &[u16],
    new: &[u16],
    threshold: usize,
    seed: u64,
) -> BTreeMap<PartyId, EcdsaKeyShare> {
    let (old_commitments, old_parties, old_epoch) = stores
        .values()
        .next()
        .unwrap()
        .with_key(|k| (k.commitments().unwrap(), k.parties().clone(), k.epoch()))
        .unwrap();
    let cfg = ReshareConfig {
        old_commitments,
        old_parties,
        old_epoch,
        dealers: Parties::from_ids(dealers).unwrap(),
        new_parties: Parties::from_ids(new).unwrap(),
        new_threshold: threshold,
        allow_threshold_one: false,
    };
    let everyone: std::collections::BTreeSet<PartyId> =
        cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
    let mut sim = Simulator::new(seed);
    for p in everyone {
        let machine = match stores.get(&p).filter(|_| cfg.dealers.contains(p)) {
            Some(s) => s
                .with_key(|old| {
                    reshare(sid(seed, b"reshare"), cfg.clone(), p, Some(old), sim.rng())
                })
                .unwrap(),
            None => reshare(sid(seed, b"reshare"), cfg.clone(), p, None, sim.rng()),
        };
        sim.add(machine.unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let any = stores.values().next().unwrap().public_package().unwrap();
    let (key_id, chain_code) = (*any.key_id(), *any.chain_code());
    let machines = out
        .outputs
        .into_values()
        .filter_map(ReshareOutput::into_confirmed_share)
        .map(|k: KeyShare<Secp256k1>| {
            // A holder of the old key carries its bans over; a new device has none.
            let session = sid(seed, b"resetup");
            match stores.get(&k.me()) {
                Some(s) => s
                    .with_key(|old| {
                        resetup_after_reshare(session, k, key_id, chain_code, Some(old))
                    })
                    .unwrap(),
                None => resetup_after_reshare(session, k, key_id, chain_code, None),
            }
            .unwrap()
        })
        .collect();
    run_resetup(machines, seed)
}

fn presign_run(
    a: &MemoryKeyStore,
    b: &MemoryKeyStore,
    path: &DerivationPath,
    seed: u64,
) -> wallet_types::sim::Outcome<PresignatureInfo> {
    presign_run_in(presign_sim(seed), a, b, path, seed)
}

/// A simulator for presign machines: a crash restores a machine from its bytes onto its store.
fn presign_sim<'a>(seed: u64) -> Simulator<Presign<&'a MemoryKeyStore>> {
    Simulator::with_restore(
        seed,
        Box::new(|m: &Presign<&MemoryKeyStore>| Presign::restore(*m.store(), m.save().expose())),
    )
}

fn presign_run_in<'a>(
    mut sim: Simulator<Presign<&'a MemoryKeyStore>>,
    a: &'a MemoryKeyStore,
    b: &'a MemoryKeyStore,
    path: &DerivationPath,
    seed: u64,
) -> wallet_types::sim::Outcome<PresignatureInfo> {
    let session = sid(seed, b"presign");
    let ma = Presign::new(a, me(b), path.clone(), session, sim.rng()).unwrap();
    let mb = Presign::new(b, me(a), path.clone(), session, sim.rng()).unwrap();
    sim.add(ma);
    sim.add(mb);
    sim.run()
}

fn presign(
    a: &MemoryKeyStore,
    b: &MemoryKeyStore,
    path: &DerivationPath,
    seed: u64,
) -> PresignatureInfo {
    let out = presign_run(a, b, path, seed);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let mut it = out.outputs.into_values();
    let info = it.next().unwrap();
    assert_eq!(it.next().as_ref(), Some(&info));
    info
}

/// Signs with the pair and checks the signature under `expected` (the derived key of `path`).
fn sign_and_verify(
    a: &MemoryKeyStore,
    b: &MemoryKeyStore,
    path: &DerivationPath,
    expected: &k256::ecdsa::VerifyingKey,
    seed: u64,
) {
    let info = presign(a, b, path, seed);
    let hash = [seed as u8 ^ 0x5a; 32];
    let (pa, pb) = (
        partial_sign(a, &info, &hash).unwrap(),
        partial_sign(b, &info, &hash).unwrap(),
    );
    // Single use, in every epoch.
    assert_eq!(
        partial_sign(a, &info, &hash).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    let (sig, recid) = combine(&a.public_package().unwrap(), &info, &hash, &pa, &pb).unwrap();
    expected.verify_prehash(&hash, &sig).unwrap();
    let recovered = k256::ecdsa::VerifyingKey::recover_from_prehash(&hash, &sig, recid).unwrap();
    assert_eq!(&recovered, expected);
}

fn all_pairs_sign(
    stores: &Stores,
    path: &DerivationPath,
    expected: &k256::ecdsa::VerifyingKey,
    seed: u64,
) {
    let ss: Vec<&MemoryKeyStore> = stores.values().collect();
    let mut s = seed;
    for i in 0..ss.len() {
        for j in i + 1..ss.len() {
            s += 1;
            sign_and_verify(ss[i], ss[j], path, expected, s);
        }
    }
}

/// The new shares are of the key of `o` (the previous epoch's public package), epoch `epoch`.
fn same_key(o: &PublicKeyPackage, new: &BTreeMap<PartyId, EcdsaKeyShare>, epoch: u64) {
    let first = new.values().next().unwrap();
    for k in new.values() {
        assert_eq!(k.epoch(), epoch);
        assert_eq!(k.key_id(), first.key_id());
        assert_ne!(k.key_id(), o.key_id());
        assert_eq!(k.public_key(), o.public_key());
        assert_eq!(k.chain_code(), o.chain_code());
        // A stored new-epoch share round-trips, epoch included.
        let bytes = k.to_secret_bytes();
        let back = EcdsaKeyShare::from_bytes(bytes.expose()).unwrap();
        assert_eq!((back.epoch(), back.key_id()), (epoch, k.key_id()));
        assert_eq!(back.threshold(), k.threshold());
        // For 2-of-n, the epoch is the last 8 bytes; a body written before epochs existed
        // reads as 0 (a higher threshold appends its coefficients after the epoch).
        let b = bytes.expose();
        if k.threshold() == 2 {
            assert_eq!(b[b.len() - 8..], epoch.to_be_bytes());
            let legacy = EcdsaKeyShare::from_bytes(&b[..b.len() - 8]).unwrap();
            assert_eq!((legacy.epoch(), legacy.key_id()), (0, k.key_id()));
        }
    }
}

#[test]
fn ecdsa_refresh_keeps_key_and_addresses_and_refuses_mixed_epochs() {
    let mut stores = stores(keygen(3, 1));
    let path = DerivationPath::parse("m/44/60/0/0/7").unwrap();
    let old = stores[&pid(1)].public_package().unwrap();
    assert_eq!(old.epoch(), 0);
    let derived = old.derive(&path).unwrap();
    let expected = k256::ecdsa::VerifyingKey::from_affine(derived.public_key.to_affine()).unwrap();

    // Epoch-0 material left over at the refresh: a presignature never used, one whose partial
    // was released, and a backup of party 1's share.
    let unused = presign(&stores[&pid(1)], &stores[&pid(2)], &path, 20);
    let released = presign(&stores[&pid(1)], &stores[&pid(2)], &path, 21);
    let hash = [9u8; 32];
    let old_partial = partial_sign(&stores[&pid(1)], &released, &hash).unwrap();
    let stale = backup(&stores[&pid(1)]);
    assert_eq!(stores[&pid(2)].presignatures().unwrap(), 2);

    let new = ecdsa_refresh(&stores, 2);
    same_key(&old, &new, 1);
    for (p, k) in &new {
        // The share itself is new.
        assert_ne!(k.share_commitment(*p), old.share_commitment(*p));
        assert_eq!(k.secret_share().public(), k.share_commitment(*p));
        assert_eq!(k.derive(&path).unwrap().public_key, derived.public_key);
    }
    assert!(install(&mut stores, new).is_empty());
    for s in stores.values() {
        assert_eq!(s.epoch().unwrap(), 1);
        assert_eq!(s.presignatures().unwrap(), 0);
    }
    all_pairs_sign(&stores, &path, &expected, 10);

    // The epoch-0 presignatures cannot sign any more: the stores refuse them by epoch before
    // anything is taken or computed.
    for (s, info) in [(pid(1), &unused), (pid(2), &unused), (pid(2), &released)] {
        let err = partial_sign(&stores[&s], info, &hash).unwrap_err();
        assert_eq!(
            err,
            Error::WrongEpoch {
                current: 1,
                found: 0
            }
        );
    }
    // The partial released in epoch 0 does not combine: not under epoch 0's info against the
    // current key, nor with a new-epoch partial under the new info.
    let current = stores[&pid(1)].public_package().unwrap();
    assert_eq!(
        combine(&current, &released, &hash, &old_partial, &old_partial).unwrap_err(),
        Error::WrongEpoch {
            current: 1,
            found: 0
        }
    );
    let info = presign(&stores[&pid(1)], &stores[&pid(2)], &path, 22);
    assert_ne!(info.key_id, released.key_id);
    let new_partial = partial_sign(&stores[&pid(2)], &info, &hash).unwrap();
    let err = combine(&current, &info, &hash, &old_partial, &new_partial).unwrap_err();
    assert_eq!(err, Error::Params(ParamError::Mismatch));

    // A stale epoch-0 share cannot come back: the store refuses to install it...
    assert_eq!(
        stores[&pid(1)]
            .install(
                EcdsaKeyShare::from_bytes(stale.encode_key().unwrap().expose()).unwrap(),
                &[]
            )
            .unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
    // ...and, restored into a store of its own, it cannot presign with a new-epoch share:
    // each side refuses the other's first multiplication message as one of another key —
    // nobody is banned.
    let out = presign_run(&stale, &stores[&pid(2)], &path, 23);
    assert!(out.outputs.is_empty());
    assert_eq!(out.failures.len(), 2, "{:?}", out.failures);
    for (p, e) in &out.failures {
        let other = if *p == pid(1) { pid(2) } else { pid(1) };
        assert_eq!(e, &Error::blame(other, Reason::Replay));
        assert!(e.must_ban().is_empty());
    }
    assert!(stores.values().all(|s| s.banned().unwrap().is_empty()));

    // A second refresh moves on to epoch 2; epoch-1 shares are then stale too.
    let epoch1 = stores[&pid(1)].public_package().unwrap();
    let newer = ecdsa_refresh(&stores, 3);
    same_key(&epoch1, &newer, 2);
    install(&mut stores, newer);
    sign_and_verify(&stores[&pid(2)], &stores[&pid(3)], &path, &expected, 30);
}

#[test]
fn ecdsa_reshare_adds_and_removes_a_device() {
    let mut stores = stores(keygen(2, 4));
    let root = DerivationPath::root();
    let vk = stores[&pid(1)]
        .with_key(|k| k.verifying_key())
        .unwrap()
        .unwrap();

    // 2-of-2 → 2-of-3: add device 3 (a new store), 1 and 2 install epoch 1.
    let epoch0 = stores[&pid(1)].public_package().unwrap();
    let added = ecdsa_reshare(&stores, &[1, 2], &[1, 2, 3], 5);
    same_key(&epoch0, &added, 1);
    assert_eq!(added.len(), 3);
    assert!(install(&mut stores, added).is_empty());
    all_pairs_sign(&stores, &root, &vk, 40);

    // Remove device 1: 2-of-2 over {2, 3}, dealt by 1 and 3.
    let epoch1 = stores[&pid(1)].public_package().unwrap();
    let stale3 = backup(&stores[&pid(3)]);
    let removed = ecdsa_reshare(&stores, &[1, 3], &[2, 3], 6);
    same_key(&epoch1, &removed, 2);
    assert_eq!(removed.len(), 2);
    let gone = install(&mut stores, removed);
    assert_eq!(gone.keys().copied().collect::<Vec<_>>(), vec![pid(1)]);
    all_pairs_sign(&stores, &root, &vk, 50);
    // The removed device is no longer a party: a new share refuses to presign with it, and
    // an old (epoch-1) share of a remaining device cannot presign with a new-epoch share.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(55);
    let err = Presign::new(
        &stores[&pid(2)],
        pid(1),
        root.clone(),
        sid(55, b"p"),
        &mut rng,
    )
    .unwrap_err();
    assert_eq!(err, Error::Params(ParamError::NotAMember(pid(1))));
    let out = presign_run(&stale3, &stores[&pid(2)], &root, 56);
    assert!(out.outputs.is_empty());
    assert!(
        out.failures
            .values()
            .all(|e| e.kind() == ErrorKind::Misbehaviour && e.must_ban().is_empty())
    );

    // A threshold of 1 is refused for ECDSA keys even when asked for (the key would be each
    // holder's alone); any threshold from 2 to n is taken (see `ecdsa_threshold_change`).
    let (old_commitments, old_parties, old_epoch) = stores[&pid(2)]
        .with_key(|k| (k.commitments().unwrap(), k.parties().clone(), k.epoch()))
        .unwrap();
    let mut cfg = ReshareConfig {
        old_commitments,
        old_parties,
        old_epoch,
        dealers: Parties::from_ids(&[2, 3]).unwrap(),
        new_parties: Parties::from_ids(&[2, 3, 4]).unwrap(),
        new_threshold: 1,
        allow_threshold_one: true,
    };
    assert_eq!(
        check_reshare_config(&cfg),
        Err(Error::Params(ParamError::InvalidThreshold {
            threshold: 1,
            parties: 3
        }))
    );
    assert!(
        stores[&pid(2)]
            .with_key(|k| {
                let mut rng =
                    <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7);
                reshare(sid(7, b"x"), cfg.clone(), pid(2), Some(k), &mut rng)
            })
            .unwrap()
            .is_err()
    );
    cfg.new_threshold = 3;
    cfg.allow_threshold_one = false;
    assert_eq!(check_reshare_config(&cfg), Ok(()));
    // The generic view carries the epoch.
    assert_eq!(
        stores[&pid(2)]
            .with_key(|k| to_key_share(k).unwrap().epoch())
            .unwrap(),
        2
    );
}

/// A presign among the stores `signers` with the t-party machine.
fn t_run(signers: &[&MemoryKeyStore], seed: u64) -> wallet_types::sim::Outcome<PresignatureInfo> {
    let set = Parties::new(signers.iter().map(|s| me(s))).unwrap();
    let mut sim = Simulator::with_restore(
        seed,
        Box::new(|m: &MultiPresign<&MemoryKeyStore>| {
            MultiPresign::restore(*m.store(), m.save().expose())
        }),
    );
    for s in signers {
        let m = MultiPresign::new(
            *s,
            set.clone(),
            DerivationPath::root(),
            sid(seed, b"t-presign"),
            sim.rng(),
        )
        .unwrap();
        sim.add(m);
    }
    sim.run()
}

/// Presigns among `signers` (t-party machine) and signs; the signature verifies under `vk`.
fn t_sign(stores: &Stores, signers: &[u16], vk: &k256::ecdsa::VerifyingKey, seed: u64) {
    let ss: Vec<&MemoryKeyStore> = signers.iter().map(|p| &stores[&pid(*p)]).collect();
    let out = t_run(&ss, seed);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let info = out.outputs.into_values().next().unwrap();
    let hash = [seed as u8; 32];
    let partials: Vec<_> = signers
        .iter()
        .map(|p| partial_sign(&stores[&pid(*p)], &info, &hash).unwrap())
        .collect();
    let key = stores[&pid(signers[0])].public_package().unwrap();
    let (sig, _) = combine_all(&key, &info, &hash, &partials).unwrap();
    vk.verify_prehash(&hash, &sig).unwrap();
}

#[test]
fn ecdsa_threshold_change_2_of_3_to_3_of_5_to_2_of_3() {
    let mut stores = stores(keygen(3, 60));
    let vk = stores[&pid(1)]
        .with_key(|k| k.verifying_key())
        .unwrap()
        .unwrap();
    let epoch0 = stores[&pid(1)].public_package().unwrap();
    // 2-of-3 → 3-of-5: devices 4 and 5 join, the threshold rises.
    let up = ecdsa_reshare_t(&stores, &[1, 3], &[1, 2, 3, 4, 5], 3, 61);
    same_key(&epoch0, &up, 1);
    assert!(up.values().all(|k| k.threshold() == 3));
    let stale = backup(&stores[&pid(2)]);
    assert!(install(&mut stores, up).is_empty());
    for (i, s) in [[1u16, 2, 3], [1, 4, 5], [2, 3, 5], [3, 4, 5]]
        .iter()
        .enumerate()
    {
        t_sign(&stores, s, &vk, 62 + i as u64);
    }
    // Two signers are not enough any more, for either machine.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    assert_eq!(
        Presign::new(
            &stores[&pid(1)],
            pid(2),
            DerivationPath::root(),
            sid(1, b"p"),
            &mut rng
        )
        .unwrap_err(),
        Error::Params(ParamError::TooFewParties {
            needed: 3,
            given: 2
        })
    );
    // The epoch-0 share of device 2 cannot presign with epoch-1 shares (another key id: every
    // pair's first multiplication message is refused as belonging to another key; no ban).
    let out = t_run(&[&stores[&pid(1)], &stale, &stores[&pid(3)]], 66);
    assert!(out.outputs.is_empty());
    assert!(!out.failures.is_empty());
    assert!(
        out.failures.values().all(|e| e.must_ban().is_empty()),
        "{out:?}"
    );
    // A 3-signer presignature of epoch 1, kept unused through the next reshare.
    let leftover = {
        let out = t_run(&[&stores[&pid(1)], &stores[&pid(3)], &stores[&pid(5)]], 77);
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        out.outputs.into_values().next().unwrap()
    };
    // 3-of-5 → 2-of-3: devices 2 and 4 are removed (lost), dealt by three holders.
    let epoch1 = stores[&pid(1)].public_package().unwrap();
    let down = ecdsa_reshare_t(&stores, &[1, 3, 5], &[1, 3, 5], 2, 67);
    same_key(&epoch1, &down, 2);
    assert!(down.values().all(|k| k.threshold() == 2));
    let removed = install(&mut stores, down);
    assert_eq!(
        removed.keys().copied().collect::<Vec<_>>(),
        vec![pid(2), pid(4)]
    );
    all_pairs_sign(&stores, &DerivationPath::root(), &vk, 70);
    // The epoch-1 presignature of three signers signs nothing in epoch 2, for any of them.
    for p in [1u16, 3, 5] {
        assert_eq!(
            partial_sign(&stores[&pid(p)], &leftover, &[1; 32]).unwrap_err(),
            Error::WrongEpoch {
                current: 2,
                found: 1
            }
        );
    }
    // The removed devices are no parties of the new epoch: a presign naming one is refused.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(2);
    let with_removed = Parties::from_ids(&[1, 2, 3]).unwrap();
    assert_eq!(
        MultiPresign::new(
            &stores[&pid(1)],
            with_removed,
            DerivationPath::root(),
            sid(2, b"p"),
            &mut rng
        )
        .unwrap_err(),
        Error::Params(ParamError::NotAMember(pid(2)))
    );
}

#[test]
fn resetup_ot_cheating_is_blamed_and_banned() {
    let keys = keygen(2, 8);
    let mut sim = Simulator::new(9);
    for k in keys.values() {
        let m = refresh(sid(9, b"refresh"), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let refreshed = confirmed(sim.run().outputs);
    let mut sim = Simulator::new(10);
    for (p, new) in refreshed {
        sim.add(resetup_after_refresh(sid(10, b"resetup"), new, &keys[&p]).unwrap());
    }
    // Round 4 carries OT message 4 (P2 as Alice → P1 as Bob): a wrong response is a base-OT
    // failure at P1.
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut ResetupMessage| {
            if let ResetupMessage::Round4(x) = m {
                *x = flipped(x);
            }
        }))
        .from(pid(2))
        .round(4),
    );
    let out = sim.run();
    assert!(out.outputs.is_empty());
    let e = &out.failures[&pid(1)];
    assert_eq!(e, &Error::blame(pid(2), Reason::BaseOt));
    assert_eq!(e.must_ban(), &[pid(2)]);
    // A failure before the new share exists: P2 waits (nobody can be Confirmed without P1's
    // acknowledgement); ended by its caller, it has nothing to keep. The epoch-0 shares, never
    // touched by the resetup, still sign.
    assert_eq!(out.stalled, [pid(2)]);
    let stored = sim.machine(pid(2)).unwrap().to_secret_bytes();
    assert!(
        Resetup::from_bytes(stored.expose())
            .unwrap()
            .stop_waiting()
            .is_none()
    );
    let vk = keys[&pid(1)].verifying_key().unwrap();
    let stores = stores(keys);
    assert_eq!(stores[&pid(1)].epoch().unwrap(), 0);
    sign_and_verify(
        &stores[&pid(1)],
        &stores[&pid(2)],
        &DerivationPath::root(),
        &vk,
        19,
    );
}

#[test]
fn resetup_refuses_parties_that_disagree_on_the_key() {
    // P2 resets up with the wrong previous key id: P1 names it at round 1.
    let keys = keygen(2, 11);
    let mut sim = Simulator::new(12);
    for k in keys.values() {
        let m = refresh(sid(12, b"refresh"), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let refreshed = confirmed(sim.run().outputs);
    let mut sim = Simulator::new(13);
    for (p, new) in refreshed {
        let old = &keys[&p];
        let key_id = if p == pid(2) {
            [0u8; 32]
        } else {
            *old.key_id()
        };
        sim.add(
            resetup_after_reshare(sid(13, b"resetup"), new, key_id, *old.chain_code(), None)
                .unwrap(),
        );
    }
    let out = sim.run();
    assert!(out.outputs.is_empty());
    assert_eq!(
        out.failures[&pid(1)],
        Error::blame(pid(2), Reason::ConfirmationMismatch)
    );
}

#[test]
fn resetup_survives_crash_restore_and_reordering() {
    let keys = keygen(2, 14);
    let mut sim = Simulator::new(15);
    for k in keys.values() {
        let m = refresh(sid(15, b"refresh"), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let refreshed = confirmed(sim.run().outputs);
    let mut sim = Simulator::new(16);
    sim.restore_every_step(true).reorder(true);
    for (p, new) in refreshed {
        sim.add(resetup_after_refresh(sid(16, b"resetup"), new, &keys[&p]).unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), 2);
    let new = confirmed(out.outputs);
    same_key(&keys[&pid(1)].public_package(), &new, 1);
    let vk = keys[&pid(1)].verifying_key().unwrap();
    // Hand the epoch-0 shares to their stores, then install the epoch-1 shares over them.
    let mut stores = stores(keys);
    install(&mut stores, new);
    // Presign on the new shares survives crashes too (each restore goes back to the store).
    let mut sim = presign_sim(18);
    sim.restore_every_step(true).reorder(true);
    let out = presign_run_in(
        sim,
        &stores[&pid(1)],
        &stores[&pid(2)],
        &DerivationPath::root(),
        18,
    );
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let info = out.outputs.into_values().next().unwrap();
    assert_eq!(info.epoch, 1);
    assert!(partial_sign(&stores[&pid(1)], &info, &[1; 32]).is_ok());
    sign_and_verify(
        &stores[&pid(1)],
        &stores[&pid(2)],
        &DerivationPath::root(),
        &vk,
        17,
    );
}

#[test]
fn replayed_old_epoch_resetup_messages_are_refused() {
    // Epoch 1: refresh + resetup, keeping every message sent.
    let keys = keygen(2, 18);
    let mut sim = Simulator::new(19);
    for k in keys.values() {
        let m = refresh(sid(19, b"refresh"), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let refreshed = confirmed(sim.run().outputs);
    let mut sim = Simulator::new(20);
    for (p, new) in refreshed {
        sim.add(resetup_after_refresh(sid(20, b"resetup"), new, &keys[&p]).unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let epoch1 = confirmed(out.outputs);
    let old_messages = sim.sent().to_vec();
    assert!(!old_messages.is_empty());

    // Epoch 2, with every epoch-1 resetup message replayed into it: each is refused without
    // changing state, and the run completes.
    let mut sim = Simulator::new(21);
    for k in epoch1.values() {
        let m = refresh(sid(21, b"refresh"), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let refreshed = confirmed(sim.run().outputs);
    let mut sim = Simulator::new(22);
    for (p, new) in refreshed {
        sim.add(resetup_after_refresh(sid(22, b"resetup"), new, &epoch1[&p]).unwrap());
    }
    for env in old_messages {
        let wallet_types::Recipient::One(to) = env.recipient else {
            panic!("resetup rounds are point-to-point")
        };
        sim.inject(to, env);
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), 2);
    assert!(!out.rejections.is_empty());
    assert!(
        out.rejections
            .iter()
            .all(|(_, e)| matches!(e, Error::WrongSession { .. }))
    );
    same_key(
        &epoch1[&pid(1)].public_package(),
        &confirmed(out.outputs),
        2,
    );
}

fn flipped(m: &OtSetupMsg4) -> OtSetupMsg4 {
    let b = m.to_bytes();
    for k in (0..b.len()).rev() {
        let mut c = b.clone();
        c[k] ^= 1;
        if let Ok(x) = OtSetupMsg4::from_bytes(&c) {
            return x;
        }
    }
    panic!("no decodable flip");
}

// ------------------------------------------------------------------------------------------
// Bans carry over refresh and reshare
// ------------------------------------------------------------------------------------------

fn banned(k: &EcdsaKeyShare) -> Vec<PartyId> {
    k.banned().collect()
}

/// 2-of-3 keys in which P1 banned P2 (as after a failed OT check, `Error::must_ban`), each
/// share in its store.
fn keys_with_ban(seed: u64) -> BTreeMap<PartyId, EcdsaKeyShare> {
    let mut keys = keygen(3, seed);
    assert!(keys.get_mut(&pid(1)).unwrap().ban(pid(2)));
    assert_eq!(banned(&keys[&pid(1)]), vec![pid(2)]);
    keys
}

fn vk_of(stores: &Stores) -> k256::ecdsa::VerifyingKey {
    stores
        .values()
        .next()
        .unwrap()
        .with_key(|k| k.verifying_key().unwrap())
        .unwrap()
}

#[test]
fn a_ban_survives_refresh_and_resetup() {
    let mut stores = stores(keys_with_ban(30));
    let old = stores[&pid(1)].public_package().unwrap();
    let epoch1 = ecdsa_refresh(&stores, 31);
    same_key(&old, &epoch1, 1);
    // P1 still has no pairing with P2 (the fresh setup with it was run and dropped) …
    assert_eq!(banned(&epoch1[&pid(1)]), vec![pid(2)]);
    assert_eq!(epoch1[&pid(1)].paired().collect::<Vec<_>>(), vec![pid(3)]);
    install(&mut stores, epoch1);
    assert_eq!(stores[&pid(1)].banned().unwrap(), vec![pid(2)]);
    // … so presigning with P2 is refused on P1's side, while P1 + P3 and P2 + P3 sign.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(32);
    assert_eq!(
        Presign::new(
            &stores[&pid(1)],
            pid(2),
            DerivationPath::root(),
            sid(32, b"presign"),
            &mut rng
        )
        .unwrap_err(),
        Error::Banned { party: pid(2) }
    );
    let vk = vk_of(&stores);
    sign_and_verify(
        &stores[&pid(1)],
        &stores[&pid(3)],
        &DerivationPath::root(),
        &vk,
        33,
    );
    sign_and_verify(
        &stores[&pid(2)],
        &stores[&pid(3)],
        &DerivationPath::root(),
        &vk,
        34,
    );
    // Nobody else banned anybody.
    assert!(stores[&pid(2)].banned().unwrap().is_empty());
    assert!(stores[&pid(3)].banned().unwrap().is_empty());
    // And a second refresh keeps it.
    let epoch2 = ecdsa_refresh(&stores, 35);
    assert_eq!(banned(&epoch2[&pid(1)]), vec![pid(2)]);
}

#[test]
fn lift_ban_pairs_the_party_again() {
    let stores = stores(keys_with_ban(40));
    let mut sim = Simulator::new(41);
    for s in stores.values() {
        let m = s
            .with_key(|k| refresh(sid(41, b"refresh"), k, sim.rng()))
            .unwrap()
            .unwrap();
        sim.add(m);
    }
    let refreshed = confirmed(sim.run().outputs);
    let machines = refreshed
        .into_iter()
        .map(|(p, new)| {
            let mut input = stores[&p]
                .with_key(|k| refresh_input(new, k))
                .unwrap()
                .unwrap();
            if p == pid(1) {
                assert_eq!(input.banned().collect::<Vec<_>>(), vec![pid(2)]);
                assert!(input.lift_ban(pid(2)));
                assert!(!input.lift_ban(pid(2)), "lifted once");
            }
            Resetup::new(sid(41, b"resetup"), input).unwrap()
        })
        .collect();
    let epoch1 = run_resetup(machines, 42);
    assert!(banned(&epoch1[&pid(1)]).is_empty());
    assert_eq!(
        epoch1[&pid(1)].paired().collect::<Vec<_>>(),
        vec![pid(2), pid(3)]
    );
    // The store re-bans on install unless the lift is named there too.
    let mut next = epoch1;
    let p1 = next.remove(&pid(1)).unwrap();
    let copy = EcdsaKeyShare::from_bytes(p1.to_secret_bytes().expose()).unwrap();
    let probe = backup(&stores[&pid(1)]);
    probe.install(copy, &[]).unwrap();
    assert_eq!(probe.banned().unwrap(), vec![pid(2)]);
    stores[&pid(1)].install(p1, &[pid(2)]).unwrap();
    assert!(stores[&pid(1)].banned().unwrap().is_empty());
    for (p, k) in next {
        stores[&p].install(k, &[]).unwrap();
    }
    let vk = vk_of(&stores);
    sign_and_verify(
        &stores[&pid(1)],
        &stores[&pid(2)],
        &DerivationPath::root(),
        &vk,
        43,
    );
}

#[test]
fn a_ban_survives_reshare_unless_the_party_leaves() {
    // P1 banned P2. Reshare {1,2,3} → {1,2,4}: P2 stays, so P1 keeps the ban; the new device P4
    // pairs with everybody.
    let stores = stores(keys_with_ban(50));
    let new = ecdsa_reshare(&stores, &[1, 2], &[1, 2, 4], 51);
    assert_eq!(banned(&new[&pid(1)]), vec![pid(2)]);
    assert!(banned(&new[&pid(2)]).is_empty());
    assert!(banned(&new[&pid(4)]).is_empty());
    // Reshare {1,2,3} → {1,3,4}: P2 left, no ban is left to carry.
    let new = ecdsa_reshare(&stores, &[1, 3], &[1, 3, 4], 52);
    assert!(banned(&new[&pid(1)]).is_empty());
    assert_eq!(new[&pid(1)].paired().count(), 2);
}

#[test]
fn reshare_input_checks_the_old_share_and_carries_its_bans() {
    let keys = keys_with_ban(60);
    let old = &keys[&pid(1)];
    let share = to_key_share(old).unwrap();
    // Not a later epoch: refused.
    assert_eq!(
        reshare_input(share, *old.key_id(), *old.chain_code(), Some(old)).unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
    let later = |k: &EcdsaKeyShare| {
        let (me, t, parties, share, commitments, _) = to_key_share(k).unwrap().into_parts();
        KeyShare::new(me, t, parties, share, commitments, k.epoch() + 1).unwrap()
    };
    // Another key id: refused.
    assert_eq!(
        reshare_input(later(old), [9; 32], *old.chain_code(), Some(old)).unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
    let input = reshare_input(later(old), *old.key_id(), *old.chain_code(), Some(old)).unwrap();
    assert_eq!(input.banned().collect::<Vec<_>>(), vec![pid(2)]);
    let input = reshare_input(later(old), *old.key_id(), *old.chain_code(), None).unwrap();
    assert_eq!(input.banned().count(), 0);
    // A ban of a party outside the set, or of oneself, is refused by the machine.
    let mut input = refresh_input(later(old), old).unwrap();
    input.ban(pid(7));
    assert_eq!(
        Resetup::new(sid(61, b"resetup"), input).unwrap_err(),
        Error::Params(ParamError::NotAMember(pid(7)))
    );
    let mut input = refresh_input(later(old), old).unwrap();
    input.ban(pid(1));
    assert_eq!(
        Resetup::new(sid(61, b"resetup"), input).unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
}

#[test]
fn resetup_state_keeps_the_bans_across_restores() {
    let keys = keys_with_ban(70);
    let mut sim = Simulator::new(71);
    for k in keys.values() {
        let m = refresh(sid(71, b"refresh"), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let refreshed = confirmed(sim.run().outputs);
    let mut sim = Simulator::new(72);
    sim.restore_every_step(true).reorder(true);
    for (p, new) in refreshed {
        sim.add(resetup_after_refresh(sid(72, b"resetup"), new, &keys[&p]).unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let new = confirmed(out.outputs);
    assert_eq!(banned(&new[&pid(1)]), vec![pid(2)]);
    assert_eq!(new[&pid(2)].paired().count(), 2);
}

#[test]
fn resetup_states_of_retired_kinds_are_refused() {
    let keys = keygen(2, 80);
    let mut sim = Simulator::new(81);
    for k in keys.values() {
        let m = refresh(sid(81, b"refresh"), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let (p, new) = confirmed(sim.run().outputs).into_iter().next().unwrap();
    let m = resetup_after_refresh(sid(82, b"resetup"), new, &keys[&p]).unwrap();
    let mut bytes = m.to_secret_bytes().expose().to_vec();
    assert_eq!(&bytes[1..3], &[0x03, 0xa1]);
    assert!(Resetup::from_bytes(&bytes).is_ok());
    // The state without bans (0x038a) and the six-round state (0x0392).
    for old in [0x8au8, 0x92] {
        bytes[2] = old;
        assert_eq!(
            Resetup::from_bytes(&bytes).err(),
            Some(wallet_types::DecodeError::WrongKind {
                expected: 0x03a1,
                found: 0x0300 | u16::from(old)
            })
        );
    }
}

#[test]
fn import_a_mnemonic_key_keeps_its_addresses_and_the_dealing_is_worthless_after_refresh() {
    use wallet_sss::derive::{Bip32Key, ChildIndex, seed_from_mnemonic};
    use wallet_tss::ecdsa::import::{deal, import_input, is_imported};
    // BIP-39 test mnemonic (all "abandon" … "about"); the account key m/44'/60'/0' is imported,
    // its non-hardened children 0/i derive on the TSS key.
    let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
    let seed = seed_from_mnemonic(phrase, "").unwrap();
    let h = |i| ChildIndex::hardened(i).unwrap();
    let account = Bip32Key::derive(seed.expose(), &[h(44), h(60), h(0)]).unwrap();
    let leaf = account
        .child(ChildIndex::normal(0).unwrap())
        .unwrap()
        .child(ChildIndex::normal(0).unwrap())
        .unwrap();
    // The client deals a 2-of-3 sharing of the account key with its chain code.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(90);
    let dealt = deal(
        account.secret(),
        *account.chain_code().expose(),
        Parties::range(3).unwrap(),
        2,
        &mut rng,
    )
    .unwrap();
    // Each party checks its share (an ImportShare survives its secret encoding) and pairs.
    let machines = dealt
        .iter()
        .map(|(p, s)| {
            let back =
                wallet_tss::ecdsa::import::ImportShare::from_bytes(s.to_secret_bytes().expose())
                    .unwrap();
            Resetup::new(sid(90, b"import-pairing"), import_input(&back, *p).unwrap()).unwrap()
        })
        .collect();
    let imported = run_resetup(machines, 91);
    for (p, k) in &imported {
        assert!(is_imported(k, &dealt[p]));
        assert_eq!(k.epoch(), 0);
    }
    let mut stores = stores(imported);
    let epoch0 = stores[&pid(1)].public_package().unwrap();
    // A share the dealer sent with a wrong value is refused on receipt.
    let mut bad = dealt[&pid(2)].clone();
    bad.share = wallet_tss::ecdsa::keygen::ShareInTransit::new(&wallet_types::SecretScalar::new(
        k256::Scalar::ONE,
    ));
    assert_eq!(
        import_input(&bad, pid(2)).unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
    // Refresh at once: the dealt shares are of a sharing nobody uses any more.
    let fresh = ecdsa_refresh(&stores, 92);
    same_key(&epoch0, &fresh, 1);
    for (p, k) in &fresh {
        assert_ne!(
            k.secret_share().public(),
            dealt[p].share.to_secret().public(),
            "{p}'s share is still the dealt one"
        );
    }
    assert!(install(&mut stores, fresh).is_empty());
    // The same address at m/0/0 as the mnemonic's m/44'/60'/0'/0/0.
    let path = DerivationPath::parse("m/0/0").unwrap();
    let derived = stores[&pid(1)]
        .public_package()
        .unwrap()
        .derive(&path)
        .unwrap();
    assert_eq!(derived.public_key, leaf.public_key());
    let vk = k256::ecdsa::VerifyingKey::from_affine(leaf.public_key().to_affine()).unwrap();
    all_pairs_sign(&stores, &path, &vk, 93);
    // A store rebuilt from the dealing (what the dealer could keep) cannot presign with the
    // refreshed parties: its epoch-0 share belongs to another key id.
    let dealer_copy = {
        let machines = dealt
            .iter()
            .map(|(p, s)| {
                Resetup::new(sid(94, b"rogue-pairing"), import_input(s, *p).unwrap()).unwrap()
            })
            .collect();
        MemoryKeyStore::new(run_resetup(machines, 94).remove(&pid(2)).unwrap())
    };
    let out = presign_run(&dealer_copy, &stores[&pid(1)], &DerivationPath::root(), 95);
    assert!(out.outputs.is_empty());
    assert!(out.failures.values().all(|e| e.must_ban().is_empty()));
}
