//! What an untrusted store can deliver to a device (share bundles, metadata key copies, sealed
//! metadata records) and what the device makes of it (docs/invariants.md, invariant 12): everything is
//! authenticated by, and bound to, the wallet key before it is used, every refusal the store
//! could cause names no party, and the honest flow goes on afterwards.
//!
//! Scenario: an SSS wallet 2-of-3 on devices 1, 2, 3 (each share sealed to the device's factor
//! key); device 1 reshares to {1, 2, 4} (device 3 removed, device 4 added) and rotates the
//! metadata key.
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
use wallet_pss::PssError;
use wallet_pss::ecies::{self, Ciphertext, Context};
use wallet_pss::factor::FactorKey;
use wallet_pss::metadata::{
    AccountMetadata, MetadataCertificate, MetadataKey, MetadataTrust, SealedMetadata,
    open_metadata, seal_metadata, verify_metadata,
};
use wallet_pss::share_set::{ShareBundle, certify_metadata_key, open_share, reshare_share_set};
use wallet_pss::wallet_sig::WalletCurve;
use wallet_sss::{Commitments, Share, ShareSetId, reconstruct, split};
use wallet_types::{
    DecodeError, Ed25519, Parties, PartyId, Secp256k1, SecretScalar, SessionId, WireObject,
};

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

/// The account before and after device 1's reshare.
struct Account<C: WalletCurve> {
    rng: ChaCha20Rng,
    secret: SecretScalar<C>,
    wallet_key: C::Point,
    shares: Vec<Share<C>>,
    commitments: Commitments<C>,
    factors: BTreeMap<PartyId, FactorKey<C>>,
    key0: MetadataKey<C>,
    cert0: MetadataCertificate<C>,
    session0: SessionId,
    copies0: BTreeMap<PartyId, Ciphertext<C>>,
    record1: SealedMetadata<C>,
    record2: SealedMetadata<C>,
}

fn devices<C: WalletCurve>(
    factors: &BTreeMap<PartyId, FactorKey<C>>,
    ids: &[u16],
) -> BTreeMap<PartyId, C::Point> {
    ids.iter()
        .map(|i| (pid(*i), *factors[&pid(*i)].public()))
        .collect()
}

fn account<C: WalletCurve>(seed: u64) -> Account<C> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secret = SecretScalar::<C>::random(&mut rng);
    let (shares, commitments) = split(&secret, 2, &Parties::range(3).unwrap(), &mut rng).unwrap();
    let factors: BTreeMap<PartyId, FactorKey<C>> = [1, 2, 3, 4]
        .map(|i| (pid(i), FactorKey::random(&mut rng)))
        .into();
    let key0 = MetadataKey::<C>::random(&mut rng);
    let cert0 = certify_metadata_key(&shares[..2], &commitments, &key0).unwrap();
    let session0 = SessionId([1; 32]);
    let copies0 = key0
        .share_with(&session0, &devices(&factors, &[1, 2, 3]), &mut rng)
        .unwrap();
    let meta = |version| AccountMetadata {
        version,
        epoch: 0,
        commitments: commitments.clone(),
        share_set: Some(shares[0].set_id()),
        ecdsa: None,
        dealings_hash: None,
        devices: devices(&factors, &[1, 2, 3]),
    };
    let record1 = seal_metadata(&key0, &cert0, &meta(1), &mut rng).unwrap();
    let record2 = seal_metadata(&key0, &cert0, &meta(2), &mut rng).unwrap();
    Account {
        rng,
        wallet_key: commitments.public_key(),
        secret,
        shares,
        commitments,
        factors,
        key0,
        cert0,
        session0,
        copies0,
        record1,
        record2,
    }
}

/// Device `me` opens its copy of the generation-0 key, trusting only the wallet key.
fn device_key<C: WalletCurve>(a: &Account<C>, me: u16) -> (MetadataKey<C>, MetadataTrust<C>) {
    let trust = MetadataTrust::new(a.wallet_key);
    let key = MetadataKey::open(
        &a.copies0[&pid(me)],
        &a.session0,
        pid(me),
        &a.factors[&pid(me)],
        &a.cert0,
        &trust,
    )
    .unwrap();
    (key, trust)
}

// ---- share bundles ----

fn bundles<C: WalletCurve>() {
    let mut a = account::<C>(70);
    let (y, old_set) = (a.wallet_key, a.shares[0].set_id());
    let recipients = devices(&a.factors, &[1, 2, 4]);
    let honest = reshare_share_set(
        &a.shares[..2],
        &a.commitments,
        0,
        &recipients,
        2,
        &mut a.rng,
    )
    .unwrap();
    let honest_bytes = honest.to_bytes();

    // 1. A bundle of another secret, made from public data only (the factor public keys and
    //    the wallet's commitments): the attacker splits a secret of its choosing, seals the
    //    shares to the devices' factor keys, and relabels the bundle with the wallet's
    //    commitments and share-set id. Without the wallet key it cannot sign it.
    let z = SecretScalar::<C>::random(&mut a.rng);
    let (zs, zc) = split(&z, 2, &Parties::range(2).unwrap(), &mut a.rng).unwrap();
    let forged = reshare_share_set(&zs, &zc, 0, &recipients, 2, &mut a.rng).unwrap();
    // As built, it is the attacker's wallet (and reshares the attacker's set).
    assert_eq!(
        open_share(&forged, &y, &old_set, pid(4), &a.factors[&pid(4)]).unwrap_err(),
        PssError::WrongWallet
    );
    // Relabelled: previous set := the wallet's, constant term := the wallet key. The shares
    // now even fail the commitments, but the signature is refused first.
    let mut b = forged.to_bytes();
    b[4..20].copy_from_slice(old_set.as_bytes());
    let at = 4 + 16 + 16 + 8 + 2;
    let y_enc = wallet_types::group::GroupEncoding::to_bytes(&y);
    b[at..at + y_enc.as_ref().len()].copy_from_slice(y_enc.as_ref());
    let relabelled = ShareBundle::<C>::from_bytes(&b).unwrap();
    assert_eq!(relabelled.public_key(), y);
    for me in [1, 2, 4] {
        assert_eq!(
            open_share(&relabelled, &y, &old_set, pid(me), &a.factors[&pid(me)]).unwrap_err(),
            PssError::BadSignature
        );
    }

    // 2. A genuine bundle of another wallet whose devices use the same factor keys.
    let other = SecretScalar::<C>::random(&mut a.rng);
    let (os, oc) = split(&other, 2, &Parties::range(3).unwrap(), &mut a.rng).unwrap();
    let other_bundle = reshare_share_set(&os[..2], &oc, 0, &recipients, 2, &mut a.rng).unwrap();
    assert_eq!(
        open_share(&other_bundle, &y, &old_set, pid(1), &a.factors[&pid(1)]).unwrap_err(),
        PssError::WrongWallet
    );
    // ... even when told its own previous set id.
    assert_eq!(
        open_share(
            &other_bundle,
            &y,
            &os[0].set_id(),
            pid(1),
            &a.factors[&pid(1)]
        )
        .unwrap_err(),
        PssError::WrongWallet
    );

    // 3. A bundle whose signature does not verify: any altered byte of the signed part (a
    //    ciphertext, the epoch, an id, a commitment) or of the signature itself.
    for i in 4..honest_bytes.len() {
        let mut b = honest_bytes.clone();
        b[i] ^= 0x20;
        let Ok(t) = ShareBundle::<C>::from_bytes(&b) else {
            continue;
        };
        let err = open_share(&t, &y, &old_set, pid(4), &a.factors[&pid(4)]).unwrap_err();
        assert!(
            matches!(
                err,
                PssError::BadSignature | PssError::WrongWallet | PssError::WrongShareSet
            ),
            "byte {i}: {err:?}"
        );
    }
    let mut b = honest_bytes.clone();
    let n = b.len();
    b[n - 1] ^= 1;
    assert_eq!(
        open_share(
            &ShareBundle::<C>::from_bytes(&b).unwrap(),
            &y,
            &old_set,
            pid(1),
            &a.factors[&pid(1)]
        )
        .unwrap_err(),
        PssError::BadSignature
    );

    // 4. A replayed, genuine bundle of an older reshare: the device moved on to a newer set.
    let newer_set = ShareSetId([0x77; 16]);
    assert_eq!(
        open_share(&honest, &y, &newer_set, pid(1), &a.factors[&pid(1)]).unwrap_err(),
        PssError::WrongShareSet
    );

    // 5. The retired unsigned bundle's kind is refused at decoding.
    let mut b = honest_bytes.clone();
    b[1..3].copy_from_slice(&0x0530u16.to_be_bytes());
    assert!(matches!(
        ShareBundle::<C>::from_bytes(&b),
        Err(DecodeError::WrongKind { found: 0x0530, .. })
    ));

    // The honest flow still works: devices 1, 2, 4 open their shares (as fetched bytes), any
    // two rebuild the secret; the removed device 3 has nothing to open.
    let fetched = ShareBundle::<C>::from_bytes(&honest_bytes).unwrap();
    let new: Vec<Share<C>> = [1, 2, 4]
        .iter()
        .map(|i| open_share(&fetched, &y, &old_set, pid(*i), &a.factors[&pid(*i)]).unwrap())
        .collect();
    assert_eq!(reconstruct(&new[1..]).unwrap().expose(), a.secret.expose());
    assert_eq!(
        open_share(&fetched, &y, &old_set, pid(3), &a.factors[&pid(3)]).unwrap_err(),
        PssError::NotRecipient
    );
}

#[test]
fn share_bundles_are_bound_to_the_wallet_and_signed() {
    bundles::<Secp256k1>();
    bundles::<Ed25519>();
}

// ---- metadata ----

fn replays<C: WalletCurve>() {
    let mut a = account::<C>(71);
    let (key, mut trust) = device_key(&a, 2);
    let r2 = SealedMetadata::<C>::from_bytes(&a.record2.to_bytes()).unwrap();
    assert_eq!(open_metadata(&key, &r2, &mut trust).unwrap().version, 2);
    assert_eq!((trust.generation(), trust.version()), (0, 2));

    // An older record (a rollback by the store) and the same record again.
    for (r, found) in [(&a.record1, 1), (&r2, 2)] {
        assert_eq!(
            open_metadata(&key, r, &mut trust).unwrap_err(),
            PssError::Replayed { last: 2, found }
        );
        assert_eq!(
            verify_metadata(&trust, r).unwrap_err(),
            PssError::Replayed { last: 2, found }
        );
    }
    // A refused record leaves the trust where it was.
    assert_eq!((trust.generation(), trust.version()), (0, 2));

    // The honest flow goes on: version 3 is accepted.
    let meta3 = AccountMetadata {
        version: 3,
        ..open_metadata(&key, &a.record2, &mut MetadataTrust::new(a.wallet_key)).unwrap()
    };
    let r3 = seal_metadata(&a.key0, &a.cert0, &meta3, &mut a.rng).unwrap();
    assert_eq!(open_metadata(&key, &r3, &mut trust).unwrap(), meta3);
    assert_eq!(trust.version(), 3);
}

#[test]
fn older_and_same_version_records_are_replays() {
    replays::<Secp256k1>();
    replays::<Ed25519>();
}

fn rotation<C: WalletCurve>() {
    let mut a = account::<C>(72);
    let y = a.wallet_key;
    // Devices 1 and 3 accept record 2 (generation 0).
    let (k1, mut t1) = device_key(&a, 1);
    let (k3, mut t3) = device_key(&a, 3);
    open_metadata(&k1, &a.record2, &mut t1).unwrap();
    open_metadata(&k3, &a.record2, &mut t3).unwrap();

    // Device 1 removes device 3 and adds device 4: reshare, rotate the metadata key (certified
    // with the rebuilt wallet key), seal it to the remaining devices only, publish record 3.
    let recipients = devices(&a.factors, &[1, 2, 4]);
    let bundle = reshare_share_set(
        &a.shares[..2],
        &a.commitments,
        0,
        &recipients,
        2,
        &mut a.rng,
    )
    .unwrap();
    let key1 = a.key0.rotate(&mut a.rng).unwrap();
    assert_eq!(key1.generation(), 1);
    let cert1 = certify_metadata_key(&a.shares[..2], &a.commitments, &key1).unwrap();
    let session1 = SessionId([2; 32]);
    let copies1 = key1.share_with(&session1, &recipients, &mut a.rng).unwrap();
    assert!(!copies1.contains_key(&pid(3)));
    let meta3 = AccountMetadata {
        version: 3,
        epoch: bundle.epoch(),
        commitments: bundle.commitments().clone(),
        share_set: Some(bundle.set_id()),
        ecdsa: None,
        dealings_hash: None,
        devices: recipients.clone(),
    };
    let record3 = seal_metadata(&key1, &cert1, &meta3, &mut a.rng).unwrap();

    // Device 1 takes the new key and record.
    let k1_new = MetadataKey::open(
        &copies1[&pid(1)],
        &session1,
        pid(1),
        &a.factors[&pid(1)],
        &cert1,
        &t1,
    )
    .unwrap();
    assert_eq!(open_metadata(&k1_new, &record3, &mut t1).unwrap(), meta3);
    assert_eq!((t1.generation(), t1.version()), (1, 3));
    // Its old key does not open the newer generation's record ("open the newer copy first").
    assert_eq!(
        open_metadata(&k1, &record3, &mut MetadataTrust::resume(y, 0, 2)).unwrap_err(),
        PssError::Mismatch
    );

    // The removed device keeps its generation-0 copy and signs a forged record with it
    // (listing a factor key of its choosing for device 4, at a far higher version).
    let evil = FactorKey::<C>::random(&mut a.rng);
    let forged_meta = AccountMetadata {
        version: 100,
        devices: [
            (pid(1), *a.factors[&pid(1)].public()),
            (pid(4), *evil.public()),
        ]
        .into(),
        ..meta3.clone()
    };
    let forged = seal_metadata(&k3, &a.cert0, &forged_meta, &mut a.rng).unwrap();
    // Genuinely signed by a wallet-certified key, but of a rotated-out generation.
    let revoked = PssError::RevokedKey {
        current: 1,
        found: 0,
    };
    assert_eq!(
        open_metadata(&k1_new, &forged, &mut t1).unwrap_err(),
        revoked
    );
    // A new device given the current generation by the device that adds it refuses it too.
    let mut t4 = MetadataTrust::resume(y, 1, 0);
    assert_eq!(verify_metadata(&t4, &forged).unwrap_err(), revoked);
    // The store hands device 1 its old copy of the rotated-out key: refused.
    assert_eq!(
        MetadataKey::open(
            &a.copies0[&pid(1)],
            &a.session0,
            pid(1),
            &a.factors[&pid(1)],
            &a.cert0,
            &t1
        )
        .unwrap_err(),
        revoked
    );
    // The removed device has no copy of the new key, and its old one opens nothing new.
    assert_eq!(
        open_metadata(&k3, &record3, &mut t3).unwrap_err(),
        PssError::Mismatch
    );
    assert_eq!(
        MetadataKey::open(
            &copies1[&pid(4)],
            &session1,
            pid(3),
            &a.factors[&pid(3)],
            &cert1,
            &t3
        )
        .unwrap_err(),
        PssError::ContextMismatch
    );

    // The honest flow goes on. Device 4 (new) opens the new key, the record, and its share
    // of the set the record names; device 2 its share of the set it replaces.
    let k4 = MetadataKey::open(
        &copies1[&pid(4)],
        &session1,
        pid(4),
        &a.factors[&pid(4)],
        &cert1,
        &t4,
    )
    .unwrap();
    let m = open_metadata(&k4, &record3, &mut t4).unwrap();
    assert_eq!(m, meta3);
    let s4 = wallet_pss::share_set::open_share_for_new_device(
        &bundle,
        &y,
        &m.share_set.unwrap(),
        pid(4),
        &a.factors[&pid(4)],
    )
    .unwrap();
    // A bundle that does not create the recorded set is not the one device 4 was added by.
    assert_eq!(
        wallet_pss::share_set::open_share_for_new_device(
            &bundle,
            &y,
            &a.shares[0].set_id(),
            pid(4),
            &a.factors[&pid(4)]
        )
        .unwrap_err(),
        PssError::WrongShareSet
    );
    let s2 = open_share(
        &bundle,
        &y,
        &a.shares[0].set_id(),
        pid(2),
        &a.factors[&pid(2)],
    )
    .unwrap();
    assert_eq!(reconstruct(&[s2, s4]).unwrap().expose(), a.secret.expose());
    let meta4 = AccountMetadata {
        version: 4,
        ..meta3
    };
    let record4 = seal_metadata(&key1, &cert1, &meta4, &mut a.rng).unwrap();
    assert_eq!(open_metadata(&k1_new, &record4, &mut t1).unwrap(), meta4);
    assert_eq!(open_metadata(&k4, &record4, &mut t4).unwrap(), meta4);
}

#[test]
fn a_removed_devices_rotated_out_key_signs_nothing_accepted() {
    rotation::<Secp256k1>();
    rotation::<Ed25519>();
}

fn forged_keys<C: WalletCurve>() {
    let mut a = account::<C>(73);
    let y = a.wallet_key;
    let trust = MetadataTrust::new(y);
    let (me, f1) = (pid(1), &a.factors[&pid(1)]);
    let ctx = Context {
        session: a.session0,
        epoch: 0,
        recipient: me,
    };
    // ECIES authenticates nothing: the store can seal anything to a factor public key.
    let sealed_to_me =
        |pt: &[u8], rng: &mut ChaCha20Rng| ecies::seal::<C, _>(f1.public(), &ctx, pt, rng).unwrap();
    let honest = a.key0.to_secret_bytes();
    let open = |ct: &Ciphertext<C>, cert: &MetadataCertificate<C>| {
        MetadataKey::open(ct, &a.session0, me, f1, cert, &trust)
    };

    // A zero key (header and generation intact).
    let mut zero = honest.expose().to_vec();
    let n = zero.len();
    zero[n - 32..].fill(0);
    let ct = sealed_to_me(&zero, &mut a.rng);
    assert_eq!(open(&ct, &a.cert0).unwrap_err(), PssError::InvalidKey);
    // Malformed keys: a bare scalar (the retired plaintext), a truncated object, a scalar
    // above the group order, another generation.
    let mut high = honest.expose().to_vec();
    high[n - 32..].fill(0xff);
    let mut other_gen = honest.expose().to_vec();
    other_gen[11] ^= 1;
    for pt in [
        &honest.expose()[4 + 8..],
        &honest.expose()[..n - 1],
        &high[..],
        &other_gen[..],
    ] {
        let ct = sealed_to_me(pt, &mut a.rng);
        assert_eq!(open(&ct, &a.cert0).unwrap_err(), PssError::InvalidKey);
    }
    // A well-formed key of the attacker's choosing under the honest certificate.
    let mine = MetadataKey::<C>::random(&mut a.rng);
    let ct = sealed_to_me(mine.to_secret_bytes().expose(), &mut a.rng);
    assert_eq!(open(&ct, &a.cert0).unwrap_err(), PssError::InvalidKey);
    // ... under a certificate of the attacker's own "wallet" ...
    let z = SecretScalar::<C>::random(&mut a.rng);
    let zcert = MetadataCertificate::sign(&z, &mine).unwrap();
    assert_eq!(open(&ct, &zcert).unwrap_err(), PssError::WrongWallet);
    // ... or under a certificate claiming the wallet key with a signature it did not make.
    let bad = MetadataCertificate::<C>::from_bytes(&{
        let mut b = zcert.to_bytes();
        let enc = wallet_types::group::GroupEncoding::to_bytes(&y);
        b[4..4 + enc.as_ref().len()].copy_from_slice(enc.as_ref());
        b
    })
    .unwrap();
    assert_eq!(open(&ct, &bad).unwrap_err(), PssError::BadSignature);
    assert_eq!(
        MetadataCertificate::<C>::from_signature(y, mine.public(), 0, [7u8; 64]).unwrap_err(),
        PssError::BadSignature
    );
    assert_eq!(
        MetadataCertificate::<C>::from_signature(
            y,
            <C::Point as wallet_types::group::Group>::identity(),
            0,
            [7u8; 64]
        )
        .unwrap_err(),
        PssError::InvalidKey
    );

    // Records signed by an uncertified key are refused before decryption: the attacker's
    // record, relabelled with the honest certificate, fails the Schnorr check.
    let (k1, mut t1) = device_key(&a, 1);
    let meta = open_metadata(&k1, &a.record1, &mut t1.clone()).unwrap();
    let zmeta = AccountMetadata {
        version: 50,
        commitments: Commitments::new(vec![z.public(), z.public()]).unwrap(),
        ..meta.clone()
    };
    let zrecord = seal_metadata(&mine, &zcert, &zmeta, &mut a.rng).unwrap();
    assert_eq!(
        open_metadata(&k1, &zrecord, &mut t1).unwrap_err(),
        PssError::WrongWallet
    );
    let mut b = zrecord.to_bytes();
    let cert_len = a.cert0.to_bytes().len();
    assert_eq!(cert_len, zcert.to_bytes().len());
    b[8..8 + cert_len].copy_from_slice(&a.cert0.to_bytes());
    let relabelled = SealedMetadata::<C>::from_bytes(&b).unwrap();
    assert_eq!(
        open_metadata(&k1, &relabelled, &mut t1).unwrap_err(),
        PssError::BadSignature
    );
    assert_eq!((t1.generation(), t1.version()), (0, 0));

    // The honest flow still works.
    let k = open(&a.copies0[&me], &a.cert0).unwrap();
    assert_eq!(open_metadata(&k, &a.record1, &mut t1).unwrap(), meta);
}

#[test]
fn zero_malformed_and_uncertified_metadata_keys_are_refused() {
    forged_keys::<Secp256k1>();
    forged_keys::<Ed25519>();
}
