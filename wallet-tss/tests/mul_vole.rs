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
    Error, ParamError, PartyId, Reason, Secp256k1, SecretScalar, SessionId, WireObject,
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
        let (state, m1) = mul_receiver_round1(sb, &session, &mut rng).unwrap();
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
    let (state, m1) = mul_receiver_round1(bob_setup, &session, rng).unwrap();
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
// Offsets in MulMsg2: header 4, session 32, salt 32, ℓ (1), τ (ξ·(ℓ+1)·32), u (32), hash (32).
const M2_TAU: usize = 4 + 32 + 32 + 1;

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
    let relabelled = MulMsg2::from_bytes(&bytes).unwrap();
    let err = state
        .finish(&bob_setup, &new.session, &relabelled, ALICE)
        .unwrap_err();
    assert_eq!(err, Error::blame(ALICE, Reason::MultiplicationCheck));
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
    // Bob's choice bits: the 88 bytes after header, session, setup id, party, digest and b.
    let choice_off = 4 + 32 + 32 + 2 + 32 + 32;
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
