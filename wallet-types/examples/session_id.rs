//! Agree on a fresh session id among n parties, through the deterministic simulator, once on a
//! clean network and once under faults, printing what happens.
//!
//! ```text
//! cargo run --release -p wallet-types --features test-utils --example session_id -- [--parties N] [--seed S] [--json]
//! ```
//!
//! With `--json` one JSON object goes to stdout and the human report to stderr.

use std::io::Write;

use wallet_types::session_id::{SessionIdAgreement, SessionIdMessage};
use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
use wallet_types::{Parties, PartyId, SessionId};

struct Args {
    parties: u16,
    seed: u64,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        parties: 3,
        seed: 2026,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => a.json = true,
            "--parties" => {
                a.parties = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| (2..=64).contains(n))
                    .ok_or("--parties takes a number from 2 to 64")?;
            }
            "--seed" => {
                a.seed = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seed takes a u64")?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run(
    label: &str,
    seed: u64,
    parties: &Parties,
    setup: impl FnOnce(&mut Simulator<SessionIdAgreement>),
) -> Result<Outcome<SessionId>, String> {
    let mut sim = Simulator::new(seed);
    for p in parties.iter() {
        let m = SessionIdAgreement::new(SessionId([0x11; 32]), p, parties.clone(), sim.rng())
            .map_err(|e| e.to_string())?;
        sim.add(m);
    }
    setup(&mut sim);
    let out = sim.run();
    eprintln!(
        "{label:<44} finished: {:>2}  failed: {:>2}  rejected: {:>2}  messages: {:>3}  bytes: {:>5}",
        out.outputs.len(),
        out.failures.len(),
        out.rejections.len(),
        out.messages_sent,
        out.bytes_sent
    );
    for (p, e) in &out.failures {
        eprintln!("    {p} aborted: {e}");
    }
    Ok(out)
}

fn main() -> Result<(), String> {
    let args = parse_args()?;
    let parties = Parties::range(args.parties).map_err(|e| format!("{e:?}"))?;
    let p1 = PartyId::new(1).ok_or("id")?;
    let p2 = PartyId::new(2).ok_or("id")?;

    eprintln!(
        "session-id agreement among {} parties (seed {})",
        args.parties, args.seed
    );
    let clean = run("clean network", args.seed, &parties, |_| {})?;
    let ids: Vec<SessionId> = clean.outputs.values().copied().collect();
    let agreed = ids.first().copied().ok_or("no output")?;
    if ids.iter().any(|s| *s != agreed) || ids.len() != usize::from(args.parties) {
        return Err("parties disagree".into());
    }
    eprintln!(
        "    every party holds session id {}",
        hex(agreed.as_bytes())
    );

    let faulty = run(
        "duplicates, reordering, crash + restore",
        args.seed,
        &parties,
        |sim| {
            sim.reorder(true).crash_after(p1, 2);
            sim.rule(FaultRule::any(Fault::Duplicate).times(5));
        },
    )?;
    let faulty_ok = faulty.all_done(usize::from(args.parties));

    let cheat = run(
        "P2 reveals a nonce it did not commit to",
        args.seed,
        &parties,
        |sim| {
            sim.rule(
                FaultRule::any(Fault::tamper_payload(|m: &mut SessionIdMessage| {
                    if let SessionIdMessage::Reveal(r) = m {
                        r[0] ^= 1;
                    }
                }))
                .from(p2)
                .round(2)
                .times(usize::MAX),
            );
        },
    )?;
    let blamed: Vec<u16> = cheat
        .failures
        .values()
        .flat_map(|e| e.culprits().iter().map(|p| p.get()))
        .collect();
    let cheat_caught = !blamed.is_empty() && blamed.iter().all(|p| *p == 2);

    if args.json {
        let json = format!(
            "{{\"parties\":{},\"seed\":{},\"session_id\":\"{}\",\"messages\":{},\"bytes\":{},\"faulty_run_ok\":{},\"cheater_blamed\":{:?}}}",
            args.parties,
            args.seed,
            hex(agreed.as_bytes()),
            clean.messages_sent,
            clean.bytes_sent,
            faulty_ok,
            blamed
        );
        let mut out = std::io::stdout();
        writeln!(out, "{json}").map_err(|e| e.to_string())?;
    }
    if !faulty_ok || !cheat_caught {
        return Err("unexpected outcome".into());
    }
    eprintln!("ok");
    Ok(())
}
