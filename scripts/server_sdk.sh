#!/usr/bin/env bash
# The official OpenAI Python SDK against indoxrouter-server's OpenAI-compatible
# /v1, with the provider simulator as the upstream
# (indoxrouter-server/tests/sdk). Needs python3 (with venv) and a Rust
# toolchain; pip reaches PyPI once to fill .venv/server-sdk, and nothing else
# touches the network. Extra arguments go to pytest (e.g. -k stream -x).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in
  /*) ;;
  *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;;
esac

cargo build -q --locked -p indoxrouter-server -p indoxrouter-simulator --bins

venv=.venv/server-sdk
requirements=indoxrouter-server/tests/sdk/requirements.txt
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Pins are exact, so once they are installed this is a quick local no-op.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"

"$venv/bin/python" -m pytest -q -p no:cacheprovider indoxrouter-server/tests/sdk "$@"
