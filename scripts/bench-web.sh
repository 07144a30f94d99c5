#!/usr/bin/env bash
# Web speed against a peer on the same server in the same run: wrk (Debian's package) fetching
# customer 360 pages of random customers the signed-in user may see, the team's week (my week's
# calendar, the Monday meeting's view), pre-visit briefs of random planned visits in reach,
# visit coverage, the funnel, the team's opportunity kanban and random opportunities' pages,
# 32 connections for 30 s each, then the trivial /healthz route of the same server
# the same way. Prints p50/p99 latency, requests/s and errors for each, and each page's throughput
# as a share of the trivial route's.
# Usage: scripts/bench-web.sh [sqlite|postgres] [SCALE] (default sqlite demo).
# The bank is built once per backend and scale under $KAM_BENCH_DIR (default /tmp/kam-bench-web);
# PostgreSQL is a throwaway cluster from the system's binaries, run as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
scale="${2:-demo}"
work="${KAM_BENCH_DIR:-/tmp/kam-bench-web}"
user="${KAM_BENCH_USER:-ho.kam1}"
password="Kam-demo-2026"
duration="${KAM_BENCH_SECONDS:-30}"
mkdir -p "$work"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

if [ -n "${KAM_BIN:-}" ]; then
  kam="$KAM_BIN"   # a binary at hand (e.g. to try the script quickly)
else
  cargo build --release -q -p kam
  kam="$PWD/target/release/kam"
fi
port=$((20000 + RANDOM % 20000))

case "$backend" in
  sqlite)
    args=(--data-dir "$work/$scale-sqlite")
    ;;
  postgres)
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    pgdir="$work/pg"
    pgport=$((40000 + RANDOM % 10000))
    if [ ! -f "$pgdir/PG_VERSION" ]; then
      mkdir -p "$pgdir"
      chown postgres "$pgdir" 2>/dev/null || true
      su postgres -s /bin/sh -c "$pgbin/initdb -D $pgdir -A trust -U postgres" >/dev/null 2>&1
    fi
    su postgres -s /bin/sh -c "$pgbin/pg_ctl -D $pgdir -w -l $pgdir/log -o '-p $pgport -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=50' start" >/dev/null
    trap 'su postgres -s /bin/sh -c "$pgbin/pg_ctl -D $pgdir -w -m fast stop" >/dev/null 2>&1 || true' EXIT
    su postgres -s /bin/sh -c "$pgbin/createdb -h 127.0.0.1 -p $pgport kam_$scale" 2>/dev/null || true
    args=(--database "postgres://postgres@127.0.0.1:$pgport/kam_$scale" --facts "$work/$scale-pg-facts")
    ;;
  *) echo "usage: $0 [sqlite|postgres] [SCALE]" >&2; exit 2 ;;
esac

if [ ! -f "$work/$scale-$backend.built" ]; then
  echo "building the $scale bank on $backend (once)…"
  "$kam" "${args[@]}" demo --no-serve --scale "$scale" >"$work/$scale-$backend.build.log"
  touch "$work/$scale-$backend.built"
fi

"$kam" "${args[@]}" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; su postgres -s /bin/sh -c "${pgbin:-/bin}/pg_ctl -D ${pgdir:-/nonexistent} -w -m fast stop" >/dev/null 2>&1 || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done

# Sign in the way a browser does, then make an API token to list the customers in reach.
jar="$work/cookies"; rm -f "$jar"
csrf() { grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//;s/"//'; }
token=$(curl -s -c "$jar" -b "$jar" "$base/sign-in" | csrf)
curl -s -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf=$token" --data-urlencode "username=$user" \
  --data-urlencode "password=$password" --data-urlencode "next=/" "$base/sign-in"
token=$(curl -s -b "$jar" "$base/me" | csrf)
api=$(curl -s -L -c "$jar" -b "$jar" --data-urlencode "csrf=$token" --data-urlencode "name=bench" "$base/me/tokens" \
  | grep -o 'id="new-token">[^<]*' | sed 's/.*>//')
session=$(grep kam_session "$jar" | awk '{print $NF}')
paths="$work/paths.txt"; : >"$paths"
for page in $(seq 1 20); do
  curl -s -H "Authorization: Bearer $api" "$base/api/v1/customers?page_size=500&page=$page" \
    | { grep -o '"cif_no":"[^"]*"' || true; } | sed 's/"cif_no":"\(.*\)"/\/customers\/\1/' >>"$paths"
done
count=$(wc -l <"$paths")
echo "user $user sees $(curl -s -H "Authorization: Bearer $api" "$base/api/v1/customers?page_size=1" | grep -o '"total":[0-9]*' | cut -d: -f2) customers; $count of them are fetched at random"

# Planned visits in reach over the coming two weeks: their pre-visit briefs.
briefs="$work/briefs.txt"
from=$(date +%F); to=$(date -d '+13 days' +%F)
curl -s -H "Authorization: Bearer $api" "$base/api/v1/calendar?from=$from&to=$to&mine=false" \
  | { grep -o '"id":[0-9]*,"cif_no":"[^"]*"' || true; } \
  | sed 's/"id":\([0-9]*\),"cif_no":"\(.*\)"/\/customers\/\2\/activities\/\1\/brief/' >"$briefs"
echo "$(wc -l <"$briefs") planned visits in reach over two weeks: their briefs are fetched at random"
# Opportunities in reach: their pages.
deals="$work/opportunities.txt"
curl -s -H "Authorization: Bearer $api" "$base/api/v1/opportunities?mine=false" \
  | { grep -o '"id":[0-9]*,"cif_no"' || true; } | sed 's/"id":\([0-9]*\),.*/\/opportunities\/\1/' >"$deals"
echo "$(wc -l <"$deals") opportunities in reach (at most 1,000 listed): their pages are fetched at random"

random_paths() { # file → a wrk script fetching its paths at random with the session
  local file="$1" lua="$1.lua"
  cat >"$lua" <<LUA
local paths = {}
for line in io.lines("$file") do paths[#paths + 1] = line end
wrk.headers["Cookie"] = "kam_session=$session"
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
LUA
  echo "$lua"
}
lua=$(random_paths "$paths")
one="$work/one-page.lua"
cat >"$one" <<LUA
wrk.headers["Cookie"] = "kam_session=$session"
LUA

run() { # name, extra wrk args…
  local name="$1"; shift
  local out; out=$(wrk -t2 -c32 -d"${duration}s" --latency "$@")
  local rps p50 p99 errors non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-10s requests/s %10s   p50 %8s   p99 %8s   socket errors %s   non-2xx %s\n' \
    "$name" "$rps" "$p50" "$p99" "${errors:-0}" "${non2xx:-0}"
  last_rps="$rps"
}
echo "backend $backend, scale $scale, wrk -t2 -c32 -d${duration}s"
declare -A rps
run "360" -s "$lua" "$base"; rps[360]="$last_rps"
run "week" -s "$one" "$base/week?who=team"; rps[week]="$last_rps"
if [ -s "$briefs" ]; then
  run "brief" -s "$(random_paths "$briefs")" "$base"; rps[brief]="$last_rps"
fi
run "coverage" -s "$one" "$base/coverage"; rps[coverage]="$last_rps"
run "funnel" -s "$one" "$base/opportunities/funnel"; rps[funnel]="$last_rps"
run "kanban" -s "$one" "$base/opportunities?view=kanban&who=team"; rps[kanban]="$last_rps"
if [ -s "$deals" ]; then
  run "deal" -s "$(random_paths "$deals")" "$base"; rps[deal]="$last_rps"
fi
run "trivial" "$base/healthz"
rps_trivial="$last_rps"
for page in 360 week brief coverage funnel kanban deal; do
  [ -n "${rps[$page]:-}" ] || continue
  awk -v n="$page" -v a="${rps[$page]}" -v b="$rps_trivial" \
    'BEGIN { printf "%s throughput / trivial route throughput: %.1f%%\n", n, 100 * a / b }'
done 
