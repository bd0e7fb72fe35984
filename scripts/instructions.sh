#!/usr/bin/env bash
# Counts the instructions a server spends per Whalet envelope request, inside and outside the
# crypto: a figure the machine's speed does not move (docs/PERFORMANCE.md, "Cuts of 2026-12-07").
#
#   scripts/instructions.sh [--build openssl|default] [--requests N | --notifications N]
#
# Builds the release binary (target/release; WHALET_SIM_BIN=PATH measures that binary instead),
# runs `serve` under valgrind's callgrind twice, once answering nothing and once answering N
# (default 400) distinct `connectivity` requests from 8 keep-alive connections (sealed by the
# independent Python implementation, scripts/keepalive_load.py), and prints per request: all
# instructions, those inside the crypto functions (`wire::crypto`: RSA, AES and the digests they
# take) and the rest. With --notifications N, the same per notification delivered instead: the
# `whalet.connectivity.notify` trigger asks for N notifications of the demo partner (at most
# 1,000), sent to a receiver that acknowledges them without RSA (scripts/ack_receiver.py), and the
# run ends when it has acknowledged all of them. Under valgrind OpenSSL takes its generic code path (no AVX-512), so the
# crypto figure is not what the CPU runs at full speed; the rest is. Needs valgrind (Debian:
# apt-get install valgrind) and the Python venv (scripts/setup-python.sh). About 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

build=openssl
requests=400
what=requests
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) shift; build=${1:-} ;;
        --requests) shift; requests=${1:-}; what=requests ;;
        --notifications) shift; requests=${1:-}; what=notifications ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "instructions.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $requests =~ ^[1-9][0-9]*$ ]] || { echo "instructions.sh: --$what takes a positive whole number" >&2; exit 2; }
[[ $what == requests || $requests -le 1000 ]] || { echo "instructions.sh: --notifications is at most 1000 (one trigger request)" >&2; exit 2; }
case "$build" in
    openssl) features=(--features openssl) ;;
    default) features=() ;;
    *) echo "instructions.sh: --build is openssl or default, not '$build'" >&2; exit 2 ;;
esac
for tool in valgrind callgrind_annotate curl; do
    command -v "$tool" >/dev/null || { echo "instructions.sh: needs $tool (Debian: apt-get install valgrind curl)" >&2; exit 1; }
done
python=$(scripts/setup-python.sh)
bin=${WHALET_SIM_BIN:-}
if [[ -z $bin ]]; then
    cargo build --release "${features[@]}" >&2
    bin=target/release/whalet-sim
fi
out=target/instructions
mkdir -p "$out"

# count N: the server's instructions when it answers N requests or delivers N notifications
# (0: start and stop only).
count() {
    local n=$1 port file server receiver="" extra=()
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    file=$out/callgrind.$what.$n.out
    rm -f "$file" "$out/receiver.port"
    if [[ $what == notifications ]]; then
        python3 scripts/ack_receiver.py "$out/receiver.port" &
        receiver=$!
        for _ in $(seq 1 100); do [[ -s $out/receiver.port ]] && break; sleep 0.1; done
        extra=(--notify-url "http://127.0.0.1:$(cat "$out/receiver.port")/notify")
    fi
    valgrind --tool=callgrind --callgrind-out-file="$file" "$bin" serve --addr "127.0.0.1:$port" \
        --sftp-addr off "${extra[@]}" >"$out/serve.$n.log" 2>&1 &
    server=$!
    for _ in $(seq 1 240); do
        curl -sf "http://127.0.0.1:$port/__sim/health" >/dev/null && break
        kill -0 $server 2>/dev/null || { cat "$out/serve.$n.log" >&2; exit 1; }
        sleep 0.5
    done
    if [[ $n -gt 0 && $what == requests ]]; then
        "$python" scripts/keepalive_load.py "$port" "$n" 8 || { kill $server; exit 1; }
    elif [[ $n -gt 0 ]]; then
        curl -sf -X POST "http://127.0.0.1:$port/__sim/trigger/whalet.connectivity.notify" \
            -H 'Content-Type: application/json' \
            -d "{\"partnerId\":\"202400000000001\",\"notifyMessage\":\"counted\",\"count\":$n}" >/dev/null \
            || { kill $server $receiver; echo "instructions.sh: the trigger was refused" >&2; exit 1; }
        local done=0
        for _ in $(seq 1 1200); do
            done=$(curl -sf "http://127.0.0.1:$(cat "$out/receiver.port")/count")
            [[ $done -ge $n ]] && break
            sleep 0.5
        done
        [[ $done -ge $n ]] || { kill $server $receiver; echo "instructions.sh: $done of $n notifications acknowledged" >&2; exit 1; }
    fi
    kill -INT $server
    wait $server || true
    [[ -z $receiver ]] || kill $receiver
    callgrind_annotate --inclusive=yes --threshold=100 "$file" >"$file.txt" 2>/dev/null
}
count 0
count "$requests"
python3 - "$out/callgrind.$what.0.out.txt" "$out/callgrind.$what.$requests.out.txt" "$requests" "$bin" "$what" <<'PY'
import re, sys
def read(path):
    total, crypto = 0, 0
    pattern = r"\?\?\?:whalet_sim::wire::crypto::(rsa_decrypt|rsa_encrypt|sign|verify|aes_ecb_encrypt|aes_ecb_decrypt) "
    for line in open(path):
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)", line)
        if not m:
            continue
        value, name = int(m.group(1).replace(",", "")), m.group(2)
        if "PROGRAM TOTALS" in name:
            total = value
        elif re.match(pattern, name):
            crypto += value
    return total, crypto
(t0, c0), (t1, c1) = read(sys.argv[1]), read(sys.argv[2])
n, what = int(sys.argv[3]), sys.argv[5]
each = {"requests": "request", "notifications": "notification"}[what]
total, crypto = (t1 - t0) / n, (c1 - c0) / n
print(f"{sys.argv[4]}: {n} {what}; instructions per {each}: {total:,.0f} in all, "
      f"{crypto:,.0f} in the crypto, {total - crypto:,.0f} outside it")
PY
