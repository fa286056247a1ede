#!/usr/bin/env bash
# The whole test suite. Needs only a Rust toolchain; no network, no API keys
# (the provider simulator stands in for every provider).
set -euo pipefail
cd "$(dirname "$0")/.."

# One target directory for every build (Rust, and later the Python/Node bindings).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

echo "== Rust: unit, integration and doc tests"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked

echo "== Example runs against the simulator"
out=$(cargo run --quiet --locked -p indoxrouter --example chat)
echo "$out"
grep -q '^reply: ' <<<"$out"
# 23 prompt + 18 completion tokens on gpt-4o-mini, exactly.
grep -qx 'usage: 23 prompt + 18 completion = 41 tokens' <<<"$out"
grep -qx 'cost:  \$0.00001425' <<<"$out"
