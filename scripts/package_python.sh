#!/usr/bin/env bash
# The Python package as users will get it: builds the release abi3 wheel
# (manylinux-tagged, checked by maturin's auditwheel step) and the sdist,
# installs the wheel into a fresh virtual environment, and runs the smoke
# tests there with no Rust toolchain on PATH — direct and hosted mode, a
# stream, the exception classes — plus mypy --strict on a user's file.
# Needs python3 and a Rust toolchain (to build); PyPI for pytest and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in
  /*) ;;
  *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;;
esac

builder=.venv/python
if [ ! -x "$builder/bin/python" ]; then
  python3 -m venv "$builder"
fi
"$builder/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==1.16.0"

out="$CARGO_TARGET_DIR/wheels"
rm -rf "$out"
"$builder/bin/maturin" build --release --locked --quiet \
  --manifest-path bindings/python/Cargo.toml --out "$out"
"$builder/bin/maturin" sdist --manifest-path bindings/python/Cargo.toml --out "$out" >/dev/null
wheel=$(ls "$out"/indoxrouter-*.whl)
case "$(basename "$wheel")" in
  *-cp39-abi3-manylinux_2_*x86_64*.whl) ;;
  *) echo "unexpected wheel tag: $(basename "$wheel")" >&2; exit 1 ;;
esac
ls "$out"/indoxrouter-*.tar.gz >/dev/null
echo "built $(basename "$wheel") and $(basename "$out"/indoxrouter-*.tar.gz)"

# The smoke tests start the simulator and the server (debug binaries).
cargo build -q -p indoxrouter-server -p indoxrouter-simulator --locked

user=$(mktemp -d)
trap 'rm -rf "$user"' EXIT
# A user's machine: the venv and the system, no cargo or rustc.
no_rust() {
  if PATH="$1" command -v cargo >/dev/null || PATH="$1" command -v rustc >/dev/null; then
    echo "a Rust toolchain is on the clean PATH" >&2
    exit 1
  fi
}

# mypy --strict from outside the repository, as a user's project: only the
# installed package (py.typed, stubs) can satisfy `import indoxrouter`.
python3 -m venv "$user/typed"
"$user/typed/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" "mypy==2.4.1"
clean_path="$user/typed/bin:/usr/local/bin:/usr/bin:/bin"
no_rust "$clean_path"
mkdir "$user/project"
cp examples/python/*.py bindings/python/tests/typing/usage.py "$user/project/"
(cd "$user/project" && PATH="$clean_path" "$user/typed/bin/python" -m mypy --strict \
  --cache-dir=/dev/null .)

# The smoke tests under every CPython from the lowest supported (3.9) to
# 3.13 that this machine has (pyenv's, or python3.N on PATH), each in a
# fresh venv with only the wheel and pytest.
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
ran=0
for minor in 9 10 11 12 13; do
  interp=$(ls -d "$pyenv_root"/versions/3."$minor".*/bin/python3 2>/dev/null | tail -1 || true)
  [ -n "$interp" ] || interp=$(command -v "python3.$minor" || true)
  [ -n "$interp" ] || continue
  venv="$user/py3$minor"
  "$interp" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" "pytest==8.4.2"
  clean_path="$venv/bin:/usr/local/bin:/usr/bin:/bin"
  no_rust "$clean_path"
  PATH="$clean_path" "$venv/bin/python" -c \
    "import indoxrouter; assert 'site-packages' in indoxrouter.__file__, indoxrouter.__file__"
  echo "== smoke tests, $("$venv/bin/python" --version)"
  PATH="$clean_path" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    bindings/python/tests/test_sync.py bindings/python/tests/test_streaming.py \
    bindings/python/tests/test_errors.py bindings/python/tests/test_hosted.py
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "no CPython 3.9-3.13 found" >&2; exit 1; }
echo "the wheel passed its smoke tests under $ran Python versions"
