#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo-afl (AFL++), which works on stable Rust.
# Builds the targets in tests/fuzz with AFL instrumentation, fuzzes each for
# SECONDS from its committed corpus (tests/fuzz/corpus/<target>), and prints
# executions, coverage and crashes per target. Any crash fails the run; its
# input is left in the output directory to become a regression input.
#
#   ./scripts/fuzz.sh [SECONDS] [TARGET...]     # default: 10 s, every target
#
# Installs cargo-afl (pinned) when it is missing. Findings go to
# $CARGO_TARGET_DIR/fuzz/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac

seconds="${1:-10}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sse provider_response provider_stream server_request)

if ! cargo afl --version >/dev/null 2>&1; then
  cargo install cargo-afl --locked --version 0.18.2 --quiet
fi
# Instrumented builds get their own target directory: their flags differ,
# and sharing one would rebuild everything back and forth.
afl_target="$CARGO_TARGET_DIR/afl"
CARGO_TARGET_DIR="$afl_target" cargo afl build --release --locked --quiet --features afl \
  --manifest-path tests/fuzz/Cargo.toml

# A container has no CPU frequency governor to ask, and crash reports may go
# to a pipe: AFL++ would refuse to start for either.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
export AFL_QUIET=1

failed=0
printf '| target | seconds | executions | execs/s | corpus | edges covered | crashes |\n|---|---|---|---|---|---|---|\n'
for t in "${targets[@]}"; do
  out="$CARGO_TARGET_DIR/fuzz/$t"
  rm -rf "$out"
  mkdir -p "$out"
  cargo afl fuzz -i "tests/fuzz/corpus/$t" -o "$out" -V "$seconds" -- "$afl_target/release/$t" \
    > "$out.log" 2>&1 || { echo "afl-fuzz failed for $t; see $out.log" >&2; tail -20 "$out.log" >&2; exit 1; }
  stats="$out/default/fuzzer_stats"
  val() { sed -n "s/^$1 *: *//p" "$stats"; }
  crashes=$(val saved_crashes)
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$seconds" "$(val execs_done)" \
    "$(val execs_per_sec)" "$(val corpus_count)" "$(val bitmap_cvg)" "$crashes"
  if [ "${crashes:-0}" != "0" ]; then
    echo "  crashing inputs: $out/default/crashes/" >&2
    failed=1
  fi
done
exit "$failed"
