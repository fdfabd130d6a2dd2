#!/usr/bin/env bash
# `scripts/fuzz.sh build` only builds the targets. `scripts/fuzz.sh` builds them (if not built)
# and runs every cargo-fuzz target of fuzz/ for PURL_FUZZ_SECONDS seconds each (default 60), as many
# at once as there are cores (PURL_FUZZ_JOBS), with
# libFuzzer's 1 s limit per input, starting from the committed corpus (fuzz/corpus/<target>/).
# New inputs go to target/fuzz-corpus/<target>/; a crash or a slow input fails the run and is
# kept in fuzz/artifacts/<target>/. Each target's figure is appended to
# target/reliability/figures.txt.
#
# Needs cargo-fuzz (installed here if missing); on a stable toolchain RUSTC_BOOTSTRAP=1 lets it
# use the coverage flags. No sanitizer: the project has no unsafe code, and libFuzzer catches
# panics, slow inputs and memory blow-ups by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${PURL_FUZZ_SECONDS:-60}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  # A debug build: cargo-fuzz only starts cargo and the fuzzer, and builds in a fraction of the time.
  cargo install cargo-fuzz --locked --version 0.13.2 --debug
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$PWD/target/fuzz"
mkdir -p target/reliability
(cd fuzz && cargo fuzz build -O --sanitizer none)
if [ "${1:-}" = build ]; then
  exit 0
fi
# Each libFuzzer run uses one core: run as many targets at once as there are cores.
jobs="${PURL_FUZZ_JOBS:-$(nproc)}"

fuzz_one() {
  local target="$1"
  mkdir -p "target/fuzz-corpus/$target"
  local log="target/fuzz-corpus/$target.log"
  echo "fuzzing $target for ${seconds}s"
  if ! (cd fuzz && cargo fuzz run -O --sanitizer none "$target" "../target/fuzz-corpus/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target failed: see fuzz/artifacts/$target/" >&2
    return 1
  fi
  local runs coverage found line
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  found=$(find "target/fuzz-corpus/$target" -type f | wc -l)
  line="fuzz $target: ${seconds} s, $runs inputs run, 0 panics, 0 inputs over 1 s, coverage $coverage edges, $found new corpus inputs"
  echo "$line"
  echo "$line" >> target/reliability/figures.txt
}

failed=0
running=()
for target in $(cd fuzz && cargo fuzz list); do
  fuzz_one "$target" &
  running+=("$!")
  if [ "${#running[@]}" -ge "$jobs" ]; then
    wait "${running[0]}" || failed=1
    running=("${running[@]:1}")
  fi
done
for pid in "${running[@]}"; do
  wait "$pid" || failed=1
done
exit "$failed"
