#!/usr/bin/env bash
# Instructions per request under callgrind: deterministic, so two builds can
# be compared on a busy machine where req/s cannot (valgrind counts user-space
# instructions of the server process, not the kernel's TCP work or waiting).
#
#   benches/server/instructions.sh DB QUERY_ID...      # ours (target/release) and the ceiling
#   BIN=/path/odata-users SERVERS=ours benches/server/instructions.sh /tmp/odata-bench/ours.db key_eq
#
# DB is a SQLite file imported by benches/server/run.sh (tenant bench/main;
# run.sh with KEEP=1, or its $WORK/ours.db after a run). For each query and
# server: start it under `valgrind --tool=callgrind --instr-atstart=no`,
# warm up with 20 requests, switch instrumentation on, run `wrk -t1 -c1
# -d${CGDUR:-15s}` (keep-alive, one request at a time), dump, and divide the
# program total by the requests wrk completed. Ours gets HTTP Basic with a
# client created here (`clients create`), APP_RATE_LIMIT_PER_MINUTE=0,
# APP_READS_PER_CLIENT=0, APP_READS_PER_TENANT=0, the auth cache at 86400 s
# (no argon2 in the window) and APP_SQLITE_INLINE_MS=1000 (under valgrind a
# read runs ~50x slower and would overrun the 10 ms default; INLINE_MS=0
# measures every read through the reader threads). Output in
# ${OUT:-/tmp/odata-instructions} (callgrind files; callgrind_annotate them).
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
. "$HERE/lib.sh"
DB=$1; shift
BIN=${BIN:-$ROOT/target/release/odata-users}
CEILING=${CEILING:-$HERE/ceiling/target/release/odata-ceiling}
SERVERS=${SERVERS:-"ours ceiling"}
OUT=${OUT:-/tmp/odata-instructions}
mkdir -p "$OUT"
export DATABASE_URL="sqlite://$DB"
cd "$OUT"
new_basic_client "$BIN" bench main
cd - >/dev/null
AUTH=$OURS_AUTH
for q in "$@"; do
  for server in $SERVERS; do
    rm -f "$OUT/cg.$server.$q".*
    case $server in
      ours) (cd "$OUT" && APP_RATE_LIMIT_PER_MINUTE=0 APP_READS_PER_CLIENT=0 APP_READS_PER_TENANT=0 \
              APP_AUTH_CACHE_SECONDS=86400 APP_SQLITE_INLINE_MS=${INLINE_MS:-1000} \
              exec valgrind --tool=callgrind --instr-atstart=no ${VG_ARGS:-} --callgrind-out-file="$OUT/cg.$server.$q.%p" \
              "$BIN" serve --bind 127.0.0.1:0 --no-demo) > "$OUT/$server.out" 2> "$OUT/$server.err" &
            pid=$!; file=$HERE/queries-ours.txt ;;
      ceiling) valgrind --tool=callgrind --instr-atstart=no ${VG_ARGS:-} --callgrind-out-file="$OUT/cg.$server.$q.%p" \
              "$CEILING" --db "$DB" --bind 127.0.0.1:18998 > "$OUT/$server.out" 2> "$OUT/$server.err" &
            pid=$!; file=$HERE/queries-ceiling.txt ;;
    esac
    addr=""
    for _ in $(seq 1 600); do
      case $server in
        ours) addr=$(sed -n 's|^listening on http://||p' "$OUT/$server.out" | head -1) ;;
        ceiling) curl -s -o /dev/null "http://127.0.0.1:18998/" && addr=127.0.0.1:18998 ;;
      esac
      [ -n "$addr" ] && break; sleep 0.2
    done
    path=$(awk -F'\t' -v q="$q" '$1==q{print $2}' "$file")
    url="http://$addr/api/bench/main/odata/$path"
    for _ in $(seq 1 20); do curl -s -o /dev/null -H "$AUTH" "$url"; done
    callgrind_control -i on "$pid" >/dev/null
    n=$(wrk -t1 -c1 -d"${CGDUR:-15s}" -H "$AUTH" "$url" | awk '/requests in/{print $1}')
    callgrind_control -d "$pid" >/dev/null
    kill "$pid"; wait "$pid" 2>/dev/null || true
    total=$(callgrind_annotate "$(ls "$OUT/cg.$server.$q".*.1)" | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
    printf '%-8s %-16s %10d instructions/request (%d requests)\n' "$server" "$q" $((total / n)) "$n"
  done
done
