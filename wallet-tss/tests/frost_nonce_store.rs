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

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::frost::round1::{SigningNonces, retire_nonces};
use wallet_tss::frost::{KeyPackage, SigningPackage, aggregate, keys, sign_with_store};
use wallet_types::store::OneTimeStore;
use wallet_types::{
    Ed25519, Error, MemoryOneTimeStore, ParamError, Parties, SecretScalar, SecretVec, StoreError,
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
