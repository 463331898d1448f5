//! FROST(secp256k1): the BIP-340 / Taproot mode (`wallet_tss::frost::taproot`) against plain
//! RFC 9591 FROST(secp256k1, SHA-256), measured side by side in the same run, at 2-of-3 and
//! 3-of-5. Keys from a dealer split (the signing cost does not depend on how keys came).
//!
//! * `sign` — one signer's share (Taproot: includes computing the spend's key and the
//!   effective share from the root key package, as every signer does per signature);
//! * `aggregate` — the coordinator: every share verified (batched) and the final signature
//!   (Taproot: includes computing the spend's key);
//! * `total` — one signature: `t` × nonce generation + `t` × sign + aggregate
//!   (`-cached-key`: every party reuses the spend's key it computed once, `sign_with_key`).
//!
//! Taproot spends: `root` = BIP-86 key path of the root key; `derived` = `m/0/7` with a
//! script-tree merkle root.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::DerivationPath;
use wallet_tss::frost::taproot::{self, TapTweak, TaprootKey, TaprootSigningPackage, TaprootSpend};
use wallet_tss::frost::{
    KeyPackage, SigningNonces, SigningPackage, aggregate, keys::split_secret, sign,
};
use wallet_types::{Parties, Secp256k1, SecretScalar};

const SIZES: [(u16, u16); 2] = [(2, 3), (3, 5)];
const MSG: [u8; 32] = [0x5a; 32];

fn plain_once(keys: &[KeyPackage<Secp256k1>], t: usize, rng: &mut ChaCha20Rng) {
    let signers = &keys[..t];
    let nonces: Vec<SigningNonces<Secp256k1>> = signers
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
    black_box(aggregate(&package, &shares, signers[0].public()).unwrap());
}

fn taproot_once(
    keys: &[KeyPackage<Secp256k1>],
    t: usize,
    cc: &[u8; 32],
    spend: &TaprootSpend,
    rng: &mut ChaCha20Rng,
    cached: Option<&TaprootKey>,
) {
    let signers = &keys[..t];
    let nonces: Vec<SigningNonces<Secp256k1>> = signers
        .iter()
        .map(|k| SigningNonces::new(k.secret_share(), rng))
        .collect();
    let commitments = signers
        .iter()
        .zip(&nonces)
        .map(|(k, n)| (k.id(), *n.commitments()))
        .collect();
    let package = TaprootSigningPackage::new(spend.clone(), commitments, MSG.to_vec()).unwrap();
    let shares = signers
        .iter()
        .zip(nonces)
        .map(|(k, n)| {
            let z = match cached {
                Some(tk) => taproot::sign_with_key(&package, n, k, tk),
                None => taproot::sign(&package, n, k, cc),
            };
            (k.id(), z.unwrap())
        })
        .collect();
    let computed;
    let key = match cached {
        Some(tk) => tk,
        None => {
            computed = TaprootKey::new(signers[0].public(), cc, spend).unwrap();
            &computed
        }
    };
    black_box(taproot::aggregate(&package, &shares, key).unwrap());
}

/// Interleaved A/B on a shared (loaded) machine: each pair runs one plain signature and one
/// Taproot signature back to back, so load drift hits both; prints the median plain time, the
/// median Taproot time and the median of the per-pair ratios.
fn interleaved_ratios(keys: &[KeyPackage<Secp256k1>], t: usize, cc: &[u8; 32], label: &str) {
    use std::time::Instant;
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let spend = TaprootSpend::new(
        DerivationPath::parse("m/0/7").unwrap(),
        TapTweak::ScriptTree([0x42; 32]),
    );
    let cached = TaprootKey::new(keys[0].public(), cc, &spend).unwrap();
    let variants: [(&str, TaprootSpend, bool); 3] = [
        ("bip340-root", TaprootSpend::root_key_path(), false),
        ("bip340-derived", spend.clone(), false),
        ("bip340-derived-cached-key", spend.clone(), true),
    ];
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    for (name, spend, use_cache) in &variants {
        let (mut plain, mut tr, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..300 {
            let a = Instant::now();
            plain_once(keys, t, &mut rng);
            let pa = a.elapsed().as_secs_f64();
            let b = Instant::now();
            taproot_once(keys, t, cc, spend, &mut rng, use_cache.then_some(&cached));
            let tb = b.elapsed().as_secs_f64();
            if i >= 20 {
                plain.push(pa * 1e6);
                tr.push(tb * 1e6);
                ratio.push(tb / pa);
            }
        }
        eprintln!(
            "interleaved {label} {name}: rfc9591 median {:.0} µs, taproot median {:.0} µs, median pair ratio {:.2}",
            median(&mut plain),
            median(&mut tr),
            median(&mut ratio)
        );
    }
}

fn bench(c: &mut Criterion) {
    for (t, n) in SIZES {
        let tu = t as usize;
        let mut g = c.benchmark_group(format!("frost-secp256k1/{t}-of-{n}"));
        g.sample_size(40);
        g.measurement_time(std::time::Duration::from_secs(4));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let parties = Parties::range(n).unwrap();
        let keys = split_secret(
            SecretScalar::<Secp256k1>::random(&mut rng),
            tu,
            &parties,
            &mut rng,
        )
        .unwrap();
        let cc = taproot::default_chain_code(keys[0].public());
        let spends = [
            ("root", TaprootSpend::root_key_path()),
            (
                "derived",
                TaprootSpend::new(
                    DerivationPath::parse("m/0/7").unwrap(),
                    TapTweak::ScriptTree([0x42; 32]),
                ),
            ),
        ];

        interleaved_ratios(&keys, tu, &cc, &format!("{t}-of-{n}"));
        g.bench_function("total/rfc9591", |b| {
            b.iter(|| plain_once(&keys, tu, &mut rng))
        });
        for (name, spend) in &spends {
            g.bench_function(format!("total/bip340-{name}"), |b| {
                b.iter(|| taproot_once(&keys, tu, &cc, spend, &mut rng, None))
            });
        }
        // Every party keeps the spend's key (computed once from its own root package).
        let (_, derived) = &spends[1];
        let cached = TaprootKey::new(keys[0].public(), &cc, derived).unwrap();
        g.bench_function("total/bip340-derived-cached-key", |b| {
            b.iter(|| taproot_once(&keys, tu, &cc, derived, &mut rng, Some(&cached)))
        });

        // One signer's share.
        let fresh_package = |rng: &mut ChaCha20Rng| {
            let nonces: Vec<SigningNonces<Secp256k1>> = keys[..tu]
                .iter()
                .map(|k| SigningNonces::new(k.secret_share(), rng))
                .collect();
            let commitments: BTreeMap<_, _> = keys[..tu]
                .iter()
                .zip(&nonces)
                .map(|(k, n)| (k.id(), *n.commitments()))
                .collect();
            (nonces, commitments)
        };
        g.bench_function("sign/rfc9591", |b| {
            b.iter_batched(
                || {
                    let (mut nonces, commitments) = fresh_package(&mut rng);
                    (
                        nonces.remove(0),
                        SigningPackage::new(commitments, MSG.to_vec()).unwrap(),
                    )
                },
                |(n, p)| black_box(sign(&p, n, &keys[0]).unwrap()),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("sign/bip340-derived", |b| {
            b.iter_batched(
                || {
                    let (mut nonces, commitments) = fresh_package(&mut rng);
                    (
                        nonces.remove(0),
                        TaprootSigningPackage::new(derived.clone(), commitments, MSG.to_vec())
                            .unwrap(),
                    )
                },
                |(n, p)| black_box(taproot::sign(&p, n, &keys[0], &cc).unwrap()),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
