//! Threshold Ed25519 with FROST (RFC 9591): a `t`-of-`n` key made by DKG (the three-round
//! machine with its confirmation round), nonce preprocessing, then one signature by `t`
//! signers through the coordinator / signer machines. The signature is a plain RFC 8032 one,
//! checked with `ed25519_dalek::VerifyingKey::verify_strict`.
//!
//! ```text
//! cargo run --release -p wallet-tss --example frost_ed25519 -- \
//!     --threshold 2 --parties 3 --message-hex 68656c6c6f [--signers 1,3] [--seed S] [--json]
//! ```
//! With `--json` one JSON object goes to stdout (the example output contract, `docs/example-output.md`:
//! `curve`, `public_key`, `message`, `signature`, plus `signers`); the human report goes to
//! stderr. Messages move between the machines in memory, encoded and decoded on the way as a
//! transport would. Without `--seed` the run is seeded from the clock (printed, to reproduce):
//! demo randomness, not for real keys.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use wallet_tss::frost::dkg::DkgParty;
use wallet_tss::frost::signing::{Coordinator, Signer, SigningOutput, SigningParty};
use wallet_tss::frost::{KeyPackage, SigningPackage, round1};
use wallet_types::{
    Ed25519, Envelope, MemoryOneTimeStore, Parties, PartyId, Protocol, Recipient, SessionId, Step,
};

struct Args {
    threshold: u16,
    parties: u16,
    message: Vec<u8>,
    signers: Option<Vec<u16>>,
    seed: Option<u64>,
    json: bool,
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

fn parse() -> Result<Args, String> {
    let mut a = Args {
        threshold: 2,
        parties: 3,
        message: b"hello from a threshold key".to_vec(),
        signers: None,
        seed: None,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} takes a value"));
        match arg.as_str() {
            "--threshold" => {
                a.threshold = value("--threshold")?
                    .parse()
                    .map_err(|_| "--threshold takes a u16")?
            }
            "--parties" => {
                a.parties = value("--parties")?
                    .parse()
                    .map_err(|_| "--parties takes a u16")?
            }
            "--message-hex" => a.message = unhex(&value("--message-hex")?)?,
            "--signers" => {
                a.signers = Some(
                    value("--signers")?
                        .split(',')
                        .map(|s| {
                            s.trim()
                                .parse::<u16>()
                                .map_err(|_| "--signers takes ids like 1,3".to_string())
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            "--seed" => a.seed = Some(value("--seed")?.parse().map_err(|_| "--seed takes a u64")?),
            "--json" => a.json = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// Outputs by party, messages sent, payload bytes sent.
type RunResult<P> = (BTreeMap<PartyId, <P as Protocol>::Output>, usize, usize);

/// Runs machines to completion, moving every message encoded (as a transport would).
fn run<P: Protocol>(
    machines: &mut BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
) -> Result<RunResult<P>, String> {
    let mut queue: VecDeque<Envelope<Vec<u8>>> = VecDeque::new();
    let (mut messages, mut bytes) = (0, 0);
    let mut outputs = BTreeMap::new();
    let mut push = |out: Vec<Envelope<P::Message>>, q: &mut VecDeque<_>| {
        for env in out {
            let env = env.map(|m| wallet_types::WireObject::to_bytes(&m));
            messages += 1;
            bytes += env.payload.len();
            q.push_back(env);
        }
    };
    let ids: Vec<PartyId> = machines.keys().copied().collect();
    for p in &ids {
        let m = machines.get_mut(p).ok_or("machine")?;
        match m.start(rng).map_err(|e| format!("{p} start: {e}"))? {
            Step::Continue(out) => push(out, &mut queue),
            Step::Done(out, o) => {
                push(out, &mut queue);
                outputs.insert(*p, o);
            }
        }
    }
    while let Some(env) = queue.pop_front() {
        let to: Vec<PartyId> = match env.recipient {
            Recipient::All => ids.iter().copied().filter(|p| *p != env.sender).collect(),
            Recipient::One(p) => vec![p],
        };
        for p in to {
            let payload = <P::Message as wallet_types::WireObject>::from_bytes(&env.payload)
                .map_err(|e| e.to_string())?;
            let m = machines.get_mut(&p).ok_or("machine")?;
            match m
                .handle(env.clone().map(|_| payload), rng)
                .map_err(|e| format!("{p}: {e}"))?
            {
                Step::Continue(out) => push(out, &mut queue),
                Step::Done(out, o) => {
                    push(out, &mut queue);
                    outputs.insert(p, o);
                }
            }
        }
    }
    Ok((outputs, messages, bytes))
}

fn main() -> Result<(), String> {
    let args = parse()?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let parties = Parties::range(args.parties).map_err(|e| format!("{e:?}"))?;
    let t = usize::from(args.threshold);

    // 1. DKG.
    let t0 = Instant::now();
    let sid = SessionId::random(&mut rng);
    let mut dkg: BTreeMap<PartyId, DkgParty<Ed25519>> = BTreeMap::new();
    for p in parties.iter() {
        dkg.insert(
            p,
            DkgParty::new(sid, p, parties.clone(), t, &mut rng).map_err(|e| e.to_string())?,
        );
    }
    let (keys, dkg_msgs, dkg_bytes) = run(&mut dkg, &mut rng)?;
    // Use the key only when every party acknowledged it (an unconfirmed package is kept, not
    // used: see `wallet_types::termination`).
    let keys: BTreeMap<PartyId, KeyPackage<Ed25519>> = keys
        .into_iter()
        .map(|(p, o)| {
            o.into_confirmed()
                .map(|k| (p, k))
                .map_err(|u| format!("{p}: DKG unconfirmed, disagreeing {:?}", u.disagreeing))
        })
        .collect::<Result<_, _>>()?;
    let public = keys.values().next().ok_or("no key")?.public().clone();
    if keys.values().any(|k| *k.public() != public) {
        return Err("parties disagree on the key".into());
    }
    let pk = public.group_key_bytes();
    eprintln!(
        "DKG {t}-of-{}: group key {} ({dkg_msgs} messages, {dkg_bytes} bytes, {:.1} ms; seed {seed})",
        args.parties,
        hex(&pk),
        t0.elapsed().as_secs_f64() * 1e3
    );

    // 2. Signers (given, or t chosen at random) preprocess nonces offline.
    let signers = match &args.signers {
        Some(s) => Parties::from_ids(s).map_err(|e| format!("{e:?}"))?,
        None => {
            let mut ids: Vec<u16> = (1..=args.parties).collect();
            while ids.len() > t {
                let i = (rng.next_u32() as usize) % ids.len();
                ids.remove(i);
            }
            Parties::from_ids(&ids).map_err(|e| format!("{e:?}"))?
        }
    };
    let coordinator = PartyId::new(args.parties.saturating_add(1)).ok_or("too many parties")?;
    // Each signer's nonces are sealed into its one-time store (one in-memory store serves all
    // here: scopes are per key share); the machines hold only their public ids.
    let store = MemoryOneTimeStore::new();
    let mut commitments = BTreeMap::new();
    let mut machines: BTreeMap<PartyId, SigningParty<Ed25519, &MemoryOneTimeStore>> =
        BTreeMap::new();
    for p in signers.iter() {
        let key = keys
            .get(&p)
            .ok_or(format!("{p} is not a party"))?
            .duplicate();
        let published =
            round1::preprocess_into(&store, &key, 4, &mut rng).map_err(|e| e.to_string())?;
        let first = *published.first().ok_or("no nonce")?;
        commitments.insert(p, first);
        let signer = Signer::new(
            &store,
            sid.derive(b"sign"),
            key,
            coordinator,
            signers.clone(),
            published.iter().map(|c| c.id()),
        )
        .map_err(|e| e.to_string())?
        .expect_message(args.message.clone());
        machines.insert(p, SigningParty::Signer(signer));
    }

    // 3. Online: coordinator → signers → coordinator.
    let t1 = Instant::now();
    let package =
        SigningPackage::new(commitments, args.message.clone()).map_err(|e| format!("{e:?}"))?;
    let coord = Coordinator::new(sid.derive(b"sign"), coordinator, public.clone(), package)
        .map_err(|e| e.to_string())?;
    machines.insert(coordinator, SigningParty::Coordinator(coord));
    let (outputs, sign_msgs, sign_bytes) = run(&mut machines, &mut rng)?;
    let Some(SigningOutput::Coordinator(sig)) = outputs.get(&coordinator) else {
        return Err("no signature".into());
    };
    let sig_bytes = sig.to_array();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).map_err(|e| e.to_string())?;
    vk.verify_strict(&args.message, &sig.to_dalek())
        .map_err(|e| e.to_string())?;
    let ids: Vec<u16> = signers.iter().map(|p| p.get()).collect();
    eprintln!(
        "signers {ids:?}: signature {} ({sign_msgs} messages, {sign_bytes} bytes, {:.1} ms); verify_strict: ok",
        hex(&sig_bytes),
        t1.elapsed().as_secs_f64() * 1e3
    );

    if args.json {
        println!(
            "{{\"curve\":\"ed25519\",\"public_key\":\"{}\",\"message\":\"{}\",\"signature\":\"{}\",\"signers\":[{}],\"threshold\":{},\"parties\":{}}}",
            hex(&pk),
            hex(&args.message),
            hex(&sig_bytes),
            ids.iter().map(u16::to_string).collect::<Vec<_>>().join(","),
            t,
            args.parties
        );
    }
    Ok(())
}
