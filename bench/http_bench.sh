#!/usr/bin/env bash
# HTTP benchmark with wrk (Debian package) against a Release build on loopback:
# the pkpass download (cached signed pass) and GET /api/v1/cards/{n}, requests/s and p99;
# plus the server's resident memory when idle and after the load.
# usage: bench/http_bench.sh [seconds (default 10)] [connections (default 32)]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-32}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x build/cardsmith ] || bash scripts/build.sh release
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
build/cardsmith dev-certs --out "$dir/certs" >/dev/null
cat > "$dir/c.toml" <<TOML
[server]
listen = "127.0.0.1:0"
port_file = "$dir/port"
[storage]
url = "sqlite:$dir/c.db"
[admin]
key = "bench-admin-key-0123456789"
[apple]
cert = "$dir/certs/pass.pem"
key = "$dir/certs/pass.key"
wwdr = "$dir/certs/wwdr.pem"
[log]
level = "warn"
# The server's throughput, not its abuse limits, is measured.
[limits]
ip_per_minute = 0
key_per_minute = 0
auth_failures = 0
TOML
build/cardsmith serve --config "$dir/c.toml" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
port=$(cat "$dir/port")
base="http://127.0.0.1:$port"
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status"; }
sleep 1
echo "idle RSS after start: $(rss)"
admin="Authorization: Bearer bench-admin-key-0123456789"
key=$(curl -s -H "$admin" --json '{"name":"Bench"}' "$base/api/v1/merchants" |
      python3 -c 'import json,sys;print(json.load(sys.stdin)["apiKey"])')
auth="Authorization: Bearer $key"
curl -s -H "$auth" "$base/api/v1/programs" \
     --json '{"slug":"bench","name":"Bench","template":"coffee"}' >/dev/null
card=$(curl -s -H "$auth" --json '{"holder":{"name":"A"}}' "$base/api/v1/programs/bench/cards")
number=$(echo "$card" | python3 -c 'import json,sys;print(json.load(sys.stdin)["cardNumber"])')
pkpass=$(echo "$card" | python3 -c 'import json,sys;print(json.load(sys.stdin)["links"]["pkpass"])')
pkpass_path="/${pkpass#*://*/}"
echo "machine: $(nproc) cores; wrk -t2 -c$conns -d${secs}s --latency"
echo "--- GET $pkpass_path (signed pass, served from the cache)"
wrk -t2 -c"$conns" -d"${secs}s" --latency "$base$pkpass_path" | grep -E 'Requests/sec|99%|Transfer/sec'
echo "--- GET /api/v1/cards/{n} (auth + 2 SQLite reads + JSON)"
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "$auth" "$base/api/v1/cards/$number" |
    grep -E 'Requests/sec|99%'
echo "RSS after load: $(rss)"
