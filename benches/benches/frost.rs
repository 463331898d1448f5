//! FROST(Ed25519, SHA-512): wallet-tss against frost-ed25519 3.0, measured side by side in the
//! same run, at 2-of-3, 3-of-5 and 10-of-15.
//!
//! * `dkg` — a whole DKG, all parties (ours: the three-round machine with its confirmation
//!   round, messages moved in memory; frost-ed25519: `dkg::part1/2/3` for every party);
//! * `preprocess` — one signer, one nonce pair;
//! * `sign` — one signer's share;
//! * `aggregate` — ours verifies **every** share (batched) and the final signature;
//!   frost-ed25519's `aggregate` verifies the final signature and only checks shares one by one
//!   when it fails; `aggregate+verify-shares` adds frost's `verify_signature_share` per share;
//! * `total` — one signature: `t` × preprocess + `t` × sign + aggregate.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, VecDeque};
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use wallet_tss::frost::dkg::DkgParty;
use wallet_tss::frost::{
    KeyPackage, SigningNonces, SigningPackage, aggregate, keys::split_secret, sign,
};
use wallet_types::{Ed25519, Parties, PartyId, Protocol, Recipient, SecretScalar, SessionId, Step};

const SIZES: [(u16, u16); 3] = [(2, 3), (3, 5), (10, 15)];
const MSG: &[u8] = b"benchmark message: 32 bytes long";

/// rand_core 0.6 view of a ChaCha20Rng, for frost-ed25519.
struct Rng06(ChaCha20Rng);
impl rand_core_06::RngCore for Rng06 {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core_06::CryptoRng for Rng06 {}

fn ours_dkg(t: u16, n: u16, rng: &mut ChaCha20Rng) -> Vec<KeyPackage<Ed25519>> {
    let parties = Parties::range(n).unwrap();
    let sid = SessionId([3; 32]);
    let mut machines: BTreeMap<PartyId, DkgParty<Ed25519>> = parties
        .iter()
        .map(|p| {
            (
                p,
                DkgParty::new(sid, p, parties.clone(), t as usize, rng).unwrap(),
            )
        })
        .collect();
    let mut queue = VecDeque::new();
    for m in machines.values_mut() {
        match m.start(rng).unwrap() {
            Step::Continue(out) | Step::Done(out, _) => queue.extend(out),
        }
    }
    let mut keys = Vec::new();
    while let Some(env) = queue.pop_front() {
        let to: Vec<PartyId> = match env.recipient {
            Recipient::All => parties.others(env.sender).collect(),
            Recipient::One(p) => vec![p],
        };
        for p in to {
            match machines
                .get_mut(&p)
                .unwrap()
                .handle(env.clone(), rng)
                .unwrap()
            {
                Step::Continue(out) => queue.extend(out),
                Step::Done(out, k) => {
                    queue.extend(out);
                    keys.push(k.into_confirmed().unwrap());
                }
            }
        }
    }
    assert_eq!(keys.len(), n as usize);
    keys
}

type FrostKeys = (
    BTreeMap<frost_ed25519::Identifier, frost_ed25519::keys::KeyPackage>,
    frost_ed25519::keys::PublicKeyPackage,
);

fn frost_dkg(t: u16, n: u16, rng: &mut Rng06) -> FrostKeys {
    use frost_ed25519::keys::dkg;
    let ids: Vec<frost_ed25519::Identifier> = (1..=n).map(|i| i.try_into().unwrap()).collect();
    let mut s1 = BTreeMap::new();
    let mut r1 = BTreeMap::new();
    for id in &ids {
        let (sec, pkg) = dkg::part1(*id, n, t, &mut *rng).unwrap();
        s1.insert(*id, sec);
        r1.insert(*id, pkg);
    }
    let mut s2 = BTreeMap::new();
    let mut r2: BTreeMap<_, BTreeMap<_, _>> = BTreeMap::new();
    for id in &ids {
        let others: BTreeMap<_, _> = r1
            .iter()
            .filter(|(k, _)| *k != id)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let (sec, pkgs) = dkg::part2(s1.remove(id).unwrap(), &others).unwrap();
        s2.insert(*id, sec);
        for (to, p) in pkgs {
            r2.entry(to).or_default().insert(*id, p);
        }
    }
    let mut keys = BTreeMap::new();
    let mut public = None;
    for id in &ids {
        let others: BTreeMap<_, _> = r1
            .iter()
            .filter(|(k, _)| *k != id)
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let (kp, pk) = dkg::part3(&s2[id], &others, &r2[id]).unwrap();
        keys.insert(*id, kp);
        public = Some(pk);
    }
    (keys, public.unwrap())
}

fn ours_sign_once(
    keys: &[KeyPackage<Ed25519>],
    t: usize,
    rng: &mut ChaCha20Rng,
) -> wallet_tss::frost::Signature<Ed25519> {
    let signers = &keys[..t];
    let nonces: Vec<SigningNonces<Ed25519>> = signers
        .iter()
        .map(|k| SigningNonces::new(k.secret_share(), rng))
        .collect();
    let commitments = signers
        .iter()
        .zip(&nonces)
        .map(|(k, n)| (k.id(), *n.commitments()))
        .collect();
    let package = SigningPackage::new(commitments, MSG.to_vec()).unwrap();
    let shares = signers
        .iter()
        .zip(nonces)
        .map(|(k, n)| (k.id(), sign(&package, n, k).unwrap()))
        .collect();
    aggregate(&package, &shares, signers[0].public()).unwrap()
}

fn frost_sign_once(keys: &FrostKeys, t: usize, rng: &mut Rng06) -> frost_ed25519::Signature {
    let signers: Vec<_> = keys.0.iter().take(t).collect();
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for (id, kp) in &signers {
        let (n, c) = frost_ed25519::round1::commit(kp.signing_share(), &mut *rng);
        nonces.insert(**id, n);
        commitments.insert(**id, c);
    }
    let package = frost_ed25519::SigningPackage::new(commitments, MSG);
    let mut shares = BTreeMap::new();
    for (id, kp) in &signers {
        shares.insert(
            **id,
            frost_ed25519::round2::sign(&package, &nonces[*id], kp).unwrap(),
        );
    }
    frost_ed25519::aggregate(&package, &shares, &keys.1).unwrap()
}

fn bench(c: &mut Criterion) {
    for (t, n) in SIZES {
        let tu = t as usize;
        let mut g = c.benchmark_group(format!("frost/{t}-of-{n}"));
        g.sample_size(if n > 5 { 20 } else { 50 });
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut rng06 = Rng06(ChaCha20Rng::seed_from_u64(2));

        g.bench_function("dkg/wallet-tss", |b| b.iter(|| ours_dkg(t, n, &mut rng)));
        g.bench_function("dkg/frost-ed25519", |b| {
            b.iter(|| frost_dkg(t, n, &mut rng06))
        });

        // Keys for signing (dealer split: the signing cost does not depend on how keys came).
        let parties = Parties::range(n).unwrap();
        let keys = split_secret(
            SecretScalar::<Ed25519>::random(&mut rng),
            tu,
            &parties,
            &mut rng,
        )
        .unwrap();
        let fkeys = frost_dkg(t, n, &mut rng06);

        g.bench_function("preprocess/wallet-tss", |b| {
            b.iter(|| SigningNonces::new(keys[0].secret_share(), &mut rng))
        });
        let share0 = *fkeys.0.values().next().unwrap().signing_share();
        g.bench_function("preprocess/frost-ed25519", |b| {
            b.iter(|| frost_ed25519::round1::commit(&share0, &mut rng06))
        });

        // One fixed package: signer 0's nonces restored from sealed bytes in the (unmeasured)
        // setup, since a nonce pair cannot be used twice.
        let nonces: Vec<SigningNonces<Ed25519>> = keys[..tu]
            .iter()
            .map(|k| SigningNonces::new(k.secret_share(), &mut rng))
            .collect();
        let commitments = keys
            .iter()
            .zip(&nonces)
            .map(|(k, n)| (k.id(), *n.commitments()))
            .collect();
        let package = SigningPackage::new(commitments, MSG.to_vec()).unwrap();
        let sealed: Vec<_> = nonces.into_iter().map(|n| n.seal()).collect();
        g.bench_function("sign/wallet-tss", |b| {
            b.iter_batched(
                || SigningNonces::<Ed25519>::restore(sealed[0].bytes()).unwrap(),
                |n| sign(&package, n, &keys[0]).unwrap(),
                BatchSize::SmallInput,
            )
        });
        let shares: BTreeMap<_, _> = keys[..tu]
            .iter()
            .zip(&sealed)
            .map(|(k, s)| {
                (
                    k.id(),
                    sign(&package, SigningNonces::restore(s.bytes()).unwrap(), k).unwrap(),
                )
            })
            .collect();
        g.bench_function("aggregate/wallet-tss (all shares verified)", |b| {
            b.iter(|| aggregate(&package, black_box(&shares), keys[0].public()).unwrap())
        });

        let fsigners: Vec<_> = fkeys.0.iter().take(tu).collect();
        let mut fnonces = BTreeMap::new();
        let mut fcomm = BTreeMap::new();
        for (id, kp) in &fsigners {
            let (nn, cc) = frost_ed25519::round1::commit(kp.signing_share(), &mut rng06);
            fnonces.insert(**id, nn);
            fcomm.insert(**id, cc);
        }
        let fpackage = frost_ed25519::SigningPackage::new(fcomm, MSG);
        let (fid0, fkp0) = fsigners[0];
        g.bench_function("sign/frost-ed25519", |b| {
            b.iter(|| frost_ed25519::round2::sign(&fpackage, &fnonces[fid0], fkp0).unwrap())
        });
        let fshares: BTreeMap<_, _> = fsigners
            .iter()
            .map(|(id, kp)| {
                (
                    **id,
                    frost_ed25519::round2::sign(&fpackage, &fnonces[*id], kp).unwrap(),
                )
            })
            .collect();
        g.bench_function("aggregate/frost-ed25519", |b| {
            b.iter(|| frost_ed25519::aggregate(&fpackage, black_box(&fshares), &fkeys.1).unwrap())
        });
        g.bench_function("aggregate+verify-shares/frost-ed25519", |b| {
            b.iter(|| {
                for (id, s) in &fshares {
                    frost_core::verify_signature_share(
                        *id,
                        &fkeys.1.verifying_shares()[id],
                        s,
                        &fpackage,
                        fkeys.1.verifying_key(),
                    )
                    .unwrap();
                }
                frost_ed25519::aggregate(&fpackage, black_box(&fshares), &fkeys.1).unwrap()
            })
        });

        g.bench_function("total/wallet-tss", |b| {
            b.iter(|| ours_sign_once(&keys, tu, &mut rng))
        });
        g.bench_function("total/frost-ed25519", |b| {
            b.iter(|| frost_sign_once(&fkeys, tu, &mut rng06))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
