#!/usr/bin/env bash
# Profiles a loaded server: where its CPU goes and which system calls it makes per message.
#
#   scripts/profile.sh [requests|notifications] [--build openssl|default]
#
# Builds the release binary with frame pointers and line tables into target/profile (a separate
# target directory: the flags would otherwise rebuild target/release), starts a bench that spawns
# its own server (requests: Whalet envelope, 64 partners; notifications: 40,000 to 8
# destinations), and while the load runs attaches `perf record -g` for 6 s and then `strace -c`
# for 3 s to the server. Prints the split of the samples (scripts/profile_split.py) and the
# system calls per message written (one `writev` per reply or per notification). Everything
# lands in target/profile/out/. Needs perf and strace (Debian: `apt-get install linux-perf
# strace`) and the right to trace (root, or kernel.perf_event_paranoid <= 1 and ptrace allowed).
# docs/PERFORMANCE.md, "Where the rest goes", shows a run.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=requests
build=openssl
while [[ $# -gt 0 ]]; do
    case "$1" in
        requests|notifications) kind=$1 ;;
        --build) shift; build=${1:-} ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "profile.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$build" in
    openssl) features=(--features openssl) ;;
    default) features=() ;;
    *) echo "profile.sh: --build is openssl or default, not '$build'" >&2; exit 2 ;;
esac
for tool in perf strace python3; do
    command -v "$tool" >/dev/null || {
        echo "profile.sh: needs $tool (Debian: apt-get install linux-perf strace python3)" >&2
        exit 1
    }
done

echo "building the $build release binary with frame pointers into target/profile..." >&2
RUSTFLAGS="-C force-frame-pointers=yes" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    CARGO_TARGET_DIR=target/profile cargo build --release "${features[@]}"
bin=$PWD/target/profile/release/whalet-sim
out=target/profile/out
mkdir -p "$out"
rm -f "$out/$kind".*

case "$kind" in
    requests) load=(--spawn-server --partners 64 --duration 15s --no-ceiling); ready="run 1" ;;
    notifications) load=(--notifications 40000 --destinations 8); ready="warming up" ;;
esac
"$bin" bench "${load[@]}" --json >"$out/$kind.bench.json" 2>"$out/$kind.bench.log" &
bench=$!
server=""
# On any early exit, stop the bench and the server it spawned (a signal to the bench alone would
# leave its server running).
trap 'kill $bench ${server:-} 2>/dev/null || true' EXIT

# The spawned server, once the timed part of the load has begun (at most 3 minutes: sealing the
# requests beforehand takes a while).
for _ in $(seq 1 360); do
    server=$(pgrep -n -P "$bench" -f " serve " || true)
    if [[ -n $server ]] && grep -q "$ready" "$out/$kind.bench.log"; then
        break
    fi
    kill -0 $bench 2>/dev/null || { cat "$out/$kind.bench.log" >&2; exit 1; }
    sleep 0.5
done
[[ -n $server ]] || { echo "profile.sh: the bench's server did not start" >&2; exit 1; }
sleep 1

echo "recording the server (pid $server) for 6 s..." >&2
perf record -e cpu-clock -F 2000 -g -p "$server" -o "$out/$kind.perf.data" -- sleep 6 \
    2>"$out/$kind.perf.log" || {
    cat "$out/$kind.perf.log" >&2
    echo "profile.sh: perf record failed (it needs root, or kernel.perf_event_paranoid <= 1)" >&2
    exit 1
}
echo "counting its system calls for 3 s..." >&2
timeout -s INT 3 strace -c -f -p "$server" -o "$out/$kind.strace.txt" 2>/dev/null || true
wait $bench || true
trap - EXIT

perf script -i "$out/$kind.perf.data" -F comm,tid,ip,sym,dso 2>/dev/null >"$out/$kind.perf.txt"
echo
echo "## Where the server's CPU went ($kind, $build build)"
python3 scripts/profile_split.py "$out/$kind.perf.txt"
echo
echo "## System calls per message written ($kind, $build build, strace -c over 3 s)"
python3 - "$out/$kind.strace.txt" <<'PY'
import re, sys
calls = {}
for line in open(sys.argv[1]):
    fields = line.split()
    if len(fields) >= 5 and re.match(r"^[0-9.]+$", fields[0]) and fields[-1] != "total":
        calls[fields[-1]] = int(fields[3])
written = calls.get("writev", 0)
if not written:
    sys.exit("no writev in the trace: was the load still running?")
print(f"| system call | calls | per message ({written} written) |")
print("|---|---:|---:|")
for name, n in sorted(calls.items(), key=lambda kv: -kv[1]):
    print(f"| {name} | {n} | {n / written:.2f} |")
PY
