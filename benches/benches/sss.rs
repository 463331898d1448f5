//! wallet-sss: Shamir split + reconstruct (2-of-3, 3-of-5), Feldman split and verification of
//! one share against `vsss-rs` 6 for the same (t, n) in the same run, and the wallet share set's
//! one-call sign (combine + BIP-39 seed + BIP-32 / SLIP-10 derivation + sign) against a bare
//! k256 / ed25519-dalek sign plus the same derivation by the `bip39` and `bip32` crates.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::str::FromStr;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use vsss_rs::{DefaultShare, IdentifierPrimeField, ReadableShareSet, ShareVerifierGroup};
use wallet_sss::shamir::{reconstruct, split};
use wallet_sss::wallet;
use wallet_types::{Parties, Secp256k1, SecretScalar};

type K256Share =
    DefaultShare<IdentifierPrimeField<k256::Scalar>, IdentifierPrimeField<k256::Scalar>>;
type K256Verifier = ShareVerifierGroup<k256::ProjectivePoint>;

const SIZES: [(usize, u16); 2] = [(2, 3), (3, 5)];

fn shamir(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("sss");
    for (t, n) in SIZES {
        let ids = Parties::range(n).unwrap();
        let secret = SecretScalar::<Secp256k1>::random(&mut rng);
        let vsecret = IdentifierPrimeField(*secret.expose());

        g.bench_function(
            format!("split+reconstruct {t}-of-{n}/wallet-sss (with feldman)"),
            |b| {
                b.iter(|| {
                    let (shares, _) = split(black_box(&secret), t, &ids, &mut rng).unwrap();
                    reconstruct(&shares[..t]).unwrap()
                })
            },
        );
        g.bench_function(
            format!("split+reconstruct {t}-of-{n}/vsss-rs feldman"),
            |b| {
                b.iter(|| {
                    let (mut shares, _) =
                        vsss_rs::feldman::split_secret::<K256Share, K256Verifier>(
                            t,
                            n as usize,
                            black_box(&vsecret),
                            None,
                            &mut rng,
                        )
                        .unwrap();
                    shares.truncate(t);
                    shares.combine().unwrap()
                })
            },
        );
        g.bench_function(
            format!("split+reconstruct {t}-of-{n}/vsss-rs shamir (no commitments)"),
            |b| {
                b.iter(|| {
                    let mut shares = vsss_rs::shamir::split_secret::<K256Share>(
                        t,
                        n as usize,
                        black_box(&vsecret),
                        &mut rng,
                    )
                    .unwrap();
                    shares.truncate(t);
                    shares.combine().unwrap()
                })
            },
        );

        // Feldman split (polynomial, n shares, t commitments).
        g.bench_function(format!("feldman split {t}-of-{n}/wallet-sss"), |b| {
            b.iter(|| split(black_box(&secret), t, &ids, &mut rng).unwrap())
        });
        g.bench_function(format!("feldman split {t}-of-{n}/vsss-rs"), |b| {
            b.iter(|| {
                vsss_rs::feldman::split_secret::<K256Share, K256Verifier>(
                    t,
                    n as usize,
                    black_box(&vsecret),
                    None,
                    &mut rng,
                )
                .unwrap()
            })
        });

        // Verify one share (the last party's, the largest id).
        let (shares, comm) = split(&secret, t, &ids, &mut rng).unwrap();
        let last = shares.last().unwrap();
        assert!(comm.verify_share(last.id(), last.value()));
        g.bench_function(format!("feldman verify one {t}-of-{n}/wallet-sss"), |b| {
            b.iter(|| comm.verify_share(black_box(last.id()), black_box(last.value())))
        });
        g.bench_function(
            format!("feldman verify one {t}-of-{n}/wallet-sss msm path"),
            |b| {
                b.iter(|| {
                    <Secp256k1 as wallet_types::Curve>::mul_base(black_box(last.value()).expose())
                        == comm.share_commitment_msm(black_box(last.id()))
                })
            },
        );
        let (vshares, verifier) = vsss_rs::feldman::split_secret::<K256Share, K256Verifier>(
            t, n as usize, &vsecret, None, &mut rng,
        )
        .unwrap();
        let vlast = vshares.last().unwrap();
        assert!(vsss_rs::FeldmanVerifierSet::verify_share(&verifier, vlast).is_ok());
        g.bench_function(format!("feldman verify one {t}-of-{n}/vsss-rs"), |b| {
            b.iter(|| {
                vsss_rs::FeldmanVerifierSet::verify_share(black_box(&verifier), black_box(vlast))
            })
        });
    }
    g.finish();
}

fn wallet_sign(c: &mut Criterion) {
    use ed25519_dalek::Signer;
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let w = wallet::create(&mut rng).unwrap();
    let hash = [0x5au8; 32];
    let phrase = wallet::export_mnemonic(&w.device, &w.auth).unwrap();
    let mnemonic = bip39::Mnemonic::parse(phrase.as_str()).unwrap();
    let eth_path = bip32::DerivationPath::from_str("m/44'/60'/0'/0/0").unwrap();
    let mut g = c.benchmark_group("sss/wallet");
    g.sample_size(30);
    g.bench_function(
        "sign ecdsa (combine + seed + bip32 + sign)/wallet-sss",
        |b| b.iter(|| wallet::sign_ecdsa(&w.device, &w.auth, 0, black_box(&hash)).unwrap()),
    );
    g.bench_function(
        "sign ecdsa baseline (bip39 seed + bip32 crate + k256 sign)",
        |b| {
            b.iter(|| {
                let seed = mnemonic.to_seed("");
                let x = bip32::XPrv::derive_from_path(&seed, &eth_path).unwrap();
                x.private_key().sign_prehash_recoverable(black_box(&hash))
            })
        },
    );
    g.bench_function(
        "sign ed25519 (combine + seed + slip10 + sign)/wallet-sss",
        |b| b.iter(|| wallet::sign_ed25519(&w.device, &w.auth, 0, black_box(b"message")).unwrap()),
    );
    g.bench_function(
        "sign ed25519 baseline (bip39 seed + slip10 + ed25519-dalek sign)",
        |b| {
            b.iter(|| {
                let seed = mnemonic.to_seed("");
                let k = wallet_sss::derive::Slip10Ed25519Key::derive(
                    &seed,
                    &wallet_sss::derive::solana_path(0).unwrap(),
                )
                .unwrap();
                k.signing_key().sign(black_box(b"message"))
            })
        },
    );
    // The parts, to see where the time goes.
    g.bench_function("part: bip39 seed (PBKDF2, 2048 rounds)/wallet-sss", |b| {
        b.iter(|| wallet_sss::derive::seed_from_mnemonic(black_box(phrase.as_str()), "").unwrap())
    });
    g.bench_function("part: bip39 seed (PBKDF2, 2048 rounds)/bip39 crate", |b| {
        b.iter(|| black_box(&mnemonic).to_seed(""))
    });
    let seed = mnemonic.to_seed("");
    g.bench_function("part: bip32 m/44'/60'/0'/0/0/wallet-sss", |b| {
        b.iter(|| {
            wallet_sss::derive::Bip32Key::derive(
                black_box(&seed),
                &wallet_sss::derive::ethereum_path(0).unwrap(),
            )
            .unwrap()
        })
    });
    g.bench_function("part: bip32 m/44'/60'/0'/0/0/bip32 crate", |b| {
        b.iter(|| bip32::XPrv::derive_from_path(black_box(&seed), &eth_path).unwrap())
    });
    let sk = k256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
    g.bench_function("part: k256 sign_prehash_recoverable", |b| {
        b.iter(|| sk.sign_prehash_recoverable(black_box(&hash)))
    });
    g.finish();
}

criterion_group!(benches, shamir, wallet_sign);
criterion_main!(benches);
