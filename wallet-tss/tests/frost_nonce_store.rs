//! FROST nonces persisted through a one-time store are single-use across restores, parallel
//! workers and epochs: signing takes the pair out of the store (atomically) before the share is
//! computed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod frost_common;

use std::collections::BTreeMap;

use frost_common::{COORD, SID, pid, signer_on};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::frost::round1::{self, SigningNonces, retire_nonces};
use wallet_tss::frost::signing::{
    Coordinator, Signer, SignerState, SigningMessage, SigningParty, SigningPartyState,
};
use wallet_tss::frost::{
    KeyPackage, SigningCommitments, SigningPackage, aggregate, keys, sign_with_store,
};
use wallet_types::store::OneTimeStore;
use wallet_types::{
    DecodeError, Ed25519, Envelope, Error, MemoryOneTimeStore, ParamError, Parties, Protocol,
    Recipient, SecretScalar, SecretVec, Step, StoreError, WireObject,
};

fn key_packages(seed: u64) -> (Vec<KeyPackage<Ed25519>>, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secret = SecretScalar::<Ed25519>::random(&mut rng);
    let keys = keys::split_secret(secret, 2, &Parties::range(3).unwrap(), &mut rng).unwrap();
    (keys, rng)
}

/// Signers 0 and 1 each seal one nonce pair into `store`; the package for `msg` uses them.
fn sealed_package(
    keys: &[KeyPackage<Ed25519>],
    store: &MemoryOneTimeStore,
    msg: &[u8],
    rng: &mut ChaCha20Rng,
) -> SigningPackage<Ed25519> {
    let mut commitments = BTreeMap::new();
    for k in &keys[..2] {
        let n = SigningNonces::new(k.secret_share(), rng);
        commitments.insert(k.id(), *n.commitments());
        let id = n.id();
        assert_eq!(n.seal_into(store, k).unwrap(), id);
    }
    SigningPackage::new(commitments, msg.to_vec()).unwrap()
}

#[test]
fn a_stored_nonce_signs_once() {
    let (keys, mut rng) = key_packages(1);
    let store = MemoryOneTimeStore::new();
    let package = sealed_package(&keys, &store, b"pay 1", &mut rng);
    assert_eq!(store.count(&keys[0].nonce_scope()).unwrap(), 1);
    let z0 = sign_with_store(&package, &store, &keys[0]).unwrap();
    // Taken: gone from the store, and a second use (a restored process, a retry) is refused.
    assert_eq!(store.count(&keys[0].nonce_scope()).unwrap(), 0);
    assert_eq!(
        sign_with_store(&package, &store, &keys[0]).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    let id = package.commitments()[&keys[0].id()].id();
    assert_eq!(
        SigningNonces::take_from(&store, &keys[0], &id).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    let z1 = sign_with_store(&package, &store, &keys[1]).unwrap();
    let shares = BTreeMap::from([(keys[0].id(), z0), (keys[1].id(), z1)]);
    let sig = aggregate(&package, &shares, keys[0].public()).unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&keys[0].public().group_key_bytes()).unwrap();
    vk.verify_strict(b"pay 1", &sig.to_dalek()).unwrap();
}

#[test]
fn racing_workers_sign_once() {
    // Two workers hold the same package (e.g. a retried request) and race to sign with the same
    // stored nonce pair: exactly one gets a share, the other is refused.
    let (keys, mut rng) = key_packages(2);
    let store = MemoryOneTimeStore::new();
    for round in 0..16u8 {
        let package = sealed_package(&keys, &store, &[round; 8], &mut rng);
        let key = &keys[0];
        let results: Vec<Result<_, Error>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..2)
                .map(|_| s.spawn(|| sign_with_store(&package, &store, key)))
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| r.as_ref().err() == Some(&Error::Store(StoreError::AlreadyUsed)))
        );
    }
}

#[test]
fn a_retired_scope_refuses_its_nonces() {
    let (keys, mut rng) = key_packages(3);
    let store = MemoryOneTimeStore::new();
    let package = sealed_package(&keys, &store, b"old epoch", &mut rng);
    // A refresh replaced keys[0]'s share: its scope is retired, its nonces erased.
    retire_nonces(&store, &keys[0]).unwrap();
    assert_eq!(store.count(&keys[0].nonce_scope()).unwrap(), 0);
    assert_eq!(
        sign_with_store(&package, &store, &keys[0]).unwrap_err(),
        Error::Store(StoreError::Retired)
    );
    let n = SigningNonces::new(keys[0].secret_share(), &mut rng);
    assert_eq!(
        n.seal_into(&store, &keys[0]).unwrap_err(),
        Error::Store(StoreError::Retired)
    );
    // Other key shares' scopes are untouched.
    assert!(sign_with_store(&package, &store, &keys[1]).is_ok());
}

#[test]
fn the_scope_is_the_key_share() {
    let (keys, mut rng) = key_packages(4);
    let (other, _) = key_packages(5);
    // Same party id, another key: another key id and scope.
    assert_eq!(keys[0].id(), other[0].id());
    assert_ne!(keys[0].public().key_id(), other[0].public().key_id());
    assert_ne!(keys[0].nonce_scope(), other[0].nonce_scope());
    // Same key, another party: the same key id, another scope.
    assert_eq!(keys[0].public().key_id(), keys[1].public().key_id());
    assert_ne!(keys[0].nonce_scope(), keys[1].nonce_scope());
    // A nonce stored for one key share is not found through another.
    let store = MemoryOneTimeStore::new();
    let n = SigningNonces::new(keys[0].secret_share(), &mut rng);
    let id = n.seal_into(&store, &keys[0]).unwrap();
    assert_eq!(
        SigningNonces::take_from(&store, &other[0], &id).unwrap_err(),
        Error::Store(StoreError::NotFound)
    );
    assert!(SigningNonces::take_from(&store, &keys[0], &id).is_ok());
}

#[test]
fn a_refused_package_leaves_the_nonce_in_the_store() {
    let (keys, mut rng) = key_packages(6);
    let store = MemoryOneTimeStore::new();
    let n = SigningNonces::new(keys[0].secret_share(), &mut rng);
    let c = *n.commitments();
    n.seal_into(&store, &keys[0]).unwrap();
    // One signer of a 2-of-3 key: refused before the store is touched.
    let lone = SigningPackage::new(BTreeMap::from([(keys[0].id(), c)]), b"m".to_vec()).unwrap();
    assert!(matches!(
        sign_with_store(&lone, &store, &keys[0]).unwrap_err(),
        Error::Params(ParamError::TooFewParties { .. })
    ));
    assert_eq!(store.count(&keys[0].nonce_scope()).unwrap(), 1);
    // A package without this signer: refused too.
    let n2 = SigningNonces::new(keys[1].secret_share(), &mut rng);
    let n3 = SigningNonces::new(keys[2].secret_share(), &mut rng);
    let others = SigningPackage::new(
        BTreeMap::from([
            (keys[1].id(), *n2.commitments()),
            (keys[2].id(), *n3.commitments()),
        ]),
        b"m".to_vec(),
    )
    .unwrap();
    assert_eq!(
        sign_with_store(&others, &store, &keys[0]).unwrap_err(),
        Error::Params(ParamError::NotAMember(keys[0].id()))
    );
    assert_eq!(store.count(&keys[0].nonce_scope()).unwrap(), 1);
}

/// A store that hands back other bytes than it was given (corrupted, or hostile).
struct Corrupting(MemoryOneTimeStore);

impl OneTimeStore for Corrupting {
    fn put(&self, scope: &[u8; 32], id: &[u8; 32], sealed: SecretVec) -> Result<(), StoreError> {
        self.0.put(scope, id, sealed)
    }
    fn take(&self, scope: &[u8; 32], id: &[u8; 32]) -> Result<SecretVec, StoreError> {
        let mut b = self.0.take(scope, id)?.expose().to_vec();
        if let Some(x) = b.last_mut() {
            *x ^= 1;
        }
        Ok(SecretVec::from_slice(&b))
    }
    fn retire(&self, scope: &[u8; 32]) -> Result<(), StoreError> {
        self.0.retire(scope)
    }
}

#[test]
fn a_corrupted_entry_blames_nobody_and_is_not_used() {
    let (keys, mut rng) = key_packages(7);
    let store = Corrupting(MemoryOneTimeStore::new());
    let n = SigningNonces::new(keys[0].secret_share(), &mut rng);
    let id = n.seal_into(&store, &keys[0]).unwrap();
    let e = SigningNonces::take_from(&store, &keys[0], &id).unwrap_err();
    assert_eq!(e, Error::Internal);
    assert!(e.culprits().is_empty());
}

// ---------------------------------------------------------------------------------------------
// The Signer machine: its state names nonce pairs by id, the store keeps them single-use.
// ---------------------------------------------------------------------------------------------

type StoreSigner<'a> = Signer<Ed25519, &'a MemoryOneTimeStore>;

fn package_envelope(package: &SigningPackage<Ed25519>) -> Envelope<SigningMessage<Ed25519>> {
    Envelope {
        session: SID,
        round: 1,
        sender: pid(COORD),
        recipient: Recipient::All,
        payload: SigningMessage::Package(package.clone()),
    }
}

/// Signers 1 and 2 of a 2-of-3 key, each with one nonce pair preprocessed into `store`; the
/// machine of signer 1 (started when `started`) and the commitments of both.
fn signer_with_stored_nonce<'a>(
    keys: &[KeyPackage<Ed25519>],
    store: &'a MemoryOneTimeStore,
    started: bool,
    rng: &mut ChaCha20Rng,
) -> (
    StoreSigner<'a>,
    BTreeMap<wallet_types::PartyId, SigningCommitments<Ed25519>>,
) {
    let set = Parties::from_ids(&[1, 2]).unwrap();
    let c0 = round1::preprocess_into(store, &keys[0], 1, rng).unwrap();
    let c1 = round1::preprocess_into(store, &keys[1], 1, rng).unwrap();
    let mut signer = signer_on(store, keys[0].duplicate(), &set, &c0);
    if started {
        assert!(matches!(signer.start(rng).unwrap(), Step::Continue(m) if m.is_empty()));
    }
    let commitments = BTreeMap::from([(keys[0].id(), c0[0]), (keys[1].id(), c1[0])]);
    (signer, commitments)
}

#[test]
fn a_signer_state_restored_twice_signs_once() {
    for started in [false, true] {
        let (keys, mut rng) = key_packages(8);
        let store = MemoryOneTimeStore::new();
        let (mut signer, commitments) = signer_with_stored_nonce(&keys, &store, started, &mut rng);
        // Saved before it signs (a server's row for the request), then restored twice: a crash
        // and a retry, or two workers picking up the same request.
        let saved = signer.save();
        let mut a = Signer::restore(&store, saved.expose()).unwrap();
        let mut b = Signer::restore(&store, saved.expose()).unwrap();
        if !started {
            let _ = a.start(&mut rng).unwrap();
            let _ = b.start(&mut rng).unwrap();
        }
        // A hostile coordinator shows each copy another message: two shares with one nonce
        // pair and different messages would reveal the key share.
        let pay_alice = SigningPackage::new(commitments.clone(), b"pay alice".to_vec()).unwrap();
        let pay_mallory = SigningPackage::new(commitments, b"pay mallory".to_vec()).unwrap();
        let Step::Done(sent, out) = a.handle(package_envelope(&pay_alice), &mut rng).unwrap()
        else {
            panic!("the first copy must sign");
        };
        assert_eq!(sent.len(), 1);
        assert_eq!(out.used, pay_alice.commitments()[&keys[0].id()].id());
        assert_eq!(
            b.handle(package_envelope(&pay_mallory), &mut rng)
                .unwrap_err(),
            Error::Store(StoreError::AlreadyUsed)
        );
        // The refused copy aborted; the machine the state was saved from is refused as well.
        assert_eq!(
            b.handle(package_envelope(&pay_mallory), &mut rng)
                .unwrap_err(),
            Error::Aborted
        );
        if started {
            assert_eq!(
                signer
                    .handle(package_envelope(&pay_mallory), &mut rng)
                    .unwrap_err(),
                Error::Store(StoreError::AlreadyUsed)
            );
        }
        // The one share released is valid.
        let z1 = sign_with_store(&pay_alice, &store, &keys[1]).unwrap();
        let shares = BTreeMap::from([(keys[0].id(), out.share), (keys[1].id(), z1)]);
        let sig = aggregate(&pay_alice, &shares, keys[0].public()).unwrap();
        let vk =
            ed25519_dalek::VerifyingKey::from_bytes(&keys[0].public().group_key_bytes()).unwrap();
        vk.verify_strict(b"pay alice", &sig.to_dalek()).unwrap();
    }
}

#[test]
fn racing_restored_signers_sign_once() {
    let (keys, mut rng) = key_packages(9);
    let store = MemoryOneTimeStore::new();
    for round in 0..8u8 {
        let (signer, commitments) = signer_with_stored_nonce(&keys, &store, true, &mut rng);
        let saved = signer.save();
        let results: Vec<Result<_, Error>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..2u8)
                .map(|w| {
                    let package = SigningPackage::new(commitments.clone(), vec![round, w]).unwrap();
                    let saved = &saved;
                    let store = &store;
                    s.spawn(move || {
                        let mut m = Signer::restore(store, saved.expose()).unwrap();
                        let mut rng = ChaCha20Rng::seed_from_u64(u64::from(w));
                        m.handle(package_envelope(&package), &mut rng)
                            .map(|step| matches!(step, Step::Done(..)))
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|r| r == &&Ok(true)).count(),
            1,
            "round {round}: {results:?}"
        );
        assert!(results.contains(&Err(Error::Store(StoreError::AlreadyUsed))));
    }
}

#[test]
fn a_signer_state_of_a_retired_epoch_cannot_sign() {
    let (keys, mut rng) = key_packages(10);
    let store = MemoryOneTimeStore::new();
    let (signer, commitments) = signer_with_stored_nonce(&keys, &store, true, &mut rng);
    let saved = signer.save();
    // A refresh replaced the share; the old scope is retired.
    retire_nonces(&store, &keys[0]).unwrap();
    let mut restored = Signer::restore(&store, saved.expose()).unwrap();
    let package = SigningPackage::new(commitments, b"old epoch".to_vec()).unwrap();
    assert_eq!(
        restored
            .handle(package_envelope(&package), &mut rng)
            .unwrap_err(),
        Error::Store(StoreError::Retired)
    );
}

#[test]
fn a_package_naming_a_nonce_the_session_may_not_use_keeps_it() {
    // The store holds two pairs of signer 1; the session may use only the first. A package
    // naming the second is blamed on the coordinator and the second pair stays in the store.
    let (keys, mut rng) = key_packages(11);
    let store = MemoryOneTimeStore::new();
    let (mut signer, mut commitments) = signer_with_stored_nonce(&keys, &store, true, &mut rng);
    let other = round1::preprocess_into(&store, &keys[0], 1, &mut rng).unwrap();
    commitments.insert(keys[0].id(), other[0]);
    let package = SigningPackage::new(commitments, b"m".to_vec()).unwrap();
    assert_eq!(
        signer
            .handle(package_envelope(&package), &mut rng)
            .unwrap_err(),
        Error::blame(pid(COORD), wallet_types::Reason::CommitmentMismatch)
    );
    assert_eq!(store.count(&keys[0].nonce_scope()).unwrap(), 2);
}

#[test]
fn signer_states_hold_no_nonce_and_encode_deterministically() {
    let (keys, mut rng) = key_packages(12);
    let store = MemoryOneTimeStore::new();
    let (d, e) = (
        SecretScalar::<Ed25519>::random(&mut rng),
        SecretScalar::<Ed25519>::random(&mut rng),
    );
    let (d_bytes, e_bytes) = (d.expose().to_bytes(), e.expose().to_bytes());
    let nonces = SigningNonces::from_scalars(d, e);
    let c = *nonces.commitments();
    nonces.seal_into(&store, &keys[0]).unwrap();
    let set = Parties::from_ids(&[1, 2]).unwrap();
    let mut signer = signer_on(&store, keys[0].duplicate(), &set, &[c]);
    let _ = signer.start(&mut rng).unwrap();
    let party: SigningParty<Ed25519, _> =
        SigningParty::Signer(Signer::restore(&store, signer.save().expose()).unwrap());
    for bytes in [signer.save(), party.save()] {
        let bytes = bytes.expose();
        for secret in [&d_bytes, &e_bytes] {
            assert!(
                !bytes.windows(32).any(|w| w == secret),
                "a nonce in the state"
            );
        }
        // The pair is named by its public id.
        assert!(bytes.windows(32).any(|w| w == c.id().0));
    }
    // One canonical encoding: saving again, and saving a restored machine, give the same bytes.
    let saved = signer.save();
    assert_eq!(signer.save().expose(), saved.expose());
    let again: StoreSigner<'_> = Signer::restore(&store, saved.expose()).unwrap();
    assert_eq!(again.save().expose(), saved.expose());
    let state = SignerState::<Ed25519>::from_bytes(saved.expose()).unwrap();
    assert_eq!(state.to_secret_bytes().expose(), saved.expose());
    let party_bytes = party.save();
    let restored: SigningParty<Ed25519, _> =
        SigningParty::restore(&store, party_bytes.expose()).unwrap();
    assert_eq!(restored.save().expose(), party_bytes.expose());
    let state = SigningPartyState::<Ed25519>::from_bytes(party_bytes.expose()).unwrap();
    assert_eq!(state.to_secret_bytes().expose(), party_bytes.expose());
    // A coordinator goes through the same enum (it needs no store).
    let package = SigningPackage::new(
        BTreeMap::from([(keys[0].id(), c), (keys[1].id(), c)]),
        b"m".to_vec(),
    )
    .unwrap();
    let coordinator = SigningParty::<Ed25519, &MemoryOneTimeStore>::Coordinator(
        Coordinator::new(SID, pid(COORD), keys[0].public().clone(), package).unwrap(),
    );
    let bytes = coordinator.save();
    let back = SigningParty::<Ed25519, _>::restore(&store, bytes.expose()).unwrap();
    assert!(back.store().is_none());
    assert_eq!(back.save().expose(), bytes.expose());
}

#[test]
fn retired_signer_state_kinds_decode_to_wrong_kind() {
    // 0x0321 (Signer) and 0x0323 (SigningParty) held nonce pairs: refused by kind.
    for (old, new) in [(0x0321u16, 0x0324u16), (0x0323, 0x0325)] {
        let mut bytes = vec![1u8, (old >> 8) as u8, old as u8, 2];
        bytes.extend_from_slice(&[0, 1, 0]);
        let e = if new == 0x0324 {
            SignerState::<Ed25519>::from_bytes(&bytes).map(|_| ())
        } else {
            SigningPartyState::<Ed25519>::from_bytes(&bytes).map(|_| ())
        }
        .unwrap_err();
        assert_eq!(
            e,
            DecodeError::WrongKind {
                expected: new,
                found: old
            }
        );
    }
    let store = MemoryOneTimeStore::new();
    let bytes = [1u8, 0x03, 0x21, 2, 0, 1, 0];
    assert!(matches!(
        Signer::<Ed25519, _>::restore(&store, &bytes).unwrap_err(),
        DecodeError::WrongKind { found: 0x0321, .. }
    ));
}
