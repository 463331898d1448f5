//! The lifecycle flows as integration tests (CI runs these; the example prints them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_lifecycle::{
    Report, combined_flow, ecdsa_flow, frost_flow, kek_flow, server_policy, sss_flow,
    threshold_flow,
};

fn check(report: &Report, flow: &str, min_steps: usize, min_sigs: usize) {
    let steps = report.steps.iter().filter(|s| s.flow == flow).count();
    let sigs: Vec<_> = report
        .signatures
        .iter()
        .filter(|s| s.flow == flow)
        .collect();
    assert!(steps >= min_steps, "{flow}: {steps} steps");
    assert!(sigs.len() >= min_sigs, "{flow}: {} signatures", sigs.len());
}

#[test]
fn prf_as_kek_flow() {
    let mut r = Report::default();
    kek_flow(&mut ChaCha20Rng::seed_from_u64(1), &mut r).unwrap();
    check(&r, "prf-as-kek", 4, 2);
    // Both signatures are by the same key (the envelope moved devices, the key did not).
    assert_eq!(r.signatures[0].public_key, r.signatures[1].public_key);
}

#[test]
fn sss_flow_2_of_3() {
    let mut r = Report::default();
    sss_flow(&mut ChaCha20Rng::seed_from_u64(2), &mut r).unwrap();
    check(&r, "sss-2-of-3", 5, 2);
    assert_eq!(r.signatures[0].address, r.signatures[1].address);
}

#[test]
fn two_party_ecdsa_flow() {
    let mut r = Report::default();
    ecdsa_flow(&mut ChaCha20Rng::seed_from_u64(3), &mut r).unwrap();
    check(&r, "tss-ecdsa", 8, 4);
    assert!(
        r.steps
            .iter()
            .any(|s| s.detail.starts_with("policy: amount 1000"))
    );
    // After the refresh the child address signs again (same key), and the epoch-0
    // presignature was refused.
    let refresh = r
        .steps
        .iter()
        .find(|s| s.name.starts_with("refresh"))
        .unwrap();
    assert!(refresh.detail.contains("epoch-0 presignature refused"));
    assert_eq!(r.signatures[1].public_key, r.signatures[2].public_key);
}

#[test]
fn frost_flow_with_add_and_remove() {
    let mut r = Report::default();
    frost_flow(&mut ChaCha20Rng::seed_from_u64(4), &mut r).unwrap();
    check(&r, "tss-frost", 5, 2);
    assert_eq!(r.signatures[0].public_key, r.signatures[1].public_key);
}

#[test]
fn policy_parses_and_limits() {
    assert!(server_policy(&[0, 0, 0, 0, 0, 0, 0, 50], 100).is_ok());
    assert!(server_policy(&[0, 0, 0, 0, 0, 0, 1, 0], 100).is_err());
    assert!(server_policy(&[1, 2], 100).is_err());
}

/// Every keyed step of `flow` names the same public key, and every signature of the flow is
/// by it.
fn one_key(r: &Report, flow: &str) {
    let keys: Vec<_> = r
        .steps
        .iter()
        .filter(|s| s.flow == flow)
        .map(|s| s.public_key.clone().expect("a keyed step"))
        .collect();
    assert!(keys.len() >= 3, "{flow}: {} keyed steps", keys.len());
    assert!(
        keys.windows(2).all(|w| w[0] == w[1]),
        "{flow}: the key changed"
    );
    for s in r.signatures.iter().filter(|s| s.flow == flow) {
        assert_eq!(Some(&s.public_key), keys.first());
    }
}

#[test]
fn threshold_flow_add_raise_remove_keeps_the_address() {
    let mut r = Report::default();
    threshold_flow(&mut ChaCha20Rng::seed_from_u64(5), &mut r).unwrap();
    check(&r, "tss-ecdsa-t", 4, 4);
    one_key(&r, "tss-ecdsa-t");
    assert!(r.steps.iter().any(|s| s.name.contains("3-of-4")));
}

#[test]
fn combined_flow_passkey_shamir_import_keeps_the_address() {
    let mut r = Report::default();
    combined_flow(&mut ChaCha20Rng::seed_from_u64(6), &mut r).unwrap();
    check(&r, "combined", 3, 3);
    one_key(&r, "combined");
}
