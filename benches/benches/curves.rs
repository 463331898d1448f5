//! Curve operations through `wallet_types::Curve`, and the single-party baselines every
//! protocol bench is compared against: `k256::ecdsa` sign / verify and `ed25519-dalek` sign /
//! verify, measured in the same run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{Criterion, criterion_group, criterion_main};
use group::{Group, GroupEncoding};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;
use wallet_types::{Curve, Ed25519, Secp256k1, decode_point, decode_scalar, random_nonzero_scalar};

fn curve_ops<C: Curve>(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let s = random_nonzero_scalar::<C, _>(&mut rng);
    let t = random_nonzero_scalar::<C, _>(&mut rng);
    let p = C::mul_base(&t);
    let enc = p.to_bytes();
    let senc = C::encode_scalar(&s);
    let name = C::ID.name();
    let mut g = c.benchmark_group(format!("curve/{name}"));
    g.bench_function("mul_base (table)", |b| {
        b.iter(|| C::mul_base(black_box(&s)))
    });
    g.bench_function("generator * s (no table)", |b| {
        b.iter(|| C::Point::generator() * black_box(s))
    });
    g.bench_function("variable-base mul", |b| {
        b.iter(|| black_box(p) * black_box(s))
    });
    g.bench_function("aG + bP (vartime)", |b| {
        b.iter(|| C::mul_base_add_vartime(black_box(&s), black_box(&t), black_box(&p)))
    });
    let scalars: Vec<_> = (0..16)
        .map(|_| random_nonzero_scalar::<C, _>(&mut rng))
        .collect();
    let points: Vec<_> = scalars.iter().map(|s| C::mul_base(s)).collect();
    g.bench_function("msm 16 (vartime)", |b| {
        b.iter(|| C::msm_vartime(black_box(&scalars), black_box(&points)))
    });
    g.bench_function("point decode (checked)", |b| {
        b.iter(|| decode_point::<C>(black_box(enc.as_ref())))
    });
    g.bench_function("scalar decode (checked)", |b| {
        b.iter(|| decode_scalar::<C>(black_box(senc.as_ref())))
    });
    g.finish();
}

fn baselines(c: &mut Criterion) {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    let mut g = c.benchmark_group("baseline");
    let sk = k256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
    let vk = *sk.verifying_key();
    let hash = [0x5au8; 32];
    g.bench_function("k256 ecdsa sign_prehash_recoverable", |b| {
        b.iter(|| sk.sign_prehash_recoverable(black_box(&hash)))
    });
    let (sig, _) = sk.sign_prehash_recoverable(&hash);
    g.bench_function("k256 ecdsa verify_prehash", |b| {
        b.iter(|| vk.verify_prehash(black_box(&hash), black_box(&sig)))
    });
    let ed = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let msg = [0x42u8; 32];
    g.bench_function("ed25519-dalek sign", |b| {
        b.iter(|| ed25519_dalek::Signer::sign(&ed, black_box(&msg)))
    });
    let esig = ed25519_dalek::Signer::sign(&ed, &msg);
    let evk = ed.verifying_key();
    g.bench_function("ed25519-dalek verify_strict", |b| {
        b.iter(|| evk.verify_strict(black_box(&msg), black_box(&esig)))
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    curve_ops::<Secp256k1>(c);
    curve_ops::<Ed25519>(c);
    baselines(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
