#!/usr/bin/env bash
# HTTP load test of a release build on this machine (loopback only, bounded in time).
#
#   scripts/load.sh            # SQLite in a temporary data dir
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/modgate_load scripts/load.sh
#
# Needs Debian's wrk (apt-get install wrk). Prints wrk's summary (requests/s and
# latency percentiles) for each endpoint and the server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "install wrk: apt-get install wrk" >&2; exit 2; }

DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18090}"
. scripts/lib/server.sh
cargo build --release --locked -q
export MODGATE_ADMIN_PASSWORD="load-test-password"
export MODGATE_LOG="warn"
start_server ./target/release/modgate "$PORT"
TOKEN=$(token_for admin "$MODGATE_ADMIN_PASSWORD")

run() {
    echo "== $1"
    shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors" || true
}
run "GET /healthz (no auth, no database)" "$BASE/healthz"
run "GET /readyz (database ping)" "$BASE/readyz"
run "GET /api/me (bearer token; identity cached for 5 s)" -H "Authorization: Bearer $TOKEN" "$BASE/api/me"
run "GET /api/audit?perPage=20 (bearer, filtered page + count)" -H "Authorization: Bearer $TOKEN" "$BASE/api/audit?perPage=20&action=auth"
# A patch's dry run (parse, validate against the live spec, diff): the editor calls it
# as a person types.
cat > "$DATA/dry-run.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
local f = io.open("examples/patches/object-loyalty-points.json", "r")
wrk.body = f:read("*a")
f:close()
LUA
run "POST /api/patch/dry-run (4-operation patch, bearer)" -s "$DATA/dry-run.lua" "$BASE/api/patch/dry-run"
run "GET /api/models (bearer)" -H "Authorization: Bearer $TOKEN" "$BASE/api/models"
echo "== server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
