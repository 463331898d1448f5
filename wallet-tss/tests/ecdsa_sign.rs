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
    DerivationPath, ExportError, KeyShare, Presignature, Sign, combine, export_private_key,
};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::{Keygen, Presign};
use wallet_types::sim::Simulator;
use wallet_types::{Envelope, Parties, PartyId, Protocol, Recipient, SessionId, Step, WireObject};

fn check_signature(pk: &VerifyingKey, hash: &[u8; 32], sig: &Signature, recid: RecoveryId) {
    pk.verify_prehash(hash, sig).unwrap();
    assert!(sig.normalize_s() == *sig, "signature is not low-S");
    let recovered = VerifyingKey::recover_from_prehash(hash, sig, recid).unwrap();
    assert_eq!(&recovered, pk);
}

fn sign_both(p: Presignature, q: Presignature, hash: &[u8; 32]) -> (Signature, RecoveryId) {
    let info = p.info().clone();
    let a = p.sign(hash);
    let b = q.sign(hash);
    let r1 = combine(&info, hash, &a, &b).unwrap();
    let r2 = combine(&info, hash, &b, &a).unwrap();
    assert_eq!(r1, r2);
    r1
}

#[test]
fn two_of_two_signs_and_recovers() {
    let keys = keygen(2, 1);
    let pk = keys[&pid(1)].verifying_key().unwrap();
    for seed in 0..4u8 {
        let (p, q) = presign(&keys, 1, 2, &DerivationPath::root(), u64::from(seed) + 10);
        assert_eq!(p.info().public_key, keys[&pid(1)].public_key());
        let hash = [seed.wrapping_mul(37).wrapping_add(1); 32];
        let (sig, recid) = sign_both(p, q, &hash);
        check_signature(&pk, &hash, &sig, recid);
    }
}

#[test]
fn two_of_three_every_pair_signs() {
    let keys = keygen(3, 2);
    let pk = keys[&pid(1)].verifying_key().unwrap();
    for (i, (a, b)) in [(1, 2), (1, 3), (2, 3), (3, 1)].into_iter().enumerate() {
        let (p, q) = presign(&keys, a, b, &DerivationPath::root(), 20 + i as u64);
        let hash = [i as u8 + 7; 32];
        let (sig, recid) = sign_both(p, q, &hash);
        check_signature(&pk, &hash, &sig, recid);
    }
}

#[test]
fn derived_keys_match_bip32_and_sign() {
    use bip32::{ChildNumber, ExtendedKeyAttrs, ExtendedPublicKey};
    let keys = keygen(3, 3);
    let k = &keys[&pid(2)];
    let root = ExtendedPublicKey::new(
        k.verifying_key().unwrap(),
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
        let (p, q) = presign(&keys, 1, 3, &path, 30);
        assert_eq!(p.info().path, path);
        assert_eq!(p.info().public_key, d.public_key);
        let hash = [0x5a; 32];
        let (sig, recid) = sign_both(p, q, &hash);
        check_signature(xpub.public_key(), &hash, &sig, recid);
        // The signature does not verify under the root key: the path is bound.
        assert!(
            k.verifying_key()
                .unwrap()
                .verify_prehash(&hash, &sig)
                .is_err()
        );
        // Export of the derived key matches the derived public key.
        let sk = export_private_key(&keys[&pid(1)], &keys[&pid(3)], &path).unwrap();
        assert_eq!(sk.public(), d.public_key);
    }
}

#[test]
fn sign_machines_through_the_simulator() {
    let keys = keygen(2, 4);
    let (p, q) = presign(&keys, 1, 2, &DerivationPath::root(), 40);
    let hash = [9u8; 32];
    let mut sim = Simulator::new(5);
    sim.add(Sign::new(p, hash).unwrap());
    sim.add(Sign::new(q, hash).unwrap());
    sim.restore_every_step(true);
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), 2);
    let (sig, recid) = out.outputs[&pid(1)];
    assert_eq!(out.outputs[&pid(2)], (sig, recid));
    check_signature(&keys[&pid(1)].verifying_key().unwrap(), &hash, &sig, recid);
}

#[test]
fn machines_survive_crash_and_restore() {
    let mut sim = keygen_sim(3, 6);
    sim.restore_every_step(true);
    sim.reorder(true);
    let keys = keys_of(sim.run(), 3);
    let mut sim = presign_sim(&keys, 2, 3, &DerivationPath::parse("m/1").unwrap(), 7);
    sim.restore_every_step(true);
    let (p, q) = presigs_of(sim.run());
    let hash = [1u8; 32];
    let (sig, recid) = sign_both(p, q, &hash);
    let d = keys[&pid(2)]
        .derive(&DerivationPath::parse("m/1").unwrap())
        .unwrap();
    check_signature(
        &VerifyingKey::from_affine(k256::elliptic_curve::group::Curve::to_affine(&d.public_key))
            .unwrap(),
        &hash,
        &sig,
        recid,
    );
    // Key shares survive their own encoding.
    for k in keys.values() {
        let back = KeyShare::from_bytes(k.to_secret_bytes().expose()).unwrap();
        assert_eq!(back.key_id(), k.key_id());
        assert_eq!(
            back.to_secret_bytes().expose(),
            k.to_secret_bytes().expose()
        );
    }
}

#[test]
fn seal_and_restore() {
    let keys = keygen(2, 8);
    let (p, q) = presign(&keys, 1, 2, &DerivationPath::root(), 80);
    let info = p.info().clone();
    let (id, bytes) = p.seal();
    assert_eq!(id, info.id);
    let mut wrong = id;
    wrong[0] ^= 1;
    assert!(Presignature::restore(&wrong, bytes.expose()).is_err());
    let mut longer = bytes.expose().to_vec();
    longer.push(0);
    assert!(Presignature::restore(&id, &longer).is_err());
    let p = Presignature::restore(&id, bytes.expose()).unwrap();
    let hash = [3u8; 32];
    let (sig, recid) = sign_both(p, q, &hash);
    check_signature(&keys[&pid(1)].verifying_key().unwrap(), &hash, &sig, recid);
}

#[test]
fn combine_rejects_foreign_and_bad_partials() {
    let keys = keygen(2, 9);
    let (p, q) = presign(&keys, 1, 2, &DerivationPath::root(), 90);
    let (p2, _q2) = presign(&keys, 1, 2, &DerivationPath::root(), 91);
    let info = p.info().clone();
    let hash = [4u8; 32];
    let a = p.sign(&hash);
    let b = q.sign(&hash);
    let other = p2.sign(&hash);
    assert!(matches!(
        combine(&info, &hash, &a, &other),
        Err(wallet_types::Error::Params(_))
    ));
    assert!(matches!(
        combine(&info, &hash, &a, &a),
        Err(wallet_types::Error::Params(_))
    ));
    let mut bad = b.clone();
    bad.w += k256::Scalar::ONE;
    let e = combine(&info, &hash, &a, &bad).unwrap_err();
    assert_eq!(
        e.reason(),
        Some(wallet_types::Reason::InvalidSignatureShare)
    );
    // Partials for another message do not combine into a signature of this one.
    assert!(combine(&info, &[5u8; 32], &a, &b).is_err());
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
fn drive_recording<P: Protocol + WireObject>(
    mut machines: BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
    blobs: &mut Vec<Vec<u8>>,
) -> BTreeMap<PartyId, P::Output> {
    let mut queue = std::collections::VecDeque::new();
    let mut outputs = BTreeMap::new();
    let mut record = |id: PartyId,
                      m: &P,
                      step: Step<P::Message, P::Output>,
                      queue: &mut std::collections::VecDeque<(PartyId, Vec<u8>)>,
                      blobs: &mut Vec<Vec<u8>>| {
        blobs.push(m.to_secret_bytes().expose().to_vec());
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
        blobs.push(m.to_secret_bytes().expose().to_vec());
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
    let keys = drive_recording::<Keygen>(machines, &mut rng, &mut blobs);
    for k in keys.values() {
        blobs.push(k.to_secret_bytes().expose().to_vec());
    }
    // Presign with a derived key, likewise.
    let path = DerivationPath::parse("m/3/4").unwrap();
    let session = SessionId([13; 32]);
    let mut machines = BTreeMap::new();
    for (a, b) in [(1, 2), (2, 1)] {
        machines.insert(
            pid(a),
            Presign::new(&keys[&pid(a)], pid(b), path.clone(), session, &mut rng).unwrap(),
        );
    }
    let mut presigs = drive_recording::<Presign>(machines, &mut rng, &mut blobs);
    let (p, q) = (
        presigs.remove(&pid(1)).unwrap(),
        presigs.remove(&pid(2)).unwrap(),
    );
    let info = p.info().clone();
    let hash = [0xee; 32];
    // Sealed presignatures, then the sign machines (states and messages).
    let (id, sealed) = p.seal();
    blobs.push(sealed.expose().to_vec());
    let p = Presignature::restore(&id, sealed.expose()).unwrap();
    let (_, sealed_q) = q.seal();
    blobs.push(sealed_q.expose().to_vec());
    let q = Presignature::restore(&id, sealed_q.expose()).unwrap();
    let mut machines = BTreeMap::new();
    machines.insert(pid(1), Sign::new(p, hash).unwrap());
    machines.insert(pid(2), Sign::new(q, hash).unwrap());
    let sigs = drive_recording::<Sign>(machines, &mut rng, &mut blobs);
    let (sig, recid) = sigs[&pid(1)];
    blobs.push(sig.to_bytes().to_vec());
    check_signature(&info.verifying_key().unwrap(), &hash, &sig, recid);
    // Only now assemble the keys (root and derived) and look for them, and their negations,
    // anywhere in what either party stored or sent.
    let sk = export_private_key(&keys[&pid(1)], &keys[&pid(2)], &DerivationPath::root()).unwrap();
    let sk_child = export_private_key(&keys[&pid(1)], &keys[&pid(2)], &path).unwrap();
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
        let keys = keygen(n, seed);
        let path = DerivationPath::new(path).unwrap();
        let (a, b) = if three { (3, 1 + (seed % 2) as u16) } else { (1, 2) };
        let (p, q) = presign(&keys, a, b, &path, seed ^ 0x55);
        let d = keys[&pid(1)].derive(&path).unwrap();
        let vk = VerifyingKey::from_affine(k256::elliptic_curve::group::Curve::to_affine(&d.public_key)).unwrap();
        let (sig, recid) = sign_both(p, q, &hash);
        check_signature(&vk, &hash, &sig, recid);
    }
}
