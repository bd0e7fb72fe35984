#!/usr/bin/env bash
# Measures both builds and regenerates the figures section of docs/PERFORMANCE.md.
#
#   scripts/perf.sh           build the default and the OpenSSL release binaries, measure each
#                             (ratio to the crypto ceiling x10, notifications at 1/8/64
#                             destinations, open-loop latency at half load), write every report
#                             as JSON into target/perf/ and the figures into docs/PERFORMANCE.md
#   scripts/perf.sh --quick   a smoke run of a few seconds: same steps, tiny runs, reports into
#                             target/perf/quick/ and the figures into a copy of the document there
#
# WHALET_SIM_BIN=PATH measures that one binary instead of building (e.g. target/debug/whalet-sim
# for the smoke run); WHALET_SIM_BIN="default=PATH openssl=PATH" measures binaries built
# elsewhere. Needs Linux /proc and python3; the measurement part of a full run takes about
# 6 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "perf.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
    esac
done

if [[ $quick == 1 ]]; then
    out=target/perf/quick
    doc_in=docs/PERFORMANCE.md
    doc_out=$out/PERFORMANCE.md
    ratio=(--partners 8 --duration 300ms --repeat 2 --ceiling-time 50ms --ceiling-slice 20ms)
    notify=(--notifications 40 --destinations 1,8 --ceiling-time 50ms --ceiling-slice 20ms)
    latency=(--partners 8 --duration 300ms --rate half --ceiling-time 50ms --ceiling-slice 20ms)
else
    out=target/perf
    doc_in=docs/PERFORMANCE.md
    doc_out=docs/PERFORMANCE.md
    ratio=(--partners 64 --duration 5s --repeat 10)
    notify=(--notifications 4000 --destinations 1,8,64)
    latency=(--partners 64 --duration 5s --rate half)
fi
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.json.tmp

if [[ -n "${WHALET_SIM_BIN:-}" ]]; then
    # One path, or space-separated LABEL=PATH entries.
    builds=()
    for entry in $WHALET_SIM_BIN; do
        [[ $entry == *=* ]] || entry="given=$entry"
        builds+=("$entry")
    done
else
    # Both builds share target/release (the dependencies are compiled once); the OpenSSL binary
    # is copied aside before the default one replaces it.
    echo "building the release binaries (--features openssl, then default)..." >&2
    mkdir -p target/perf/bin
    cargo build --release --features openssl
    cp target/release/whalet-sim target/perf/bin/whalet-sim-openssl
    cargo build --release
    cp target/release/whalet-sim target/perf/bin/whalet-sim-default
    builds=("default=target/perf/bin/whalet-sim-default" "openssl=target/perf/bin/whalet-sim-openssl")
fi

# measure LABEL KIND BINARY ARGS...: one bench run, its JSON report, and beside it the command,
# the load average before and after, and the exit status (LABEL-KIND.meta.json).
measure() {
    local label=$1 kind=$2 bin=$3
    shift 3
    local file="$out/$label-$kind.json" started load_before status=0
    started=$(date +%s)
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "== $label $kind: $bin bench $*" >&2
    "$bin" bench "$@" --json >"$file.tmp" || status=$?
    mv "$file.tmp" "$file"
    python3 scripts/perf_doc.py meta --file "$file" --label "$label" --kind "$kind" \
        --binary "$bin" --exit "$status" --started "$started" --load-before "$load_before" \
        -- bench "$@" --json
    [[ $status == 0 ]] || echo "   (exit $status: something failed; kept in the report)" >&2
}

begin=$(date +%s)
for build in "${builds[@]}"; do
    label=${build%%=*}
    bin=${build#*=}
    [[ -x $bin ]] || { echo "perf.sh: no binary at $bin" >&2; exit 1; }
    measure "$label" ratio "$bin" --spawn-server "${ratio[@]}"
    measure "$label" latency "$bin" --spawn-server "${latency[@]}"
    # The notification bench spawns its own server.
    measure "$label" notify "$bin" "${notify[@]}"
done
echo "measured in $(( $(date +%s) - begin )) s" >&2

python3 scripts/perf_doc.py render --reports "$out" --doc "$doc_in" --out "$doc_out"
echo "figures written to $doc_out" >&2
