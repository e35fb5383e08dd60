#!/usr/bin/env bash
# Installs the Debian 12 packages Cardsmith needs to build, test and benchmark, if missing
# (chromium and fonts for the browser test; tzdata for /usr/share/zoneinfo, which the
# time zone code reads; postgresql for the tests' throwaway server, started by the tests
# themselves: tests/support/pg_cluster.hpp; python3-yaml, nginx and docker-compose for the
# checks of docker/ without Docker: tests/unit/docker, which runs `nginx -t` and uses
# docker-compose only to validate the compose file; clang with its compiler-rt, which
# holds libFuzzer, and llvm for llvm-symbolizer: the fuzz targets, scripts/fuzz.sh).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-test1.81-dev
  libssl-dev libzip-dev zlib1g-dev libnghttp2-dev libqrencode-dev libsqlite3-dev libpq-dev
  libtomlplusplus-dev clang-format python3 curl nghttp2-client wrk zbar-tools tidy tzdata
  chromium fonts-liberation postgresql python3-yaml nginx docker-compose
  clang libclang-rt-14-dev llvm
)
# The browser test (tests/browser) runs on Node.js 20+ with npm. Machines of this kind come
# with one; only where `node` is missing do Debian's packages stand in.
command -v node >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
