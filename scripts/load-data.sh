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
. scripts/lib/server.sh
cargo build --release --locked -q
DATA="$(mktemp -d)"
export MODGATE_ADMIN_PASSWORD="load-test-password"
export MODGATE_LOG="warn"
BIN=./target/release/modgate
echo "== seeding $CUSTOMERS customers x $ORDERS orders"
/usr/bin/time -f "   seeded in %e s" $BIN --data-dir "$DATA" seed-demo --customers "$CUSTOMERS" --orders-per-customer "$ORDERS"
start_server "$BIN" "$PORT"
ADMIN_TOKEN=$(token_for admin "$MODGATE_ADMIN_PASSWORD")
curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
    -d '{"username":"sales1","password":"sales1-password","roles":[],"businessRoles":["sales"]}' "$BASE/api/users" >/dev/null
TOKEN=$(token_for sales1 sales1-password)
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
