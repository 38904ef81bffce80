#!/usr/bin/env bash
# Load test of the family dossier (release build, own throwaway cluster, the one of
# platform.sh): Corbas filled up to 20,000 synthetic households, an agent signed in, then wrk
# on the back-office search (names, first name + name, typos, family numbers, birth dates,
# streets) and on household pages (500 random households).
# Targets (issue 4): search p95 < 30 ms, household page p95 < 50 ms. wrk waits up to 10 s
# for an answer, so that slow requests count in the percentiles instead of being dropped.
#   ops/load/families.sh [duration, default 20s] [connections, default 8] [households, default 20000]
# Environment (so that two runs on one machine keep apart, or to compare two builds):
#   MARELLE_LOAD_PG_DIR   cluster data directory (default var/load-pg; its password and port
#                         are kept in <dir>.url: a copied directory needs its .url naming its port)
#   MARELLE_LOAD_PG_PORT  PostgreSQL port (default 54340)
#   MARELLE_LOAD_PORT     HTTP port of the measured server (default 18080)
#   MARELLE_LOAD_BIN      measure this marelle binary instead of building the release one
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
command -v wrk >/dev/null || ensure_packages wrk
DURATION="${1:-20s}"
CONNECTIONS="${2:-8}"
THREADS=$((CONNECTIONS < 2 ? CONNECTIONS : 2))
TARGET="${3:-20000}"
PORT="${MARELLE_LOAD_PORT:-18080}"
HOST=corbas.localhost
BASE="http://$HOST:$PORT"
PASSWORD=Marelle-demo-2026
SEARCH_TARGET_MS=30
HOUSEHOLD_TARGET_MS=50
command -v jq >/dev/null || ensure_packages jq
start_load_cluster load-pg 54340

# Households up to TARGET: a generated family is one household, or two when the parents
# are separated (about 15 %), so ask for a little less than what is missing, then top up.
households() { sql "SELECT count(*) FROM city_corbas.households"; }
held="$(households)"
initial="$held"
started=$(date +%s.%N)
while [ "$held" -lt "$TARGET" ]; do
  missing=$((TARGET - held))
  ask=$((missing * 100 / 116))
  [ "$ask" -ge 1 ] || ask=1
  out="$("$MARELLE" demo --city corbas --families "$ask")"
  grep "foyers synthétiques" <<<"$out" || true
  held="$(households)"
done
if [ "$held" -gt "$initial" ]; then
  printf 'corbas : %d foyers (%d ajoutés en %.0f s, CLI compris)\n' "$held" "$((held - initial))" \
    "$(echo "$(date +%s.%N) - $started" | bc)"
else
  echo "corbas : $held foyers (déjà en place)"
fi
# Every table of Corbas (search tables included) vacuumed and analysed, as autovacuum would
# have them in production, also right after a migration has rewritten them.
sql "VACUUM (ANALYZE) $(sql "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
                            FROM pg_tables WHERE schemaname = 'city_corbas'")"

MARELLE_SECURE_COOKIES=false "$MARELLE" serve --bind "127.0.0.1:$PORT" &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# An agent signs in: the login page hands out the CSRF cookie and field, the form gives the
# session cookie (303). wrk sends both cookies.
JAR="$WORK/cookies"
CURL=(curl -sS --resolve "$HOST:$PORT:127.0.0.1" -b "$JAR" -c "$JAR")
csrf="$("${CURL[@]}" -f "$BASE/agent/connexion" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)"
[ -n "$csrf" ] || { echo "champ csrf introuvable sur /agent/connexion" >&2; exit 1; }
status="$("${CURL[@]}" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$csrf" \
  --data-urlencode login=admin --data-urlencode "password=$PASSWORD" "$BASE/agent/connexion")"
[ "$status" = 303 ] || { echo "connexion de l'agent admin : HTTP $status au lieu de 303" >&2; exit 1; }
COOKIE="$(awk -F'\t' 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$JAR")"
grep -q marelle_agent <<<"$COOKIE" || { echo "pas de cookie de session agent" >&2; exit 1; }

# Search queries an agent types: names of the demo generator (src/domain/family/demo.rs),
# first name + name, typos, family numbers and birth dates that exist, streets.
lua_string() { sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/  "&",/'; }
{
  echo "queries = {"
  printf '%s\n' martin Martin DUBOIS lefèvre Lefevre "da silva" nguyen Traoré guérin haddad \
    "Léa Martin" "karim haddad" "Emma Dubois" "Nathalie Girard" "théo moreau" "Chloé Bernard" \
    lefebre rousel gautiier bertrant chevallier fourier mercié "durant lucas" \
    "rue pasteur" "chemin des vignes" "allée des tilleuls" "avenue jean-moulin" "impasse des lilas" \
    | lua_string
  sql "SELECT number FROM city_corbas.households ORDER BY random() LIMIT 8" | lua_string
  sql "SELECT to_char(birth_date, 'DD/MM/YYYY') FROM city_corbas.persons
        WHERE kind = 'child' AND birth_date IS NOT NULL ORDER BY random() LIMIT 8" | lua_string
  echo "}"
  cat <<'LUA'
local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
paths = {}
for i, q in ipairs(queries) do paths[i] = "/agent/familles?q=" .. encode(q) end
LUA
} >"$WORK/search-paths.lua"
{
  echo "paths = {"
  sql "SELECT id FROM city_corbas.households WHERE status = 'active' ORDER BY random() LIMIT 500" \
    | sed 's|.*|  "/agent/familles/&",|'
  echo "}"
} >"$WORK/household-paths.lua"

# Each thread starts at a different place in the list and walks it round; done() prints the
# figures wrk's --latency leaves out (p95) on one line the summary reads back.
cat >"$WORK/rotate.lua" <<'LUA'
dofile(os.getenv("PATHS_FILE"))
local i = 0
function init(args) i = math.random(#paths) end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %.2f %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
LUA

# Every search and the first 50 household pages answer 200 before measuring (this also
# warms the server up).
# Prints "milliseconds path" for each.
check() {
  local bad=0 path code ms
  while read -r path; do
    read -r code ms < <("${CURL[@]}" -o /dev/null -w '%{http_code} %{time_total}\n' "$BASE$path")
    [ "$code" = 200 ] || { echo "HTTP $code : $path" >&2; bad=1; }
    echo "$(echo "$ms * 1000" | bc) $path"
  done < <(PATHS_FILE="$1" lua_paths)
  return $bad
}
lua_paths() {
  # The paths a Lua file defines, without a Lua interpreter: search paths are rebuilt here.
  if grep -q '^queries' "$PATHS_FILE"; then
    sed -n 's/^  "\(.*\)",$/\1/p' "$PATHS_FILE" | sed 's/\\"/"/g; s/\\\\/\\/g' \
      | while read -r q; do printf '/agent/familles?q=%s\n' "$(jq -rn --arg q "$q" '$q|@uri')"; done
  else
    sed -n 's/^  "\(.*\)",$/\1/p' "$PATHS_FILE" | head -50
  fi
}
check "$WORK/search-paths.lua" >"$WORK/search-times"
check "$WORK/household-paths.lua" >/dev/null
echo "== recherche, une requête à la fois avant la charge : médiane $(sort -n "$WORK/search-times" \
  | awk '{ t[NR] = $1 } END { printf "%.1f", t[int((NR + 1) / 2)] }') ms ; les plus lentes :"
sort -rn "$WORK/search-times" | head -10 | while read -r ms path; do
  printf '%8.1f ms  « %b »\n' "$ms" "$(sed 's/%\([0-9A-F][0-9A-F]\)/\\x\1/g' <<<"${path#*q=}")"
done

declare -A RESULT
run() {
  local name="$1" file="$2" out
  echo "== $name ($CONNECTIONS connexions, $DURATION)"
  out="$(PATHS_FILE="$file" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s "$WORK/rotate.lua" \
    -H "Host: $HOST" -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT")"
  grep -E "Requests/sec|Latency|^ +(50|75|90|99)%|Non-2xx|Socket errors" <<<"$out"
  RESULT[$name]="$(sed -n 's/^RESULT //p' <<<"$out")"
}
run recherche "$WORK/search-paths.lua"
run foyer "$WORK/household-paths.lua"

echo "== synthèse ($held foyers à Corbas, $(nproc) cœurs, charge $(cut -d' ' -f1-3 /proc/loadavg))"
verdict() { # name target_ms
  local rps p50 p95 p99 max n non2xx sockerr ok
  read -r rps p50 p95 p99 max n non2xx sockerr <<<"${RESULT[$1]}"
  ok="atteint"; [ "$(echo "$p95 < $2" | bc)" = 1 ] || ok="MANQUÉ"
  [ "$non2xx" = 0 ] && [ "$sockerr" = 0 ] || ok="$ok — $non2xx réponses non 2xx, $sockerr erreurs de socket"
  printf '%-10s %8s req/s  p50 %7s ms  p95 %7s ms  p99 %7s ms  (objectif p95 < %s ms : %s)\n' \
    "$1" "$rps" "$p50" "$p95" "$p99" "$2" "$ok"
}
verdict recherche "$SEARCH_TARGET_MS"
verdict foyer "$HOUSEHOLD_TARGET_MS"
