#!/usr/bin/env bash
# Load test of bookings, the registration opening storm (issue 5): release build, its own
# throwaway cluster, Corbas with at least 2,000 synthetic children, 50 « accueil du matin »
# activities of 20 places each created through the back-office forms by the demo agent
# `admin`, then 2,000 wrk connections POSTing /api/v1/bookings for random (child, activity,
# open day) over DAYS days (50 × 20 × 10 = 10,000 places), so that the storm fills the
# places and overflows them (409 « complet »).
# Two runs, each on emptied places:
#   tempête  every client books again as soon as it is answered (closed loop): the most the
#            server takes. With C clients always waiting, the mean latency is C / throughput
#            (Little's law): 2,000 clients at 500 bookings/s wait 4 s on average.
#   cadencé  the same clients, out of step, with a pause of CONNECTIONS / RATE between two
#            bookings (4 s at most, under the server's 5 s keep-alive), so that together they
#            offer RATE requests/s: the latency at that pace, if the server keeps up with it.
# After each run, SQL checks: no activity and day holds more than 20 live bookings, and the
# counters (slot_counts) equal a fresh count of the bookings. Exit status 1 on overbooking
# or drift, whatever the speed.
# Targets (issue 5): ≥ 500 bookings/s, p99 < 200 ms, zero overbooking.
#   ops/load/bookings.sh [duration, default 30s] [connections, default 2000] [days, default 10]
# Environment:
#   MARELLE_LOAD_PG_DIR   cluster data directory (default var/load-bookings-pg, apart from
#                         families.sh so that both may run at once)
#   MARELLE_LOAD_PG_PORT  PostgreSQL port (default 54345)
#   MARELLE_LOAD_PORT     HTTP port of the measured server (default 18085)
#   MARELLE_LOAD_BIN      measure this marelle binary instead of building the release one
#   MARELLE_LOAD_RATE     requests/s offered by the paced run (default 500, at least
#                         CONNECTIONS / 4; 0: no paced run)
#   MARELLE_POOL_SIZE, MARELLE_WORKERS  the server's settings (default 16 connections, one
#                         worker per core)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
command -v wrk >/dev/null || ensure_packages wrk
command -v jq >/dev/null || ensure_packages jq
DURATION="${1:-30s}"
CONNECTIONS="${2:-2000}"
DAYS="${3:-10}"
THREADS=$((CONNECTIONS < 2 ? CONNECTIONS : 2))
RATE="${MARELLE_LOAD_RATE:-500}"
if [ "$RATE" != 0 ]; then
  PAUSE=$((CONNECTIONS * 1000 / RATE))
  [ "$PAUSE" -le 4000 ] || { echo "MARELLE_LOAD_RATE=$RATE : au moins $((CONNECTIONS / 4)) requêtes/s" \
    "pour $CONNECTIONS connexions (pause ≤ 4 s, sous les 5 s d'attente du serveur)" >&2; exit 1; }
fi
PORT="${MARELLE_LOAD_PORT:-18085}"
HOST=corbas.localhost
BASE="http://$HOST:$PORT"
ACTIVITIES=50
PLACES=20
CHILDREN=2000
BOOKINGS_TARGET=500
P99_TARGET_MS=200

# wrk holds a socket per connection, and so does the server.
files=$((CONNECTIONS + 1024))
if [ "$(ulimit -n)" -lt "$files" ]; then
  ulimit -n "$files" 2>/dev/null || {
    echo "ulimit -n $files refusé (limite $(ulimit -Hn)) : moins de connexions, ou relevez la limite" >&2
    exit 1
  }
fi
start_load_cluster load-bookings-pg 54345

# Children up to CHILDREN: a synthetic family has 1.7 children on average.
children() { sql "SELECT count(*) FROM city_corbas.persons WHERE kind = 'child'"; }
held="$(children)"
while [ "$held" -lt "$CHILDREN" ]; do
  "$MARELLE" demo --city corbas --families $(((CHILDREN - held) * 10 / 17 + 1)) | grep "foyers synthétiques" || true
  held="$(children)"
done
echo "corbas : $held enfants"

MARELLE_SECURE_COOKIES=false "$MARELLE" serve --bind "127.0.0.1:$PORT" &
SERVER=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# The agent `admin` signs in (CSRF cookie and field from the login page, session cookie from
# the 303), then creates the activities that are missing, each with its permanent capacity.
JAR="$WORK/cookies"
CURL=(curl -sS --resolve "$HOST:$PORT:127.0.0.1" -b "$JAR" -c "$JAR")
csrf_of() { "${CURL[@]}" -f "$BASE$1" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1; }
# post PATH field=value... : prints "status location".
post() {
  local path="$1" arg args=()
  shift
  for arg in "csrf=$CSRF" "$@"; do args+=(--data-urlencode "$arg"); done
  "${CURL[@]}" -o "$WORK/answer.html" -w '%{http_code} %{redirect_url}\n' "${args[@]}" "$BASE$path"
}
CSRF="$(csrf_of /agent/connexion)"
read -r status _ < <(post /agent/connexion login=admin password=Marelle-demo-2026)
[ "$status" = 303 ] || { echo "connexion de l'agent admin : HTTP $status au lieu de 303" >&2; exit 1; }
CSRF="$(csrf_of /agent/activites)"
[ -n "$CSRF" ] || { echo "champ csrf introuvable sur /agent/activites" >&2; exit 1; }
refused() { # what, status
  echo "$1 : HTTP $2 au lieu de 303" >&2
  sed -n 's/.*role="alert"[^>]*>\([^<]*\)<.*/  \1/p' "$WORK/answer.html" | head -3 >&2
  exit 1
}
today="$(TZ=Europe/Paris date +%F)"
created=0
for n in $(seq -w 1 "$ACTIVITIES"); do
  code="charge-$n"
  id="$(sql "SELECT id FROM city_corbas.activities WHERE code = '$code'")"
  if [ -z "$id" ]; then
    read -r status location < <(post /agent/activites "code=$code" "name=Accueil du matin $n (charge)" \
      kind=morning structure_id= description=)
    [ "$status" = 303 ] || refused "création de l'activité $code" "$status"
    id="${location##*/agent/activites/}"
    id="${id%%[#?]*}"
    created=$((created + 1))
  fi
  if [ "$(sql "SELECT count(*) FROM city_corbas.capacities WHERE activity_id = $id")" = 0 ]; then
    read -r status _ < <(post "/agent/activites/$id/capacites" kind=permanent group_id= unit_id= \
      day= "valid_from=$today" valid_to= "places=$PLACES" reason=charge)
    [ "$status" = 303 ] || refused "capacité de l'activité $code" "$status"
  fi
done
IDS="$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM city_corbas.activities WHERE code LIKE 'charge-%'")"
echo "activités : $ACTIVITIES accueils du matin de $PLACES places ($created créées par les formulaires)"
sql "SELECT count(*) FROM city_corbas.capacities
      WHERE activity_id IN ($IDS) AND places = $PLACES AND group_id IS NULL AND unit_id IS NULL
        AND day IS NULL AND valid_to IS NULL" | grep -qx "$ACTIVITIES" \
  || { echo "les $ACTIVITIES activités n'ont pas toutes une capacité permanente de $PLACES places" >&2; exit 1; }

# A token of the API (names are unique: one per run), and the open days from four days on
# (the booking notice is the day before at 18:00), as the API gives them.
TOKEN="$("$MARELLE" api-client create corbas --name "charge-$(date +%Y%m%d-%H%M%S)" --scope city_admin | tail -1)"
API=(curl -sS --resolve "$HOST:$PORT:127.0.0.1" -H "Authorization: Bearer $TOKEN")
from="$(TZ=Europe/Paris date -d '+4 days' +%F)"
to="$(TZ=Europe/Paris date -d '+92 days' +%F)"
mapfile -t days < <("${API[@]}" -f "$BASE/api/v1/activities/${IDS%%,*}/availability?from=$from&to=$to" \
  | jq -r '.items[] | select(.unit == "matin") | .date' | head -"$DAYS")
[ "${#days[@]}" = "$DAYS" ] || { echo "seulement ${#days[@]} jours d'ouverture entre $from et $to" >&2; exit 1; }
echo "jours : ${days[0]} … ${days[-1]} ($DAYS jours d'ouverture, $((ACTIVITIES * PLACES * DAYS)) places)"

{
  echo "children = {$(sql "SELECT string_agg(id::text, ',') FROM city_corbas.persons WHERE kind = 'child'")}"
  echo "activities = {$IDS}"
  printf 'days = {'; printf '"%s",' "${days[@]}"; echo '}'
} >"$WORK/data.lua"

# Each thread counts the answers by status (409 « complet » apart from other conflicts) and
# keeps one body of each unexpected status; done() adds the threads up.
cat >"$WORK/storm.lua" <<'LUA'
dofile(os.getenv("BOOKINGS_DATA"))
local pause = tonumber(os.getenv("PAUSE_MS"))
local starting = tonumber(os.getenv("CONNECTIONS_PER_THREAD"))
local threads, created = {}, 0
function setup(thread)
  created = created + 1
  thread:set("seed", created)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 100 + seed)
  counts, samples = {}, {}
end
if pause > 0 then
  -- Each connection first waits a random part of the pause, then the whole pause between two
  -- bookings: out of step, the clients offer a steady flow, without the burst of all first
  -- requests at once. (Never more than 4 s: the server closes a connection silent for 5 s.)
  function delay()
    if starting > 0 then
      starting = starting - 1
      return math.random(0, pause)
    end
    return pause
  end
end
function request()
  local body = string.format('{"child_id":%d,"activity_id":%d,"date":"%s","unit":"matin"}',
    children[math.random(#children)], activities[math.random(#activities)], days[math.random(#days)])
  return wrk.format("POST", "/api/v1/bookings", nil, body)
end
function response(status, headers, body)
  local key = tostring(status)
  if status == 409 then
    key = body:find('"error":"complet"', 1, true) and "409_complet" or "409_autre"
  end
  counts[key] = (counts[key] or 0) + 1
  if status ~= 201 and key ~= "409_complet" and not samples[key] then samples[key] = body:sub(1, 300) end
end
function done(summary, latency, requests)
  local counts, samples = {}, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("counts")) do counts[k] = (counts[k] or 0) + v end
    for k, v in pairs(thread:get("samples")) do samples[k] = v end
  end
  for k, v in pairs(counts) do io.write(string.format("STATUS %s %d\n", k, v)) end
  for k, v in pairs(samples) do io.write("SAMPLE ", k, " ", (v:gsub("%s+", " ")), "\n") end
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %.2f %.2f %d %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6), summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.connect, e.read + e.write, e.timeout, e.status))
end
LUA

# Empties the places of the load activities (bookings, waitlist, counters) under an audited
# actor, as the transaction helper would.
reset() {
  sql "BEGIN; SET LOCAL search_path = city_corbas; SET LOCAL marelle.user_id = 'charge';
       DELETE FROM waitlist WHERE activity_id IN ($IDS);
       DELETE FROM bookings WHERE activity_id IN ($IDS);
       DELETE FROM slot_counts WHERE activity_id IN ($IDS);
       COMMIT;"
  sql "VACUUM ANALYZE city_corbas.bookings, city_corbas.slot_counts, city_corbas.waitlist"
}

# Overbooked activity-days (live bookings above the capacity), counters that differ from a
# fresh count of the rows (as store::recount does), full activity-days, the span of the
# bookings and the time the first half of the places took. Bookings/s are read there: once
# most places are taken, most random requests find theirs full.
HALF=$((ACTIVITIES * PLACES * DAYS / 2))
CHECK_SQL="
SET search_path = city_corbas;
WITH live AS (SELECT activity_id, day, count(*) AS n FROM bookings
               WHERE activity_id IN ($IDS) AND state <> 'cancelled_in_time' GROUP BY 1, 2),
held AS (SELECT activity_id, group_id, unit_id, day FROM bookings
          WHERE activity_id IN ($IDS) AND state <> 'cancelled_in_time'
         UNION ALL
         SELECT activity_id, group_id, unit_id, day FROM waitlist
          WHERE activity_id IN ($IDS) AND status = 'offered'),
actual AS (SELECT activity_id, coalesce(group_id, 0) AS group_id, unit_id, day, count(*) AS n
             FROM held GROUP BY GROUPING SETS ((activity_id, group_id, unit_id, day), (activity_id, unit_id, day))),
counters AS (SELECT * FROM slot_counts WHERE structure_id = 0 AND activity_id IN ($IDS)),
drift AS (SELECT * FROM counters c FULL JOIN actual a USING (activity_id, group_id, unit_id, day)
           WHERE coalesce(c.taken, 0) <> coalesce(a.n, 0))
SELECT (SELECT count(*) FROM live WHERE n > $PLACES),
       (SELECT coalesce(max(n), 0) FROM live),
       (SELECT count(*) FROM drift),
       (SELECT count(*) FROM live WHERE n = $PLACES),
       (SELECT count(*) FROM bookings WHERE activity_id IN ($IDS)),
       (SELECT coalesce(extract(epoch FROM max(booked_at) - min(booked_at)), 0)::numeric(10, 2)
          FROM bookings WHERE activity_id IN ($IDS)),
       coalesce(extract(epoch FROM (SELECT booked_at FROM bookings WHERE activity_id IN ($IDS)
                                     ORDER BY booked_at OFFSET $((HALF - 1)) LIMIT 1)
                                 - (SELECT min(booked_at) FROM bookings WHERE activity_id IN ($IDS))), 0)::numeric(10, 2);"

# When wrk stops, the server still holds the requests it had queued (C / throughput seconds
# of them): wait until no transaction is left (three quiet looks in a row), so that the checks
# and the next emptying see every booking.
drain() {
  local quiet=0
  for _ in $(seq 600); do
    if [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'
                  AND pid <> pg_backend_pid() AND state <> 'idle'")" = 0 ]; then
      quiet=$((quiet + 1))
      [ "$quiet" -lt 3 ] || return 0
    else
      quiet=0
    fi
    sleep 0.2
  done
  echo "le serveur travaille encore deux minutes après la fin de wrk" >&2
  exit 1
}

# CPU ticks used so far: the whole machine (busy, idle), the server, and PostgreSQL (the
# postmaster, its live backends and those it has reaped).
cpu_ticks() {
  local postmaster
  postmaster="$(head -1 "$MARELLE_PG__DATA_DIR/postmaster.pid" 2>/dev/null || echo 0)"
  {
    head -1 /proc/stat
    cat /proc/[0-9]*/stat 2>/dev/null || true # some process ends meanwhile
  } | awk -v server="$SERVER" -v pm="$postmaster" '
    $1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9; idle = $5 + $6; next }
    { pid = $1; sub(/^[0-9]+ \(.*\) /, ""); own = $12 + $13
      if (pid == server) srv += own
      else if (pid == pm) pg += own + $14 + $15
      else if ($2 == pm) pg += own }
    END { print busy, idle, srv + 0, pg + 0 }'
}

declare -A RESULT CHECK CPU
FAILED=0
run() { # name pause_ms
  local name="$1" out before overbooked most drift full rows window half
  reset
  echo "== $name ($CONNECTIONS connexions, $DURATION$([ "$2" = 0 ] || echo ", pause de $2 ms entre deux demandes"))"
  before="$(cpu_ticks)"
  out="$(BOOKINGS_DATA="$WORK/data.lua" PAUSE_MS="$2" CONNECTIONS_PER_THREAD=$((CONNECTIONS / THREADS)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
    --timeout 10s --latency -s "$WORK/storm.lua" -H "Host: $HOST" -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" "http://127.0.0.1:$PORT")"
  grep -E "Requests/sec|Latency|^ +(50|75|90|99)%|Socket errors" <<<"$out" || true
  sed -n 's/^STATUS \([^ ]*\) /  HTTP \1 : /p' <<<"$out" | sort
  sed -n 's/^SAMPLE \([^ ]*\) /  exemple \1 : /p' <<<"$out"
  RESULT[$name]="$(sed -n 's/^RESULT //p' <<<"$out") $(sed -n 's/^STATUS 201 //p' <<<"$out")"
  CPU[$name]="$before $(cpu_ticks)"
  drain
  read -r overbooked most drift full rows window half < <(sql "$CHECK_SQL" | tr '|' ' ')
  CHECK[$name]="$overbooked $most $drift $full $rows $window $half"
  printf '  contrôle : %d réservations en base, %d/%d activités-jours complètes, au plus %d par activité-jour' \
    "$rows" "$full" "$((ACTIVITIES * DAYS))" "$most"
  printf ' ; %d activités-jours au-delà de %d places, %d compteurs faux\n' "$overbooked" "$PLACES" "$drift"
  if [ "$overbooked" != 0 ] || [ "$drift" != 0 ]; then
    FAILED=1
    sql "SET search_path = city_corbas;
         SELECT 'surréservé', activity_id, day, count(*) FROM bookings WHERE activity_id IN ($IDS)
            AND state <> 'cancelled_in_time' GROUP BY 2, 3 HAVING count(*) > $PLACES LIMIT 10" >&2
  fi
}
# A few bookings, one at a time, before measuring: they must answer 201 (warms the server up).
reset
for i in 1 2 3; do
  body="{\"child_id\":$(sql "SELECT id FROM city_corbas.persons WHERE kind = 'child' ORDER BY random() LIMIT 1"),\"activity_id\":${IDS%%,*},\"date\":\"${days[$i]}\",\"unit\":\"matin\"}"
  status="$("${API[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$BASE/api/v1/bookings")" || true
  [ "$status" = 201 ] || { echo "réservation d'essai : HTTP $status ($body)" >&2; exit 1; }
done
run tempête 0
[ "$RATE" = 0 ] || run cadencé "$PAUSE"

echo "== synthèse ($ACTIVITIES activités × $PLACES places × $DAYS jours, $held enfants, $(nproc) cœurs," \
  "pool ${MARELLE_POOL_SIZE:-16} connexions, ${MARELLE_WORKERS:-$(nproc)} workers, charge $(cut -d' ' -f1-3 /proc/loadavg))"
verdict() { # name
  local rps secs p50 p95 p99 max n connect rw timeout non2xx booked overbooked most drift full rows window half
  read -r rps secs p50 p95 p99 max n connect rw timeout non2xx booked <<<"${RESULT[$1]}"
  read -r overbooked most drift full rows window half <<<"${CHECK[$1]}"
  local per_s fill_s ok ok_places
  per_s="$(echo "scale=1; ${booked:-0} / $secs" | bc)"
  # Bookings in the database over the span of their transactions (the requests the server
  # still answered after wrk had stopped included), until half the places are taken.
  if [ "$(echo "$half > 0" | bc)" = 1 ]; then
    fill_s="$(echo "scale=1; $HALF / $half" | bc)"
  else
    fill_s="$(echo "scale=1; if ($window > 0) $rows / $window else 0" | bc)"
  fi
  if [ "$1" = tempête ]; then
    ok="atteint"; [ "$(echo "$fill_s >= $BOOKINGS_TARGET" | bc)" = 1 ] || ok="MANQUÉ"
    printf '%-9s %7s req/s  201 : %s/s vus par wrk ; %s/s en base' "$1" "$rps" "$per_s" "$fill_s"
    [ "$(echo "$half > 0" | bc)" = 0 ] || printf ' (la moitié des places en %s s)' "$half"
    printf '  (objectif ≥ %s réservations/s : %s)\n' "$BOOKINGS_TARGET" "$ok"
    printf '%-9s p50 %8s ms  p95 %8s ms  p99 %8s ms  max %8s ms  (boucle fermée : %s clients attendent' \
      "" "$p50" "$p95" "$p99" "$max" "$CONNECTIONS"
    printf ' %s ms en moyenne ; p99 < %s ms y demanderait %s req/s)\n' \
      "$(echo "$CONNECTIONS * 1000 / $rps" | bc)" "$P99_TARGET_MS" "$((CONNECTIONS * 1000 / P99_TARGET_MS))"
  else
    printf '%-9s %7s req/s servies sur %s offertes  201 : %s/s\n' "$1" "$rps" "$RATE" "$per_s"
    ok="atteint"; [ "$(echo "$p99 < $P99_TARGET_MS" | bc)" = 1 ] || ok="MANQUÉ"
    printf '%-9s p50 %8s ms  p95 %8s ms  p99 %8s ms  max %8s ms  (objectif p99 < %s ms : %s)\n' \
      "" "$p50" "$p95" "$p99" "$max" "$P99_TARGET_MS" "$ok"
  fi
  ok_places="aucune surréservation, compteurs exacts"
  [ "$overbooked" = 0 ] && [ "$drift" = 0 ] || ok_places="SURRÉSERVATION ($overbooked) / DÉRIVE ($drift)"
  printf '%-9s %s ; erreurs de socket : %s connexion, %s lecture/écriture, %s délais dépassés\n' \
    "" "$ok_places" "$connect" "$rw" "$timeout"
  local b0 i0 s0 p0 b1 i1 s1 p1 hz
  read -r b0 i0 s0 p0 b1 i1 s1 p1 <<<"${CPU[$1]}"
  hz="$(getconf CLK_TCK)"
  printf '%-9s CPU pendant wrk, par requête : serveur %s ms, PostgreSQL %s ms ; machine occupée à %s %%' \
    "" "$(echo "scale=2; ($s1 - $s0) * 1000 / $hz / $n" | bc)" "$(echo "scale=2; ($p1 - $p0) * 1000 / $hz / $n" | bc)" \
    "$(echo "($b1 - $b0) * 100 / ($b1 - $b0 + $i1 - $i0)" | bc)"
  printf ', dont %s %% pour wrk et les autres travaux\n' \
    "$(echo "(($b1 - $b0) - ($s1 - $s0) - ($p1 - $p0)) * 100 / ($b1 - $b0 + $i1 - $i0)" | bc)"
}
verdict tempête
[ "$RATE" = 0 ] || verdict cadencé
exit "$FAILED"
