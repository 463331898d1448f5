//! The BIP-340 / Taproot signing round as machines (`wallet_tss::frost::taproot_signing`):
//! clean runs through the simulator (root key path; a derived path with a script tree, with
//! crashes and restores), every signature checked by libsecp256k1 under the output key; and
//! what a cheating coordinator, signer or transport can try — tampered packages, shares from
//! the wrong party, bad shares, duplicates and equivocations, replayed and restored states,
//! other sessions, objects of another kind.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod frost_common;

use std::collections::BTreeMap;

use frost_common::{COORD, SID, pid, restoring_simulator, signature_of};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::DerivationPath;
use wallet_tss::frost::signing::{Coordinator, SignerState, SigningMessage, SigningPartyState};
use wallet_tss::frost::taproot::{
    self, Bip340Signature, TapTweak, TaprootKey, TaprootSigningPackage, TaprootSpend,
};
use wallet_tss::frost::taproot_signing::{
    TaprootCoordinator, TaprootSigner, TaprootSignerState, TaprootSigningMessage,
    TaprootSigningOutput, TaprootSigningParty, TaprootSigningPartyState,
};
use wallet_tss::frost::{
    KeyPackage, PublicKeyPackage, SignatureShare, SigningNonces, keys, round1,
};
use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
use wallet_types::{
    DecodeError, Envelope, Error, MemoryOneTimeStore, Parties, PartyId, Protocol, Reason,
    Recipient, Secp256k1, SecretScalar, SessionId, Step, StoreError, WireObject,
};

/// A 32-byte message, as a BIP-341 sighash is.
const SIGHASH: [u8; 32] = [0x5e; 32];

type Party<'a> = TaprootSigningParty<&'a MemoryOneTimeStore>;
type Sim<'a> = Simulator<Party<'a>>;

fn dealer_keys(t: usize, n: u16, seed: u64) -> Vec<KeyPackage<Secp256k1>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let parties = Parties::range(n).unwrap();
    keys::split_secret(SecretScalar::random(&mut rng), t, &parties, &mut rng).unwrap()
}

fn derived_spend() -> TaprootSpend {
    TaprootSpend::new(
        DerivationPath::parse("m/0/7").unwrap(),
        TapTweak::ScriptTree([0xa7; 32]),
    )
}

/// What the machines of one session are built from.
struct Session<'k> {
    keys: &'k [KeyPackage<Secp256k1>],
    signers: Vec<u16>,
    spend: TaprootSpend,
    /// Whether each signer fixes the spend and the message it signs.
    expect: bool,
}

impl<'k> Session<'k> {
    fn new(keys: &'k [KeyPackage<Secp256k1>], signers: &[u16], spend: TaprootSpend) -> Self {
        Self {
            keys,
            signers: signers.to_vec(),
            spend,
            expect: true,
        }
    }

    /// Signers that do not fix the spend and the message: they sign what they are sent.
    fn unfixed(keys: &'k [KeyPackage<Secp256k1>], signers: &[u16], spend: TaprootSpend) -> Self {
        Self {
            expect: false,
            ..Self::new(keys, signers, spend)
        }
    }

    fn chain_code(&self) -> [u8; 32] {
        taproot::default_chain_code(self.keys[0].public())
    }

    fn key(&self) -> TaprootKey {
        TaprootKey::new(self.keys[0].public(), &self.chain_code(), &self.spend).unwrap()
    }

    fn set(&self) -> Parties {
        Parties::from_ids(&self.signers).unwrap()
    }

    fn signer<'a>(
        &self,
        store: &'a MemoryOneTimeStore,
        p: u16,
        nonces: &[round1::SigningCommitments<Secp256k1>],
    ) -> TaprootSigner<&'a MemoryOneTimeStore> {
        let s = TaprootSigner::new(
            store,
            SID,
            self.keys[usize::from(p) - 1].duplicate(),
            self.chain_code(),
            pid(COORD),
            self.set(),
            nonces.iter().map(|c| c.id()),
        )
        .unwrap();
        if self.expect {
            s.expect_spend(self.spend.clone())
                .expect_message(SIGHASH.to_vec())
        } else {
            s
        }
    }

    fn coordinator(&self, package: TaprootSigningPackage) -> TaprootCoordinator {
        TaprootCoordinator::new(
            SID,
            pid(COORD),
            self.keys[0].public().clone(),
            self.chain_code(),
            package,
        )
        .unwrap()
    }

    /// A simulator with every signer (one fresh nonce pair each, sealed into `store`) and the
    /// coordinator; crashes restore machines from their bytes.
    fn simulator<'a>(&self, store: &'a MemoryOneTimeStore, seed: u64) -> Sim<'a> {
        let mut sim: Sim<'a> = restoring_simulator(seed);
        let mut commitments = BTreeMap::new();
        let mut machines = Vec::new();
        for p in &self.signers {
            let key = &self.keys[usize::from(*p) - 1];
            let c = round1::preprocess_into(store, key, 1, sim.rng()).unwrap();
            commitments.insert(pid(*p), c[0]);
            machines.push(TaprootSigningParty::Signer(self.signer(store, *p, &c)));
        }
        let package =
            TaprootSigningPackage::new(self.spend.clone(), commitments, SIGHASH.to_vec()).unwrap();
        machines.push(TaprootSigningParty::Coordinator(self.coordinator(package)));
        for m in machines {
            sim.add(m);
        }
        sim
    }

    /// Nonces left in the store, per signer.
    fn nonces_left(&self, store: &MemoryOneTimeStore) -> Vec<usize> {
        self.signers
            .iter()
            .map(|p| {
                store
                    .count(&self.keys[usize::from(*p) - 1].nonce_scope())
                    .unwrap()
            })
            .collect()
    }
}

/// libsecp256k1's BIP-340 verification.
fn libsecp_verify(pk: &[u8; 32], msg: &[u8; 32], sig: &Bip340Signature) -> bool {
    let secp = secp256k1::Secp256k1::verification_only();
    let pk = secp256k1::XOnlyPublicKey::from_slice(pk).unwrap();
    let sig = secp256k1::schnorr::Signature::from_slice(&sig.to_bytes()).unwrap();
    secp.verify_schnorr(&sig, &secp256k1::Message::from_digest(*msg), &pk)
        .is_ok()
}

/// The run signed, and the signature verifies under the session's output key (ours and
/// libsecp256k1's verification).
fn assert_signed(session: &Session<'_>, out: &Outcome<TaprootSigningOutput>) {
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let sig = signature_of(out).unwrap();
    let q = session.key().output_key();
    assert!(sig.verify(&q, &SIGHASH));
    assert!(libsecp_verify(&q, &SIGHASH, &sig));
}

/// Every signer failed blaming the coordinator for `reason`, nothing was signed, and no
/// signer took its nonce pair out of the store.
fn assert_refused_by_signers(
    session: &Session<'_>,
    store: &MemoryOneTimeStore,
    out: &Outcome<TaprootSigningOutput>,
    reason: Reason,
) {
    for p in &session.signers {
        assert_eq!(
            out.failures.get(&pid(*p)),
            Some(&Error::blame(pid(COORD), reason)),
            "signer {p}"
        );
    }
    assert!(signature_of(out).is_none());
    assert!(session.nonces_left(store).iter().all(|n| *n == 1));
}

fn tamper_package(f: impl Fn(&TaprootSigningPackage) -> TaprootSigningPackage + 'static) -> Fault {
    Fault::tamper_payload(move |m: &mut TaprootSigningMessage| {
        if let TaprootSigningMessage::Package(p) = m {
            *p = f(p);
        }
    })
}

/// A coordinator's change of the package.
type Rebuild = Box<dyn Fn(&TaprootSigningPackage) -> TaprootSigningPackage>;

/// The package for another spend (the same commitments and message).
fn with_spend(p: &TaprootSigningPackage, spend: TaprootSpend) -> TaprootSigningPackage {
    let commitments = p.package().commitments().clone();
    TaprootSigningPackage::new(spend, commitments, p.message().to_vec()).unwrap()
}

/// The package with `party`'s commitment set to `c` (added or replaced).
fn insert_commitment(party: u16, c: round1::SigningCommitments<Secp256k1>) -> Fault {
    tamper_package(move |p| {
        let mut commitments = p.package().commitments().clone();
        commitments.insert(pid(party), c);
        TaprootSigningPackage::new(p.spend().clone(), commitments, p.message().to_vec()).unwrap()
    })
}

fn tamper_share(f: impl Fn(k256::Scalar) -> k256::Scalar + 'static) -> Fault {
    Fault::tamper_payload(move |m: &mut TaprootSigningMessage| {
        if let TaprootSigningMessage::Share(z) = m {
            *z = SignatureShare(f(z.0));
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Clean runs
// ---------------------------------------------------------------------------------------------

#[test]
fn root_key_path_spend_through_the_simulator() {
    let keys = dealer_keys(2, 3, 1);
    let session = Session::new(&keys, &[1, 3], TaprootSpend::root_key_path());
    let store = MemoryOneTimeStore::new();
    let mut sim = session.simulator(&store, 2);
    sim.rule(FaultRule::any(Fault::Duplicate).times(3));
    let out = sim.run();
    assert_signed(&session, &out);
    // The output key is the BIP-86 tweak of the root key itself.
    let key = session.key();
    assert_eq!(key.internal_key(), keys[0].public().group_key_bytes()[1..]);
    // Every signer reports the pair it used, and the store no longer holds it.
    for p in [1u16, 3] {
        let TaprootSigningOutput::Signer(o) = &out.outputs[&pid(p)] else {
            panic!("signer {p} has no signer output");
        };
        assert_eq!(
            round1::SigningNonces::take_from(&store, &keys[usize::from(p) - 1], &o.used)
                .unwrap_err(),
            Error::Store(StoreError::AlreadyUsed)
        );
    }
    assert_eq!(session.nonces_left(&store), [0, 0]);
}

#[test]
fn derived_path_with_script_tree_survives_crashes_and_reordering() {
    let keys = dealer_keys(3, 5, 3);
    let mut session = Session::new(&keys, &[2, 4, 5], derived_spend());
    // Every party saved and restored from its bytes after each message.
    let store = MemoryOneTimeStore::new();
    let mut sim = session.simulator(&store, 4);
    sim.restore_every_step(true).reorder(true);
    assert_signed(&session, &sim.run());
    // A crash of each party after its first message; signers that do not fix the spend.
    session.expect = false;
    for (i, p) in [2u16, 4, 5, COORD].into_iter().enumerate() {
        let store = MemoryOneTimeStore::new();
        let mut sim = session.simulator(&store, 10 + i as u64);
        sim.crash_after(pid(p), 1);
        sim.rule(FaultRule::any(Fault::Duplicate).times(2));
        assert_signed(&session, &sim.run());
        assert_eq!(session.nonces_left(&store), [0, 0, 0]);
    }
    // The key really is derived and tweaked: not the root's BIP-86 key.
    let root = Session::new(&keys, &[2, 4, 5], TaprootSpend::root_key_path()).key();
    assert_ne!(session.key().output_key(), root.output_key());
    assert_eq!(session.key().merkle_root(), Some([0xa7; 32]));
}

// ---------------------------------------------------------------------------------------------
// A cheating coordinator: the signers refuse before they take their nonce pair
// ---------------------------------------------------------------------------------------------

#[test]
fn tampered_packages_are_refused_before_the_nonce_is_taken() {
    let keys = dealer_keys(2, 3, 5);
    let session = Session::new(&keys, &[1, 2], derived_spend());
    let other_path = |p: &TaprootSigningPackage| {
        let path = DerivationPath::parse("m/0/8").unwrap();
        with_spend(p, TaprootSpend::new(path, *p.spend().tweak()))
    };
    let other_tweak = |p: &TaprootSigningPackage| {
        with_spend(
            p,
            TaprootSpend::new(p.spend().path().clone(), TapTweak::KeyPathOnly),
        )
    };
    let other_root = |p: &TaprootSigningPackage| {
        let tweak = TapTweak::ScriptTree([0xa8; 32]);
        with_spend(p, TaprootSpend::new(p.spend().path().clone(), tweak))
    };
    let other_message = |p: &TaprootSigningPackage| {
        let c = p.package().commitments().clone();
        TaprootSigningPackage::new(p.spend().clone(), c, vec![0x66; 32]).unwrap()
    };
    let fewer_signers = |p: &TaprootSigningPackage| {
        let mut c = p.package().commitments().clone();
        c.remove(&pid(2));
        TaprootSigningPackage::new(p.spend().clone(), c, p.message().to_vec()).unwrap()
    };
    let tampers: [(&str, Rebuild); 5] = [
        ("other path", Box::new(other_path)),
        ("other tweak", Box::new(other_tweak)),
        ("other merkle root", Box::new(other_root)),
        ("other message", Box::new(other_message)),
        ("fewer signers", Box::new(fewer_signers)),
    ];
    for (i, (what, f)) in tampers.into_iter().enumerate() {
        let store = MemoryOneTimeStore::new();
        let mut sim = session.simulator(&store, 20 + i as u64);
        sim.rule(FaultRule::any(tamper_package(f)).from(pid(COORD)).times(2));
        let out = sim.run();
        assert!(!out.failures.is_empty(), "{what}: nobody refused");
        assert_refused_by_signers(&session, &store, &out, Reason::MalformedMessage);
    }
}

#[test]
fn a_package_adding_a_signer_or_swapping_a_commitment_is_refused() {
    let keys = dealer_keys(2, 3, 6);
    let session = Session::new(&keys, &[1, 3], TaprootSpend::root_key_path());
    let mut rng = ChaCha20Rng::seed_from_u64(60);
    // An added signer (party 2, a key holder not agreed on).
    let (_, extra) = round1::preprocess(&keys[1], 1, &mut rng);
    let extra = extra[0];
    let store = MemoryOneTimeStore::new();
    let mut sim = session.simulator(&store, 61);
    sim.rule(FaultRule::any(insert_commitment(2, extra)).times(2));
    assert_refused_by_signers(&session, &store, &sim.run(), Reason::MalformedMessage);
    // A commitment the session may not use (another pair of signer 3's, also in the store).
    let store = MemoryOneTimeStore::new();
    let other = round1::preprocess_into(&store, &keys[2], 1, &mut rng).unwrap()[0];
    let mut sim = session.simulator(&store, 62);
    sim.rule(FaultRule::any(insert_commitment(3, other)).to(pid(3)));
    let out = sim.run();
    assert_eq!(
        out.failures.get(&pid(3)),
        Some(&Error::blame(pid(COORD), Reason::CommitmentMismatch))
    );
    // Both of signer 3's pairs are still in the store.
    assert_eq!(store.count(&keys[2].nonce_scope()).unwrap(), 2);
}

#[test]
fn without_a_fixed_spend_a_changed_spend_cannot_produce_a_signature() {
    // Signers that do not fix the spend sign what they are sent; the coordinator (honest, but
    // its broadcast altered on the way) verifies each share against its own key and names
    // every signer whose share does not fit: nothing verifies under a key nobody agreed on.
    let keys = dealer_keys(2, 3, 7);
    let session = Session::unfixed(&keys, &[1, 2], derived_spend());
    let store = MemoryOneTimeStore::new();
    let mut sim = session.simulator(&store, 70);
    sim.rule(
        FaultRule::any(tamper_package(|p| {
            let path = DerivationPath::parse("m/1").unwrap();
            with_spend(p, TaprootSpend::new(path, *p.spend().tweak()))
        }))
        .to(pid(2)),
    );
    let out = sim.run();
    assert_eq!(
        out.failures.get(&pid(COORD)),
        Some(&Error::blame(pid(2), Reason::InvalidSignatureShare))
    );
    assert!(signature_of(&out).is_none());
}

// ---------------------------------------------------------------------------------------------
// A cheating signer or transport
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_share_names_its_signer() {
    let keys = dealer_keys(3, 5, 8);
    let session = Session::new(&keys, &[1, 3, 4], derived_spend());
    for culprit in [1u16, 4] {
        let store = MemoryOneTimeStore::new();
        let mut sim = session.simulator(&store, 80 + u64::from(culprit));
        sim.rule(FaultRule::any(tamper_share(|z| z + k256::Scalar::ONE)).from(pid(culprit)));
        let out = sim.run();
        assert_eq!(
            out.failures.get(&pid(COORD)),
            Some(&Error::blame(pid(culprit), Reason::InvalidSignatureShare))
        );
        assert!(signature_of(&out).is_none());
    }
    // Two cheaters (one negates its share, the BIP-340 parity trap) are both named.
    let store = MemoryOneTimeStore::new();
    let mut sim = session.simulator(&store, 89);
    sim.rule(FaultRule::any(tamper_share(|z| -z)).from(pid(1)));
    sim.rule(FaultRule::any(tamper_share(|z| z + z)).from(pid(3)));
    assert_eq!(
        sim.run().failures.get(&pid(COORD)),
        Some(&Error::blame_all(
            vec![pid(1), pid(3)],
            Reason::InvalidSignatureShare
        ))
    );
}

/// Drives one session by hand: the package the coordinator broadcasts and the share
/// envelopes of `session`'s signers.
struct Manual<'a> {
    coordinator: TaprootCoordinator,
    package: Envelope<TaprootSigningMessage>,
    shares: BTreeMap<PartyId, Envelope<TaprootSigningMessage>>,
    signers: BTreeMap<PartyId, TaprootSigner<&'a MemoryOneTimeStore>>,
}

fn manual<'a>(session: &Session<'_>, store: &'a MemoryOneTimeStore, seed: u64) -> Manual<'a> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut commitments = BTreeMap::new();
    let mut signers = BTreeMap::new();
    for p in &session.signers {
        let c = round1::preprocess_into(store, &keys_of(session, *p), 1, &mut rng).unwrap();
        commitments.insert(pid(*p), c[0]);
        signers.insert(pid(*p), session.signer(store, *p, &c));
    }
    let package =
        TaprootSigningPackage::new(session.spend.clone(), commitments, SIGHASH.to_vec()).unwrap();
    let mut coordinator = session.coordinator(package);
    let Step::Continue(mut out) = coordinator.start(&mut rng).unwrap() else {
        panic!("the coordinator finished at once");
    };
    let package = out.remove(0);
    let mut shares = BTreeMap::new();
    for (p, s) in &mut signers {
        let _ = s.start(&mut rng).unwrap();
        let Step::Done(mut sent, _) = s.handle(package.clone(), &mut rng).unwrap() else {
            panic!("signer {p} did not sign");
        };
        shares.insert(*p, sent.remove(0));
    }
    Manual {
        coordinator,
        package,
        shares,
        signers,
    }
}

fn keys_of(session: &Session<'_>, p: u16) -> KeyPackage<Secp256k1> {
    session.keys[usize::from(p) - 1].duplicate()
}

#[test]
fn a_share_from_the_wrong_party_is_refused_or_blamed() {
    let keys = dealer_keys(2, 3, 9);
    let session = Session::new(&keys, &[1, 3], derived_spend());
    let store = MemoryOneTimeStore::new();
    let mut m = manual(&session, &store, 90);
    let mut rng = ChaCha20Rng::seed_from_u64(91);
    // Party 2 holds a share of the key but is not a signer of this session: rejected, no state
    // change.
    let mut from_2 = m.shares[&pid(1)].clone();
    from_2.sender = pid(2);
    assert_eq!(
        m.coordinator.handle(from_2, &mut rng).unwrap_err(),
        Error::UnknownSender { sender: pid(2) }
    );
    // The coordinator cannot send itself a share.
    let mut from_me = m.shares[&pid(1)].clone();
    from_me.sender = pid(COORD);
    assert!(m.coordinator.handle(from_me, &mut rng).is_err());
    // A signer may not send a package, nor a share in the package round.
    let mut early = m.shares[&pid(1)].clone();
    early.round = 1;
    early.recipient = Recipient::All;
    assert_eq!(
        m.coordinator.handle(early, &mut rng).unwrap_err(),
        Error::UnexpectedMessage {
            sender: pid(1),
            round: 1
        }
    );
    // The honest share of signer 1 arrives; then signer 1's share again, but as signer 3's
    // (a relay swapping senders): it does not verify for 3, and 3 is named.
    assert!(matches!(
        m.coordinator.handle(m.shares[&pid(1)].clone(), &mut rng),
        Ok(Step::Continue(_))
    ));
    let mut as_3 = m.shares[&pid(1)].clone();
    as_3.sender = pid(3);
    assert_eq!(
        m.coordinator.handle(as_3, &mut rng).unwrap_err(),
        Error::blame(pid(3), Reason::InvalidSignatureShare)
    );
    assert_eq!(
        m.coordinator
            .handle(m.shares[&pid(3)].clone(), &mut rng)
            .unwrap_err(),
        Error::Aborted
    );
}

#[test]
fn duplicates_are_ignored_equivocations_blamed_replays_refused() {
    let keys = dealer_keys(2, 3, 10);
    let session = Session::new(&keys, &[2, 3], TaprootSpend::root_key_path());
    let store = MemoryOneTimeStore::new();
    let mut m = manual(&session, &store, 100);
    let mut rng = ChaCha20Rng::seed_from_u64(101);
    let share_2 = m.shares[&pid(2)].clone();
    // An identical duplicate is ignored.
    for _ in 0..2 {
        assert!(matches!(
            m.coordinator.handle(share_2.clone(), &mut rng),
            Ok(Step::Continue(v)) if v.is_empty()
        ));
    }
    // The same signer with a second, different share for the round: equivocation.
    let mut other = share_2.clone();
    other.payload = TaprootSigningMessage::Share(SignatureShare(k256::Scalar::ONE));
    let mut c = TaprootCoordinator::from_bytes(&m.coordinator.to_bytes()).unwrap();
    assert_eq!(
        c.handle(other, &mut rng).unwrap_err(),
        Error::blame(pid(2), Reason::Equivocation)
    );
    // The honest run completes.
    let Step::Done(_, sig) = m
        .coordinator
        .handle(m.shares[&pid(3)].clone(), &mut rng)
        .unwrap()
    else {
        panic!("no signature");
    };
    assert!(libsecp_verify(&session.key().output_key(), &SIGHASH, &sig));
    // Replays after the end: the coordinator and the signers are finished.
    assert_eq!(
        m.coordinator.handle(share_2, &mut rng).unwrap_err(),
        Error::Finished
    );
    for s in m.signers.values_mut() {
        assert_eq!(
            s.handle(m.package.clone(), &mut rng).unwrap_err(),
            Error::Finished
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Saved states: single use across restores and parallel workers
// ---------------------------------------------------------------------------------------------

/// Signer 1 of `session` (whose signers include 1), started and saved, with one pair in
/// `store`; every signer's commitment.
fn started_signer_state(
    session: &Session<'_>,
    store: &MemoryOneTimeStore,
    seed: u64,
) -> (
    wallet_types::SecretVec,
    BTreeMap<PartyId, round1::SigningCommitments<Secp256k1>>,
    ChaCha20Rng,
) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let rng = &mut rng;
    let mut commitments = BTreeMap::new();
    let mut own = Vec::new();
    for p in &session.signers {
        let c = round1::preprocess_into(store, &keys_of(session, *p), 1, rng).unwrap();
        commitments.insert(pid(*p), c[0]);
        if *p == 1 {
            own = c;
        }
    }
    let mut signer = session.signer(store, 1, &own);
    let _ = signer.start(rng).unwrap();
    (signer.save(), commitments, rng.clone())
}

fn package_envelope(
    spend: &TaprootSpend,
    commitments: &BTreeMap<PartyId, round1::SigningCommitments<Secp256k1>>,
    message: &[u8],
) -> Envelope<TaprootSigningMessage> {
    let p =
        TaprootSigningPackage::new(spend.clone(), commitments.clone(), message.to_vec()).unwrap();
    Envelope {
        session: SID,
        round: 1,
        sender: pid(COORD),
        recipient: Recipient::All,
        payload: TaprootSigningMessage::Package(p),
    }
}

#[test]
fn a_restored_signer_state_signs_once() {
    let keys = dealer_keys(2, 2, 11);
    // The copies do not fix the spend: a hostile coordinator shows each copy another one.
    let session = Session::unfixed(&keys, &[1, 2], derived_spend());
    let store = MemoryOneTimeStore::new();
    let (saved, commitments, mut rng) = started_signer_state(&session, &store, 110);
    let mut a = TaprootSigner::restore(&store, saved.expose()).unwrap();
    let mut b = TaprootSigner::restore(&store, saved.expose()).unwrap();
    let first = package_envelope(&session.spend, &commitments, &SIGHASH);
    let Step::Done(sent, out) = a.handle(first, &mut rng).unwrap() else {
        panic!("the first copy must sign");
    };
    assert_eq!(sent.len(), 1);
    let other = TaprootSpend::new(DerivationPath::parse("m/9").unwrap(), TapTweak::KeyPathOnly);
    let second = package_envelope(&other, &commitments, &[0x77; 32]);
    assert_eq!(
        b.handle(second.clone(), &mut rng).unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
    assert_eq!(b.handle(second, &mut rng).unwrap_err(), Error::Aborted);
    // The share that was released is valid for the spend it was made for.
    let package =
        TaprootSigningPackage::new(session.spend.clone(), commitments, SIGHASH.to_vec()).unwrap();
    let z2 = taproot::sign_with_store(&package, &store, &keys[1], &session.chain_code()).unwrap();
    let shares = BTreeMap::from([(pid(1), out.share), (pid(2), z2)]);
    let sig = taproot::aggregate(&package, &shares, &session.key()).unwrap();
    assert!(libsecp_verify(&session.key().output_key(), &SIGHASH, &sig));
    // Through the either-role state as well: a third copy is refused.
    let party =
        TaprootSigningParty::Signer(TaprootSigner::restore(&store, saved.expose()).unwrap());
    let mut c = TaprootSigningParty::restore(&store, party.save().expose()).unwrap();
    assert_eq!(
        c.handle(
            package_envelope(&session.spend, package.package().commitments(), &SIGHASH),
            &mut rng
        )
        .unwrap_err(),
        Error::Store(StoreError::AlreadyUsed)
    );
}

#[test]
fn a_signer_state_of_a_retired_epoch_cannot_sign() {
    // A refresh replaced the key shares and retired the old scope: a Taproot signer state
    // saved before it (the pair still unused) can no longer sign.
    let store = MemoryOneTimeStore::new();
    let keys = dealer_keys(2, 2, 15);
    let session = Session::new(&keys, &[1, 2], derived_spend());
    let (saved, commitments, mut rng) = started_signer_state(&session, &store, 150);
    round1::retire_nonces(&store, &keys[0]).unwrap();
    let mut m = TaprootSigner::restore(&store, saved.expose()).unwrap();
    let env = package_envelope(&session.spend, &commitments, &SIGHASH);
    assert_eq!(
        m.handle(env, &mut rng).unwrap_err(),
        Error::Store(StoreError::Retired)
    );
}

#[test]
fn parallel_restored_workers_sign_once() {
    let keys = dealer_keys(2, 2, 12);
    let session = Session::unfixed(&keys, &[1, 2], TaprootSpend::root_key_path());
    let store = MemoryOneTimeStore::new();
    for round in 0..6u8 {
        let (saved, commitments, _) =
            started_signer_state(&session, &store, 120 + u64::from(round));
        let results: Vec<Result<bool, Error>> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..3u8)
                .map(|w| {
                    let env = package_envelope(&session.spend, &commitments, &[round, w]);
                    let (saved, store) = (&saved, &store);
                    s.spawn(move || {
                        let mut m = TaprootSigner::restore(store, saved.expose()).unwrap();
                        let mut rng = ChaCha20Rng::seed_from_u64(u64::from(w));
                        m.handle(env, &mut rng)
                            .map(|step| matches!(step, Step::Done(..)))
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|r| **r == Ok(true)).count(),
            1,
            "{results:?}"
        );
        assert_eq!(
            results
                .iter()
                .filter(|r| **r == Err(Error::Store(StoreError::AlreadyUsed)))
                .count(),
            2,
            "{results:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Other sessions, other kinds
// ---------------------------------------------------------------------------------------------

#[test]
fn a_message_of_another_session_is_rejected_without_a_state_change() {
    let store = MemoryOneTimeStore::new();
    let keys = dealer_keys(2, 3, 13);
    let session = Session::new(&keys, &[1, 2], derived_spend());
    let mut sim = session.simulator(&store, 130);
    // Signer 1's share reaches the coordinator under another session id, and the package
    // reaches signer 2 under another one: both rejected, nothing changes.
    for (from, to, sid) in [(1, COORD, [9; 32]), (COORD, 2, [7; 32])] {
        sim.rule(
            FaultRule::any(Fault::WrongSession(SessionId(sid)))
                .from(pid(from))
                .to(pid(to)),
        );
    }
    let out = sim.run();
    for (at, from) in [(COORD, 1), (2, COORD)] {
        let e = Error::WrongSession { sender: pid(from) };
        assert!(
            out.rejections.contains(&(pid(at), e)),
            "{:?}",
            out.rejections
        );
    }
    assert!(out.failures.is_empty());
    assert!(signature_of(&out).is_none());
    assert!(out.stalled.contains(&pid(2)));
    // Signer 2 still holds its pair: it can sign the real package later.
    assert_eq!(session.nonces_left(&store), [0, 1]);
    // The rejected envelopes changed nothing: once the real share and package arrive, signer
    // 2 signs and the coordinator finishes.
    let sent = sim.sent().to_vec();
    for (from, to) in [(1, COORD), (COORD, 2)] {
        let real = sent.iter().find(|e| e.sender == pid(from)).unwrap().clone();
        sim.inject(pid(to), real);
    }
    let out = sim.resume();
    assert_signed(&session, &out);
}

#[test]
fn objects_of_another_kind_or_mode_are_refused() {
    let keys = dealer_keys(2, 3, 14);
    let session = Session::new(&keys, &[1, 2], derived_spend());
    let store = MemoryOneTimeStore::new();
    let (saved, commitments, _) = started_signer_state(&session, &store, 140);
    let package = package_envelope(&session.spend, &commitments, &SIGHASH).payload;
    let TaprootSigningMessage::Package(tp) = &package else {
        unreachable!()
    };
    let coordinator = session.coordinator(tp.clone());
    let party =
        TaprootSigningParty::Signer(TaprootSigner::restore(&store, saved.expose()).unwrap());
    let wrong = |e: Result<(), DecodeError>, expected: u16, found: u16| {
        assert_eq!(e.unwrap_err(), DecodeError::WrongKind { expected, found });
    };
    // Taproot objects are not RFC 9591 ones …
    wrong(
        SigningMessage::<Secp256k1>::from_bytes(&package.to_bytes()).map(|_| ()),
        0x0320,
        0x0331,
    );
    wrong(
        SignerState::<Secp256k1>::from_bytes(saved.expose()).map(|_| ()),
        0x0324,
        0x0332,
    );
    wrong(
        Coordinator::<Secp256k1>::from_bytes(&coordinator.to_bytes()).map(|_| ()),
        0x0322,
        0x0333,
    );
    wrong(
        SigningPartyState::<Secp256k1>::from_bytes(party.save().expose()).map(|_| ()),
        0x0325,
        0x0334,
    );
    // … nor each other, nor a bare package.
    wrong(
        TaprootSignerState::from_bytes(&coordinator.to_bytes()).map(|_| ()),
        0x0332,
        0x0333,
    );
    wrong(
        TaprootCoordinator::from_bytes(saved.expose()).map(|_| ()),
        0x0333,
        0x0332,
    );
    wrong(
        TaprootSigningMessage::from_bytes(&tp.to_bytes()).map(|_| ()),
        0x0331,
        0x0330,
    );
    // An RFC 9591 message of the same curve is not a Taproot message.
    let plain = SigningMessage::<Secp256k1>::Package(tp.package().clone());
    wrong(
        TaprootSigningMessage::from_bytes(&plain.to_bytes()).map(|_| ()),
        0x0331,
        0x0320,
    );
    // Round trips, and one encoding each.
    assert_eq!(
        TaprootSigningMessage::from_bytes(&package.to_bytes()).unwrap(),
        package
    );
    let state = TaprootSignerState::from_bytes(saved.expose()).unwrap();
    assert_eq!(state.to_secret_bytes().expose(), saved.expose());
    assert_eq!(
        TaprootCoordinator::from_bytes(&coordinator.to_bytes())
            .unwrap()
            .to_bytes(),
        coordinator.to_bytes()
    );
    let ps = TaprootSigningPartyState::from_bytes(party.save().expose()).unwrap();
    assert_eq!(ps.to_secret_bytes().expose(), party.save().expose());
    let mut long = package.to_bytes();
    long.push(0);
    assert!(TaprootSigningMessage::from_bytes(&long).is_err());
}

// ---------------------------------------------------------------------------------------------
// Known answers (the values of `tests/frost_taproot.rs`'s `known_answer_vector`, through the
// machines; the byte layouts are those of `SPEC.md`)
// ---------------------------------------------------------------------------------------------

fn scalar(hex_s: &str) -> SecretScalar<Secp256k1> {
    SecretScalar::new(
        wallet_types::decode_scalar::<Secp256k1>(&hex::decode(hex_s).unwrap()).unwrap(),
    )
}

/// `s = 7`, `Φ₁ = 0xb1·G` over parties 1..3; the key packages of 1 and 3.
fn kat_keys() -> (
    PublicKeyPackage<Secp256k1>,
    KeyPackage<Secp256k1>,
    KeyPackage<Secp256k1>,
) {
    let (s, a1) = (
        scalar(&format!("{:064x}", 7)),
        scalar(&format!("{:064x}", 0xb1)),
    );
    let public =
        PublicKeyPackage::new(Parties::range(3).unwrap(), vec![s.public(), a1.public()]).unwrap();
    let share = |x: u64| SecretScalar::new(*s.expose() + *a1.expose() * k256::Scalar::from(x));
    let kp1 = KeyPackage::new(pid(1), share(1), public.clone()).unwrap();
    let kp3 = KeyPackage::new(pid(3), share(3), public.clone()).unwrap();
    (public, kp1, kp3)
}

#[test]
fn known_answer_machines() {
    let (public, kp1, kp3) = kat_keys();
    let cc = [0x11; 32];
    let spend = TaprootSpend::new(
        DerivationPath::parse("m/0/5").unwrap(),
        TapTweak::ScriptTree([0x22; 32]),
    );
    let store = MemoryOneTimeStore::new();
    let mut commitments = BTreeMap::new();
    for (kp, d, e) in [(&kp1, "01", "02"), (&kp3, "03", "04")] {
        let n = SigningNonces::from_scalars(scalar(&d.repeat(32)), scalar(&e.repeat(32)));
        commitments.insert(kp.id(), *n.commitments());
        n.seal_into(&store, kp).unwrap();
    }
    let set = Parties::from_ids(&[1, 3]).unwrap();
    let signer = |kp: &KeyPackage<Secp256k1>| {
        TaprootSigner::new(
            &store,
            SID,
            kp.duplicate(),
            cc,
            pid(COORD),
            set.clone(),
            [commitments[&kp.id()].id()],
        )
        .unwrap()
        .expect_spend(spend.clone())
        .expect_message(vec![0x33; 32])
    };
    let (mut s1, mut s3) = (signer(&kp1), signer(&kp3));
    let package =
        TaprootSigningPackage::new(spend.clone(), commitments.clone(), vec![0x33; 32]).unwrap();
    let mut coordinator =
        TaprootCoordinator::new(SID, pid(COORD), public.clone(), cc, package.clone()).unwrap();

    // Signer state 0x0332, as SPEC.md lays it out: the 0x0324 body, then the chain code and
    // the expected spend.
    let state = s1.save();
    let mut expected = vec![0x01, 0x03, 0x32, 0x01, 0x00, 0x01, 0x00, 0x00, 0x64];
    expected.extend_from_slice(&[0x00, 0x02, 0x00, 0x01, 0x00, 0x03]);
    expected.extend_from_slice(&[0x5a; 32]); // inbox: session
    expected.extend_from_slice(&[0x00, 0x01, 0x00, 0x03, 0x00, 0x01, 0x00, 0x03, 0x00, 0x64]);
    expected.extend_from_slice(&[0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]); // current, no entries
    expected.extend_from_slice(&kp1.to_secret_bytes().expose()[4..]);
    expected.extend_from_slice(&[0, 0, 0, 1]);
    expected.extend_from_slice(&commitments[&pid(1)].id().0);
    expected.extend_from_slice(&[0x01, 0x00, 0x00, 0x00, 0x20]);
    expected.extend_from_slice(&[0x33; 32]);
    expected.extend_from_slice(&cc);
    expected.extend_from_slice(&[0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 5, 0x02]);
    expected.extend_from_slice(&[0x22; 32]);
    assert_eq!(state.expose(), expected.as_slice());

    // Coordinator state 0x0333 before it starts: root package, chain code, package, inbox.
    let mut expected = vec![0x01, 0x03, 0x33, 0x01, 0x00, 0x64, 0x00];
    expected.extend_from_slice(&public.to_bytes()[4..]);
    expected.extend_from_slice(&cc);
    expected.extend_from_slice(&package.to_bytes()[4..]);
    expected.extend_from_slice(&[0x5a; 32]);
    expected.extend_from_slice(&[0x00, 0x64, 0x00, 0x03, 0x00, 0x01, 0x00, 0x03, 0x00, 0x64]);
    expected.extend_from_slice(&[0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(coordinator.to_bytes(), expected);

    // The run.
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let Step::Continue(mut out) = coordinator.start(&mut rng).unwrap() else {
        panic!()
    };
    let broadcast = out.remove(0);
    let mut shares = Vec::new();
    for s in [&mut s1, &mut s3] {
        let _ = s.start(&mut rng).unwrap();
        let Step::Done(mut sent, _) = s.handle(broadcast.clone(), &mut rng).unwrap() else {
            panic!()
        };
        shares.push(sent.remove(0));
    }
    let _ = coordinator.handle(shares[0].clone(), &mut rng).unwrap();
    let Step::Done(_, sig) = coordinator.handle(shares[1].clone(), &mut rng).unwrap() else {
        panic!()
    };
    let got = format!(
        "package {}\nshare1 {}\nshare3 {}\nsig {}",
        hex::encode(broadcast.payload.to_bytes()),
        hex::encode(shares[0].payload.to_bytes()),
        hex::encode(shares[1].payload.to_bytes()),
        hex::encode(sig.to_bytes()),
    );
    assert_eq!(got, MACHINE_KAT);
    // The message is `01 0331 01 ‖ tag ‖ body`: the package tag wraps the 0x0330 body.
    assert_eq!(
        broadcast.payload.to_bytes()[4..],
        [&[1u8][..], &package.to_bytes()[4..]].concat()
    );
    let key = TaprootKey::new(&public, &cc, &spend).unwrap();
    assert!(libsecp_verify(&key.output_key(), &[0x33; 32], &sig));
}

/// The signature is the one of `frost_taproot.rs`'s `known_answer_vector` (and `SPEC.md`):
/// the machines sign exactly as the functions do.
const MACHINE_KAT: &str = "package 010331010102000000000000000502222222222222222222222222222222222222222222222222222222222222222200000020333333333333333333333333333333333333333333333333333333333333333300020001031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766000302531fe6068134503d2723133227c867ac8fa6c83c537e9a44c3c5bdbdcb1fe33703462779ad4aad39514614751a71085f2f10e1c7a593e4e030efb5b8721ce55b0b\n\
share1 01033101026bf12c842f0d3b76a2965726aea14432911494accfce99591b2d200b50771812\n\
share3 0103310102af9ecf7428fd148e96993238e1504365fd9f0759f0e074913f6c78ad25b651df\n\
sig 0ec6a2c4ffc2543fcf6b2a43d29a7735c4dae61bb34454b04671f0ccdc1c1a6d1b8ffbf8580a5005392f895f8ff18799d404bf2011666dae9ac73a2ba5f728b0";
