//! Termination attacks (docs/invariants.md, invariant 11): a party below the threshold sends a right
//! last-round message to some parties and a wrong one (or none) to others, to make honest
//! parties end differently — some finishing, others dropping what they computed — or delete an
//! old share while the new sharing is not held by every honest party.
//!
//! Every test asserts each honest party's outcome and the parties it names, that all parties
//! that say Confirmed agree, that every unconfirmed party still holds its computed result, and
//! that the key is alive afterwards: the old shares (which the machines only borrowed) and,
//! where the new results are all held, the new ones reconstruct the public key and sign.
//!
//! Sections: refresh (`wallet_pss::Refresh`), with the retried confirmation
//! (`wallet_types::reconfirm`) and the deletion rule (`release_old_share`); the ECDSA refresh
//! end to end (refresh, resetup, `install_confirmed`). The FROST DKG's are
//! in `wallet-tss/tests/frost_dkg_sim.rs` (module `termination`), the ECDSA key generation's in
//! `wallet-tss/tests/ecdsa_lifecycle/keygen.rs`.

mod refresh {
    use std::collections::BTreeMap;

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_pss::frost::from_key_share;
    use wallet_pss::refresh::{KIND_REFRESH_MESSAGE, KIND_REFRESH_STATE, test_message};
    use wallet_pss::{KeepOldShare, KeyShare, Refresh, RefreshMessage, release_old_share};
    use wallet_sss::{Commitments, Polynomial, Share, ShareSetId};
    use wallet_tss::frost::{Ciphersuite, KeyPackage, Signature, aggregate, round1, round2};
    use wallet_types::reconfirm::Reconfirm;
    use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
    use wallet_types::{
        Acknowledgement, Curve, DecodeError, Ed25519, ParamError, Parties, PartyId, Protocol,
        Secp256k1, SecretScalar, SessionId, Termination, Unconfirmed, WireObject,
    };

    fn pid(n: u16) -> PartyId {
        PartyId::new(n).unwrap()
    }

    /// A dealer-split key (test fixture; in production keys come from a DKG).
    fn dealt<C: Curve>(t: usize, n: u16, rng: &mut ChaCha20Rng) -> Vec<KeyShare<C>> {
        let f = Polynomial::<C>::random(SecretScalar::random(rng), t, rng).unwrap();
        let c = f.commit();
        let parties = Parties::range(n).unwrap();
        parties
            .iter()
            .map(|p| KeyShare::new(p, t, parties.clone(), f.share_for(p), c.clone(), 0).unwrap())
            .collect()
    }

    type Run<C> = Outcome<Termination<KeyShare<C>>>;

    /// A refresh of `keys` (each party lends its share) with `faults` installed.
    fn run<C: Curve>(
        keys: &[KeyShare<C>],
        seed: u64,
        faults: impl FnOnce(&mut Simulator<Refresh<C>>),
    ) -> (Run<C>, Simulator<Refresh<C>>) {
        let mut sim = Simulator::new(seed);
        for k in keys {
            let m = Refresh::new(SessionId([seed as u8; 32]), k, sim.rng()).unwrap();
            sim.add(m);
        }
        faults(&mut sim);
        let out = sim.run();
        (out, sim)
    }

    fn unconfirmed<C: Curve>(out: &Run<C>, p: u16) -> &Unconfirmed<KeyShare<C>> {
        match out.outputs.get(&pid(p)) {
            Some(Termination::Unconfirmed(u)) => u,
            other => panic!("P{p}: expected unconfirmed, got {other:?}"),
        }
    }

    /// The public key `shares` reconstruct (wallet-sss).
    fn reconstructed<C: Curve>(shares: &[&KeyShare<C>]) -> C::Point {
        let t = shares[0].threshold();
        let set = ShareSetId([0; 16]);
        let shares: Vec<Share<C>> = shares
            .iter()
            .map(|k| Share::new(set, t, k.me(), k.share().duplicate()).unwrap())
            .collect();
        wallet_sss::reconstruct(&shares).unwrap().public()
    }

    /// A FROST signature (RFC 9591) of `msg` by `signers`.
    fn frost_sign<C: Ciphersuite>(
        signers: &[&KeyShare<C>],
        msg: &[u8],
        rng: &mut ChaCha20Rng,
    ) -> Signature<C> {
        let kps: Vec<KeyPackage<C>> = signers.iter().map(|k| from_key_share(k).unwrap()).collect();
        let mut nonces = BTreeMap::new();
        let mut commitments = BTreeMap::new();
        for k in &kps {
            let (mut n, c) = round1::preprocess(k, 1, rng);
            nonces.insert(k.id(), n.remove(0));
            commitments.insert(k.id(), c[0]);
        }
        let package = round2::SigningPackage::new(commitments, msg.to_vec()).unwrap();
        let shares = kps
            .iter()
            .map(|k| {
                let n = nonces.remove(&k.id()).unwrap();
                (k.id(), round2::sign(&package, n, k).unwrap())
            })
            .collect();
        aggregate::aggregate(&package, &shares, kps[0].public()).unwrap()
    }

    /// `shares` (a threshold of one epoch) reconstruct `pk` and make a FROST signature under it.
    fn alive<C: Ciphersuite>(shares: &[&KeyShare<C>], pk: &C::Point, rng: &mut ChaCha20Rng) {
        assert_eq!(&reconstructed(shares), pk);
        let sig = frost_sign(shares, b"the key survived", rng);
        assert!(sig.verify(pk, b"the key survived"));
    }

    /// After any run: the old shares are intact and alive; every output holds a new share of
    /// the next epoch under the same key; all Confirmed outputs agree on the transcript hash;
    /// every pair of parties holding new shares under one hash reconstructs and signs.
    fn key_survives<C: Ciphersuite>(keys: &[KeyShare<C>], out: &Run<C>, rng: &mut ChaCha20Rng) {
        let pk = keys[0].public_key();
        let old: Vec<&KeyShare<C>> = keys.iter().collect();
        for w in old.windows(keys[0].threshold()) {
            alive(w, &pk, rng);
        }
        let confirmed: Vec<&[u8; 32]> = out
            .outputs
            .values()
            .filter(|o| o.is_confirmed())
            .map(|o| o.transcript_hash())
            .collect();
        assert!(
            confirmed.windows(2).all(|w| w[0] == w[1]),
            "confirmed parties disagree"
        );
        let mut by_hash: BTreeMap<[u8; 32], Vec<&KeyShare<C>>> = BTreeMap::new();
        for o in out.outputs.values() {
            let k = o.result();
            assert_eq!(k.public_key(), pk);
            assert_eq!(k.epoch(), keys[0].epoch() + 1);
            by_hash.entry(*o.transcript_hash()).or_default().push(k);
        }
        for shares in by_hash.values() {
            for w in shares.windows(keys[0].threshold()) {
                alive(w, &pk, rng);
            }
        }
    }

    /// P3 confirms a wrong transcript hash to P1 only. P1 declines, naming P3, and keeps its new
    /// share; the others acknowledged, get P1's decline and end unconfirmed (acknowledged),
    /// naming P1. Nobody is Confirmed, so nobody may delete an old share — and every new share
    /// is still held. (Before the fix P1 aborted and zeroized its new share while P2 and P3
    /// finished with theirs.)
    fn confirmation_equivocation<C: Ciphersuite>(seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = dealt::<C>(2, 3, &mut rng);
        let (out, _) = run(&keys, seed, |s| {
            s.rule(
                FaultRule::any(Fault::tamper_payload(|m: &mut RefreshMessage<C>| {
                    *m = RefreshMessage::Confirm([0xee; 32]);
                }))
                .from(pid(3))
                .to(pid(1))
                .round(2),
            );
        });
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert!(out.outputs.values().all(|o| !o.is_confirmed()));
        let p1 = unconfirmed(&out, 1);
        assert!(!p1.acknowledged);
        assert_eq!(p1.disagreeing, [pid(3)]);
        let p2 = unconfirmed(&out, 2);
        assert!(p2.acknowledged);
        assert_eq!(p2.disagreeing, [pid(1)]);
        assert_eq!(p1.transcript_hash, p2.transcript_hash);
        key_survives(&keys, &out, &mut rng);

        // Every party kept its new share under the same hash: a retried confirmation (a fresh
        // session, no interference this time) confirms them, and the old shares may go.
        let parties = keys[0].parties().clone();
        let mut retry = Simulator::new(seed + 100);
        for o in out.outputs.values() {
            let me = o.result().me();
            retry.add(
                Reconfirm::new(
                    SessionId([0xcc; 32]),
                    me,
                    parties.clone(),
                    *o.transcript_hash(),
                )
                .unwrap(),
            );
        }
        let retried = retry.run();
        let mut settled = BTreeMap::new();
        for (p, o) in out.outputs {
            let Termination::Unconfirmed(u) = o else {
                unreachable!()
            };
            settled.insert(p, u.settle(&retried.outputs[&p]));
        }
        assert!(settled.values().all(|t| t.is_confirmed()));
        let new: Vec<&KeyShare<C>> = settled.values().map(|t| t.result()).collect();
        let msg = test_message::<C>(settled[&pid(1)].transcript_hash(), 1);
        let sig = frost_sign(&new[..2], &msg, &mut rng);
        for (old, t) in keys.into_iter().zip(settled.values()) {
            release_old_share(old, t, &sig).unwrap();
        }
    }

    #[test]
    fn refresh_confirmation_equivocation_leaves_nobody_confirmed_and_every_share_held() {
        confirmation_equivocation::<Secp256k1>(11);
        confirmation_equivocation::<Ed25519>(12);
    }

    /// P3 acknowledges to P1 and declines to P2 (the last message of the run, split). P1 is
    /// Confirmed; P2 is unconfirmed but acknowledged — it keeps its new share, names P3, and
    /// may not delete its old share. The honest new shares (P1, P2) form the new sharing: they
    /// sign the test message, after which P1 — and only P1 — gets its old share released.
    fn acknowledgement_equivocation<C: Ciphersuite>(seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = dealt::<C>(2, 3, &mut rng);
        let (out, _) = run(&keys, seed, |s| {
            s.rule(
                FaultRule::any(Fault::tamper_payload(|m: &mut RefreshMessage<C>| {
                    if let RefreshMessage::Acknowledge(a) = m {
                        *a = Acknowledgement::Decline(*a.transcript_hash());
                    }
                }))
                .from(pid(3))
                .to(pid(2))
                .round(3),
            );
        });
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert!(out.outputs[&pid(1)].is_confirmed());
        let p2 = unconfirmed(&out, 2);
        assert!(p2.acknowledged);
        assert_eq!(p2.disagreeing, [pid(3)]);
        key_survives(&keys, &out, &mut rng);

        // The honest parties' new shares sign the test message; P1 may delete its old share,
        // P2 (unconfirmed) may not.
        let h = *out.outputs[&pid(1)].transcript_hash();
        let new1 = out.outputs[&pid(1)].result();
        let msg = test_message::<C>(&h, new1.epoch());
        let sig = frost_sign(&[new1, &p2.result], &msg, &mut rng);
        let mut old = keys.into_iter();
        let (old1, old2) = (old.next().unwrap(), old.next().unwrap());
        let released = release_old_share(old1, &out.outputs[&pid(1)], &sig).unwrap();
        assert_eq!(released.me(), pid(1));
        let (kept, why) = release_old_share(old2, &out.outputs[&pid(2)], &sig).unwrap_err();
        assert_eq!((kept.me(), why), (pid(2), KeepOldShare::Unconfirmed));
        // A signature over anything else releases nothing.
        let other = frost_sign(&[new1, &p2.result], b"not the test message", &mut rng);
        let (_, why) = release_old_share(released, &out.outputs[&pid(1)], &other).unwrap_err();
        assert_eq!(why, KeepOldShare::BadSignature);
    }

    #[test]
    fn refresh_acknowledgement_equivocation_confirms_some_and_the_others_keep_their_shares() {
        acknowledgement_equivocation::<Secp256k1>(21);
        acknowledgement_equivocation::<Ed25519>(22);
    }

    /// P3 acknowledges to P1 but never to P2. P1 is Confirmed; P2 waits, and when its timeout
    /// is up `stop_waiting` ends it unconfirmed (acknowledged) with its new share.
    #[test]
    fn refresh_withheld_acknowledgement_is_ended_by_stop_waiting_with_the_share_kept() {
        let mut rng = ChaCha20Rng::seed_from_u64(31);
        let keys = dealt::<Ed25519>(2, 3, &mut rng);
        let (out, sim) = run(&keys, 31, |s| {
            s.rule(FaultRule::any(Fault::Drop).from(pid(3)).to(pid(2)).round(3));
        });
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert_eq!(out.stalled, [pid(2)]);
        assert!(out.outputs[&pid(1)].is_confirmed());
        // The waiting machine, as the caller would restore it from its stored state.
        let stored = sim.machine(pid(2)).unwrap().to_secret_bytes();
        let mut p2 = Refresh::<Ed25519>::from_bytes(stored.expose()).unwrap();
        let (msgs, u) = p2.stop_waiting().unwrap();
        assert!(
            msgs.is_empty(),
            "P2 acknowledged already: nothing more to send"
        );
        assert!(u.acknowledged);
        assert_eq!(u.disagreeing, [pid(1), pid(3)]);
        assert!(p2.stop_waiting().is_none());
        let new1 = out.outputs[&pid(1)].result();
        assert_eq!(out.outputs[&pid(1)].transcript_hash(), &u.transcript_hash);
        alive(&[new1, &u.result], &keys[0].public_key(), &mut rng);
        alive(&[&keys[0], &keys[1]], &keys[0].public_key(), &mut rng);
    }

    /// After P2 acknowledged, P3 sends it a message of another round in the last round's
    /// envelope: a misbehaviour. P2 ends unconfirmed (acknowledged), naming P3 — it does not
    /// abort and drop its new share, which P1 (Confirmed) relies on.
    #[test]
    fn refresh_misbehaviour_after_acknowledging_does_not_drop_the_share() {
        let mut rng = ChaCha20Rng::seed_from_u64(41);
        let keys = dealt::<Secp256k1>(2, 3, &mut rng);
        let (out, _) = run(&keys, 41, |s| {
            s.rule(
                FaultRule::any(Fault::tamper_payload(
                    |m: &mut RefreshMessage<Secp256k1>| {
                        *m = RefreshMessage::Confirm([0x33; 32]);
                    },
                ))
                .from(pid(3))
                .to(pid(2))
                .round(3),
            );
        });
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert!(out.outputs[&pid(1)].is_confirmed());
        let p2 = unconfirmed(&out, 2);
        assert!(p2.acknowledged);
        assert_eq!(p2.disagreeing, [pid(3)]);
        key_survives(&keys, &out, &mut rng);
    }

    /// P5 holds the same key and a valid share but other commitments to the old polynomial
    /// (`f + g` with `g(0) = g(5) = 0`). The transcript hash binds every old commitment, so P5's
    /// hash differs and nobody is Confirmed with inconsistent new commitments. (Before, the
    /// hash bound only the public key: every party confirmed, and P5's new commitments
    /// disagreed with everybody else's.)
    #[test]
    fn refresh_binds_the_old_commitments() {
        let mut rng = ChaCha20Rng::seed_from_u64(51);
        let mut keys = dealt::<Secp256k1>(3, 5, &mut rng);
        let c = SecretScalar::<Secp256k1>::random(&mut rng);
        let five = pid(5).to_scalar::<Secp256k1>();
        let mut points = keys[4].commitments().points().to_vec();
        points[1] -= Secp256k1::mul_base(&(five * c.expose()));
        points[2] += Secp256k1::mul_base(c.expose());
        let other = Commitments::new(points).unwrap();
        let k5 = &keys[4];
        keys[4] = KeyShare::new(
            k5.me(),
            3,
            k5.parties().clone(),
            k5.share().duplicate(),
            other,
            0,
        )
        .unwrap();
        assert_eq!(keys[4].public_key(), keys[0].public_key());
        let (out, _) = run(&keys, 51, |_| {});
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert!(out.outputs.values().all(|o| !o.is_confirmed()));
        assert_eq!(
            unconfirmed(&out, 5).disagreeing,
            [pid(1), pid(2), pid(3), pid(4)]
        );
        for p in 1..=4 {
            assert_eq!(unconfirmed(&out, p).disagreeing, [pid(5)]);
        }
    }

    /// A threshold-1 refresh changes no share: refused unless asked for explicitly.
    #[test]
    fn refresh_of_threshold_one_is_refused_unless_asked_for() {
        let mut rng = ChaCha20Rng::seed_from_u64(61);
        let keys = dealt::<Ed25519>(1, 2, &mut rng);
        let e = Refresh::new(SessionId([6; 32]), &keys[0], &mut rng).unwrap_err();
        assert_eq!(
            e,
            ParamError::InvalidThreshold {
                threshold: 1,
                parties: 2
            }
            .into()
        );
        let mut sim = Simulator::new(61);
        for k in &keys {
            let m = Refresh::new_allowing_threshold_one(SessionId([6; 32]), k, sim.rng()).unwrap();
            sim.add(m);
        }
        let out = sim.run();
        for (k, o) in keys.iter().zip(out.outputs.values()) {
            assert!(o.is_confirmed());
            let same = o.result().share().expose() == k.share().expose();
            assert!(same, "a 1-of-n refresh is a no-op");
            assert_eq!(o.result().epoch(), 1);
        }
    }

    /// The refresh formats changed with the acknowledgement round: new kinds, the old ones
    /// refused; the acknowledgement message is frozen.
    #[test]
    fn refresh_formats_have_new_kinds() {
        assert_eq!(KIND_REFRESH_MESSAGE.0, 0x0512);
        assert_eq!(KIND_REFRESH_STATE.0, 0x0513);
        let ack = RefreshMessage::<Secp256k1>::Acknowledge(Acknowledgement::Ack([0x11; 32]));
        let bytes = ack.to_bytes();
        let mut expected = vec![0x01, 0x05, 0x12, 0x01, 0x03, 0x01];
        expected.extend([0x11; 32]);
        assert_eq!(bytes, expected);
        let mut old = bytes.clone();
        old[2] = 0x10;
        assert!(matches!(
            RefreshMessage::<Secp256k1>::from_bytes(&old),
            Err(DecodeError::WrongKind { .. })
        ));
        let mut rng = ChaCha20Rng::seed_from_u64(71);
        let keys = dealt::<Secp256k1>(2, 3, &mut rng);
        let mut m = Refresh::new(SessionId([7; 32]), &keys[0], &mut rng).unwrap();
        let _ = m.start(&mut rng).unwrap();
        let mut state = m.to_secret_bytes().expose().to_vec();
        assert_eq!(&state[1..3], &[0x05, 0x13]);
        assert!(Refresh::<Secp256k1>::from_bytes(&state).is_ok());
        state[2] = 0x11;
        assert!(matches!(
            Refresh::<Secp256k1>::from_bytes(&state),
            Err(DecodeError::WrongKind { .. })
        ));
    }
}

/// Section: the ECDSA refresh end to end (`wallet_pss::ecdsa::refresh`, then the `Resetup` of
/// fresh OT setups, then `install_confirmed` into each party's key store). The resetup's own
/// fault cases are in `wallet-tss/tests/ecdsa_lifecycle/resetup_termination.rs`.
mod ecdsa_refresh {
    use std::collections::BTreeMap;

    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    use wallet_pss::ecdsa::{refresh, resetup_after_refresh};
    use wallet_tss::ecdsa::{
        DerivationPath, KeyShare as EcdsaKeyShare, Keygen, MemoryKeyStore, NotInstalled, Presign,
        PresignatureInfo, ResetupMessage, combine, install_confirmed, partial_sign,
    };
    use wallet_types::reconfirm::Reconfirm;
    use wallet_types::sim::{Fault, FaultRule, Simulator};
    use wallet_types::{Error, Parties, PartyId, SessionId, Termination, Unconfirmed};

    fn pid(n: u16) -> PartyId {
        PartyId::new(n).unwrap()
    }

    fn sid(seed: u64, label: &[u8]) -> SessionId {
        SessionId([seed as u8; 32]).derive(label)
    }

    type Stores = BTreeMap<PartyId, MemoryKeyStore>;

    fn stores(n: u16, seed: u64) -> Stores {
        let parties = Parties::range(n).unwrap();
        let mut sim = Simulator::new(seed);
        for p in parties.iter() {
            let m = Keygen::new(sid(seed, b"keygen"), p, parties.clone(), sim.rng()).unwrap();
            sim.add(m);
        }
        let out = sim.run();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        out.outputs
            .into_iter()
            .map(|(p, o)| (p, MemoryKeyStore::new(o.into_confirmed().unwrap())))
            .collect()
    }

    /// `a` and `b` presign and sign from their stores; the signature verifies under the key.
    /// Returns the presignature (whose epoch is the stores' current one).
    fn signs(stores: &Stores, a: u16, b: u16, seed: u64) -> PresignatureInfo {
        let mut sim = Simulator::with_restore(
            seed,
            Box::new(|m: &Presign<&MemoryKeyStore>| {
                Presign::restore(*m.store(), m.save().expose())
            }),
        );
        let session = sid(seed, b"presign");
        for (me, other) in [(a, b), (b, a)] {
            let m = Presign::new(
                &stores[&pid(me)],
                pid(other),
                DerivationPath::root(),
                session,
                sim.rng(),
            )
            .unwrap();
            sim.add(m);
        }
        let out = sim.run();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        let info = out.outputs.into_values().next().unwrap();
        let hash = [0x42; 32];
        let pa = partial_sign(&stores[&pid(a)], &info, &hash).unwrap();
        let pb = partial_sign(&stores[&pid(b)], &info, &hash).unwrap();
        let key = stores[&pid(a)].public_package().unwrap();
        let (sig, _) = combine(&key, &info, &hash, &pa, &pb).unwrap();
        key.verifying_key()
            .unwrap()
            .verify_prehash(&hash, &sig)
            .unwrap();
        info
    }

    /// The refresh (every party acknowledges), then the resetup with `faults`.
    fn refresh_then_resetup(
        stores: &Stores,
        seed: u64,
        faults: impl FnOnce(&mut Simulator<wallet_tss::ecdsa::Resetup>),
    ) -> BTreeMap<PartyId, Termination<EcdsaKeyShare>> {
        let mut sim = Simulator::new(seed);
        for s in stores.values() {
            let m = s
                .with_key(|k| refresh(sid(seed, b"refresh"), k, sim.rng()))
                .unwrap()
                .unwrap();
            sim.add(m);
        }
        let out = sim.run();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert!(out.outputs.values().all(|o| o.is_confirmed()));
        let mut sim = Simulator::new(seed + 1);
        for (p, o) in out.outputs {
            let new = o.into_confirmed().unwrap();
            let m = stores[&p]
                .with_key(|old| resetup_after_refresh(sid(seed, b"resetup"), new, old))
                .unwrap()
                .unwrap();
            sim.add(m);
        }
        faults(&mut sim);
        let out = sim.run();
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        assert!(out.stalled.is_empty(), "{:?}", out.stalled);
        out.outputs
    }

    /// A wrong round-6 setup confirmation from P2 to P1 only (2-of-2 and 2-of-3): the refresh
    /// was Confirmed, but no party installs the new epoch — every resetup outcome is
    /// Unconfirmed (P1 declined naming P2; the others acknowledged and name P1) and
    /// `install_confirmed` hands each back. Every store stays on epoch 0, which signs; every
    /// party holds both its old share (installed) and its new one (kept). A retried
    /// confirmation then confirms the kept shares, they are installed, epoch 1 signs and an
    /// epoch-0 presignature is refused.
    #[test]
    fn ecdsa_refresh_with_an_equivocated_setup_confirmation_keeps_old_and_new() {
        for (n, seed) in [(2u16, 140u64), (3, 150)] {
            let stores = stores(n, seed);
            let leftover = signs(&stores, 1, 2, seed + 1);
            let old_key_id = *stores[&pid(1)].public_package().unwrap().key_id();
            let outcomes = refresh_then_resetup(&stores, seed + 2, |sim| {
                sim.rule(
                    FaultRule::any(Fault::tamper_payload(|m: &mut ResetupMessage| {
                        if let ResetupMessage::Round6(c) = m {
                            c[0] ^= 1;
                        }
                    }))
                    .from(pid(2))
                    .to(pid(1))
                    .round(6),
                );
            });
            assert_eq!(outcomes.len(), usize::from(n));
            let mut kept: BTreeMap<PartyId, Unconfirmed<EcdsaKeyShare>> = BTreeMap::new();
            for (p, o) in outcomes {
                match install_confirmed(&stores[&p], o, &[]) {
                    Err(NotInstalled::Unconfirmed(u)) => {
                        if p == pid(1) {
                            assert!(!u.acknowledged);
                            assert_eq!(u.disagreeing, [pid(2)]);
                        } else {
                            assert!(u.acknowledged, "{p}");
                            assert_eq!(u.disagreeing, [pid(1)], "{p}");
                        }
                        assert_eq!(u.result.epoch(), 1);
                        assert_ne!(u.result.key_id(), &old_key_id);
                        kept.insert(p, u);
                    }
                    other => panic!("n = {n}, {p}: {other:?}"),
                }
            }
            for s in stores.values() {
                assert_eq!(s.epoch().unwrap(), 0, "the old share stays installed");
            }
            assert_eq!(signs(&stores, 1, 2, seed + 3).epoch, 0);
            if n == 3 {
                assert_eq!(signs(&stores, 2, 3, seed + 4).epoch, 0);
            }

            // Retry the confirmation among every party on the kept transcript hash.
            let hash = kept[&pid(1)].transcript_hash;
            assert!(kept.values().all(|u| u.transcript_hash == hash));
            let parties = Parties::range(n).unwrap();
            let mut sim = Simulator::new(seed + 5);
            for p in parties.iter() {
                sim.add(Reconfirm::new(sid(seed, b"reconfirm"), p, parties.clone(), hash).unwrap());
            }
            let retry = sim.run();
            assert!(retry.failures.is_empty(), "{:?}", retry.failures);
            for (p, u) in kept {
                let settled = u.settle(&retry.outputs[&p]);
                assert!(settled.is_confirmed(), "{p}");
                install_confirmed(&stores[&p], settled, &[]).unwrap();
            }
            for s in stores.values() {
                assert_eq!(s.epoch().unwrap(), 1);
            }
            assert_eq!(signs(&stores, 1, 2, seed + 6).epoch, 1);
            assert_eq!(
                partial_sign(&stores[&pid(1)], &leftover, &[1; 32]).unwrap_err(),
                Error::WrongEpoch {
                    current: 1,
                    found: 0
                }
            );
        }
    }

    /// The last sender of the resetup acknowledges to P1 and declines to P2 (2-of-3): P1 and P3
    /// are Confirmed and install epoch 1, P2 is unconfirmed **with** its acknowledgement sent —
    /// it keeps both shares, names P3 — and the two Confirmed parties sign on epoch 1 at once;
    /// P2 joins after a retried confirmation with P1.
    #[test]
    fn ecdsa_refresh_with_an_equivocated_acknowledgement_moves_only_confirmed_parties() {
        let stores = stores(3, 160);
        let outcomes = refresh_then_resetup(&stores, 161, |sim| {
            sim.rule(
                FaultRule::any(Fault::tamper_payload(|m: &mut ResetupMessage| {
                    if let ResetupMessage::Round7(a) = m {
                        *a = wallet_types::Acknowledgement::Decline(*a.transcript_hash());
                    }
                }))
                .from(pid(3))
                .to(pid(2))
                .round(7),
            );
        });
        let mut kept = None;
        for (p, o) in outcomes {
            let confirmed = o.is_confirmed();
            match install_confirmed(&stores[&p], o, &[]) {
                Ok(()) => assert!(confirmed && p != pid(2), "{p}"),
                Err(NotInstalled::Unconfirmed(u)) => {
                    assert_eq!(p, pid(2));
                    assert!(u.acknowledged);
                    assert_eq!(u.disagreeing, [pid(3)]);
                    kept = Some(u);
                }
                Err(e) => panic!("{p}: {e}"),
            }
        }
        let kept = kept.expect("P2 kept its share");
        assert_eq!(stores[&pid(1)].epoch().unwrap(), 1);
        assert_eq!(stores[&pid(3)].epoch().unwrap(), 1);
        assert_eq!(stores[&pid(2)].epoch().unwrap(), 0);
        assert_eq!(signs(&stores, 1, 3, 162).epoch, 1);

        let pair = Parties::new(vec![pid(1), pid(2)]).unwrap();
        let mut sim = Simulator::new(163);
        for p in pair.iter() {
            let m = Reconfirm::new(
                sid(163, b"reconfirm"),
                p,
                pair.clone(),
                kept.transcript_hash,
            );
            sim.add(m.unwrap());
        }
        let retry = sim.run();
        let settled = kept.settle(&retry.outputs[&pid(2)]);
        assert!(settled.is_confirmed());
        install_confirmed(&stores[&pid(2)], settled, &[]).unwrap();
        assert_eq!(signs(&stores, 1, 2, 164).epoch, 1);
        assert_eq!(signs(&stores, 2, 3, 165).epoch, 1);
    }
}
