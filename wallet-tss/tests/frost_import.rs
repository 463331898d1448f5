//! Keys from other FROST implementations: `PublicKeyPackage::from_verifying_shares` rebuilds
//! the package from verifying shares + group key + threshold (no Φ), refuses inconsistent
//! inputs, and the imported key signs. With feature `serde`, public FROST objects round-trip
//! through JSON.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use group::Group;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::frost::{
    Ciphersuite, KeyPackage, PublicKeyPackage, aggregate, keys, round1, round2,
};
use wallet_types::{Ed25519, ParamError, Parties, PartyId, Secp256k1, SecretScalar};

fn dealt<C: Ciphersuite>(t: usize, n: usize, seed: u64) -> Vec<KeyPackage<C>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let parties = Parties::range(n as u16).unwrap();
    keys::split_secret(SecretScalar::<C>::random(&mut rng), t, &parties, &mut rng).unwrap()
}

fn verifying_shares<C: Ciphersuite>(p: &PublicKeyPackage<C>) -> Vec<(PartyId, C::Point)> {
    p.parties()
        .iter()
        .map(|id| (id, *p.share_commitment(id).unwrap()))
        .collect()
}

fn rebuilds_the_same_package<C: Ciphersuite>() {
    for (t, n) in [(1, 1), (1, 3), (2, 2), (2, 3), (3, 5), (4, 7)] {
        let keys = dealt::<C>(t, n, (t * 100 + n) as u64);
        let public = keys[0].public();
        let mut shares = verifying_shares(public);
        shares.reverse(); // input order does not matter
        let rebuilt =
            PublicKeyPackage::<C>::from_verifying_shares(shares, *public.group_key().get(), t)
                .unwrap();
        // Same Φ (the polynomial is unique), hence the same encoding and key id.
        assert_eq!(&rebuilt, public, "{t}-of-{n}");
        assert_eq!(rebuilt.key_id(), public.key_id());
    }
}

fn refuses_inconsistent_inputs<C: Ciphersuite>() {
    let keys = dealt::<C>(3, 5, 9);
    let public = keys[0].public();
    let y = *public.group_key().get();
    let shares = verifying_shares(public);
    let build = |s: Vec<(PartyId, C::Point)>, y: C::Point, t: usize| {
        PublicKeyPackage::<C>::from_verifying_shares(s, y, t)
    };
    // Each single share changed (the first t − 1 define Φ, the rest are checked against it).
    for i in 0..shares.len() {
        let mut bad = shares.clone();
        bad[i].1 += C::Point::generator();
        assert_eq!(
            build(bad, y, 3).unwrap_err(),
            ParamError::Mismatch,
            "share {i}"
        );
    }
    // Another group key; a lower or higher threshold than the sharing's.
    assert_eq!(
        build(shares.clone(), y + C::Point::generator(), 3).unwrap_err(),
        ParamError::Mismatch
    );
    assert_eq!(
        build(shares.clone(), C::Point::identity(), 3).unwrap_err(),
        ParamError::Mismatch
    );
    assert_eq!(
        build(shares.clone(), y, 2).unwrap_err(),
        ParamError::Mismatch
    );
    assert_eq!(
        build(shares.clone(), y, 4).unwrap_err(),
        ParamError::Mismatch
    );
    assert!(matches!(
        build(shares.clone(), y, 0),
        Err(ParamError::InvalidThreshold { .. })
    ));
    assert!(matches!(
        build(shares.clone(), y, 6),
        Err(ParamError::InvalidThreshold { .. })
    ));
    // A party given twice.
    let mut dup = shares.clone();
    dup.push(shares[0]);
    assert!(matches!(
        build(dup, y, 3),
        Err(ParamError::DuplicateParty(_))
    ));
    // Two shares swapped between parties.
    let mut swapped = shares.clone();
    let (a, b) = (swapped[0].1, swapped[4].1);
    swapped[0].1 = b;
    swapped[4].1 = a;
    assert_eq!(build(swapped, y, 3).unwrap_err(), ParamError::Mismatch);
    // A subset of the parties (any ≥ t of them) is a consistent package of its own.
    let subset: Vec<_> = shares.iter().copied().skip(1).take(3).collect();
    let sub = build(subset, y, 3).unwrap();
    assert_eq!(sub.commitment(), public.commitment());
}

fn imported_key_signs<C: Ciphersuite>() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let theirs = dealt::<C>(2, 3, 4);
    let public = PublicKeyPackage::<C>::from_verifying_shares(
        verifying_shares(theirs[0].public()),
        *theirs[0].public().group_key().get(),
        2,
    )
    .unwrap();
    let ours: Vec<KeyPackage<C>> = theirs
        .iter()
        .map(|k| KeyPackage::new(k.id(), k.secret_share().duplicate(), public.clone()).unwrap())
        .collect();
    let (mut n1, c1) = round1::preprocess(&ours[0], 1, &mut rng);
    let (mut n3, c3) = round1::preprocess(&ours[2], 1, &mut rng);
    let commitments = BTreeMap::from([(ours[0].id(), c1[0]), (ours[2].id(), c3[0])]);
    let package = round2::SigningPackage::new(commitments, b"imported".to_vec()).unwrap();
    let z1 = round2::sign(&package, n1.remove(0), &ours[0]).unwrap();
    let z3 = round2::sign(&package, n3.remove(0), &ours[2]).unwrap();
    let shares = BTreeMap::from([(ours[0].id(), z1), (ours[2].id(), z3)]);
    // `aggregate` verifies every share and the signature under the group key.
    aggregate::aggregate(&package, &shares, &public).unwrap();
    // A secret share that does not match its verifying share is refused.
    assert_eq!(
        KeyPackage::new(
            ours[0].id(),
            ours[1].secret_share().duplicate(),
            public.clone()
        )
        .unwrap_err(),
        ParamError::Mismatch
    );
}

#[test]
fn ed25519_rebuilds_the_same_package() {
    rebuilds_the_same_package::<Ed25519>();
}
#[test]
fn secp256k1_rebuilds_the_same_package() {
    rebuilds_the_same_package::<Secp256k1>();
}
#[test]
fn ed25519_refuses_inconsistent_inputs() {
    refuses_inconsistent_inputs::<Ed25519>();
}
#[test]
fn secp256k1_refuses_inconsistent_inputs() {
    refuses_inconsistent_inputs::<Secp256k1>();
}
#[test]
fn ed25519_imported_key_signs() {
    imported_key_signs::<Ed25519>();
}
#[test]
fn secp256k1_imported_key_signs() {
    imported_key_signs::<Secp256k1>();
}

#[cfg(feature = "serde")]
#[test]
fn public_objects_round_trip_through_json() {
    use wallet_types::WireObject;
    let keys = dealt::<Ed25519>(2, 3, 11);
    let public = keys[0].public().clone();
    let json = serde_json::to_string(&public).unwrap();
    assert_eq!(
        json,
        format!(
            "\"{}\"",
            wallet_types::serde_wire::to_hex(&public.to_bytes())
        )
    );
    let back: PublicKeyPackage<Ed25519> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, public);
    // The decoder runs: a package of the other curve, or cut short, is refused.
    assert!(serde_json::from_str::<PublicKeyPackage<Secp256k1>>(&json).is_err());
    assert!(serde_json::from_str::<PublicKeyPackage<Ed25519>>(&json[..json.len() - 3]).is_err());
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (_nonces, commitments) = round1::preprocess(&keys[0], 1, &mut rng);
    let json = serde_json::to_string(&commitments[0]).unwrap();
    let back: round1::SigningCommitments<Ed25519> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, commitments[0]);
}
