//! OT-based multiplication (DKLs23 π_RVOLE): correctness over many random inputs, every check
//! against a deviating counterparty (with the culprit and the ban), replays, and what each side
//! holds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use k256::Scalar;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::mul::*;
use wallet_tss::ot::*;
use wallet_types::{
    Error, ErrorKind, ParamError, PartyId, Reason, Secp256k1, SecretScalar, SessionId, WireObject,
};

const ALICE: PartyId = PartyId::new(1).unwrap();
const BOB: PartyId = PartyId::new(2).unwrap();

fn setup(
    rng: &mut ChaCha20Rng,
    alice: PartyId,
    bob: PartyId,
) -> (MulSenderSetup, MulReceiverSetup) {
    let session = SessionId::random(rng);
    let (b1, m1) = setup_bob_round1(&session, bob, alice, rng);
    let (a2, m2) = setup_alice_round2(&session, alice, bob, &m1, rng).unwrap();
    let (b3, m3) = setup_bob_round3(b1, &m2).unwrap();
    let (a4, m4) = setup_alice_round4(a2, &m3).unwrap();
    let (bs, m5) = setup_bob_round5(b3, &m4).unwrap();
    (setup_alice_finish(a4, &m5).unwrap(), bs)
}

fn randoms(rng: &mut ChaCha20Rng, n: usize) -> Vec<SecretScalar<Secp256k1>> {
    (0..n).map(|_| SecretScalar::random(rng)).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn enc(s: &SecretScalar<Secp256k1>) -> Vec<u8> {
    s.expose().to_bytes().to_vec()
}

#[test]
fn shares_sum_to_the_product_over_many_inputs() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    // The other direction is its own setup (roles swap).
    let (rev_alice, rev_bob) = setup(&mut rng, BOB, ALICE);
    let mut bs = Vec::new();
    for round in 0..24 {
        let ell = 1 + round % 4;
        let (sa, sb, alice, bob) = if round % 3 == 2 {
            (&rev_alice, &rev_bob, BOB, ALICE)
        } else {
            (&alice_setup, &bob_setup, ALICE, BOB)
        };
        let session = SessionId::random(&mut rng);
        let mut a = randoms(&mut rng, ell);
        if round == 5 {
            a[0] = SecretScalar::zero();
        }
        let (state, m1) = mul_receiver_round1(sb, &session, ell, &mut rng).unwrap();
        let b_early = enc(state.b());
        // Every state and message through its encoding.
        let state = MulReceiverState::from_bytes(state.to_secret_bytes().expose()).unwrap();
        let m1 = MulMsg1::from_bytes(&m1.to_bytes()).unwrap();
        let (c, m2) = mul_sender_round2(sa, &session, &a, &m1, bob, &mut rng).unwrap();
        let m2 = MulMsg2::from_bytes(&m2.to_bytes()).unwrap();
        assert_eq!(m2.len(), ell);
        let (b, d) = state.finish(sb, &session, &m2, alice).unwrap();
        assert_eq!(enc(&b), b_early);
        assert_eq!(c.len(), ell);
        assert_eq!(d.len(), ell);
        for i in 0..ell {
            assert_eq!(c[i].expose() + d[i].expose(), a[i].expose() * b.expose());
        }
        assert!(!bool::from(b.is_zero()));
        bs.push(enc(&b));
    }
    // Bob's b is fresh every time.
    let mut sorted = bs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), bs.len());
}

struct Run {
    session: SessionId,
    state: MulReceiverState,
    m1: MulMsg1,
    a: Vec<SecretScalar<Secp256k1>>,
}

fn round1(rng: &mut ChaCha20Rng, bob_setup: &MulReceiverSetup) -> Run {
    let session = SessionId::random(rng);
    let (state, m1) = mul_receiver_round1(bob_setup, &session, 2, rng).unwrap();
    Run {
        session,
        state,
        m1,
        a: randoms(rng, 2),
    }
}

// Offsets in MulMsg1: header 4, session 32, salt 32, then 127 columns of 896 bits, ũ (24), hash (32).
const M1_U: usize = 4 + 32 + 32;
const M1_CHECK_U: usize = M1_U + 127 * 896 / 8;
const M1_CHECK_HASH: usize = M1_CHECK_U + 24;
// Offsets in MulMsg2: header 4, session 32, digest of the MulMsg1 answered (32), salt 32, ℓ (1),
// τ (ξ·(ℓ+1)·32), u (32), hash (32).
const M2_DIGEST: usize = 4 + 32;
const M2_TAU: usize = M2_DIGEST + 32 + 32 + 1;

#[test]
fn tampered_extension_message_is_an_ot_consistency_failure_that_bans_bob() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    let cases: [(&str, usize, u8); 5] = [
        ("correction column u_1", M1_U, 0x01),
        (
            "correction column u_127 (an extra row)",
            M1_CHECK_U - 1,
            0x80,
        ),
        ("correction column u_60", M1_U + 59 * 112 + 40, 0x10),
        ("check bits ũ", M1_CHECK_U + 3, 0x02),
        ("check hash", M1_CHECK_HASH + 31, 0x01),
    ];
    for (what, off, mask) in cases {
        let run = round1(&mut rng, &bob_setup);
        let mut bytes = run.m1.to_bytes();
        bytes[off] ^= mask;
        let m1 = MulMsg1::from_bytes(&bytes).unwrap();
        let err = mul_sender_round2(&alice_setup, &run.session, &run.a, &m1, BOB, &mut rng)
            .expect_err(what);
        assert_eq!(err, Error::blame(BOB, Reason::OtConsistency), "{what}");
        assert_eq!(err.must_ban(), &[BOB], "{what}");
    }
}

#[test]
fn tampered_vole_message_is_a_multiplication_check_failure_that_bans_alice() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    let width = 3;
    for case in 0..4 {
        let run = round1(&mut rng, &bob_setup);
        let (_, m2) =
            mul_sender_round2(&alice_setup, &run.session, &run.a, &run.m1, BOB, &mut rng).unwrap();
        let mut bytes = m2.to_bytes();
        let end = bytes.len();
        match case {
            // A wrong correction τ_j in column i for every j (the lowest byte of each scalar):
            // it changes Bob's output wherever β_j = 1, and the check sees it.
            0 | 1 => {
                for j in 0..XI {
                    bytes[M2_TAU + 32 * (width * j + case) + 31] ^= 1;
                }
            }
            // A wrong check value u.
            2 => bytes[end - 64 + 31] ^= 1,
            // A wrong hash of the check vector r.
            _ => bytes[end - 1] ^= 1,
        }
        let m2 = MulMsg2::from_bytes(&bytes).unwrap();
        let err = run
            .state
            .finish(&bob_setup, &run.session, &m2, ALICE)
            .unwrap_err();
        assert_eq!(
            err,
            Error::blame(ALICE, Reason::MultiplicationCheck),
            "case {case}"
        );
        assert_eq!(err.must_ban(), &[ALICE]);
    }
}

#[test]
fn any_single_wrong_correction_entry_is_caught() {
    // In transit, even a τ_j that Bob's choice bit β_j = 0 ignores is caught, because the
    // check challenge χ is a hash of all of τ. (A malicious Alice who recomputes χ can make a
    // wrong τ_j go unnoticed when β_j = 0 — the selective failure that the encoding
    // b = ⟨g, β⟩ with ξ ≫ log q absorbs, and the reason a failed check bans her.)
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    for j in [0usize, 1, 2, 351, XI - 1] {
        let run = round1(&mut rng, &bob_setup);
        let (_, m2) =
            mul_sender_round2(&alice_setup, &run.session, &run.a, &run.m1, BOB, &mut rng).unwrap();
        let mut bytes = m2.to_bytes();
        bytes[M2_TAU + 32 * (3 * j + j % 3) + 31] ^= 1;
        let m2 = MulMsg2::from_bytes(&bytes).unwrap();
        let e = run
            .state
            .finish(&bob_setup, &run.session, &m2, ALICE)
            .unwrap_err();
        assert_eq!(e, Error::blame(ALICE, Reason::MultiplicationCheck));
    }
}

#[test]
fn replayed_and_misrouted_messages_are_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    let old = round1(&mut rng, &bob_setup);
    let (_, old_m2) =
        mul_sender_round2(&alice_setup, &old.session, &old.a, &old.m1, BOB, &mut rng).unwrap();
    let new = round1(&mut rng, &bob_setup);
    // Bob's first message of an earlier multiplication, replayed into a new one.
    let err =
        mul_sender_round2(&alice_setup, &new.session, &new.a, &old.m1, BOB, &mut rng).unwrap_err();
    assert_eq!(err, Error::WrongSession { sender: BOB });
    // … relabelled with the new session: the extension no longer verifies.
    let mut bytes = old.m1.to_bytes();
    bytes[4..36].copy_from_slice(new.session.as_bytes());
    let relabelled = MulMsg1::from_bytes(&bytes).unwrap();
    let err = mul_sender_round2(
        &alice_setup,
        &new.session,
        &new.a,
        &relabelled,
        BOB,
        &mut rng,
    )
    .unwrap_err();
    assert_eq!(err, Error::blame(BOB, Reason::OtConsistency));
    // Alice's second message of an earlier multiplication, replayed to Bob.
    let state = MulReceiverState::from_bytes(new.state.to_secret_bytes().expose()).unwrap();
    let err = new
        .state
        .finish(&bob_setup, &new.session, &old_m2, ALICE)
        .unwrap_err();
    assert_eq!(err, Error::WrongSession { sender: ALICE });
    let mut bytes = old_m2.to_bytes();
    bytes[4..36].copy_from_slice(new.session.as_bytes());
    // (With the session alone relabelled it still names the old first message: StaleAnswer,
    // see `stale_answers_are_rejections_that_keep_the_state`. Relabel that too.)
    bytes[M2_DIGEST..M2_DIGEST + 32].copy_from_slice(&new.m1.digest());
    let relabelled = MulMsg2::from_bytes(&bytes).unwrap();
    let err = state
        .finish(&bob_setup, &new.session, &relabelled, ALICE)
        .unwrap_err();
    assert_eq!(err, Error::blame(ALICE, Reason::MultiplicationCheck));
}

/// Bob sent a first message, was restored from a snapshot taken before round 1 and ran it again
/// (fresh salt, fresh choice bits) under the same session; Alice's answer to the *old* message
/// then arrives. It names the old message, so Bob rejects it as stale — nobody is blamed or
/// banned — and, since the check does not consume his state, the answer to his new message
/// still finishes the multiplication.
#[test]
fn stale_answers_are_rejections_that_keep_the_state() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    let session = SessionId::random(&mut rng);
    let a = randoms(&mut rng, 2);
    let (_lost, old_m1) = mul_receiver_round1(&bob_setup, &session, 2, &mut rng).unwrap();
    let (_, old_m2) =
        mul_sender_round2(&alice_setup, &session, &a, &old_m1, BOB, &mut rng).unwrap();
    let (state, new_m1) = mul_receiver_round1(&bob_setup, &session, 2, &mut rng).unwrap();
    assert_eq!(old_m2.answers(), &old_m1.digest());
    assert_ne!(old_m1.digest(), new_m1.digest());
    // Through the encodings, as a restored machine would see them.
    let old_m2 = MulMsg2::from_bytes(&old_m2.to_bytes()).unwrap();
    let state = MulReceiverState::from_bytes(state.to_secret_bytes().expose()).unwrap();
    let err = state.check_answers(&old_m2, ALICE).unwrap_err();
    assert_eq!(err, Error::StaleAnswer { sender: ALICE });
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(err.must_ban().is_empty());
    assert!(err.culprits().is_empty());
    // `finish` runs the same check first (and consumes its copy of the state).
    let copy = MulReceiverState::from_bytes(state.to_secret_bytes().expose()).unwrap();
    assert_eq!(
        copy.finish(&bob_setup, &session, &old_m2, ALICE)
            .unwrap_err(),
        Error::StaleAnswer { sender: ALICE }
    );
    // The state is unchanged: Alice's answer to the new message finishes it.
    let (c, new_m2) =
        mul_sender_round2(&alice_setup, &session, &a, &new_m1, BOB, &mut rng).unwrap();
    assert_eq!(new_m2.answers(), &new_m1.digest());
    state.check_answers(&new_m2, ALICE).unwrap();
    let (b, d) = state.finish(&bob_setup, &session, &new_m2, ALICE).unwrap();
    for i in 0..2 {
        assert_eq!(c[i].expose() + d[i].expose(), a[i].expose() * b.expose());
    }
}

/// A changed digest field (in transit, or by Alice) makes the message an answer to some other
/// first message: a stale answer, never a failed check that bans. The field is compared before
/// anything that depends on Bob's choice bits, so a τ that would fail the check behind it is
/// not looked at either: forging the field teaches Alice nothing about β.
#[test]
fn a_tampered_digest_echo_is_a_stale_answer_not_a_ban() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    for (byte, also_tau) in [(0usize, false), (17, false), (31, false), (5, true)] {
        let run = round1(&mut rng, &bob_setup);
        let (_, m2) =
            mul_sender_round2(&alice_setup, &run.session, &run.a, &run.m1, BOB, &mut rng).unwrap();
        let mut bytes = m2.to_bytes();
        bytes[M2_DIGEST + byte] ^= 0x40;
        if also_tau {
            for j in 0..XI {
                bytes[M2_TAU + 32 * 3 * j + 31] ^= 1;
            }
        }
        let m2 = MulMsg2::from_bytes(&bytes).unwrap();
        let err = run.state.check_answers(&m2, ALICE).unwrap_err();
        assert_eq!(err, Error::StaleAnswer { sender: ALICE }, "byte {byte}");
        assert!(err.must_ban().is_empty());
        let err = run
            .state
            .finish(&bob_setup, &run.session, &m2, ALICE)
            .unwrap_err();
        assert_eq!(err, Error::StaleAnswer { sender: ALICE }, "byte {byte}");
        assert!(err.must_ban().is_empty());
    }
}

/// Bob fixes ℓ in round 1. An answer of another length (even one that is otherwise honest and
/// would pass the check for its own ℓ) is malformed: Alice is blamed, before anything that
/// depends on β, so there is nothing to ban her for.
#[test]
fn a_length_other_than_bobs_is_malformed_and_blames_alice() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    for ell in [1usize, 3, MAX_ELL] {
        let run = round1(&mut rng, &bob_setup);
        assert_eq!(run.state.ell(), 2);
        let a = randoms(&mut rng, ell);
        let (_, m2) =
            mul_sender_round2(&alice_setup, &run.session, &a, &run.m1, BOB, &mut rng).unwrap();
        assert_eq!(m2.len(), ell);
        let err = run.state.check_answers(&m2, ALICE).unwrap_err();
        assert_eq!(
            err,
            Error::Misbehaviour {
                culprits: vec![ALICE],
                reason: Reason::MalformedMessage
            },
            "ℓ = {ell}"
        );
        assert!(err.must_ban().is_empty());
        let err = run
            .state
            .finish(&bob_setup, &run.session, &m2, ALICE)
            .unwrap_err();
        assert_eq!(
            err,
            Error::blame(ALICE, Reason::MalformedMessage),
            "ℓ = {ell}"
        );
    }
    // Bob's own ℓ must be in range.
    for ell in [0usize, MAX_ELL + 1] {
        let session = SessionId::random(&mut rng);
        assert_eq!(
            mul_receiver_round1(&bob_setup, &session, ell, &mut rng).unwrap_err(),
            Error::Params(ParamError::OutOfRange)
        );
    }
}

#[test]
fn setups_and_parties_must_match() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    let (other_alice, other_bob) = setup(&mut rng, ALICE, BOB);
    let run = round1(&mut rng, &bob_setup);
    let carol = PartyId::new(3).unwrap();
    assert_eq!(
        mul_sender_round2(&alice_setup, &run.session, &run.a, &run.m1, carol, &mut rng)
            .unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
    assert_eq!(
        mul_sender_round2(&alice_setup, &run.session, &[], &run.m1, BOB, &mut rng).unwrap_err(),
        Error::Params(ParamError::OutOfRange)
    );
    let nine = randoms(&mut rng, MAX_ELL + 1);
    assert_eq!(
        mul_sender_round2(&alice_setup, &run.session, &nine, &run.m1, BOB, &mut rng).unwrap_err(),
        Error::Params(ParamError::OutOfRange)
    );
    // Bob's first message under another pairing's setup fails Alice's consistency check.
    let err =
        mul_sender_round2(&other_alice, &run.session, &run.a, &run.m1, BOB, &mut rng).unwrap_err();
    assert_eq!(err.reason(), Some(Reason::OtConsistency));
    let (_, m2) =
        mul_sender_round2(&alice_setup, &run.session, &run.a, &run.m1, BOB, &mut rng).unwrap();
    let state = MulReceiverState::from_bytes(run.state.to_secret_bytes().expose()).unwrap();
    assert_eq!(
        run.state
            .finish(&other_bob, &run.session, &m2, ALICE)
            .unwrap_err(),
        Error::Params(ParamError::Mismatch)
    );
    assert!(state.finish(&bob_setup, &run.session, &m2, ALICE).is_ok());
}

#[test]
fn neither_side_holds_the_others_secrets() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    let run = round1(&mut rng, &bob_setup);
    let b = enc(run.state.b());
    let bob_state = run.state.to_secret_bytes();
    // Bob's choice bits: the 88 bytes after header, session, setup id, party, ℓ, digest and b.
    let choice_off = 4 + 32 + 32 + 2 + 1 + 32 + 32;
    let choices = bob_state.expose()[choice_off..choice_off + XI / 8].to_vec();
    let (c, m2) =
        mul_sender_round2(&alice_setup, &run.session, &run.a, &run.m1, BOB, &mut rng).unwrap();
    let alice_setup_bytes = alice_setup.to_secret_bytes();
    let m1 = run.m1.to_bytes();
    // Alice's side (her setup, the message she received, her outputs) holds neither b nor β.
    for hay in [alice_setup_bytes.expose(), &m1[..], &m2.to_bytes()[..]] {
        assert!(!contains(hay, &b));
        assert!(!contains(hay, &choices[..16]));
    }
    for ci in &c {
        assert_ne!(enc(ci), b);
    }
    // Bob's side (his setup, his state, the message he received) holds neither a nor Δ.
    let delta = alice_setup_bytes.expose()[40..56].to_vec();
    let bob_setup_bytes = bob_setup.to_secret_bytes();
    let m2_bytes = m2.to_bytes();
    for hay in [
        bob_setup_bytes.expose(),
        bob_state.expose(),
        &m2_bytes[..],
        &m1[..],
    ] {
        assert!(!contains(hay, &delta));
        for ai in &run.a {
            assert!(!contains(hay, &enc(ai)));
        }
    }
    let (_, d) = run
        .state
        .finish(&bob_setup, &run.session, &m2, ALICE)
        .unwrap();
    for (di, ai) in d.iter().zip(&run.a) {
        assert_ne!(enc(di), enc(ai));
    }
    assert!(format!("{:?}", c[0]).contains("redacted"));
}

#[test]
fn decoders_are_strict() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (alice_setup, bob_setup) = setup(&mut rng, ALICE, BOB);
    let run = round1(&mut rng, &bob_setup);
    let (_, m2) =
        mul_sender_round2(&alice_setup, &run.session, &run.a, &run.m1, BOB, &mut rng).unwrap();
    let m1 = run.m1.to_bytes();
    let m2 = m2.to_bytes();
    let st = run.state.to_secret_bytes();
    let st = st.expose();
    for (bytes, which) in [(&m1, 1), (&m2, 2), (&st.to_vec(), 3)] {
        let mut long = bytes.clone();
        long.push(0);
        let short = &bytes[..bytes.len() - 1];
        match which {
            1 => {
                assert!(MulMsg1::from_bytes(&long).is_err() && MulMsg1::from_bytes(short).is_err())
            }
            2 => {
                assert!(MulMsg2::from_bytes(&long).is_err() && MulMsg2::from_bytes(short).is_err())
            }
            _ => assert!(
                MulReceiverState::from_bytes(&long).is_err()
                    && MulReceiverState::from_bytes(short).is_err()
            ),
        }
    }
    // Messages of protocol version 1 (kinds 0x0360 / 0x0361) are decode errors, never inputs
    // to a check that could fail and ban an honest peer of the other version.
    for (bytes, old) in [(&m1, 0x0360u16), (&m2, 0x0361)] {
        let mut v1 = bytes.clone();
        v1[1..3].copy_from_slice(&old.to_be_bytes());
        let e = if old == 0x0360 {
            MulMsg1::from_bytes(&v1).err()
        } else {
            MulMsg2::from_bytes(&v1).err()
        };
        assert!(
            matches!(e, Some(wallet_types::DecodeError::WrongKind { found, .. }) if found == old)
        );
    }
    // The version-2 objects without the digest echo (MulMsg2 0x0365) and without ℓ
    // (MulReceiverState 0x0366) are decode errors too: a peer that does not name the first
    // message it answers is never checked (and never banned) as if it did.
    let mut v2 = m2.clone();
    v2[1..3].copy_from_slice(&0x0365u16.to_be_bytes());
    assert!(matches!(
        MulMsg2::from_bytes(&v2).err(),
        Some(wallet_types::DecodeError::WrongKind { found: 0x0365, .. })
    ));
    let mut v2 = st.to_vec();
    v2[1..3].copy_from_slice(&0x0366u16.to_be_bytes());
    assert!(matches!(
        MulReceiverState::from_bytes(&v2).err(),
        Some(wallet_types::DecodeError::WrongKind { found: 0x0366, .. })
    ));
    // The state's ℓ (after session, setup id and party) is in 1..=MAX_ELL.
    for bad_ell in [0u8, MAX_ELL as u8 + 1] {
        let mut bad = st.to_vec();
        bad[4 + 32 + 32 + 2] = bad_ell;
        assert!(MulReceiverState::from_bytes(&bad).is_err());
    }
    // ℓ = 0 and ℓ > MAX_ELL are refused; a τ entry ≥ q is refused.
    let mut bad = m2.clone();
    bad[M2_TAU - 1] = 0;
    assert!(MulMsg2::from_bytes(&bad).is_err());
    let mut bad = m2.clone();
    bad[M2_TAU - 1] = (MAX_ELL + 1) as u8;
    assert!(MulMsg2::from_bytes(&bad).is_err());
    let mut bad = m2.clone();
    bad[M2_TAU..M2_TAU + 32].fill(0xff);
    assert!(MulMsg2::from_bytes(&bad).is_err());
    let _ = Scalar::ONE;
}
