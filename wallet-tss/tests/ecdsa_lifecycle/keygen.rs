//! ECDSA key generation ends unanimously: no party outputs a `KeyShare` unless every other party
//! confirmed (round 6) that all of its pairwise OT setups completed, and no party is Confirmed
//! unless every other party acknowledged (round 7) those confirmations; a last-round failure
//! leaves the share kept, unconfirmed (docs/invariants.md, invariant 11).
//!
//! A module file: included with `#[path = "ecdsa_lifecycle/keygen.rs"] mod keygen;` from a test
//! crate that also declares `mod ecdsa_common;`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use crate::ecdsa_common::{keygen_sim, pid, presign, sign_both, stores_of};
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use wallet_tss::ecdsa::{DerivationPath, KeyShare, Keygen, KeygenMessage};
use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
use wallet_types::{
    Acknowledgement, DecodeError, Parties, PartyId, Protocol, Reason, SessionId, Step, Termination,
    Unconfirmed, WireObject,
};

type Run = Outcome<Termination<KeyShare>>;

/// `o` re-decoded after flipping one bit of its last byte (an OT opening of message 5: the
/// result still decodes, but the opening no longer matches the commitment).
fn with_last_bit_flipped<T: WireObject>(o: &T) -> T {
    let mut b = o.to_bytes();
    let last = b.len() - 1;
    b[last] ^= 1;
    T::from_bytes(&b).expect("a flipped opening still decodes")
}

/// Those who output (confirmed or not) agree on everything public, all Confirmed outputs on the
/// transcript hash, and each output is complete: a pairing with every other party (nobody holds
/// a share listing a pairing its counterparty lacks unless that counterparty confirmed).
fn outputs_agree(out: &Run, n: usize) {
    let mut it = out.outputs.values().map(|o| o.result());
    if let Some(first) = it.next() {
        for k in it {
            assert_eq!(k.key_id(), first.key_id());
            assert_eq!(k.public_key(), first.public_key());
            assert_eq!(k.chain_code(), first.chain_code());
        }
    }
    for k in out.outputs.values().map(|o| o.result()) {
        assert_eq!(k.paired().count(), n - 1, "{:?} lacks a pairing", k.me());
    }
    let confirmed: Vec<&[u8; 32]> = out
        .outputs
        .values()
        .filter(|o| o.is_confirmed())
        .map(|o| o.transcript_hash())
        .collect();
    assert!(confirmed.windows(2).all(|w| w[0] == w[1]));
}

fn unconfirmed(out: &Run, p: u16) -> &Unconfirmed<KeyShare> {
    match out.outputs.get(&pid(p)) {
        Some(Termination::Unconfirmed(u)) => u,
        other => panic!("P{p}: expected unconfirmed, got {other:?}"),
    }
}

/// The waiting machine of `p`, restored from its stored state, ended by the caller's timeout.
fn stopped(sim: &Simulator<Keygen>, p: u16) -> Unconfirmed<KeyShare> {
    let stored = sim.machine(pid(p)).unwrap().to_secret_bytes();
    let mut m = Keygen::from_bytes(stored.expose()).unwrap();
    let (_, u) = m.stop_waiting().unwrap();
    u
}

/// Every pair of the given key shares presigns and signs a hash that verifies under the key.
fn pairs_sign(keys: Vec<KeyShare>, seed: u64) {
    let ids: Vec<PartyId> = keys.iter().map(|k| k.me()).collect();
    let stores = stores_of(
        keys.into_iter()
            .map(|k| (k.me(), k))
            .collect::<BTreeMap<_, _>>(),
    );
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            let info = presign(&stores, a.get(), b.get(), &DerivationPath::root(), seed);
            let hash = [0x5a; 32];
            let (sig, _) = sign_both(&stores, &info, &hash);
            info.verifying_key()
                .unwrap()
                .verify_prehash(&hash, &sig)
                .unwrap();
        }
    }
}

/// Runs key generation among `n` parties with OT message 5 from `from` to `to` corrupted.
fn corrupted_message5(n: u16, from: u16, to: u16, seed: u64) -> Run {
    let mut sim = keygen_sim(n, seed);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round5(x) = m {
                *x = with_last_bit_flipped(x);
            }
        }))
        .from(pid(from))
        .to(pid(to))
        .round(5),
    );
    sim.run()
}

fn assert_nobody_outputs_and_culprit_named(out: &Run, n: u16, from: u16, to: u16) {
    assert!(
        out.outputs.is_empty(),
        "P{from} → P{to}: a key share was output although P{to}'s setup failed: {:?}",
        out.outputs.keys().collect::<Vec<_>>()
    );
    outputs_agree(out, n as usize);
    // The victim aborts naming the corrupting sender; a failed base OT bans it.
    let e = out.failures.get(&pid(to)).expect("the victim aborts");
    assert_eq!(e.culprits(), &[pid(from)], "P{to}: {e:?}");
    assert_eq!(e.reason(), Some(Reason::BaseOt), "P{to}: {e:?}");
    assert_eq!(e.must_ban(), &[pid(from)]);
    // Every honest party that failed names the sender; the others wait in round 6.
    for (p, e) in &out.failures {
        if p.get() != from {
            assert_eq!(e.culprits(), &[pid(from)], "{p}: {e:?}");
        }
    }
    for p in 1..=n {
        if p != to {
            assert!(
                out.stalled.contains(&pid(p)),
                "P{p} neither output nor waits: {out:?}"
            );
        }
    }
}

#[test]
fn keygen_2of2_corrupted_ot_message5_no_party_outputs() {
    for (from, to, seed) in [(2u16, 1u16, 600u64), (1, 2, 601)] {
        let out = corrupted_message5(2, from, to, seed);
        assert_nobody_outputs_and_culprit_named(&out, 2, from, to);
    }
}

#[test]
fn keygen_2of3_corrupted_ot_message5_no_party_outputs() {
    for (from, to, seed) in [(2u16, 1u16, 610u64), (3, 2, 611), (1, 3, 612)] {
        let out = corrupted_message5(3, from, to, seed);
        assert_nobody_outputs_and_culprit_named(&out, 3, from, to);
    }
}

/// P2 sends P1 (only) a wrong round-6 confirmation.
fn equivocating_confirmation(n: u16, seed: u64) -> Run {
    let mut sim = keygen_sim(n, seed);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round6(c) = m {
                c[7] ^= 0x40;
            }
        }))
        .from(pid(2))
        .to(pid(1))
        .round(6),
    );
    sim.run()
}

/// The round-6 equivocation: P1 declines naming P2 and keeps its share (the six-round
/// protocol aborted here, zeroizing P1's share, while the others output theirs); the others
/// acknowledged, get P1's decline and end unconfirmed naming P1. Nobody is Confirmed — nobody
/// may use the key — yet every share is held, and every pair of them signs.
#[test]
fn keygen_wrong_confirmation_to_one_peer_leaves_nobody_confirmed_and_every_share_held() {
    for (n, seed) in [(2u16, 620u64), (3, 621)] {
        let out = equivocating_confirmation(n, seed);
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert_eq!(out.outputs.len(), usize::from(n));
        assert!(out.outputs.values().all(|o| !o.is_confirmed()));
        let p1 = unconfirmed(&out, 1);
        assert!(!p1.acknowledged);
        assert_eq!(p1.disagreeing, [pid(2)]);
        for p in 2..=n {
            let u = unconfirmed(&out, p);
            assert!(u.acknowledged, "P{p}");
            assert_eq!(u.disagreeing, [pid(1)], "P{p}");
        }
        outputs_agree(&out, usize::from(n));
        let keys = out.outputs.into_values().map(|o| o.into_result()).collect();
        pairs_sign(keys, seed);
    }
}

/// The round-7 equivocation: P3 acknowledges to P1 and declines to P2. P1 (and P3) are
/// Confirmed; P2 is unconfirmed but acknowledged — it keeps its share, names P3 — and with P1
/// signs without P3.
#[test]
fn keygen_acknowledgement_equivocation_confirms_some_and_the_others_keep_their_shares() {
    let mut sim = keygen_sim(3, 625);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            if let KeygenMessage::Round7(a) = m {
                *a = Acknowledgement::Decline(*a.transcript_hash());
            }
        }))
        .from(pid(3))
        .to(pid(2))
        .round(7),
    );
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(out.outputs[&pid(1)].is_confirmed());
    let p2 = unconfirmed(&out, 2);
    assert!(p2.acknowledged);
    assert_eq!(p2.disagreeing, [pid(3)]);
    outputs_agree(&out, 3);
    let keys = out
        .outputs
        .into_iter()
        .filter(|(p, _)| *p != pid(3))
        .map(|(_, o)| o.into_result())
        .collect();
    pairs_sign(keys, 626);
}

/// A message of another round in P2's round-7 envelope from P3, after P2 acknowledged: P2 ends
/// unconfirmed naming P3 instead of aborting and dropping the share P1 (Confirmed) relies on.
#[test]
fn keygen_misbehaviour_after_acknowledging_does_not_drop_the_share() {
    let mut sim = keygen_sim(3, 627);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut KeygenMessage| {
            *m = KeygenMessage::Round6([0; 32]);
        }))
        .from(pid(3))
        .to(pid(2))
        .round(7),
    );
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(out.outputs[&pid(1)].is_confirmed());
    let p2 = unconfirmed(&out, 2);
    assert!(p2.acknowledged);
    assert_eq!(p2.disagreeing, [pid(3)]);
    outputs_agree(&out, 3);
}

#[test]
fn keygen_dropped_confirmation_stalls_everybody_and_stop_waiting_keeps_the_shares() {
    // P1 never receives P2's confirmation: P1 waits in round 6 (it never acknowledges), so the
    // others, which acknowledged, wait for P1 in round 7. Nobody is Confirmed; the callers'
    // timeouts end every machine unconfirmed with its share — P1 knowing that nobody can be
    // Confirmed (it did not acknowledge), the others that they must keep theirs.
    let mut sim = keygen_sim(3, 630);
    sim.rule(FaultRule::any(Fault::Drop).from(pid(2)).to(pid(1)).round(6));
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.stalled, vec![pid(1), pid(2), pid(3)]);
    assert!(out.outputs.is_empty());
    let ended: Vec<Unconfirmed<KeyShare>> = (1..=3).map(|p| stopped(&sim, p)).collect();
    assert!(!ended[0].acknowledged);
    assert!(ended[1].acknowledged && ended[2].acknowledged);
    assert_eq!(ended[0].disagreeing, [pid(2), pid(3)]);
    assert!(
        ended
            .iter()
            .all(|u| u.transcript_hash == ended[0].transcript_hash)
    );
    pairs_sign(ended.into_iter().map(|u| u.result).collect(), 631);
}

#[test]
fn keygen_restored_at_every_step_ends_together() {
    let mut sim = keygen_sim(2, 640);
    sim.restore_every_step(true).reorder(true);
    sim.rule(FaultRule::any(Fault::Duplicate).round(6).times(2));
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), 2, "stalled: {:?}", out.stalled);
    outputs_agree(&out, 2);
    // Seven point-to-point rounds: 7·n·(n−1) messages.
    assert_eq!(out.messages_sent, 14);
}

#[test]
fn keygen_round6_encoding_is_frozen() {
    let mut c = [0u8; 32];
    for (i, b) in c.iter_mut().enumerate() {
        *b = i as u8;
    }
    let m = KeygenMessage::Round6(c);
    let bytes = m.to_bytes();
    assert_eq!(
        hex::encode(&bytes),
        "01039d0106000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    );
    assert!(
        matches!(KeygenMessage::from_bytes(&bytes).unwrap(), KeygenMessage::Round6(x) if x == c)
    );
    let ack = KeygenMessage::Round7(Acknowledgement::Ack(c));
    assert_eq!(
        hex::encode(ack.to_bytes()),
        "01039d010701000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    );
    let mut bad = bytes.clone();
    bad[4] = 8;
    assert_eq!(
        KeygenMessage::from_bytes(&bad).err(),
        Some(DecodeError::InvalidTag(8))
    );
}

#[test]
fn keygen_five_and_six_round_objects_are_refused_by_kind() {
    // A state or message of the five- or six-round protocol (kinds 0x0381 / 0x0380, 0x0391 /
    // 0x0390) is a clear decode error, never a machine that runs the old protocol.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(650);
    let parties = Parties::range(2).unwrap();
    let mut m = Keygen::new(SessionId([3; 32]), pid(1), parties, &mut rng).unwrap();
    let Step::Continue(out) = m.start(&mut rng).unwrap() else {
        panic!("keygen does not finish in round 1")
    };
    let mut state = m.to_secret_bytes().expose().to_vec();
    assert_eq!(&state[..4], &[0x01, 0x03, 0x9e, 0x01]);
    assert!(Keygen::from_bytes(&state).is_ok());
    let mut msg = out[0].payload.to_bytes();
    for (old_state, old_msg) in [(0x81u8, 0x80u8), (0x91, 0x90)] {
        state[2] = old_state;
        assert_eq!(
            Keygen::from_bytes(&state).err(),
            Some(DecodeError::WrongKind {
                expected: 0x039e,
                found: 0x0300 | u16::from(old_state)
            })
        );
        msg[2] = old_msg;
        assert_eq!(
            KeygenMessage::from_bytes(&msg).err(),
            Some(DecodeError::WrongKind {
                expected: 0x039d,
                found: 0x0300 | u16::from(old_msg)
            })
        );
    }
}
