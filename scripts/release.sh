#!/usr/bin/env bash
# The release archive, and its test.
#
#   scripts/release.sh [--bin PATH] [--out DIR]   build dist/whalet-sim-<version>-x86_64-unknown-linux-gnu.tar.gz
#                                                 (+ .sha256 beside it); without --bin it runs
#                                                 `cargo build --release --locked` first
#   scripts/release.sh --check ARCHIVE            unpack ARCHIVE into an empty temporary directory and run it
#                                                 from there: checksums, every scripts/ path a packaged file
#                                                 names is packaged (or is a development script below),
#                                                 every source-tree file a packaged file names (Dockerfile,
#                                                 ARCHITECTURE.md, tests/...) is packaged or listed in
#                                                 SOURCE-TREE.md (source_only below),
#                                                 --version, serve on free ports with a packaged scenario,
#                                                 /__sim/health, `whalet-sim call connectivity` with the
#                                                 packaged demo keys, and the packaged Python clients
#                                                 against it (when python3 is there)
#
# The archive holds one directory: the binary, README.md, docs/, keys/ (demo keys, test only),
# scenarios/, samples/, examples/, the scripts its docs tell a reader to run (scripts/, below),
# SOURCE-TREE.md (what the docs name that only the source tree has; the packaged README.md points
# to it under its title) and SHA256SUMS over all of them. The tarball is reproducible (sorted, owner 0, mtime = the
# last commit's time).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=x86_64-unknown-linux-gnu

# The scripts the packaged docs name for a user (the examples, the independent Python clients)
# and what they need to run (sim_crypto.py, requirements.txt): packaged.
shipped_scripts=(examples.sh setup-python.sh requirements.txt whalet_envelope.py infinia_envelope.py
  pockyt_sign.py sim_crypto.py)
# Scripts the packaged docs name that only work in the source tree (they build with cargo, read
# tests/ or .ci/, or make the release and the image): not packaged. A scripts/ path a packaged
# file names that is in neither list fails --check: package it or add it here.
dev_scripts=(test.sh perf.sh profile.sh profile_split.py perf_doc.py restart_bench.py release.sh
  image.sh container-entrypoint.sh wire_doc.py gen_vectors.py openssl_crosscheck.sh
  cargo-deny-check.sh instructions.sh keepalive_load.py ack_receiver.py)

# What the packaged docs name that only the source tree has, with why it is left out: listed
# in the archive's SOURCE-TREE.md. A name of this shape (a root file such as Dockerfile or
# ARCHITECTURE.md, a path under src/, tests/, fuzz/, ...) that a packaged file names and that is
# neither packaged nor listed here fails --check: package it or add it here.
source_only=(
  "Dockerfile|the container image: it builds the binary from the source with cargo (README.md, Container)"
  "docker-compose.yml|the simulator beside a sample partner service, built from the Dockerfile"
  "ARCHITECTURE.md|the layout of the source code"
  "Cargo.toml|the crate (cargo build, cargo test)"
  "src/|the source code"
  "tests/|the test suites (tests/api/walkthrough.rs runs docs/WALKTHROUGH.md) and the test vectors"
  "benches/|the benchmarks"
  "fuzz/|the fuzz targets and their corpus"
  "fixtures/|the test fixtures"
  "contracts/|the contract overlays of the tests (docs/CONTRACTS.md shows how to write one)"
  ".ci/|the CI jobs"
  "target/|build output (cargo builds it from the source)"
)

# SOURCE-TREE.md: the source_only names and the development scripts, one `- \`name\`: why` line
# each (read back by check_source_names).
source_tree_note() {
  local entry s
  echo "# Files the docs name that this archive leaves out"
  echo
  echo "README.md and docs/ describe the source tree too. These files and directories are only"
  echo "there (they build or test the simulator from its source); the rest this archive holds."
  echo
  for entry in "${source_only[@]}"; do
    printf -- '- `%s`: %s\n' "${entry%%|*}" "${entry#*|}"
  done
  for s in "${dev_scripts[@]}"; do
    printf -- '- `scripts/%s`: a development script (builds with cargo, or reads tests/ or .ci/)\n' "$s"
  done
}

# Every file or directory of the source tree a file of the unpacked archive names, in the shapes
# source_only has (a root file, a path under a source directory), must be in the archive (from
# its root, or from the naming file's directory: docs/ name FIDELITY.md, examples/java its
# src/main/java) or be listed in SOURCE-TREE.md.
check_source_names() {
  [ -f SOURCE-TREE.md ] || { echo "release --check: missing SOURCE-TREE.md" >&2; return 1; }
  grep -q 'SOURCE-TREE.md' README.md || { echo "release --check: README.md does not point to SOURCE-TREE.md" >&2; return 1; }
  local listed; listed=$(sed -n 's/^- `\([^`]*\)`:.*/\1/p' SOURCE-TREE.md)
  local missing=() file name top count=0
  while IFS=: read -r file name; do
    count=$((count + 1))
    file=${file#./}
    [ -e "$name" ] || [ -e "$(dirname "$file")/$name" ] && continue
    top=${name%%/*}
    [ "$top" != "$name" ] && top="$top/"
    grep -qxF -e "$name" -e "$top" <<< "$listed" && continue
    missing+=("$name ($file)")
  done < <({ grep -rIoP '(?<![\w./-])(Dockerfile|docker-compose\.yml|Cargo\.(toml|lock)|deny\.toml|Makefile|[A-Z][A-Z0-9_-]*\.md|(src|tests|benches|fuzz|fixtures|contracts|\.ci|target)/[\w./-]*\w|(src|tests|benches|fuzz|fixtures|contracts|\.ci|target)/)' \
      --exclude=SHA256SUMS --exclude=SOURCE-TREE.md . || true; } | LC_ALL=C sort -u)
  if [ "${#missing[@]}" -gt 0 ]; then
    printf 'release --check: a packaged file names %s, which is neither in the archive nor in SOURCE-TREE.md\n' "${missing[@]}" >&2
    echo "release --check: package it, or add it to source_only in scripts/release.sh (listed in SOURCE-TREE.md)" >&2
    return 1
  fi
  echo "release --check: every source-tree file the packaged files name is packaged or in SOURCE-TREE.md ($count names)"
}

# Every scripts/ path a file of the unpacked archive (the working directory) names must be in
# it, or be one of dev_scripts.
check_script_paths() {
  local missing=() named f name
  named=$({ grep -rIhoP '(?<![\w./-])scripts/[\w.-]*\w' --exclude=SHA256SUMS . || true; } | LC_ALL=C sort -u)
  for f in $named; do
    [ -f "$f" ] && continue
    name=${f#scripts/}
    [[ " ${dev_scripts[*]} " == *" $name "* ]] && continue
    missing+=("$f ($(grep -rIlF "$f" --exclude=SHA256SUMS . | sed 's|^\./||' | head -n 3 | paste -sd, - | sed 's/,/, /g'))")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    printf 'release --check: a packaged file names %s, which is not in the archive\n' "${missing[@]}" >&2
    echo "release --check: add it to shipped_scripts in scripts/release.sh (or to dev_scripts if it only works in the source tree)" >&2
    return 1
  fi
  echo "release --check: every scripts/ path the packaged files name is packaged ($(echo "$named" | grep -c .) named, ${#dev_scripts[@]} development scripts left out)"
}

check() {
  local archive=$1
  archive=$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")
  [ -f "$archive" ] || { echo "release --check: no $archive" >&2; return 1; }
  if [ -f "$archive.sha256" ]; then
    (cd "$(dirname "$archive")" && sha256sum --quiet -c "$(basename "$archive").sha256")
    echo "release --check: archive checksum ok"
  fi
  local dir; dir=$(mktemp -d)
  local pid=""
  # shellcheck disable=SC2064
  trap "[ -n \"\$pid\" ] && kill \$pid 2>/dev/null; rm -rf '$dir'" RETURN
  tar -xzf "$archive" -C "$dir"
  local top; top=$(ls "$dir")
  [ "$(echo "$top" | wc -l)" = 1 ] || { echo "release --check: expected one top directory, got: $top" >&2; return 1; }
  cd "$dir/$top"
  sha256sum --quiet -c SHA256SUMS
  echo "release --check: SHA256SUMS ok ($(wc -l < SHA256SUMS) files)"
  for f in whalet-sim README.md keys/demo-partner/private.pem keys/platform/public.pem scenarios/happy-path.toml docs/WIRE.md; do
    [ -e "$f" ] || { echo "release --check: missing $f" >&2; return 1; }
  done
  check_script_paths
  check_source_names
  ./whalet-sim --version
  # Only the unpacked directory: no cargo, no source tree on PATH or in the working directory.
  env -i PATH=/usr/bin:/bin HOME="$dir" ./whalet-sim serve --addr 127.0.0.1:0 --sftp-addr off --manual-clock \
    --scenario scenarios/happy-path.toml 2>serve.log &
  pid=$!
  local url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/.*ready on \([0-9.:]*\);.*/http:\/\/\1/p' serve.log | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat serve.log >&2; echo "release --check: serve exited" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { cat serve.log >&2; echo "release --check: no ready line" >&2; return 1; }
  local health; health=$(curl -fsS "$url/__sim/health")
  [ "$health" = '{"status":"ok"}' ] || { echo "release --check: health answered $health" >&2; return 1; }
  echo "release --check: $url/__sim/health $health"
  env -i PATH=/usr/bin:/bin HOME="$dir" ./whalet-sim call connectivity --url "$url" \
    --key keys/demo-partner/private.pem --platform-key keys/platform/public.pem \
    --data '{"notifyFlag":"N","responseFlag":"Y","responseMessage":"pong"}' > call.json
  grep -q '"SUCCESS"' call.json || { cat call.json >&2; echo "release --check: connectivity did not succeed" >&2; return 1; }
  grep -q 'scenarios/happy-path.toml' serve.log || { echo "release --check: the packaged scenario was not loaded" >&2; return 1; }
  # The packaged Python clients, run from the archive: they find the packaged demo keys from
  # where they are (scripts/..). Skipped, and said so, without python3 (or its cryptography).
  local clients="no python3: the packaged Python clients were not run"
  if env -i PATH=/usr/bin:/bin python3 -c '' 2>/dev/null; then
    env -i PATH=/usr/bin:/bin HOME="$dir" python3 scripts/pockyt_sign.py --self-test > /dev/null \
      || { echo "release --check: scripts/pockyt_sign.py --self-test failed" >&2; return 1; }
    clients="scripts/pockyt_sign.py; no cryptography for python3: the envelope clients were not run"
  fi
  if env -i PATH=/usr/bin:/bin python3 -c 'import cryptography' 2>/dev/null; then
    env -i PATH=/usr/bin:/bin HOME="$dir" python3 scripts/whalet_envelope.py call --url "$url/api" \
      --api-code connectivity --data '{"notifyFlag":"N","responseFlag":"Y","responseMessage":"pong"}' > py-call.json \
      || { cat py-call.json >&2; echo "release --check: scripts/whalet_envelope.py call did not succeed" >&2; return 1; }
    env -i PATH=/usr/bin:/bin HOME="$dir" python3 scripts/whalet_envelope.py file-token > /dev/null \
      || { echo "release --check: scripts/whalet_envelope.py file-token failed" >&2; return 1; }
    env -i PATH=/usr/bin:/bin HOME="$dir" python3 scripts/infinia_envelope.py call --url "$url/api/v1/account-balance/query" \
      --data '{"currency":"USD"}' > py-infinia.json \
      || { cat py-infinia.json >&2; echo "release --check: scripts/infinia_envelope.py call did not succeed" >&2; return 1; }
    clients="scripts/pockyt_sign.py, whalet_envelope.py, infinia_envelope.py"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "release --check: OK ($(basename "$archive") ran from an empty directory: health, connectivity; $clients)"
}

build() {
  local bin="" out="$root/dist"
  while [ $# -gt 0 ]; do
    case $1 in
      --bin) bin=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      *) echo "usage: scripts/release.sh [--bin PATH] [--out DIR] | --check ARCHIVE" >&2; return 2 ;;
    esac
  done
  cd "$root"
  local version; version=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
  if [ -z "$bin" ]; then
    cargo build --release --locked --bin whalet-sim
    bin=target/release/whalet-sim
  fi
  [ -x "$bin" ] || { echo "release: no binary at $bin" >&2; return 1; }
  local name="whalet-sim-$version-$target"
  local stage; stage=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$stage'" RETURN
  mkdir -p "$stage/$name" "$out"
  install -m 0755 "$bin" "$stage/$name/whalet-sim"
  strip "$stage/$name/whalet-sim" 2>/dev/null || true
  # tracked files only (no build output of the examples)
  local files
  local scripts=() s
  for s in "${shipped_scripts[@]}"; do
    [ -f "scripts/$s" ] || { echo "release: no scripts/$s (listed in shipped_scripts)" >&2; return 1; }
    scripts+=("scripts/$s")
  done
  if git rev-parse --git-dir >/dev/null 2>&1; then
    files=$(git ls-files README.md docs keys scenarios samples examples "${scripts[@]}")
  else
    files=$(find README.md docs keys scenarios samples examples "${scripts[@]}" -type f -not -path '*/build/*')
  fi
  echo "$files" | while read -r f; do
    mkdir -p "$stage/$name/$(dirname "$f")"
    cp -p "$f" "$stage/$name/$f"
  done
  source_tree_note > "$stage/$name/SOURCE-TREE.md"
  # The packaged README says, under its title, that some files it names are not here.
  local readme="$stage/$name/README.md"
  { head -n 1 README.md
    echo
    echo "> This is the release archive: the files README.md and docs/ name that only the source tree"
    echo "> has (the Dockerfile, docker-compose.yml, ARCHITECTURE.md, scripts/test.sh, tests/, ...) are"
    echo "> listed in SOURCE-TREE.md."
    tail -n +2 README.md; } > "$readme"
  touch -r README.md "$readme" "$stage/$name/SOURCE-TREE.md"
  (cd "$stage/$name" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
  local mtime; mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)
  local archive="$out/$name.tar.gz"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -C "$stage" -cf - "$name" | gzip -n -9 > "$archive"
  (cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
  echo "release: $archive ($(du -h "$archive" | cut -f1)); sha256 $(cut -d' ' -f1 "$archive.sha256")"
}

if [ "${1:-}" = "--check" ]; then
  [ $# = 2 ] || { echo "usage: scripts/release.sh --check ARCHIVE" >&2; exit 2; }
  check "$2"
else
  build "$@"
fi
