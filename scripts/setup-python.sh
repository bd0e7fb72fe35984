#!/usr/bin/env bash
# Creates the project's Python venv at target/pyenv (once) and installs scripts/requirements.txt.
# Prints the venv's python path on stdout (everything else goes to stderr).
# Rust tests call target/pyenv/bin/python, falling back to python3.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/target/pyenv"
py="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup-python: creating $venv with $("$py" --version 2>&1)" >&2
  mkdir -p "$root/target"
  "$py" -m venv "$venv" >&2
fi
# Reinstall only when requirements.txt changed since the last successful install.
req="$root/scripts/requirements.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup-python: installing $req" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin/python"
