#!/usr/bin/env bash
# The real-browser test of wallet-wasm: builds the wasm package, serves it with the native
# ECDSA server (browser_peer) on 127.0.0.1, drives Debian's chromium headless with a WebAuthn
# virtual authenticator (driver.mjs), verifies every signature natively and prints
# "N passed, M failed" last. Needs: the wasm32-unknown-unknown target, wasm-bindgen-cli at the
# version of the wasm-bindgen crate in Cargo.lock, node + npm, /usr/bin/chromium (or $CHROMIUM).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

passed=0; failed=0
result() { if [ "$1" = ok ]; then passed=$((passed+1)); else failed=$((failed+1)); fi; }
finish() {
  echo "$passed passed, $failed failed"
  if [ "$failed" -eq 0 ]; then exit 0; else exit 1; fi
}

for tool in wasm-bindgen node npm; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool not found"; failed=1; finish; }
done
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "FAIL chromium not found"; failed=1; finish; }

# The package: cargo build for wasm32 + wasm-bindgen (--target web). For speed experiments,
# WASM_RUSTFLAGS (e.g. "-C target-feature=+simd128") applies to the wasm build only, in
# WASM_TARGET_DIR if given, and WASM_CARGO_ARGS (e.g. --config 'profile.wasm-release.lto=false')
# are added to that build.
wasm_target="${WASM_TARGET_DIR:-$target}"
read -r -a wasm_args <<< "${WASM_CARGO_ARGS:-}"
if [ -n "${WASM_RUSTFLAGS:-}${WASM_CARGO_ARGS:-}" ]; then
  echo "wasm build with RUSTFLAGS='${WASM_RUSTFLAGS:-}' ${WASM_CARGO_ARGS:-}"
fi
if [ -n "${WASM_RUSTFLAGS:-}" ]; then export RUSTFLAGS="$WASM_RUSTFLAGS"; fi
CARGO_TARGET_DIR="$wasm_target" cargo build --profile wasm-release --quiet --target wasm32-unknown-unknown \
  -p wallet-wasm "${wasm_args[@]}"
unset RUSTFLAGS
mkdir -p "$work/www/pkg"
wasm-bindgen --target web --out-dir "$work/www/pkg" "$wasm_target/wasm32-unknown-unknown/wasm-release/wallet_wasm.wasm"
cp "$here/index.html" "$here/app.js" "$work/www/"
echo "wasm package: $(stat -c %s "$work/www/pkg/wallet_wasm_bg.wasm") bytes ($(gzip -9c "$work/www/pkg/wallet_wasm_bg.wasm" | wc -c) gzipped)"

cargo build --release --quiet -p wallet-wasm --example browser_peer
peer="$target/release/examples/browser_peer"
(cd "$here" && npm ci --no-audit --no-fund --silent)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$peer" serve --root "$work/www" --state "$work/server" --port "$port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

set +e
node "$here/driver.mjs" "http://localhost:$port/" "$work/sigs.txt" "$work/bench.txt" | tee "$work/driver.out"
set -e
passed=$((passed + $(grep -c '^ok ' "$work/driver.out" || true)))
failed=$((failed + $(grep -c '^FAIL' "$work/driver.out" || true)))
grep -q '^driver: ' "$work/driver.out" || { echo "FAIL the driver did not finish"; result fail; }
if [ -s "$work/server/server.state" ]; then
  echo "ok   the server's party state is on disk ($(stat -c %s "$work/server/server.state") bytes, sealed)"; result ok
else
  echo "FAIL no server state on disk"; result fail
fi

# The OPRF server's records are sealed files (one per record); its master seed is in no output.
records=$(find "$work/server/oprf" -name '*.rec' 2>/dev/null | wc -l)
if [ "$records" -ge 2 ]; then
  echo "ok   the OPRF server's records are on disk ($records sealed record files)"; result ok
else
  echo "FAIL OPRF records on disk: $records"; result fail
fi
# The records are durable: a new peer process on the same state directory reads the enrolled
# record back with its counter as the browser left it (reset to the limit, 10).
record=$(grep -o '"record":"[0-9a-f]\{64\}"' "$work/driver.out" | head -n 1 | cut -d'"' -f4)
kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$peer" serve --root "$work/www" --state "$work/server" --port "$port" 2>>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
left=$(python3 - "$port" "${record:-00}" <<'EOF' 2>&1 || true
import struct, sys, urllib.request
port, rec = sys.argv[1], bytes.fromhex(sys.argv[2])
req = urllib.request.Request(f"http://127.0.0.1:{port}/oprf/attempts", data=struct.pack(">I", len(rec)) + rec, method="POST")
body = urllib.request.urlopen(req, timeout=10).read()
print(struct.unpack(">I", body[4:8])[0])
EOF
)
if [ "$left" = 10 ]; then
  echo "ok   the OPRF record survives a restart of the peer (10 attempts left, read from disk)"; result ok
else
  echo "FAIL the OPRF record after a restart of the peer: ${left}"; result fail
fi
seed_hex=$(od -An -tx1 -v "$work/server/oprf.key" | tr -d ' \n')
if [ ${#seed_hex} -eq 64 ] && ! grep -qi "$seed_hex" "$work/server.log" "$work/driver.out"; then
  echo "ok   the OPRF master seed appears in no output"; result ok
else
  echo "FAIL the OPRF master seed file is missing or its value was printed"; result fail
fi

# Native verification of every signature the browser produced.
set +e
"$peer" verify "$work/sigs.txt" | tee "$work/verify.out"
set -e
passed=$((passed + $(grep -c '^ok ' "$work/verify.out" || true)))
failed=$((failed + $(grep -c '^FAIL' "$work/verify.out" || true)))
# 3 passkey, 1 hardened recovery answer, 1 ECDSA device + server, 2 Shamir (secp256k1,
# Ed25519), 1 FROST.
[ "$(grep -c '^ok ' "$work/verify.out" || true)" -eq 9 ] || { echo "FAIL not all 9 signatures verified natively"; result fail; }

# Speed: the same operations natively, beside the wasm figures the page measured.
if [ -s "$work/bench.txt" ]; then
  "$peer" bench > "$work/native.txt"
  cat "$work/bench.txt" "$work/native.txt"
  awk '{v[$1" "$2]=$3} END {for (k in v) { split(k, p, " "); if (p[1]=="wasm" && v["native "p[2]] > 0) printf "ratio %s %.1fx\n", p[2], v[k]/v["native "p[2]] }}' "$work/bench.txt" "$work/native.txt" | sort
fi
[ -s "$work/server.log" ] && sed 's/^/server log: /' "$work/server.log"
finish
