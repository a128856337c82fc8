#!/usr/bin/env bash
# A live preview's pages beside the same live pages (docs/preview.md): one person,
# the same records (1,000 demo customers), wrk -t2 -c8 on each page in turn, and the
# ratio preview / live. Then twenty records written in the preview, so its lists merge
# the sandbox with production, and the list again.
#
#   cargo build --release -p modgate && scripts/load-preview.sh
#   DURATION=10s scripts/load-preview.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-target/release/modgate}"
DURATION="${DURATION:-6s}"
PORT="${PORT:-18181}"
export MODGATE_ADMIN_PASSWORD="preview-load-password"
export MODGATE_LOG="warn"
unset DATABASE_URL
. scripts/lib/server.sh

DATA="$(mktemp -d)"
"$BIN" --data-dir "$DATA" seed-demo --customers 1000 --orders-per-customer 1 >/dev/null
start_server "$BIN" "$PORT"
jar="$DATA/cookies"
csrf=$(curl -sf -c "$jar" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$MODGATE_ADMIN_PASSWORD\"}" "$BASE/api/auth/login" | json '["csrfToken"]')
session=$(awk '/modgate_session/ {print $7}' "$jar")
api() { curl -sf -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' "$@"; }
module=$(api -d '{"name":"Loyalty","description":"points"}' "$BASE/api/modules" | json '["id"]')
api -o /dev/null -d '{"prompt":"add an integer field loyaltyPoints to Customer with default 0 and min 0"}' \
    "$BASE/api/modules/$module/generate"
token=$(api -X POST "$BASE/api/modules/$module/versions/1/preview" | json '["token"]')
customer=$(api "$BASE/api/data/Customer?perPage=1" | json '["items"][0]["id"]')

rate() {
    wrk -t2 -c8 -d"$DURATION" -H "Cookie: modgate_session=$session" "$1" | awk '/Requests\/sec/ {print $2}'
}
row() {
    local live preview
    live=$(rate "$BASE$2")
    preview=$(rate "$BASE/preview/$token$3")
    printf '| %-34s | %9s | %9s | %5.2f |\n' "$1" "$live" "$preview" "$(python3 -c "print($live / $preview)")"
}
echo "| page (req/s)                       |      live |   preview | live/preview |"
echo "|---|---:|---:|---:|"
row "customer list (20 of 1,000)" "/crm/customer.list" "/customer.list"
row "customer detail" "/crm/o/Customer/$customer" "/o/Customer/$customer"
for i in $(seq 20); do
    api -o /dev/null -d "{\"name\":\"P$i\",\"email\":\"p$i@x.test\",\"loyaltyPoints\":$i}" \
        "$BASE/api/preview/$token/data/Customer"
done
row "customer list, 20 sandbox records" "/crm/customer.list" "/customer.list"
