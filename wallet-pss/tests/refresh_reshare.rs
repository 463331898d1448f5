//! Refresh and reshare through the simulator: correctness on both curves and the adversarial
//! cases of issue 8 (a dealer whose sub-share fails Feldman verification is named; a dealer who
//! changes the group key is caught; a removed party cannot use its old share; a replayed
//! old-epoch message is refused).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_pss::ecies;
use wallet_pss::{
    DeliveryFault, KeyShare, PssError, Refresh, RefreshMessage, Reshare, ReshareConfig,
    ReshareMessage, ReshareOutput, combine_sealed, deal_sealed, verify_sealed_dealings,
};
use wallet_sss::{Commitments, Polynomial, Share, ShareSetId};
use wallet_types::sim::{Fault, FaultRule, Simulator};
use wallet_types::{
    Curve, Ed25519, Error, Parties, PartyId, Reason, Secp256k1, SecretScalar, SessionId,
    Termination,
};

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

/// A dealer-split key (as a test fixture; in production keys come from a DKG).
fn dealt<C: Curve>(
    t: usize,
    ids: &[u16],
    rng: &mut ChaCha20Rng,
) -> (SecretScalar<C>, Vec<KeyShare<C>>) {
    let secret = SecretScalar::<C>::random(rng);
    let f = Polynomial::<C>::random(secret.duplicate(), t, rng).unwrap();
    let c = f.commit();
    let parties = Parties::from_ids(ids).unwrap();
    let keys = parties
        .iter()
        .map(|p| KeyShare::new(p, t, parties.clone(), f.share_for(p), c.clone(), 0).unwrap())
        .collect();
    (secret, keys)
}

/// Interpolates the secret from key shares (the test's view; never done in production).
fn interpolate<C: Curve>(keys: &[&KeyShare<C>]) -> C::Scalar {
    let t = keys[0].threshold();
    let set = ShareSetId([0; 16]);
    let shares: Vec<Share<C>> = keys
        .iter()
        .map(|k| Share::new(set, t, k.me(), k.share().duplicate()).unwrap())
        .collect();
    *wallet_sss::reconstruct(&shares).unwrap().expose()
}

fn run_refresh<C: Curve>(
    keys: Vec<KeyShare<C>>,
    seed: u64,
    setup: impl FnOnce(&mut Simulator<Refresh<C>>),
) -> wallet_types::sim::Outcome<Termination<KeyShare<C>>> {
    let mut sim = Simulator::new(seed);
    let session = SessionId([seed as u8; 32]);
    for k in &keys {
        let m = Refresh::new(session, k, sim.rng()).unwrap();
        sim.add(m);
    }
    setup(&mut sim);
    sim.run()
}

fn refresh_keeps_key<C: Curve>(t: usize, n: u16) {
    let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
    let ids: Vec<u16> = (1..=n).collect();
    let (secret, keys) = dealt::<C>(t, &ids, &mut rng);
    let pk = keys[0].public_key();
    let old: BTreeMap<PartyId, C::Scalar> =
        keys.iter().map(|k| (k.me(), *k.share().expose())).collect();
    let out = run_refresh(keys, 1, |s| {
        s.restore_every_step(true);
    });
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), n as usize);
    assert!(out.outputs.values().all(|o| o.is_confirmed()));
    for k in out.outputs.values().map(|o| o.result()) {
        assert_eq!(k.public_key(), pk);
        assert_eq!(k.epoch(), 1);
        assert_ne!(*k.share().expose(), old[&k.me()], "share not renewed");
    }
    // Any t new shares give the same secret.
    let new: Vec<&KeyShare<C>> = out.outputs.values().map(|o| o.result()).collect();
    for w in new.windows(t) {
        assert_eq!(interpolate(w), *secret.expose());
    }
    // Mixing epochs: t−1 new shares plus one old share do not give the secret.
    if t >= 2 {
        let p = new[t - 1].me();
        let mut xs: Vec<(PartyId, C::Scalar)> = new[..t - 1]
            .iter()
            .map(|k| (k.me(), *k.share().expose()))
            .collect();
        xs.push((p, old[&p]));
        assert_ne!(raw_interpolate::<C>(&xs), *secret.expose());
    }
}

fn raw_interpolate<C: Curve>(xs: &[(PartyId, C::Scalar)]) -> C::Scalar {
    let ids: Vec<PartyId> = xs.iter().map(|(p, _)| *p).collect();
    xs.iter()
        .map(|(p, s)| wallet_sss::lagrange_at_zero::<C>(&ids, *p).unwrap() * s)
        .sum()
}

fn dup<C: Curve>(k: &KeyShare<C>) -> KeyShare<C> {
    KeyShare::new(
        k.me(),
        k.threshold(),
        k.parties().clone(),
        k.share().duplicate(),
        k.commitments().clone(),
        k.epoch(),
    )
    .unwrap()
}

#[test]
fn refresh_2_of_3_and_3_of_5_both_curves() {
    refresh_keeps_key::<Secp256k1>(2, 3);
    refresh_keeps_key::<Ed25519>(2, 3);
    refresh_keeps_key::<Secp256k1>(3, 5);
    refresh_keeps_key::<Ed25519>(3, 5);
}

#[test]
fn refresh_dealer_changing_the_key_is_named() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (_, keys) = dealt::<Secp256k1>(2, &[1, 2, 3], &mut rng);
    let out = run_refresh(keys, 2, |s| {
        // P2 deals a sharing of 1 instead of 0: consistent commitments and sub-shares, but the
        // group key would move.
        s.rule(
            FaultRule::any(Fault::tamper_payload(
                |m: &mut RefreshMessage<Secp256k1>| {
                    if let RefreshMessage::Deal {
                        commitments,
                        sub_share,
                    } = m
                    {
                        let g = Secp256k1::mul_base(&k256::Scalar::ONE);
                        let mut pts = commitments.points().to_vec();
                        pts[0] += g;
                        *commitments = Commitments::new(pts).unwrap();
                        *sub_share.expose_mut() += k256::Scalar::ONE;
                    }
                },
            ))
            .from(pid(2))
            .round(1)
            .times(10),
        );
    });
    assert_eq!(out.failures.len(), 2);
    for e in out.failures.values() {
        assert_eq!(e, &Error::blame(pid(2), Reason::PublicKeyMismatch));
    }
}

#[test]
fn refresh_bad_sub_share_is_named() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (_, keys) = dealt::<Ed25519>(2, &[1, 2, 3], &mut rng);
    let out = run_refresh(keys, 3, |s| {
        s.rule(
            FaultRule::any(Fault::tamper_payload(|m: &mut RefreshMessage<Ed25519>| {
                if let RefreshMessage::Deal { sub_share, .. } = m {
                    *sub_share.expose_mut() += curve25519_dalek::Scalar::ONE;
                }
            }))
            .from(pid(3))
            .to(pid(1))
            .round(1),
        );
    });
    assert_eq!(
        out.failures.get(&pid(1)),
        Some(&Error::blame(pid(3), Reason::InvalidShare))
    );
}

#[test]
fn refresh_equivocating_dealer_is_caught_by_confirmation() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (_, keys) = dealt::<Secp256k1>(2, &[1, 2, 3], &mut rng);
    let out = run_refresh(keys, 4, |s| {
        // P1 sends P3 a *different*, internally consistent zero-sharing.
        s.rule(
            FaultRule::any(Fault::tamper_payload(
                |m: &mut RefreshMessage<Secp256k1>| {
                    if let RefreshMessage::Deal {
                        commitments,
                        sub_share,
                    } = m
                    {
                        let mut r = ChaCha20Rng::seed_from_u64(99);
                        let f = Polynomial::<Secp256k1>::random(SecretScalar::zero(), 2, &mut r)
                            .unwrap();
                        *commitments = f.commit();
                        *sub_share = f.share_for(PartyId::new(3).unwrap());
                    }
                },
            ))
            .from(pid(1))
            .to(pid(3))
            .round(1),
        );
    });
    // Nobody may be confirmed with an inconsistent sharing; nobody drops its new share either.
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.outputs.len(), 3);
    let declined = |p: u16| match &out.outputs[&pid(p)] {
        Termination::Unconfirmed(u) if !u.acknowledged => u.disagreeing.clone(),
        other => panic!("P{p}: {other:?}"),
    };
    // P3 saw other commitments than P1 and P2: each side names the other's confirmation.
    assert_eq!(declined(3), [pid(1), pid(2)]);
    assert_eq!(declined(2), [pid(3)]);
    assert_eq!(declined(1), [pid(3)]);
}

#[test]
fn refresh_replayed_old_session_messages_are_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (_, keys) = dealt::<Secp256k1>(2, &[1, 2, 3], &mut rng);
    let copies: Vec<KeyShare<Secp256k1>> = keys.iter().map(dup).collect();
    let mut first = Simulator::new(1);
    for k in &keys {
        let m = Refresh::new(SessionId([1; 32]), k, first.rng()).unwrap();
        first.add(m);
    }
    assert_eq!(first.run().outputs.len(), 3);
    let old_msgs = first.sent().to_vec();
    let mut second = Simulator::new(2);
    for k in &copies {
        let m = Refresh::new(SessionId([2; 32]), k, second.rng()).unwrap();
        second.add(m);
    }
    for env in &old_msgs {
        for p in [1, 2, 3].map(pid).into_iter().filter(|p| *p != env.sender) {
            second.inject(p, env.clone());
        }
    }
    let out = second.run();
    assert_eq!(out.outputs.len(), 3, "{:?}", out.failures);
    assert!(!out.rejections.is_empty());
    assert!(
        out.rejections
            .iter()
            .all(|(_, e)| matches!(e, Error::WrongSession { .. }))
    );
}

// ------------------------------------------------------------------------------------------
// Reshare
// ------------------------------------------------------------------------------------------

fn config<C: Curve>(
    keys: &[KeyShare<C>],
    dealers: &[u16],
    new: &[u16],
    t_new: usize,
) -> ReshareConfig<C> {
    ReshareConfig {
        old_commitments: keys[0].commitments().clone(),
        old_parties: keys[0].parties().clone(),
        old_epoch: keys[0].epoch(),
        dealers: Parties::from_ids(dealers).unwrap(),
        new_parties: Parties::from_ids(new).unwrap(),
        new_threshold: t_new,
        allow_threshold_one: false,
    }
}

fn run_reshare<C: Curve>(
    keys: Vec<KeyShare<C>>,
    cfg: &ReshareConfig<C>,
    seed: u64,
    setup: impl FnOnce(&mut Simulator<Reshare<C>>),
) -> wallet_types::sim::Outcome<ReshareOutput<C>> {
    let session = SessionId([0x50 + seed as u8; 32]);
    let mut sim = Simulator::new(seed);
    let by_id: BTreeMap<PartyId, KeyShare<C>> = keys.into_iter().map(|k| (k.me(), k)).collect();
    let everyone: std::collections::BTreeSet<PartyId> =
        cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0x5e5e);
    for p in everyone {
        let old = by_id.get(&p).filter(|_| cfg.dealers.contains(p));
        sim.add(Reshare::new(session, cfg.clone(), p, old, &mut rng).unwrap());
    }
    setup(&mut sim);
    sim.run()
}

fn new_shares<C: Curve>(out: &wallet_types::sim::Outcome<ReshareOutput<C>>) -> Vec<&KeyShare<C>> {
    out.outputs
        .values()
        .filter_map(|o| match o {
            ReshareOutput::NewShare { share, .. } => Some(share),
            _ => None,
        })
        .collect()
}

fn reshare_case<C: Curve>(t: usize, old: &[u16], dealers: &[u16], new: &[u16], t_new: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(old.len() as u64 * 31 + new.len() as u64);
    let (secret, keys) = dealt::<C>(t, old, &mut rng);
    let pk = keys[0].public_key();
    let removed: Vec<KeyShare<C>> = keys
        .iter()
        .filter(|k| !new.contains(&k.me().get()))
        .map(dup)
        .collect();
    let cfg = config(&keys, dealers, new, t_new);
    let out = run_reshare(keys, &cfg, 7, |s| {
        s.reorder(true).restore_every_step(true);
    });
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let fresh = new_shares(&out);
    assert_eq!(fresh.len(), new.len());
    for k in &fresh {
        assert_eq!(k.public_key(), pk);
        assert_eq!(k.threshold(), t_new);
        assert_eq!(k.epoch(), 1);
    }
    // Dealers that left report Dealt, under the hash every new party acknowledged.
    let h = *out.outputs[&pid(new[0])].transcript_hash().unwrap();
    for d in dealers.iter().filter(|d| !new.contains(d)) {
        assert!(matches!(
            out.outputs.get(&pid(*d)),
            Some(ReshareOutput::Dealt { transcript_hash }) if *transcript_hash == h
        ));
    }
    assert!(out.outputs.values().all(|o| o.may_delete_old_share()));
    // Every t'-window of new shares reconstructs; t' − 1 do not determine it.
    for w in fresh.windows(t_new) {
        assert_eq!(interpolate(w), *secret.expose());
    }
    if t_new >= 2 {
        let xs: Vec<(PartyId, C::Scalar)> = fresh[..t_new - 1]
            .iter()
            .map(|k| (k.me(), *k.share().expose()))
            .collect();
        assert_ne!(raw_interpolate::<C>(&xs), *secret.expose());
    }
    // A removed party's old share with t' − 1 new shares is useless.
    for r in &removed {
        if t_new >= 2 {
            let mut xs: Vec<(PartyId, C::Scalar)> = fresh[..t_new - 1]
                .iter()
                .map(|k| (k.me(), *k.share().expose()))
                .collect();
            xs.push((r.me(), *r.share().expose()));
            assert_ne!(raw_interpolate::<C>(&xs), *secret.expose());
        }
    }
}

#[test]
fn reshare_add_a_device() {
    // 2-of-3 → 2-of-4: device 4 joins; dealers 1, 2.
    reshare_case::<Secp256k1>(2, &[1, 2, 3], &[1, 2], &[1, 2, 3, 4], 2);
    reshare_case::<Ed25519>(2, &[1, 2, 3], &[1, 2], &[1, 2, 3, 4], 2);
}

#[test]
fn reshare_remove_a_device() {
    // 2-of-3 → 2-of-2 without party 1, which is one of the dealers (in the old set only).
    reshare_case::<Secp256k1>(2, &[1, 2, 3], &[1, 2], &[2, 3], 2);
    reshare_case::<Ed25519>(2, &[1, 2, 3], &[1, 3], &[2, 3], 2);
}

#[test]
fn reshare_raise_and_lower_threshold() {
    // 2-of-3 → 3-of-5, with parties in both sets and parties only in one.
    reshare_case::<Secp256k1>(2, &[1, 2, 3], &[2, 3], &[1, 3, 4, 5, 6], 3);
    reshare_case::<Ed25519>(2, &[1, 2, 3], &[1, 2, 3], &[1, 2, 3, 4, 5], 3);
    // 3-of-5 → 2-of-3.
    reshare_case::<Secp256k1>(3, &[1, 2, 3, 4, 5], &[1, 4, 5], &[2, 4, 7], 2);
    // 2-of-3 → 3-of-3.
    reshare_case::<Ed25519>(2, &[1, 2, 3], &[1, 2], &[1, 2, 3], 3);
}

#[test]
fn reshare_dealer_changing_the_key_is_named() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let (_, keys) = dealt::<Secp256k1>(2, &[1, 2, 3], &mut rng);
    let cfg = config(&keys, &[1, 2], &[1, 2, 3, 4], 2);
    let out = run_reshare(keys, &cfg, 8, |s| {
        // Dealer 2 shifts its whole polynomial by 5 (consistent commitments and sub-shares).
        s.rule(
            FaultRule::any(Fault::tamper_payload(
                |m: &mut ReshareMessage<Secp256k1>| {
                    if let ReshareMessage::Deal {
                        commitments,
                        sub_share,
                    } = m
                    {
                        let five = k256::Scalar::from(5u64);
                        let mut pts = commitments.points().to_vec();
                        pts[0] += Secp256k1::mul_base(&five);
                        *commitments = Commitments::new(pts).unwrap();
                        *sub_share.expose_mut() += five;
                    }
                },
            ))
            .from(pid(2))
            .round(1)
            .times(10),
        );
    });
    assert!(out.failures.len() >= 3);
    for (p, e) in &out.failures {
        if *p != pid(2) {
            assert_eq!(e, &Error::blame(pid(2), Reason::PublicKeyMismatch), "{p}");
        }
    }
    assert!(new_shares(&out).is_empty());
}

#[test]
fn reshare_bad_sub_share_is_named() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let (_, keys) = dealt::<Ed25519>(2, &[1, 2, 3], &mut rng);
    let cfg = config(&keys, &[2, 3], &[1, 2, 3], 3);
    let out = run_reshare(keys, &cfg, 9, |s| {
        s.rule(
            FaultRule::any(Fault::FlipBit)
                .from(pid(3))
                .to(pid(1))
                .round(1),
        );
    });
    let e = out.failures.get(&pid(1)).expect("P1 must notice");
    assert_eq!(e.culprits(), &[pid(3)]);
}

#[test]
fn reshare_offline_recipients_with_sealed_dealings() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let (secret, keys) = dealt::<Secp256k1>(2, &[1, 2, 3], &mut rng);
    let cfg = config(&keys, &[1, 3], &[3, 4, 5], 2);
    let session = SessionId([0x77; 32]);
    // Factor keys of the new parties (one per device / backup).
    let factors: BTreeMap<PartyId, SecretScalar<Secp256k1>> = cfg
        .new_parties
        .iter()
        .map(|p| (p, SecretScalar::random(&mut rng)))
        .collect();
    let public: BTreeMap<PartyId, _> = factors.iter().map(|(p, s)| (*p, s.public())).collect();
    let dealings: Vec<_> = keys
        .iter()
        .filter(|k| cfg.dealers.contains(k.me()))
        .map(|k| deal_sealed(&session, &cfg, k, &public, &mut rng).unwrap())
        .collect();
    // Posted to a store as bytes and picked up later.
    let stored: Vec<Vec<u8>> = dealings
        .iter()
        .map(wallet_types::WireObject::to_bytes)
        .collect();
    let picked: Vec<_> = stored
        .iter()
        .map(|b| {
            <wallet_pss::SealedDealing<Secp256k1> as wallet_types::WireObject>::from_bytes(b)
                .unwrap()
        })
        .collect();
    let outcomes: Vec<_> = cfg
        .new_parties
        .iter()
        .map(|p| combine_sealed(&session, &cfg, p, &factors[&p], &picked).unwrap())
        .collect();
    // Every new party combined the same dealings, and anyone can check that hash.
    let h = verify_sealed_dealings(&session, &cfg, &picked).unwrap();
    assert!(outcomes.iter().all(|o| o.dealings_hash == h));
    let fresh: Vec<KeyShare<Secp256k1>> = outcomes.into_iter().map(|o| o.share).collect();
    let refs: Vec<&KeyShare<Secp256k1>> = fresh.iter().collect();
    assert_eq!(interpolate(&refs[..2]), *secret.expose());
    assert_eq!(fresh[0].public_key(), keys[0].public_key());
    // A removed party (2) cannot open anything of the new epoch with its old share or a key
    // of its own.
    let outsider = &keys[1];
    let ctx = ecies::Context {
        session,
        epoch: 1,
        recipient: pid(3),
    };
    let ct = picked[0].sealed.get(&pid(3)).unwrap();
    assert_eq!(
        ecies::open(outsider.share(), &ctx, ct).unwrap_err(),
        PssError::Decrypt
    );
    // A missing dealing, or a factor key the dealers did not seal to, is the store's or the
    // caller's problem: refused without blaming a dealer.
    assert_eq!(
        combine_sealed(&session, &cfg, pid(4), &factors[&pid(4)], &picked[..1]).unwrap_err(),
        PssError::StoreDelivered {
            dealing_of: pid(3),
            fault: DeliveryFault::Missing
        }
    );
    assert_eq!(
        combine_sealed(&session, &cfg, pid(4), &factors[&pid(5)], &picked).unwrap_err(),
        PssError::StoreDelivered {
            dealing_of: pid(1),
            fault: DeliveryFault::Undecryptable
        }
    );
    // Replayed into another session: a dealing of another run.
    assert_eq!(
        combine_sealed(
            &SessionId([0x78; 32]),
            &cfg,
            pid(4),
            &factors[&pid(4)],
            &picked
        )
        .unwrap_err(),
        PssError::StoreDelivered {
            dealing_of: pid(1),
            fault: DeliveryFault::OtherRun
        }
    );
}
