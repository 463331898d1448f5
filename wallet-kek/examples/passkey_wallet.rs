//! A passkey wallet from start to finish, with two simulated passkeys.
//!
//! ```text
//! cargo run --release -p wallet-kek --example passkey_wallet -- --json [--seed N]
//!     [--curve secp256k1|ed25519] [--prf-a HEX32 --prf-b HEX32]
//! ```
//!
//! 1. passkey A is registered; the wallet key is generated straight into an envelope wrapped
//!    for A;
//! 2. passkey B is added (the envelope is opened with A to do so);
//! 3. the wallet signs with A, then with B (same public key);
//! 4. A's slot is removed (opened with B), and A's PRF output no longer opens the envelope.
//!
//! A simulated passkey computes the WebAuthn PRF as an authenticator does
//! (`HMAC-SHA256(credential secret, SHA-256("WebAuthn PRF" || 0x00 || salt))`) with a
//! credential secret derived from the seed. With `--prf-a` / `--prf-b` the given 32-byte values
//! are used as the passkeys' PRF outputs instead.
//!
//! With `--json`, one JSON object goes to stdout (fields per `docs/example-output.md`,
//! plus `"envelope"` and `"prf_outputs"`); the narrative goes to stderr.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt::Write as _;
use std::process::ExitCode;

use hmac::{Hmac, KeyInit, Mac};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use sha2::Sha256;
use sha3::{Digest, Keccak256};
use wallet_kek::{Credential, Envelope, KekError, NewSlot, PrfOutput, PrfSalt, WalletId};
use wallet_types::WireObject;

const RP_ID: &str = "wallet.example";

/// A simulated passkey.
struct Passkey {
    name: &'static str,
    credential_id: Vec<u8>,
    secret: [u8; 32],
    /// A fixed PRF output given on the command line (replaces the HMAC model).
    fixed_output: Option<[u8; 32]>,
}

impl Passkey {
    fn prf(&self, salt: &PrfSalt) -> PrfOutput {
        if let Some(o) = self.fixed_output {
            return PrfOutput::new(o);
        }
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).unwrap();
        mac.update(&salt.hmac_secret_salt());
        PrfOutput::new(mac.finalize().into_bytes().into())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum CurveArg {
    Secp256k1,
    Ed25519,
}

struct Args {
    json: bool,
    seed: u64,
    curve: CurveArg,
    prf_a: Option<[u8; 32]>,
    prf_b: Option<[u8; 32]>,
}

fn parse_hex32(s: &str) -> Result<[u8; 32], String> {
    let v = hex::decode(s.trim_start_matches("0x")).map_err(|e| format!("bad hex: {e}"))?;
    v.try_into()
        .map_err(|_| "a PRF output is 32 bytes (64 hex digits)".to_string())
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        json: false,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        curve: CurveArg::Secp256k1,
        prf_a: None,
        prf_b: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => args.json = true,
            "--seed" => {
                args.seed = it
                    .next()
                    .ok_or("--seed needs a value")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--curve" => {
                args.curve = match it.next().as_deref() {
                    Some("secp256k1") => CurveArg::Secp256k1,
                    Some("ed25519") => CurveArg::Ed25519,
                    _ => return Err("--curve secp256k1|ed25519".into()),
                }
            }
            "--prf-a" => args.prf_a = Some(parse_hex32(&it.next().ok_or("--prf-a needs hex")?)?),
            "--prf-b" => args.prf_b = Some(parse_hex32(&it.next().ok_or("--prf-b needs hex")?)?),
            "-h" | "--help" => {
                return Err(
                    "usage: passkey_wallet [--json] [--seed N] [--curve secp256k1|ed25519] \
                            [--prf-a HEX32 --prf-b HEX32]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.prf_a.is_some() && args.prf_a == args.prf_b {
        return Err("the two passkeys need different PRF outputs".into());
    }
    Ok(args)
}

/// EIP-55 checksummed Ethereum address of a SEC1 compressed secp256k1 key.
fn eth_address(compressed: &[u8]) -> String {
    use k256::elliptic_curve::sec1::ToSec1Point;
    let pk = k256::PublicKey::from_sec1_bytes(compressed).unwrap();
    let uncompressed = pk.to_sec1_point(false);
    let h = Keccak256::digest(&uncompressed.as_bytes()[1..]);
    let addr = hex::encode(&h[12..]);
    let check = hex::encode(Keccak256::digest(addr.as_bytes()));
    let mut out = String::from("0x");
    for (c, k) in addr.chars().zip(check.chars()) {
        if c.is_ascii_alphabetic() && k.to_digit(16).unwrap() >= 8 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The EIP-191 `personal_sign` hash of a message.
fn personal_sign_hash(msg: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(format!("\x19Ethereum Signed Message:\n{}", msg.len()).as_bytes());
    h.update(msg);
    h.finalize().into()
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(json) => {
            if args.json {
                println!("{json}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<String, KekError> {
    let mut rng = ChaCha20Rng::seed_from_u64(args.seed);
    let secret = |rng: &mut ChaCha20Rng| {
        let mut s = [0u8; 32];
        rng.fill_bytes(&mut s);
        s
    };
    let a = Passkey {
        name: "passkey-a",
        credential_id: secret(&mut rng)[..16].to_vec(),
        secret: secret(&mut rng),
        fixed_output: args.prf_a,
    };
    let b = Passkey {
        name: "passkey-b",
        credential_id: secret(&mut rng)[..16].to_vec(),
        secret: secret(&mut rng),
        fixed_output: args.prf_b,
    };

    // 1. Register A, generate the key straight into an envelope.
    let wallet = WalletId::random(&mut rng);
    let salt_a = PrfSalt::random(&mut rng);
    let out_a = a.prf(&salt_a);
    let first = NewSlot::Prf {
        credential_id: &a.credential_id,
        rp_id: RP_ID,
        salt: salt_a,
        output: &out_a,
    };
    let (mut env, public_key) = match args.curve {
        CurveArg::Secp256k1 => {
            let (e, pk) = Envelope::generate_secp256k1(wallet, &first, &mut rng)?;
            (e, pk.to_vec())
        }
        CurveArg::Ed25519 => {
            let (e, pk) = Envelope::generate_ed25519(wallet, &first, &mut rng)?;
            (e, pk.to_vec())
        }
    };
    let cred_a = Credential::Prf {
        credential_id: &a.credential_id,
        output: &out_a,
    };
    eprintln!(
        "created wallet {} with {} (public key {})",
        hex::encode(wallet.as_bytes()),
        a.name,
        hex::encode(&public_key)
    );

    // 2. Add B (needs the envelope opened with A).
    let salt_b = PrfSalt::random(&mut rng);
    let out_b = b.prf(&salt_b);
    let unlocked = env.open(&cred_a)?;
    env.add_slot(
        &unlocked,
        &NewSlot::Prf {
            credential_id: &b.credential_id,
            rp_id: RP_ID,
            salt: salt_b,
            output: &out_b,
        },
        &mut rng,
    )?;
    drop(unlocked);
    let cred_b = Credential::Prf {
        credential_id: &b.credential_id,
        output: &out_b,
    };
    let envelope_two_slots = env.to_bytes();
    eprintln!(
        "added {} ({} bytes envelope)",
        b.name,
        envelope_two_slots.len()
    );

    // 3. Sign with each passkey; the envelope round-trips through its stored bytes first.
    let env = Envelope::from_bytes(&envelope_two_slots)?;
    let curve = match args.curve {
        CurveArg::Secp256k1 => "secp256k1",
        CurveArg::Ed25519 => "ed25519",
    };
    let mut signatures = Vec::new();
    for (pk, cred) in [(&a, &cred_a), (&b, &cred_b)] {
        let message = format!("signed on the device with {}", pk.name);
        let mut o = String::new();
        write!(
            o,
            r#"{{"signer": "{}", "curve": "{curve}", "public_key": "{}", "#,
            pk.name,
            hex::encode(&public_key)
        )
        .unwrap();
        match args.curve {
            CurveArg::Secp256k1 => {
                let h = personal_sign_hash(message.as_bytes());
                let sig = env.sign_secp256k1(cred, &h)?;
                write!(
                    o,
                    r#""address": "{}", "message": "{}", "message_hash": "{}", "signature": "{}", "recovery_id": {}}}"#,
                    eth_address(&public_key),
                    hex::encode(message.as_bytes()),
                    hex::encode(h),
                    hex::encode(sig.signature),
                    sig.recovery_id
                )
                .unwrap();
            }
            CurveArg::Ed25519 => {
                let sig = env.sign_ed25519(cred, message.as_bytes())?;
                write!(
                    o,
                    r#""message": "{}", "signature": "{}"}}"#,
                    hex::encode(message.as_bytes()),
                    hex::encode(sig.to_bytes())
                )
                .unwrap();
            }
        }
        eprintln!("signed with {}", pk.name);
        signatures.push(o);
    }

    // 4. Remove A (opened with B); A can no longer open the envelope.
    let mut env = env;
    let unlocked = env.open(&cred_b)?;
    let slot_a = env
        .prf_slot(&a.credential_id)
        .map(|s| s.id())
        .ok_or(KekError::Unwrap)?;
    env.remove_slot(&unlocked, slot_a, &mut rng)?;
    drop(unlocked);
    let envelope_final = env.to_bytes();
    let env = Envelope::from_bytes(&envelope_final)?;
    let a_after = env.open(&cred_a).map(drop);
    let b_after = env.open(&cred_b).map(drop);
    eprintln!(
        "removed {}: it now {} the envelope; {} {}",
        a.name,
        if a_after.is_ok() {
            "STILL OPENS"
        } else {
            "cannot open"
        },
        b.name,
        if b_after.is_ok() {
            "still opens it"
        } else {
            "CANNOT open it"
        }
    );
    if a_after.is_ok() || b_after.is_err() {
        return Err(KekError::Unwrap);
    }

    let steps = [
        ("generate_with_passkey_a", &public_key),
        ("add_passkey_b", &public_key),
        ("remove_passkey_a", &public_key),
    ]
    .iter()
    .map(|(n, pk)| format!(r#"{{"name": "{n}", "public_key": "{}"}}"#, hex::encode(pk)))
    .collect::<Vec<_>>()
    .join(", ");
    let mut json = String::new();
    write!(
        json,
        r#"{{"curve": "{curve}", "public_key": "{}", "#,
        hex::encode(&public_key)
    )
    .unwrap();
    if args.curve == CurveArg::Secp256k1 {
        write!(json, r#""address": "{}", "#, eth_address(&public_key)).unwrap();
    }
    write!(
        json,
        concat!(
            r#""seed": {}, "rp_id": "{}", "wallet_id": "{}", "#,
            r#""credential_ids": ["{}", "{}"], "prf_inputs": ["{}", "{}"], "prf_outputs": ["{}", "{}"], "#,
            r#""signatures": [{}], "steps": [{}], "#,
            r#""envelope_two_slots": "{}", "envelope": "{}", "#,
            r#""removed": "{}", "removed_can_open": {}, "remaining_can_open": {}}}"#
        ),
        args.seed,
        RP_ID,
        hex::encode(wallet.as_bytes()),
        hex::encode(&a.credential_id),
        hex::encode(&b.credential_id),
        hex::encode(salt_a.as_bytes()),
        hex::encode(salt_b.as_bytes()),
        hex::encode(out_a.expose()),
        hex::encode(out_b.expose()),
        signatures.join(", "),
        steps,
        hex::encode(&envelope_two_slots),
        hex::encode(&envelope_final),
        a.name,
        a_after.is_ok(),
        b_after.is_ok(),
    )
    .unwrap();
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Ethereum address of the secret key 1 (the generator), EIP-55 checksummed.
    #[test]
    fn eth_address_of_generator() {
        let g = hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
            .unwrap();
        assert_eq!(
            eth_address(&g),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }
}
