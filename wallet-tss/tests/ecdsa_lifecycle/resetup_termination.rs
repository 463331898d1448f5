//! The ECDSA resetup (fresh OT setups of a new epoch) ends together: no party is Confirmed on
//! the new epoch unless every other party acknowledged (round 7) that every setup confirmation
//! (round 6) it received matched; a last-round failure leaves the new share kept, unconfirmed,
//! next to the old one, which stays installed and keeps signing (DESIGN.md invariant 11). Every
//! test asserts the outcome of each party and the party it names, and signs afterwards: with the
//! old epoch when nothing was confirmed, with the new one once confirmed (directly or after a
//! retried confirmation).
//!
//! A module file: included with `#[path = "ecdsa_lifecycle/resetup_termination.rs"] mod
//! resetup_termination;` from a test crate that also declares `mod ecdsa_common;`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare, NotInstalled, Resetup, ResetupInput, ResetupMessage,
    export_private_key, install_confirmed,
};
use wallet_types::reconfirm::Reconfirm;
use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
use wallet_types::{
    Acknowledgement, DecodeError, Envelope, Error, Parties, PartyId, Protocol, Recipient,
    Secp256k1, SecretScalar, SessionId, Step, Termination, Unconfirmed, WireObject,
};

use crate::ecdsa_common::{Stores, pid, presign, sign_both, stores};

type Run = Outcome<Termination<KeyShare>>;

/// The resetup machines of the next epoch of the key in `stores` among `parties`: a fresh
/// sharing of the key (as a refresh or reshare computes it), each party's bans carried over.
fn resetup_machines(stores: &Stores, parties: &[u16], seed: u64) -> Vec<Resetup> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let sk = stores[&pid(1)]
        .with_key(|x| {
            stores[&pid(2)]
                .with_key(|y| export_private_key(x, y, &DerivationPath::root()).unwrap())
                .unwrap()
        })
        .unwrap();
    let old = stores[&pid(1)].public_package().unwrap();
    let slope = SecretScalar::<Secp256k1>::random(&mut rng);
    let parties = Parties::new(parties.iter().map(|p| pid(*p)).collect::<Vec<_>>()).unwrap();
    let commitments = vec![
        old.public_key(),
        k256::ProjectivePoint::GENERATOR * slope.expose(),
    ];
    let session = SessionId([seed as u8; 32]).derive(b"ecdsa-resetup");
    parties
        .iter()
        .map(|p| {
            let share =
                SecretScalar::new(*sk.expose() + *slope.expose() * p.to_scalar::<Secp256k1>());
            let mut input = ResetupInput::new(
                p,
                parties.clone(),
                share,
                commitments.clone(),
                *old.chain_code(),
                old.epoch() + 1,
                *old.key_id(),
            );
            if let Some(s) = stores.get(&p) {
                s.with_key(|k| input.carry_bans(k)).unwrap();
            }
            Resetup::new(session, input).unwrap()
        })
        .collect()
}

/// A simulator of the next epoch's resetup among all parties of `stores`.
fn resetup_sim(stores: &Stores, seed: u64) -> Simulator<Resetup> {
    let ids: Vec<u16> = stores.keys().map(|p| p.get()).collect();
    let mut sim = Simulator::new(seed);
    for m in resetup_machines(stores, &ids, seed) {
        sim.add(m);
    }
    sim
}

fn unconfirmed(out: &Run, p: u16) -> &Unconfirmed<KeyShare> {
    match out.outputs.get(&pid(p)) {
        Some(Termination::Unconfirmed(u)) => u,
        other => panic!("P{p}: expected unconfirmed, got {other:?}"),
    }
}

/// The outputs agree on the new epoch (key id, epoch, public key, chain code) and each has a
/// pairing with every other party; the Confirmed ones on the transcript hash. If any party is
/// Confirmed, every party that output acknowledged (so none of them may discard its share).
fn outputs_agree(out: &Run, old_epoch: u64, n: usize) {
    let mut it = out.outputs.values().map(|o| o.result());
    let first = it.next().expect("somebody output");
    for k in it {
        assert_eq!(k.key_id(), first.key_id());
        assert_eq!(k.public_key(), first.public_key());
        assert_eq!(k.chain_code(), first.chain_code());
    }
    for k in out.outputs.values().map(|o| o.result()) {
        assert_eq!(k.epoch(), old_epoch + 1);
        assert_eq!(k.paired().count(), n - 1, "{:?} lacks a pairing", k.me());
    }
    let hashes: Vec<&[u8; 32]> = out.outputs.values().map(|o| o.transcript_hash()).collect();
    assert!(hashes.windows(2).all(|w| w[0] == w[1]));
    if out.outputs.values().any(|o| o.is_confirmed()) {
        for (p, o) in &out.outputs {
            if let Termination::Unconfirmed(u) = o {
                assert!(u.acknowledged, "{p} is without the new epoch's ack");
            }
        }
    }
}

/// `a` and `b` presign and sign with their stores' current epoch; returns that epoch.
fn signs(stores: &Stores, a: u16, b: u16, seed: u64) -> u64 {
    let info = presign(stores, a, b, &DerivationPath::root(), seed);
    let hash = [0x6b; 32];
    let (sig, _) = sign_both(stores, &info, &hash);
    info.verifying_key()
        .unwrap()
        .verify_prehash(&hash, &sig)
        .unwrap();
    info.epoch
}

/// Installs every outcome with `install_confirmed`; returns the unconfirmed ones handed back
/// (the stores of those parties stay on the old epoch).
fn install_all(
    stores: &Stores,
    outputs: BTreeMap<PartyId, Termination<KeyShare>>,
) -> BTreeMap<PartyId, Unconfirmed<KeyShare>> {
    let mut kept = BTreeMap::new();
    for (p, o) in outputs {
        match install_confirmed(&stores[&p], o, &[]) {
            Ok(()) => {}
            Err(NotInstalled::Unconfirmed(u)) => {
                kept.insert(p, u);
            }
            Err(e) => panic!("{p}: {e}"),
        }
    }
    kept
}

/// Runs a retried confirmation of `hash` among `parties`.
fn reconfirm(parties: &[u16], hash: [u8; 32], seed: u64) -> BTreeMap<PartyId, Termination<()>> {
    let set = Parties::new(parties.iter().map(|p| pid(*p)).collect::<Vec<_>>()).unwrap();
    let mut sim = Simulator::new(seed);
    for p in set.iter() {
        sim.add(Reconfirm::new(SessionId([seed as u8; 32]), p, set.clone(), hash).unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(
        out.outputs.len(),
        parties.len(),
        "stalled: {:?}",
        out.stalled
    );
    out.outputs
}

/// Settles each kept outcome with a retried confirmation among `parties` and installs it.
fn reconfirm_and_install(
    stores: &Stores,
    kept: BTreeMap<PartyId, Unconfirmed<KeyShare>>,
    parties: &[u16],
    seed: u64,
) {
    let hash = kept.values().next().unwrap().transcript_hash;
    let retry = reconfirm(parties, hash, seed);
    for (p, u) in kept {
        let settled = u.settle(&retry[&p]);
        assert!(settled.is_confirmed(), "{p}");
        install_confirmed(&stores[&p], settled, &[]).unwrap();
    }
}

/// P2 sends P1 (only) a wrong round-6 confirmation.
fn equivocating_confirmation(stores: &Stores, seed: u64) -> Run {
    let mut sim = resetup_sim(stores, seed);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut ResetupMessage| {
            if let ResetupMessage::Round6(c) = m {
                c[3] ^= 0x10;
            }
        }))
        .from(pid(2))
        .to(pid(1))
        .round(6),
    );
    sim.run()
}

/// The round-6 equivocation (right for P3, wrong for P1): P1 declines naming P2 and keeps its
/// new share (the six-round resetup aborted here and zeroized it while P2, P3 went on to the
/// new epoch); P2 and P3 acknowledged, get P1's decline and end unconfirmed naming P1. Nobody is
/// Confirmed, so `install_confirmed` installs nothing: every store stays on the old epoch, which
/// signs. A retried confirmation among all parties then confirms the kept shares, they are
/// installed, and the new epoch signs.
#[test]
fn resetup_wrong_confirmation_to_one_peer_leaves_nobody_on_the_new_epoch() {
    for (n, seed) in [(2u16, 1400u64), (3, 1410)] {
        let stores = stores(n, seed);
        let out = equivocating_confirmation(&stores, seed + 1);
        assert!(out.failures.is_empty(), "n = {n}: {:?}", out.failures);
        assert_eq!(
            out.outputs.len(),
            usize::from(n),
            "stalled: {:?}",
            out.stalled
        );
        assert!(out.outputs.values().all(|o| !o.is_confirmed()), "n = {n}");
        let p1 = unconfirmed(&out, 1);
        assert!(!p1.acknowledged, "n = {n}");
        assert_eq!(p1.disagreeing, [pid(2)], "n = {n}");
        for p in 2..=n {
            let u = unconfirmed(&out, p);
            assert!(u.acknowledged, "n = {n}, P{p}");
            assert_eq!(u.disagreeing, [pid(1)], "n = {n}, P{p}");
        }
        outputs_agree(&out, 0, usize::from(n));

        let kept = install_all(&stores, out.outputs);
        assert_eq!(kept.len(), usize::from(n), "nothing installed");
        for s in stores.values() {
            assert_eq!(s.epoch().unwrap(), 0, "the old share stays installed");
        }
        assert_eq!(signs(&stores, 1, 2, seed + 2), 0, "the old epoch signs");
        if n == 3 {
            assert_eq!(signs(&stores, 1, 3, seed + 3), 0);
        }

        let ids: Vec<u16> = (1..=n).collect();
        reconfirm_and_install(&stores, kept, &ids, seed + 4);
        for s in stores.values() {
            assert_eq!(s.epoch().unwrap(), 1);
        }
        assert_eq!(signs(&stores, 1, 2, seed + 5), 1, "the new epoch signs");
        if n == 3 {
            assert_eq!(signs(&stores, 2, 3, seed + 6), 1);
        }
    }
}

/// The round-7 equivocation: the last sender acknowledges to some and declines to others.
/// Those it acknowledged to are Confirmed (the two generals: no protocol avoids this); the one
/// it declined to is unconfirmed **with** `acknowledged` set and names it — it keeps both
/// shares, and a retried confirmation with a Confirmed party moves it to the new epoch, where
/// the two sign together.
#[test]
fn resetup_acknowledgement_equivocation_confirms_some_and_the_others_keep_both_shares() {
    // (n, equivocating party, the party it declines to)
    for (n, bad, victim, seed) in [(2u16, 2u16, 1u16, 1420u64), (3, 3, 2, 1430)] {
        let stores = stores(n, seed);
        let mut sim = resetup_sim(&stores, seed + 1);
        sim.rule(
            FaultRule::any(Fault::tamper_payload(|m: &mut ResetupMessage| {
                if let ResetupMessage::Round7(a) = m {
                    *a = Acknowledgement::Decline(*a.transcript_hash());
                }
            }))
            .from(pid(bad))
            .to(pid(victim))
            .round(7),
        );
        let out = sim.run();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert_eq!(out.outputs.len(), usize::from(n));
        let v = unconfirmed(&out, victim);
        assert!(v.acknowledged);
        assert_eq!(v.disagreeing, [pid(bad)]);
        for p in (1..=n).filter(|p| *p != victim) {
            assert!(out.outputs[&pid(p)].is_confirmed(), "n = {n}, P{p}");
        }
        outputs_agree(&out, 0, usize::from(n));

        let kept = install_all(&stores, out.outputs);
        assert_eq!(kept.keys().copied().collect::<Vec<_>>(), [pid(victim)]);
        assert_eq!(stores[&pid(victim)].epoch().unwrap(), 0);
        // The Confirmed parties are on the new epoch and sign there (with three parties the
        // two Confirmed ones sign together at once).
        let partner = if victim == 1 { 2 } else { 1 };
        assert_eq!(stores[&pid(partner)].epoch().unwrap(), 1);
        if n == 3 {
            assert_eq!(signs(&stores, 1, 3, seed + 2), 1);
        }
        // The victim settles with the honest partner (the equivocator need not take part).
        let mut pair = [victim, partner];
        pair.sort_unstable();
        reconfirm_and_install(&stores, kept, &pair, seed + 3);
        assert_eq!(stores[&pid(victim)].epoch().unwrap(), 1);
        assert_eq!(signs(&stores, pair[0], pair[1], seed + 4), 1);
    }
}

/// A message of another round in the round-7 envelope, after the receiver acknowledged: it ends
/// unconfirmed naming the sender instead of aborting and dropping the share the Confirmed
/// parties rely on.
#[test]
fn resetup_misbehaviour_after_acknowledging_keeps_the_new_share() {
    let stores = stores(3, 1440);
    let mut sim = resetup_sim(&stores, 1441);
    sim.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut ResetupMessage| {
            *m = ResetupMessage::Round6([0; 32]);
        }))
        .from(pid(3))
        .to(pid(2))
        .round(7),
    );
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(out.outputs[&pid(1)].is_confirmed());
    assert!(out.outputs[&pid(3)].is_confirmed());
    let p2 = unconfirmed(&out, 2);
    assert!(p2.acknowledged);
    assert_eq!(p2.disagreeing, [pid(3)]);
    outputs_agree(&out, 0, 3);
    let kept = install_all(&stores, out.outputs);
    reconfirm_and_install(&stores, kept, &[1, 2], 1442);
    assert_eq!(signs(&stores, 1, 2, 1443), 1);
}

/// A dropped acknowledgement stalls its receiver in round 7 (the others are Confirmed);
/// `stop_waiting` ends it unconfirmed with the new share, acknowledged, listing every other
/// party (a receiver cannot tell a silent sender from a lossy network). A dropped confirmation
/// (round 6) stalls everybody; ended, nobody is Confirmed and the old epoch signs.
#[test]
fn resetup_dropped_acknowledgement_or_confirmation_and_stop_waiting() {
    let stores3 = stores(3, 1450);
    let mut sim = resetup_sim(&stores3, 1451);
    sim.rule(FaultRule::any(Fault::Drop).from(pid(2)).to(pid(1)).round(7));
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.stalled, [pid(1)]);
    assert!(out.outputs[&pid(2)].is_confirmed());
    assert!(out.outputs[&pid(3)].is_confirmed());
    let stored = sim.machine(pid(1)).unwrap().to_secret_bytes();
    let mut p1 = Resetup::from_bytes(stored.expose()).unwrap();
    let (to_send, u) = p1.stop_waiting().unwrap();
    assert!(to_send.is_empty(), "P1 acknowledged already: no decline");
    assert!(u.acknowledged);
    assert_eq!(u.disagreeing, [pid(2), pid(3)]);
    assert_eq!(p1.stop_waiting().map(|_| ()), None, "ended once");
    let kept = install_all(&stores3, out.outputs);
    assert!(kept.is_empty());
    assert_eq!(stores3[&pid(2)].epoch().unwrap(), 1);
    assert_eq!(signs(&stores3, 2, 3, 1452), 1);
    // P1's kept share is confirmed by a retry with P2.
    let mut kept = BTreeMap::new();
    kept.insert(pid(1), u);
    reconfirm_and_install(&stores3, kept, &[1, 2], 1453);
    assert_eq!(signs(&stores3, 1, 3, 1454), 1);

    // Round 6 dropped: P1 never acknowledges, so nobody can be Confirmed.
    let stores2 = stores(2, 1460);
    let mut sim = resetup_sim(&stores2, 1461);
    sim.rule(FaultRule::any(Fault::Drop).from(pid(2)).to(pid(1)).round(6));
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(out.outputs.is_empty());
    assert_eq!(out.stalled, [pid(1), pid(2)]);
    let mut ended = BTreeMap::new();
    for p in [1u16, 2] {
        let stored = sim.machine(pid(p)).unwrap().to_secret_bytes();
        let mut m = Resetup::from_bytes(stored.expose()).unwrap();
        let (to_send, u) = m.stop_waiting().unwrap();
        // P1 had not acknowledged: it declines, so that it is never counted later.
        assert_eq!(to_send.len(), usize::from(p == 1), "P{p}");
        if let Some(env) = to_send.first() {
            assert!(matches!(
                env.payload,
                ResetupMessage::Round7(Acknowledgement::Decline(_))
            ));
        }
        assert_eq!(u.acknowledged, p == 2, "P{p}");
        assert_eq!(u.disagreeing, [pid(3 - p)], "P{p}");
        ended.insert(pid(p), Termination::Unconfirmed(u));
    }
    let kept = install_all(&stores2, ended);
    assert_eq!(kept.len(), 2);
    assert_eq!(signs(&stores2, 1, 2, 1462), 0, "the old epoch signs");
}

/// A stop before the setups complete keeps nothing (the old share is the caller's) and ends
/// the machine.
#[test]
fn resetup_stop_waiting_before_the_new_share_exists() {
    let stores = stores(2, 1465);
    let mut sim = resetup_sim(&stores, 1466);
    sim.rule(FaultRule::any(Fault::Drop).from(pid(2)).to(pid(1)).round(3));
    let out = sim.run();
    assert!(out.outputs.is_empty() && out.failures.is_empty());
    let stored = sim.machine(pid(1)).unwrap().to_secret_bytes();
    let mut m = Resetup::from_bytes(stored.expose()).unwrap();
    assert!(m.stop_waiting().is_none());
    let env = sim.sent()[0].clone();
    let env = env.map(|b| ResetupMessage::from_bytes(&b).unwrap());
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    assert_eq!(m.handle(env, &mut rng).unwrap_err(), Error::Finished);
    assert_eq!(signs(&stores, 1, 2, 1467), 0);
}

/// Duplicated acknowledgements (the same bytes twice) are ignored: everyone is Confirmed.
#[test]
fn resetup_duplicated_acknowledgements_are_ignored() {
    let stores = stores(3, 1470);
    let mut sim = resetup_sim(&stores, 1471);
    sim.rule(FaultRule::any(Fault::Duplicate).round(7).times(6));
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(out.outputs.values().all(|o| o.is_confirmed()));
    assert_eq!(out.outputs.len(), 3);
    outputs_agree(&out, 0, 3);
    // Seven point-to-point rounds: 7·n·(n−1) messages.
    assert_eq!(out.messages_sent, 42);
    assert!(install_all(&stores, out.outputs).is_empty());
    assert_eq!(signs(&stores, 1, 3, 1472), 1);
}

/// Acknowledgements replayed from another resetup run (another session) and acknowledgements
/// whose sender is not a party of the run are rejected without changing the machine, naming the
/// claimed sender; the run still ends Confirmed for everybody.
#[test]
fn resetup_replayed_and_wrong_sender_acknowledgements_are_rejected() {
    let stores = stores(2, 1480);
    // Another run of the same key's resetup (other session): capture its acknowledgements.
    let mut other = resetup_sim(&stores, 1481);
    let other_out = other.run();
    assert!(other_out.outputs.values().all(|o| o.is_confirmed()));
    let replays: Vec<Envelope<Vec<u8>>> = other
        .sent()
        .iter()
        .filter(|e| e.round == 7)
        .cloned()
        .collect();
    assert_eq!(replays.len(), 2);

    let mut sim = resetup_sim(&stores, 1482);
    let outsider = pid(9);
    sim.rule(
        FaultRule::any(Fault::WrongSender(outsider))
            .from(pid(2))
            .to(pid(1))
            .round(7),
    );
    let out = sim.run();
    // P1 rejected the relabelled acknowledgement and waits for P2's.
    assert_eq!(out.rejections.len(), 1, "{:?}", out.rejections);
    assert_eq!(
        out.rejections[0],
        (pid(1), Error::UnknownSender { sender: outsider })
    );
    assert_eq!(out.stalled, [pid(1)]);
    assert!(out.outputs[&pid(2)].is_confirmed());
    // The replays, then P2's real acknowledgement (as sent).
    for r in &replays {
        let to = match r.recipient {
            Recipient::One(p) => p,
            Recipient::All => panic!("point-to-point"),
        };
        sim.inject(to, r.clone());
    }
    let real = sim
        .sent()
        .iter()
        .find(|e| e.round == 7 && e.sender == pid(2))
        .unwrap()
        .clone();
    sim.inject(pid(1), real);
    let first = out.outputs;
    let mut out = sim.resume();
    // The replay to P1 is rejected naming its sender (P2's machine is over: the simulator
    // delivers nothing to it any more).
    assert_eq!(
        out.rejections,
        [(pid(1), Error::WrongSession { sender: pid(2) })]
    );
    assert!(out.stalled.is_empty());
    out.outputs.extend(first);
    assert_eq!(out.outputs.len(), 2);
    assert!(out.outputs.values().all(|o| o.is_confirmed()));
    outputs_agree(&out, 0, 2);
    assert!(install_all(&stores, out.outputs).is_empty());
    assert_eq!(signs(&stores, 1, 2, 1483), 1);
}

/// An equivocated acknowledgement (two different round-7 messages from one sender) ends the
/// receiver unconfirmed, acknowledged, naming the equivocator; it keeps the share, and a retry
/// with the other honest party confirms it.
#[test]
fn resetup_equivocated_acknowledgement_names_the_sender() {
    let stores = stores(3, 1490);
    let mut sim = resetup_sim(&stores, 1491);
    for from in [2u16, 3] {
        sim.rule(
            FaultRule::any(Fault::Drop)
                .from(pid(from))
                .to(pid(1))
                .round(7),
        );
    }
    let out = sim.run();
    assert_eq!(out.stalled, [pid(1)]);
    let sent: Vec<Envelope<Vec<u8>>> = sim
        .sent()
        .iter()
        .filter(|e| e.round == 7 && e.recipient == Recipient::One(pid(1)))
        .cloned()
        .collect();
    let from2 = sent.iter().find(|e| e.sender == pid(2)).unwrap().clone();
    let from3 = sent.iter().find(|e| e.sender == pid(3)).unwrap().clone();
    let ResetupMessage::Round7(Acknowledgement::Ack(h)) =
        ResetupMessage::from_bytes(&from2.payload).unwrap()
    else {
        panic!("P2 acknowledged")
    };
    let mut second = from2.clone();
    second.payload = ResetupMessage::Round7(Acknowledgement::Decline(h)).to_bytes();
    sim.inject(pid(1), from2)
        .inject(pid(1), second)
        .inject(pid(1), from3);
    let first = out.outputs;
    let mut out = sim.resume();
    out.outputs.extend(first);
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let p1 = unconfirmed(&out, 1);
    assert!(p1.acknowledged);
    assert_eq!(p1.disagreeing, [pid(2)]);
    assert_eq!(p1.transcript_hash, h);
    assert!(out.outputs[&pid(2)].is_confirmed() && out.outputs[&pid(3)].is_confirmed());
    outputs_agree(&out, 0, 3);
    let kept = install_all(&stores, out.outputs);
    reconfirm_and_install(&stores, kept, &[1, 3], 1492);
    assert_eq!(signs(&stores, 1, 2, 1493), 1);
}

/// A resetup restored from its bytes at every step, with reordering and duplicated
/// confirmations, ends Confirmed for everybody.
#[test]
fn resetup_restored_at_every_step_ends_confirmed() {
    let stores = stores(2, 1495);
    let mut sim = resetup_sim(&stores, 1496);
    sim.restore_every_step(true).reorder(true);
    sim.rule(FaultRule::any(Fault::Duplicate).round(6).times(2));
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(out.outputs.values().all(|o| o.is_confirmed()));
    assert_eq!(out.outputs.len(), 2, "stalled: {:?}", out.stalled);
    assert_eq!(out.messages_sent, 14);
}

/// `install_confirmed` hands back what it does not install: an unconfirmed outcome, and a
/// confirmed share the store refuses (another key), with the reason.
#[test]
fn install_confirmed_refuses_and_hands_back() {
    let stores = stores(2, 1497);
    let others = crate::ecdsa_common::stores(2, 1498);
    let out = resetup_sim(&others, 1499).run();
    let mut outputs = out.outputs;
    let t = outputs.remove(&pid(1)).unwrap();
    assert!(t.is_confirmed());
    match install_confirmed(&stores[&pid(1)], t, &[]) {
        Err(NotInstalled::Refused(k, e)) => {
            assert_eq!(e, Error::Params(wallet_types::ParamError::Mismatch));
            assert_eq!(k.epoch(), 1, "the share comes back");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stores[&pid(1)].epoch().unwrap(), 0);
    let u = Unconfirmed::new(
        outputs.remove(&pid(2)).unwrap().into_result(),
        [0; 32],
        true,
        vec![],
    );
    match install_confirmed(&others[&pid(2)], Termination::Unconfirmed(u), &[]) {
        Err(NotInstalled::Unconfirmed(back)) => assert!(back.acknowledged),
        other => panic!("{other:?}"),
    }
    assert_eq!(others[&pid(2)].epoch().unwrap(), 0);
}

/// The six-round resetup's message and state kinds (`0x0389`, `0x0392`) are refused as wrong
/// kinds, never decoded into a machine that ends at another round than its peers.
#[test]
fn resetup_six_round_objects_are_refused_by_kind() {
    let stores = stores(2, 1500);
    let mut m = resetup_machines(&stores, &[1, 2], 1501).remove(0);
    let mut rng = ChaCha20Rng::seed_from_u64(1502);
    let Step::Continue(out) = m.start(&mut rng).unwrap() else {
        panic!("resetup does not finish in round 1")
    };
    let mut state = m.to_secret_bytes().expose().to_vec();
    assert_eq!(&state[..4], &[0x01, 0x03, 0xa1, 0x01]);
    assert!(Resetup::from_bytes(&state).is_ok());
    let mut msg = out[0].payload.to_bytes();
    assert_eq!(&msg[..4], &[0x01, 0x03, 0xa0, 0x01]);
    assert!(ResetupMessage::from_bytes(&msg).is_ok());
    for old_state in [0x92u8, 0x8a] {
        state[2] = old_state;
        assert_eq!(
            Resetup::from_bytes(&state).err(),
            Some(DecodeError::WrongKind {
                expected: 0x03a1,
                found: 0x0300 | u16::from(old_state)
            })
        );
    }
    msg[2] = 0x89;
    assert_eq!(
        ResetupMessage::from_bytes(&msg).err(),
        Some(DecodeError::WrongKind {
            expected: 0x03a0,
            found: 0x0389
        })
    );
    // A round-7 message under the retired kind, built by hand: refused by kind too.
    let mut ack = vec![0x01, 0x03, 0x89, 0x01, 0x07, 0x01];
    ack.extend_from_slice(&[0u8; 32]);
    assert!(matches!(
        ResetupMessage::from_bytes(&ack),
        Err(DecodeError::WrongKind { found: 0x0389, .. })
    ));
}
