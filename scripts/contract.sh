#!/usr/bin/env bash
# The API contract, checked from outside: schemathesis (PyPI) generates requests from
# /api/openapi.json, runs them against a real server with an admin token, and fails
# on any server error, any response outside its documented schema or status codes,
# and the rest of its checks.
#
#   scripts/contract.sh                 # SQLite in a temporary data dir
#   EXAMPLES=200 SEED=7 scripts/contract.sh
#
# Which checks run is in scripts/schemathesis.toml: all of them, but
# `positive_data_acceptance` (some rules cannot be said in a schema), and one
# operation may answer 5xx: generating, whose made-up model cannot be reached — the
# documented 502.
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
    "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi

. scripts/lib/server.sh
cargo build --locked -q -p modgate
export MODGATE_ADMIN_PASSWORD="contract-test-password"
export MODGATE_LOG="warn"
unset DATABASE_URL
start_server ./target/debug/modgate "$PORT"
TOKEN=$(token_for admin "$MODGATE_ADMIN_PASSWORD")

status=0
"$SCHEMATHESIS" --config-file scripts/schemathesis.toml run "$BASE/api/openapi.json" \
    -H "Authorization: Bearer $TOKEN" \
    --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 || status=$?
if grep -q "panicked" "$DATA/server.log"; then
    echo "the server panicked during the run:" >&2
    grep -A5 "panicked" "$DATA/server.log" >&2
    exit 1
fi
exit $status
