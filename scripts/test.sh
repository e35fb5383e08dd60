#!/usr/bin/env bash
# Quick start, command 2: the same set-up, then every test: the Release build, then the
# AddressSanitizer + UndefinedBehaviorSanitizer build, then each libFuzzer target for
# CARDSMITH_FUZZ_SECONDS (default 30; scripts/fuzz.sh). CARDSMITH_SKIP_SANITIZERS=1 and
# CARDSMITH_SKIP_FUZZ=1 leave those out. .ci/run calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
./build/cardsmith dev-certs
# playwright-core for the browser test, from the committed lock (again when the lock changes).
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.cardsmith-lock; then
  npm ci --prefix tests/browser --no-audit --no-fund
  cp tests/browser/package-lock.json tests/browser/node_modules/.cardsmith-lock
fi
ctest --preset release -j2
if [ "${CARDSMITH_SKIP_SANITIZERS:-0}" != "1" ]; then
  bash scripts/build.sh asan-ubsan
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan-ubsan -j2
fi
if [ "${CARDSMITH_SKIP_FUZZ:-0}" != "1" ]; then
  bash scripts/fuzz.sh
fi
