//! Threshold ECDSA (wallet-tss, DKLs23) against the `dkls23` crate 0.6 and single-party k256,
//! all in one run: DKG 2-of-2, 2-of-3 and 3-of-5 (all parties, including the pairwise OT
//! setups), presign (all signers), online signing (all partials + combine + verify), and the
//! total per signature for 2-of-2, 2-of-3 and 3-of-5 (`t` signers; two signers use the
//! two-party presign, three the `t`-party one). Every party runs in this process; messages are handed over in memory. Each
//! wallet-tss party's key share lives in its own `MemoryKeyStore` (built once, outside the timed
//! loops): presign seals its half into the store, the online phase takes it out again (part of
//! what a real online signature does, so it is timed).
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
use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare, Keygen, MemoryKeyStore, MultiPresign, Presign, PresignatureInfo,
    PublicKeyPackage, combine, combine_all, partial_sign,
};
use wallet_types::{Envelope, Parties, PartyId, Protocol, Recipient, SessionId, Step};

// ------------------------------------------------------------------------------------------
// wallet-tss
// ------------------------------------------------------------------------------------------

fn run<P: Protocol>(
    mut machines: BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
) -> BTreeMap<PartyId, P::Output> {
    let mut queue: VecDeque<(PartyId, Envelope<P::Message>)> = VecDeque::new();
    let mut outputs = BTreeMap::new();
    let push = |q: &mut VecDeque<(PartyId, Envelope<P::Message>)>,
                out: Vec<Envelope<P::Message>>| {
        for env in out {
            match env.recipient {
                Recipient::One(to) => q.push_back((to, env)),
                // Every round of these protocols is point-to-point.
                Recipient::All => panic!("unexpected broadcast"),
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

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

fn ours_keygen(n: u16, rng: &mut ChaCha20Rng) -> BTreeMap<PartyId, KeyShare> {
    ours_keygen_t(n, 2, rng)
}

fn ours_keygen_t(n: u16, t: usize, rng: &mut ChaCha20Rng) -> BTreeMap<PartyId, KeyShare> {
    let parties = Parties::range(n).unwrap();
    let session = SessionId::random(rng);
    let machines = parties
        .iter()
        .map(|p| {
            let m = Keygen::with_threshold(session, p, parties.clone(), t, rng).unwrap();
            (p, m)
        })
        .collect();
    run(machines, rng)
        .into_iter()
        .map(|(p, o)| (p, o.into_confirmed().unwrap()))
        .collect()
}

/// One store per party, owning its key share.
fn ours_stores(keys: BTreeMap<PartyId, KeyShare>) -> BTreeMap<PartyId, MemoryKeyStore> {
    keys.into_iter()
        .map(|(p, k)| (p, MemoryKeyStore::new(k)))
        .collect()
}

/// Presign between parties 1 and 2 (both machines); the secret halves go into the stores.
fn ours_presign(
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    rng: &mut ChaCha20Rng,
) -> PresignatureInfo {
    let session = SessionId::random(rng);
    let mut machines = BTreeMap::new();
    for (a, b) in [(1, 2), (2, 1)] {
        machines.insert(
            pid(a),
            Presign::new(
                &stores[&pid(a)],
                pid(b),
                DerivationPath::root(),
                session,
                rng,
            )
            .unwrap(),
        );
    }
    let mut out = run(machines, rng);
    let info = out.remove(&pid(1)).unwrap();
    assert_eq!(out.remove(&pid(2)).as_ref(), Some(&info));
    info
}

/// Presign among parties `1..=t` with the `t`-party machine (all signers).
fn ours_presign_t(
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    t: u16,
    rng: &mut ChaCha20Rng,
) -> PresignatureInfo {
    let session = SessionId::random(rng);
    let signers = Parties::range(t).unwrap();
    let machines = signers
        .iter()
        .map(|p| {
            let m = MultiPresign::new(
                &stores[&p],
                signers.clone(),
                DerivationPath::root(),
                session,
                rng,
            )
            .unwrap();
            (p, m)
        })
        .collect();
    run(machines, rng).remove(&pid(1)).unwrap()
}

/// Every signer's partial + combine (which verifies).
fn ours_online_t(
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    key: &PublicKeyPackage,
    info: &PresignatureInfo,
    hash: &[u8; 32],
) -> k256::ecdsa::Signature {
    let partials: Vec<_> = info
        .signers
        .iter()
        .map(|p| partial_sign(&stores[&p], info, hash).unwrap())
        .collect();
    combine_all(key, info, hash, &partials).unwrap().0
}

/// Both partials (each taking its presignature out of its store) + combine (which verifies).
fn ours_online(
    stores: &BTreeMap<PartyId, MemoryKeyStore>,
    key: &PublicKeyPackage,
    info: &PresignatureInfo,
    hash: &[u8; 32],
) -> k256::ecdsa::Signature {
    let a = partial_sign(&stores[&pid(1)], info, hash).unwrap();
    let b = partial_sign(&stores[&pid(2)], info, hash).unwrap();
    // `combine` verifies the signature before returning it.
    combine(key, info, hash, &a, &b).unwrap().0
}

// ------------------------------------------------------------------------------------------
// dkls23 0.6 (0xCarbon), driven through its session API as its own tests do
// ------------------------------------------------------------------------------------------

mod theirs {
    use std::collections::BTreeMap;

    use dkls23::protocols::dkg::{
        BroadcastDerivationPhase2to4, BroadcastDerivationPhase3to4, ProofCommitment,
        TransmitInitMulPhase3to4, TransmitInitZeroSharePhase2to4, TransmitInitZeroSharePhase3to4,
    };
    use dkls23::protocols::signing::{
        Broadcast3to4, SignData, TransmitPhase1to2, TransmitPhase2to3,
    };
    use dkls23::protocols::{Parameters, Party, PartyIndex};
    use dkls23::{DkgSession, SignSession};
    use k256::Secp256k1;

    pub fn dkg(n: u8, session_id: [u8; 32]) -> Vec<Party<Secp256k1>> {
        dkg_t(n, 2, session_id)
    }

    pub fn dkg_t(n: u8, t: u8, session_id: [u8; 32]) -> Vec<Party<Secp256k1>> {
        let parameters = Parameters {
            threshold: t,
            share_count: n,
        };
        let n = usize::from(n);
        let mut sessions: Vec<DkgSession<Secp256k1>> = (0..n)
            .map(|i| {
                DkgSession::new(
                    parameters.clone(),
                    PartyIndex::new(i as u8 + 1).unwrap(),
                    session_id.to_vec(),
                )
            })
            .collect();
        let phase1: Vec<Vec<k256::Scalar>> = sessions.iter().map(|s| s.phase1()).collect();
        let mut fragments = vec![Vec::with_capacity(n); n];
        for row in phase1 {
            for j in 0..n {
                fragments[j].push(row[j]);
            }
        }
        let mut proofs: Vec<ProofCommitment<Secp256k1>> = Vec::new();
        let mut zero2: Vec<TransmitInitZeroSharePhase2to4> = Vec::new();
        let mut bip2: BTreeMap<PartyIndex, BroadcastDerivationPhase2to4> = BTreeMap::new();
        for (i, s) in sessions.iter_mut().enumerate() {
            let (p, z, b) = s.phase2(&fragments[i]).unwrap();
            proofs.push(p);
            zero2.extend(z);
            bip2.insert(PartyIndex::new(i as u8 + 1).unwrap(), b);
        }
        let mut zero3: Vec<TransmitInitZeroSharePhase3to4> = Vec::new();
        let mut mul3: Vec<TransmitInitMulPhase3to4<Secp256k1>> = Vec::new();
        let mut bip3: BTreeMap<PartyIndex, BroadcastDerivationPhase3to4> = BTreeMap::new();
        for (i, s) in sessions.iter_mut().enumerate() {
            let (z, m, b) = s.phase3().unwrap();
            zero3.extend(z);
            mul3.extend(m);
            bip3.insert(PartyIndex::new(i as u8 + 1).unwrap(), b);
        }
        sessions
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let me = PartyIndex::new(i as u8 + 1).unwrap();
                let z2: Vec<_> = zero2
                    .iter()
                    .filter(|m| m.parties.receiver == me)
                    .cloned()
                    .collect();
                let z3: Vec<_> = zero3
                    .iter()
                    .filter(|m| m.parties.receiver == me)
                    .cloned()
                    .collect();
                let m3: Vec<_> = mul3
                    .iter()
                    .filter(|m| m.parties.receiver == me)
                    .cloned()
                    .collect();
                s.phase4(&proofs, &z2, &z3, &m3, &bip2, &bip3, |_| String::new())
                    .unwrap()
                    .0
            })
            .collect()
    }

    /// One 2-of-n signature by parties 1 and 2: all four phases, both parties.
    pub fn sign(parties: &[Party<Secp256k1>], sign_id: [u8; 32], hash: [u8; 32]) -> [u8; 32] {
        sign_t(parties, 2, sign_id, hash)
    }

    /// One signature by parties `1..=t`: all four phases, every signer.
    pub fn sign_t(
        parties: &[Party<Secp256k1>],
        t: u8,
        sign_id: [u8; 32],
        hash: [u8; 32],
    ) -> [u8; 32] {
        let signers: Vec<u8> = (1..=t).collect();
        let mut sessions = Vec::new();
        let mut t1: Vec<TransmitPhase1to2> = Vec::new();
        for &me in &signers {
            let data = SignData {
                sign_id: sign_id.to_vec(),
                counterparties: signers
                    .iter()
                    .filter(|p| **p != me)
                    .map(|p| PartyIndex::new(*p).unwrap())
                    .collect(),
                message_hash: hash,
            };
            let (s, t) = SignSession::new(&parties[usize::from(me - 1)], data).unwrap();
            sessions.push((me, s));
            t1.extend(t);
        }
        let mut t2: Vec<TransmitPhase2to3<Secp256k1>> = Vec::new();
        for (me, s) in sessions.iter_mut() {
            let pi = PartyIndex::new(*me).unwrap();
            let rx: Vec<_> = t1
                .iter()
                .filter(|m| m.parties.receiver == pi)
                .cloned()
                .collect();
            t2.extend(s.phase2(&rx).unwrap());
        }
        let mut b3: Vec<Broadcast3to4<Secp256k1>> = Vec::new();
        for (me, s) in sessions.iter_mut() {
            let pi = PartyIndex::new(*me).unwrap();
            let rx: Vec<_> = t2
                .iter()
                .filter(|m| m.parties.receiver == pi)
                .cloned()
                .collect();
            b3.push(s.phase3(&rx).unwrap());
        }
        let mut s_out = [0u8; 32];
        for (_, s) in sessions {
            s_out = s.phase4(&b3, true).unwrap().s;
        }
        s_out
    }
}

// ------------------------------------------------------------------------------------------
// Benches
// ------------------------------------------------------------------------------------------

fn dkg(c: &mut Criterion) {
    let mut g = c.benchmark_group("ecdsa/dkg");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    g.bench_function("wallet-tss 2-of-2 (all parties)", |b| {
        b.iter(|| ours_keygen(2, &mut rng))
    });
    g.bench_function("wallet-tss 2-of-3 (all parties)", |b| {
        b.iter(|| ours_keygen(3, &mut rng))
    });
    let mut sid = 0u8;
    g.bench_function("dkls23 0.6 2-of-2 (all parties)", |b| {
        b.iter(|| {
            sid = sid.wrapping_add(1);
            theirs::dkg(2, [sid; 32])
        })
    });
    g.bench_function("dkls23 0.6 2-of-3 (all parties)", |b| {
        b.iter(|| {
            sid = sid.wrapping_add(1);
            theirs::dkg(3, [sid; 32])
        })
    });
    g.finish();
}

fn signing(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let stores = ours_stores(ours_keygen(2, &mut rng));
    // What a coordinator keeps at hand to combine (fetched once, like the stores built once).
    let key = stores[&pid(1)].public_package().unwrap();
    let their_parties = theirs::dkg(2, [7; 32]);
    let hash = [0x42u8; 32];
    let sk = k256::ecdsa::SigningKey::from_bytes(&[0x11; 32].into()).unwrap();
    let vk = *sk.verifying_key();

    let mut g = c.benchmark_group("ecdsa/sign");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(6));
    g.bench_function("wallet-tss presign (both parties)", |b| {
        b.iter(|| ours_presign(&stores, &mut rng))
    });
    g.bench_function("wallet-tss online (2 partials + combine + verify)", |b| {
        b.iter_batched(
            || ours_presign(&stores, &mut rng),
            |info| ours_online(&stores, &key, &info, black_box(&hash)),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("k256 sign + verify (baseline for online)", |b| {
        b.iter(|| {
            let sig: k256::ecdsa::Signature = sk.sign_prehash(black_box(&hash)).unwrap();
            vk.verify_prehash(&hash, &sig).unwrap();
            sig
        })
    });
    g.bench_function("wallet-tss total per signature (presign + online)", |b| {
        b.iter(|| {
            let info = ours_presign(&stores, &mut rng);
            ours_online(&stores, &key, &info, black_box(&hash))
        })
    });
    let mut sid = 0u32;
    g.bench_function(
        "dkls23 0.6 total per signature (2 signers, 4 phases)",
        |b| {
            b.iter(|| {
                sid = sid.wrapping_add(1);
                let mut id = [0u8; 32];
                id[..4].copy_from_slice(&sid.to_be_bytes());
                theirs::sign(&their_parties, id, black_box(hash))
            })
        },
    );
    g.finish();
}

/// DKG 3-of-5 and the total per signature of 2-of-3 and 3-of-5 keys (`t` signers), against
/// dkls23 0.6 in the same run; the online phase of 3 signers against k256.
fn threshold(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut g = c.benchmark_group("ecdsa/dkg-t");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("wallet-tss 3-of-5 (all parties)", |b| {
        b.iter(|| ours_keygen_t(5, 3, &mut rng))
    });
    let mut sid = 100u8;
    g.bench_function("dkls23 0.6 3-of-5 (all parties)", |b| {
        b.iter(|| {
            sid = sid.wrapping_add(1);
            theirs::dkg_t(5, 3, [sid; 32])
        })
    });
    g.finish();

    let hash = [0x42u8; 32];
    let mut g = c.benchmark_group("ecdsa/sign-t");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(8));
    for (t, n) in [(2u16, 3u16), (3, 5)] {
        let stores = ours_stores(ours_keygen_t(n, usize::from(t), &mut rng));
        let key = stores[&pid(1)].public_package().unwrap();
        let their_parties = theirs::dkg_t(n as u8, t as u8, [9; 32]);
        g.bench_function(
            format!("wallet-tss {t}-of-{n} total per signature ({t} signers)"),
            |b| {
                b.iter(|| {
                    let info = if t == 2 {
                        ours_presign(&stores, &mut rng)
                    } else {
                        ours_presign_t(&stores, t, &mut rng)
                    };
                    ours_online_t(&stores, &key, &info, black_box(&hash))
                })
            },
        );
        if t > 2 {
            g.bench_function(
                format!("wallet-tss {t}-of-{n} online ({t} partials + combine + verify)"),
                |b| {
                    b.iter_batched(
                        || ours_presign_t(&stores, t, &mut rng),
                        |info| ours_online_t(&stores, &key, &info, black_box(&hash)),
                        criterion::BatchSize::SmallInput,
                    )
                },
            );
        }
        let mut sid = 0u32;
        g.bench_function(
            format!("dkls23 0.6 {t}-of-{n} total per signature ({t} signers)"),
            |b| {
                b.iter(|| {
                    sid = sid.wrapping_add(1);
                    let mut id = [0u8; 32];
                    id[..4].copy_from_slice(&sid.to_be_bytes());
                    theirs::sign_t(&their_parties, t as u8, id, black_box(hash))
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, dkg, signing, threshold);
criterion_main!(benches);
