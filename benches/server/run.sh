#!/usr/bin/env bash
# odata-users (release build, SQLite) against the SAP CAP peer (../shared/peers/cap) and the
# ceiling (ceiling/: hand-written SQL and JSON for five of the queries, over OUR imported database),
# same data, the same wrk measurement (../shared/peers/bench_wrk.sh) with identical settings, back
# to back.
#
#   benches/server/run.sh            # everything: data, builds, fresh import, the servers, runs, report
#   ORDER="ours ceiling ours" N=2000 DURATION=2s IDLE_WAIT=0 benches/server/run.sh   # plumbing test
#
# What it does, in order:
#   1. pauses running fuzzers (processes whose command line has `fuzz/target`, by PID; resumed on exit)
#   2. `cargo build --release --locked` (and, when ORDER has ceiling, `cargo build --release
#      --locked --manifest-path benches/server/ceiling/Cargo.toml`: a crate outside the workspace
#      with its own Cargo.lock and target/)
#   3. generates the data once (`odata-users generate N $WORK/data --seed 42`, the built binary;
#      the CAP peer makes its own copy with ../shared/data/gen_users.py, same N and seed: the
#      generators are byte-identical, and step 4 checks with cmp that the files are), a FRESH
#      SQLite database ($WORK/ours.db), `odata-users tenants create` + `odata-users import` of
#      the CSVs (timed), then `odata-users clients create --json`: the API client whose id and secret every request to our server carries
#   4. starts our server on a free loopback port (`serve --bind 127.0.0.1:0 --no-demo`, with
#      APP_RATE_LIMIT_PER_MINUTE=0 so that the per-client rate limit does not turn the load into
#      429s, and APP_READS_PER_CLIENT=0 APP_READS_PER_TENANT=0 APP_READS_TENANT_SHARE=0 so that the
#      caps on concurrent reads do not either; every other setting default) and checks that it answers 200 with the credentials and
#      401 without; starts the CAP peer with its own run.sh (restarted, so its settings are known);
#      starts the ceiling (`odata-ceiling --db $WORK/ours.db --bind 127.0.0.1:0`: the database our
#      server imported, opened READ-ONLY, one blocking rusqlite connection per actix worker, actix's
#      default worker count like ours; bound parameters with SQLite's query planner stability
#      guarantee, so each statement is prepared once: see ceiling/README.md) and checks that
#      Users/$count answers 200
#   The ceiling does no authentication: in the wrk runs it gets the SAME Authorization header as
#      our server (so the requests are byte-identical) and ignores it. It serves only page100,
#      key_eq, select3, status_and_tech and count_path (queries-ceiling.txt: the same ids and
#      URLs as queries-ours.txt) and answers 501 to anything else.
#   Authentication: our server gets HTTP Basic `client_id:client_secret` on every request (what BI
#      tools send to a feed; bench_wrk.sh's 4th argument, AUTH_OURS for check.py/probes.py,
#      AUTH_HEADER for fullread.py). A successful Basic check is cached per instance for
#      APP_AUTH_CACHE_SECONDS (default 10 s, left as is), so the argon2 re-verifications when it
#      expires (one per request in flight at that moment) are part of the measurement. The CAP peer has no authentication and gets no header.
#   5. checks every query's FULL answer on ours and CAP against the CSVs (check.py ->
#      correctness.md) and asks both the OData-semantics probes of probes.py (-> probes.md); the
#      ceiling's answers are checked against the CSVs too (its five queries), and against OUR
#      answers by ceiling/check.py (-> ceiling-check.md: same status, Content-Type and parsed
#      JSON; the ceiling's bytes equal ours re-serialized in $metadata declaration order)
#   6. runs bench_wrk.sh for each server in ORDER (default: ours cap ceiling ours), identical
#      settings, PID= set for RSS/CPU, RESP_DIR for the first responses, plus an RSS sampler
#      (0.25 s) so the peak RSS of each query can be reported; uptime before/after each run goes
#      to session.md. The ceiling runs its five queries only (queries-ceiling.txt).
#   7. reads all of Users through @odata.nextLink once per server (fullread.py), as a BI tool does
#      (ours and CAP; not the ceiling, which does not serve its skiptokens back)
#   8. summarize.py -> summary.md (per query: req/s, p50, p99, errors, peak RSS, ratios; ours =
#      the MEDIAN of its runs, with two runs their mean; and, with the ceiling and/or CAP, the
#      issue's targets: fixed-cost queries ours >= 70 % of the ceiling in req/s and >= 3x CAP in
#      requests per server CPU-second, the others >= 1.5x CAP per CPU-second; the CPU-seconds are
#      bench_wrk.sh's: utime+stime of the server PID from /proc/PID/stat around each wrk run);
#      stops the servers on exit (KEEP=1 leaves them running) and resumes the fuzzers
#   Raw results (RESULTS) are not committed: benches/server/results/ is in .gitignore;
#      BENCHMARKS.md keeps the tables.
#
# Env: N=100000  WORK=/tmp/odata-bench (database, data, logs)  RESULTS=benches/server/results/<UTC time>
#      ORDER="ours cap ceiling ours" (any of ours, cap, ceiling, ours at least once; CAP needs
#      node/npm and is started only when named; the ceiling is built and started only when named)
#      CAP_QUIET=1 (CAP without its per-request log: ours logs no request at the default level
#      either; 0 = CAP's default logging)  SKIP_BUILD=1 (neither cargo build)  KEEP=1
#      SHARED=<the shared folder with peers/ (bench_wrk.sh, queries.txt, the CAP peer)> (default:
#      found next to the repository)
#      WHATIF_SQL='CREATE INDEX ...'  diagnostic only: SQL applied to our database after the import
#      (to measure how much a schema change would give; the comparison proper uses the stock schema;
#      the ceiling reads the same changed database)
#      CEILING_ARGS='--no-qpsg'  diagnostic only: extra arguments of odata-ceiling (this one turns the
#      query planner stability guarantee off: SQLite then re-prepares its statements on every
#      execution, as it does ours)
#      DIAG_AUTH_CACHE_SECONDS=n  diagnostic only: our server with APP_AUTH_CACHE_SECONDS=n instead
#      of the default 10 (e.g. 86400: one argon2 verification for the whole session)
#      bench_wrk settings, passed unchanged to every run: THREADS=2 CONNS=16 DURATION=10s
#      TIMEOUT=10s WARMUP=1 PAUSE=1 IDLE_WAIT=20 (IDLE_MAX_PCT, WRK_CPUS as bench_wrk.sh)
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
. "$HERE/lib.sh"
if [ -z "${SHARED:-}" ]; then
  for c in "$ROOT/../shared" "$ROOT/../../shared"; do
    [ -f "$c/peers/bench_wrk.sh" ] && { SHARED=$(readlink -f "$c"); break; }
  done
fi
[ -n "${SHARED:-}" ] && [ -f "$SHARED/peers/bench_wrk.sh" ] || { echo "shared folder not found: set SHARED" >&2; exit 2; }
BENCH=$SHARED/peers/bench_wrk.sh
CAP_RUN=$SHARED/peers/cap/run.sh
CAP_WORK=${CAP_WORK:-/tmp/cap-peer}; export CAP_WORK

N=${N:-100000}
WORK=${WORK:-/tmp/odata-bench}
RESULTS=${RESULTS:-$HERE/results/$(date -u +%Y%m%dT%H%MZ)}
ORDER=${ORDER:-ours cap ceiling ours}
CAP_QUIET=${CAP_QUIET:-1}
TENANT=bench ORG=main
export THREADS=${THREADS:-2} CONNS=${CONNS:-16} DURATION=${DURATION:-10s} TIMEOUT=${TIMEOUT:-10s}
export WARMUP=${WARMUP:-1} PAUSE=${PAUSE:-1} IDLE_WAIT=${IDLE_WAIT:-20} IDLE_MAX_PCT=${IDLE_MAX_PCT:-30}
export WRK_CPUS=${WRK_CPUS:-}
has() { case " $ORDER " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
for who in $ORDER; do
  case "$who" in ours|cap|ceiling) ;; *) echo "unknown server in ORDER: $who" >&2; exit 2 ;; esac
done
has ours || { echo "ORDER must name ours (the ratios are computed for it)" >&2; exit 2; }
need="wrk jq curl python3 cargo"; has cap && need="$need node npm"
for t in $need; do
  command -v "$t" >/dev/null || { echo "$t not found" >&2; exit 2; }
done
mkdir -p "$WORK" "$RESULTS"
RESULTS=$(readlink -f "$RESULTS")
SESSION=$RESULTS/session.md
log() { echo "$*" | tee -a "$SESSION" >&2; }

OURS_PID="" CAP_STARTED=0 CEILING_PID="" SAMPLER="" FUZZ_PIDS=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  if [ "${KEEP:-0}" != 1 ]; then
    [ -n "$OURS_PID" ] && kill "$OURS_PID" 2>/dev/null || true
    [ -n "$CEILING_PID" ] && kill "$CEILING_PID" 2>/dev/null || true
    [ "$CAP_STARTED" = 1 ] && "$CAP_RUN" stop >/dev/null 2>&1 || true
  fi
  if [ -n "$FUZZ_PIDS" ]; then
    # shellcheck disable=SC2086
    kill -CONT $FUZZ_PIDS 2>/dev/null || true
    echo "resumed fuzzer PIDs $FUZZ_PIDS" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "# Benchmark session $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- host: $(uname -sr), $(nproc) CPU(s): $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "- repository: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!benches/server' || echo ' (with uncommitted changes)')"
  echo "- $(has cap && node --version | sed 's/^/node /' || echo 'no CAP run'), $(cargo --version), $(wrk -v 2>&1 | head -1 | cut -c1-40)"
  echo "- bench_wrk settings: THREADS=$THREADS CONNS=$CONNS DURATION=$DURATION TIMEOUT=$TIMEOUT WARMUP=$WARMUP PAUSE=$PAUSE IDLE_WAIT=$IDLE_WAIT IDLE_MAX_PCT=$IDLE_MAX_PCT WRK_CPUS=${WRK_CPUS:-none}"
  echo "- order: $ORDER; CAP_QUIET=$CAP_QUIET; N=$N"
  echo
} > "$SESSION"

# 1. fuzzers: stopped by PID (the brief's `pkill -STOP -f 'fuzz/target'`, without signalling by
#    name), re-scanned before every run so that one started meanwhile is paused too
pause_fuzzers() {
  local p new=""
  for p in $(pgrep -f 'fuzz/target' || true); do
    [ "$p" = "$$" ] && continue
    case " $FUZZ_PIDS " in *" $p "*) continue ;; esac
    kill -STOP "$p" 2>/dev/null && new="$new $p"
  done
  if [ -n "$new" ]; then
    FUZZ_PIDS="$FUZZ_PIDS$new"
    log "- paused fuzzer PIDs$new ($(ps -o comm= -p "$(echo $new | tr ' ' ',')" | sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}'))"
  fi
}
pause_fuzzers

# 2. build
CEILING_MANIFEST=$HERE/ceiling/Cargo.toml
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && cargo build --release --locked)
  if has ceiling; then cargo build --release --locked --manifest-path "$CEILING_MANIFEST"; fi
fi
BIN=$ROOT/target/release/odata-users
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 2; }
CEILING_BIN=$HERE/ceiling/target/release/odata-ceiling
if has ceiling; then
  [ -x "$CEILING_BIN" ] || { echo "no ceiling binary at $CEILING_BIN" >&2; exit 2; }
fi

# 3. data (byte-identical to gen_users.py's for the same N and seed), fresh database, import
DATA=$WORK/data
want="n=$N seed=42 gen=odata-users"
if [ "$(cat "$DATA/.generated" 2>/dev/null)" != "$want" ]; then
  rm -rf "$DATA"
  "$BIN" generate "$N" "$DATA" --seed 42
  echo "$want" > "$DATA/.generated"
fi
DB=$WORK/ours.db
rm -f "$DB" "$DB-wal" "$DB-shm"
export DATABASE_URL="sqlite://$DB?mode=rwc"
cd "$WORK"   # the server's relative defaults (./data/outbox, odata-users.toml) stay in WORK
"$BIN" tenants create --tenant "$TENANT" --org "$ORG" >&2
t0=$(date +%s.%N)
"$BIN" import --tenant "$TENANT" --org "$ORG" "$DATA" > "$WORK/import.log" 2>&1 || { cat "$WORK/import.log" >&2; exit 1; }
t1=$(date +%s.%N)
log "- fresh SQLite database $DB; import of $N users: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s wall; $(du -m "$DB" | cut -f1) MiB after import"
new_basic_client "$BIN" "$TENANT" "$ORG"
log "- API client $CLIENT_ID created for $TENANT/$ORG (clients create --json); our server is called with HTTP Basic client_id:client_secret"

if [ -n "${WHATIF_SQL:-}" ]; then  # diagnostic only: not the stock schema
  command -v sqlite3 >/dev/null || { echo "WHATIF_SQL needs the sqlite3 shell" >&2; exit 2; }
  sqlite3 "$DB" "$WHATIF_SQL"
  log "- **DIAGNOSTIC RUN, not the stock schema**: applied \`$WHATIF_SQL\` to the imported database"
fi

# 4. servers
if [ -n "${DIAG_AUTH_CACHE_SECONDS:-}" ]; then  # diagnostic only: not the default setting
  export APP_AUTH_CACHE_SECONDS=$DIAG_AUTH_CACHE_SECONDS
  log "- **DIAGNOSTIC RUN, not the default settings**: our server with APP_AUTH_CACHE_SECONDS=$APP_AUTH_CACHE_SECONDS"
fi
env "${OURS_LOAD_ENV[@]}" "$BIN" serve --bind 127.0.0.1:0 --no-demo > "$WORK/ours.out" 2> "$WORK/ours.log" &
OURS_PID=$!
addr=""
for _ in $(seq 1 200); do
  addr=$(sed -n 's|^listening on http://||p' "$WORK/ours.out" | head -1)
  [ -n "$addr" ] && break
  kill -0 "$OURS_PID" 2>/dev/null || { cat "$WORK/ours.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "our server did not print its address" >&2; exit 1; }
OURS_URL=http://$addr/api/$TENANT/$ORG/odata
with_auth=$(curl -s -o /dev/null -w '%{http_code}' -H "$OURS_AUTH" "$OURS_URL/Users?\$top=1")
without=$(curl -s -o /dev/null -w '%{http_code}' "$OURS_URL/Users?\$top=1")
[ "$with_auth" = 200 ] && [ "$without" = 401 ] \
  || { echo "our server at $OURS_URL: HTTP $with_auth with the credentials (want 200), $without without (want 401)" >&2; exit 1; }
log "- ours: PID $OURS_PID, $OURS_URL (release build, SQLite file, default settings: feed page size 1000, pool of 8, auth cache ${APP_AUTH_CACHE_SECONDS:-10} s; APP_RATE_LIMIT_PER_MINUTE=0, read caps 0); Users?\$top=1 answers $with_auth with HTTP Basic, $without without"

CAP_PID="" CAP_URL=""
if has cap; then
  "$CAP_RUN" stop >/dev/null 2>&1 || true
  QUIET=$CAP_QUIET N=$N "$CAP_RUN" > "$WORK/cap-run.log" 2>&1 || { cat "$WORK/cap-run.log" >&2; exit 1; }
  CAP_STARTED=1
  CAP_PID=$(cat "$CAP_WORK/server.pid")
  CAP_URL=http://127.0.0.1:${PORT:-4004}/odata/v4/users
  cmp -s "$CAP_WORK/db/data/peer.users-Users.csv" "$DATA/peer.users-Users.csv" \
    && cmp -s "$CAP_WORK/db/data/peer.users-UserRoles.csv" "$DATA/peer.users-UserRoles.csv" \
    || { echo "the CAP peer's CSVs differ from $DATA" >&2; exit 1; }
  log "- CAP: PID $CAP_PID, $CAP_URL (@sap/cds $(jq -r .version "$CAP_WORK/node_modules/@sap/cds/package.json"), @cap-js/sqlite $(jq -r .version "$CAP_WORK/node_modules/@cap-js/sqlite/package.json"), QUIET=$CAP_QUIET, stock schema: no secondary indexes); both loaded from byte-identical CSVs"
fi

CEILING_URL=""
if has ceiling; then
  # shellcheck disable=SC2086
  "$CEILING_BIN" --db "$DB" --bind 127.0.0.1:0 ${CEILING_ARGS:-} > "$WORK/ceiling.out" 2> "$WORK/ceiling.log" &
  CEILING_PID=$!
  caddr=""
  for _ in $(seq 1 200); do
    caddr=$(sed -n 's|^listening on http://||p' "$WORK/ceiling.out" | head -1)
    [ -n "$caddr" ] && break
    kill -0 "$CEILING_PID" 2>/dev/null || { cat "$WORK/ceiling.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$caddr" ] || { echo "the ceiling did not print its address" >&2; exit 1; }
  CEILING_URL=http://$caddr/api/$TENANT/$ORG/odata
  ccount=$(curl -s -w ' %{http_code}' "$CEILING_URL/Users/\$count")
  [ "${ccount##* }" = 200 ] || { echo "the ceiling at $CEILING_URL: Users/\$count answered $ccount" >&2; exit 1; }
  log "- ceiling: PID $CEILING_PID, $CEILING_URL (benches/server/ceiling, release build, hand-written SQL on $DB read-only, no authentication${CEILING_ARGS:+; **DIAGNOSTIC: $CEILING_ARGS**}); Users/\$count answers ${ccount%% *}"
fi

# 5. correctness of the full answers
export AUTH_OURS="$OURS_AUTH"   # check.py and probes.py send it to the server named "ours"
check_specs=("ours=$OURS_URL=$HERE/queries-ours.txt")
has cap && check_specs+=("cap=$CAP_URL=$SHARED/peers/queries.txt")
if python3 "$HERE/check.py" "$DATA" "$RESULTS/correctness.md" "${check_specs[@]}"; then
  log "- correctness: every answer of $(has cap && echo 'both servers' || echo 'our server') matches the CSVs (correctness.md)"
else
  log "- correctness: WRONG answers, see correctness.md"
fi
if has ceiling; then
  if python3 "$HERE/check.py" "$DATA" "$RESULTS/correctness-ceiling.md" "ceiling=$CEILING_URL=$HERE/queries-ceiling.txt"; then
    log "- correctness: the ceiling's five answers match the CSVs (correctness-ceiling.md)"
  else
    log "- correctness: the ceiling answers WRONGLY, see correctness-ceiling.md"
  fi
  if python3 "$HERE/ceiling/check.py" "$OURS_URL" "$CEILING_URL" "$HERE/queries-ceiling.txt" --out "$RESULTS/ceiling-check.md"; then
    log "- ceiling vs ours: the same answers (ceiling-check.md: status, Content-Type, parsed JSON; bytes in declaration order)"
  else
    log "- ceiling vs ours: DIFFERENT answers, see ceiling-check.md"
  fi
fi

if has cap; then
  python3 "$HERE/probes.py" "$DATA" "ours=$OURS_URL" "cap=$CAP_URL" > "$RESULTS/probes.md" \
    || log "- probes.py failed"
fi

# 6. the runs
rss_sampler() {  # EPOCH VmRSS_kB every 0.25 s, no forks per sample except sleep
  local pid=$1 k v rest
  while [ -r "/proc/$pid/status" ]; do
    while read -r k v rest; do [ "$k" = VmRSS: ] && printf '%s %s\n' "$EPOCHREALTIME" "$v"; done < "/proc/$pid/status"
    sleep 0.25
  done
}
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; echo "$l" >&2; done; }
i=0
for who in $ORDER; do
  i=$((i + 1))
  case "$who" in
    ours) url=$OURS_URL q=$HERE/queries-ours.txt pid=$OURS_PID auth=$OURS_AUTH ;;
    cap)  url=$CAP_URL  q=$SHARED/peers/queries.txt pid=$CAP_PID auth="" ;;
    ceiling) url=$CEILING_URL q=$HERE/queries-ceiling.txt pid=$CEILING_PID auth=$OURS_AUTH ;;  # ignored by it
  esac
  name=$i-$who
  pause_fuzzers
  log "- run $name: uptime before: $(uptime | sed 's/^ *//')"
  rss_sampler "$pid" > "$RESULTS/$name.rss" &
  SAMPLER=$!
  PID=$pid RESP_DIR=$RESULTS/$name.responses "$BENCH" "$url" "$q" "$RESULTS/$name.md" "$auth" 2>&1 | stamp > "$RESULTS/$name.log"
  kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
  log "- run $name: uptime after:  $(uptime | sed 's/^ *//')"
done

# 7. a whole entity set read the way BI tools do (follow @odata.nextLink), once per server
for who in ours cap; do
  has "$who" || continue
  case "$who" in ours) u=$OURS_URL/Users auth=$OURS_AUTH ;; cap) u=$CAP_URL/Users auth="" ;; esac
  log "- full read of $u$([ -n "$auth" ] && echo ' with HTTP Basic') (uptime before: $(uptime | sed 's/^ *//;s/.*load/load/')): $(AUTH_HEADER=$auth python3 "$HERE/fullread.py" "$u" 2>&1 || true)"
done

# 8. report
python3 "$HERE/summarize.py" "$RESULTS" $ORDER > "$RESULTS/summary.md"
log "- summary: $RESULTS/summary.md"
cat "$RESULTS/summary.md"
