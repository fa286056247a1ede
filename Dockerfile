# syntax=docker/dockerfile:1
#
# indoxrouter-server in a container.
#
#   docker build -t indoxrouter-server .
#   docker run -p 8000:8000 -v indoxrouter-data:/data indoxrouter-server
#
# or `docker compose up -d` with docker-compose.yml. Settings are the
# INDOXROUTER_* environment variables (docs/guides/configuration.md); the
# image sets only where to listen and where the data lives.
#
# Checked statically by scripts/lint_docker.sh (hadolint).

# ---- build ------------------------------------------------------------------
# Same Debian release as the runtime stage, so the binary's glibc matches.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src

# The whole workspace (less what .dockerignore drops): cargo reads every
# member's manifest and targets (indoxrouter, indoxrouter-server,
# tests/simulator, bindings/node) to resolve the workspace even when it builds
# one package, and the core embeds providers/*.json at compile time.
COPY . .

# Dependency caching: crates.io downloads and the target directory live in
# BuildKit cache mounts that persist between builds, so a rebuild compiles
# only the workspace crates that changed. The target directory is a cache, not
# part of a layer, so the binary is copied out of it in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p indoxrouter-server \
    && cp target/release/indoxrouter-server /usr/local/bin/indoxrouter-server

# ---- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim

# ca-certificates: provider calls use TLS verified against the system's CA
# store (rustls-platform-verifier reads /etc/ssl/certs).
# curl: for HEALTHCHECK only; the server binary has no health-check
# subcommand, and a distroless image would have nothing to run one with.
# Versions are not pinned: bookworm's archive keeps only the current security
# release of each package, so pinned versions stop installing when it moves.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid, so a bind-mounted data directory can be
# prepared with `chown 10001:10001` and orchestrators can verify non-root.
RUN groupadd --system --gid 10001 indoxrouter \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin indoxrouter \
    && mkdir -p /data /app \
    && chown 10001:10001 /data

COPY --from=builder /usr/local/bin/indoxrouter-server /usr/local/bin/indoxrouter-server

# The redb ledger (indoxrouter.redb) and, in development, the generated JWT
# secret (jwt-secret) are kept in /data: keep it on a volume.
ENV INDOXROUTER_HOST=0.0.0.0 \
    INDOXROUTER_PORT=8000 \
    INDOXROUTER_DATA_DIR=/data
VOLUME ["/data"]

# The server loads `.env` from its working directory (and its parents); /app is
# empty, so settings come from the environment unless a file is mounted at
# /app/.env.
WORKDIR /app
USER 10001:10001
EXPOSE 8000

# Liveness (`/health`), not readiness: `/health/ready` is 503 while no provider
# key is configured, which is a configuration matter, not a dead process.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${INDOXROUTER_PORT:-8000}/health\" || exit 1"]

# SIGTERM (docker stop) starts a graceful shutdown: in-flight requests finish
# and settle for up to INDOXROUTER_SHUTDOWN_GRACE_SECONDS (30 s), so give the
# container longer than that to stop (compose: stop_grace_period).
ENTRYPOINT ["/usr/local/bin/indoxrouter-server"]
