//! ECDSA for any threshold: `t`-of-n key generation, presigning among `t` (or more) signers with
//! [`MultiPresign`], the online step with `t` partials, and the attacks on every pair's checks,
//! each driven through the simulator and asserting the outcome and the culprit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod ecdsa_common;

use std::collections::BTreeMap;

use ecdsa_common::{Stores, keys_of, pid, stores_of};
use k256::ecdsa::VerifyingKey;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare, Keygen, KeygenMessage, MemoryKeyStore, MultiPresign,
    MultiPresignMessage, PartialSignature, Presign, PresignatureInfo, PublicKeyPackage, Sign,
    combine_all, partial_sign,
};
use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
use wallet_types::{Error, ParamError, Parties, PartyId, Reason, SessionId, WireObject};

type MultiOn<'a> = MultiPresign<&'a MemoryKeyStore>;

fn keygen_t(n: u16, t: usize, seed: u64) -> BTreeMap<PartyId, KeyShare> {
    let parties = Parties::range(n).unwrap();
    let mut sim = Simulator::new(seed);
    let session = SessionId([seed as u8; 32]).derive(b"keygen-t-test");
    for p in parties.iter() {
        let m = Keygen::with_threshold(session, p, parties.clone(), t, sim.rng()).unwrap();
        sim.add(m);
    }
    keys_of(sim.run(), n as usize)
}

fn multi_sim<'a>(
    stores: &'a Stores,
    signers: &[u16],
    path: &DerivationPath,
    seed: u64,
) -> Simulator<MultiOn<'a>> {
    let mut sim = Simulator::with_restore(
        seed,
        Box::new(|m: &MultiOn<'a>| MultiPresign::restore(*m.store(), m.save().expose())),
    );
    let set = Parties::new(signers.iter().map(|p| pid(*p))).unwrap();
    let session = SessionId([seed as u8; 32]).derive(b"multi-presign-test");
    for p in signers {
        let m = MultiPresign::new(
            &stores[&pid(*p)],
            set.clone(),
            path.clone(),
            session,
            sim.rng(),
        )
        .unwrap();
        sim.add(m);
    }
    sim
}

fn agreed(out: Outcome<PresignatureInfo>, n: usize) -> PresignatureInfo {
    assert!(out.failures.is_empty(), "failures: {:?}", out.failures);
    assert_eq!(out.outputs.len(), n, "stalled: {:?}", out.stalled);
    let mut it = out.outputs.into_values();
    let x = it.next().unwrap();
    for y in it {
        assert_eq!(x, y);
    }
    x
}

fn partials_of(stores: &Stores, info: &PresignatureInfo, hash: &[u8; 32]) -> Vec<PartialSignature> {
    info.signers
        .iter()
        .map(|p| partial_sign(&stores[&p], info, hash).unwrap())
        .collect()
}

/// Signs `hash` with every signer of `info`, combines (in two orders), verifies and recovers.
fn sign_all(stores: &Stores, info: &PresignatureInfo, hash: &[u8; 32]) {
    let mut partials = partials_of(stores, info, hash);
    let key = stores.values().next().unwrap().public_package().unwrap();
    let (sig, recid) = combine_all(&key, info, hash, &partials).unwrap();
    partials.reverse();
    assert_eq!(
        combine_all(&key, info, hash, &partials).unwrap(),
        (sig, recid)
    );
    let vk = info.verifying_key().unwrap();
    vk.verify_prehash(hash, &sig).unwrap();
    assert_eq!(
        VerifyingKey::recover_from_prehash(hash, &sig, recid).unwrap(),
        vk
    );
}

fn subsets(n: u16, k: usize) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize == k {
            out.push((1..=n).filter(|i| mask & (1 << (i - 1)) != 0).collect());
        }
    }
    out
}

#[test]
fn every_3_subset_of_3_of_5_signs() {
    let keys = keygen_t(5, 3, 1);
    assert!(keys.values().all(|k| k.threshold() == 3));
    let stores = stores_of(keys);
    let root = DerivationPath::root();
    for (i, s) in subsets(5, 3).into_iter().enumerate() {
        let info = agreed(multi_sim(&stores, &s, &root, 100 + i as u64).run(), 3);
        let hash = [i as u8 + 1; 32];
        sign_all(&stores, &info, &hash);
    }
}

#[test]
fn four_signers_of_a_3_of_5_key_and_a_derived_path() {
    let stores = stores_of(keygen_t(5, 3, 2));
    let path = DerivationPath::parse("m/0/1").unwrap();
    let info = agreed(multi_sim(&stores, &[1, 2, 4, 5], &path, 7).run(), 4);
    let key = stores[&pid(1)].public_package().unwrap();
    assert_eq!(info.public_key, key.derive(&path).unwrap().public_key);
    sign_all(&stores, &info, &[9; 32]);
}

#[test]
fn two_of_three_through_the_t_party_machine_too() {
    let stores = stores_of(keygen_t(3, 2, 3));
    let info = agreed(
        multi_sim(&stores, &[1, 3], &DerivationPath::root(), 8).run(),
        2,
    );
    sign_all(&stores, &info, &[3; 32]);
}

#[test]
fn restored_every_step_and_reordered() {
    let stores = stores_of(keygen_t(4, 3, 4));
    let mut sim = multi_sim(&stores, &[1, 2, 4], &DerivationPath::root(), 9);
    sim.restore_every_step(true).reorder(true);
    let info = agreed(sim.run(), 3);
    sign_all(&stores, &info, &[4; 32]);
}

#[test]
fn the_sign_machine_with_three_signers() {
    let stores = stores_of(keygen_t(3, 3, 5));
    let info = agreed(
        multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), 10).run(),
        3,
    );
    let hash = [5u8; 32];
    let mut sim = ecdsa_common::sign_simulator(11);
    for p in info.signers.iter() {
        sim.add(Sign::new(&stores[&p], info.clone(), hash).unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let sigs: Vec<_> = out.outputs.into_values().collect();
    assert_eq!(sigs.len(), 3);
    assert!(sigs.windows(2).all(|w| w[0] == w[1]));
    info.verifying_key()
        .unwrap()
        .verify_prehash(&hash, &sigs[0].0)
        .unwrap();
}

#[test]
fn too_few_signers_and_the_two_party_machine_are_refused_for_t_3() {
    let stores = stores_of(keygen_t(4, 3, 6));
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1);
    let s = SessionId([1; 32]);
    let two = Parties::new([pid(1), pid(2)]).unwrap();
    let e =
        MultiPresign::new(&stores[&pid(1)], two, DerivationPath::root(), s, &mut rng).unwrap_err();
    assert_eq!(
        e,
        Error::Params(ParamError::TooFewParties {
            needed: 3,
            given: 2
        })
    );
    let e = Presign::new(
        &stores[&pid(1)],
        pid(2),
        DerivationPath::root(),
        s,
        &mut rng,
    )
    .unwrap_err();
    assert!(matches!(
        e,
        Error::Params(ParamError::TooFewParties { needed: 3, .. })
    ));
    let three = Parties::new([pid(2), pid(3), pid(4)]).unwrap();
    let e = MultiPresign::new(&stores[&pid(1)], three, DerivationPath::root(), s, &mut rng)
        .unwrap_err();
    assert_eq!(e, Error::Params(ParamError::NotAMember(pid(1))));
}

#[test]
fn combine_all_refuses_a_missing_or_doubled_partial() {
    let stores = stores_of(keygen_t(3, 3, 12));
    let info = agreed(
        multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), 13).run(),
        3,
    );
    let hash = [6u8; 32];
    let p = partials_of(&stores, &info, &hash);
    let key = stores[&pid(1)].public_package().unwrap();
    assert_eq!(
        combine_all(&key, &info, &hash, &p[..2]).unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
    let doubled = vec![p[0].clone(), p[1].clone(), p[1].clone()];
    assert_eq!(
        combine_all(&key, &info, &hash, &doubled).unwrap_err(),
        Error::Params(ParamError::DuplicateParty(pid(2)))
    );
    // A wrong partial: the result does not verify; every signer is named.
    let mut bad = p.clone();
    bad[2].w += k256::Scalar::ONE;
    let e = combine_all(&key, &info, &hash, &bad).unwrap_err();
    assert_eq!(e.reason(), Some(Reason::InvalidSignatureShare));
    assert_eq!(e.culprits(), &[pid(1), pid(2), pid(3)]);
    // The honest set still signs (one use each: a fresh presignature).
    let info = agreed(
        multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), 14).run(),
        3,
    );
    sign_all(&stores, &info, &hash);
}

#[test]
fn a_presignature_is_used_once() {
    let stores = stores_of(keygen_t(3, 3, 15));
    let info = agreed(
        multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), 16).run(),
        3,
    );
    partial_sign(&stores[&pid(2)], &info, &[1; 32]).unwrap();
    let e = partial_sign(&stores[&pid(2)], &info, &[2; 32]).unwrap_err();
    assert_eq!(e, Error::Store(wallet_types::StoreError::AlreadyUsed));
}

/// Runs a 3-signer presign of a 3-of-4 key with `rule` applied; returns the outcome and stores.
fn attacked(rule: FaultRule, seed: u64) -> (Outcome<PresignatureInfo>, Stores) {
    let stores = stores_of(keygen_t(4, 3, seed));
    let out = {
        let mut sim = multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), seed + 1);
        sim.rule(rule);
        sim.run()
    };
    (out, stores)
}

/// The victim failed naming exactly `culprit` for `reason`; nobody else was blamed.
fn victim_names(out: &Outcome<PresignatureInfo>, victim: u16, culprit: u16, reason: Reason) {
    let e = out
        .failures
        .get(&pid(victim))
        .unwrap_or_else(|| panic!("P{victim} did not fail: {out:?}"));
    assert_eq!(e.culprits(), &[pid(culprit)], "{e:?}");
    assert_eq!(e.reason(), Some(reason), "{e:?}");
    for (p, e) in &out.failures {
        assert!(
            e.culprits().iter().all(|c| *c == pid(culprit)) || e.culprits().is_empty(),
            "{p} blamed {e:?}"
        );
    }
}

/// After a failed presign the honest parties still sign (a presign among parties that were
/// not banned, and `culprit`-free when the culprit was banned).
fn still_signs(stores: &Stores, signers: &[u16], seed: u64) {
    let info = agreed(
        multi_sim(stores, signers, &DerivationPath::root(), seed).run(),
        signers.len(),
    );
    sign_all(stores, &info, &[0xaa; 32]);
}

#[test]
fn every_pairs_opening_is_checked() {
    // P3 opens R_3 to P1 with another point: P1 names P3.
    let (out, stores) = attacked(
        FaultRule::any(Fault::tamper_payload(|m: &mut MultiPresignMessage| {
            if let MultiPresignMessage::Round2(m) = m {
                m.instance_point += k256::ProjectivePoint::GENERATOR;
            }
        }))
        .from(pid(3))
        .to(pid(1))
        .round(2),
        20,
    );
    victim_names(&out, 1, 3, Reason::CommitmentMismatch);
    // No ban for an opening: the same set signs again.
    still_signs(&stores, &[1, 2, 3], 22);
}

#[test]
fn every_pairs_gamma_u_is_checked_and_bans_that_pair_only() {
    let (out, stores) = attacked(
        FaultRule::any(Fault::tamper_payload(|m: &mut MultiPresignMessage| {
            if let MultiPresignMessage::Round2(m) = m {
                m.gamma_u += k256::ProjectivePoint::GENERATOR;
            }
        }))
        .from(pid(2))
        .to(pid(3))
        .round(2),
        30,
    );
    victim_names(&out, 3, 2, Reason::MultiplicationCheck);
    // P3 banned P2 in its store: every later session of P3 with P2 is refused…
    assert_eq!(stores[&pid(3)].banned().unwrap(), vec![pid(2)]);
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(2);
    let set = Parties::new([pid(2), pid(3), pid(4)]).unwrap();
    let e = MultiPresign::new(
        &stores[&pid(3)],
        set,
        DerivationPath::root(),
        SessionId([3; 32]),
        &mut rng,
    )
    .unwrap_err();
    assert_eq!(e, Error::Banned { party: pid(2) });
    // …and the key still signs with a set that avoids that pair.
    still_signs(&stores, &[1, 3, 4], 32);
}

#[test]
fn a_wrong_public_share_is_caught() {
    // P1 tells P2 a pk_1 that is not its multiplication input: P2's Γ^v check names P1.
    let (out, stores) = attacked(
        FaultRule::any(Fault::tamper_payload(|m: &mut MultiPresignMessage| {
            if let MultiPresignMessage::Round2(m) = m {
                m.public_share += k256::ProjectivePoint::GENERATOR;
            }
        }))
        .from(pid(1))
        .to(pid(2))
        .round(2),
        40,
    );
    victim_names(&out, 2, 1, Reason::MultiplicationCheck);
    still_signs(&stores, &[2, 3, 4], 42);
}

#[test]
fn a_shifted_zero_share_breaks_the_sum_check_not_the_key() {
    // P1 sends P2 a zero-share contribution other than the one it keeps: ζ no longer sums to
    // zero; P2 and P3 see Σ pk_j ≠ pk (no single signer can be named: every other signer is).
    let (out, stores) = attacked(
        FaultRule::any(Fault::tamper_payload(|m: &mut MultiPresignMessage| {
            if let MultiPresignMessage::Round1(m) = m {
                let z = m.zero.to_secret();
                m.zero = wallet_tss::ecdsa::keygen::ShareInTransit::new(
                    &wallet_types::SecretScalar::new(*z.expose() + k256::Scalar::ONE),
                );
            }
        }))
        .from(pid(1))
        .to(pid(2))
        .round(1),
        50,
    );
    assert!(out.outputs.is_empty(), "{out:?}");
    for v in [1u16, 2, 3] {
        let e = &out.failures[&pid(v)];
        assert_eq!(e.reason(), Some(Reason::PublicKeyMismatch), "{e:?}");
        let others: Vec<PartyId> = [1u16, 2, 3]
            .iter()
            .filter(|p| **p != v)
            .map(|p| pid(*p))
            .collect();
        assert_eq!(e.culprits(), others.as_slice());
        assert!(e.must_ban().is_empty());
    }
    still_signs(&stores, &[1, 2, 3], 52);
}

#[test]
fn a_wrong_psi_makes_the_signature_fail_not_leak() {
    // A ψ off by one: the presignature completes, but its signature does not verify, and
    // `combine_all` names the signers (the online step cannot tell who).
    let (out, stores) = attacked(
        FaultRule::any(Fault::tamper_payload(|m: &mut MultiPresignMessage| {
            if let MultiPresignMessage::Round2(m) = m {
                let p = m.psi.to_secret();
                m.psi = wallet_tss::ecdsa::keygen::ShareInTransit::new(
                    &wallet_types::SecretScalar::new(*p.expose() + k256::Scalar::ONE),
                );
            }
        }))
        .from(pid(3))
        .to(pid(1))
        .round(2),
        60,
    );
    let info = agreed(out, 3);
    let hash = [1u8; 32];
    let p = partials_of(&stores, &info, &hash);
    let key = stores[&pid(1)].public_package().unwrap();
    let e = combine_all(&key, &info, &hash, &p).unwrap_err();
    assert_eq!(e.reason(), Some(Reason::InvalidSignatureShare));
    still_signs(&stores, &[1, 2, 3], 62);
}

#[test]
fn dropped_duplicated_wrong_sender_and_replayed_messages() {
    // A dropped message stalls the run; nobody outputs, nobody is blamed.
    let (out, _) = attacked(
        FaultRule::any(Fault::Drop).from(pid(2)).to(pid(1)).round(2),
        70,
    );
    assert!(out.failures.is_empty(), "{out:?}");
    assert!(out.outputs.len() < 3);
    // A duplicate is ignored.
    let (out, _) = attacked(
        FaultRule::any(Fault::Duplicate)
            .from(pid(2))
            .round(1)
            .times(4),
        72,
    );
    agreed(out, 3);
    // A message claimed by a party outside the signer set is rejected (machine unchanged,
    // nobody blamed); P1 then waits for P2's real round-1 message.
    let (out, _) = attacked(
        FaultRule::any(Fault::WrongSender(pid(4)))
            .from(pid(2))
            .to(pid(1))
            .round(1),
        74,
    );
    assert!(out.failures.is_empty(), "{out:?}");
    assert!(out.stalled.contains(&pid(1)), "{out:?}");
    assert!(
        out.rejections
            .iter()
            .any(|(p, e)| *p == pid(1) && e.kind() == wallet_types::ErrorKind::Rejected),
        "{out:?}"
    );
    // A message of another session is rejected the same way.
    let (out, _) = attacked(
        FaultRule::any(Fault::WrongSession(SessionId([9; 32])))
            .from(pid(3))
            .to(pid(2))
            .round(1),
        76,
    );
    assert!(out.failures.is_empty(), "{out:?}");
    assert!(out.stalled.contains(&pid(2)), "{out:?}");
    assert!(
        out.rejections
            .iter()
            .any(|(p, e)| *p == pid(2) && *e == Error::WrongSession { sender: pid(3) }),
        "{out:?}"
    );
}

#[test]
fn parallel_sessions_end_together_on_a_ban() {
    // Two presign sessions among {1, 2, 3} on the same stores. The second stops with P3 waiting
    // for round 2 (its state saved, the messages for it held back); in the first, P2 cheats
    // P3's Γ^v check: P3's store bans P2, and P3's second session, restored from its bytes, is
    // refused the moment it would use the pairing again.
    let stores = stores_of(keygen_t(3, 3, 80));
    let root = DerivationPath::root();
    let mut second = multi_sim(&stores, &[1, 2, 3], &root, 81);
    second.rule(FaultRule::any(Fault::Drop).to(pid(3)).round(2).times(2));
    let half = second.run();
    assert!(!half.outputs.contains_key(&pid(3)));
    let saved = second.machine(pid(3)).unwrap().save();
    let held: Vec<_> = second
        .sent()
        .iter()
        .filter(|e| e.round == 2 && e.recipient == wallet_types::Recipient::One(pid(3)))
        .cloned()
        .collect();
    assert_eq!(held.len(), 2);
    let mut first = multi_sim(&stores, &[1, 2, 3], &root, 82);
    first.rule(
        FaultRule::any(Fault::tamper_payload(|m: &mut MultiPresignMessage| {
            if let MultiPresignMessage::Round2(m) = m {
                m.gamma_v += k256::ProjectivePoint::GENERATOR;
            }
        }))
        .from(pid(2))
        .to(pid(3))
        .round(2),
    );
    let out = first.run();
    victim_names(&out, 3, 2, Reason::MultiplicationCheck);
    let mut m = MultiPresign::restore(&stores[&pid(3)], saved.expose()).unwrap();
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(83);
    let mut result = Ok(wallet_types::Step::Continue(Vec::new()));
    for env in held {
        let env = env.map(|b| MultiPresignMessage::from_bytes(&b).unwrap());
        result = wallet_types::Protocol::handle(&mut m, env, &mut rng);
    }
    assert_eq!(result.unwrap_err(), Error::Banned { party: pid(2) });
}

#[test]
fn stale_epoch_material_cannot_sign_after_install() {
    let stores = stores_of(keygen_t(3, 3, 90));
    let info = agreed(
        multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), 91).run(),
        3,
    );
    let old: PublicKeyPackage = stores[&pid(1)].public_package().unwrap();
    // A refresh through wallet-pss is tested there; here, the store's own epoch check with a
    // package of another key id stands in: combine refuses a presignature of another epoch.
    let other = stores_of(keygen_t(3, 3, 92));
    let p = partials_of(&stores, &info, &[1; 32]);
    let e = combine_all(
        &other[&pid(1)].public_package().unwrap(),
        &info,
        &[1; 32],
        &p,
    )
    .unwrap_err();
    assert!(matches!(e, Error::WrongEpoch { .. }));
    assert!(combine_all(&old, &info, &[1; 32], &p).is_ok());
}

#[test]
fn keygen_refuses_a_mixed_threshold_and_the_share_encodings_round_trip() {
    // A party running another threshold is named in round 1.
    let parties = Parties::range(3).unwrap();
    let mut sim = Simulator::new(100);
    let session = SessionId([100; 32]);
    for p in parties.iter() {
        let t = if p == pid(2) { 2 } else { 3 };
        let m = Keygen::with_threshold(session, p, parties.clone(), t, sim.rng()).unwrap();
        sim.add(m);
    }
    let out = sim.run();
    assert!(out.outputs.is_empty());
    let e = &out.failures[&pid(1)];
    assert_eq!(e.culprits(), &[pid(2)]);
    assert_eq!(e.reason(), Some(Reason::MalformedMessage));
    let _ = std::marker::PhantomData::<KeygenMessage>;
    // 3-of-4 shares and packages survive their encodings with the threshold.
    let keys = keygen_t(4, 3, 101);
    let k = &keys[&pid(2)];
    let bytes = k.to_secret_bytes();
    let back = KeyShare::from_bytes(bytes.expose()).unwrap();
    assert_eq!(back.threshold(), 3);
    assert_eq!(back.public_package(), k.public_package());
    let pkg = PublicKeyPackage::from_bytes(&k.public_package().to_bytes()).unwrap();
    assert_eq!(pkg.threshold(), 3);
    assert_eq!(pkg.share_commitment(pid(4)), k.share_commitment(pid(4)));
    // A 2-of-n package's bytes are unchanged by the threshold extension: no trailing block.
    let two = keygen_t(2, 2, 102);
    let b2 = two[&pid(1)].public_package().to_bytes();
    assert_eq!(b2.len(), 4 + 32 + 8 + 2 + 4 + 66 + 32);
    // Keygen errors.
    let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(3);
    assert_eq!(
        Keygen::with_threshold(session, pid(1), Parties::range(2).unwrap(), 3, &mut rng)
            .unwrap_err(),
        Error::Params(ParamError::TooFewParties {
            needed: 3,
            given: 2
        })
    );
    assert_eq!(
        Keygen::with_threshold(session, pid(1), Parties::range(2).unwrap(), 1, &mut rng)
            .unwrap_err(),
        Error::Params(ParamError::OutOfRange)
    );
}

#[test]
fn the_private_key_appears_in_no_message_or_state() {
    let keys = keygen_t(3, 3, 110);
    // The private key, by interpolating all three shares (test only).
    let ids: Vec<PartyId> = keys.keys().copied().collect();
    let mut sk = k256::Scalar::ZERO;
    for (p, k) in &keys {
        let l = wallet_sss::lagrange_at_zero::<wallet_types::Secp256k1>(&ids, *p).unwrap();
        sk += l * k.secret_share().expose();
    }
    assert_eq!(
        k256::ProjectivePoint::GENERATOR * sk,
        keys[&pid(1)].public_key()
    );
    let needle = k256::elliptic_curve::PrimeField::to_repr(&sk);
    let stores = stores_of(keys);
    let mut sim = multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), 111);
    let out = sim.run();
    agreed(out, 3);
    for env in sim.sent() {
        assert!(
            !env.payload.windows(32).any(|w| w == needle.as_slice()),
            "the key in a message"
        );
    }
    let sim = multi_sim(&stores, &[1, 2, 3], &DerivationPath::root(), 112);
    for p in [1u16, 2, 3] {
        let st = sim.machine(pid(p)).unwrap().save();
        assert!(!st.expose().windows(32).any(|w| w == needle.as_slice()));
    }
}
