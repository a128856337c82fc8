# Shared by the scripts in scripts/: a server in a temporary data dir, and API tokens.
# Source it, then call `start_server BIN PORT` (it sets DATA and BASE and stops the
# server on exit) and `token_for USER PASSWORD` (prints a personal API token).
# Expects MODGATE_ADMIN_PASSWORD to be set.

json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }

# start_server BIN PORT [extra serve args…]; reuses $DATA when it is set.
start_server() {
    local bin="$1" port="$2"
    shift 2
    DATA="${DATA:-$(mktemp -d)}"
    "$bin" --data-dir "$DATA" serve --bind "127.0.0.1:$port" "$@" > "$DATA/server.log" 2>&1 &
    SERVER=$!
    trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
    for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
    BASE="http://127.0.0.1:$port"
}

# token_for USER PASSWORD: logs in and creates a personal API token.
token_for() {
    local jar csrf
    jar="$DATA/cookies-$1"
    csrf=$(curl -sf -c "$jar" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$BASE/api/auth/login" | json '["csrfToken"]')
    curl -sf -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
        -d '{"name":"script"}' "$BASE/api/tokens" | json '["secret"]'
}
