#!/usr/bin/env bash
# Python package: builds the `indoxrouter` extension (debug) into
# .venv/python with maturin and runs its pytest suite against the provider
# simulator. Needs python3 (with venv) and a Rust toolchain; pip reaches PyPI
# once to fill .venv/python.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in
  /*) ;;
  *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;;
esac

venv=.venv/python
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "maturin==1.16.0" "pytest==9.2.0"

cargo build -q -p indoxrouter-simulator --locked
# bindings/python is its own workspace (see its Cargo.toml), with its own lock.
VIRTUAL_ENV="$PWD/$venv" "$venv/bin/maturin" develop --quiet --locked \
  --manifest-path bindings/python/Cargo.toml

"$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests "$@"
