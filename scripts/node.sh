#!/usr/bin/env bash
# Node package tests: installs the pinned npm dependencies (npm ci), builds
# the addon in debug (`napi build --platform`) and the provider simulator and
# indoxrouter-server in the shared CARGO_TARGET_DIR (default ./target), runs
# `node --test` against the simulator (direct mode) and a real server in
# front of it (hosted mode), and type-checks the TypeScript examples with
# `tsc --noEmit`.
#
#   ./scripts/node.sh
#
# Needs Node.js ≥ 18 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac

command -v node >/dev/null || { echo "node.sh: Node.js is required" >&2; exit 1; }
cargo build --locked -q -p indoxrouter-server -p indoxrouter-simulator
cd bindings/node
npm ci --no-audit --no-fund --loglevel=error
npx napi build --platform
node --test test/*.test.mjs
npx tsc --noEmit -p tsconfig.json
echo "tsc: examples/node type-check OK"
