//! The FROST DKG through the simulator: clean runs, crashes and restores, and every way a
//! party can cheat — each caught with a typed error naming the culprit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod frost_common;

use frost_common::*;
use wallet_sss::Polynomial;
use wallet_tss::frost::dkg::{DkgMessage, DkgShare};
use wallet_tss::frost::keys::export_group_secret;
use wallet_types::sim::{Fault, FaultRule};
use wallet_types::{
    Curve, Ed25519, Envelope, Error, Parties, Reason, Recipient, SecretScalar, SessionId,
    WireObject,
};

#[test]
fn clean_runs_agree_and_export_matches() {
    for (t, n) in [(2usize, 3u16), (3, 5), (2, 2)] {
        let keys = run_dkg(t, n, 1);
        let public = keys.values().next().unwrap().public();
        assert_eq!(public.threshold(), t);
        assert_eq!(public.parties().len(), n as usize);
        // Any t shares export the key whose public key is the group key; fewer are refused.
        let all: Vec<_> = keys.values().collect();
        let secret = export_group_secret(&all[..t]).unwrap();
        assert_eq!(secret.public_key(), *public.group_key().get());
        let secret2 = export_group_secret(&all[n as usize - t..]).unwrap();
        assert_eq!(secret2.public_key(), *public.group_key().get());
        assert!(export_group_secret(&all[..t - 1]).is_err());
    }
}

#[test]
fn different_runs_give_different_keys() {
    let a = run_dkg(2, 3, 1);
    let b = run_dkg(2, 3, 2);
    assert_ne!(
        a[&pid(1)].public().group_key(),
        b[&pid(1)].public().group_key()
    );
}

#[test]
fn crash_restore_reorder_duplicate() {
    let clean = run_dkg(2, 3, 5)[&pid(1)].public().clone();
    let mut s = dkg_sim(2, 3, 5);
    s.restore_every_step(true);
    assert_eq!(dkg_ok(s.run(), 3)[&pid(2)].public(), &clean);
    for p in 1..=3 {
        for after in [1, 2, 3, 4, 5] {
            let mut s = dkg_sim(2, 3, 5);
            s.crash_after(pid(p), after);
            assert_eq!(dkg_ok(s.run(), 3)[&pid(3)].public(), &clean);
        }
    }
    for seed in 0..4 {
        let mut s = dkg_sim(3, 4, seed);
        s.reorder(true);
        s.rule(FaultRule::any(Fault::Duplicate).times(10));
        s.rule(FaultRule::any(Fault::Delay).times(5));
        dkg_ok(s.run(), 4);
    }
}

#[test]
fn bad_proof_of_knowledge_is_blamed() {
    let mut s = dkg_sim(2, 3, 7);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
            if let DkgMessage::Commit { mu, .. } = m {
                *mu += curve25519_dalek::Scalar::ONE;
            }
        }))
        .from(pid(2))
        .round(1)
        .times(2),
    );
    let out = s.run();
    only_blames(&out, 2, Some(Reason::InvalidProof));
    assert_eq!(out.failures.len(), 2);
    assert!(out.outputs.is_empty());
}

#[test]
fn rogue_commitment_without_proof_is_blamed() {
    // Replacing the constant term (a rogue key) without a matching proof is caught.
    let mut s = dkg_sim(3, 4, 8);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
            if let DkgMessage::Commit { commitment, .. } = m {
                commitment[0] = Ed25519::mul_base(&curve25519_dalek::Scalar::from(42u64));
            }
        }))
        .from(pid(4))
        .round(1)
        .times(3),
    );
    only_blames(&s.run(), 4, Some(Reason::InvalidProof));
}

#[test]
fn share_failing_feldman_is_blamed() {
    let mut s = dkg_sim(2, 3, 9);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
            if let DkgMessage::Share(sh) = m {
                let mut bytes = DkgMessage::Share(sh.clone()).to_bytes();
                let last = bytes.len() - 32;
                bytes[last] ^= 1;
                *m = DkgMessage::from_bytes(&bytes).unwrap();
            }
        }))
        .from(pid(2))
        .to(pid(3))
        .round(2),
    );
    let out = s.run();
    assert_eq!(
        out.failures.get(&pid(3)),
        Some(&Error::blame(pid(2), Reason::InvalidShare))
    );
    // The others never get P3's confirmation: no output rather than a key P3 does not hold.
    assert!(out.outputs.is_empty());
    assert_eq!(out.failures.len(), 1);
}

#[test]
fn wrong_commitment_length_is_malformed() {
    let mut s = dkg_sim(3, 4, 10);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
            if let DkgMessage::Commit { commitment, .. } = m {
                commitment.pop();
            }
        }))
        .from(pid(1))
        .round(1)
        .times(3),
    );
    only_blames(&s.run(), 1, Some(Reason::MalformedMessage));
}

/// P2 runs two polynomials: P3 sees commitments and a share of the second, everybody else of
/// the first. Every Feldman check passes; only the confirmation round can tell.
#[test]
fn equivocation_is_caught_by_confirmation() {
    for n in [3u16, 4] {
        let parties = Parties::range(n).unwrap();
        let mut s = dkg_sim(2, n, 11);
        let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(99);
        let poly_b =
            Polynomial::<Ed25519>::random(SecretScalar::random(&mut rng), 2, &mut rng).unwrap();
        let alt = DkgMessage::commit(&SID, &parties, 2, pid(2), &poly_b, &mut rng);
        let alt_share = DkgMessage::<Ed25519>::Share(DkgShare::new(poly_b.share_for(pid(3))));
        s.rule(
            FaultRule::any(Fault::replace_payload(alt.to_bytes()))
                .from(pid(2))
                .to(pid(3))
                .round(1),
        );
        s.rule(
            FaultRule::any(Fault::replace_payload(alt_share.to_bytes()))
                .from(pid(2))
                .to(pid(3))
                .round(2),
        );
        let out = s.run();
        assert!(
            out.outputs.is_empty(),
            "a DKG with an equivocator must not finish: {out:?}"
        );
        only_blames(&out, 2, Some(Reason::ConfirmationMismatch));
        assert!(out.failures.contains_key(&pid(3)));
        assert!(out.failures.contains_key(&pid(1)));
    }
}

#[test]
fn lying_confirmer_is_blamed() {
    let mut s = dkg_sim(2, 3, 12);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
            if let DkgMessage::Confirm { hash, .. } = m {
                hash[0] ^= 1;
            }
        }))
        .from(pid(3))
        .round(3)
        .times(2),
    );
    let out = s.run();
    only_blames(&out, 3, Some(Reason::ConfirmationMismatch));
}

#[test]
fn bit_flips_blame_the_sender() {
    for seed in 0..6 {
        for round in 1..=2 {
            let mut s = dkg_sim(2, 3, seed);
            s.rule(
                FaultRule::any(Fault::FlipBit)
                    .from(pid(2))
                    .round(round)
                    .times(2),
            );
            let out = s.run();
            assert!(out.outputs.is_empty(), "{out:?}");
            only_blames(&out, 2, None);
        }
        // Round 3: a corrupted confirmation makes the DKG fail (blaming the sender, or — when
        // the flipped bit sits in another party's digest — the party it appears to accuse;
        // see the module docs), and nobody outputs a key.
        let mut s = dkg_sim(2, 3, seed);
        s.rule(
            FaultRule::any(Fault::FlipBit)
                .from(pid(2))
                .round(3)
                .times(2),
        );
        let out = s.run();
        assert!(out.outputs.len() <= 1, "{out:?}");
        assert!(!out.failures.is_empty());
        for e in out.failures.values() {
            assert!(is_misbehaviour(e), "{e:?}");
        }
    }
}

#[test]
fn message_for_another_session_is_rejected() {
    let mut s = dkg_sim(2, 3, 13);
    let parties = Parties::range(3).unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(5);
    let poly = Polynomial::<Ed25519>::random(SecretScalar::random(&mut rng), 2, &mut rng).unwrap();
    let other = SessionId([1; 32]);
    let msg = DkgMessage::commit(&other, &parties, 2, pid(2), &poly, &mut rng);
    s.inject(
        pid(1),
        Envelope {
            session: other,
            round: 1,
            sender: pid(2),
            recipient: Recipient::All,
            payload: msg.to_bytes(),
        },
    );
    let out = s.run();
    dkg_ok(out_clone_check(&out), 3);
    assert!(
        out.rejections
            .iter()
            .any(|(p, e)| *p == pid(1) && *e == Error::WrongSession { sender: pid(2) })
    );
}

fn out_clone_check(
    out: &wallet_types::sim::Outcome<wallet_tss::frost::KeyPackage<Ed25519>>,
) -> wallet_types::sim::Outcome<wallet_tss::frost::KeyPackage<Ed25519>> {
    wallet_types::sim::Outcome {
        outputs: out
            .outputs
            .iter()
            .map(|(p, k)| (*p, k.duplicate()))
            .collect(),
        failures: out.failures.clone(),
        stalled: out.stalled.clone(),
        rejections: vec![],
        deliveries: 0,
        late: 0,
        messages_sent: 0,
        bytes_sent: 0,
    }
}

#[test]
fn invalid_parameters() {
    let parties = Parties::range(3).unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(5);
    assert!(
        wallet_tss::frost::dkg::DkgParty::<Ed25519>::new(SID, pid(1), parties.clone(), 1, &mut rng)
            .is_err()
    );
    assert!(
        wallet_tss::frost::dkg::DkgParty::<Ed25519>::new(SID, pid(1), parties.clone(), 4, &mut rng)
            .is_err()
    );
    assert!(
        wallet_tss::frost::dkg::DkgParty::<Ed25519>::new(SID, pid(4), parties, 2, &mut rng)
            .is_err()
    );
}

/// The generic code runs FROST(secp256k1, SHA-256) too: DKG through the simulator, then a
/// 2-of-3 signature checked by the RFC's verification equation.
#[test]
fn secp256k1_dkg_and_signing() {
    use std::collections::BTreeMap;
    use wallet_tss::frost::dkg::DkgParty;
    use wallet_tss::frost::{SigningNonces, SigningPackage, aggregate, sign};
    use wallet_types::Secp256k1;
    use wallet_types::sim::Simulator;

    let parties = Parties::range(3).unwrap();
    let mut s = Simulator::new(31);
    for p in parties.iter() {
        let m = DkgParty::<Secp256k1>::new(SID, p, parties.clone(), 2, s.rng()).unwrap();
        s.add(m);
    }
    s.restore_every_step(true);
    let out = s.run();
    assert!(out.failures.is_empty() && out.outputs.len() == 3, "{out:?}");
    let keys = out.outputs;
    let public = keys[&pid(1)].public().clone();
    assert!(keys.values().all(|k| *k.public() == public));
    assert_eq!(public.group_key_bytes().len(), 33);

    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(3);
    let signers = [pid(2), pid(3)];
    let nonces: Vec<_> = signers
        .iter()
        .map(|p| SigningNonces::new(keys[p].secret_share(), &mut rng))
        .collect();
    let commitments = signers
        .iter()
        .zip(&nonces)
        .map(|(p, n)| (*p, *n.commitments()))
        .collect();
    let package = SigningPackage::new(commitments, b"secp".to_vec()).unwrap();
    let shares: BTreeMap<_, _> = signers
        .iter()
        .zip(nonces)
        .map(|(p, n)| (*p, sign(&package, n, &keys[p]).unwrap()))
        .collect();
    let sig = aggregate(&package, &shares, &public).unwrap();
    assert_eq!(sig.to_bytes().len(), 65);
    assert!(sig.verify(public.group_key().get(), b"secp"));
    assert!(!sig.verify(public.group_key().get(), b"secq"));
    let exported = export_group_secret(&[&keys[&pid(1)], &keys[&pid(3)]]).unwrap();
    assert_eq!(exported.public_key(), *public.group_key().get());
}
