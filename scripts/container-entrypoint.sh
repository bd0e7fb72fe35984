#!/bin/sh
# The container image's entrypoint (Dockerfile): runs `whalet-sim "$@"`. Options come from the
# environment as for the binary (WHALET_SIM_ADDR, WHALET_SIM_ALLOWED_HOSTS, WHALET_SIM_ADMIN_TOKEN,
# ...; README.md lists them).
set -eu
exec whalet-sim "$@"
