//! Algebraic laws of the Shamir / Feldman layer, for both curves (proptest).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_sss::shamir::{Share, reconstruct, reconstruct_verified, split};
use wallet_sss::{ShamirError, lagrange_at_zero};
use wallet_types::ff::Field;
use wallet_types::subtle::ConstantTimeEq;
use wallet_types::{Curve, Ed25519, Parties, PartyId, Secp256k1, SecretScalar, decode_scalar};

/// `n` distinct non-zero ids drawn from the seed, a threshold `t ≤ n`, and a subset choice.
fn params() -> impl Strategy<Value = (u64, usize, usize, Vec<bool>)> {
    (1usize..=6).prop_flat_map(|n| {
        (
            any::<u64>(),
            1..=n,
            Just(n),
            proptest::collection::vec(any::<bool>(), n),
        )
    })
}

fn ids_from(seed: u64, n: usize) -> Parties {
    let mut v = Vec::new();
    let mut x = seed;
    while v.len() < n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let id = ((x >> 33) % 60000) as u16 + 1;
        if !v.contains(&id) {
            v.push(id);
        }
    }
    Parties::from_ids(&v).unwrap()
}

fn dup<C: Curve>(s: &[Share<C>]) -> Vec<Share<C>> {
    s.iter().map(Share::duplicate).collect()
}

fn law<C: Curve>(seed: u64, t: usize, n: usize, pick: &[bool]) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let ids = ids_from(seed, n);
    let secret = SecretScalar::<C>::random(&mut rng);
    let (shares, comm) = split(&secret, t, &ids, &mut rng).unwrap();
    // Feldman public key = secret·G; every honest share verifies.
    assert_eq!(comm.public_key(), C::mul_base(secret.expose()));
    for s in &shares {
        assert!(comm.verify_share(s.id(), s.value()));
        assert_eq!(comm.share_commitment(s.id()), s.value().public());
    }
    // A subset of the chosen size: exactly t, and a superset of t from `pick`.
    let chosen: Vec<Share<C>> = shares
        .iter()
        .zip(pick)
        .filter(|(_, p)| **p)
        .map(|(s, _)| s.duplicate())
        .collect();
    if chosen.len() >= t {
        let r = reconstruct(&chosen).unwrap();
        assert!(bool::from(r.ct_eq(&secret)));
        let r = reconstruct_verified(&chosen, &comm).unwrap();
        assert!(bool::from(r.ct_eq(&secret)));
        // Any t of them, starting anywhere.
        for start in 0..=(chosen.len() - t) {
            let r = reconstruct(&chosen[start..start + t]).unwrap();
            assert!(bool::from(r.ct_eq(&secret)));
        }
    } else {
        // Fewer than t: an error, never a (wrong) secret.
        assert_eq!(
            reconstruct(&chosen).unwrap_err(),
            if chosen.is_empty() {
                ShamirError::Empty
            } else {
                ShamirError::TooFewShares {
                    needed: t,
                    given: chosen.len(),
                }
            }
        );
    }
    // Σ λ_i(0)·f(i) over any t ids is f(0).
    let first: Vec<PartyId> = shares.iter().take(t).map(Share::id).collect();
    let mut acc = C::Scalar::ZERO;
    for s in shares.iter().take(t) {
        acc += lagrange_at_zero::<C>(&first, s.id()).unwrap() * s.value().expose();
    }
    assert_eq!(acc, *secret.expose());
}

fn bit_flip<C: Curve>(seed: u64, t: usize, n: usize, bit: usize) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let ids = ids_from(seed, n);
    let secret = SecretScalar::<C>::random(&mut rng);
    let (shares, comm) = split(&secret, t, &ids, &mut rng).unwrap();
    let victim = &shares[bit % n];
    let mut enc = C::encode_scalar(victim.value().expose());
    let b = bit % (8 * C::SCALAR_LEN);
    enc.as_mut()[b / 8] ^= 1 << (b % 8);
    if let Ok(v) = decode_scalar::<C>(enc.as_ref()) {
        let flipped = SecretScalar::<C>::new(v);
        assert!(!comm.verify_share(victim.id(), &flipped));
        // With enough honest shares around it, the flipped share is named.
        let mut all = dup(&shares);
        let k = bit % n;
        all[k] = Share::new(victim.set_id(), t, victim.id(), flipped).unwrap();
        assert_eq!(
            reconstruct_verified(&all, &comm).unwrap_err(),
            ShamirError::InvalidShare(victim.id())
        );
        match reconstruct(&all) {
            // Only t shares: nothing to cross-check, a different (wrong) value comes out —
            // which is why callers with commitments use `reconstruct_verified`.
            Ok(r) => {
                assert_eq!(n, t);
                assert!(!bool::from(r.ct_eq(&secret)));
            }
            Err(ShamirError::InconsistentShares(named)) => {
                if n >= t + 2 {
                    assert_eq!(named, vec![victim.id()]);
                } else {
                    assert!(named.contains(&victim.id()));
                }
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_t_subset_reconstructs_secp256k1((seed, t, n, pick) in params()) {
        law::<Secp256k1>(seed, t, n, &pick);
    }

    #[test]
    fn any_t_subset_reconstructs_ed25519((seed, t, n, pick) in params()) {
        law::<Ed25519>(seed, t, n, &pick);
    }

    #[test]
    fn flipped_share_fails_secp256k1((seed, t, n, _p) in params(), bit in any::<usize>()) {
        bit_flip::<Secp256k1>(seed, t, n, bit);
    }

    #[test]
    fn flipped_share_fails_ed25519((seed, t, n, _p) in params(), bit in any::<usize>()) {
        bit_flip::<Ed25519>(seed, t, n, bit);
    }
}
