#!/bin/sh
# The container image's entrypoint (Dockerfile): runs `whalet-sim "$@"`.
# WHALET_SIM_ALLOWED_HOSTS (comma-separated names, e.g. the service name `whalet-sim` in CI or
# compose) lets clients reach the control plane /__sim/ by that name: it becomes
# `[server] allowed_hosts` of a generated configuration, unless WHALET_SIM_CONFIG names one.
set -eu
if [ -n "${WHALET_SIM_ALLOWED_HOSTS:-}" ] && [ -z "${WHALET_SIM_CONFIG:-}" ]; then
  names=$(printf '%s' "$WHALET_SIM_ALLOWED_HOSTS" | tr -cd 'A-Za-z0-9.:*_,-' | sed 's/,/", "/g')
  WHALET_SIM_CONFIG=${TMPDIR:-/tmp}/whalet-sim-allowed-hosts.toml
  printf '[server]\nallowed_hosts = ["%s"]\n' "$names" > "$WHALET_SIM_CONFIG"
  export WHALET_SIM_CONFIG
fi
exec whalet-sim "$@"
