#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build (Release), create development
# certificates if absent, and start the server on http://127.0.0.1:8080 with SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
./build/cardsmith dev-certs
exec ./build/cardsmith serve --config config/cardsmith.toml
