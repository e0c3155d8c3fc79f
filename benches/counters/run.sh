#!/usr/bin/env bash
# Write throughput of user creates on PostgreSQL (BENCHMARKS.md, "Counters: write
# throughput on PostgreSQL"): a fresh database, one server on 127.0.0.1:18080,
# 25 s of POST users at concurrency 16 (examples/create_load.rs), then the
# rows and the Users counter (when the build has one), and the database dropped.
#
#   benches/counters/run.sh SERVER_BINARY LABEL CREATE_LOAD_BINARY
set -euo pipefail
BIN=$(realpath "$1"); DB=bench_counters_$2; LOAD=$(realpath "$3"); PORT=18080
psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB APP_DEMO=false APP_RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn
dir=$(mktemp -d); cd "$dir"
creds=$("$BIN" clients create --tenant bench --org main --json)
ID=$(echo "$creds" | sed -E 's/.*"clientId":"([^"]+)".*/\1/')
SECRET=$(echo "$creds" | sed -E 's/.*"clientSecret":"([^"]+)".*/\1/')
"$BIN" serve --bind 127.0.0.1:$PORT --no-demo > server.log 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q listening server.log && break; sleep 0.1; done
ID=$ID SECRET=$SECRET "$LOAD" http://127.0.0.1:$PORT bench main 16 25
psql -q -h 127.0.0.1 -U postgres -d $DB -Atc "select 'rows', count(*) from users" 
psql -q -h 127.0.0.1 -U postgres -d $DB -Atc "select 'counter', count from entity_counts where entity_set='Users'" 2>/dev/null || true
kill $pid; wait $pid 2>/dev/null || true
cd /; rm -rf "$dir"
psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
