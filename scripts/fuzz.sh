#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset `fuzz`: clang, ASan + UBSan, every library
# instrumented) and runs each on a fresh copy of its seed corpus (tests/fuzz/corpus/<target>/,
# with tests/fuzz/<target>.dict when there is one) for CARDSMITH_FUZZ_SECONDS seconds
# (default 30; CARDSMITH_FUZZ_ARGS adds libFuzzer flags). Exits non-zero when any target crashes, leaks, times out on one input or runs
# out of memory; the input that did it is left in build/fuzz/artifacts/<target>/ (replay it
# with `build/fuzz/fuzzers/<target> <file>`). docs/testing.md, "Fuzzing".
#   bash scripts/fuzz.sh                   every target
#   bash scripts/fuzz.sh fuzz_config ...   only these
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${CARDSMITH_FUZZ_SECONDS:-30}"
out=build/fuzz

configure=(--preset fuzz)
if command -v ccache >/dev/null; then
  configure+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake "${configure[@]}" >/dev/null
cmake --build --preset fuzz -j"$(nproc)"

targets=("$@")
if ((${#targets[@]} == 0)); then
  for dir in tests/fuzz/corpus/*/; do
    targets+=("$(basename "$dir")")
  done
fi

export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=()
summary=()
for target in "${targets[@]}"; do
  fuzzer="$out/fuzzers/$target"
  [ -x "$fuzzer" ] || { echo "no such fuzz target: $target" >&2; exit 2; }
  corpus="$out/corpus/$target"
  artifacts="$out/artifacts/$target"
  log="$out/logs/$target.log"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp tests/fuzz/corpus/"$target"/* "$corpus"/
  # One input may take 10 s and the process 2 GB before libFuzzer calls it a failure. The
  # entropic schedule is off: with every library instrumented (~340k counters) its per-feature
  # bookkeeping cost 2-5x the executions in a short run, for no more coverage.
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048
        -entropic=0 -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -f "tests/fuzz/$target.dict" ] && args+=(-dict="tests/fuzz/$target.dict")
  # shellcheck disable=SC2206
  args+=(${CARDSMITH_FUZZ_ARGS:-})
  echo "fuzzing $target for ${seconds}s"
  if "$fuzzer" "${args[@]}" "$corpus" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
    grep -E "ERROR|runtime error|SUMMARY|property failed|Test unit written" "$log" | head -20 >&2 || true
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  summary+=("$(printf '%-22s %-7s %9s runs %7s exec/s  cov %s' "$target" "$status" \
    "${runs:-?}" "${rate:-?}" "${cov:-?}")")
done

printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzzing failed: ${failed[*]} (inputs in $out/artifacts/, logs in $out/logs/)" >&2
  exit 1
fi
