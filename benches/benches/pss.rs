//! wallet-pss: distributed refresh 2-of-3, reshare 2-of-3 → 3-of-5 (all parties, in process,
//! messages encoded and decoded as on the wire), ECIES seal / open — on both curves, with the
//! curve's variable-base multiplication as the reference measured in the same run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_pss::ecies::{self, Context};
use wallet_pss::{KeyShare, Refresh, Reshare, ReshareConfig};
use wallet_sss::Polynomial;
use wallet_types::sim::Simulator;
use wallet_types::{Curve, Ed25519, Parties, PartyId, Secp256k1, SecretScalar, SessionId};

fn dealt<C: Curve>(t: usize, n: u16, rng: &mut ChaCha20Rng) -> Vec<KeyShare<C>> {
    let f = Polynomial::<C>::random(SecretScalar::random(rng), t, rng).unwrap();
    let c = f.commit();
    let parties = Parties::range(n).unwrap();
    parties
        .iter()
        .map(|p| KeyShare::new(p, t, parties.clone(), f.share_for(p), c.clone(), 0).unwrap())
        .collect()
}

fn bench_curve<C: Curve>(c: &mut Criterion) {
    let name = C::ID.name();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group(format!("pss/{name}"));
    g.sample_size(20);

    let keys = dealt::<C>(2, 3, &mut rng);
    g.bench_function("refresh 2-of-3 (all parties)", |b| {
        b.iter(|| {
            let mut sim = Simulator::new(2);
            for k in &keys {
                let m = Refresh::new(SessionId([1; 32]), k, sim.rng()).unwrap();
                sim.add(m);
            }
            let out = sim.run();
            assert!(out.outputs.len() == 3 && out.outputs.values().all(|o| o.is_confirmed()));
        })
    });

    let cfg = ReshareConfig {
        old_commitments: keys[0].commitments().clone(),
        old_parties: keys[0].parties().clone(),
        old_epoch: 0,
        dealers: Parties::from_ids(&[1, 2]).unwrap(),
        new_parties: Parties::from_ids(&[1, 2, 3, 4, 5]).unwrap(),
        new_threshold: 3,
        allow_threshold_one: false,
    };
    g.bench_function("reshare 2-of-3 -> 3-of-5 (all parties)", |b| {
        b.iter(|| {
            let mut sim = Simulator::new(3);
            let everyone: BTreeSet<PartyId> =
                cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
            let by_id: BTreeMap<PartyId, &KeyShare<C>> = keys.iter().map(|k| (k.me(), k)).collect();
            for p in everyone {
                let old = cfg.dealers.contains(p).then(|| by_id[&p]);
                let m = Reshare::new(SessionId([2; 32]), cfg.clone(), p, old, sim.rng()).unwrap();
                sim.add(m);
            }
            let out = sim.run();
            assert_eq!(out.outputs.len(), 5);
            assert!(out.outputs.values().all(|o| o.may_delete_old_share()));
        })
    });

    let sk = SecretScalar::<C>::random(&mut rng);
    let pk = sk.public();
    let ctx = Context {
        session: SessionId([3; 32]),
        epoch: 1,
        recipient: PartyId::new(1).unwrap(),
    };
    let share = [0x42u8; 32];
    g.bench_function("ecies seal (32-byte share)", |b| {
        b.iter(|| ecies::seal::<C, _>(black_box(&pk), &ctx, &share, &mut rng).unwrap())
    });
    let ct = ecies::seal::<C, _>(&pk, &ctx, &share, &mut rng).unwrap();
    g.bench_function("ecies open (32-byte share)", |b| {
        b.iter(|| ecies::open(black_box(&sk), &ctx, &ct).unwrap())
    });
    let s = SecretScalar::<C>::random(&mut rng);
    g.bench_function("reference: variable-base mul", |b| {
        b.iter(|| black_box(pk) * black_box(s.expose()))
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    bench_curve::<Secp256k1>(c);
    bench_curve::<Ed25519>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
