//! Reconstructs from arbitrary share lists: never panics, and never returns a wrong secret when
//! more than `t` shares are given.
//!
//! Input layout: byte 0 selects the mode.
//! * even: arbitrary shares — records of `set selector (1) ‖ threshold (1) ‖ id (2) ‖ value (32)`
//!   over secp256k1 (values reduced into the field), so mixed sets, thresholds, duplicate ids
//!   and inconsistent values all occur; a success must be self-consistent.
//! * odd: an honest 3-of-n dealing from a seed, then a fuzzer-chosen subset, duplicates and at
//!   most one tampered share; the result must be the secret or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_sss::shamir::{Share, ShareSetId, reconstruct, reconstruct_verified, split};
use wallet_sss::ShamirError;
use wallet_types::subtle::ConstantTimeEq;
use wallet_types::{Curve, Parties, PartyId, SecretScalar, Secp256k1};

fn arbitrary(data: &[u8]) {
    let mut shares = Vec::new();
    for rec in data.chunks_exact(36).take(64) {
        let set = ShareSetId([rec[0] & 1; 16]);
        let t = usize::from(rec[1] % 6) + 1;
        let Some(id) = PartyId::new(u16::from_be_bytes([rec[2], rec[3]])) else {
            continue;
        };
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&rec[4..36]);
        let v = SecretScalar::<Secp256k1>::new(Secp256k1::scalar_from_wide(&wide));
        if let Ok(s) = Share::new(set, t, id, v) {
            shares.push(s);
        }
    }
    if let Ok(secret) = reconstruct(&shares) {
        let t = shares[0].threshold();
        assert!(shares.len() >= t);
        // Any t of the shares give the same secret (they are on one polynomial).
        let tail = &shares[shares.len() - t..];
        let again = reconstruct(tail).unwrap();
        assert!(bool::from(again.ct_eq(&secret)));
    }
}

fn honest(data: &[u8]) {
    let seed = u64::from(data.get(1).copied().unwrap_or(0));
    let n = usize::from(data.get(2).copied().unwrap_or(0) % 6) + 3;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let secret = SecretScalar::<Secp256k1>::random(&mut rng);
    let ids = Parties::range(n as u16).unwrap();
    let t = 3;
    let (shares, comm) = split(&secret, t, &ids, &mut rng).unwrap();
    let mut chosen: Vec<Share<Secp256k1>> = Vec::new();
    let mut tampered = None;
    for &b in data.iter().skip(3).take(16) {
        let k = usize::from(b) % n;
        chosen.push(shares[k].duplicate());
        if b & 0x80 != 0 && tampered.is_none() {
            let last = chosen.pop().unwrap();
            let mut v = last.value().duplicate();
            *v.expose_mut() += <Secp256k1 as Curve>::Scalar::from(u64::from(b) + 1);
            tampered = Some(last.id());
            chosen.push(Share::new(last.set_id(), t, last.id(), v).unwrap());
        }
    }
    let distinct = {
        let mut v: Vec<u16> = chosen.iter().map(|s| s.id().get()).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    match reconstruct(&chosen) {
        Ok(r) => {
            assert_eq!(distinct, chosen.len());
            assert!(chosen.len() >= t);
            if bool::from(r.ct_eq(&secret)) {
                // A tampered share among the given ones never yields the secret.
                assert!(tampered.is_none());
            } else {
                // A wrong value only when exactly t shares with one tampered (nothing to
                // cross-check against without commitments).
                assert!(tampered.is_some() && chosen.len() == t);
            }
        }
        Err(ShamirError::Empty)
        | Err(ShamirError::DuplicateId(_))
        | Err(ShamirError::TooFewShares { .. }) => {}
        Err(ShamirError::InconsistentShares(named)) => {
            let id = tampered.unwrap();
            assert!(named.contains(&id));
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
    // With the commitments, a tampered share is always caught.
    if let Ok(r) = reconstruct_verified(&chosen, &comm) {
        assert!(bool::from(r.ct_eq(&secret)));
    }
}

fuzz_target!(|data: &[u8]| {
    match data.first() {
        Some(b) if b & 1 == 1 => honest(data),
        Some(_) => arbitrary(&data[1..]),
        None => {}
    }
});
