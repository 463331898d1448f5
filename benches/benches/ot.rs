//! The OT layer of two-party ECDSA (wallet-tss `ot` and `mul`), both parties in process:
//! base-OT setup per ordered pair, one OT extension of a multiplication's worth of OTs (both
//! halves, with the consistency check), and one ℓ = 2 multiplication (all three rounds).
//! Baseline in the same run: one k256 variable-base scalar multiplication.

use criterion::{Criterion, criterion_group, criterion_main};
use k256::{ProjectivePoint, Scalar};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;
use wallet_tss::mul::{self, XI};
use wallet_tss::ot::{self, MulReceiverSetup, MulSenderSetup, ext};
use wallet_types::{PartyId, Secp256k1, SecretScalar, SessionId};

fn ids() -> (PartyId, PartyId) {
    match (PartyId::new(1), PartyId::new(2)) {
        (Some(a), Some(b)) => (a, b),
        _ => unreachable!(),
    }
}

fn setup(rng: &mut ChaCha20Rng) -> Option<(MulSenderSetup, MulReceiverSetup)> {
    let (alice, bob) = ids();
    setup_pair(rng, alice, bob)
}

fn setup_pair(
    rng: &mut ChaCha20Rng,
    alice: PartyId,
    bob: PartyId,
) -> Option<(MulSenderSetup, MulReceiverSetup)> {
    let session = SessionId::random(rng);
    let (b1, m1) = ot::setup_bob_round1(&session, bob, alice, rng);
    let (a2, m2) = ot::setup_alice_round2(&session, alice, bob, &m1, rng).ok()?;
    let (b3, m3) = ot::setup_bob_round3(b1, &m2).ok()?;
    let (a4, m4) = ot::setup_alice_round4(a2, &m3).ok()?;
    let (bob_setup, m5) = ot::setup_bob_round5(b3, &m4).ok()?;
    let alice_setup = ot::setup_alice_finish(a4, &m5).ok()?;
    Some((alice_setup, bob_setup))
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("ot");
    g.sample_size(20);

    let s = Scalar::from(0x1234_5678_9abc_def0u64) * Scalar::from(0xfedc_ba98_7654_3210u64);
    let p = ProjectivePoint::GENERATOR * Scalar::from(77u64);
    g.bench_function("baseline: k256 variable-base mul", |b| {
        b.iter(|| black_box(p) * black_box(s))
    });

    g.bench_function("setup (128 VSOT base OTs, both sides)", |b| {
        b.iter(|| black_box(setup(&mut rng).is_some()))
    });

    let Some((alice_setup, bob_setup)) = setup(&mut rng) else {
        return;
    };
    let (alice, bob) = ids();
    let Some((rev_alice, rev_bob)) = setup_pair(&mut rng, bob, alice) else {
        return;
    };
    let session = SessionId::random(&mut rng);
    let salt = [7u8; 32];
    g.bench_function(
        "extension: 704 OTs + check (one direction, both sides)",
        |b| {
            b.iter(|| {
                let Ok((_out, msg)) = ext::extend_receive(&bob_setup, &session, &salt, XI) else {
                    return false;
                };
                ext::extend_send(&alice_setup, &session, &salt, XI, &msg).is_ok()
            })
        },
    );
    // A two-party signature runs one multiplication in each direction.
    g.bench_function(
        "extension: one signature's OTs (2 x 704, both directions)",
        |b| {
            b.iter(|| {
                let mut ok = true;
                for (sa, sb) in [(&alice_setup, &bob_setup), (&rev_alice, &rev_bob)] {
                    let Ok((_out, msg)) = ext::extend_receive(sb, &session, &salt, XI) else {
                        return false;
                    };
                    ok &= ext::extend_send(sa, &session, &salt, XI, &msg).is_ok();
                }
                ok
            })
        },
    );

    let a = [
        SecretScalar::<Secp256k1>::random(&mut rng),
        SecretScalar::<Secp256k1>::random(&mut rng),
    ];
    g.bench_function("multiplication l=2 (3 rounds, both sides)", |b| {
        b.iter(|| {
            let session = SessionId::random(&mut rng);
            let Ok((st, m1)) = mul::mul_receiver_round1(&bob_setup, &session, a.len(), &mut rng)
            else {
                return false;
            };
            let Ok((_c, m2)) =
                mul::mul_sender_round2(&alice_setup, &session, &a, &m1, bob, &mut rng)
            else {
                return false;
            };
            st.finish(&bob_setup, &session, &m2, alice).is_ok()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
