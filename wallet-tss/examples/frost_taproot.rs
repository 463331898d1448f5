//! Threshold Bitcoin Taproot signatures: FROST(secp256k1) in its BIP-340 mode
//! (`wallet_tss::frost::taproot`). A `t`-of-`n` key made by the DKG machines, nonces
//! preprocessed into a one-time store, then one BIP-340 signature by `t` signers under the
//! BIP-341 output key (tweaked with the merkle root if given, else BIP-86's key-path-only
//! tweak), optionally of a BIP-32 child (`--path m/0/5`). Every signature is checked with
//! libsecp256k1's `verify_schnorr` (the `secp256k1` crate) and the output key against
//! rust-bitcoin's `tap_tweak`; the address is rust-bitcoin's bech32m P2TR (mainnet).
//!
//! ```text
//! cargo run --release -p wallet-tss --example frost_taproot -- \
//!     --threshold 2 --parties 3 --message-hex <32 bytes> [--merkle-root <32 bytes hex>] \
//!     [--path m/0/1] [--signers 1,3] [--seed S] [--json]
//! ```
//! With `--json` one JSON object goes to stdout (DESIGN.md's example output contract for a
//! BIP-340 / Taproot signature: `curve`, `scheme`, `public_key` = the x-only output key,
//! `internal_key`, `merkle_root` (hex or null), `message`, `signature`, `address`); the human
//! report goes to stderr. The signing package and the shares move encoded, as a transport
//! would carry them. Without `--seed` the run is seeded from the clock (printed, to
//! reproduce): demo randomness, not for real keys.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use bitcoin::hashes::Hash;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use wallet_tss::ecdsa::DerivationPath;
use wallet_tss::frost::dkg::DkgParty;
use wallet_tss::frost::taproot::{self, TapTweak, TaprootKey, TaprootSigningPackage, TaprootSpend};
use wallet_tss::frost::{KeyPackage, SignatureShare, round1};
use wallet_types::{
    Envelope, MemoryOneTimeStore, Parties, PartyId, Protocol, Recipient, Secp256k1, SessionId,
    Step, WireObject,
};

struct Args {
    threshold: u16,
    parties: u16,
    message: Vec<u8>,
    merkle_root: Option<[u8; 32]>,
    path: DerivationPath,
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

fn unhex32(s: &str, name: &str) -> Result<[u8; 32], String> {
    unhex(s)?
        .try_into()
        .map_err(|_| format!("{name} takes 32 bytes of hex"))
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        threshold: 2,
        parties: 3,
        message: vec![0x5a; 32],
        merkle_root: None,
        path: DerivationPath::root(),
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
            "--message-hex" => {
                a.message = unhex32(&value("--message-hex")?, "--message-hex")?.to_vec()
            }
            "--merkle-root" => {
                a.merkle_root = Some(unhex32(&value("--merkle-root")?, "--merkle-root")?)
            }
            "--path" => {
                a.path = DerivationPath::parse(&value("--path")?)
                    .map_err(|e| format!("--path: {e} (non-hardened m/i/j… only)"))?
            }
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

/// Runs the DKG machines to completion, moving every message encoded (as a transport would).
fn run<P: Protocol>(
    machines: &mut BTreeMap<PartyId, P>,
    rng: &mut ChaCha20Rng,
) -> Result<BTreeMap<PartyId, P::Output>, String> {
    let mut queue: VecDeque<Envelope<Vec<u8>>> = VecDeque::new();
    let mut outputs = BTreeMap::new();
    let push = |out: Vec<Envelope<P::Message>>, q: &mut VecDeque<_>| {
        for env in out {
            q.push_back(env.map(|m| WireObject::to_bytes(&m)));
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
            let payload =
                <P::Message as WireObject>::from_bytes(&env.payload).map_err(|e| e.to_string())?;
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
    Ok(outputs)
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

    // 1. DKG: an ordinary FROST(secp256k1) key.
    let t0 = Instant::now();
    let sid = SessionId::random(&mut rng);
    let mut dkg: BTreeMap<PartyId, DkgParty<Secp256k1>> = BTreeMap::new();
    for p in parties.iter() {
        dkg.insert(
            p,
            DkgParty::new(sid, p, parties.clone(), t, &mut rng).map_err(|e| e.to_string())?,
        );
    }
    let keys: BTreeMap<PartyId, KeyPackage<Secp256k1>> = run(&mut dkg, &mut rng)?
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
    eprintln!(
        "DKG {t}-of-{}: group key {} ({:.1} ms; seed {seed})",
        args.parties,
        hex(&public.group_key_bytes()),
        t0.elapsed().as_secs_f64() * 1e3
    );

    // 2. The spend: path and BIP-341 tweak; every party computes the same key.
    let chain_code = taproot::default_chain_code(&public);
    let spend = TaprootSpend::new(
        args.path.clone(),
        TapTweak::from_merkle_root(args.merkle_root),
    );
    let key = TaprootKey::new(&public, &chain_code, &spend).map_err(|e| e.to_string())?;

    // rust-bitcoin computes the output key and the address from the internal key alone.
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    let internal = bitcoin::key::UntweakedPublicKey::from_slice(&key.internal_key())
        .map_err(|e| e.to_string())?;
    let root = args
        .merkle_root
        .map(bitcoin::taproot::TapNodeHash::from_byte_array);
    let address = bitcoin::Address::p2tr(&secp, internal, root, bitcoin::Network::Bitcoin);
    let (tweaked, _) = bitcoin::key::TapTweak::tap_tweak(internal, &secp, root);
    if tweaked.to_x_only_public_key().serialize() != key.output_key() {
        return Err("output key differs from rust-bitcoin's tap_tweak".into());
    }

    // 3. Signers (given, or t at random) preprocess nonces offline into the one-time store.
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
    let store = MemoryOneTimeStore::new();
    let mut commitments = BTreeMap::new();
    for p in signers.iter() {
        let k = keys.get(&p).ok_or(format!("{p} is not a party"))?;
        let published =
            round1::preprocess_into(&store, k, 4, &mut rng).map_err(|e| e.to_string())?;
        commitments.insert(p, *published.first().ok_or("no nonce")?);
    }

    // 4. Online: package (encoded) → each signer → shares (encoded) → coordinator.
    let t1 = Instant::now();
    let package = TaprootSigningPackage::new(spend, commitments, args.message.clone())
        .map_err(|e| format!("{e:?}"))?;
    let wire = package.to_bytes();
    let mut shares = BTreeMap::new();
    for p in signers.iter() {
        let k = keys.get(&p).ok_or("key")?;
        let received = TaprootSigningPackage::from_bytes(&wire).map_err(|e| e.to_string())?;
        if received.message() != args.message.as_slice() {
            return Err("unexpected message".into());
        }
        let z = taproot::sign_with_store(&received, &store, k, &chain_code)
            .map_err(|e| e.to_string())?;
        let z =
            SignatureShare::<Secp256k1>::from_bytes(&z.to_bytes()).map_err(|e| e.to_string())?;
        shares.insert(p, z);
    }
    let sig = taproot::aggregate(&package, &shares, &key).map_err(|e| e.to_string())?;
    let elapsed = t1.elapsed();
    let sig_bytes = sig.to_bytes();

    // 5. libsecp256k1 checks the BIP-340 signature under the output key.
    let secp_pk =
        secp256k1::XOnlyPublicKey::from_slice(&key.output_key()).map_err(|e| e.to_string())?;
    let secp_sig =
        secp256k1::schnorr::Signature::from_slice(&sig_bytes).map_err(|e| e.to_string())?;
    let msg32: [u8; 32] = args
        .message
        .as_slice()
        .try_into()
        .map_err(|_| "message must be 32 bytes")?;
    secp256k1::Secp256k1::verification_only()
        .verify_schnorr(&secp_sig, &secp256k1::Message::from_digest(msg32), &secp_pk)
        .map_err(|e| format!("libsecp256k1 verify_schnorr: {e}"))?;

    let ids: Vec<u16> = signers.iter().map(|p| p.get()).collect();
    eprintln!(
        "path {}: internal key {}{}, output key {} (parity {}), address {address}",
        args.path,
        hex(&key.internal_key()),
        if key.internal_key_was_odd() {
            " (derived key had odd y: shares negated)"
        } else {
            ""
        },
        hex(&key.output_key()),
        u8::from(key.output_key_parity()),
    );
    eprintln!(
        "signers {ids:?}: BIP-340 signature {} ({:.1} ms); libsecp256k1 verify_schnorr: ok",
        hex(&sig_bytes),
        elapsed.as_secs_f64() * 1e3
    );

    if args.json {
        let merkle_root = args
            .merkle_root
            .map_or("null".to_string(), |r| format!("\"{}\"", hex(&r)));
        println!(
            "{{\"curve\":\"secp256k1\",\"scheme\":\"bip340\",\"public_key\":\"{}\",\"internal_key\":\"{}\",\"merkle_root\":{},\"message\":\"{}\",\"signature\":\"{}\",\"address\":\"{}\",\"path\":\"{}\",\"output_key_parity\":{},\"signers\":[{}],\"threshold\":{},\"parties\":{}}}",
            hex(&key.output_key()),
            hex(&key.internal_key()),
            merkle_root,
            hex(&args.message),
            hex(&sig_bytes),
            address,
            args.path,
            u8::from(key.output_key_parity()),
            ids.iter().map(u16::to_string).collect::<Vec<_>>().join(","),
            t,
            args.parties
        );
    }
    Ok(())
}
