#!/bin/bash
# usage: scripts/bad-logins-rss.sh BINARY [VAR=value ...]
# e.g.   scripts/bad-logins-rss.sh target/release/odata-users APP_AUTH_FAILURES_PER_MINUTE=0 APP_AUTH_SOURCE_FAILURES_PER_MINUTE=0
# 200 concurrent HTTP Basic logins with wrong secrets on the feed of a fresh
# SQLite server; prints VmRSS idle/after, VmHWM and the answer codes.
set -e
BIN=$1; shift
D=$(mktemp -d)
DB="sqlite://$D/m.db?mode=rwc"
json=$(DATABASE_URL=$DB "$BIN" clients create --tenant acme --org main --json 2>/dev/null)
ID=$(echo "$json" | python3 -c 'import json,sys;print(json.load(sys.stdin)["clientId"])')
SECRET=$(echo "$json" | python3 -c 'import json,sys;print(json.load(sys.stdin)["clientSecret"])')
env "$@" DATABASE_URL=$DB APP_DEMO=false APP_RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn \
  "$BIN" serve --bind 127.0.0.1:0 --no-demo > "$D/out" 2>/dev/null &
PID=$!
for _ in $(seq 100); do grep -q listening "$D/out" 2>/dev/null && break; sleep 0.1; done
ADDR=$(head -1 "$D/out" | sed 's/listening on //')
for _ in 1 2 3; do curl -s -o /dev/null "$ADDR/health"; done
rss() { grep "^$1:" /proc/$PID/status | awk '{print $2}'; }
idle=$(rss VmRSS)
start=$(date +%s.%N)
seq 200 | xargs -P 200 -I{} curl -s -o /dev/null -w "%{http_code}\n" -u "$ID:wrong{}" \
  "$ADDR/api/acme/main/odata/Users" | sort | uniq -c | tr '\n' ' '
end=$(date +%s.%N)
echo
echo "idle VmRSS ${idle} kB; after VmRSS $(rss VmRSS) kB, VmHWM $(rss VmHWM) kB; 200 logins in $(echo "$end - $start" | bc) s"
t0=$(date +%s.%N)
code=$(curl -s -o /dev/null -w "%{http_code}" -u "$ID:$SECRET" "$ADDR/api/acme/main/odata/Users")
echo "correct login: $code in $(echo "$(date +%s.%N) - $t0" | bc) s"
sleep 10
echo "10 s later VmRSS $(rss VmRSS) kB"
kill $PID; wait $PID 2>/dev/null || true
rm -rf "$D"
