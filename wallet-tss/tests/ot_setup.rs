//! The pairwise OT setup (Verified Simplest OT, DKLs18 Protocol 7): both sides, serialization
//! between every round, every check against a deviating counterparty, and what each side holds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ot::*;
use wallet_types::{DecodeError, Error, PartyId, Reason, SessionId, WireObject};

const ALICE: PartyId = PartyId::new(1).unwrap();
const BOB: PartyId = PartyId::new(2).unwrap();

/// Offsets in the encodings (header 4 bytes, session 32 bytes): see SPEC.md.
const BODY: usize = 4 + 32;

struct Transcript {
    m1: OtSetupMsg1,
    m2: OtSetupMsg2,
    m3: OtSetupMsg3,
    m4: OtSetupMsg4,
    m5: OtSetupMsg5,
    alice: MulSenderSetup,
    bob: MulReceiverSetup,
}

/// A full honest run in which every state goes through its encoding between rounds.
fn run(seed: u64) -> Transcript {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let session = SessionId::random(&mut rng);
    let (b1, m1) = setup_bob_round1(&session, BOB, ALICE, &mut rng);
    let b1 = SetupBob1::from_bytes(b1.to_secret_bytes().expose()).unwrap();
    let m1 = OtSetupMsg1::from_bytes(&m1.to_bytes()).unwrap();
    let (a2, m2) = setup_alice_round2(&session, ALICE, BOB, &m1, &mut rng).unwrap();
    let a2 = SetupAlice2::from_bytes(a2.to_secret_bytes().expose()).unwrap();
    let m2 = OtSetupMsg2::from_bytes(&m2.to_bytes()).unwrap();
    let (b3, m3) = setup_bob_round3(b1, &m2).unwrap();
    let b3 = SetupBob3::from_bytes(b3.to_secret_bytes().expose()).unwrap();
    let m3 = OtSetupMsg3::from_bytes(&m3.to_bytes()).unwrap();
    let (a4, m4) = setup_alice_round4(a2, &m3).unwrap();
    let a4 = SetupAlice4::from_bytes(a4.to_secret_bytes().expose()).unwrap();
    let m4 = OtSetupMsg4::from_bytes(&m4.to_bytes()).unwrap();
    let (bob, m5) = setup_bob_round5(b3, &m4).unwrap();
    let m5 = OtSetupMsg5::from_bytes(&m5.to_bytes()).unwrap();
    let alice = setup_alice_finish(a4, &m5).unwrap();
    let alice = MulSenderSetup::from_bytes(alice.to_secret_bytes().expose()).unwrap();
    let bob = MulReceiverSetup::from_bytes(bob.to_secret_bytes().expose()).unwrap();
    Transcript {
        m1,
        m2,
        m3,
        m4,
        m5,
        alice,
        bob,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn honest_setup_is_a_random_ot_and_each_side_holds_only_its_part() {
    for seed in 0..3 {
        let t = run(seed);
        assert_eq!(t.alice.counterparty(), BOB);
        assert_eq!(t.alice.me(), ALICE);
        assert_eq!(t.bob.counterparty(), ALICE);
        assert_eq!(t.alice.setup_id(), t.bob.setup_id());
        let a = t.alice.to_secret_bytes();
        let b = t.bob.to_secret_bytes();
        let (a, b) = (a.expose(), b.expose());
        // Layouts (SPEC.md): Alice: id ‖ me ‖ cp ‖ Δ (16) ‖ 128 seeds; Bob: id ‖ me ‖ cp ‖ 128 × (s⁰, s¹).
        let delta = &a[40..56];
        let mut ones = 0;
        let messages: Vec<Vec<u8>> = vec![
            t.m1.to_bytes(),
            t.m2.to_bytes(),
            t.m3.to_bytes(),
            t.m4.to_bytes(),
            t.m5.to_bytes(),
        ];
        for i in 0..BASE_OTS {
            let bit = (delta[i / 8] >> (i % 8)) & 1;
            ones += usize::from(bit);
            let mine = &a[56 + 32 * i..88 + 32 * i];
            let s0 = &b[40 + 64 * i..72 + 64 * i];
            let s1 = &b[72 + 64 * i..104 + 64 * i];
            assert_ne!(s0, s1);
            // Alice received exactly the seed her choice bit selects …
            let (chosen, other) = if bit == 1 { (s1, s0) } else { (s0, s1) };
            assert_eq!(mine, chosen, "OT {i}: wrong seed");
            // … and the other one appears nowhere on her side (her state or any message).
            assert!(!contains(a, other));
            for m in &messages {
                assert!(!contains(m, other) && !contains(m, chosen));
            }
        }
        // Δ is a random 128-bit string (not all zeros / ones) and Bob never holds it.
        assert!(ones > 20 && ones < 108, "{ones}");
        assert!(!contains(b, delta));
        for m in &messages {
            assert!(!contains(m, delta));
        }
    }
}

#[test]
fn states_and_setups_do_not_print_secrets() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let session = SessionId::random(&mut rng);
    let (b1, _) = setup_bob_round1(&session, BOB, ALICE, &mut rng);
    let shown = format!("{b1:?}");
    assert!(shown.contains("redacted"));
    let t = run(4);
    assert!(format!("{:?} {:?}", t.alice, t.bob).contains("redacted"));
}

#[test]
fn invalid_proof_of_knowledge_blames_bob() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let session = SessionId::random(&mut rng);
    let (_, m1) = setup_bob_round1(&session, BOB, ALICE, &mut rng);
    let mut bytes = m1.to_bytes();
    // Last byte of the proof's s (a canonical scalar still).
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let m1 = OtSetupMsg1::from_bytes(&bytes).unwrap();
    let err = setup_alice_round2(&session, ALICE, BOB, &m1, &mut rng).unwrap_err();
    assert_eq!(err, Error::blame(BOB, Reason::InvalidProof));
}

#[test]
fn base_ot_points_are_validated() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let session = SessionId::random(&mut rng);
    let (b1, m1) = setup_bob_round1(&session, BOB, ALICE, &mut rng);
    // An off-curve B (x = 5 has no point on secp256k1) is refused by the decoder.
    let mut bytes = m1.to_bytes();
    bytes[BODY] = 0x02;
    bytes[BODY + 1..BODY + 33].fill(0);
    bytes[BODY + 32] = 5;
    assert_eq!(
        OtSetupMsg1::from_bytes(&bytes),
        Err(DecodeError::InvalidPoint)
    );
    let (_, m2) = setup_alice_round2(&session, ALICE, BOB, &m1, &mut rng).unwrap();
    let good = m2.to_bytes();
    // An invalid A_j: off-curve, identity (all zero), non-canonical tag.
    for j in [0usize, 77, 127] {
        let off = BODY + 33 * j;
        let mut bad = good.clone();
        bad[off + 1..off + 33].fill(0);
        bad[off + 32] = 5;
        assert_eq!(
            OtSetupMsg2::from_bytes(&bad),
            Err(DecodeError::InvalidPoint)
        );
        let mut bad = good.clone();
        bad[off..off + 33].fill(0);
        assert!(OtSetupMsg2::from_bytes(&bad).is_err());
        let mut bad = good.clone();
        bad[off] = 0x04;
        assert!(OtSetupMsg2::from_bytes(&bad).is_err());
    }
    // A valid point that is Bob's own key B would make one pad public: blamed as a base-OT failure.
    let mut bad = good.clone();
    let b_enc = m1.to_bytes()[BODY..BODY + 33].to_vec();
    bad[BODY + 33 * 5..BODY + 33 * 6].copy_from_slice(&b_enc);
    let m2_bad = OtSetupMsg2::from_bytes(&bad).unwrap();
    let err = setup_bob_round3(b1, &m2_bad).unwrap_err();
    assert_eq!(err, Error::blame(ALICE, Reason::BaseOt));
    assert_eq!(err.must_ban(), &[ALICE]);
}

fn upto_round3(seed: u64) -> (SessionId, SetupAlice2, SetupBob3, OtSetupMsg3) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let session = SessionId::random(&mut rng);
    let (b1, m1) = setup_bob_round1(&session, BOB, ALICE, &mut rng);
    let (a2, m2) = setup_alice_round2(&session, ALICE, BOB, &m1, &mut rng).unwrap();
    let (b3, m3) = setup_bob_round3(b1, &m2).unwrap();
    (session, a2, b3, m3)
}

#[test]
fn wrong_response_blames_alice() {
    let (_, a2, b3, m3) = upto_round3(3);
    let (_, m4) = setup_alice_round4(a2, &m3).unwrap();
    let mut bytes = m4.to_bytes();
    bytes[BODY + 32 * 40] ^= 0x80;
    let m4 = OtSetupMsg4::from_bytes(&bytes).unwrap();
    let err = setup_bob_round5(b3, &m4).unwrap_err();
    assert_eq!(err, Error::blame(ALICE, Reason::BaseOt));
}

#[test]
fn wrong_opening_blames_bob() {
    for (j, which) in [(0usize, 0usize), (64, 1), (127, 0), (127, 1)] {
        let (_, a2, b3, m3) = upto_round3(4);
        let (a4, m4) = setup_alice_round4(a2, &m3).unwrap();
        let (_, m5) = setup_bob_round5(b3, &m4).unwrap();
        let mut bytes = m5.to_bytes();
        bytes[BODY + 64 * j + 32 * which] ^= 1;
        let m5 = OtSetupMsg5::from_bytes(&bytes).unwrap();
        let err = setup_alice_finish(a4, &m5).unwrap_err();
        assert_eq!(err, Error::blame(BOB, Reason::BaseOt));
        assert_eq!(err.must_ban(), &[BOB]);
    }
}

#[test]
fn wrong_challenge_aborts_the_setup() {
    // A challenge ξ_j that is not H'(γ⁰) ⊕ H'(γ¹) is caught: by Bob's own check if Alice's
    // choice bit is 1 (this is VSOT's selective failure: the abort itself tells Bob ω_j, which
    // is why any base-OT failure ends the pairing), otherwise by Alice at the openings.
    let mut blamed_bob = 0;
    let mut blamed_alice = 0;
    for seed in 0..8 {
        let (_, a2, b3, m3) = upto_round3(100 + seed);
        let mut bytes = m3.to_bytes();
        bytes[BODY + 32 * 9] ^= 4;
        let m3 = OtSetupMsg3::from_bytes(&bytes).unwrap();
        let (a4, m4) = setup_alice_round4(a2, &m3).unwrap();
        match setup_bob_round5(b3, &m4) {
            Err(e) => {
                assert_eq!(e, Error::blame(ALICE, Reason::BaseOt));
                blamed_alice += 1;
            }
            Ok((_, m5)) => {
                let e = setup_alice_finish(a4, &m5).unwrap_err();
                assert_eq!(e, Error::blame(BOB, Reason::BaseOt));
                blamed_bob += 1;
            }
        }
    }
    assert!(blamed_bob > 0 && blamed_alice > 0);
}

#[test]
fn messages_of_another_session_are_rejected() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let s1 = SessionId::random(&mut rng);
    let s2 = SessionId::random(&mut rng);
    let (b1, m1) = setup_bob_round1(&s1, BOB, ALICE, &mut rng);
    let err = setup_alice_round2(&s2, ALICE, BOB, &m1, &mut rng).unwrap_err();
    assert_eq!(err, Error::WrongSession { sender: BOB });
    // A message replayed from another run (other session) at a later round.
    let (_, a2, b3, _) = upto_round3(6);
    let (_, other_a2, _, other_m3) = upto_round3(7);
    let err = setup_alice_round4(a2, &other_m3).unwrap_err();
    assert_eq!(err, Error::WrongSession { sender: BOB });
    let (_, m4) = setup_alice_round4(other_a2, &other_m3).unwrap();
    let err = setup_bob_round5(b3, &m4).unwrap_err();
    assert_eq!(err, Error::WrongSession { sender: ALICE });
    // The same message relabelled with the right session does not verify: the proof binds it.
    let (_, m1_other) = setup_bob_round1(&s2, BOB, ALICE, &mut rng);
    let mut bytes = m1_other.to_bytes();
    bytes[4..36].copy_from_slice(s1.as_bytes());
    let relabelled = OtSetupMsg1::from_bytes(&bytes).unwrap();
    let err = setup_alice_round2(&s1, ALICE, BOB, &relabelled, &mut rng).unwrap_err();
    assert_eq!(err, Error::blame(BOB, Reason::InvalidProof));
    let _ = b1;
}

#[test]
fn decoders_refuse_truncation_and_trailing_bytes() {
    let t = run(8);
    for bytes in [
        t.m1.to_bytes(),
        t.m2.to_bytes(),
        t.m3.to_bytes(),
        t.m4.to_bytes(),
        t.m5.to_bytes(),
    ] {
        let mut long = bytes.clone();
        long.push(0);
        assert!(OtSetupMsg1::from_bytes(&long).is_err());
        assert!(OtSetupMsg2::from_bytes(&long).is_err());
        assert!(OtSetupMsg3::from_bytes(&long).is_err());
        assert!(OtSetupMsg4::from_bytes(&long).is_err());
        assert!(OtSetupMsg5::from_bytes(&long).is_err());
        let short = &bytes[..bytes.len() - 1];
        assert!(OtSetupMsg1::from_bytes(short).is_err());
        assert!(OtSetupMsg2::from_bytes(short).is_err());
        assert!(OtSetupMsg3::from_bytes(short).is_err());
        assert!(OtSetupMsg4::from_bytes(short).is_err());
        assert!(OtSetupMsg5::from_bytes(short).is_err());
    }
    let a = t.alice.to_secret_bytes();
    assert!(MulSenderSetup::from_bytes(&a.expose()[..a.len() - 1]).is_err());
    assert!(MulReceiverSetup::from_bytes(a.expose()).is_err());
}
