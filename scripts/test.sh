#!/usr/bin/env bash
# The whole test suite. Needs a Rust toolchain and python3; no API keys, and no
# network beyond PyPI for the pinned conformance SDKs
# (the provider simulator stands in for every provider).
set -euo pipefail
cd "$(dirname "$0")/.."

# One target directory for every build (Rust, and later the Python/Node bindings).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# The front-door test holds 2,000 slow connections (both ends in one
# process): raise the soft descriptor limit toward the hard one.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

echo "== Rust: unit, integration and doc tests"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
# Every committed fuzz input (seed corpora, past crashes) through its target;
# scripts/fuzz.sh does the coverage-guided runs.
cargo test --manifest-path tests/fuzz/Cargo.toml --locked

echo "== Example runs against the simulator"
out=$(cargo run --quiet --locked -p indoxrouter --example chat)
echo "$out"
grep -q '^reply: ' <<<"$out"
# 23 prompt + 18 completion tokens on gpt-4o-mini, exactly.
grep -qx 'usage: 23 prompt + 18 completion = 41 tokens' <<<"$out"
grep -qx 'cost:  \$0.00001425' <<<"$out"
# Every provider: chat, stream and a tool call; the streamed charge equals the plain one.
out=$(cargo run --quiet --locked -p indoxrouter --example providers)
echo "$out"
for p in openai anthropic gemini cohere mistral; do grep -q "^== $p/" <<<"$out"; done
[[ $(grep -c '^reply: ' <<<"$out") -eq 5 && $(grep -c '^tool: ' <<<"$out") -eq 5 ]]

echo "== Conformance: official OpenAI, Anthropic, Google GenAI, Cohere and Mistral Python SDKs against the simulator"
./scripts/conformance.sh

echo "== Server conformance: the official OpenAI Python SDK against indoxrouter-server"
./scripts/server_sdk.sh

echo "== API docs: /openapi.json valid, /docs and /redoc render in headless Chromium, schemathesis finds nothing"
./scripts/docs_check.sh

echo "== Python package: indoxrouter (pyo3) against the simulator"
./scripts/python.sh

echo "== Node package: indoxrouter (napi-rs) against the simulator"
./scripts/node.sh
