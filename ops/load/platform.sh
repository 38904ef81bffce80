#!/usr/bin/env bash
# Load test of the platform foundation (release build, own throwaway cluster):
# 50 provisioned cities, then wrk against a city's portal home and /healthz, then the
# server's resident memory. Targets: >= 3,000 req/s with p99 < 20 ms; RSS < 150 MB.
#   ops/load/platform.sh [duration, default 20s] [connections, default 32]
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
command -v wrk >/dev/null || ensure_packages wrk
DURATION="${1:-20s}"
CONNECTIONS="${2:-32}"
PORT=18080

cargo build --release --locked --quiet
MARELLE="$TARGET_DIR/release/marelle"
export MARELLE_PG__DATA_DIR="$ROOT/var/load-pg" MARELLE_PG__PORT=54340 MARELLE_PG__UNSAFE_FAST=true
export MARELLE_LOG=warn
"$MARELLE" db start >/dev/null
trap '[ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; "$MARELLE" db stop >/dev/null 2>&1 || true' EXIT
"$MARELLE" migrate >/dev/null
"$MARELLE" demo --city corbas >/dev/null
existing="$("$MARELLE" tenant list --json | grep -c '"slug": "charge' || true)"
started=$(date +%s.%N)
for i in $(seq $((existing + 1)) 50); do
  "$MARELLE" tenant create "charge$i" --name "Ville de charge $i" --host "charge$i.localhost" >/dev/null
done
echo "villes de charge créées en $(echo "$(date +%s.%N) - $started" | bc) s (CLI compris)"

"$MARELLE" serve --bind "127.0.0.1:$PORT" &
SERVER=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# Touch every city once so all of them are resolved and cached, as in production.
for i in $(seq 50); do curl -fs -H "Host: charge$i.localhost" "http://127.0.0.1:$PORT/" >/dev/null; done

run() {
  echo "== $1"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Host: $2" "http://127.0.0.1:$PORT$3" \
    | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors"
}
run "portail famille de Corbas" corbas.localhost /
run "healthz" corbas.localhost /healthz
echo "== mémoire de marelle serve (50 villes, après la charge)"
grep -E "VmRSS|VmHWM" "/proc/$SERVER/status"
