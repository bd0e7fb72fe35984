#!/usr/bin/env bash
# Builds the container image from ./Dockerfile without any image registry, then smoke-tests it.
#
#   scripts/image.sh            base images from Debian packages, image build, smoke test
#
# 1. mmdebstrap makes two Debian bookworm root filesystems from the Debian mirror: a minimal
#    runtime base, and a build base (gcc, libc6-dev) with this machine's Rust toolchain copied in
#    (`rustc` from $RUST_TOOLCHAIN, default `rustc --print sysroot`). buildah imports them as
#    localhost/whalet-sim-base:bookworm and localhost/whalet-sim-build:bookworm (kept; delete
#    target/image/*.tar to rebuild them).
# 2. buildah (--isolation chroot, docker format for HEALTHCHECK) builds the SAME Dockerfile with
#    BUILD_IMAGE and RUNTIME_IMAGE pointing at those local bases. cargo builds offline from this
#    machine's $CARGO_HOME/registry; its target directory is a cache in target/image/cargo-target
#    (seeded from target/release when that exists, so only this crate compiles).
# 3. The smoke test runs the image's own binary with the image's user, environment and working
#    directory (`buildah run --isolation chroot`; no podman/docker), then calls GET /__sim/health,
#    the image's HEALTHCHECK command, and `whalet-sim call connectivity` inside the image.
# Needs root, mmdebstrap and buildah (`apt-get install mmdebstrap buildah`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=$root/target/image
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
version=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
tag=${IMAGE_TAG:-localhost/whalet-sim:$version}
base=localhost/whalet-sim-base:bookworm
builder=localhost/whalet-sim-build:bookworm
cargo_home=${CARGO_HOME:-$HOME/.cargo}
toolchain=${RUST_TOOLCHAIN:-$(rustc --print sysroot)}
bah() { buildah --storage-driver "${STORAGE_DRIVER:-overlay}" "$@"; }
step() { printf '\n== image: %s (%ss)\n' "$*" "$SECONDS"; }
mkdir -p "$work"

import() { # tarball image [env...]
  local tar=$1 image=$2; shift 2
  bah inspect --type image "$image" >/dev/null 2>&1 && [ "$(cat "$tar.imported" 2>/dev/null)" = "$(stat -c %Y "$tar")" ] && return 0
  local ctr; ctr=$(bah from scratch)
  bah add "$ctr" "$tar" /
  bah config --env PATH=/usr/local/cargo/bin:/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "$@" --cmd /bin/bash "$ctr"
  bah commit --rm --format docker "$ctr" "$image" >/dev/null
  stat -c %Y "$tar" > "$tar.imported"
  echo "imported $image from $(basename "$tar") ($(du -h "$tar" | cut -f1))"
}

step "Debian base root filesystems (mmdebstrap)"
if [ ! -s "$work/base.tar" ]; then
  mmdebstrap --quiet --variant=minbase bookworm "$work/base.part.tar" "$mirror"
  mv "$work/base.part.tar" "$work/base.tar"
fi
if [ ! -s "$work/build.tar" ]; then
  mmdebstrap --quiet --variant=minbase --include=gcc,libc6-dev,binutils \
    --customize-hook="mkdir -p \"\$1/opt/rust\" && cp -a '$toolchain/.' \"\$1/opt/rust/\"" \
    bookworm "$work/build.part.tar" "$mirror"
  mv "$work/build.part.tar" "$work/build.tar"
fi
import "$work/base.tar" "$base"
import "$work/build.tar" "$builder" --env CARGO_HOME=/root/.cargo

step "buildah build of ./Dockerfile"
cache=$work/cargo-target
if [ ! -d "$cache/release" ] && [ -d target/release/deps ]; then
  mkdir -p "$cache/release"
  cp -a target/release/deps target/release/build target/release/.fingerprint "$cache/release/"
fi
mkdir -p "$cache"
bah build --isolation chroot --format docker --pull=false --layers=false \
  --build-arg BUILD_IMAGE="$builder" --build-arg RUNTIME_IMAGE="$base" --build-arg CARGO_NET_OFFLINE=true \
  --volume "$cargo_home/registry:/root/.cargo/registry" --volume "$cache:/src/target" \
  -f Dockerfile -t "$tag" .
bah inspect --type image --format '{{.Docker.Config.User}} {{.Docker.Config.ExposedPorts}} {{.Docker.Config.Healthcheck.Test}} {{.Docker.Config.Entrypoint}} {{.Docker.Config.Cmd}}' "$tag"

step "smoke test inside the image (buildah run --isolation chroot)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ctr=$(bah from --pull=false "$tag")
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  bah rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT
run() { bah run --isolation chroot --env WHALET_SIM_ADDR="0.0.0.0:$port" --env WHALET_SIM_URL="http://127.0.0.1:$port" "$ctr" -- "$@"; }
[ "$(run id -u)" = 10001 ] || { echo "image: the image's user is not 10001" >&2; exit 1; }
# the image's own entrypoint and default command (serve), with SFTP off to need one port only
entry=$(bah inspect --type image --format '{{range .Docker.Config.Entrypoint}}{{.}} {{end}}{{range .Docker.Config.Cmd}}{{.}} {{end}}' "$tag")
echo "running the image's command: $entry"
# shellcheck disable=SC2086
setsid buildah --storage-driver "${STORAGE_DRIVER:-overlay}" run --isolation chroot \
  --env WHALET_SIM_ADDR="0.0.0.0:$port" --env WHALET_SIM_SFTP_ADDR=off --env WHALET_SIM_ALLOWED_HOSTS=whalet-sim \
  "$ctr" -- $entry > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/__sim/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "image: serve exited" >&2; exit 1; }
  sleep 0.2
done
echo "GET /__sim/health from the host: $(curl -fsS "http://127.0.0.1:$port/__sim/health")"
healthcheck=$(bah inspect --type image --format '{{index .Docker.Config.Healthcheck.Test 1}}' "$tag")
run sh -c "$healthcheck" && echo "the image's HEALTHCHECK command: ok"
run whalet-sim call connectivity --data '{"notifyFlag":"N","responseFlag":"Y","responseMessage":"pong"}' > "$work/call.json"
grep -q '"SUCCESS"' "$work/call.json" || { cat "$work/call.json" >&2; echo "image: connectivity failed" >&2; exit 1; }
echo "whalet-sim call connectivity inside the image: SUCCESS"
# WHALET_SIM_ALLOWED_HOSTS (the entrypoint) admits the service name, and only it
by_name=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: whalet-sim:$port" "http://127.0.0.1:$port/__sim/clock")
by_other=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: elsewhere.example:$port" "http://127.0.0.1:$port/__sim/clock")
[ "$by_name" = 200 ] && [ "$by_other" = 403 ] || { echo "image: Host whalet-sim -> $by_name, elsewhere -> $by_other" >&2; exit 1; }
echo "control plane by the service name: $by_name; by another name: $by_other"
grep -o 'whalet-sim ready on [^;]*' "$work/serve.log"
echo "image: OK ($tag, $(bah images --format '{{.Size}}' "$tag" 2>/dev/null || true); ${SECONDS}s)"
