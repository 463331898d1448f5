//! Two-party ECDSA under attack, through the simulator: every check of key generation, the
//! pairwise OT setup, presigning and signing fires, names the counterparty, and — for the checks
//! that protect the reusable OT setup — tells the caller to ban it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod ecdsa_common;

use ecdsa_common::*;
use wallet_tss::ecdsa::{DerivationPath, KeygenMessage, PartialSignature, PresignMessage, Sign};
use wallet_types::sim::{Fault, FaultRule, Simulator};

/// A key's stores, leaked for the length of the test binary (the simulators returned by the
/// helpers below borrow them).
fn leaked_stores(n: u16, seed: u64) -> &'static Stores {
    Box::leak(Box::new(stores(n, seed)))
}
use wallet_types::{Envelope, Error, Reason, Recipient, SessionId, Termination, WireObject};

/// `o` with one bit flipped at the first position `≥ at` where the result still decodes.
fn flipped<T: WireObject>(o: &T, at: usize) -> T {
    let b = o.to_bytes();
    for k in at.min(b.len() - 1)..b.len() {
        let mut c = b.clone();
        c[k] ^= 1;
        if let Ok(x) = T::from_bytes(&c) {
            return x;
        }
    }
    panic!("no decodable flip");
}

fn g() -> k256::ProjectivePoint {
    k256::ProjectivePoint::GENERATOR
}

// ------------------------------------------------------------------------------------------
// Key generation and OT setup
// ------------------------------------------------------------------------------------------

#[test]
fn keygen_tolerates_duplicates_reordering_and_delays() {
    for seed in 0..2 {
        let mut sim = keygen_sim(3, 100 + seed);
        sim.reorder(true);
        sim.rule(FaultRule::any(Fault::Duplicate).times(20));
        sim.rule(FaultRule::any(Fault::Delay).times(10));
        keys_of(sim.run(), 3);
    }
}

#[test]
fn keygen_bad_proof_of_knowledge() {
    let mut sim = keygen_sim(3, 101);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round1(r) = m {
                r.proof_z += k256::Scalar::ONE;
            }
        }))
        .from(pid(2))
        .round(1)
        .times(2),
    );
    let out = sim.run();
    only_blames(&out, 2, Some(Reason::InvalidProof));
    assert_eq!(out.failures.len(), 2);
    assert!(out.outputs.is_empty());
}

#[test]
fn keygen_bad_share() {
    let mut sim = keygen_sim(3, 102);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round2(r) = m {
                let mut s = r.share.to_secret();
                *s.expose_mut() += k256::Scalar::ONE;
                r.share = wallet_tss::ecdsa::keygen::ShareInTransit::new(&s);
            }
        }))
        .from(pid(2))
        .to(pid(1))
        .round(2),
    );
    let out = sim.run();
    only_blames(&out, 2, Some(Reason::InvalidShare));
    assert!(out.outputs.is_empty());
}

#[test]
fn keygen_chain_code_reveal_must_open_the_commitment() {
    let mut sim = keygen_sim(2, 103);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round2(r) = m {
                r.chain_code[5] ^= 0x20;
            }
        }))
        .from(pid(2))
        .round(2),
    );
    let out = sim.run();
    only_blames(&out, 2, Some(Reason::CommitmentMismatch));
}

#[test]
fn keygen_lying_confirmation_and_inconsistent_reveal_are_caught() {
    // P2 tells P3 another chain-code commitment *and* a matching reveal than it told P1: each
    // check P3 runs passes, but the transcripts differ and the confirmation round catches it.
    let mut sim = keygen_sim(3, 104);
    let fake = [0x77u8; 32];
    sim.rule(
        FaultRule::any(Fault::tamper_payload(move |m: &mut KeygenMessage| {
            if let KeygenMessage::Round2(r) = m {
                r.chain_code = fake;
            }
        }))
        .from(pid(2))
        .to(pid(3))
        .round(2),
    );
    // The matching commitment needs the session's transcript; instead, lie in round 3 directly.
    let mut sim2 = keygen_sim(3, 105);
    sim2.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round3(r) = m {
                r.confirmation[0] ^= 1;
            }
        }))
        .from(pid(2))
        .round(3)
        .times(2),
    );
    let out = sim2.run();
    only_blames(&out, 2, Some(Reason::ConfirmationMismatch));
    assert!(out.outputs.is_empty());
    // (and the first variant is caught too, as a commitment mismatch at P3)
    let out = sim.run();
    only_blames(&out, 2, Some(Reason::CommitmentMismatch));
}

#[test]
fn keygen_ot_setup_cheating_is_blamed_and_banned() {
    // Round 4 carries OT message 4 (P2 as Alice → P1 as Bob): a wrong response is a base-OT
    // failure; round 5 carries message 5 (P2 as Bob → P1 as Alice): a wrong opening too.
    for round in [4u16, 5] {
        let mut sim = keygen_sim(2, 106 + u64::from(round));
        sim.rule(
            FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| match m {
                KeygenMessage::Round4(x) => *x = flipped(x, usize::MAX),
                KeygenMessage::Round5(x) => *x = flipped(x, usize::MAX),
                _ => {}
            }))
            .from(pid(2))
            .round(round),
        );
        let out = sim.run();
        only_blames(&out, 2, Some(Reason::BaseOt));
        let e = &out.failures[&pid(1)];
        assert_eq!(e.must_ban(), &[pid(2)], "round {round}: {e:?}");
    }
    // Message 1's proof of knowledge (P2 as Bob → P1 as Alice).
    let mut sim = keygen_sim(2, 110);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round1(r) = m {
                r.ot = flipped(&r.ot, usize::MAX);
            }
        }))
        .from(pid(2))
        .round(1),
    );
    let out = sim.run();
    only_blames(&out, 2, None);
}

#[test]
fn keygen_bit_flips_blame_the_sender() {
    for round in 1..=7u16 {
        for seed in 0..3 {
            let mut sim = keygen_sim(3, 200 + seed * 10 + u64::from(round));
            sim.rule(
                FaultRule::any(Fault::FlipBit)
                    .from(pid(2))
                    .round(round)
                    .times(2),
            );
            let out = sim.run();
            if round <= 5 {
                only_blames(&out, 2, None);
                assert!(
                    out.outputs.len() < 3,
                    "round {round}: a flip went unnoticed"
                );
                continue;
            }
            // From round 6 on the shares exist: a flip that still decodes ends the recipients
            // unconfirmed (keeping their shares) naming P2; one that does not is refused at
            // the transport, blaming P2. No recipient is Confirmed.
            for (p, e) in &out.failures {
                assert_eq!(e.culprits(), &[pid(2)], "{p} blamed {e:?}");
            }
            for p in [1, 3].map(pid) {
                match out.outputs.get(&p) {
                    Some(Termination::Unconfirmed(u)) => {
                        assert_eq!(u.disagreeing, [pid(2)], "round {round}: {p}")
                    }
                    Some(Termination::Confirmed { .. }) => {
                        panic!("round {round}: {p} confirmed a flipped message")
                    }
                    None => assert!(out.failures.contains_key(&p), "round {round}: {p}"),
                }
            }
        }
    }
}

#[test]
fn keygen_replay_from_another_session_is_rejected() {
    let mut first = keygen_sim(2, 120);
    keys_of(first.run(), 2);
    let captured = first.sent().to_vec();
    let mut second = keygen_sim(2, 121);
    for env in &captured {
        if let Recipient::One(to) = env.recipient {
            second.inject(to, env.clone());
        }
    }
    let out = second.run();
    keys_of(out, 2);
}

#[test]
fn keygen_message_of_the_wrong_round_is_malformed() {
    let mut first = keygen_sim(2, 122);
    let _ = first.run();
    // P2's round-2 message for P1, delivered in a round-1 envelope of the second run.
    let env2 = first
        .sent()
        .iter()
        .find(|e| e.round == 2 && e.sender == pid(2))
        .unwrap()
        .clone();
    let mut sim = keygen_sim(2, 122);
    sim.inject(pid(1), Envelope { round: 1, ..env2 });
    let out = sim.run();
    assert_eq!(
        out.failures.get(&pid(1)),
        Some(&Error::blame(pid(2), Reason::MalformedMessage))
    );
}

// ------------------------------------------------------------------------------------------
// Presign
// ------------------------------------------------------------------------------------------

fn presign_attack(
    seed: u64,
    round: u16,
    f: impl FnMut(&mut PresignMessage) + 'static,
) -> wallet_types::sim::Outcome<wallet_tss::ecdsa::PresignatureInfo> {
    let stores = leaked_stores(3, seed);
    let mut sim = presign_sim(stores, 1, 2, &DerivationPath::parse("m/5").unwrap(), seed);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(f))
            .from(pid(2))
            .to(pid(1))
            .round(round),
    );
    sim.run()
}

#[test]
fn presign_instance_point_must_open_the_commitment() {
    let out = presign_attack(300, 2, |m| {
        if let PresignMessage::Round2(r) = m {
            r.instance_point += g();
        }
    });
    only_blames(&out, 2, Some(Reason::CommitmentMismatch));
    assert!(out.failures[&pid(1)].must_ban().is_empty());
    let out = presign_attack(301, 2, |m| {
        if let PresignMessage::Round2(r) = m {
            r.salt[0] ^= 1;
        }
    });
    only_blames(&out, 2, Some(Reason::CommitmentMismatch));
}

#[test]
fn presign_gamma_checks_fire_and_ban() {
    let out = presign_attack(302, 2, |m| {
        if let PresignMessage::Round2(r) = m {
            r.gamma_u += g();
        }
    });
    only_blames(&out, 2, Some(Reason::MultiplicationCheck));
    assert_eq!(out.failures[&pid(1)].must_ban(), &[pid(2)]);
    let out = presign_attack(303, 2, |m| {
        if let PresignMessage::Round2(r) = m {
            r.gamma_v += g();
        }
    });
    only_blames(&out, 2, Some(Reason::MultiplicationCheck));
    assert_eq!(out.failures[&pid(1)].must_ban(), &[pid(2)]);
}

#[test]
fn presign_gamma_errors_that_cancel_in_a_plain_sum_are_caught() {
    // The two Γ checks are batched with a fresh secret random weight (presign module docs).
    // Errors E_u = −k·G, E_v = G cancel for the fixed weight k (k = 1: the plain sum of the
    // two equations); with a random weight they must still fail and name the sender.
    for (seed, k) in [(308u64, 1u64), (309, 2), (310, 3)] {
        let out = presign_attack(seed, 2, move |m| {
            if let PresignMessage::Round2(r) = m {
                let e = g() * k256::Scalar::from(k);
                r.gamma_u += e;
                r.gamma_v -= g();
            }
        });
        only_blames(&out, 2, Some(Reason::MultiplicationCheck));
        assert_eq!(out.failures[&pid(1)].must_ban(), &[pid(2)]);
    }
}

#[test]
fn presign_ot_extension_check_fires_and_bans() {
    // P2 as Bob sends a corrupted extension message: P1 (Alice) runs the SoftSpokenOT consistency
    // check, which fails: ban.
    let out = presign_attack(304, 1, |m| {
        if let PresignMessage::Round1(r) = m {
            r.mul = flipped(&r.mul, 4 + 64 + 40);
        }
    });
    only_blames(&out, 2, Some(Reason::OtConsistency));
    assert_eq!(out.failures[&pid(1)].must_ban(), &[pid(2)]);
}

#[test]
fn presign_vole_check_fires_and_bans() {
    // P2 as Alice sends a corrupted correction vector: P1 (Bob) runs the multiplication check.
    let out = presign_attack(305, 2, |m| {
        if let PresignMessage::Round2(r) = m {
            // The last byte of τ_{0,0} (after header, session, digest echo, salt, ℓ).
            r.mul = flipped(&r.mul, 4 + 32 + 32 + 32 + 1 + 31);
        }
    });
    only_blames(&out, 2, Some(Reason::MultiplicationCheck));
    assert_eq!(out.failures[&pid(1)].must_ban(), &[pid(2)]);
}

#[test]
fn presign_bit_flips_blame_the_sender() {
    for round in 1..=2u16 {
        for seed in 0..4 {
            // A fresh key per run: a failed check may ban the pairing.
            let stores = stores(2, 306 + seed * 3 + u64::from(round));
            let mut sim = presign_sim(
                &stores,
                1,
                2,
                &DerivationPath::root(),
                seed * 3 + u64::from(round),
            );
            sim.rule(FaultRule::any(Fault::FlipBit).from(pid(2)).round(round));
            let out = sim.run();
            only_blames(&out, 2, None);
            assert!(out.outputs.len() < 2);
        }
    }
}

#[test]
fn presign_replayed_messages_of_another_session_are_rejected() {
    let stores = stores(2, 307);
    let mut first = presign_sim(&stores, 1, 2, &DerivationPath::root(), 1);
    let first_info = info_of(first.run());
    let captured = first.sent().to_vec();
    let mut second = presign_sim(&stores, 1, 2, &DerivationPath::root(), 2);
    for env in &captured {
        if let Recipient::One(to) = env.recipient {
            second.inject(to, env.clone());
        }
    }
    let out = second.run();
    let info = info_of(out);
    assert_ne!(info.id, first_info.id);
    assert!(stores[&pid(1)].banned().unwrap().is_empty());
}

#[test]
fn presign_parameters_are_checked() {
    let stores = stores(2, 308);
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    let k = &stores[&pid(1)];
    let s = SessionId([1; 32]);
    for other in [pid(1), pid(3)] {
        assert!(matches!(
            wallet_tss::ecdsa::Presign::new(k, other, DerivationPath::root(), s, &mut rng),
            Err(Error::Params(_))
        ));
    }
}

// ------------------------------------------------------------------------------------------
// Sign
// ------------------------------------------------------------------------------------------

fn sign_sim(seed: u64) -> Simulator<SignOn<'static>> {
    let stores = leaked_stores(2, seed);
    let info = presign(stores, 1, 2, &DerivationPath::root(), seed);
    let mut sim = sign_simulator(seed);
    for p in [1, 2] {
        sim.add(Sign::new(&stores[&pid(p)], info.clone(), [0x42; 32]).unwrap());
    }
    sim
}

#[test]
fn sign_bad_partial_blames_the_counterparty() {
    let mut sim = sign_sim(400);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut PartialSignature| {
            m.w += k256::Scalar::ONE;
        }))
        .from(pid(2)),
    );
    let out = sim.run();
    assert_eq!(
        out.failures.get(&pid(1)),
        Some(&Error::blame(pid(2), Reason::InvalidSignatureShare))
    );
    // P2 received P1's honest partial and finished.
    assert!(out.outputs.contains_key(&pid(2)));
}

#[test]
fn sign_partial_for_another_presignature_is_refused() {
    let mut sim = sign_sim(401);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut PartialSignature| {
            m.presignature_id[0] ^= 1;
        }))
        .from(pid(2)),
    );
    let out = sim.run();
    assert_eq!(
        out.failures.get(&pid(1)),
        Some(&Error::blame(pid(2), Reason::MalformedMessage))
    );
    // Another presignature's whole envelope: a wrong session, rejected without state change.
    let mut sim = sign_sim(402);
    sim.rule(FaultRule::any(Fault::WrongSession(SessionId([9; 32]))).from(pid(2)));
    let out = sim.run();
    assert!(out.stalled.contains(&pid(1)));
    assert!(
        out.rejections
            .iter()
            .any(|(p, e)| *p == pid(1) && matches!(e, Error::WrongSession { .. }))
    );
}

#[test]
fn keygen_equivocating_dealer_makes_everyone_abort() {
    // P2 shows P3 other Feldman commitments than P1 (C₁ + G) with a share that matches them
    // (f(3) + 3): every local check passes at P3, yet the views differ. The confirmation round
    // catches it: nobody outputs a key. Who to blame is ambiguous by nature (P3 cannot tell
    // whether P1 or P2 lied about the transcript), so each party names those whose hash
    // differs from its own.
    let mut sim = keygen_sim(3, 130);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round1(r) = m {
                r.commitments[1] += g();
            }
        }))
        .from(pid(2))
        .to(pid(3))
        .round(1),
    );
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round2(r) = m {
                let mut s = r.share.to_secret();
                *s.expose_mut() += k256::Scalar::from(3u64);
                r.share = wallet_tss::ecdsa::keygen::ShareInTransit::new(&s);
            }
        }))
        .from(pid(2))
        .to(pid(3))
        .round(2),
    );
    let out = sim.run();
    assert!(
        out.outputs.is_empty(),
        "a key was output despite equivocation"
    );
    assert_eq!(out.failures.len(), 3);
    for e in out.failures.values() {
        assert_eq!(e.reason(), Some(Reason::ConfirmationMismatch));
    }
    // P3 saw the odd view: both others disagree with it.
    assert_eq!(out.failures[&pid(3)].culprits(), &[pid(1), pid(2)]);
}

#[test]
fn a_ban_ends_the_pairing_and_survives_storage() {
    let stores = stores(3, 309);
    let mut sim = presign_sim(&stores, 1, 2, &DerivationPath::root(), 309);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut PresignMessage| {
            if let PresignMessage::Round1(r) = m {
                r.mul = flipped(&r.mul, 4 + 64 + 40);
            }
        }))
        .from(pid(2))
        .to(pid(1)),
    );
    let out = sim.run();
    let e = &out.failures[&pid(1)];
    assert_eq!(e.must_ban(), &[pid(2)]);
    // The machine recorded the ban in its store itself, before returning the error.
    let me = &stores[&pid(1)];
    assert_eq!(me.banned().unwrap(), vec![pid(2)]);
    // The ban is part of the stored share.
    let stored =
        wallet_tss::ecdsa::KeyShare::from_bytes(me.encode_key().unwrap().expose()).unwrap();
    assert_eq!(stored.banned().collect::<Vec<_>>(), vec![pid(2)]);
    assert_eq!(stored.paired().collect::<Vec<_>>(), vec![pid(3)]);
    let restored = wallet_tss::ecdsa::MemoryKeyStore::new(stored);
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    for store in [me, &restored] {
        assert_eq!(
            wallet_tss::ecdsa::Presign::new(
                store,
                pid(2),
                DerivationPath::root(),
                SessionId([5; 32]),
                &mut rng
            )
            .unwrap_err(),
            Error::Banned { party: pid(2) }
        );
    }
    // Signing with the third party still works.
    let info = presign(&stores, 1, 3, &DerivationPath::root(), 310);
    sign_both(&stores, &info, &[1u8; 32]);
}

#[test]
fn presign_multiplication_of_another_length_is_malformed_not_internal() {
    // P2 as Alice answers with ℓ = 3 where the presign multiplication has ℓ = 2 (τ widened by a
    // zero column). P1 fixed ℓ in its round 1: blame P2 (no ban: nothing that depends on P1's
    // choice bits was computed), never an internal error.
    let out = presign_attack(311, 2, |m| {
        if let PresignMessage::Round2(r) = m {
            let b = r.mul.to_bytes();
            let tau = 4 + 32 + 32 + 32 + 1;
            assert_eq!(b[tau - 1], 2);
            let mut wide = b[..tau].to_vec();
            wide[tau - 1] = 3;
            for row in b[tau..b.len() - 64].chunks_exact(3 * 32) {
                wide.extend_from_slice(row);
                wide.extend_from_slice(&[0u8; 32]);
            }
            wide.extend_from_slice(&b[b.len() - 64..]);
            r.mul = wallet_tss::mul::MulMsg2::from_bytes(&wide).unwrap();
        }
    });
    only_blames(&out, 2, Some(Reason::MalformedMessage));
    assert!(out.failures[&pid(1)].must_ban().is_empty());
}

#[test]
fn presign_answer_to_a_first_message_sent_before_a_restart_is_stale() {
    // P1 is restored from a snapshot taken before `start` after it sent its round 1, and starts
    // again (a new first multiplication message). P2's answer to the old one is a rejection
    // that blames nobody, and P1's machine does not abort.
    use rand_core::SeedableRng;
    use wallet_tss::ecdsa::Presign;
    use wallet_types::{Protocol, Step};
    fn sent(
        step: Step<PresignMessage, wallet_tss::ecdsa::PresignatureInfo>,
    ) -> Envelope<PresignMessage> {
        match step {
            Step::Continue(mut out) if out.len() == 1 => out.remove(0),
            _ => panic!("expected one message"),
        }
    }
    let stores = stores(2, 312);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(312);
    let session = SessionId([0x31; 32]);
    let path = DerivationPath::parse("m/7").unwrap();
    let mut p1 = Presign::new(&stores[&pid(1)], pid(2), path.clone(), session, &mut rng).unwrap();
    let mut p2 = Presign::new(&stores[&pid(2)], pid(1), path, session, &mut rng).unwrap();
    let snapshot = p1.save();
    let old = sent(p1.start(&mut rng).unwrap());
    let mut p1 = Presign::restore(&stores[&pid(1)], snapshot.expose()).unwrap();
    let _new = sent(p1.start(&mut rng).unwrap());
    let p2_round1 = sent(p2.start(&mut rng).unwrap());
    let p2_round2 = sent(p2.handle(old, &mut rng).unwrap());
    let _p1_round2 = sent(p1.handle(p2_round1, &mut rng).unwrap());
    let err = p1.handle(p2_round2, &mut rng).unwrap_err();
    assert_eq!(err, Error::StaleAnswer { sender: pid(2) });
    assert!(err.must_ban().is_empty() && err.culprits().is_empty());
    // Still running (state tag 1 after the header and `me`), not aborted, and the
    // multiplication state is still there (an embedded object of kind 0x0368).
    let state = p1.save();
    assert_eq!(state.expose()[4 + 2], 1);
    assert!(state.expose().windows(4).any(|w| w == [1, 0x03, 0x68, 1]));
}
