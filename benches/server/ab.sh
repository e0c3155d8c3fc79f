#!/usr/bin/env bash
# Interleaved A/B of server binaries on one query: several builds of ours and
# ceilings, all started at once on the same database, then `wrk` against each
# in turn for ROUNDS rounds (A B C A B C ...), so the host's drift hits every
# binary alike. Per run: req/s and the server's user and system CPU time per
# request (utime/stime of its PID from /proc around the wrk run); at the end,
# per binary, the medians.
#
#   benches/server/ab.sh DB BINARY...
#   PIN=0 WPIN=1 ROUNDS=6 DUR=5s benches/server/ab.sh /tmp/odata-bench/ours.db \
#       /tmp/odata-users.before target/release/odata-users ceiling
#
# DB: a SQLite file imported by run.sh (tenant bench/main). BINARY: an
# odata-users binary, or a path whose name contains `ceiling` (an
# odata-ceiling binary; the word `ceiling` alone is
# benches/server/ceiling/target/release/odata-ceiling). Ours runs with the
# same settings as in run.sh (rate limit and read caps off).
#
# Env: Q (the query, default key_eq's URL)  ROUNDS=6  DUR=5s  THREADS=2 CONNS=16
#      PIN / WPIN: CPU lists for the servers / for wrk (taskset -c); with
#      PIN=0 WPIN=1 each server has one core (and actix one worker) and wrk
#      the other, so the server's CPU time per request is not mixed with
#      wrk's (unset: no pinning, as run.sh measures)
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
. "$HERE/lib.sh"
DB=$1; shift
export DATABASE_URL="sqlite://$DB"
Q=${Q:-"Users?\$filter=userKey%20eq%20'matthew.allen.50000'"}
ROUNDS=${ROUNDS:-6}; DUR=${DUR:-5s}; THREADS=${THREADS:-2}; CONNS=${CONNS:-16}
pin() { if [ -n "${1:-}" ]; then echo "taskset -c $1"; fi; }
SPIN=$(pin "${PIN:-}"); WRKPIN=$(pin "${WPIN:-}")
OURS=
for b in "$@"; do [[ "$b" == *ceiling* ]] || { OURS=$b; break; }; done
OURS=${OURS:-$ROOT/target/release/odata-users}
new_basic_client "$OURS" bench main 2>/dev/null
AUTH=$OURS_AUTH
declare -A URL PID
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
port=18100
for b in "$@"; do
  port=$((port + 1))
  if [[ "$b" == *ceiling* ]]; then
    bin=$b; [ "$b" = ceiling ] && bin=$HERE/ceiling/target/release/odata-ceiling
    $SPIN "$bin" --db "$DB" --bind 127.0.0.1:$port > /tmp/ab.$port.log 2>&1 &
  else
    env "${OURS_LOAD_ENV[@]}" $SPIN "$b" serve --bind 127.0.0.1:$port --no-demo > /tmp/ab.$port.log 2>&1 &
  fi
  pids+=($!); PID[$b]=$!; URL[$b]="http://127.0.0.1:$port/api/bench/main/odata/"
done
sleep 3
for b in "$@"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "${URL[$b]}$Q")
  [ "$code" = 200 ] || { echo "$b answered $code" >&2; exit 1; }
done
runs=$(mktemp)
for r in $(seq "$ROUNDS"); do
  for b in "$@"; do
    read -r u0 s0 < <(sed 's/.*) //' /proc/${PID[$b]}/stat | awk '{print $12, $13}')
    out=$($WRKPIN wrk -t"$THREADS" -c"$CONNS" -d"$DUR" -H "$AUTH" "${URL[$b]}$Q")
    read -r u1 s1 < <(sed 's/.*) //' /proc/${PID[$b]}/stat | awk '{print $12, $13}')
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    tick=$(getconf CLK_TCK)
    line=$(awk -v b="$b" -v r="$r" -v rps="$rps" -v n="$n" -v du=$((u1 - u0)) -v ds=$((s1 - s0)) -v t="$tick" \
      'BEGIN {printf "round %d %s rps=%s user_us=%.1f sys_us=%.1f", r, b, rps, du * 1e6 / t / n, ds * 1e6 / t / n}')
    echo "$line" | tee -a "$runs"
    sleep 1
  done
done
python3 - "$runs" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(x.split("=") for x in f[3:])
    runs[f[2]].append((float(kv["rps"]), float(kv["user_us"]), float(kv["sys_us"])))
print("| binary | req/s median (min–max) | user µs/request | system µs/request |")
print("|---|---:|---:|---:|")
for b, v in runs.items():
    rps = [x[0] for x in v]
    print(f"| {b} | {statistics.median(rps):,.0f} ({min(rps):,.0f}–{max(rps):,.0f}) "
          f"| {statistics.median(x[1] for x in v):.1f} | {statistics.median(x[2] for x in v):.1f} |")
PY
rm -f "$runs"
