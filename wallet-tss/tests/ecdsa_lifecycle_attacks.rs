//! The key's lifecycle under attack (issue: "the library, not the caller, enforces the key's
//! lifecycle"). Each test mounts an attack that worked against the earlier design through the
//! public API only, and checks that it now fails, who is named, and that the honest party still
//! holds a key that signs.
//!
//! * a counterparty probing the OT correlation `Δ` one bit per session over many parallel
//!   sessions (live machines, restored machines, two worker threads on one store);
//! * presignatures, presign states and sign states of an earlier epoch after a refresh, and after
//!   a reshare that removed their holder;
//! * one presignature used twice through restores of presign and sign states;
//! * a restart from a snapshot taken before `start` (the counterparty must not be banned);
//! * key generation with one corrupted OT message: nobody outputs a share the others lack
//!   (module `keygen`);
//! * the resetup of a new epoch with an equivocated confirmation or acknowledgement, dropped,
//!   duplicated, replayed or misaddressed acknowledgements: no honest party moves to the new
//!   epoch while another is left without it, and the key signs after each (module
//!   `resetup_termination`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod ecdsa_common;

#[path = "ecdsa_lifecycle/keygen.rs"]
mod keygen;

#[path = "ecdsa_lifecycle/resetup_termination.rs"]
mod resetup_termination;

use std::collections::BTreeMap;

use ecdsa_common::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::presign::testing::{delta_bit, probe_round1};
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare, KeyStore, MemoryKeyStore, Presign, PresignMessage, PresignatureInfo,
    Resetup, ResetupInput, Sign, combine, export_private_key, partial_sign,
};
use wallet_types::{
    Envelope, Error, Parties, PartyId, Protocol, Reason, Recipient, Secp256k1, SecretScalar,
    SessionId, Step, StoreError, WireObject,
};

const SESSIONS: usize = 128;

/// Delivers an envelope to whichever of `machines` it is for; returns what that machine said.
fn deliver<P: Protocol>(
    machines: &mut BTreeMap<PartyId, P>,
    env: Envelope<P::Message>,
    rng: &mut ChaCha20Rng,
) -> Result<Step<P::Message, P::Output>, Error> {
    let Recipient::One(to) = env.recipient else {
        panic!("broadcast")
    };
    machines.get_mut(&to).unwrap().handle(env, rng)
}

fn envelope(
    session: SessionId,
    sender: PartyId,
    to: PartyId,
    m: PresignMessage,
) -> Envelope<PresignMessage> {
    Envelope {
        session,
        round: 1,
        sender,
        recipient: Recipient::One(to),
        payload: m,
    }
}

/// What one victim session told the attacker about `Δ`.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// The check passed and the victim answered (the attacker learns `Δ_k = 0`).
    Passed,
    /// The check failed (`Δ_k = 1`).
    Failed,
    /// The victim refused before touching `Δ` (nothing learnt).
    Refused,
}

fn classify(r: Result<Step<PresignMessage, PresignatureInfo>, Error>) -> Answer {
    match r {
        Ok(Step::Continue(out)) => {
            assert_eq!(out.len(), 1, "one round-2 answer");
            Answer::Passed
        }
        Ok(Step::Done(..)) => panic!("finished on round 1"),
        Err(e) if e.reason() == Some(Reason::OtConsistency) => {
            assert_eq!(e.culprits(), &[pid(2)]);
            assert_eq!(e.must_ban(), &[pid(2)]);
            Answer::Failed
        }
        Err(e) => {
            assert_eq!(
                e,
                Error::Banned { party: pid(2) },
                "refusal names the banned party"
            );
            Answer::Refused
        }
    }
}

/// The attacker learns one bit per session whose check ran (passed or failed), in order; after
/// the first failure nothing more. In one session, a malicious receiver that corrupts `c`
/// columns passes with probability `2^-c`: the same geometric bound.
fn learned(answers: &[Answer]) -> usize {
    answers.iter().filter(|a| **a != Answer::Refused).count()
}

/// `SESSIONS` presign machines of the victim P1 with the attacker P2, started, with their
/// sessions.
fn victim_sessions<'a>(
    victim: &'a MemoryKeyStore,
    rng: &mut ChaCha20Rng,
) -> Vec<(SessionId, Presign<&'a MemoryKeyStore>)> {
    (0..SESSIONS)
        .map(|_| {
            let session = SessionId::random(rng);
            let mut m = Presign::new(victim, pid(2), DerivationPath::root(), session, rng).unwrap();
            let _ = m.start(rng).unwrap();
            (session, m)
        })
        .collect()
}

fn probe(
    attacker: &MemoryKeyStore,
    session: &SessionId,
    k: usize,
    rng: &mut ChaCha20Rng,
) -> Envelope<PresignMessage> {
    let column = 1 + k % 127;
    let m = probe_round1(attacker, pid(1), session, column, rng).unwrap();
    envelope(*session, pid(2), pid(1), m)
}

#[test]
fn parallel_sessions_cannot_read_delta_bit_by_bit() {
    let mut rng = ChaCha20Rng::seed_from_u64(1300);
    let stores = stores(2, 1300);
    let (victim, attacker) = (&stores[&pid(1)], &stores[&pid(2)]);
    // The correlation the attacker is after (read before the attack: the ban erases it).
    let delta: Vec<bool> = (0..128)
        .map(|c| delta_bit(victim, pid(2), c).unwrap())
        .collect();
    let mut sessions = victim_sessions(victim, &mut rng);
    // Snapshots of the last 32 machines, taken before the attack (a server that persists every
    // session between requests).
    let saved: Vec<(SessionId, wallet_types::SecretVec)> = sessions[SESSIONS - 32..]
        .iter()
        .map(|(s, m)| (*s, m.save()))
        .collect();
    let mut answers = Vec::new();
    for (k, (session, m)) in sessions.iter_mut().enumerate() {
        let env = probe(attacker, session, k, &mut rng);
        answers.push(classify(m.handle(env, &mut rng)));
    }
    let first_failure = answers.iter().position(|a| *a == Answer::Failed).unwrap();
    assert!(
        answers[..first_failure]
            .iter()
            .all(|a| *a == Answer::Passed)
    );
    assert!(
        answers[first_failure + 1..]
            .iter()
            .all(|a| *a == Answer::Refused),
        "a session answered after the ban: {answers:?}"
    );
    assert_eq!(learned(&answers), first_failure + 1);
    // The probe is real: each answer the attacker saw is the bit of Δ it probed.
    for (k, a) in answers.iter().enumerate().take(first_failure + 1) {
        assert_eq!(*a == Answer::Failed, delta[1 + k % 127], "session {k}");
    }
    // The ban dropped the setup: Δ is gone from the store.
    assert_eq!(delta_bit(victim, pid(2), 1), None);
    assert!(first_failure < 20, "2^-20 event: {first_failure}");
    // The ban is in the store, and restored machines obey it too.
    assert_eq!(victim.banned().unwrap(), vec![pid(2)]);
    for (k, (session, bytes)) in saved.iter().enumerate() {
        let mut m = Presign::restore(victim, bytes.expose()).unwrap();
        let env = probe(attacker, session, SESSIONS - 32 + k, &mut rng);
        assert_eq!(classify(m.handle(env, &mut rng)), Answer::Refused);
    }
    // So do new ones.
    assert_eq!(
        Presign::new(
            victim,
            pid(2),
            DerivationPath::root(),
            SessionId([1; 32]),
            &mut rng
        )
        .unwrap_err(),
        Error::Banned { party: pid(2) }
    );
}

#[test]
fn two_workers_sharing_one_store_stop_at_the_first_failure() {
    let mut rng = ChaCha20Rng::seed_from_u64(1301);
    let stores = stores(2, 1301);
    let (victim, attacker) = (&stores[&pid(1)], &stores[&pid(2)]);
    let sessions = victim_sessions(victim, &mut rng);
    // The attacker's probes, prepared in advance; the victim's two workers share its store.
    let mut work: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(k, (s, m))| (m, probe(attacker, &s, k, &mut rng)))
        .collect();
    let second = work.split_off(SESSIONS / 2);
    let run = |batch: Vec<(Presign<&MemoryKeyStore>, Envelope<PresignMessage>)>, seed: u64| {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        batch
            .into_iter()
            .map(|(mut m, env)| classify(m.handle(env, &mut rng)))
            .collect::<Vec<_>>()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(work, 1));
        let b = s.spawn(|| run(second, 2));
        (a.join().unwrap(), b.join().unwrap())
    });
    let all: Vec<&Answer> = a.iter().chain(&b).collect();
    assert_eq!(all.iter().filter(|x| ***x == Answer::Failed).count(), 1);
    // Each worker stops at its first failure or refusal: once one refusal is seen, the ban was
    // recorded, and every later session of that worker is refused.
    for w in [&a, &b] {
        if let Some(i) = w.iter().position(|x| *x != Answer::Passed) {
            assert!(w[i + 1..].iter().all(|x| *x == Answer::Refused), "{w:?}");
        }
    }
    // What the attacker learnt: the passes before the ban and the one failure.
    let passes = all.iter().filter(|x| ***x == Answer::Passed).count();
    assert!(passes < 40, "{passes} passes");
    assert_eq!(victim.banned().unwrap(), vec![pid(2)]);
}

#[test]
fn the_honest_party_keeps_a_working_key_after_a_ban() {
    // 2-of-3: P2 cheats, P1 bans it and still signs with P3.
    let mut rng = ChaCha20Rng::seed_from_u64(1302);
    let stores = stores(3, 1302);
    let session = SessionId::random(&mut rng);
    let mut m = Presign::new(
        &stores[&pid(1)],
        pid(2),
        DerivationPath::root(),
        session,
        &mut rng,
    )
    .unwrap();
    let _ = m.start(&mut rng).unwrap();
    let mut answer = Answer::Passed;
    for k in 1..127 {
        // One session per probe until one fails (fresh sessions, as the attacker would).
        let s = SessionId::random(&mut rng);
        let mut v = Presign::new(
            &stores[&pid(1)],
            pid(2),
            DerivationPath::root(),
            s,
            &mut rng,
        )
        .unwrap();
        let _ = v.start(&mut rng).unwrap();
        answer = classify(v.handle(probe(&stores[&pid(2)], &s, k, &mut rng), &mut rng));
        if answer != Answer::Passed {
            break;
        }
    }
    assert_eq!(answer, Answer::Failed);
    // The session opened before the ban is refused too.
    assert_eq!(
        classify(m.handle(probe(&stores[&pid(2)], &session, 5, &mut rng), &mut rng)),
        Answer::Refused
    );
    let info = presign(&stores, 1, 3, &DerivationPath::parse("m/1").unwrap(), 1303);
    let (sig, recid) = sign_both(&stores, &info, &[3; 32]);
    let vk = k256::ecdsa::VerifyingKey::recover_from_prehash(&[3; 32], &sig, recid).unwrap();
    assert_eq!(vk, info.verifying_key().unwrap());
}

// ------------------------------------------------------------------------------------------
// Epochs
// ------------------------------------------------------------------------------------------

fn run_all<P: Protocol>(
    mut machines: BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
) -> BTreeMap<PartyId, P::Output> {
    let mut queue = std::collections::VecDeque::new();
    let mut out = BTreeMap::new();
    let ids: Vec<PartyId> = machines.keys().copied().collect();
    for id in ids {
        match machines.get_mut(&id).unwrap().start(rng).unwrap() {
            Step::Continue(e) => queue.extend(e),
            Step::Done(e, o) => {
                queue.extend(e);
                out.insert(id, o);
            }
        }
    }
    while let Some(env) = queue.pop_front() {
        let Recipient::One(to) = env.recipient else {
            panic!("broadcast")
        };
        match deliver(&mut machines, env, rng).unwrap() {
            Step::Continue(e) => queue.extend(e),
            Step::Done(e, o) => {
                queue.extend(e);
                out.insert(to, o);
            }
        }
    }
    out
}

/// New shares of the same key for `parties` (a dealer's sharing of the key of `stores`, as a
/// reshare computes it without a dealer), then fresh OT setups: the key shares of the next epoch.
fn next_epoch(
    stores: &Stores,
    parties: &[u16],
    rng: &mut ChaCha20Rng,
) -> BTreeMap<PartyId, KeyShare> {
    let mut it = stores.keys();
    let (a, b) = (*it.next().unwrap(), *it.next().unwrap());
    let sk = stores[&a]
        .with_key(|x| {
            stores[&b]
                .with_key(|y| export_private_key(x, y, &DerivationPath::root()).unwrap())
                .unwrap()
        })
        .unwrap();
    let old = stores[&a].public_package().unwrap();
    let slope = SecretScalar::<Secp256k1>::random(rng);
    let parties = Parties::new(parties.iter().map(|p| pid(*p)).collect::<Vec<_>>()).unwrap();
    let commitments = vec![
        old.public_key(),
        k256::ProjectivePoint::GENERATOR * slope.expose(),
    ];
    let session = SessionId::random(rng);
    let machines = parties
        .iter()
        .map(|p| {
            let share =
                SecretScalar::new(*sk.expose() + *slope.expose() * p.to_scalar::<Secp256k1>());
            let input = ResetupInput::new(
                p,
                parties.clone(),
                share,
                commitments.clone(),
                *old.chain_code(),
                old.epoch() + 1,
                *old.key_id(),
            );
            (p, Resetup::new(session, input).unwrap())
        })
        .collect();
    run_all(machines, rng)
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect()
}

/// A presign between P1 and P2 with round 1 delivered both ways and the round-2 answers
/// held back: the machines and those answers.
fn presign_until_round2<'a>(
    stores: &'a Stores,
    rng: &mut ChaCha20Rng,
) -> (
    BTreeMap<PartyId, PresignOn<'a>>,
    Vec<Envelope<PresignMessage>>,
) {
    let session = SessionId::random(rng);
    let mut machines = BTreeMap::new();
    for (me, other) in [(1, 2), (2, 1)] {
        let m = Presign::new(
            &stores[&pid(me)],
            pid(other),
            DerivationPath::root(),
            session,
            rng,
        );
        machines.insert(pid(me), m.unwrap());
    }
    let mut queue = Vec::new();
    for m in machines.values_mut() {
        if let Step::Continue(e) = m.start(rng).unwrap() {
            queue.extend(e);
        }
    }
    let mut round2 = Vec::new();
    for env in queue {
        if let Step::Continue(e) = deliver(&mut machines, env, rng).unwrap() {
            round2.extend(e);
        }
    }
    (machines, round2)
}

#[test]
fn a_refresh_ends_every_path_by_which_an_old_presignature_could_sign() {
    let mut rng = ChaCha20Rng::seed_from_u64(1310);
    let stores = stores(2, 1310);
    let hash = [0x31; 32];
    // Epoch-0 material left over at refresh time: two presignatures, a presign state before
    // round 2, a sign state before start.
    let unused = presign(&stores, 1, 2, &DerivationPath::root(), 1311);
    let for_sign = presign(&stores, 1, 2, &DerivationPath::root(), 1312);
    let sign_state = Sign::new(&stores[&pid(1)], for_sign.clone(), hash)
        .unwrap()
        .save();
    let (half, round2) = presign_until_round2(&stores, &mut rng);
    let saved_presign = half[&pid(1)].save();
    let old_public = stores[&pid(1)].public_package().unwrap();
    let old_share_bytes = stores[&pid(1)].encode_key().unwrap();

    // Refresh: same parties, new shares, new OT setups; installed in both stores.
    let next = next_epoch(&stores, &[1, 2], &mut rng);
    for (p, k) in next {
        stores[&p].install(k, &[]).unwrap();
    }
    assert_eq!(stores[&pid(1)].epoch().unwrap(), 1);
    assert_eq!(
        stores[&pid(1)].presignatures().unwrap(),
        0,
        "old presignatures erased"
    );

    // 1. partial_sign with an old presignature.
    let e = partial_sign(&stores[&pid(1)], &unused, &hash).unwrap_err();
    assert_eq!(
        e,
        Error::WrongEpoch {
            current: 1,
            found: 0
        }
    );
    // 2. A sign state of epoch 0, restored and started.
    let mut s = Sign::restore(&stores[&pid(1)], &sign_state).unwrap();
    assert_eq!(
        s.start(&mut rng).unwrap_err(),
        Error::WrongEpoch {
            current: 1,
            found: 0
        }
    );
    // 3. A presign state of epoch 0, restored and given its round-2 answer.
    let mut p = Presign::restore(&stores[&pid(1)], saved_presign.expose()).unwrap();
    let answer = round2
        .into_iter()
        .find(|e| e.recipient == Recipient::One(pid(1)))
        .unwrap();
    assert_eq!(
        p.handle(answer, &mut rng).unwrap_err(),
        Error::WrongEpoch {
            current: 1,
            found: 0
        }
    );
    // 4. A new presign with the old key share, re-installed: an older epoch is refused.
    let old = KeyShare::from_bytes(old_share_bytes.expose()).unwrap();
    let old_id = *old.key_id();
    let refused = stores[&pid(1)].install(old, &[]).unwrap_err();
    assert_eq!(refused, Error::Params(wallet_types::ParamError::Mismatch));
    // The refused share is handed back, not dropped.
    assert_eq!(refused.share.as_ref().map(|k| *k.key_id()), Some(old_id));
    // 5. Combining partials under the old public package: the current package refuses the old
    // presignature, and the old package is not the current one.
    assert_ne!(
        old_public.key_id(),
        stores[&pid(1)].public_package().unwrap().key_id()
    );
    // The new epoch signs, same public key.
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 1313);
    assert_eq!(info.epoch, 1);
    assert_eq!(info.public_key, old_public.public_key());
    sign_both(&stores, &info, &hash);
    let (a, b) = partials(
        &stores,
        &presign(&stores, 1, 2, &DerivationPath::root(), 1314),
        &hash,
    );
    assert!(matches!(
        combine(&old_public, &info, &hash, &a, &b),
        Err(Error::WrongEpoch { .. })
    ));
}

#[test]
fn a_device_removed_by_reshare_cannot_co_sign_with_leftovers() {
    let mut rng = ChaCha20Rng::seed_from_u64(1320);
    let mut stores = stores(3, 1320);
    let hash = [0x32; 32];
    // P3 and P1 presigned in epoch 0; then P3 is removed: {1, 2, 3} -> {1, 2, 4}.
    let leftover = presign(&stores, 1, 3, &DerivationPath::root(), 1321);
    let next = next_epoch(&stores, &[1, 2, 4], &mut rng);
    let mut next_stores = Stores::new();
    for (p, k) in next {
        if let Some(s) = stores.get(&p) {
            s.install(k, &[]).unwrap();
        } else {
            next_stores.insert(p, MemoryKeyStore::new(k));
        }
    }
    // P3 (not updated, it was removed) still holds its half; P1 refuses its own.
    let removed = partial_sign(&stores[&pid(3)], &leftover, &hash).unwrap();
    assert_eq!(
        partial_sign(&stores[&pid(1)], &leftover, &hash).unwrap_err(),
        Error::WrongEpoch {
            current: 1,
            found: 0
        }
    );
    // P3 cannot start a new presignature with the new epoch either: P1's machine (epoch 1)
    // rejects P3 as a party outside the key... and its epoch-0 share pairs with nobody new.
    assert!(matches!(
        Presign::new(
            &stores[&pid(1)],
            pid(3),
            DerivationPath::root(),
            SessionId([3; 32]),
            &mut rng
        ),
        Err(Error::Params(_))
    ));
    assert_eq!(
        removed.signer,
        pid(3),
        "the removed device still releases its half, alone"
    );
    // The new set signs.
    let mut all = next_stores;
    for p in [1, 2] {
        all.insert(pid(p), stores.remove(&pid(p)).unwrap());
    }
    let info = presign(&all, 2, 4, &DerivationPath::root(), 1322);
    sign_both(&all, &info, &hash);
}

/// A second store built from a copy of `s`'s key share: what a misconfigured deployment (or an
/// attacker who controls the storage) hands the library.
fn stores_moved(s: &MemoryKeyStore) -> MemoryKeyStore {
    MemoryKeyStore::new(KeyShare::from_bytes(s.encode_key().unwrap().expose()).unwrap())
}

// ------------------------------------------------------------------------------------------
// Single use
// ------------------------------------------------------------------------------------------

#[test]
fn one_presignature_signs_once_through_every_restore() {
    let mut rng = ChaCha20Rng::seed_from_u64(1330);
    let stores = stores(2, 1330);
    let store = &stores[&pid(1)];
    // partial_sign twice.
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 1331);
    partial_sign(store, &info, &[1; 32]).unwrap();
    assert_eq!(
        partial_sign(store, &info, &[2; 32]).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    // A sign state saved before start, restored twice: the second start is refused.
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 1332);
    let saved = Sign::new(store, info.clone(), [3; 32]).unwrap().save();
    let mut first = Sign::restore(store, &saved).unwrap();
    let mut second = Sign::restore(store, &saved).unwrap();
    let _ = first.start(&mut rng).unwrap();
    assert_eq!(
        second.start(&mut rng).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    // Two workers racing to sign with one presignature: exactly one partial is released.
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 1333);
    let results: Vec<bool> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..2u8)
            .map(|i| {
                let info = &info;
                s.spawn(move || partial_sign(store, info, &[10 + i; 32]).is_ok())
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 1);
}

#[test]
fn a_presign_state_restored_twice_finishes_once() {
    let mut rng = ChaCha20Rng::seed_from_u64(1340);
    let stores = stores(2, 1340);
    let (mut machines, mut round2) = presign_until_round2(&stores, &mut rng);
    // P1's state before its round 2, saved; P2 finishes normally.
    let saved = machines[&pid(1)].save();
    let to_p1 = round2
        .iter()
        .position(|e| e.recipient == Recipient::One(pid(1)))
        .unwrap();
    let answer_for_p1 = round2.remove(to_p1);
    let Step::Done(_, info) = deliver(&mut machines, round2.pop().unwrap(), &mut rng).unwrap()
    else {
        panic!("P2 did not finish")
    };
    let mut a = Presign::restore(&stores[&pid(1)], saved.expose()).unwrap();
    let mut b = Presign::restore(&stores[&pid(1)], saved.expose()).unwrap();
    let Step::Done(_, mine) = a.handle(answer_for_p1.clone(), &mut rng).unwrap() else {
        panic!("restored P1 did not finish")
    };
    assert_eq!(mine, info);
    assert_eq!(
        b.handle(answer_for_p1, &mut rng).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    // The one stored presignature signs once.
    sign_both(&stores, &info, &[4; 32]);
    assert_eq!(
        partial_sign(&stores[&pid(1)], &info, &[5; 32]).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
}

// ------------------------------------------------------------------------------------------
// Stale restarts
// ------------------------------------------------------------------------------------------

#[test]
fn a_restart_from_a_pre_start_snapshot_bans_nobody() {
    let mut rng = ChaCha20Rng::seed_from_u64(1350);
    let stores = stores(2, 1350);
    let session = SessionId::random(&mut rng);
    let mut p1 = Presign::new(
        &stores[&pid(1)],
        pid(2),
        DerivationPath::root(),
        session,
        &mut rng,
    )
    .unwrap();
    let mut p2 = Presign::new(
        &stores[&pid(2)],
        pid(1),
        DerivationPath::root(),
        session,
        &mut rng,
    )
    .unwrap();
    let snapshot = p1.save();
    let Step::Continue(before_crash) = p1.start(&mut rng).unwrap() else {
        panic!()
    };
    // P1 crashes and restarts from the snapshot taken before `start`: a new round 1.
    let mut p1 = Presign::restore(&stores[&pid(1)], snapshot.expose()).unwrap();
    let Step::Continue(after_restart) = p1.start(&mut rng).unwrap() else {
        panic!()
    };
    let Step::Continue(p2_round1) = p2.start(&mut rng).unwrap() else {
        panic!()
    };
    // P2 answers the round 1 sent before the crash.
    let Step::Continue(p2_round2) = p2
        .handle(before_crash.into_iter().next().unwrap(), &mut rng)
        .unwrap()
    else {
        panic!()
    };
    // P1 answers P2's round 1, then gets P2's answer to the message it no longer has.
    let _ = p1
        .handle(p2_round1.into_iter().next().unwrap(), &mut rng)
        .unwrap();
    let e = p1
        .handle(p2_round2.into_iter().next().unwrap(), &mut rng)
        .unwrap_err();
    assert_eq!(e, Error::StaleAnswer { sender: pid(2) });
    assert!(e.must_ban().is_empty() && e.culprits().is_empty());
    // P2 sees P1's second round 1 as a second, different message: an equivocation that
    // aborts this session but bans nobody either.
    let e2 = p2
        .handle(after_restart.into_iter().next().unwrap(), &mut rng)
        .unwrap_err();
    assert!(e2.must_ban().is_empty(), "{e2:?}");
    for p in [1, 2] {
        assert!(stores[&pid(p)].banned().unwrap().is_empty());
    }
    // A fresh session works.
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 1351);
    sign_both(&stores, &info, &[6; 32]);
}

#[test]
fn old_wire_objects_decode_to_clear_errors() {
    use wallet_types::DecodeError;
    // Retired kinds of the earlier presign state, sealed presignature, sign state and info.
    for (old, new) in [
        (0x0384u16, 0x039au16),
        (0x0385, 0x0399),
        (0x0387, 0x039b),
        (0x0388, 0x039c),
    ] {
        let bytes = [1u8, (old >> 8) as u8, old as u8, 1, 0, 0];
        let e = match new {
            0x039a => wallet_tss::ecdsa::PresignState::from_bytes(&bytes).map(|_| ()),
            0x039b => wallet_tss::ecdsa::SignState::from_bytes(&bytes).map(|_| ()),
            0x039c => PresignatureInfo::from_bytes(&bytes).map(|_| ()),
            _ => continue,
        }
        .unwrap_err();
        assert!(matches!(e, DecodeError::WrongKind { .. }), "{e:?}");
    }
    // An old sealed presignature handed back by a store: a storage failure, nobody blamed.
    let stores = stores(2, 1360);
    let info = presign(&stores, 1, 2, &DerivationPath::root(), 1361);
    let store = &stores[&pid(1)];
    let mut sealed = wallet_types::OneTimeStore::take(store, &info.key_id, &info.id)
        .unwrap()
        .expose()
        .to_vec();
    sealed[2] = 0x85; // the retired kind 0x0385
    let forged = stores_moved(store);
    wallet_types::OneTimeStore::put(
        &forged,
        &info.key_id,
        &info.id,
        wallet_types::SecretVec::new(sealed),
    )
    .unwrap();
    let e = partial_sign(&forged, &info, &[1; 32]).unwrap_err();
    assert_eq!(e, Error::Store(StoreError::Unavailable));
}
