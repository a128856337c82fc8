#!/usr/bin/env bash
# The API contract, checked from outside: schemathesis (PyPI) generates requests from
# /api/openapi.json, runs them against a real server with an admin token, and fails
# on any server error, any response outside its documented schema or status codes,
# and the rest of its checks.
#
#   scripts/contract.sh                 # SQLite in a temporary data dir
#   EXAMPLES=200 SEED=7 scripts/contract.sh
#
# One check is left out: `positive_data_acceptance` expects every request that
# fits the JSON Schema to succeed, but some rules cannot be said in a schema (a
# version that does not exist, a whitespace-only name, a model id nobody has); the
# API refuses those with 422 and says why, as it should.
#
# SCHEMATHESIS points at the command (default: a venv in target/schemathesis-venv,
# made on first use).
set -euo pipefail
cd "$(dirname "$0")/.."

EXAMPLES="${EXAMPLES:-30}"
SEED="${SEED:-20261130}"
PORT="${PORT:-18095}"
VENV="target/schemathesis-venv"
SCHEMATHESIS="${SCHEMATHESIS:-$VENV/bin/schemathesis}"
if ! [ -x "$SCHEMATHESIS" ]; then
    echo "== installing schemathesis into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q 'schemathesis>=4,<5'
fi

cargo build --locked -q -p modgate
DATA="$(mktemp -d)"
export MODGATE_ADMIN_PASSWORD="contract-test-password"
export MODGATE_LOG="warn"
env -u DATABASE_URL ./target/debug/modgate --data-dir "$DATA" serve --bind "127.0.0.1:$PORT" > "$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT"
COOKIES="$DATA/cookies"
CSRF=$(curl -sf -c "$COOKIES" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$MODGATE_ADMIN_PASSWORD\"}" "$BASE/api/auth/login" |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["csrfToken"])')
TOKEN=$(curl -sf -b "$COOKIES" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' \
    -d '{"name":"contract"}' "$BASE/api/tokens" | python3 -c 'import sys, json; print(json.load(sys.stdin)["secret"])')

status=0
"$SCHEMATHESIS" run "$BASE/api/openapi.json" \
    -H "Authorization: Bearer $TOKEN" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$EXAMPLES" --seed "$SEED" --workers 2 || status=$?
if grep -q "panicked" "$DATA/server.log"; then
    echo "the server panicked during the run:" >&2
    grep -A5 "panicked" "$DATA/server.log" >&2
    exit 1
fi
exit $status
