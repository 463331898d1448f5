//! FROST signing (coordinator + signers) through the simulator, after a DKG: clean runs,
//! crashes, and every way a signer or the coordinator can cheat.
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
use wallet_tss::frost::signing::{
    Coordinator, Signer, SigningMessage, SigningOutput, SigningParty,
};
use wallet_tss::frost::{SignatureShare, SigningPackage, round1};
use wallet_types::sim::{Fault, FaultRule};
use wallet_types::{
    Ed25519, Envelope, Error, MemoryOneTimeStore, Parties, Reason, Recipient, SessionId, WireObject,
};

const MSG: &[u8] = b"transfer 1 SOL to alice";

#[test]
fn clean_signing_after_dkg() {
    for (t, n, signers) in [
        (2usize, 3u16, vec![1u16, 3]),
        (3, 5, vec![2, 4, 5]),
        (3, 5, vec![1, 2, 3, 4, 5]),
    ] {
        let keys = run_dkg(t, n, 21);
        let store = MemoryOneTimeStore::new();
        let out = signing_sim(&store, &keys, &signers, MSG, 3).run();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        let sig = signature_of(&out).unwrap();
        verify_strict(&keys, MSG, &sig);
        // Every signer reports the nonce it used, which the store no longer holds.
        for p in &signers {
            match &out.outputs[&pid(*p)] {
                SigningOutput::Signer(o) => {
                    let key = &keys[&pid(*p)];
                    assert_ne!(o.used, wallet_tss::frost::NonceId([0; 32]));
                    assert_eq!(store.count(&key.nonce_scope()).unwrap(), 0);
                }
                SigningOutput::Coordinator(_) => panic!(),
            }
        }
    }
}

#[test]
fn restore_every_step_and_reorder() {
    let keys = run_dkg(2, 3, 22);
    let store = MemoryOneTimeStore::new();
    let mut s = signing_sim(&store, &keys, &[1, 2], MSG, 4);
    s.restore_every_step(true);
    verify_strict(&keys, MSG, &signature_of(&s.run()).unwrap());
    let mut s = signing_sim(&store, &keys, &[2, 3], MSG, 5);
    s.reorder(true);
    s.rule(FaultRule::any(Fault::Duplicate).times(4));
    verify_strict(&keys, MSG, &signature_of(&s.run()).unwrap());
}

#[test]
fn crash_and_restore_at_every_step_completes() {
    // Every party crashes after each message it handles and is restored from its bytes (a
    // signer onto the same store): the session still completes, and every nonce is used once.
    let keys = run_dkg(3, 5, 30);
    let signers = [1u16, 3, 4];
    let mut steps: Vec<(u16, usize)> = signers.iter().map(|p| (*p, 1)).collect();
    steps.extend((1..=signers.len()).map(|n| (COORD, n)));
    for (i, (party, n)) in steps.into_iter().enumerate() {
        let store = MemoryOneTimeStore::new();
        let mut s = signing_sim(&store, &keys, &signers, MSG, 40 + i as u64);
        s.crash_after(pid(party), n);
        s.rule(FaultRule::any(Fault::Duplicate).times(2));
        let out = s.run();
        assert!(
            out.failures.is_empty(),
            "{party} after {n}: {:?}",
            out.failures
        );
        verify_strict(&keys, MSG, &signature_of(&out).unwrap());
        for p in signers {
            assert_eq!(store.count(&keys[&pid(p)].nonce_scope()).unwrap(), 0);
        }
    }
}

#[test]
fn wrong_signature_share_is_blamed() {
    let keys = run_dkg(3, 5, 23);
    let store = MemoryOneTimeStore::new();
    for culprit in [1u16, 3] {
        // The same seed draws the same nonces: a store of their own (the shared one would
        // refuse a second copy of a known nonce id).
        let store = MemoryOneTimeStore::new();
        let mut s = signing_sim(&store, &keys, &[1, 3, 4], MSG, 6);
        s.rule(
            FaultRule::any(Fault::tamper_payload(|m: &mut SigningMessage<Ed25519>| {
                if let SigningMessage::Share(z) = m {
                    *z = SignatureShare(z.0 + curve25519_dalek::Scalar::ONE);
                }
            }))
            .from(pid(culprit)),
        );
        let out = s.run();
        assert_eq!(
            out.failures.get(&pid(COORD)),
            Some(&Error::blame(pid(culprit), Reason::InvalidSignatureShare))
        );
        assert!(signature_of(&out).is_none());
    }
    // Two cheaters are both named.
    let mut s = signing_sim(&store, &keys, &[1, 3, 4], MSG, 7);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut SigningMessage<Ed25519>| {
            if let SigningMessage::Share(z) = m {
                *z = SignatureShare(-z.0);
            }
        }))
        .from(pid(1)),
    );
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut SigningMessage<Ed25519>| {
            if let SigningMessage::Share(z) = m {
                *z = SignatureShare(z.0.invert());
            }
        }))
        .from(pid(4)),
    );
    let out = s.run();
    assert_eq!(
        out.failures.get(&pid(COORD)),
        Some(&Error::blame_all(
            vec![pid(1), pid(4)],
            Reason::InvalidSignatureShare
        ))
    );
}

#[test]
fn package_omitting_a_signer_is_blamed_on_the_coordinator() {
    let keys = run_dkg(2, 3, 24);
    let store = MemoryOneTimeStore::new();
    let mut s = signing_sim(&store, &keys, &[1, 2, 3], MSG, 8);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut SigningMessage<Ed25519>| {
            if let SigningMessage::Package(p) = m {
                let mut c = p.commitments().clone();
                c.remove(&pid(3));
                *p = SigningPackage::new(c, p.message().to_vec()).unwrap();
            }
        }))
        .from(pid(COORD))
        .times(3),
    );
    let out = s.run();
    for p in [1, 2, 3] {
        assert_eq!(
            out.failures.get(&pid(p)),
            Some(&Error::blame(pid(COORD), Reason::MalformedMessage))
        );
    }
}

#[test]
fn package_duplicating_a_signer_is_blamed_on_the_coordinator() {
    let keys = run_dkg(2, 3, 25);
    let store = MemoryOneTimeStore::new();
    let mut s = signing_sim(&store, &keys, &[1, 2], MSG, 9);
    // Duplicate signer 1's entry on the wire (the typed package cannot even hold a duplicate).
    s.rule(
        FaultRule::any(Fault::Tamper(Box::new(|m, _| {
            let msg = SigningMessage::<Ed25519>::from_bytes(&m.envelope.payload).unwrap();
            let SigningMessage::Package(p) = msg else {
                return;
            };
            let mut v = SigningMessage::Package(p.clone()).to_bytes();
            // header(4) tag(1) len(4) message count(2) then entries of 2 + 64 bytes.
            let start = 4 + 1 + 4 + p.message().len();
            let count = u16::from_be_bytes([v[start], v[start + 1]]);
            v[start..start + 2].copy_from_slice(&(count + 1).to_be_bytes());
            let first = v[start + 2..start + 2 + 66].to_vec();
            v.splice(start + 2..start + 2, first);
            m.envelope.payload = v;
        })))
        .from(pid(COORD))
        .times(2),
    );
    let out = s.run();
    for p in [1, 2] {
        let e = out.failures.get(&pid(p)).unwrap();
        assert!(
            matches!(e, Error::Decode { sender, .. } if *sender == pid(COORD)),
            "{e:?}"
        );
        assert_eq!(e.culprits(), &[pid(COORD)]);
    }
}

#[test]
fn substituted_commitment_is_blamed_on_the_coordinator() {
    let keys = run_dkg(2, 3, 26);
    let store = MemoryOneTimeStore::new();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    let (_n, other) = round1::preprocess(&keys[&pid(2)], 1, &mut rng);
    let other = other[0];
    let mut s = signing_sim(&store, &keys, &[1, 2], MSG, 10);
    s.rule(
        FaultRule::any(Fault::tamper_payload(
            move |m: &mut SigningMessage<Ed25519>| {
                if let SigningMessage::Package(p) = m {
                    let mut c = p.commitments().clone();
                    c.insert(pid(2), other);
                    *p = SigningPackage::new(c, p.message().to_vec()).unwrap();
                }
            },
        ))
        .from(pid(COORD))
        .to(pid(2)),
    );
    let out = s.run();
    assert_eq!(
        out.failures.get(&pid(2)),
        Some(&Error::blame(pid(COORD), Reason::CommitmentMismatch))
    );
}

#[test]
fn unexpected_message_is_refused() {
    let keys = run_dkg(2, 3, 27);
    let set = Parties::from_ids(&[1, 3]).unwrap();
    let store = MemoryOneTimeStore::new();
    let mut sim = store_simulator(11);
    let mut commitments = BTreeMap::new();
    for p in set.iter() {
        let c = round1::preprocess_into(&store, &keys[&p], 1, sim.rng()).unwrap();
        commitments.insert(p, c[0]);
        let signer = signer_on(&store, keys[&p].duplicate(), &set, &c).expect_message(MSG.to_vec());
        sim.add(SigningParty::Signer(signer));
    }
    let package = SigningPackage::new(commitments, b"something else".to_vec()).unwrap();
    let public = keys[&pid(1)].public().clone();
    sim.add(SigningParty::Coordinator(
        Coordinator::new(SID, pid(COORD), public, package).unwrap(),
    ));
    let out = sim.run();
    for p in [1, 3] {
        assert_eq!(
            out.failures.get(&pid(p)),
            Some(&Error::blame(pid(COORD), Reason::MalformedMessage))
        );
    }
}

#[test]
fn message_for_another_session_is_rejected() {
    let keys = run_dkg(2, 3, 28);
    let store = MemoryOneTimeStore::new();
    let mut s = signing_sim(&store, &keys, &[1, 2], MSG, 12);
    // A share of another session arrives at the coordinator first: rejected, no state change;
    // the real run completes.
    s.inject(
        pid(COORD),
        Envelope {
            session: SessionId([9; 32]),
            round: 2,
            sender: pid(1),
            recipient: Recipient::One(pid(COORD)),
            payload: SigningMessage::<Ed25519>::Share(SignatureShare(
                curve25519_dalek::Scalar::ONE,
            ))
            .to_bytes(),
        },
    );
    s.rule(
        FaultRule::any(Fault::WrongSession(SessionId([7; 32])))
            .from(pid(COORD))
            .to(pid(2)),
    );
    let out = s.run();
    assert!(
        out.rejections
            .contains(&(pid(COORD), Error::WrongSession { sender: pid(1) }))
    );
    assert!(
        out.rejections
            .contains(&(pid(2), Error::WrongSession { sender: pid(COORD) }))
    );
    // P2 never got the package of this session: it stalls, the coordinator waits — nothing
    // signed with a wrong view.
    assert!(out.failures.is_empty());
    assert!(signature_of(&out).is_none());
    assert!(out.stalled.contains(&pid(2)));
}

#[test]
fn too_few_signers_are_refused() {
    let keys = run_dkg(3, 5, 29);
    let store = MemoryOneTimeStore::new();
    let set = Parties::from_ids(&[1, 2]).unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    let c = round1::preprocess_into(&store, &keys[&pid(1)], 1, &mut rng).unwrap();
    assert!(
        Signer::new(
            &store,
            SID,
            keys[&pid(1)].duplicate(),
            pid(COORD),
            set,
            c.iter().map(|c| c.id())
        )
        .is_err()
    );
    let (_, c2) = round1::preprocess(&keys[&pid(2)], 1, &mut rng);
    let package = SigningPackage::new(
        BTreeMap::from([(pid(1), c[0]), (pid(2), c2[0])]),
        MSG.to_vec(),
    )
    .unwrap();
    assert!(Coordinator::new(SID, pid(COORD), keys[&pid(1)].public().clone(), package).is_err());
}
