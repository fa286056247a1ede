#!/usr/bin/env bash
# Python package: builds the `indoxrouter` extension (debug) into
# .venv/python with maturin, type-checks the examples and a typed usage file
# with mypy against the package's annotations and stubs, and runs its pytest
# suite against the provider simulator (direct mode) and a real
# indoxrouter-server in front of it (hosted mode). Needs python3 (with venv)
# and a Rust toolchain; pip reaches PyPI once to fill .venv/python. Extra
# arguments go to pytest (e.g. -k hosted -x).
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
  "maturin==1.16.0" "pytest==9.2.0" "mypy==2.4.1"

# The hosted tests start the server binary; both tests start the simulator.
cargo build -q -p indoxrouter-server -p indoxrouter-simulator --locked
# bindings/python is its own workspace (see its Cargo.toml), with its own lock.
VIRTUAL_ENV="$PWD/$venv" "$venv/bin/maturin" develop --quiet --locked \
  --manifest-path bindings/python/Cargo.toml

# mypy --strict over the package's own sources (annotations and
# _native.pyi, the stub of the extension), and over the examples and
# tests/typing/usage.py, which use the installed package (py.typed) as a
# user's project would; no cache is written into the tree.
"$venv/bin/python" -m mypy --strict --cache-dir=/dev/null \
  bindings/python/python/indoxrouter examples/python bindings/python/tests/typing/usage.py

"$venv/bin/python" -m pytest -q -p no:cacheprovider bindings/python/tests "$@"
