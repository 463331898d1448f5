//! ECDSA key generation ends unanimously: no party outputs a `KeyShare` unless every other party
//! confirmed (round 6) that all of its pairwise OT setups completed.
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

use crate::ecdsa_common::{keygen_sim, pid};
use wallet_tss::ecdsa::{KeyShare, Keygen, KeygenMessage};
use wallet_types::sim::{Fault, FaultRule, Outcome};
use wallet_types::{DecodeError, Parties, Protocol, Reason, SessionId, Step, WireObject};

/// `o` re-decoded after flipping one bit of its last byte (an OT opening of message 5: the
/// result still decodes, but the opening no longer matches the commitment).
fn with_last_bit_flipped<T: WireObject>(o: &T) -> T {
    let mut b = o.to_bytes();
    let last = b.len() - 1;
    b[last] ^= 1;
    T::from_bytes(&b).expect("a flipped opening still decodes")
}

/// Those who output agree on everything public, and each output is complete: a pairing with
/// every other party (nobody holds a share listing a pairing its counterparty lacks unless that
/// counterparty confirmed).
fn outputs_agree(out: &Outcome<KeyShare>, n: usize) {
    let mut it = out.outputs.values();
    if let Some(first) = it.next() {
        for k in it {
            assert_eq!(k.key_id(), first.key_id());
            assert_eq!(k.public_key(), first.public_key());
            assert_eq!(k.chain_code(), first.chain_code());
        }
    }
    for k in out.outputs.values() {
        assert_eq!(k.paired().count(), n - 1, "{:?} lacks a pairing", k.me());
    }
}

/// Runs key generation among `n` parties with OT message 5 from `from` to `to` corrupted.
fn corrupted_message5(n: u16, from: u16, to: u16, seed: u64) -> Outcome<KeyShare> {
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

fn assert_nobody_outputs_and_culprit_named(out: &Outcome<KeyShare>, n: u16, from: u16, to: u16) {
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
fn equivocating_confirmation(n: u16, seed: u64) -> Outcome<KeyShare> {
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

#[test]
fn keygen_wrong_confirmation_to_one_peer_is_blamed() {
    for (n, seed) in [(2u16, 620u64), (3, 621)] {
        let out = equivocating_confirmation(n, seed);
        let e = out
            .failures
            .get(&pid(1))
            .expect("P1 refuses the confirmation");
        assert_eq!(e.culprits(), &[pid(2)], "{e:?}");
        assert_eq!(e.reason(), Some(Reason::ConfirmationMismatch), "{e:?}");
        assert!(e.must_ban().is_empty());
        assert!(!out.outputs.contains_key(&pid(1)));
        assert_eq!(out.failures.len(), 1, "only P1 was lied to: {out:?}");
        // P1 had confirmed before it saw the lie (the last round is unconfirmed by nature):
        // the others received every confirmation and output the same complete key.
        assert_eq!(out.outputs.len(), usize::from(n) - 1);
        outputs_agree(&out, usize::from(n));
    }
}

#[test]
fn keygen_dropped_confirmation_stalls_its_recipient_only() {
    // P1 never receives P2's confirmation: P1 must not output (it waits), the others do.
    let mut sim = keygen_sim(3, 630);
    sim.rule(FaultRule::any(Fault::Drop).from(pid(2)).to(pid(1)).round(6));
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.stalled, vec![pid(1)]);
    assert_eq!(out.outputs.len(), 2);
    outputs_agree(&out, 3);
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
    // Six point-to-point rounds: 6·n·(n−1) messages.
    assert_eq!(out.messages_sent, 12);
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
        "0103900106000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    );
    assert!(
        matches!(KeygenMessage::from_bytes(&bytes).unwrap(), KeygenMessage::Round6(x) if x == c)
    );
    let mut bad = bytes.clone();
    bad[4] = 7;
    assert_eq!(
        KeygenMessage::from_bytes(&bad).err(),
        Some(DecodeError::InvalidTag(7))
    );
}

#[test]
fn keygen_five_round_objects_are_refused_by_kind() {
    // A state or message of the five-round protocol (kinds 0x0381 / 0x0380) is a clear decode
    // error, never a machine that runs the old protocol.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(650);
    let parties = Parties::range(2).unwrap();
    let mut m = Keygen::new(SessionId([3; 32]), pid(1), parties, &mut rng).unwrap();
    let Step::Continue(out) = m.start(&mut rng).unwrap() else {
        panic!("keygen does not finish in round 1")
    };
    let mut state = m.to_secret_bytes().expose().to_vec();
    assert_eq!(&state[..4], &[0x01, 0x03, 0x91, 0x01]);
    assert!(Keygen::from_bytes(&state).is_ok());
    state[2] = 0x81;
    assert_eq!(
        Keygen::from_bytes(&state).err(),
        Some(DecodeError::WrongKind {
            expected: 0x0391,
            found: 0x0381
        })
    );
    let mut msg = out[0].payload.to_bytes();
    msg[2] = 0x80;
    assert_eq!(
        KeygenMessage::from_bytes(&msg).err(),
        Some(DecodeError::WrongKind {
            expected: 0x0390,
            found: 0x0380
        })
    );
}
