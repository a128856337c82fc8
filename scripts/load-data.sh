#!/usr/bin/env bash
# Load test of the data API at 100,000 records, as a business user (sales) whose
# permissions are checked on every request. Loopback only, bounded in time.
#
#   scripts/load-data.sh                         # SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/modgate_load scripts/load-data.sh
#
# Seeds 4,762 customers with 20 orders each (100,002 records), then runs wrk on
#   GET /api/data/Order/{id}                          (one record by id)
#   GET /api/data/Order?customer={id}&perPage=20      (a filtered list of 20 rows + total)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk: apt-get install wrk" >&2; exit 2; }

DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18093}"
CUSTOMERS="${CUSTOMERS:-4762}"
ORDERS="${ORDERS:-20}"
cargo build --release --locked -q
DATA="$(mktemp -d)"
export MODGATE_ADMIN_PASSWORD="load-test-password"
export MODGATE_LOG="warn"
BIN=./target/release/modgate
echo "== seeding $CUSTOMERS customers x $ORDERS orders"
/usr/bin/time -f "   seeded in %e s" $BIN --data-dir "$DATA" seed-demo --customers "$CUSTOMERS" --orders-per-customer "$ORDERS"
$BIN --data-dir "$DATA" serve --bind "127.0.0.1:$PORT" > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT"
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
CSRF=$(curl -sf -c "$DATA/admin" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$MODGATE_ADMIN_PASSWORD\"}" "$BASE/api/auth/login" | json '["csrfToken"]')
curl -sf -b "$DATA/admin" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' \
    -d '{"username":"sales1","password":"sales1-password","roles":[],"businessRoles":["sales"]}' "$BASE/api/users" >/dev/null
CSRF=$(curl -sf -c "$DATA/sales" -H 'content-type: application/json' \
    -d '{"username":"sales1","password":"sales1-password"}' "$BASE/api/auth/login" | json '["csrfToken"]')
TOKEN=$(curl -sf -b "$DATA/sales" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' \
    -d '{"name":"load"}' "$BASE/api/tokens" | json '["secret"]')
AUTH="Authorization: Bearer $TOKEN"
CUSTOMER=$(curl -sf -H "$AUTH" "$BASE/api/data/Customer?perPage=1&sort=-createdAt" | json '["items"][0]["id"]')
ORDER=$(curl -sf -H "$AUTH" "$BASE/api/data/Order?customer=$CUSTOMER&perPage=1" | json '["items"][0]["id"]')
echo "   list returns $(curl -sf -H "$AUTH" "$BASE/api/data/Order?customer=$CUSTOMER&perPage=20" | json '["items"].__len__()') rows"

run() {
    echo "== $1"
    shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|  50%|  99%|Non-2xx|Socket errors" || true
}
run "GET /api/data/Order/{id} as sales" -H "$AUTH" "$BASE/api/data/Order/$ORDER"
run "GET /api/data/Order?customer={id}&perPage=20 as sales" -H "$AUTH" "$BASE/api/data/Order?customer=$CUSTOMER&perPage=20"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
