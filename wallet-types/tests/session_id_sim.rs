//! The session-id agreement through the simulator under every fault hook.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use wallet_types::session_id::{SessionIdAgreement, SessionIdMessage};
use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
use wallet_types::{
    Envelope, Error, ErrorKind, Parties, PartyId, Protocol, Reason, Recipient, SessionId,
    WireObject,
};

const CTX: SessionId = SessionId([0x42; 32]);

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

fn sim(n: u16, seed: u64) -> Simulator<SessionIdAgreement> {
    let parties = Parties::range(n).unwrap();
    let mut s = Simulator::new(seed);
    for p in parties.iter() {
        let m = SessionIdAgreement::new(CTX, p, parties.clone(), s.rng()).unwrap();
        s.add(m);
    }
    s
}

fn agreed(out: &Outcome<SessionId>, n: usize) -> SessionId {
    assert!(out.failures.is_empty(), "failures: {:?}", out.failures);
    assert_eq!(out.outputs.len(), n, "stalled: {:?}", out.stalled);
    let first = *out.outputs.values().next().unwrap();
    assert!(out.outputs.values().all(|s| *s == first));
    first
}

/// Every failure names exactly `culprit`, and no party produced an output that differs from
/// another's.
fn only_blames(out: &Outcome<SessionId>, culprit: u16) {
    assert!(!out.failures.is_empty(), "nobody noticed: {out:?}");
    for (p, e) in &out.failures {
        assert_ne!(
            p.get(),
            culprit,
            "the culprit's own machine is not under test"
        );
        assert_eq!(e.culprits(), &[pid(culprit)], "{p} blamed {e:?}");
    }
    let mut outs = out.outputs.values();
    if let Some(first) = outs.next() {
        assert!(outs.all(|s| s == first));
    }
}

#[test]
fn clean_runs_agree_and_are_fresh() {
    let mut seen = std::collections::BTreeSet::new();
    for n in 2..=5u16 {
        for seed in 0..3 {
            let out = sim(n, seed).run();
            let sid = agreed(&out, n as usize);
            assert!(seen.insert(sid), "session ids must differ across runs");
            assert_eq!(out.messages_sent, 3 * n as usize);
        }
    }
}

#[test]
fn deterministic_under_seed() {
    let a = agreed(&sim(3, 9).run(), 3);
    let b = agreed(&sim(3, 9).run(), 3);
    assert_eq!(a, b);
}

#[test]
fn duplicates_are_ignored() {
    let mut s = sim(4, 1);
    s.rule(FaultRule::any(Fault::Duplicate).times(50));
    let out = s.run();
    agreed(&out, 4);
    assert!(
        out.rejections
            .iter()
            .all(|(_, e)| e.kind() == ErrorKind::Rejected)
    );
}

#[test]
fn reordering_and_delays_are_tolerated() {
    for seed in 0..10 {
        let mut s = sim(4, seed);
        s.reorder(true);
        s.rule(FaultRule::any(Fault::Delay).times(6));
        agreed(&s.run(), 4);
    }
}

#[test]
fn a_dropped_message_stalls_without_wrong_output() {
    let mut s = sim(3, 2);
    s.rule(FaultRule::any(Fault::Drop).from(pid(2)).to(pid(3)).round(2));
    let out = s.run();
    // P3 cannot compute the id, so never confirms, so nobody finishes: no output at all rather
    // than outputs that could differ.
    assert_eq!(out.stalled, vec![pid(1), pid(2), pid(3)]);
    assert!(out.outputs.is_empty());
    assert!(out.failures.is_empty());
}

#[test]
fn crash_and_restore_at_every_step_changes_nothing() {
    let clean = agreed(&sim(3, 5).run(), 3);
    let mut s = sim(3, 5);
    s.restore_every_step(true);
    assert_eq!(agreed(&s.run(), 3), clean);
    for p in 1..=3 {
        for after in 1..=6 {
            let mut s = sim(3, 5);
            s.crash_after(pid(p), after);
            assert_eq!(agreed(&s.run(), 3), clean);
        }
    }
}

#[test]
fn bit_flips_blame_the_sender() {
    for seed in 0..20 {
        for round in 1..=3 {
            let mut s = sim(3, seed);
            s.rule(
                FaultRule::any(Fault::FlipBit)
                    .from(pid(2))
                    .round(round)
                    .times(2),
            );
            only_blames(&s.run(), 2);
        }
    }
}

#[test]
fn a_wrong_reveal_is_a_commitment_mismatch() {
    let mut s = sim(3, 3);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut SessionIdMessage| {
            if let SessionIdMessage::Reveal(r) = m {
                r[31] ^= 0x80;
            }
        }))
        .from(pid(3))
        .round(2)
        .times(2),
    );
    let out = s.run();
    only_blames(&out, 3);
    for e in out.failures.values() {
        assert_eq!(e.reason(), Some(Reason::CommitmentMismatch));
    }
}

#[test]
fn a_lying_confirmation_is_caught() {
    let mut s = sim(3, 4);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut SessionIdMessage| {
            if let SessionIdMessage::Confirm(c) = m {
                c[0] ^= 1;
            }
        }))
        .from(pid(1))
        .round(3)
        .times(1),
    );
    let out = s.run();
    let (victim, e) = out.failures.iter().next().unwrap();
    assert_ne!(*victim, pid(1));
    assert_eq!(e, &Error::blame(pid(1), Reason::ConfirmationMismatch));
    assert_eq!(out.failures.len(), 1);
}

#[test]
fn equivocation_is_blamed() {
    let mut s = sim(3, 6);
    // P1 first receives a forged-looking "other" commitment from P2 (as if P2 sent two
    // different round-1 messages), then P2's real one.
    s.inject(
        pid(1),
        Envelope {
            session: CTX,
            round: 1,
            sender: pid(2),
            recipient: Recipient::All,
            payload: SessionIdMessage::Commit([9; 32]).to_bytes(),
        },
    );
    let out = s.run();
    assert_eq!(
        out.failures.get(&pid(1)),
        Some(&Error::blame(pid(2), Reason::Equivocation))
    );
}

#[test]
fn message_of_the_wrong_round_is_malformed() {
    let mut s = sim(3, 6);
    s.inject(
        pid(1),
        Envelope {
            session: CTX,
            round: 1,
            sender: pid(3),
            recipient: Recipient::All,
            payload: SessionIdMessage::Reveal([1; 32]).to_bytes(),
        },
    );
    let out = s.run();
    assert_eq!(
        out.failures.get(&pid(1)),
        Some(&Error::blame(pid(3), Reason::MalformedMessage))
    );
}

#[test]
fn unknown_sender_and_wrong_session_are_rejected_without_state_change() {
    let mut s = sim(3, 7);
    // A copy relabelled with an unknown sender, then the real message still arrives (Duplicate
    // keeps the original alive): nothing breaks.
    s.inject(
        pid(1),
        Envelope {
            session: CTX,
            round: 1,
            sender: pid(9),
            recipient: Recipient::All,
            payload: SessionIdMessage::Commit([1; 32]).to_bytes(),
        },
    );
    s.inject(
        pid(2),
        Envelope {
            session: SessionId([0; 32]),
            round: 1,
            sender: pid(3),
            recipient: Recipient::All,
            payload: SessionIdMessage::Commit([1; 32]).to_bytes(),
        },
    );
    s.inject(
        pid(3),
        Envelope {
            session: CTX,
            round: 7,
            sender: pid(1),
            recipient: Recipient::All,
            payload: SessionIdMessage::Commit([1; 32]).to_bytes(),
        },
    );
    let out = s.run();
    agreed(&out, 3);
    let rej: Vec<_> = out
        .rejections
        .iter()
        .map(|(p, e)| (p.get(), e.clone()))
        .collect();
    assert!(rej.contains(&(1, Error::UnknownSender { sender: pid(9) })));
    assert!(rej.contains(&(2, Error::WrongSession { sender: pid(3) })));
    assert!(rej.contains(&(
        3,
        Error::UnexpectedMessage {
            sender: pid(1),
            round: 7
        }
    )));
}

#[test]
fn replay_from_another_session_is_rejected() {
    // Run one agreement, then replay all its messages into a second one with another context.
    let mut first = sim(3, 8);
    agreed(&first.run(), 3);
    let captured = first.sent().to_vec();
    let parties = Parties::range(3).unwrap();
    let mut second = Simulator::new(8);
    for p in parties.iter() {
        let m = SessionIdAgreement::new(SessionId([0x43; 32]), p, parties.clone(), second.rng())
            .unwrap();
        second.add(m);
    }
    for env in &captured {
        for p in parties.iter().filter(|p| *p != env.sender) {
            second.inject(p, env.clone());
        }
    }
    let out = second.run();
    agreed(&out, 3);
    assert_eq!(out.rejections.len(), captured.len() * 2);
    assert!(
        out.rejections
            .iter()
            .all(|(_, e)| matches!(e, Error::WrongSession { .. }))
    );
}

#[test]
fn wrong_sender_label_is_rejected_or_blamed_never_accepted() {
    // The transport claims P1's message came from P1 itself at P1... i.e. a message whose
    // sender is the recipient: rejected.
    let mut s = sim(3, 10);
    s.rule(
        FaultRule::any(Fault::WrongSender(pid(3)))
            .from(pid(1))
            .to(pid(3))
            .round(1),
    );
    let out = s.run();
    assert!(
        out.rejections
            .iter()
            .any(|(p, e)| *p == pid(3) && *e == Error::UnknownSender { sender: pid(3) })
    );
    // P3 never received P1's real commitment: it stalls rather than finishing wrongly.
    assert!(out.stalled.contains(&pid(3)));
}

#[test]
fn aborted_machine_refuses_further_calls() {
    let parties = Parties::range(2).unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    let mut m = SessionIdAgreement::new(CTX, pid(1), parties, &mut rng).unwrap();
    assert_eq!(
        m.handle(
            Envelope {
                session: CTX,
                round: 1,
                sender: pid(2),
                recipient: Recipient::All,
                payload: SessionIdMessage::Commit([0; 32]),
            },
            &mut rng
        )
        .unwrap_err(),
        Error::NotStarted
    );
    let _ = m.start(&mut rng).unwrap();
    let bad = Envelope {
        session: CTX,
        round: 1,
        sender: pid(2),
        recipient: Recipient::All,
        payload: SessionIdMessage::Confirm([0; 32]),
    };
    assert_eq!(
        m.handle(bad.clone(), &mut rng).unwrap_err(),
        Error::blame(pid(2), Reason::MalformedMessage)
    );
    assert_eq!(m.handle(bad, &mut rng).unwrap_err(), Error::Aborted);
    assert_eq!(m.start(&mut rng).unwrap_err(), Error::Aborted);
    // The aborted machine's state holds no secret any more.
    let bytes = m.to_secret_bytes();
    assert_eq!(bytes.len(), wallet_types::HEADER_LEN + 3);
}
