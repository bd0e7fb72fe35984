#!/usr/bin/env bash
# The README's test command: prepares the independent Python implementation (a venv with
# `cryptography` in target/pyenv) and runs every test. Extra arguments go to `cargo test`.
# Browser tests need Debian's chromium + chromium-driver; without them they are skipped with a
# loud line (and fail under CI=true, where .ci/run installs them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup-python.sh >/dev/null
exec cargo test "$@"
