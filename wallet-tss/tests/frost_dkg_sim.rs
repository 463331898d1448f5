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
use wallet_tss::frost::KeyPackage;
use wallet_tss::frost::dkg::{DkgMessage, DkgShare};
use wallet_tss::frost::keys::export_group_secret;
use wallet_types::sim::{Fault, FaultRule};
use wallet_types::{
    Curve, Ed25519, Envelope, Error, Parties, Reason, Recipient, SecretScalar, SessionId,
    Termination, Unconfirmed, WireObject,
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
        // Nobody may be confirmed with an equivocator's key; nobody drops its share either:
        // every honest party declines, naming P2, and keeps its key package.
        assert!(out.failures.is_empty(), "{out:?}");
        assert!(out.outputs.values().all(|o| !o.is_confirmed()), "{out:?}");
        for p in parties.iter().filter(|p| *p != pid(2)) {
            let u = declined(&out, p);
            assert_eq!(u.disagreeing, [pid(2)], "{p}");
        }
    }
}

/// The unconfirmed outcome of `p`, which must not have acknowledged.
fn declined(
    out: &wallet_types::sim::Outcome<Termination<KeyPackage<Ed25519>>>,
    p: wallet_types::PartyId,
) -> &Unconfirmed<KeyPackage<Ed25519>> {
    match out.outputs.get(&p) {
        Some(Termination::Unconfirmed(u)) if !u.acknowledged => u,
        other => panic!("{p}: {other:?}"),
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
    assert!(out.outputs.values().all(|o| !o.is_confirmed()), "{out:?}");
    for p in [1, 2] {
        assert_eq!(declined(&out, pid(p)).disagreeing, [pid(3)]);
    }
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
        // Round 3: a corrupted confirmation makes the DKG fail (an undecodable one at the
        // transport; a decodable one names the sender, or — when the flipped bit sits in
        // another party's digest — the party it appears to accuse; see the module docs), and
        // nobody is confirmed; whoever got that far keeps its key package, unconfirmed.
        let mut s = dkg_sim(2, 3, seed);
        s.rule(
            FaultRule::any(Fault::FlipBit)
                .from(pid(2))
                .round(3)
                .times(2),
        );
        let out = s.run();
        assert!(out.outputs.values().all(|o| !o.is_confirmed()), "{out:?}");
        assert!(out.outputs.len() + out.failures.len() >= 2, "{out:?}");
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
    assert!(
        out.rejections
            .iter()
            .any(|(p, e)| *p == pid(1) && *e == Error::WrongSession { sender: pid(2) })
    );
    dkg_ok(out, 3);
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
    let keys: BTreeMap<_, _> = out
        .outputs
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect();
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

// ------------------------------------------------------------------------------------------
// Termination (docs/invariants.md, invariant 11): a party sends a right last-round message to some
// parties and a wrong one (or none) to others. No honest party may lose its key package; all
// that say Confirmed agree; the key packages held sign.
// ------------------------------------------------------------------------------------------

mod termination {
    use std::collections::BTreeMap;

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_tss::frost::dkg::{DkgMessage, DkgParty};
    use wallet_tss::frost::keys::export_group_secret;
    use wallet_tss::frost::{
        KIND_DKG_MESSAGE, KIND_DKG_STATE, KeyPackage, aggregate, round1, round2,
    };
    use wallet_types::sim::{Fault, FaultRule, Outcome};
    use wallet_types::{
        Acknowledgement, DecodeError, Ed25519, Parties, Protocol, Termination, Unconfirmed,
        WireObject,
    };

    use super::frost_common::{SID, dkg_sim, pid};

    type Run = Outcome<Termination<KeyPackage<Ed25519>>>;

    fn unconfirmed(out: &Run, p: u16) -> &Unconfirmed<KeyPackage<Ed25519>> {
        match out.outputs.get(&pid(p)) {
            Some(Termination::Unconfirmed(u)) => u,
            other => panic!("P{p}: expected unconfirmed, got {other:?}"),
        }
    }

    /// `signers` make a FROST signature that verifies under their group key, and export it.
    fn signs(signers: &[&KeyPackage<Ed25519>], rng: &mut ChaCha20Rng) {
        let mut nonces = BTreeMap::new();
        let mut commitments = BTreeMap::new();
        for k in signers {
            let (mut n, c) = round1::preprocess(k, 1, rng);
            nonces.insert(k.id(), n.remove(0));
            commitments.insert(k.id(), c[0]);
        }
        let package = round2::SigningPackage::new(commitments, b"dkg".to_vec()).unwrap();
        let shares = signers
            .iter()
            .map(|k| {
                let n = nonces.remove(&k.id()).unwrap();
                (k.id(), round2::sign(&package, n, k).unwrap())
            })
            .collect();
        let public = signers[0].public();
        let sig = aggregate::aggregate(&package, &shares, public).unwrap();
        assert!(sig.verify(public.group_key().get(), b"dkg"));
        let exported = export_group_secret(signers).unwrap();
        assert_eq!(exported.public_key(), *public.group_key().get());
    }

    /// Every output holds a key package of one group key; the Confirmed ones agree; any two
    /// held packages sign (2-of-3).
    fn keys_survive(out: &Run, rng: &mut ChaCha20Rng) {
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        let held: Vec<&KeyPackage<Ed25519>> = out.outputs.values().map(|o| o.result()).collect();
        assert_eq!(held.len(), 3);
        assert!(held.iter().all(|k| k.public() == held[0].public()));
        let confirmed: Vec<&[u8; 32]> = out
            .outputs
            .values()
            .filter(|o| o.is_confirmed())
            .map(|o| o.transcript_hash())
            .collect();
        assert!(confirmed.windows(2).all(|w| w[0] == w[1]));
        for w in held.windows(2) {
            signs(w, rng);
        }
    }

    /// P3 confirms a wrong hash to P1 only. P1 declines naming P3 and keeps its key package; P2
    /// acknowledged and ends unconfirmed naming P1 (the decline); nobody is Confirmed, so
    /// nobody may publish the key — yet every key package is held and the key signs. (Before
    /// the fix P1 aborted, dropping its share, while P2 and P3 output the key.)
    #[test]
    fn dkg_confirmation_equivocation_leaves_nobody_confirmed_and_every_share_held() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut s = dkg_sim(2, 3, 41);
        s.rule(
            FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
                if let DkgMessage::Confirm { hash, .. } = m {
                    hash[0] ^= 1;
                }
            }))
            .from(pid(3))
            .to(pid(1))
            .round(3),
        );
        let out = s.run();
        assert!(out.outputs.values().all(|o| !o.is_confirmed()), "{out:?}");
        let p1 = unconfirmed(&out, 1);
        assert!(!p1.acknowledged);
        assert_eq!(p1.disagreeing, [pid(3)]);
        let p2 = unconfirmed(&out, 2);
        assert!(p2.acknowledged);
        assert_eq!(p2.disagreeing, [pid(1)]);
        keys_survive(&out, &mut rng);
    }

    /// P3 acknowledges to P1 and declines to P2. P1 is Confirmed (and may publish the key);
    /// P2 is unconfirmed but acknowledged, names P3 and keeps its package — with P1's it signs
    /// without P3.
    #[test]
    fn dkg_acknowledgement_equivocation_confirms_some_and_the_others_keep_their_shares() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut s = dkg_sim(2, 3, 42);
        s.rule(
            FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
                if let DkgMessage::Acknowledge(a) = m {
                    *a = Acknowledgement::Decline(*a.transcript_hash());
                }
            }))
            .from(pid(3))
            .to(pid(2))
            .round(4),
        );
        let out = s.run();
        assert!(out.outputs[&pid(1)].is_confirmed());
        let p2 = unconfirmed(&out, 2);
        assert!(p2.acknowledged);
        assert_eq!(p2.disagreeing, [pid(3)]);
        assert_eq!(&p2.transcript_hash, out.outputs[&pid(1)].transcript_hash());
        keys_survive(&out, &mut rng);
        signs(&[out.outputs[&pid(1)].result(), &p2.result], &mut rng);
    }

    /// P3 never acknowledges to P2: P2 waits; `stop_waiting` (its timeout) ends it unconfirmed
    /// and acknowledged, with its package, listing the others. A machine that has no package
    /// yet has nothing to keep.
    #[test]
    fn dkg_withheld_acknowledgement_is_ended_by_stop_waiting_with_the_share_kept() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut s = dkg_sim(2, 3, 43);
        s.rule(FaultRule::any(Fault::Drop).from(pid(3)).to(pid(2)).round(4));
        let out = s.run();
        assert_eq!(out.stalled, [pid(2)]);
        assert!(out.outputs[&pid(1)].is_confirmed());
        let stored = s.machine(pid(2)).unwrap().to_secret_bytes();
        let mut p2 = DkgParty::<Ed25519>::from_bytes(stored.expose()).unwrap();
        let (msgs, u) = p2.stop_waiting().unwrap();
        assert!(msgs.is_empty());
        assert!(u.acknowledged);
        assert_eq!(u.disagreeing, [pid(1), pid(3)]);
        signs(&[out.outputs[&pid(1)].result(), &u.result], &mut rng);

        // Before round 2 there is no package: stop_waiting keeps nothing and ends the machine.
        let parties = Parties::range(3).unwrap();
        let mut early = DkgParty::<Ed25519>::new(SID, pid(1), parties, 2, &mut rng).unwrap();
        assert!(early.stop_waiting().is_none(), "not started: unchanged");
        let _ = early.start(&mut rng).unwrap();
        assert!(early.stop_waiting().is_none());
        assert!(early.start(&mut rng).is_err());
    }

    /// A confirmation in the acknowledgement round's envelope (a misbehaviour at the inbox)
    /// after P2 acknowledged: P2 ends unconfirmed naming P3 instead of aborting and dropping a
    /// package P1, Confirmed, relies on.
    #[test]
    fn dkg_misbehaviour_after_acknowledging_does_not_drop_the_share() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut s = dkg_sim(2, 3, 44);
        s.rule(
            FaultRule::any(Fault::tamper_payload(|m: &mut DkgMessage<Ed25519>| {
                *m = DkgMessage::Confirm {
                    digests: vec![[0; 32]; 3],
                    hash: [0; 32],
                };
            }))
            .from(pid(3))
            .to(pid(2))
            .round(4),
        );
        let out = s.run();
        assert!(out.outputs[&pid(1)].is_confirmed());
        let p2 = unconfirmed(&out, 2);
        assert!(p2.acknowledged);
        assert_eq!(p2.disagreeing, [pid(3)]);
        keys_survive(&out, &mut rng);
    }

    /// The DKG formats changed with the fourth round: new kinds, the three-round state refused.
    #[test]
    fn dkg_state_has_a_new_kind() {
        assert_eq!((KIND_DKG_MESSAGE.0, KIND_DKG_STATE.0), (0x0312, 0x0313));
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let parties = Parties::range(3).unwrap();
        let m = DkgParty::<Ed25519>::new(SID, pid(1), parties, 2, &mut rng).unwrap();
        let mut bytes = m.to_secret_bytes().expose().to_vec();
        assert_eq!(&bytes[1..3], &[0x03, 0x13]);
        assert!(DkgParty::<Ed25519>::from_bytes(&bytes).is_ok());
        bytes[2] = 0x11;
        assert!(matches!(
            DkgParty::<Ed25519>::from_bytes(&bytes),
            Err(DecodeError::WrongKind { .. })
        ));
    }
}
