//! The 2-of-3 wallet share set end to end: create a wallet, print its public summary and the
//! three encoded shares, sign a message with two shares (secp256k1 ECDSA with recovery id, and
//! Ed25519), recover the device share, rotate the share set, and show that old and new shares
//! do not mix.
//!
//! ```text
//! cargo run --release -p wallet-sss --example share_set -- [--json] [--seed <u64>]
//! ```
//!
//! With `--json` one JSON object goes to stdout (fields per `docs/example-output.md`)
//! and the human report to stderr. Without `--seed` the wallet is random (OS
//! randomness). The encoded shares are printed so that outside tools can check them; a real
//! application stores each share encrypted where it lives and never prints it.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha3::Digest;
use wallet_sss::wallet::{self, Role};
use wallet_types::{Secp256k1, WireObject};

struct Args {
    json: bool,
    seed: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        json: false,
        seed: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => a.json = true,
            "--seed" => {
                a.seed = Some(
                    it.next()
                        .and_then(|v| v.parse().ok())
                        .ok_or("--seed takes a u64")?,
                );
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run(args: &Args) -> Result<String, Box<dyn std::error::Error>> {
    let mut rng = match args.seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| format!("OS randomness: {e}"))?;
            ChaCha20Rng::from_seed(seed)
        }
    };

    // 1. Create the wallet.
    let w = wallet::create(&mut rng)?;
    let eth = w.info.ethereum;
    let ed = w.info.ed25519;
    eprintln!(
        "created share set {}",
        hex(w.info.public.set_id().as_bytes())
    );
    eprintln!(
        "  ethereum account 0: {} (key {})",
        eth.address_string(),
        hex(&eth.public_key)
    );
    eprintln!("  ed25519 account 0:  {}", hex(&ed.public_key));
    let shares: Vec<(Role, String)> = Role::ALL
        .iter()
        .map(|r| (*r, hex(w.share(*r).to_secret_bytes().expose())))
        .collect();
    for (r, s) in &shares {
        eprintln!("  {} share: {} bytes", r.name(), s.len() / 2);
    }

    // 2. Sign with two shares (device + auth): one call combines, derives, signs, zeroizes.
    let message = b"wallet-sss example: sign with two of three shares";
    let message_hash: [u8; 32] = sha3::Keccak256::digest(message).into();
    let ecdsa = wallet::sign_ecdsa(&w.device, &w.auth, 0, &message_hash)?;
    let eddsa = wallet::sign_ed25519(&w.device, &w.auth, 0, message)?;
    eprintln!(
        "ecdsa signature {} (recovery id {})",
        hex(&ecdsa.signature),
        ecdsa.recovery_id
    );
    eprintln!("ed25519 signature {}", hex(&eddsa.signature));

    // 3. Lose the device: auth + recovery give the device share back; sign with it.
    let device = wallet::recover_device(&w.auth, &w.recovery)?;
    let after_recovery = wallet::sign_ecdsa(&device, &w.recovery, 0, &message_hash)?;
    eprintln!(
        "recovered device share signs for {}",
        after_recovery.account.address_string()
    );

    // 4. Rotate: same accounts, new share set; old and new shares are refused together.
    let rotated = wallet::rotate(&device, &w.auth, &mut rng)?;
    let mix = wallet::sign_ecdsa(&w.device, &rotated.auth, 0, &message_hash);
    let mix_refused = match &mix {
        Err(e) => {
            eprintln!("old device + new auth share: refused ({e})");
            true
        }
        Ok(_) => false,
    };
    let after_rotation = wallet::sign_ecdsa(&rotated.device, &rotated.recovery, 0, &message_hash)?;

    let ecdsa_json = format!(
        "{{\"curve\":\"secp256k1\",\"public_key\":\"{}\",\"address\":\"{}\",\"message\":\"{}\",\"message_hash\":\"{}\",\"signature\":\"{}\",\"recovery_id\":{}}}",
        hex(&ecdsa.account.public_key),
        ecdsa.account.address_string(),
        hex(message),
        hex(&message_hash),
        hex(&ecdsa.signature),
        ecdsa.recovery_id
    );
    let ed_json = format!(
        "{{\"curve\":\"ed25519\",\"public_key\":\"{}\",\"message\":\"{}\",\"signature\":\"{}\"}}",
        hex(&eddsa.account.public_key),
        hex(message),
        hex(&eddsa.signature)
    );
    let step = |name: &str, s: &wallet::EcdsaSignature, set: &[u8]| {
        format!(
            "{{\"name\":\"{name}\",\"curve\":\"secp256k1\",\"public_key\":\"{}\",\"address\":\"{}\",\"share_set_id\":\"{}\",\"message_hash\":\"{}\",\"signature\":\"{}\",\"recovery_id\":{}}}",
            hex(&s.account.public_key),
            s.account.address_string(),
            hex(set),
            hex(&message_hash),
            hex(&s.signature),
            s.recovery_id
        )
    };
    let steps = [
        step("create", &ecdsa, w.info.public.set_id().as_bytes()),
        step(
            "recover_device",
            &after_recovery,
            device.set_id().as_bytes(),
        ),
        step(
            "rotate",
            &after_rotation,
            rotated.info.public.set_id().as_bytes(),
        ),
    ];
    let shares_json: Vec<String> = shares
        .iter()
        .map(|(r, s)| format!("\"{}\":\"{s}\"", r.name()))
        .collect();
    let c0 = <Secp256k1 as wallet_types::Curve>::encode_point(&w.info.secret_commitment());
    Ok(format!(
        "{{\"curve\":\"secp256k1\",\"public_key\":\"{}\",\"address\":\"{}\",\"message\":\"{}\",\"message_hash\":\"{}\",\"signature\":\"{}\",\"recovery_id\":{},\"ed25519_public_key\":\"{}\",\"share_set_id\":\"{}\",\"share_set_commitments\":\"{}\",\"secret_commitment\":\"{}\",\"shares\":{{{}}},\"signatures\":[{},{}],\"steps\":[{}],\"rotation_mix_refused\":{}}}",
        hex(&eth.public_key),
        eth.address_string(),
        hex(message),
        hex(&message_hash),
        hex(&ecdsa.signature),
        ecdsa.recovery_id,
        hex(&ed.public_key),
        hex(w.info.public.set_id().as_bytes()),
        hex(&w.info.public.to_bytes()),
        hex(c0.as_slice()),
        shares_json.join(","),
        ecdsa_json,
        ed_json,
        steps.join(","),
        mix_refused
    ))
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(json) => {
            if args.json {
                println!("{json}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
