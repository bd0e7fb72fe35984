# whalet-sim as a container image: a build stage (cargo) and a minimal Debian runtime.
#
#   docker build -t whalet-sim .
#   docker run --rm -p 127.0.0.1:8080:8080 -p 127.0.0.1:2222:2222 whalet-sim
#
# Inside the container the simulator listens on 0.0.0.0 (8080 HTTP, 2222 Infinia SFTP), so the
# published ports decide who reaches it; the control plane /__sim/ is open unless
# WHALET_SIM_ADMIN_TOKEN is set (see README.md, "Container"). WHALET_SIM_ALLOWED_HOSTS names the
# hosts (e.g. a CI service name) it may be reached by (scripts/container-entrypoint.sh).
# Without registry access, both base images can be local ones: scripts/image.sh builds them from
# Debian packages and passes BUILD_IMAGE and RUNTIME_IMAGE.
ARG BUILD_IMAGE=docker.io/library/rust:1-slim-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
# true: build from the crates already in $CARGO_HOME (an offline build, as scripts/image.sh does)
ARG CARGO_NET_OFFLINE=false
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin whalet-sim \
 && mkdir -p /out \
 && cp target/release/whalet-sim /out/whalet-sim \
 && (strip /out/whalet-sim || true)

FROM ${RUNTIME_IMAGE}
# A fixed non-root user; the binary needs only glibc (TLS roots are built in).
RUN useradd --uid 10001 --user-group --home-dir /opt/whalet-sim --no-create-home --shell /usr/sbin/nologin whalet
COPY --from=build /out/whalet-sim /usr/local/bin/whalet-sim
COPY scripts/container-entrypoint.sh /usr/local/bin/whalet-sim-entrypoint
COPY keys /opt/whalet-sim/keys
COPY scenarios /opt/whalet-sim/scenarios
COPY samples /opt/whalet-sim/samples
WORKDIR /opt/whalet-sim
USER 10001:10001
ENV WHALET_SIM_ADDR=0.0.0.0:8080 \
    WHALET_SIM_SFTP_ADDR=0.0.0.0:2222 \
    WHALET_SIM_URL=http://127.0.0.1:8080
EXPOSE 8080 2222
# GET /__sim/health over bash's /dev/tcp: no curl in the image. Open even with an admin token.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD bash -c 'exec 3<>"/dev/tcp/127.0.0.1/${WHALET_SIM_ADDR##*:}" && printf "GET /__sim/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && grep -q "\"status\":\"ok\"" <&3'
ENTRYPOINT ["whalet-sim-entrypoint"]
CMD ["serve"]
