//! The retried confirmation ([`wallet_types::reconfirm`]) through the simulator.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use wallet_types::reconfirm::{Reconfirm, ReconfirmMessage};
use wallet_types::sim::{Fault, FaultRule, Simulator};
use wallet_types::{
    Acknowledgement, DecodeError, Parties, PartyId, SessionId, Termination, Unconfirmed, WireObject,
};

const H: [u8; 32] = [0x5a; 32];

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

fn sim(n: u16, seed: u64) -> Simulator<Reconfirm> {
    let parties = Parties::range(n).unwrap();
    let mut s = Simulator::new(seed);
    for p in parties.iter() {
        s.add(Reconfirm::new(SessionId([1; 32]), p, parties.clone(), H).unwrap());
    }
    s
}

fn unconfirmed(t: &Termination<()>) -> &Unconfirmed<()> {
    match t {
        Termination::Unconfirmed(u) => u,
        Termination::Confirmed { .. } => panic!("confirmed"),
    }
}

#[test]
fn honest_run_confirms_everybody_and_survives_restores() {
    let mut s = sim(3, 1);
    s.restore_every_step(true).reorder(true);
    let out = s.run();
    assert!(out.all_done(3));
    for t in out.outputs.values() {
        assert!(t.is_confirmed());
        assert_eq!(t.transcript_hash(), &H);
    }
    let kept = Unconfirmed::new(7u8, H, false, vec![pid(3)]);
    assert!(kept.settle(&out.outputs[&pid(1)]).is_confirmed());
}

/// P3 confirms another hash to P1 only: P1 declines naming P3; P2 acknowledged but gets P1's
/// decline; nobody is confirmed, and only P1 knows that it did not acknowledge.
#[test]
fn a_confirmation_equivocation_leaves_nobody_confirmed() {
    let mut s = sim(3, 2);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut ReconfirmMessage| {
            *m = ReconfirmMessage::Confirm([0; 32]);
        }))
        .from(pid(3))
        .to(pid(1))
        .round(1),
    );
    let out = s.run();
    assert!(out.failures.is_empty());
    let p1 = unconfirmed(&out.outputs[&pid(1)]);
    assert!(!p1.acknowledged);
    assert_eq!(p1.disagreeing, [pid(3)]);
    let p2 = unconfirmed(&out.outputs[&pid(2)]);
    assert!(p2.acknowledged);
    assert_eq!(p2.disagreeing, [pid(1)]);
    assert!(out.outputs.values().all(|t| !t.is_confirmed()));
}

/// P3 acknowledges to P1 and declines to P2: P1 is confirmed, P2 is unconfirmed but
/// acknowledged (it must keep the result), naming P3.
#[test]
fn an_acknowledgement_equivocation_splits_confirmed_and_acknowledged() {
    let mut s = sim(3, 3);
    s.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut ReconfirmMessage| {
            *m = ReconfirmMessage::Acknowledge(Acknowledgement::Decline(H));
        }))
        .from(pid(3))
        .to(pid(2))
        .round(2),
    );
    let out = s.run();
    assert!(out.outputs[&pid(1)].is_confirmed());
    let p2 = unconfirmed(&out.outputs[&pid(2)]);
    assert!(p2.acknowledged);
    assert_eq!(p2.disagreeing, [pid(3)]);
}

#[test]
fn a_silent_party_is_ended_by_stop_waiting() {
    let mut s = sim(3, 4);
    s.rule(FaultRule::any(Fault::Drop).from(pid(3)).to(pid(1)).round(2));
    let out = s.run();
    assert_eq!(out.stalled, [pid(1)]);
    let mut m = Reconfirm::new(SessionId([1; 32]), pid(1), Parties::range(3).unwrap(), H).unwrap();
    // Not started: nothing to end.
    assert!(m.stop_waiting().is_none());
}

#[test]
fn message_encoding_is_frozen_and_the_old_kinds_are_refused() {
    let ack = ReconfirmMessage::Acknowledge(Acknowledgement::Ack([0x11; 32]));
    let bytes = ack.to_bytes();
    let mut expected = vec![0x01, 0x01, 0x05, 0x00, 0x02, 0x01];
    expected.extend([0x11; 32]);
    assert_eq!(bytes, expected);
    assert_eq!(ReconfirmMessage::from_bytes(&bytes).unwrap(), ack);
    let mut other = bytes.clone();
    other[2] = 0x02;
    assert!(matches!(
        ReconfirmMessage::from_bytes(&other),
        Err(DecodeError::WrongKind { .. })
    ));
}
