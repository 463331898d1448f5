//! Client-side reshare of an SSS share set (issue 8 §4): remove a device, add a device and a
//! password backup factor, change the threshold; old and new shares never combine.
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
use wallet_kek::{Argon2Params, WalletId};
use wallet_pss::PssError;
use wallet_pss::factor::FactorKey;
use wallet_pss::share_set::{ShareBundle, open_share, reshare_share_set};
use wallet_sss::{Mismatched, ShamirError, reconstruct, split};
use wallet_types::{Parties, PartyId, Secp256k1, SecretScalar, WireObject};

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

// The backup factor here is the derived (deprecated) kind: the share-set mechanics are the
// same for every factor; `tests/hardened_factor.rs` has the sealed, OPRF-hardened one.
#[allow(deprecated)]
#[test]
fn remove_add_backup_and_threshold_change() {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let secret = SecretScalar::<Secp256k1>::random(&mut rng);
    let (old, old_commitments) = split(&secret, 2, &Parties::range(3).unwrap(), &mut rng).unwrap();

    // New holders: devices 1 and 2 stay, device 3 is removed, device 4 joins, and party 9 is a
    // password-derived backup factor. Threshold rises to 3.
    let mut keys: BTreeMap<PartyId, FactorKey<Secp256k1>> = [1, 2, 4]
        .map(|i| (pid(i), FactorKey::random(&mut rng)))
        .into();
    let salt = [7u8; 16];
    let wallet = WalletId([1u8; 32]);
    let backup = FactorKey::from_password(
        "correct horse battery staple",
        &salt,
        &Argon2Params::default(),
        &wallet,
    )
    .unwrap();
    keys.insert(pid(9), backup);
    let recipients: BTreeMap<PartyId, _> = keys.iter().map(|(p, k)| (*p, *k.public())).collect();

    // Device 1 holds shares 1 and 2 and reshares.
    let bundle =
        reshare_share_set(&old[..2], &old_commitments, 0, &recipients, 3, &mut rng).unwrap();
    assert_eq!(bundle.epoch(), 1);
    assert_eq!(bundle.threshold(), 3);
    assert_eq!(
        bundle.commitments().public_key(),
        old_commitments.public_key()
    );
    // Published and fetched as bytes.
    let fetched = ShareBundle::<Secp256k1>::from_bytes(&bundle.to_bytes()).unwrap();
    let (wallet_key, old_set) = (old_commitments.public_key(), old[0].set_id());
    assert_eq!(fetched.previous_set_id(), old_set);
    let opened: BTreeMap<PartyId, _> = keys
        .iter()
        .map(|(p, k)| {
            (
                *p,
                open_share(&fetched, &wallet_key, &old_set, *p, k).unwrap(),
            )
        })
        .collect();

    // Any three new shares rebuild the secret; two do not (the API refuses).
    let ids = [1, 2, 4, 9].map(pid);
    for skip in 0..4 {
        let three: Vec<_> = ids
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, p)| opened[p].duplicate())
            .collect();
        assert_eq!(reconstruct(&three).unwrap().expose(), secret.expose());
    }
    assert!(matches!(
        reconstruct(&[opened[&pid(1)].duplicate(), opened[&pid(2)].duplicate()]),
        Err(ShamirError::TooFewShares {
            needed: 3,
            given: 2
        })
    ));

    // The removed device's old share does not combine with new shares.
    let mixed = [
        old[2].duplicate(),
        opened[&pid(1)].duplicate(),
        opened[&pid(2)].duplicate(),
    ];
    assert!(matches!(
        reconstruct(&mixed),
        Err(ShamirError::Mismatch {
            what: Mismatched::ShareSet | Mismatched::Threshold
        })
    ));

    // The removed device cannot open anything in the bundle: it has no entry, and its old
    // factor key (or any other key) does not open another device's entry.
    let removed_factor = FactorKey::<Secp256k1>::random(&mut rng);
    assert_eq!(
        open_share(&fetched, &wallet_key, &old_set, pid(3), &removed_factor).unwrap_err(),
        PssError::NotRecipient
    );
    assert_eq!(
        open_share(&fetched, &wallet_key, &old_set, pid(4), &removed_factor).unwrap_err(),
        PssError::Decrypt
    );

    // The backup factor is re-derived from the password alone.
    let again = FactorKey::from_password(
        "correct horse battery staple",
        &salt,
        &Argon2Params::default(),
        &wallet,
    )
    .unwrap();
    assert!(open_share(&fetched, &wallet_key, &old_set, pid(9), &again).is_ok());
    let wrong =
        FactorKey::from_password("wrong horse", &salt, &Argon2Params::default(), &wallet).unwrap();
    assert_eq!(
        open_share(&fetched, &wallet_key, &old_set, pid(9), &wrong).unwrap_err(),
        PssError::Decrypt
    );
}

#[test]
fn fewer_than_t_or_bad_shares_refuse_to_reshare() {
    let mut rng = ChaCha20Rng::seed_from_u64(22);
    let secret = SecretScalar::<Secp256k1>::random(&mut rng);
    let (old, c) = split(&secret, 2, &Parties::range(3).unwrap(), &mut rng).unwrap();
    let f = FactorKey::<Secp256k1>::random(&mut rng);
    let recipients: BTreeMap<PartyId, _> = [(pid(1), *f.public()), (pid(2), *f.public())].into();
    assert!(matches!(
        reshare_share_set(&old[..1], &c, 0, &recipients, 2, &mut rng),
        Err(PssError::Shamir(ShamirError::TooFewShares { .. }))
    ));
    let (other, _) = split(&secret, 2, &Parties::range(3).unwrap(), &mut rng).unwrap();
    assert!(
        reshare_share_set(
            &[old[0].duplicate(), other[1].duplicate()],
            &c,
            0,
            &recipients,
            2,
            &mut rng
        )
        .is_err()
    );
}
