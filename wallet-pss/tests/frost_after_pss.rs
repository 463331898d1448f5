//! FROST (Ed25519) keys of wallet-tss keep signing under the same public key after refresh and
//! after reshare (add a device, remove one, raise the threshold); shares of different epochs
//! do not sign together and the stale signer is named.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_pss::frost::{from_key_share, to_key_share};
use wallet_pss::{KeyShare, Refresh, Reshare, ReshareConfig, ReshareOutput};
use wallet_tss::frost::{KeyPackage, aggregate, keys, round1, round2};
use wallet_types::sim::Simulator;
use wallet_types::{Ed25519, Error, Parties, PartyId, Reason, SecretScalar, SessionId};

fn frost_sign(
    signers: &[&KeyPackage<Ed25519>],
    msg: &[u8],
    rng: &mut ChaCha20Rng,
) -> Result<[u8; 64], Error> {
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for k in signers {
        let (mut n, c) = round1::preprocess(k, 1, rng);
        nonces.insert(k.id(), n.remove(0));
        commitments.insert(k.id(), c[0]);
    }
    let package = round2::SigningPackage::new(commitments, msg.to_vec())?;
    let mut shares = BTreeMap::new();
    for k in signers {
        let n = nonces.remove(&k.id()).unwrap();
        shares.insert(k.id(), round2::sign(&package, n, k)?);
    }
    // The coordinator verifies against the *first* signer's view of the public package.
    let sig = aggregate::aggregate(&package, &shares, signers[0].public())?;
    Ok(sig.to_array())
}

fn verify(group_key: &[u8; 32], msg: &[u8], sig: &[u8; 64]) {
    let vk = ed25519_dalek::VerifyingKey::from_bytes(group_key).unwrap();
    vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
        .unwrap();
}

fn refresh(keys: Vec<KeyShare<Ed25519>>, seed: u64) -> Vec<KeyShare<Ed25519>> {
    let mut sim = Simulator::new(seed);
    for k in &keys {
        let m = Refresh::new(SessionId([seed as u8; 32]), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    out.outputs
        .into_values()
        .map(|o| o.into_confirmed().unwrap())
        .collect()
}

fn reshare(
    keys: Vec<KeyShare<Ed25519>>,
    dealers: &[u16],
    new: &[u16],
    t: usize,
    seed: u64,
) -> Vec<KeyShare<Ed25519>> {
    let cfg = ReshareConfig {
        old_commitments: keys[0].commitments().clone(),
        old_parties: keys[0].parties().clone(),
        old_epoch: keys[0].epoch(),
        dealers: Parties::from_ids(dealers).unwrap(),
        new_parties: Parties::from_ids(new).unwrap(),
        new_threshold: t,
        allow_threshold_one: false,
    };
    let by_id: BTreeMap<PartyId, KeyShare<Ed25519>> =
        keys.into_iter().map(|k| (k.me(), k)).collect();
    let mut sim = Simulator::new(seed);
    let everyone: std::collections::BTreeSet<PartyId> =
        cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
    for p in everyone {
        let old = by_id.get(&p).filter(|_| cfg.dealers.contains(p));
        let m = Reshare::new(SessionId([seed as u8; 32]), cfg.clone(), p, old, sim.rng());
        sim.add(m.unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    out.outputs
        .into_values()
        .filter_map(ReshareOutput::into_confirmed_share)
        .collect()
}

fn all_subsets_sign(
    keys: &[KeyShare<Ed25519>],
    t: usize,
    group_key: &[u8; 32],
    rng: &mut ChaCha20Rng,
) {
    let kps: Vec<KeyPackage<Ed25519>> = keys.iter().map(|k| from_key_share(k).unwrap()).collect();
    let n = kps.len();
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize != t {
            continue;
        }
        let signers: Vec<&KeyPackage<Ed25519>> = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| &kps[i])
            .collect();
        let msg = format!("subset {mask:b}");
        let sig = frost_sign(&signers, msg.as_bytes(), rng).unwrap();
        verify(group_key, msg.as_bytes(), &sig);
    }
    // t − 1 signers cannot sign.
    if t >= 2 {
        let few: Vec<&KeyPackage<Ed25519>> = kps.iter().take(t - 1).collect();
        assert!(frost_sign(&few, b"too few", rng).is_err());
    }
}

#[test]
fn frost_signs_after_refresh_and_reshare() {
    let mut rng = ChaCha20Rng::seed_from_u64(40);
    let parties = Parties::range(3).unwrap();
    let kps = keys::split_secret(
        SecretScalar::<Ed25519>::random(&mut rng),
        2,
        &parties,
        &mut rng,
    )
    .unwrap();
    let group_key: [u8; 32] = kps[0].public().group_key_bytes();
    let shares: Vec<KeyShare<Ed25519>> = kps.iter().map(|k| to_key_share(k, 0).unwrap()).collect();

    // Refresh: same key, new shares, epoch 1.
    let refreshed = refresh(shares, 1);
    assert!(refreshed.iter().all(|k| k.epoch() == 1));
    all_subsets_sign(&refreshed, 2, &group_key, &mut rng);

    // A signer still on epoch 0 is named by the coordinator.
    let stale = &kps[0];
    let fresh = from_key_share(&refreshed[1]).unwrap();
    let err = frost_sign(&[&fresh, stale], b"mixed epochs", &mut rng).unwrap_err();
    assert_eq!(err, Error::blame(stale.id(), Reason::InvalidSignatureShare));

    // Add a device (4): 2-of-4.
    let added = reshare(refreshed, &[1, 2], &[1, 2, 3, 4], 2, 2);
    assert!(added.iter().all(|k| k.epoch() == 2));
    all_subsets_sign(&added, 2, &group_key, &mut rng);

    // Remove device 1: 2-of-3 over {2, 3, 4}, with 1 dealing.
    let removed = reshare(added, &[1, 3], &[2, 3, 4], 2, 3);
    all_subsets_sign(&removed, 2, &group_key, &mut rng);

    // Raise to 3-of-3.
    let raised = reshare(removed, &[2, 4], &[2, 3, 4], 3, 4);
    assert!(raised.iter().all(|k| k.threshold() == 3 && k.epoch() == 4));
    all_subsets_sign(&raised, 3, &group_key, &mut rng);
}

#[test]
fn refresh_gives_nonces_a_new_scope_and_retiring_erases_the_old() {
    use wallet_types::{MemoryOneTimeStore, StoreError};
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    let kps = keys::split_secret(
        SecretScalar::<Ed25519>::random(&mut rng),
        2,
        &Parties::range(3).unwrap(),
        &mut rng,
    )
    .unwrap();
    let store = MemoryOneTimeStore::new();
    // Epoch 0: P1 and P2 each store a nonce pair for a package that is never signed.
    let mut commitments = BTreeMap::new();
    for k in &kps[..2] {
        let n = round1::SigningNonces::new(k.secret_share(), &mut rng);
        commitments.insert(k.id(), *n.commitments());
        n.seal_into(&store, k).unwrap();
    }
    let old_package = round2::SigningPackage::new(commitments, b"epoch 0".to_vec()).unwrap();
    // Refresh: every share, hence the key id and every nonce scope, changes.
    let shares: Vec<KeyShare<Ed25519>> = kps.iter().map(|k| to_key_share(k, 0).unwrap()).collect();
    let new: Vec<KeyPackage<Ed25519>> = refresh(shares, 42)
        .iter()
        .map(|k| from_key_share(k).unwrap())
        .collect();
    assert_ne!(new[0].public().key_id(), kps[0].public().key_id());
    for (old, new) in kps.iter().zip(&new) {
        assert_eq!(old.id(), new.id());
        assert_ne!(old.nonce_scope(), new.nonce_scope());
        // The old share's nonces are not reachable through the new share …
        if old_package.commitments().contains_key(&old.id()) {
            assert_eq!(
                round2::sign_with_store(&old_package, &store, new).unwrap_err(),
                Error::Store(StoreError::NotFound),
                "{}",
                old.id()
            );
        }
        // … and retiring the old scope erases them.
        round1::retire_nonces(&store, old).unwrap();
        assert_eq!(store.count(&old.nonce_scope()).unwrap(), 0);
    }
    assert_eq!(
        round2::sign_with_store(&old_package, &store, &kps[0]).unwrap_err(),
        Error::Store(StoreError::Retired)
    );
    // The new epoch stores and signs under its own scope.
    let mut commitments = BTreeMap::new();
    for k in &new[..2] {
        let n = round1::SigningNonces::new(k.secret_share(), &mut rng);
        commitments.insert(k.id(), *n.commitments());
        n.seal_into(&store, k).unwrap();
    }
    let package = round2::SigningPackage::new(commitments, b"epoch 1".to_vec()).unwrap();
    let shares: BTreeMap<_, _> = new[..2]
        .iter()
        .map(|k| {
            (
                k.id(),
                round2::sign_with_store(&package, &store, k).unwrap(),
            )
        })
        .collect();
    let sig = aggregate::aggregate(&package, &shares, new[0].public()).unwrap();
    verify(
        &new[0].public().group_key_bytes(),
        b"epoch 1",
        &sig.to_array(),
    );
}
