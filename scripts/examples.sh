#!/usr/bin/env bash
# Builds and runs the partner examples (examples/python, examples/node, examples/java) against one
# simulator on free ports (manual clock, strict acknowledgements: examples/sim.toml, and an admin
# token the examples send on /__sim/ only, from WHALET_SIM_ADMIN_TOKEN). Exits
# non-zero when any example fails. Needs python3 (scripts/setup-python.sh makes the venv), node
# 20+, a JDK 17 and Debian's junit5 package. WHALET_SIM_BIN picks the binary (default: in a
# source tree target/debug/whalet-sim, built when missing; in an unpacked release archive, its
# ./whalet-sim).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -f Cargo.toml ]; then
    bin=${WHALET_SIM_BIN:-target/debug/whalet-sim}
    [ -x "$bin" ] || cargo build --bin whalet-sim
else
    bin=${WHALET_SIM_BIN:-./whalet-sim}
fi
py=$(scripts/setup-python.sh)
free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sim_port=$(free_port)
notify_port=$(free_port)
log=$(mktemp)
# An admin token, as docs/CI.md recommends on a shared network: each example sends it on its
# /__sim/ requests (read from WHALET_SIM_ADMIN_TOKEN, as the CLI does), and on no other.
WHALET_SIM_ADMIN_TOKEN=$("$py" -c 'import secrets; print(secrets.token_hex(16))')
export WHALET_SIM_ADMIN_TOKEN
"$bin" serve --addr "127.0.0.1:$sim_port" --manual-clock --sftp-addr off --config examples/sim.toml \
  --notify-url "http://127.0.0.1:$notify_port/notify" 2>"$log" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; rm -f "$log"' EXIT
export SIM_URL="http://127.0.0.1:$sim_port" NOTIFY_PORT="$notify_port" KEYS_DIR="$PWD/keys"
for _ in $(seq 100); do
  curl -fsS "$SIM_URL/__sim/health" >/dev/null 2>&1 && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$log" >&2; echo "examples: the simulator did not start" >&2; exit 1; }
  sleep 0.1
done
echo "examples: simulator on $SIM_URL (with an admin token), notifications to 127.0.0.1:$notify_port"

failed=()
run() {
  local name=$1; shift
  echo "===== example: $name"
  local t=$SECONDS
  if "$@"; then echo "----- $name: OK ($((SECONDS - t))s)"; else echo "----- $name: FAILED" >&2; failed+=("$name"); fi
}
run python "$py" examples/python/flow.py
run node node examples/node/flow.mjs
run java examples/java/run.sh

# Every example's money movements must leave the ledger balanced.
inv=$(curl -fsS -H "Authorization: Bearer $WHALET_SIM_ADMIN_TOKEN" "$SIM_URL/__sim/invariants")
echo "$inv" | grep -q '"ok":true' || { echo "examples: ledger invariants broken: $inv" >&2; failed+=(invariants); }
if [ "${#failed[@]}" -gt 0 ]; then
  echo "examples FAILED: ${failed[*]} (simulator log follows)" >&2
  tail -n 50 "$log" >&2
  exit 1
fi
echo "examples: all passed (python, node, java)"
