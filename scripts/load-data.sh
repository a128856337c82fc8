#!/usr/bin/env bash
# Load test of the data API at 100,000 records beside the floor, on SQLite and (when
# DATABASE_URL is set) PostgreSQL. Loopback only, bounded in time.
#
#   scripts/load-data.sh                                                        # SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/modgate_load scripts/load-data.sh  # both
#
# 1. The floor (../shared/bench/floor.sh, when present): axum + rusqlite over one
#    table, no auth; its by_id and list figures are the yardstick.
# 2. Per backend, a fresh database: `modgate seed-demo` makes 4,762 customers with 20
#    orders each (100,002 records, timed), then wrk (same threads, connections,
#    warm-up and duration as the floor) as a business user (sales, bearer token)
#    whose permissions are checked on every request:
#      by_id   GET  /api/data/Order/{id}                      a random order
#      list    GET  /api/data/Order?customer={id}&perPage=20  a random customer's
#                                                             orders, with the total
#      create  POST /api/data/Order                           a new order (validated,
#                                                             numbered, referenced)
#    and a CSV import of 20,000 customers (timed).
# 3. One table: req/s, the ratio to the floor, PostgreSQL against SQLite, records/s
#    of the bulk writes, and the server's peak RSS.
#
# Environment: DURATION (20s) WARMUP (5s) THREADS (2) CONNS (32) PORT (18093)
#   CUSTOMERS (4762) ORDERS (20) IMPORT_ROWS (20000) FLOOR=0 skips the floor.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk: apt-get install wrk" >&2; exit 2; }

export DURATION="${DURATION:-20s}" WARMUP="${WARMUP:-5s}" THREADS="${THREADS:-2}" CONNS="${CONNS:-32}"
PORT="${PORT:-18093}"
CUSTOMERS="${CUSTOMERS:-4762}"
ORDERS="${ORDERS:-20}"
IMPORT_ROWS="${IMPORT_ROWS:-20000}"
RECORDS=$((CUSTOMERS * ORDERS + CUSTOMERS))
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
declare -A R

# ---- 1. the floor --------------------------------------------------------------
FLOOR_SH=../shared/bench/floor.sh
if [ "${FLOOR:-1}" != 0 ] && [ -x "$FLOOR_SH" ]; then
    echo "== floor: $FLOOR_SH $RECORDS"
    "$FLOOR_SH" "$RECORDS" > "$OUT/floor.txt" 2>"$OUT/floor.log" || { tail -20 "$OUT/floor.log" >&2; exit 1; }
    R[floor_by_id]=$(awk -F'|' '$2 ~ /by_id/ {gsub(/ /,"",$3); print $3}' "$OUT/floor.txt" | tail -1)
    R[floor_list]=$(awk -F'|' '$2 ~ /list/ {gsub(/ /,"",$3); print $3}' "$OUT/floor.txt" | tail -1)
    echo "   by_id ${R[floor_by_id]} req/s, list ${R[floor_list]} req/s"
else
    echo "== floor: skipped (FLOOR=0 or no $FLOOR_SH)"
fi

# ---- 2. Modgate ----------------------------------------------------------------------
cargo build --release --locked -q
BIN=./target/release/modgate
export MODGATE_ADMIN_PASSWORD="load-test-password" MODGATE_LOG="warn"
. scripts/lib/server.sh

# wrk_run NAME SCRIPT PATH ARG AUTH: warm-up, then the measured run; stores R[backend_NAME].
wrk_run() {
    local name="$1" script="$2" path="$3" arg="$4" line
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$script" -H "$AUTH" "$BASE" -- "$path" "$arg" >/dev/null
    line=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" -H "$AUTH" "$BASE" -- "$path" "$arg" | grep '^RESULT')
    echo "   $name: $line"
    R[${BACKEND}_$name]=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
    R[${BACKEND}_${name}_p99]=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")
    local bad
    bad=$(sed -E 's/.*non2xx=([0-9]+) socket_errors=([0-9]+).*/\1 \2/' <<<"$line")
    [ "$bad" = "0 0" ] || { echo "   $name: errors (non-2xx, socket): $bad" >&2; exit 1; }
}

# measure BACKEND: a fresh database, seeded and loaded; fills R[BACKEND_*].
measure() {
    BACKEND="$1"
    DATA="$(mktemp -d)"
    if [ "$BACKEND" = postgres ]; then
        local db admin
        db=$(python3 -c "import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).path.lstrip('/'))" "$DATABASE_URL")
        admin=$(python3 -c "import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path='/postgres').geturl())" "$DATABASE_URL")
        psql -q "$admin" -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\"" >/dev/null
        export DATABASE_URL
    else
        unset DATABASE_URL
    fi
    echo "== $BACKEND: seeding $CUSTOMERS customers x $ORDERS orders ($RECORDS records)"
    local t0 t1
    t0=$(date +%s.%N)
    $BIN --data-dir "$DATA" seed-demo --customers "$CUSTOMERS" --orders-per-customer "$ORDERS" >/dev/null
    t1=$(date +%s.%N)
    R[${BACKEND}_seed]=$(python3 -c "print(round($RECORDS / ($t1 - $t0)))")
    echo "   seeded in $(python3 -c "print(round($t1 - $t0, 1))") s: ${R[${BACKEND}_seed]} records/s"
    start_server "$BIN" "$PORT"
    trap 'kill $SERVER 2>/dev/null || true; rm -rf "$OUT" "${DATA:-}"' EXIT
    local admin_token
    admin_token=$(token_for admin "$MODGATE_ADMIN_PASSWORD")
    curl -sf -H "Authorization: Bearer $admin_token" -H 'content-type: application/json' \
        -d '{"username":"sales1","password":"sales1-password","roles":[],"businessRoles":["sales"]}' "$BASE/api/users" >/dev/null
    AUTH="Authorization: Bearer $(token_for sales1 sales1-password)"
    # Ids to pick from at random: 10,000 orders and every customer.
    : > "$OUT/orders.txt"; : > "$OUT/customers.txt"
    for page in $(seq 1 20); do
        curl -sf -H "$AUTH" "$BASE/api/data/Order?perPage=500&page=$page" \
            | python3 -c "import sys, json; [print(r['id']) for r in json.load(sys.stdin)['items']]" >> "$OUT/orders.txt"
    done
    for page in $(seq 1 $(( (CUSTOMERS + 499) / 500 ))); do
        curl -sf -H "$AUTH" "$BASE/api/data/Customer?perPage=500&page=$page" \
            | python3 -c "import sys, json; [print(r['id']) for r in json.load(sys.stdin)['items']]" >> "$OUT/customers.txt"
    done
    local one
    one=$(head -1 "$OUT/customers.txt")
    local rows
    rows=$(curl -sf -H "$AUTH" "$BASE/api/data/Order?customer=$one&perPage=20" | json '["items"].__len__()')
    [ "$rows" = 20 ] || { echo "the list returns $rows rows, expected 20" >&2; exit 1; }
    wrk_run by_id scripts/lib/ids.lua "/api/data/Order/{id}" "$OUT/orders.txt"
    wrk_run list scripts/lib/ids.lua "/api/data/Order?customer={id}&perPage=20" "$OUT/customers.txt"
    printf '{"customer":"%s","amount":"99.50","currency":"CNY","orderDate":"2026-11-30"}' "$one" > "$OUT/order.json"
    wrk_run create scripts/lib/post.lua "/api/data/Order" "$OUT/order.json"
    python3 - "$IMPORT_ROWS" > "$OUT/import.csv" <<'PY'
import sys
print("name,email,company,tier,creditLimit")
for i in range(int(sys.argv[1])):
    print(f"Imported {i},imported{i}@load.test,Company {i % 97},{['bronze','silver','gold'][i % 3]},{1000 + i % 50}.00")
PY
    local took
    took=$(curl -sf -o "$OUT/import.json" -w '%{time_total}' -H "$AUTH" -H 'content-type: text/csv' \
        --data-binary @"$OUT/import.csv" "$BASE/api/data/Customer/import")
    [ "$(json '["created"]' < "$OUT/import.json")" = "$IMPORT_ROWS" ] || { cat "$OUT/import.json" >&2; exit 1; }
    R[${BACKEND}_import]=$(python3 -c "print(round($IMPORT_ROWS / $took))")
    echo "   import of $IMPORT_ROWS customers in ${took} s: ${R[${BACKEND}_import]} records/s"
    R[${BACKEND}_rss]=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVER/status")
    echo "   server peak RSS: ${R[${BACKEND}_rss]} MB"
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    rm -rf "$DATA"
    unset DATA
}

PG_URL="${DATABASE_URL:-}"
measure sqlite
if [ -n "$PG_URL" ]; then
    DATABASE_URL="$PG_URL" measure postgres
fi

# ---- 3. the table --------------------------------------------------------------
ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print(f'{float(a) / float(b):.2f}' if a and b else '–')" "${1:-}" "${2:-}"; }
echo
echo "### data API — $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$THREADS -c$CONNS -d$DURATION (warm-up $WARMUP), $RECORDS records"
echo
echo "| | floor | SQLite | SQLite / floor | PostgreSQL | PostgreSQL / SQLite |"
echo "|---|---:|---:|---:|---:|---:|"
for m in by_id list; do
    echo "| $m (req/s, p99 ${R[sqlite_${m}_p99]:-–} / ${R[postgres_${m}_p99]:-–} ms) | ${R[floor_$m]:-–} | ${R[sqlite_$m]} | $(ratio "${R[sqlite_$m]}" "${R[floor_$m]:-}") | ${R[postgres_$m]:-–} | $(ratio "${R[postgres_$m]:-}" "${R[sqlite_$m]}") |"
done
echo "| create (req/s) | | ${R[sqlite_create]} | | ${R[postgres_create]:-–} | $(ratio "${R[postgres_create]:-}" "${R[sqlite_create]}") |"
echo "| seed-demo (records/s) | | ${R[sqlite_seed]} | | ${R[postgres_seed]:-–} | $(ratio "${R[postgres_seed]:-}" "${R[sqlite_seed]}") |"
echo "| CSV import (records/s) | | ${R[sqlite_import]} | | ${R[postgres_import]:-–} | $(ratio "${R[postgres_import]:-}" "${R[sqlite_import]}") |"
echo "| server peak RSS (MB) | | ${R[sqlite_rss]} | | ${R[postgres_rss]:-–} | |"
