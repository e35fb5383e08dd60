#!/usr/bin/env bash
# Fails when a C++ file differs from .clang-format (skipped when clang-format is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "clang-format not installed: format check skipped"
  exit 0
fi
files=$(git ls-files '*.cpp' '*.hpp')
[ -z "$files" ] && exit 0
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files; then
  echo "format check failed: run clang-format -i on the files above"
  exit 1
fi
