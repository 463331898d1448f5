//! Threshold ECDSA (DKLs23) end to end: key generation of a `--threshold`-of-`--parties` key
//! (default 2-of-2: device and server; 2-of-3 adds a backup), presigning among the first
//! `threshold` parties (device, server, further cosigners; two signers use the two-party
//! presign, more the `t`-party one), the **server's policy gate** on the message hash,
//! one-message signing, and a check of the result.
//!
//! ```text
//! cargo run --release -p wallet-tss --example ecdsa_2p -- [--threshold 3] --parties 5 \
//!     --message-hex 4f3c...32 bytes... [--path m/0/1] [--seed 7] [--json]
//! ```
//!
//! With `--json` one JSON object goes to stdout (the example output contract, `docs/example-output.md`); human
//! text goes to stderr. Messages move between the machines as encoded bytes, as they would over
//! a network.
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeMap, VecDeque};
use std::process::ExitCode;

use k256::ecdsa::VerifyingKey;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha3::{Digest, Keccak256};
use wallet_tss::ecdsa::{
    DerivationPath, Keygen, MemoryKeyStore, MultiPresign, Presign, PresignatureInfo, combine_all,
    partial_sign,
};
use wallet_types::{Envelope, Parties, PartyId, Protocol, Recipient, SessionId, Step};

const DEVICE: u16 = 1;
const SERVER: u16 = 2;

struct Args {
    threshold: u16,
    parties: u16,
    message: [u8; 32],
    path: DerivationPath,
    seed: Option<u64>,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut parties = 2;
    let mut threshold = 2;
    let mut message = None;
    let mut path = DerivationPath::root();
    let mut seed = None;
    let mut json = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--parties" => {
                parties = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| (2..=16).contains(n))
                    .ok_or("--parties needs a number from 2 to 16")?;
            }
            "--threshold" => {
                threshold = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| (2..=16).contains(n))
                    .ok_or("--threshold needs a number from 2 to 16")?;
            }
            "--message-hex" => {
                let v = args.next().ok_or("--message-hex needs a value")?;
                let bytes = hex::decode(v.trim_start_matches("0x")).map_err(|e| e.to_string())?;
                message = Some(
                    <[u8; 32]>::try_from(bytes.as_slice())
                        .map_err(|_| "the message hash must be 32 bytes")?,
                );
            }
            "--path" => {
                let v = args.next().ok_or("--path needs a value")?;
                path = DerivationPath::parse(&v).map_err(|e| format!("--path: {e}"))?;
            }
            "--seed" => {
                seed = Some(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .ok_or("--seed needs a u64")?,
                );
            }
            "--json" => json = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if threshold > parties {
        return Err(format!(
            "--threshold {threshold} is more than --parties {parties}"
        ));
    }
    Ok(Args {
        threshold,
        parties,
        message: message.unwrap_or_else(|| Keccak256::digest(b"hello from ecdsa_2p").into()),
        path,
        seed,
        json,
    })
}

/// Every party's output, and the bytes each party sent.
type Outputs<O> = (BTreeMap<PartyId, O>, BTreeMap<PartyId, usize>);

/// Runs machines to completion, moving every message as encoded bytes (what a transport does).
/// Also returns the bytes each party sent.
fn run<P: Protocol>(
    mut machines: BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
) -> Result<Outputs<P::Output>, String> {
    let mut sent: BTreeMap<PartyId, usize> = BTreeMap::new();
    let mut queue: VecDeque<(PartyId, Vec<u8>)> = VecDeque::new();
    let mut outputs = BTreeMap::new();
    let ids: Vec<PartyId> = machines.keys().copied().collect();
    let push = |queue: &mut VecDeque<(PartyId, Vec<u8>)>,
                sent: &mut BTreeMap<PartyId, usize>,
                out: Vec<Envelope<P::Message>>| {
        for env in out {
            let bytes = env.encode();
            *sent.entry(env.sender).or_default() += bytes.len();
            match env.recipient {
                Recipient::One(to) => queue.push_back((to, bytes)),
                Recipient::All => {
                    for to in ids.iter().filter(|p| **p != env.sender) {
                        queue.push_back((*to, bytes.clone()));
                    }
                }
            }
        }
    };
    for (id, m) in machines.iter_mut() {
        match m.start(rng).map_err(|e| format!("{id}: {e}"))? {
            Step::Continue(out) => push(&mut queue, &mut sent, out),
            Step::Done(out, o) => {
                push(&mut queue, &mut sent, out);
                outputs.insert(*id, o);
            }
        }
    }
    while let Some((to, bytes)) = queue.pop_front() {
        let env = Envelope::<P::Message>::decode(&bytes).map_err(|e| e.to_string())?;
        let m = machines
            .get_mut(&to)
            .ok_or("message for an unknown party")?;
        match m.handle(env, rng).map_err(|e| format!("{to}: {e}"))? {
            Step::Continue(out) => push(&mut queue, &mut sent, out),
            Step::Done(out, o) => {
                push(&mut queue, &mut sent, out);
                outputs.insert(to, o);
            }
        }
    }
    Ok((outputs, sent))
}

/// The server's policy: it sees the message hash before releasing its share. A real server
/// parses the transaction itself, checks limits and allow-lists, and hashes it itself; here it
/// refuses one known-bad hash (all zeros) to show where the decision sits.
fn server_policy(hash: &[u8; 32]) -> Result<(), String> {
    if hash == &[0u8; 32] {
        return Err("policy: refusing to sign the all-zero hash".into());
    }
    Ok(())
}

fn eth_address(vk: &VerifyingKey) -> String {
    let point = vk.to_sec1_point(false);
    let digest = Keccak256::digest(&point.as_bytes()[1..]);
    let lower = hex::encode(&digest[12..]);
    // EIP-55 checksum.
    let check = hex::encode(Keccak256::digest(lower.as_bytes()));
    let mut out = String::from("0x");
    for (c, h) in lower.chars().zip(check.chars()) {
        if c.is_ascii_alphabetic() && h.to_digit(16).unwrap_or(0) >= 8 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    let mut rng = match args.seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
            ChaCha20Rng::from_seed(seed)
        }
    };
    let parties = Parties::range(args.parties).map_err(|e| format!("{e:?}"))?;
    let pid = |n| PartyId::new(n).ok_or("bad id");
    let (device, server) = (pid(DEVICE)?, pid(SERVER)?);

    // 1. Key generation: DKG + chain code + pairwise OT setups + their confirmation (6 rounds).
    let session = SessionId::random(&mut rng);
    let mut machines = BTreeMap::new();
    for p in parties.iter() {
        machines.insert(
            p,
            Keygen::with_threshold(
                session,
                p,
                parties.clone(),
                usize::from(args.threshold),
                &mut rng,
            )
            .map_err(|e| e.to_string())?,
        );
    }
    let t = std::time::Instant::now();
    let (keys, _) = run(machines, &mut rng)?;
    eprintln!(
        "keygen: {}-of-{}, {:.1} ms",
        args.threshold,
        args.parties,
        t.elapsed().as_secs_f64() * 1e3
    );
    // Each party hands its key share to its own store once — only when every party
    // acknowledged it; from here on it is used only through the store (which owns the
    // pairings' OT setups, the bans and the presignatures).
    let stores: BTreeMap<PartyId, MemoryKeyStore> = keys
        .into_iter()
        .map(|(p, k)| {
            k.into_confirmed()
                .map(|k| (p, MemoryKeyStore::new(k)))
                .map_err(|u| format!("{p}: keygen unconfirmed, disagreeing {:?}", u.disagreeing))
        })
        .collect::<Result<_, _>>()?;
    let device_store = stores.get(&device).ok_or("no device key")?;
    let root = device_store.public_package().map_err(|e| e.to_string())?;
    let derivation = root.derive(&args.path).map_err(|e| e.to_string())?;
    // The signers: device, server and (for t > 2) the next cosigners by id.
    let signers: Vec<PartyId> = parties.iter().take(usize::from(args.threshold)).collect();
    let signer_set = Parties::new(signers.iter().copied()).map_err(|e| format!("{e:?}"))?;
    let store_of = |p: &PartyId| stores.get(p).ok_or("no key for a signer");

    // 2. Presign (offline, message-independent) among the signers, bound to the path. Each
    //    signer's secret part is sealed into its store; the output is the public part.
    let t = std::time::Instant::now();
    let session = SessionId::random(&mut rng);
    let (mut infos, sent): (BTreeMap<PartyId, PresignatureInfo>, _) = if signers.len() == 2 {
        let mut machines = BTreeMap::new();
        for (me, other) in [(device, server), (server, device)] {
            machines.insert(
                me,
                Presign::new(store_of(&me)?, other, args.path.clone(), session, &mut rng)
                    .map_err(|e| e.to_string())?,
            );
        }
        run(machines, &mut rng)?
    } else {
        let mut machines = BTreeMap::new();
        for me in &signers {
            machines.insert(
                *me,
                MultiPresign::new(
                    store_of(me)?,
                    signer_set.clone(),
                    args.path.clone(),
                    session,
                    &mut rng,
                )
                .map_err(|e| e.to_string())?,
            );
        }
        run(machines, &mut rng)?
    };
    eprintln!(
        "presign ({} signers): {:.1} ms; bytes sent per signer: {}",
        signers.len(),
        t.elapsed().as_secs_f64() * 1e3,
        sent.iter()
            .map(|(p, b)| format!("{p} {b}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let info = infos.remove(&device).ok_or("no device presignature")?;
    if infos.values().any(|i| i != &info) {
        return Err("the signers disagree on the presignature".into());
    }

    // 3. Online: the device asks the other signers to sign `message`. Each sees the hash first,
    //    and only then takes its presignature out of its store (single use).
    let t = std::time::Instant::now();
    let mut partials = Vec::with_capacity(signers.len());
    for p in &signers {
        if *p != device {
            server_policy(&args.message)?;
        }
        partials.push(partial_sign(store_of(p)?, &info, &args.message).map_err(|e| e.to_string())?);
    }
    let (sig, recid) =
        combine_all(&root, &info, &args.message, &partials).map_err(|e| e.to_string())?;
    eprintln!(
        "sign ({} partials + combine + verify): {:.2} ms",
        partials.len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    // 4. Check with k256 alone.
    let vk = info.verifying_key().map_err(|e| e.to_string())?;
    vk.verify_prehash(&args.message, &sig)
        .map_err(|e| format!("verification failed: {e}"))?;
    let recovered = VerifyingKey::recover_from_prehash(&args.message, &sig, recid)
        .map_err(|e| format!("recovery failed: {e}"))?;
    if recovered != vk {
        return Err("recovery id does not recover the key".into());
    }
    let public_key = hex::encode(wallet_tss::ecdsa::derive::compressed(
        &derivation.public_key,
    ));
    let address = eth_address(&vk);
    let signature = hex::encode(sig.to_bytes());
    eprintln!("public key {public_key} ({}), address {address}", args.path);
    if args.json {
        println!(
            "{{\"curve\":\"secp256k1\",\"threshold\":{},\"parties\":{},\"signers\":[{}],\"path\":\"{}\",\"root_public_key\":\"{}\",\"public_key\":\"{}\",\"address\":\"{}\",\"message_hash\":\"{}\",\"signature\":\"{}\",\"recovery_id\":{}}}",
            args.threshold,
            args.parties,
            signers
                .iter()
                .map(|p| p.get().to_string())
                .collect::<Vec<_>>()
                .join(","),
            args.path,
            hex::encode(wallet_tss::ecdsa::derive::compressed(&root.public_key())),
            public_key,
            address,
            hex::encode(args.message),
            signature,
            recid.to_byte(),
        );
    } else {
        println!("signature {signature} recovery id {}", recid.to_byte());
    }
    Ok(())
}
