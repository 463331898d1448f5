//! Proactive refresh of two-party ECDSA keys (wallet-pss refresh + wallet-tss `Resetup`, all
//! parties in process), against the key generation of the same key size measured in the same
//! run (the baseline: a refresh redoes every pairwise OT setup, so it costs about one DKG).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, VecDeque};
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_pss::ecdsa::{refresh, resetup_after_refresh};
use wallet_tss::ecdsa::{KeyShare, Keygen};
use wallet_types::{Envelope, Parties, PartyId, Protocol, Recipient, SessionId, Step};

fn run<P: Protocol>(
    mut machines: BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
) -> BTreeMap<PartyId, P::Output> {
    let ids: Vec<PartyId> = machines.keys().copied().collect();
    let mut queue: VecDeque<(PartyId, Envelope<P::Message>)> = VecDeque::new();
    let mut outputs = BTreeMap::new();
    let push = |q: &mut VecDeque<(PartyId, Envelope<P::Message>)>,
                out: Vec<Envelope<P::Message>>| {
        for env in out {
            match env.recipient {
                Recipient::One(to) => q.push_back((to, env)),
                Recipient::All => {
                    for to in ids.iter().filter(|p| **p != env.sender) {
                        // Broadcast payloads may hold secrets and are not `Clone`: copy through the wire.
                        q.push_back((*to, Envelope::decode(&env.encode()).unwrap()));
                    }
                }
            }
        }
    };
    for (id, m) in machines.iter_mut() {
        match m.start(rng).unwrap() {
            Step::Continue(out) => push(&mut queue, out),
            Step::Done(out, o) => {
                push(&mut queue, out);
                outputs.insert(*id, o);
            }
        }
    }
    while let Some((to, env)) = queue.pop_front() {
        match machines.get_mut(&to).unwrap().handle(env, rng).unwrap() {
            Step::Continue(out) => push(&mut queue, out),
            Step::Done(out, o) => {
                push(&mut queue, out);
                outputs.insert(to, o);
            }
        }
    }
    outputs
}

fn keygen(n: u16, rng: &mut ChaCha20Rng) -> BTreeMap<PartyId, KeyShare> {
    let parties = Parties::range(n).unwrap();
    let session = SessionId::random(rng);
    let machines = parties
        .iter()
        .map(|p| (p, Keygen::new(session, p, parties.clone(), rng).unwrap()))
        .collect();
    run(machines, rng)
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect()
}

fn ecdsa_refresh(
    keys: &BTreeMap<PartyId, KeyShare>,
    rng: &mut ChaCha20Rng,
) -> BTreeMap<PartyId, KeyShare> {
    let session = SessionId::random(rng);
    let machines = keys
        .iter()
        .map(|(p, k)| (*p, refresh(session, k, rng).unwrap()))
        .collect();
    let refreshed = run(machines, rng);
    let resetup = session.derive(b"ecdsa-resetup");
    let machines = refreshed
        .into_iter()
        .map(|(p, new)| {
            let new = new.into_confirmed().unwrap();
            (p, resetup_after_refresh(resetup, new, &keys[&p]).unwrap())
        })
        .collect();
    // Only a resetup every party acknowledged gives the next epoch's shares.
    run(machines, rng)
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for n in [2u16, 3] {
        let mut g = c.benchmark_group(format!("ecdsa_refresh_2of{n}"));
        g.sample_size(10).measurement_time(Duration::from_secs(4));
        let keys = keygen(n, &mut rng);
        g.bench_function("baseline_keygen", |b| {
            b.iter(|| black_box(keygen(n, &mut rng)))
        });
        g.bench_function("refresh_plus_resetup", |b| {
            b.iter(|| black_box(ecdsa_refresh(&keys, &mut rng)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
