//! The `device_server` example as a black box: two OS processes over TCP. It must print
//! signatures that verify (checked here with k256 / ed25519-dalek, independently of the
//! example), and a server process killed mid-protocol — before it processed a request, or after
//! it committed its state but before it answered — must not stop the run: the device resends
//! the same bytes to a new server process and gets the same result.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::process::Command;

use k256::ecdsa::signature::hazmat::PrehashVerifier;

/// `target/<profile>/examples/device_server`, built by `cargo test` with the examples.
fn example() -> PathBuf {
    let test_exe = std::env::current_exe().unwrap();
    let profile_dir = test_exe.parent().and_then(|deps| deps.parent()).unwrap();
    let exe = profile_dir
        .join("examples")
        .join(format!("device_server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        exe.exists(),
        "{} not built (run the tests with cargo test, which builds the examples)",
        exe.display()
    );
    exe
}

fn run(extra: &[&str]) -> serde_json::Value {
    let out = Command::new(example())
        .args(["--json", "--seed", "11"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "device_server {extra:?} failed:\n{stderr}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn hex(v: &serde_json::Value) -> Vec<u8> {
    hex_decode(v.as_str().unwrap())
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Verifies every signature of the output contract with the ecosystem's verifiers.
fn verify_all(out: &serde_json::Value) -> usize {
    let sigs = out["signatures"].as_array().unwrap();
    for s in sigs {
        match s["curve"].as_str().unwrap() {
            "secp256k1" => {
                let vk =
                    k256::ecdsa::VerifyingKey::from_sec1_bytes(&hex(&s["public_key"])).unwrap();
                let hash = hex(&s["message_hash"]);
                let sig = k256::ecdsa::Signature::from_slice(&hex(&s["signature"])).unwrap();
                vk.verify_prehash(&hash, &sig).unwrap();
                let recid =
                    k256::ecdsa::RecoveryId::from_byte(s["recovery_id"].as_u64().unwrap() as u8)
                        .unwrap();
                assert_eq!(
                    k256::ecdsa::VerifyingKey::recover_from_prehash(&hash, &sig, recid).unwrap(),
                    vk
                );
                assert_eq!(
                    s["address"].as_str().unwrap(),
                    wallet_lifecycle::eth_address(&vk)
                );
            }
            "ed25519" => {
                let pk: [u8; 32] = hex(&s["public_key"]).try_into().unwrap();
                let sig: [u8; 64] = hex(&s["signature"]).try_into().unwrap();
                ed25519_dalek::VerifyingKey::from_bytes(&pk)
                    .unwrap()
                    .verify_strict(
                        &hex(&s["message"]),
                        &ed25519_dalek::Signature::from_bytes(&sig),
                    )
                    .unwrap();
            }
            other => panic!("curve {other}"),
        }
    }
    sigs.len()
}

#[test]
fn two_processes_sign_and_survive_server_crashes() {
    let clean = run(&[]);
    // Two ECDSA signatures (the over-limit transaction is refused by the server's policy) and
    // one FROST signature.
    assert_eq!(verify_all(&clean), 3);
    assert_eq!(clean["retries"], 0);
    let processes = clean["server_processes"].as_u64().unwrap();
    assert_eq!(
        processes as usize,
        clean["requests"].as_array().unwrap().len()
    );

    // Crash points across the run: mid key generation (after commit), mid presigning (before
    // processing), at signing (after commit: the presignature half was taken, the answer is
    // replayed from the cache; before: processed on the retry), mid FROST DKG (before), at the
    // FROST nonce commitment (after).
    for crash in [
        "3:after",
        "7:before",
        "12:after",
        "14:before",
        "16:before",
        "18:after",
    ] {
        let out = run(&["--crash-server", crash]);
        assert_eq!(out["retries"], 1, "{crash}");
        assert_eq!(
            out["server_processes"].as_u64().unwrap(),
            processes + 1,
            "{crash}"
        );
        assert_eq!(verify_all(&out), 3, "{crash}");
        // Same seed, same signatures: the retry changed nothing.
        assert_eq!(out["signatures"], clean["signatures"], "{crash}");
    }
}

#[test]
fn server_state_on_disk_is_encrypted() {
    let dir =
        std::env::temp_dir().join(format!("wallet-device-server-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = run(&["--state-dir", dir.to_str().unwrap()]);
    let state = std::fs::read(dir.join("state.bin")).unwrap();
    let key = std::fs::read(dir.join("server.key")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(key.len(), 32);
    // The FROST key package (which holds the group key in clear in its encoding) is in the
    // state, but no public value of it shows through the encryption.
    let ed = out["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["curve"] == "ed25519")
        .unwrap();
    let group_key = hex(&ed["public_key"]);
    assert!(state.len() > 1000);
    assert!(
        !state
            .windows(group_key.len())
            .any(|w| w == group_key.as_slice())
    );
}
