//! The project's main command: every wallet architecture end to end, with timings, message
//! counts and bytes on the wire.
//!
//! ```text
//! cargo run --release --example wallet_lifecycle -- [--seed S] [--json]
//! ```
//! The human report goes to stderr; with `--json` one JSON object goes to stdout
//! (`"steps"` and `"signatures"`, fields per the example output contract, `docs/example-output.md`).

use std::process::ExitCode;

use wallet_lifecycle::{Report, run_all};

fn json_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect()
}

fn to_json(r: &Report, seed: u64) -> String {
    let steps: Vec<String> = r
        .steps
        .iter()
        .map(|s| {
            let key = match (&s.public_key, s.key) {
                (Some(pk), Some(k)) => format!(",\"key\":\"{k}\",\"public_key\":\"{pk}\""),
                _ => String::new(),
            };
            format!(
                "{{\"flow\":\"{}\",\"name\":\"{}\",\"ok\":true,\"millis\":{:.3},\"messages\":{},\"bytes\":{}{key},\"detail\":\"{}\"}}",
                s.flow,
                json_escape(&s.name),
                s.millis,
                s.messages,
                s.bytes,
                json_escape(&s.detail)
            )
        })
        .collect();
    let sigs: Vec<String> = r
        .signatures
        .iter()
        .map(|s| {
            let mut o = format!(
                "{{\"flow\":\"{}\",\"curve\":\"{}\",\"public_key\":\"{}\"",
                s.flow, s.curve, s.public_key
            );
            if let Some(a) = &s.address {
                o.push_str(&format!(",\"address\":\"{a}\""));
            }
            match s.recovery_id {
                Some(v) => o.push_str(&format!(
                    ",\"message_hash\":\"{}\",\"signature\":\"{}\",\"recovery_id\":{v}}}",
                    s.message, s.signature
                )),
                None => o.push_str(&format!(
                    ",\"message\":\"{}\",\"signature\":\"{}\"}}",
                    s.message, s.signature
                )),
            }
            o
        })
        .collect();
    format!(
        "{{\"seed\":{seed},\"steps\":[{}],\"signatures\":[{}]}}",
        steps.join(","),
        sigs.join(",")
    )
}

fn main() -> ExitCode {
    let mut seed = 2026u64;
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--seed" => match args.next().and_then(|v| v.parse().ok()) {
                Some(s) => seed = s,
                None => {
                    eprintln!("--seed takes a u64");
                    return ExitCode::FAILURE;
                }
            },
            other => {
                eprintln!("unknown argument {other} (use --seed S, --json)");
                return ExitCode::FAILURE;
            }
        }
    }
    let started = std::time::Instant::now();
    let report = match run_all(seed) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "wallet lifecycle (seed {seed}) — every step verified; signatures checked with k256 / ed25519-dalek\n"
    );
    eprintln!(
        "{:<12} {:<70} {:>4} {:>9} {:>5} {:>7}",
        "flow", "step", "ok", "ms", "msgs", "bytes"
    );
    for s in &report.steps {
        eprintln!(
            "{:<12} {:<70} {:>4} {:>9.2} {:>5} {:>7}",
            s.flow, s.name, "ok", s.millis, s.messages, s.bytes
        );
        eprintln!("{:<12}   └ {}", "", s.detail);
    }
    eprintln!("\n{} signatures:", report.signatures.len());
    for s in &report.signatures {
        eprintln!(
            "  {:<12} {:<9} key {}…  sig {}…{}",
            s.flow,
            s.curve,
            s.public_key.get(..16).unwrap_or(""),
            s.signature.get(..16).unwrap_or(""),
            s.address
                .as_ref()
                .map(|a| format!("  {a}"))
                .unwrap_or_default()
        );
    }
    eprintln!(
        "\nall {} steps ok in {:.2} s",
        report.steps.len(),
        started.elapsed().as_secs_f64()
    );
    if json {
        println!("{}", to_json(&report, seed));
    }
    ExitCode::SUCCESS
}
