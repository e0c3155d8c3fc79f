#!/usr/bin/env bash
# Ten-minute hostile-load soak on SQLite (issue "Hold under hostile load"): a
# release build with DEFAULT settings (rate limit, cost budget, time limit,
# read caps, login throttling all on), tenants bench (A) and evil (B) with N
# users each (`odata-users generate`, seeds 42 and 43), then soak.py (see its docstring).
#
#   benches/soak/run.sh                      # 2 + 6 + 2 minutes, N=20000
#   BEFORE=10 DURING=20 AFTER=10 N=2000 benches/soak/run.sh   # plumbing test
#
# Env: N=20000 WORK=/tmp/odata-soak BEFORE=120 DURING=360 AFTER=120 SKIP_BUILD=1
# Prints the tables soak.py writes (A's p50/p99/errors per phase, what B got,
# VmHWM); raw output stays in $WORK.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
N=${N:-20000} WORK=${WORK:-/tmp/odata-soak}
mkdir -p "$WORK"
[ "${SKIP_BUILD:-0}" = 1 ] || (cd "$ROOT" && cargo build --release --locked)
BIN=${BIN:-$ROOT/target/release/odata-users}
# Imported ids are kept, so tenant B gets its own files (seed 43).
for seed in 42 43; do
  if [ ! -f "$WORK/data$seed/.n$N" ]; then
    rm -rf "$WORK/data$seed"; "$BIN" generate "$N" "$WORK/data$seed" --seed $seed >/dev/null
    touch "$WORK/data$seed/.n$N"
  fi
done
DB=$WORK/soak.db
rm -f "$DB" "$DB-wal" "$DB-shm"
export DATABASE_URL="sqlite://$DB?mode=rwc"
cd "$WORK"
for t in bench:42 evil:43; do
  "$BIN" tenants create --tenant "${t%:*}" --org main >/dev/null
  "$BIN" import --tenant "${t%:*}" --org main "$WORK/data${t#*:}" > "$WORK/import-${t%:*}.log" 2>&1
done
a=$("$BIN" clients create --tenant bench --org main --json)
b=$("$BIN" clients create --tenant evil --org main --json)
"$BIN" serve --bind 127.0.0.1:0 --no-demo > "$WORK/server.out" 2> "$WORK/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  addr=$(sed -n 's|^listening on http://||p' "$WORK/server.out" | head -1); [ -n "$addr" ] && break; sleep 0.1
done
echo "soak: server PID $PID on $addr, N=$N users per tenant (seeds 42 and 43), $(git -C "$ROOT" rev-parse --short HEAD)" >&2
python3 "$HERE/soak.py" "http://$addr" \
  "$(jq -r .clientId <<<"$a")" "$(jq -r .clientSecret <<<"$a")" \
  "$(jq -r .clientId <<<"$b")" "$(jq -r .clientSecret <<<"$b")" "$PID" \
  --before "${BEFORE:-120}" --during "${DURING:-360}" --after "${AFTER:-120}" --users "$N"
