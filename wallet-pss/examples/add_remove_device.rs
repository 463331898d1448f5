//! A FROST(Ed25519) 2-of-3 wallet key created by DKG, then: add a fourth device, remove the
//! first, raise the threshold to 3-of-3, and sign — the public key (the address) never changes.
//! Every step runs the real machines through the deterministic simulator.
//!
//! ```text
//! cargo run --release -p wallet-pss --example add_remove_device -- [--seed S] [--message-hex HEX] [--json]
//! ```
//! With `--json`, one JSON object goes to stdout (fields per `docs/example-output.md`,
//! `"steps"` plus the signature fields); the human report goes to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_pss::frost::{from_key_share, to_key_share};
use wallet_pss::{KeyShare, Reshare, ReshareConfig, ReshareOutput};
use wallet_tss::frost::dkg::DkgParty;
use wallet_tss::frost::{KeyPackage, aggregate, round1, round2};
use wallet_types::sim::Simulator;
use wallet_types::{Ed25519, Parties, PartyId, SessionId};

struct Step {
    name: String,
    public_key: String,
    threshold: usize,
    parties: Vec<u16>,
    epoch: u64,
    messages: usize,
    bytes: usize,
    millis: f64,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("odd hex length".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or(""), 16).map_err(|e| e.to_string()))
        .collect()
}

fn record(
    steps: &mut Vec<Step>,
    name: &str,
    keys: &[KeyShare<Ed25519>],
    messages: usize,
    bytes: usize,
    t0: Instant,
) -> Result<(), String> {
    let first = keys.first().ok_or("no keys")?;
    let pk = first.public_key();
    if keys.iter().any(|k| k.public_key() != pk) {
        return Err(format!("{name}: parties disagree on the public key"));
    }
    let step = Step {
        name: name.into(),
        public_key: hex(&wallet_types::group::GroupEncoding::to_bytes(&pk)),
        threshold: first.threshold(),
        parties: first.parties().iter().map(PartyId::get).collect(),
        epoch: first.epoch(),
        messages,
        bytes,
        millis: t0.elapsed().as_secs_f64() * 1e3,
    };
    eprintln!(
        "{:<28} {}-of-{} {:?} epoch {}  pk {}…  {:>3} msgs {:>6} B {:>7.2} ms",
        step.name,
        step.threshold,
        step.parties.len(),
        step.parties,
        step.epoch,
        step.public_key.get(..16).unwrap_or(""),
        step.messages,
        step.bytes,
        step.millis
    );
    steps.push(step);
    Ok(())
}

fn reshare(
    keys: Vec<KeyShare<Ed25519>>,
    dealers: &[u16],
    new: &[u16],
    t: usize,
    seed: u64,
) -> Result<(Vec<KeyShare<Ed25519>>, usize, usize), String> {
    let first = keys.first().ok_or("no keys")?;
    let cfg = ReshareConfig {
        old_commitments: first.commitments().clone(),
        old_parties: first.parties().clone(),
        old_epoch: first.epoch(),
        dealers: Parties::from_ids(dealers).map_err(|e| e.to_string())?,
        new_parties: Parties::from_ids(new).map_err(|e| e.to_string())?,
        new_threshold: t,
        allow_threshold_one: false,
    };
    let by_id: BTreeMap<PartyId, KeyShare<Ed25519>> =
        keys.into_iter().map(|k| (k.me(), k)).collect();
    let mut sim = Simulator::new(seed);
    let session = SessionId::random(sim.rng());
    let everyone: BTreeSet<PartyId> = cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
    let n = everyone.len();
    for p in everyone {
        // The dealers' shares are only borrowed: they stay in `by_id` until the run allows
        // deleting them.
        let old = by_id.get(&p).filter(|_| cfg.dealers.contains(p));
        let machine =
            Reshare::new(session, cfg.clone(), p, old, sim.rng()).map_err(|e| e.to_string())?;
        sim.add(machine);
    }
    let out = sim.run();
    if let Some((p, e)) = out.failures.iter().next() {
        return Err(format!("{p}: {e}"));
    }
    if !out.stalled.is_empty() || out.outputs.len() != n {
        return Err(format!("reshare did not finish: stalled {:?}", out.stalled));
    }
    // Every party must be allowed to delete its old share (every new party acknowledged the
    // same transcript hash); otherwise keep the old shares.
    if let Some((p, o)) = out.outputs.iter().find(|(_, o)| !o.may_delete_old_share()) {
        return Err(format!("{p} ended unconfirmed: {o:?}; old shares kept"));
    }
    drop(by_id);
    let keys = out
        .outputs
        .into_values()
        .filter_map(ReshareOutput::into_confirmed_share)
        .collect();
    Ok((keys, out.messages_sent, out.bytes_sent))
}

fn main() -> Result<(), String> {
    let mut seed = 7u64;
    let mut json = false;
    let mut message = b"add / remove device".to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--seed" => {
                seed = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seed takes a u64")?
            }
            "--message-hex" => message = unhex(&args.next().ok_or("--message-hex takes hex")?)?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut steps = Vec::new();

    // 1. DKG 2-of-3.
    let t0 = Instant::now();
    let parties = Parties::range(3).map_err(|e| e.to_string())?;
    let mut sim = Simulator::new(seed);
    let session = SessionId::random(sim.rng());
    for p in parties.iter() {
        let party = DkgParty::<Ed25519>::new(session, p, parties.clone(), 2, sim.rng())
            .map_err(|e| e.to_string())?;
        sim.add(party);
    }
    let out = sim.run();
    if let Some((p, e)) = out.failures.iter().next() {
        return Err(format!("DKG {p}: {e}"));
    }
    if let Some((p, _)) = out.outputs.iter().find(|(_, o)| !o.is_confirmed()) {
        return Err(format!("DKG {p}: not acknowledged by every party"));
    }
    let keys: Vec<KeyShare<Ed25519>> = out
        .outputs
        .values()
        .map(|k| to_key_share(k.result(), 0))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    record(
        &mut steps,
        "dkg 2-of-3",
        &keys,
        out.messages_sent,
        out.bytes_sent,
        t0,
    )?;
    let original = steps
        .first()
        .map(|s| s.public_key.clone())
        .unwrap_or_default();

    // 2. Add device 4 (dealers 1, 2).
    let t0 = Instant::now();
    let (keys, m, b) = reshare(keys, &[1, 2], &[1, 2, 3, 4], 2, seed + 1)?;
    record(&mut steps, "add device 4", &keys, m, b, t0)?;
    // 3. Remove device 1 (dealers 1, 3: the leaving device may still deal).
    let t0 = Instant::now();
    let (keys, m, b) = reshare(keys, &[1, 3], &[2, 3, 4], 2, seed + 2)?;
    record(&mut steps, "remove device 1", &keys, m, b, t0)?;
    // 4. Raise the threshold to 3-of-3.
    let t0 = Instant::now();
    let (keys, m, b) = reshare(keys, &[2, 4], &[2, 3, 4], 3, seed + 3)?;
    record(&mut steps, "raise to 3-of-3", &keys, m, b, t0)?;

    // 5. Sign with all three (offline nonces, online shares, aggregate with verification).
    let t0 = Instant::now();
    let kps: Vec<KeyPackage<Ed25519>> = keys
        .iter()
        .map(from_key_share)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for k in &kps {
        let (mut n, c) = round1::preprocess(k, 1, &mut rng);
        nonces.insert(k.id(), n.pop().ok_or("no nonce")?);
        commitments.insert(k.id(), *c.first().ok_or("no commitment")?);
    }
    let package =
        round2::SigningPackage::new(commitments, message.clone()).map_err(|e| e.to_string())?;
    let mut shares = BTreeMap::new();
    for k in &kps {
        let n = nonces.remove(&k.id()).ok_or("nonce")?;
        shares.insert(
            k.id(),
            round2::sign(&package, n, k).map_err(|e| e.to_string())?,
        );
    }
    let first = kps.first().ok_or("no signer")?;
    let sig = aggregate::aggregate(&package, &shares, first.public()).map_err(|e| e.to_string())?;
    let pk_bytes: [u8; 32] = first.public().group_key_bytes();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk_bytes).map_err(|e| e.to_string())?;
    vk.verify_strict(&message, &sig.to_dalek())
        .map_err(|e| e.to_string())?;
    if hex(&pk_bytes) != original {
        return Err("public key changed".into());
    }
    eprintln!(
        "{:<28} signers {:?}, verified with ed25519-dalek verify_strict ({:.2} ms)",
        "sign 3-of-3",
        kps.iter().map(|k| k.id().get()).collect::<Vec<_>>(),
        t0.elapsed().as_secs_f64() * 1e3
    );

    if json {
        let steps_json: Vec<String> = steps
            .iter()
            .map(|s| {
                format!(
                    "{{\"name\":\"{}\",\"public_key\":\"{}\",\"threshold\":{},\"parties\":{:?},\"epoch\":{},\"messages\":{},\"bytes\":{},\"millis\":{:.3}}}",
                    s.name, s.public_key, s.threshold, s.parties, s.epoch, s.messages, s.bytes, s.millis
                )
            })
            .collect();
        println!(
            "{{\"curve\":\"ed25519\",\"steps\":[{}],\"public_key\":\"{}\",\"message\":\"{}\",\"signature\":\"{}\",\"signers\":{:?}}}",
            steps_json.join(","),
            hex(&pk_bytes),
            hex(&message),
            hex(&sig.to_array()),
            kps.iter().map(|k| k.id().get()).collect::<Vec<_>>()
        );
    }
    eprintln!("ok: the public key is the same after every step");
    Ok(())
}
