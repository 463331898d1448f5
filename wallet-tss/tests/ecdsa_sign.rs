//! Two-party ECDSA end to end: key generation, presigning, signing, derivation, export, and the
//! absence of the private key from everything either party holds or sends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod ecdsa_common;

use ecdsa_common::*;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use proptest::prelude::*;
use std::collections::BTreeMap;
use wallet_tss::ecdsa::{
    DerivationPath, ExportError, KeyShare, MemoryKeyStore, Sign, combine, export_private_key,
    partial_sign,
};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::Keygen;
use wallet_types::{
    Envelope, Error, OneTimeStore, Parties, PartyId, Protocol, Recipient, SessionId, Step,
    StoreError, WireObject,
};

fn check_signature(pk: &VerifyingKey, hash: &[u8; 32], sig: &Signature, recid: RecoveryId) {
    pk.verify_prehash(hash, sig).unwrap();
    assert!(sig.normalize_s() == *sig, "signature is not low-S");
    let recovered = VerifyingKey::recover_from_prehash(hash, sig, recid).unwrap();
    assert_eq!(&recovered, pk);
}

/// The private key (root or derived) of two parties' shares, for the tests' checks only.
fn export(
    stores: &Stores,
    a: u16,
    b: u16,
    path: &DerivationPath,
) -> wallet_types::SecretScalar<wallet_types::Secp256k1> {
    stores[&pid(a)]
        .with_key(|x| {
            stores[&pid(b)]
                .with_key(|y| export_private_key(x, y, path).unwrap())
                .unwrap()
        })
        .unwrap()
}

#[test]
fn two_of_two_signs_and_recovers() {
    let stores = stores(2, 1);
    let key = stores[&pid(1)].public_package().unwrap();
    let pk = VerifyingKey::from_affine(key.public_key().to_affine()).unwrap();
    for seed in 0..4u8 {
        let info = presign(&stores, 1, 2, &DerivationPath::root(), u64::from(seed) + 10);
        assert_eq!(info.public_key, key.public_key());
        assert_eq!((info.key_id, info.epoch), (*key.key_id(), 0));
        let hash = [seed.wrapping_mul(37).wrapping_add(1); 32];
        let (sig, recid) = sign_both(&stores, &info, &hash);
        check_signature(&pk, &hash, &sig, recid);
    }
}

#[test]
fn two_of_three_every_pair_signs() {
    let stores = stores(3, 2);
    let pk = stores[&pid(1)]
        .with_key(|k| k.verifying_key().unwrap())
        .unwrap();
    for (i, (a, b)) in [(1, 2), (1, 3), (2, 3), (3, 1)].into_iter().enumerate() {
        let info = presign(&stores, a, b, &DerivationPath::root(), 20 + i as u64);
        let hash = [i as u8 + 7; 32];
        let (sig, recid) = sign_both(&stores, &info, &hash);
        check_signature(&pk, &hash, &sig, recid);
    }
}

#[test]
fn derived_keys_match_bip32_and_sign() {
    use bip32::{ChildNumber, ExtendedKeyAttrs, ExtendedPublicKey};
    let stores = stores(3, 3);
    let k = &stores[&pid(2)].public_package().unwrap();
    let vk = VerifyingKey::from_affine(k.public_key().to_affine()).unwrap();
    let root = ExtendedPublicKey::new(
        vk,
        ExtendedKeyAttrs {
            depth: 0,
            parent_fingerprint: [0; 4],
            child_number: ChildNumber(0),
            chain_code: *k.chain_code(),
        },
    );
    for text in ["m/0", "m/0/1", "m/7/2147483647/3"] {
        let path = DerivationPath::parse(text).unwrap();
        let mut xpub = root.clone();
        for i in path.indices() {
            xpub = xpub.derive_child(ChildNumber(*i)).unwrap();
        }
        let d = k.derive(&path).unwrap();
        assert_eq!(
            xpub.public_key().to_sec1_point(true).as_bytes(),
            &wallet_tss::ecdsa::derive::compressed(&d.public_key)[..],
            "{text}"
        );
        assert_eq!(xpub.attrs().chain_code, d.chain_code);
        let info = presign(&stores, 1, 3, &path, 30);
        assert_eq!(info.path, path);
        assert_eq!(info.public_key, d.public_key);
        let hash = [0x5a; 32];
        let (sig, recid) = sign_both(&stores, &info, &hash);
        check_signature(xpub.public_key(), &hash, &sig, recid);
        // The signature does not verify under the root key: the path is bound.
        assert!(vk.verify_prehash(&hash, &sig).is_err());
        // Export of the derived key matches the derived public key.
        let sk = export(&stores, 1, 3, &path);
        assert_eq!(sk.public(), d.public_key);
    }
}

#[test]
fn sign_machines_through_the_simulator() {
    let stores = stores(2, 4);
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 40);
    let hash = [9u8; 32];
    let mut sim = sign_simulator(5);
    for p in [1, 2] {
        sim.add(Sign::new(&stores[&pid(p)], info.clone(), hash).unwrap());
    }
    sim.restore_every_step(true);
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), 2);
    let (sig, recid) = out.outputs[&pid(1)];
    assert_eq!(out.outputs[&pid(2)], (sig, recid));
    check_signature(&info.verifying_key().unwrap(), &hash, &sig, recid);
    // Both halves were taken from the stores.
    for p in [1, 2] {
        assert_eq!(stores[&pid(p)].presignatures().unwrap(), 0);
    }
}

#[test]
fn machines_survive_crash_and_restore() {
    let mut sim = keygen_sim(3, 6);
    sim.restore_every_step(true);
    sim.reorder(true);
    let keys = keys_of(sim.run(), 3);
    // Key shares survive their own encoding.
    for k in keys.values() {
        let back = KeyShare::from_bytes(k.to_secret_bytes().expose()).unwrap();
        assert_eq!(back.key_id(), k.key_id());
        assert_eq!(
            back.to_secret_bytes().expose(),
            k.to_secret_bytes().expose()
        );
    }
    let stores = stores_of(keys);
    let mut sim = presign_sim(&stores, 2, 3, &DerivationPath::parse("m/1").unwrap(), 7);
    sim.restore_every_step(true);
    let info = info_of(sim.run());
    let hash = [1u8; 32];
    let (sig, recid) = sign_both(&stores, &info, &hash);
    let d = stores[&pid(2)]
        .public_package()
        .unwrap()
        .derive(&DerivationPath::parse("m/1").unwrap())
        .unwrap();
    check_signature(
        &VerifyingKey::from_affine(k256::elliptic_curve::group::Curve::to_affine(&d.public_key))
            .unwrap(),
        &hash,
        &sig,
        recid,
    );
}

#[test]
fn sealed_presignatures_open_only_under_the_current_share() {
    let stores = stores(2, 8);
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 80);
    let store = &stores[&pid(1)];
    let key_id = info.key_id;
    // The store holds ciphertext: take it, corrupt one byte, put it back under a fresh id is
    // refused (tombstone), so check the open path through a second presignature instead.
    let sealed = store.take(&key_id, &info.id).unwrap();
    assert_eq!(
        partial_sign(store, &info, &[1; 32]).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    let info2 = presign(&stores, 1, 2, &DerivationPath::root(), 81);
    let mut corrupted = store.take(&key_id, &info2.id).unwrap().expose().to_vec();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 1;
    // A store that hands back other bytes under the id: a local storage failure, nobody blamed.
    let forged = MemoryKeyStore::new(
        store
            .with_key(|k| KeyShare::from_bytes(k.to_secret_bytes().expose()).unwrap())
            .unwrap(),
    );
    forged
        .put(&key_id, &info2.id, wallet_types::SecretVec::new(corrupted))
        .unwrap();
    let e = partial_sign(&forged, &info2, &[1; 32]).unwrap_err();
    assert_eq!(e, Error::Store(StoreError::Unavailable));
    assert!(e.culprits().is_empty());
    // The sealed bytes under another info (another id, same store) do not open either.
    forged.put(&key_id, &[7; 32], sealed).unwrap();
    let other = wallet_tss::ecdsa::PresignatureInfo {
        id: [7; 32],
        ..info.clone()
    };
    assert_eq!(
        partial_sign(&forged, &other, &[1; 32]).unwrap_err(),
        Error::Params(wallet_types::ParamError::Mismatch)
    );
}

#[test]
fn combine_rejects_foreign_and_bad_partials() {
    let stores = stores(2, 9);
    let key = stores[&pid(1)].public_package().unwrap();
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 90);
    let info2 = presign(&stores, 1, 2, &DerivationPath::root(), 91);
    let hash = [4u8; 32];
    let (a, b) = partials(&stores, &info, &hash);
    let other = partial_sign(&stores[&pid(1)], &info2, &hash).unwrap();
    assert!(matches!(
        combine(&key, &info, &hash, &a, &other),
        Err(wallet_types::Error::Params(_))
    ));
    assert!(matches!(
        combine(&key, &info, &hash, &a, &a),
        Err(wallet_types::Error::Params(_))
    ));
    let mut bad = b.clone();
    bad.w += k256::Scalar::ONE;
    let e = combine(&key, &info, &hash, &a, &bad).unwrap_err();
    assert_eq!(
        e.reason(),
        Some(wallet_types::Reason::InvalidSignatureShare)
    );
    // Partials for another message do not combine into a signature of this one.
    assert!(combine(&key, &info, &[5u8; 32], &a, &b).is_err());
    // Another key's public package refuses the presignature.
    let foreign = stores_of(keygen(2, 92))[&pid(1)].public_package().unwrap();
    assert!(matches!(
        combine(&foreign, &info, &hash, &a, &b),
        Err(Error::WrongEpoch { .. })
    ));
}

#[test]
fn export_needs_two_distinct_shares_of_one_key() {
    let keys = keygen(3, 10);
    let other = keygen(2, 11);
    let root = DerivationPath::root();
    let sk12 = export_private_key(&keys[&pid(1)], &keys[&pid(2)], &root).unwrap();
    let sk23 = export_private_key(&keys[&pid(3)], &keys[&pid(2)], &root).unwrap();
    assert_eq!(sk12.expose(), sk23.expose());
    assert_eq!(sk12.public(), keys[&pid(1)].public_key());
    assert_eq!(
        export_private_key(&keys[&pid(1)], &keys[&pid(1)], &root).unwrap_err(),
        ExportError::SameParty(pid(1))
    );
    assert_eq!(
        export_private_key(&keys[&pid(1)], &other[&pid(2)], &root).unwrap_err(),
        ExportError::DifferentKeys
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs machines to completion by hand, recording every encoded message and every machine's
/// serialized state after every call.
fn drive_recording<P: Protocol>(
    mut machines: BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
    blobs: &mut Vec<Vec<u8>>,
    save: impl Fn(&P) -> Vec<u8>,
) -> BTreeMap<PartyId, P::Output> {
    let mut queue = std::collections::VecDeque::new();
    let mut outputs = BTreeMap::new();
    let mut record = |id: PartyId,
                      m: &P,
                      step: Step<P::Message, P::Output>,
                      queue: &mut std::collections::VecDeque<(PartyId, Vec<u8>)>,
                      blobs: &mut Vec<Vec<u8>>| {
        blobs.push(save(m));
        let (out, done) = match step {
            Step::Continue(out) => (out, None),
            Step::Done(out, o) => (out, Some(o)),
        };
        for env in out {
            let bytes = env.encode();
            blobs.push(bytes.clone());
            let Recipient::One(to) = env.recipient else {
                panic!("broadcast")
            };
            queue.push_back((to, bytes));
        }
        if let Some(o) = done {
            outputs.insert(id, o);
        }
    };
    for (id, m) in machines.iter_mut() {
        blobs.push(save(m));
        let step = m.start(rng).unwrap();
        record(*id, m, step, &mut queue, blobs);
    }
    while let Some((to, bytes)) = queue.pop_front() {
        let m = machines.get_mut(&to).unwrap();
        let env = Envelope::<P::Message>::decode(&bytes).unwrap();
        let step = m.handle(env, rng).unwrap();
        record(to, m, step, &mut queue, blobs);
    }
    outputs
}

#[test]
fn no_party_holds_or_sends_the_private_key() {
    use wallet_types::ff::PrimeField;
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    // Key generation: every message and every state of both parties after every call.
    let parties = Parties::range(2).unwrap();
    let session = SessionId([12; 32]);
    let machines = parties
        .iter()
        .map(|p| {
            (
                p,
                Keygen::new(session, p, parties.clone(), &mut rng).unwrap(),
            )
        })
        .collect();
    let keys: BTreeMap<PartyId, KeyShare> =
        drive_recording::<Keygen>(machines, &mut rng, &mut blobs, |m| {
            m.to_secret_bytes().expose().to_vec()
        })
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect();
    for k in keys.values() {
        blobs.push(k.to_secret_bytes().expose().to_vec());
    }
    let stores = stores_of(keys);
    // Presign with a derived key, likewise.
    let path = DerivationPath::parse("m/3/4").unwrap();
    let presign_round = |session: SessionId, rng: &mut ChaCha20Rng, blobs: &mut Vec<Vec<u8>>| {
        let mut machines = BTreeMap::new();
        for (a, b) in [(1, 2), (2, 1)] {
            machines.insert(
                pid(a),
                wallet_tss::ecdsa::Presign::new(
                    &stores[&pid(a)],
                    pid(b),
                    path.clone(),
                    session,
                    rng,
                )
                .unwrap(),
            );
        }
        let infos = drive_recording(machines, rng, blobs, |m| m.save().expose().to_vec());
        infos[&pid(1)].clone()
    };
    let info = presign_round(SessionId([13; 32]), &mut rng, &mut blobs);
    let hash = [0xee; 32];
    // The sealed presignatures as the store holds them (a second presignature, taken out).
    let spare = presign_round(SessionId([14; 32]), &mut rng, &mut blobs);
    for p in [1, 2] {
        let sealed = stores[&pid(p)].take(&spare.key_id, &spare.id).unwrap();
        blobs.push(sealed.expose().to_vec());
    }
    // The sign machines (states and messages).
    let mut machines = BTreeMap::new();
    for p in [1, 2] {
        machines.insert(
            pid(p),
            Sign::new(&stores[&pid(p)], info.clone(), hash).unwrap(),
        );
    }
    let sigs = drive_recording(machines, &mut rng, &mut blobs, |m| m.save());
    let (sig, recid) = sigs[&pid(1)];
    blobs.push(sig.to_bytes().to_vec());
    check_signature(&info.verifying_key().unwrap(), &hash, &sig, recid);
    // Only now assemble the keys (root and derived) and look for them, and their negations,
    // anywhere in what either party stored or sent.
    let sk = export(&stores, 1, 2, &DerivationPath::root());
    let sk_child = export(&stores, 1, 2, &path);
    let secrets: Vec<[u8; 32]> = [
        sk.expose(),
        sk_child.expose(),
        &-sk.expose(),
        &-sk_child.expose(),
    ]
    .iter()
    .map(|s| s.to_repr().into())
    .collect();
    assert!(blobs.len() > 30);
    for blob in &blobs {
        for s in &secrets {
            assert!(
                !contains(blob, s),
                "a private key appears in stored or sent bytes"
            );
        }
    }
    // The scan itself finds what it looks for.
    let mut control = blobs[0].clone();
    control.extend_from_slice(&secrets[0]);
    assert!(contains(&control, &secrets[0]));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, .. ProptestConfig::default() })]
    #[test]
    fn random_keys_messages_and_paths(
        seed in any::<u64>(),
        hash in any::<[u8; 32]>(),
        path in proptest::collection::vec(0u32..(1 << 31), 0..4),
        three in any::<bool>(),
    ) {
        let n = if three { 3 } else { 2 };
        let stores = stores(n, seed);
        let path = DerivationPath::new(path).unwrap();
        let (a, b) = if three { (3, 1 + (seed % 2) as u16) } else { (1, 2) };
        let info = presign(&stores, a, b, &path, seed ^ 0x55);
        let d = stores[&pid(1)].public_package().unwrap().derive(&path).unwrap();
        let vk = VerifyingKey::from_affine(k256::elliptic_curve::group::Curve::to_affine(&d.public_key)).unwrap();
        let (sig, recid) = sign_both(&stores, &info, &hash);
        check_signature(&vk, &hash, &sig, recid);
    }
}
