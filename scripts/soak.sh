#!/usr/bin/env bash
# Soak: drives a release indoxrouter-server (in front of the provider
# simulator) with a steady mixed load for SECS seconds at RPS requests/s —
# plain chats, streams, streams abandoned after the first event, and
# simulator faults (upstream 500s, cut streams, in-stream errors) — sampling
# the server's RSS and open descriptors every 10 s. Then checks the books:
# the user's balance dropped by exactly the sum of its usage rows.
#
#   ./scripts/soak.sh                 # SECS=600 RPS=400
#   SECS=60 RPS=200 ./scripts/soak.sh
#
# Loopback only; results go to stdout (docs/benchmarks.md has a recorded run).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-600}
RPS=${RPS:-400}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac
WORK=$(mktemp -d /tmp/indoxrouter-soak.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --locked -q -p indoxrouter-server -p indoxrouter-simulator --bins
cargo build --release --locked -q -p indoxrouter-server --example soak
bin="$CARGO_TARGET_DIR/release"

"$bin/indoxrouter-simulator" --port 0 --api-key sk-soak-0123456789 >"$WORK/sim.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done
sim=$(sed -n 's/^listening on //p' "$WORK/sim.out" | head -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
env -i PATH="$PATH" HOME="$WORK" \
  INDOXROUTER_PORT="$port" INDOXROUTER_DATA_DIR="$WORK/data" \
  INDOXROUTER_ADMIN_PASSWORD=soak-admin-password INDOXROUTER_LOG=warn \
  INDOXROUTER_TIERS="free=20:40000,soak=100000000:100000000000" INDOXROUTER_DEFAULT_TIER=soak \
  INDOXROUTER_DRAIN_SECONDS=2 \
  OPENAI_API_KEY=sk-soak-0123456789 OPENAI_BASE_URL="$sim/openai/v1" \
  "$bin/indoxrouter-server" >"$WORK/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 1 100); do curl -s -o /dev/null "$url/health" && break; sleep 0.1; done

api() { curl -s "$url$1" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} ${2:+-d "$2"}; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
admin=$(api /api/v1/auth/login '{"username":"admin","password":"soak-admin-password"}' | field '["access_token"]')
api /api/v1/admin/users '{"username":"soak","password":"soak-password-1","credits":"1000"}' "$admin" >/dev/null
user=$(api /api/v1/auth/login '{"username":"soak","password":"soak-password-1"}' | field '["access_token"]')
key=$(api /api/v1/keys '{"name":"soak"}' "$user" | field '["key"]')

echo "soak: $SECS s at $RPS requests/s against $url (server pid $server_pid)"
status=0
"$bin/examples/soak" "$url" "$key" "$sim" "$server_pid" "$SECS" "$RPS" || status=$?

# The books: 1000 - balance == Σ cost of the user's usage rows, exactly.
sleep 3
books=0
python3 - "$url" "$user" <<'PY' || books=1
import json, sys, urllib.request
from decimal import Decimal
url, token = sys.argv[1], sys.argv[2]
def get(path):
    req = urllib.request.Request(url + path, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
balance = Decimal(get("/api/v1/users/me")["balance"])
total, rows, cursor = Decimal(0), 0, None
while True:
    page = get("/api/v1/users/me/usage?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
    rows += len(page["data"])
    total += sum(Decimal(r["cost"]) for r in page["data"])
    cursor = page.get("next_cursor")
    if not cursor:
        break
drop = Decimal(1000) - balance
print(f"usage rows: {rows}; balance drop {drop} == sum of charges {total}: {drop == total}")
sys.exit(0 if drop == total and balance >= 0 else 1)
PY
exit $(( status || books ))
