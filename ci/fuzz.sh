#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time (FUZZ_SECONDS, default 15).
# With a nightly toolchain: coverage-guided runs through cargo-fuzz. Without one: a stable build
# of the same targets replays the corpus (fuzz/corpus/<target>/, not committed: seeds written
# below plus whatever earlier local runs found) and a batch of random inputs, so the targets at
# least compile and hold on known inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-15}
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^wallet-fuzz$')
# Seeds: the known-answer run of the OT layer writes every setup and multiplication object
# (valid encodings reach the deep decode paths that random bytes never do).
mkdir -p fuzz/corpus/ot_decode
OT_WRITE_CORPUS="$PWD/fuzz/corpus/ot_decode" cargo test -q -p wallet-tss --test ot_vectors >/dev/null
if cargo +nightly --version >/dev/null 2>&1; then
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
  fi
  cargo +nightly fuzz build --fuzz-dir fuzz
  for t in $targets; do
    mkdir -p "fuzz/corpus/$t"
    echo "-- $t (${secs}s)"
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 2>&1 | tail -n 3
  done
else
  echo "no nightly toolchain: stable build + corpus replay"
  cargo build --release --manifest-path fuzz/Cargo.toml
  for t in $targets; do
    mkdir -p "fuzz/corpus/$t"
    "fuzz/target/release/$t" -runs=2000 "fuzz/corpus/$t" 2>&1 | tail -n 2
  done
fi
