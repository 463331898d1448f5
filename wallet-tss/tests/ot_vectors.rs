//! Known-answer tests: a run of the pairwise setup and one ℓ = 2 multiplication under a fixed
//! seed, with every wire object frozen (the short ones as hex, the long ones as the SHA-256 of
//! their encoding). A change of any byte layout, hash input, PRG or derivation in SPEC.md shows
//! up here. Regenerate (only for an intended format change, with a version bump) with
//! `OT_PRINT_VECTORS=1 cargo test -p wallet-tss --test ot_vectors -- --nocapture`.
//! The full multiplication (setups, inputs, both messages, outputs) is also frozen as JSON in
//! `tests/vectors/mul_v2.json` (checked against this run; rewrite it with `OT_WRITE_JSON=1`),
//! which `tests/mul_vectors_check.py` re-derives from SPEC.md alone.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use wallet_tss::mul::*;
use wallet_tss::ot::*;
use wallet_types::{PartyId, Secp256k1, SecretScalar, SessionId, WireObject};

const ALICE: PartyId = PartyId::new(1).unwrap();
const BOB: PartyId = PartyId::new(2).unwrap();

fn digest(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[test]
fn frozen_run() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
    let setup_session = SessionId([0x11; 32]);
    let (b1, m1) = setup_bob_round1(&setup_session, BOB, ALICE, &mut rng);
    let (a2, m2) = setup_alice_round2(&setup_session, ALICE, BOB, &m1, &mut rng).unwrap();
    let (b3, m3) = setup_bob_round3(b1, &m2).unwrap();
    let (a4, m4) = setup_alice_round4(a2, &m3).unwrap();
    let (bob, m5) = setup_bob_round5(b3, &m4).unwrap();
    let alice = setup_alice_finish(a4, &m5).unwrap();
    let session = SessionId([0x22; 32]);
    let a = [
        SecretScalar::<Secp256k1>::new(k256::Scalar::from(3u64)),
        SecretScalar::<Secp256k1>::new(k256::Scalar::from(5u64)),
    ];
    let (state, n1) = mul_receiver_round1(&bob, &session, a.len(), &mut rng).unwrap();
    let (c, n2) = mul_sender_round2(&alice, &session, &a, &n1, BOB, &mut rng).unwrap();
    let state_bytes = state.to_secret_bytes().expose().to_vec();
    let (b, d) = state.finish(&bob, &session, &n2, ALICE).unwrap();
    // Sizes stated in SPEC.md.
    assert_eq!(m1.to_bytes().len(), 134);
    assert_eq!(n1.to_bytes().len(), 14_348);
    assert_eq!(n2.to_bytes().len(), 67_749);
    let got = [
        ("setup msg1 (hex)", hex::encode(m1.to_bytes())),
        ("setup msg2", digest(&m2.to_bytes())),
        ("setup msg3", digest(&m3.to_bytes())),
        ("setup msg4", digest(&m4.to_bytes())),
        ("setup msg5", digest(&m5.to_bytes())),
        ("sender setup", digest(alice.to_secret_bytes().expose())),
        ("receiver setup", digest(bob.to_secret_bytes().expose())),
        ("mul msg1", digest(&n1.to_bytes())),
        ("mul msg2", digest(&n2.to_bytes())),
        ("b (hex)", hex::encode(b.expose().to_bytes())),
        ("c1 (hex)", hex::encode(c[0].expose().to_bytes())),
        ("d1 (hex)", hex::encode(d[0].expose().to_bytes())),
    ];
    // Seeds for the `ot_decode` fuzz target: `OT_WRITE_CORPUS=fuzz/corpus/ot_decode`.
    if let Some(dir) = std::env::var_os("OT_WRITE_CORPUS") {
        let dir = std::path::PathBuf::from(dir);
        let files: [(&str, Vec<u8>); 10] = [
            ("setup_msg1", m1.to_bytes()),
            ("setup_msg2", m2.to_bytes()),
            ("setup_msg3", m3.to_bytes()),
            ("setup_msg4", m4.to_bytes()),
            ("setup_msg5", m5.to_bytes()),
            ("mul_msg1", n1.to_bytes()),
            ("mul_msg2", n2.to_bytes()),
            ("mul_receiver_state", state_bytes),
            ("sender_setup", alice.to_secret_bytes().expose().to_vec()),
            ("receiver_setup", bob.to_secret_bytes().expose().to_vec()),
        ];
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    if std::env::var_os("OT_PRINT_VECTORS").is_some() {
        for (k, v) in &got {
            println!("(\"{k}\", \"{v}\"),");
        }
    }
    for (i, (k, v)) in got.iter().enumerate() {
        assert_eq!((*k, v.as_str()), EXPECTED[i], "vector {k}");
    }
    assert_eq!(
        c[1].expose() + d[1].expose(),
        k256::Scalar::from(5u64) * b.expose()
    );
    // The whole multiplication as a JSON vector file, re-derived from SPEC.md alone by the
    // independent Python implementation `tests/mul_vectors_check.py`.
    let scalars = |v: &[SecretScalar<Secp256k1>]| -> Vec<String> {
        v.iter()
            .map(|s| hex::encode(s.expose().to_bytes()))
            .collect()
    };
    let json = mul_json(&[
        ("setup_session", Json::Hex(setup_session.0.to_vec())),
        ("session", Json::Hex(session.0.to_vec())),
        ("alice", Json::Int(1)),
        ("bob", Json::Int(2)),
        (
            "sender_setup",
            Json::Hex(alice.to_secret_bytes().expose().to_vec()),
        ),
        (
            "receiver_setup",
            Json::Hex(bob.to_secret_bytes().expose().to_vec()),
        ),
        ("a", Json::List(scalars(&a))),
        ("mul_msg1", Json::Hex(n1.to_bytes())),
        ("mul_msg2", Json::Hex(n2.to_bytes())),
        ("b", Json::Hex(b.expose().to_bytes().to_vec())),
        ("c", Json::List(scalars(&c))),
        ("d", Json::List(scalars(&d))),
    ]);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/mul_v2.json");
    if std::env::var_os("OT_WRITE_JSON").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &json).unwrap();
    }
    // A missing file reads as empty and fails the comparison below.
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == json,
        "{} is missing or differs from this run (rewrite it with OT_WRITE_JSON=1 only for an \
         intended format change)",
        path.display()
    );
}

/// A JSON value of the vector file: hex string, small integer, or list of hex strings.
enum Json {
    Hex(Vec<u8>),
    Int(u16),
    List(Vec<String>),
}

/// Hand-formatted JSON object (keys in the given order, one per line): std + hex only.
fn mul_json(fields: &[(&str, Json)]) -> String {
    let mut out = String::from("{\n");
    out.push_str(
        "  \"comment\": \"wallet-tss tests/ot_vectors.rs frozen_run: one l = 2 multiplication (ot-ext and mul-rvole transcript version 2; MulMsg2 kind 0x0367, which names the MulMsg1 it answers); secret setups are to_secret_bytes encodings; scalars 32-byte big-endian hex\",\n",
    );
    for (i, (k, v)) in fields.iter().enumerate() {
        let value = match v {
            Json::Hex(b) => format!("\"{}\"", hex::encode(b)),
            Json::Int(n) => n.to_string(),
            Json::List(items) => {
                let items: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
                format!("[{}]", items.join(", "))
            }
        };
        let sep = if i + 1 == fields.len() { "" } else { "," };
        out.push_str(&format!("  \"{k}\": {value}{sep}\n"));
    }
    out.push_str("}\n");
    out
}

const EXPECTED: [(&str, &str); 12] = [
    (
        "setup msg1 (hex)",
        "010340011111111111111111111111111111111111111111111111111111111111111111039735e9aa2ec3c7b02714a0cc9d47e112abb839e8838098d15dea0c380d20f7ed035b3b6cab8940d0627ed46d912121e8a479b58b396c1a374f61dec3f19689577010c55ee44e3256de3cef49138888e936684277844a7bdd4631a1ca76f49393c0",
    ),
    (
        "setup msg2",
        "f15c484510210b2331517294cbaf05722d5068888ba0227302164653e8d548ed",
    ),
    (
        "setup msg3",
        "80eba4fd2f400e8040985eec7e59637d38b0d95acf460eed9af11b1efaddfb20",
    ),
    (
        "setup msg4",
        "11e23d0cc5d2cbe9bf60f5480f53681bd05e4c727505dc392899b76631f2ad77",
    ),
    (
        "setup msg5",
        "24aabdfb542a565e302124fcb4cec1da4af6424c92b8f80797d46d254d8fabbb",
    ),
    (
        "sender setup",
        "f9e7d56658d85e7a8f59cf24262d8f5a84a816a9dc56df8f529b8dede40c4ab1",
    ),
    (
        "receiver setup",
        "5216f88d2654f43a3e3df311913e9967f766cb506d9567029b99dfcd6000277a",
    ),
    (
        "mul msg1",
        "681cfba7d301f5a690eceae588992d54ce81c7b03a17f7701356d673584d1f42",
    ),
    (
        "mul msg2",
        "d8ee77bc5620a78ced05792155ea72396efe0bdf03d94dd17dd95a01c4da7ebc",
    ),
    (
        "b (hex)",
        "5a7086b86c64a5d7d056a6bbf45dba4e6bbf883a6db1fe6936becb376a964960",
    ),
    (
        "c1 (hex)",
        "e25ce113a664f75257b80bbe4fff0b29775e81adbfd1e04973990d52b2d1be1b",
    ),
    (
        "d1 (hex)",
        "2cf4b3159ec8fa35194be8758d1a23c1cbe0170189441af230a354538cf11e05",
    ),
];
