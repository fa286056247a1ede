#!/usr/bin/env bash
# Conformance: the official OpenAI, Mistral, Anthropic, Google (google-genai)
# and Cohere Python SDKs, pointed at the provider simulator, must accept and
# parse its responses.
# Needs python3 (with venv) and a Rust toolchain; pip reaches PyPI once to
# fill .venv/conformance, and nothing else touches the network.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in
  /*) ;;
  *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;;
esac

venv=.venv/conformance
requirements=tests/conformance/requirements.txt
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Pins are exact, so once they are installed this is a quick local no-op.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"

cargo build -q -p indoxrouter-simulator --locked

"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/conformance
