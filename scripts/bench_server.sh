#!/usr/bin/env bash
# Full-path server benchmark: API-key auth + credit reserve/settle (durable,
# group-committed) + upstream call + usage row, against a static nginx
# upstream, next to the same load sent straight to that upstream.
#
#   ./scripts/bench_server.sh            # SECS=10 CONNS="1 32"
#   DATA_DIR=/dev/shm/ixr ./scripts/bench_server.sh   # ledger on tmpfs: the cost without fsync
#
# Installs wrk and nginx-light (apt) if missing. Loopback only. Prints one line
# per (target, connections): req/s, p50, p99, and the server's RSS after the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-10}
CONNS=${CONNS:-"1 32"}
UP_PORT=${UPSTREAM_PORT:-18080}
SRV_PORT=${SERVER_PORT:-18000}
WORK=$(mktemp -d /tmp/indoxrouter-bench.XXXXXX)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $WORK/nginx.pid ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not answering: $1" >&2; return 1; }

sed "s#@DIR@#$WORK#g; s#@PORT@#$UP_PORT#g" scripts/bench/upstream.nginx.conf >"$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf"
wait_http "http://127.0.0.1:$UP_PORT/v1/models"

cargo build --release --locked -q -p indoxrouter-server --bin indoxrouter-server
env -i PATH="$PATH" HOME="$WORK" \
  INDOXROUTER_HOST=127.0.0.1 INDOXROUTER_PORT="$SRV_PORT" INDOXROUTER_DATA_DIR="${DATA_DIR:-$WORK/data}" \
  INDOXROUTER_ADMIN_PASSWORD=bench-admin-password INDOXROUTER_LOG=info \
  INDOXROUTER_TIERS="free=20:40000,bench=100000000:100000000000" \
  OPENAI_API_KEY=sk-upstream OPENAI_BASE_URL="http://127.0.0.1:$UP_PORT/v1" \
  "$CARGO_TARGET_DIR/release/indoxrouter-server" >"$WORK/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_http "http://127.0.0.1:$SRV_PORT/health"

token=$(curl -s "http://127.0.0.1:$SRV_PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"bench-admin-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# A plain user, not the admin: admins skip rate limiting, and the measured path
# includes it (on a tier roomy enough never to refuse), along with the access
# log at the default level.
curl -s -o /dev/null "http://127.0.0.1:$SRV_PORT/api/v1/admin/users" -H "authorization: Bearer $token" \
  -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-user-password","credits":"1000000","tier":"bench"}'
token=$(curl -s "http://127.0.0.1:$SRV_PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-user-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
key=$(curl -s -X POST "http://127.0.0.1:$SRV_PORT/api/v1/keys" -H "authorization: Bearer $token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')

lua() { # model credential
  local f; f=$(mktemp "$WORK/wrk.XXXXXX.lua")
  cat >"$f" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"$1","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Hello, how are you?"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
  echo "$f"
}
rss() { ps -o rss= -p "$1" | awk '{printf "%.1f MB", $1/1024}'; }

printf '%-8s %6s %10s %10s %10s %10s\n' target conns req/s p50 p99 rss
run() { # name url script [pid]
  wrk -t1 -c8 -d2s -s "$3" "$2" >/dev/null 2>&1 || true
  for c in $CONNS; do
    out=$(wrk -t1 -c"$c" -d"${SECS}s" -s "$3" --latency "$2" 2>&1)
    printf '%-8s %6s %10s %10s %10s %10s%s\n' "$1" "$c" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
      "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" \
      "${4:+$(rss "$4")}" "$(awk '/Non-2xx/ {print "  non-2xx: " $NF}' <<<"$out")"
  done
}
run direct "http://127.0.0.1:$UP_PORT/v1/chat/completions" "$(lua gpt-4o-mini sk-upstream)"
run server "http://127.0.0.1:$SRV_PORT/v1/chat/completions" "$(lua openai/gpt-4o-mini "$key")" "$server_pid"

rows=$(curl -s "http://127.0.0.1:$SRV_PORT/api/v1/users/me/usage?limit=1" -H "authorization: Bearer $key" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d[0]["cost"] if d else "none")')
echo "last usage row cost: $rows (expected 0.00001425)"
