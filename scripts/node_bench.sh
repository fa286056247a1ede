#!/usr/bin/env bash
# Node binding benchmark: builds the release addon, starts the static nginx
# upstream of scripts/bench_server.sh, and runs bindings/node/bench/bench.mjs
# (indoxrouter next to the official openai SDK). Installs nginx-light if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac
UP_PORT=${UPSTREAM_PORT:-18080}
WORK=$(mktemp -d /tmp/indoxrouter-node-bench.XXXXXX)
cleanup() {
  [[ -f $WORK/nginx.pid ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
if ! command -v nginx >/dev/null; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
sed "s#@DIR@#$WORK#g; s#@PORT@#$UP_PORT#g" scripts/bench/upstream.nginx.conf >"$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$UP_PORT/v1/models" && break; sleep 0.1; done
cd bindings/node
npm ci --no-audit --no-fund --loglevel=error
npx napi build --platform --release
UPSTREAM="http://127.0.0.1:$UP_PORT/v1" node bench/bench.mjs
