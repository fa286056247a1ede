#!/usr/bin/env bash
# The API documentation against a running server: /docs (Swagger UI) and
# /redoc (ReDoc) rendered in headless Chromium must show every operation of
# /openapi.json, and schemathesis fuzzing every operation must find no
# server error and no response that violates the document.
#
# Self-installing and idempotent: Debian's `chromium` (apt) if missing, a
# pinned schemathesis in .venv/schemathesis (PyPI); builds the server and
# the provider simulator (debug) and runs them on 127.0.0.1 ephemeral ports
# with a temporary data directory (indoxrouter-server/tests/docs/docs_check.py
# does the rest). Bounded to a few minutes. Extra arguments go to
# docs_check.py (e.g. --skip-browser, --max-examples 5).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in
  /*) ;;
  *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;;
esac

if ! command -v chromium >/dev/null 2>&1; then
  echo "docs_check: installing Debian's chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

venv=.venv/schemathesis
requirements=indoxrouter-server/tests/docs/requirements.txt
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Pins are exact, so once installed this is a quick local no-op.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"

cargo build -q --locked -p indoxrouter-server -p indoxrouter-simulator --bins

exec "$venv/bin/python" indoxrouter-server/tests/docs/docs_check.py \
  --bin-dir "$CARGO_TARGET_DIR/debug" --schemathesis "$venv/bin/schemathesis" "$@"
