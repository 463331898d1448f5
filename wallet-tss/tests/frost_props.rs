//! Property tests: any `t` of `n` parties sign after a DKG (2-of-3, 3-of-5); fewer cannot;
//! encodings round-trip; an imported RFC 8032 seed keeps its public key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod frost_common;

use std::collections::BTreeMap;

use frost_common::*;
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::frost::keys::{Ed25519Seed, export_group_secret, split_ed25519_seed};
use wallet_tss::frost::{
    KeyPackage, PublicKeyPackage, SigningNonces, SigningPackage, aggregate, round1, sign,
};
use wallet_types::{Curve, Ed25519, Error, ParamError, Parties, PartyId, SecretBytes, WireObject};

/// Signs `msg` with the given signers through the plain API.
fn sign_with(
    keys: &BTreeMap<PartyId, KeyPackage<Ed25519>>,
    signers: &[PartyId],
    msg: &[u8],
    rng: &mut ChaCha20Rng,
) -> Result<wallet_tss::frost::Signature<Ed25519>, Error> {
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for p in signers {
        let n = SigningNonces::new(keys[p].secret_share(), rng);
        commitments.insert(*p, *n.commitments());
        nonces.insert(*p, n);
    }
    let package = SigningPackage::new(commitments, msg.to_vec())?;
    let mut shares = BTreeMap::new();
    for p in signers {
        shares.insert(*p, sign(&package, nonces.remove(p).unwrap(), &keys[p])?);
    }
    aggregate(&package, &shares, keys[&signers[0]].public())
}

/// A subset of `1..=n` of size `k` chosen by `mask` bits (falls back to the first k).
fn subset(n: u16, k: usize, mask: u32) -> Vec<PartyId> {
    let mut v: Vec<PartyId> = (1..=n)
        .filter(|i| mask & (1 << (i - 1)) != 0)
        .map(pid)
        .collect();
    if v.len() < k {
        let rest: Vec<PartyId> = (1..=n).map(pid).filter(|p| !v.contains(p)).collect();
        v.extend(rest);
    }
    v.truncate(k);
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_t_of_n_sign_after_dkg(seed in any::<u64>(), mask in any::<u32>(), which in 0usize..2, extra in 0usize..3,
                                 msg in proptest::collection::vec(any::<u8>(), 0..100)) {
        let (t, n) = [(2usize, 3u16), (3, 5)][which];
        let keys = run_dkg(t, n, seed);
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 1);
        let k = (t + extra).min(n as usize);
        let signers = subset(n, k, mask);
        let sig = sign_with(&keys, &signers, &msg, &mut rng).unwrap();
        verify_strict(&keys, &msg, &sig);

        // Fewer than t: the API refuses to sign ...
        let few = subset(n, t - 1, mask);
        let e = sign_with(&keys, &few, &msg, &mut rng).unwrap_err();
        prop_assert!(matches!(e, Error::Params(ParamError::TooFewParties { .. })), "{:?}", e);
        // ... and the key cannot be reassembled from them either.
        let few_keys: Vec<_> = few.iter().map(|p| &keys[p]).collect();
        prop_assert!(export_group_secret(&few_keys).is_err());
        let lambdas = wallet_sss::lagrange::lagrange_coefficients_at_zero::<Ed25519>(&few).unwrap();
        let guess: curve25519_dalek::Scalar = few.iter().zip(&lambdas).map(|(p, l)| keys[p].secret_share().expose() * l).sum();
        prop_assert_ne!(&Ed25519::mul_base(&guess), keys[&pid(1)].public().group_key().get());
    }

    #[test]
    fn encodings_roundtrip(seed in any::<u64>()) {
        let keys = run_dkg(2, 3, seed);
        let k = &keys[&pid(2)];
        let bytes = k.to_secret_bytes();
        let back = KeyPackage::<Ed25519>::from_bytes(bytes.expose()).unwrap();
        prop_assert_eq!(back.public(), k.public());
        let again = back.to_secret_bytes();
        prop_assert_eq!(again.expose(), bytes.expose());
        let pb = k.public().to_bytes();
        prop_assert_eq!(PublicKeyPackage::<Ed25519>::from_bytes(&pb).unwrap().to_bytes(), pb);

        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (mut nonces, commitments) = round1::preprocess(k, 2, &mut rng);
        let n = nonces.remove(0);
        let id = n.id();
        prop_assert_eq!(id, commitments[0].id());
        let store = wallet_types::MemoryOneTimeStore::new();
        prop_assert_eq!(n.seal_into(&store, k).unwrap(), id);
        let restored = SigningNonces::<Ed25519>::take_from(&store, k, &id).unwrap();
        prop_assert_eq!(restored.commitments(), &commitments[0]);
        let cb = commitments[1].to_bytes();
        prop_assert_eq!(wallet_tss::frost::SigningCommitments::<Ed25519>::from_bytes(&cb).unwrap(), commitments[1]);
    }

    #[test]
    fn imported_seed_keeps_its_public_key(seed_bytes in any::<[u8; 32]>(), seed in any::<u64>(), msg in proptest::collection::vec(any::<u8>(), 0..64)) {
        let dalek = ed25519_dalek::SigningKey::from_bytes(&seed_bytes);
        let s = Ed25519Seed::new(SecretBytes::new(seed_bytes));
        prop_assert_eq!(s.public_key(), dalek.verifying_key().to_bytes());
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let parties = Parties::range(3).unwrap();
        let shares = split_ed25519_seed(&s, 2, &parties, &mut rng).unwrap();
        prop_assert_eq!(shares[0].public().group_key_bytes(), dalek.verifying_key().to_bytes());
        let keys: BTreeMap<_, _> = shares.into_iter().map(|k| (k.id(), k)).collect();
        let sig = sign_with(&keys, &[pid(1), pid(3)], &msg, &mut rng).unwrap();
        dalek.verifying_key().verify_strict(&msg, &sig.to_dalek()).unwrap();
        // Export gives the scalar (not the seed): it matches the seed's expanded scalar.
        let ks: Vec<_> = keys.values().collect();
        let exported = export_group_secret(&ks[1..]).unwrap();
        let expected = s.to_scalar();
        prop_assert_eq!(exported.expose().expose(), expected.expose());
    }
}
