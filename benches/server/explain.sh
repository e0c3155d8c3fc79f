#!/usr/bin/env bash
# Query plans and timings, in the sqlite3 shell, of the main statement our server sends for each
# benchmark query (copied from the server's log with RUST_LOG=sqlx=debug; values inlined).
#
#   benches/server/explain.sh DB          # e.g. /tmp/odata-bench/ours.db, as run.sh imported it
#
# Prints markdown: for the database as imported, for a copy after ANALYZE, for a copy with an
# index on users(tenant_id, id), and for that copy after ANALYZE. Copies go to DB.explain-*.db and are removed afterwards. Timings
# are the sqlite3 shell's "Run Time" (real / user / sys seconds) of running the whole statement,
# best of 3 by user+sys; they do not include the server's JSON work.
#
# Caveat: this is the sqlite3 SHELL's planner (the system's SQLite, e.g. 3.40), not the SQLite the
# server bundles (libsqlite3-sys, e.g. 3.51): the two can choose different plans for the same
# statement and statistics (lastlogin_ge did in the session of 2026-11-29T1948Z), so confirm a
# plan that matters against the server (RUST_LOG=sqlx=debug prints each statement's elapsed time).
# Since migration m20261130_000006 and the ANALYZE after import, the first report is of a database
# that already has ix_users_tenant_order and sqlite_stat1; the what-if copies then add little.
set -euo pipefail
DB=$(readlink -f "${1:?usage: explain.sh DB}")
command -v sqlite3 >/dev/null || { echo "sqlite3 not found" >&2; exit 2; }
T=$(sqlite3 "$DB" "SELECT quote(tenant_id) FROM users LIMIT 1")
COLS="users.id, users.user_key, users.name, users.culture, users.email, users.is_technician, users.last_login, users.status, users.has_picture, users.picture_url, users.is_active, users.is_system, users.created_by, users.created_on, users.modified_by, users.modified_on, users.version"
W="FROM users WHERE users.tenant_id = $T"
# id<TAB>statement  (odata_lower is the server's Unicode lower(); the shell's lower() has the same plan)
STATEMENTS=$(cat <<EOF
page100	SELECT $COLS $W ORDER BY users.id ASC LIMIT 101
key_eq	SELECT $COLS $W AND users.user_key = 'matthew.allen.50000' ORDER BY users.id ASC LIMIT 101
contains_ci	SELECT $COLS $W AND instr(lower(users.name), 'silva') > 0 ORDER BY users.id ASC LIMIT 101
status_and_tech	SELECT $COLS $W AND (users.status = 1 AND users.is_technician = 1) ORDER BY users.id ASC LIMIT 101
status_or_and	SELECT $COLS $W AND ((users.status = 3 OR users.status = 4) AND users.is_technician = 0) ORDER BY users.id ASC LIMIT 101
lastlogin_ge	SELECT $COLS $W AND (users.last_login >= '2026-10-01T00:00:00Z' AND users.last_login IS NOT NULL) ORDER BY users.id ASC LIMIT 101
orderby_skip	SELECT $COLS $W ORDER BY users.name ASC, users.id ASC LIMIT 51 OFFSET 1000
select3	SELECT users.id, users.user_key, users.name, users.email $W ORDER BY users.id ASC LIMIT 101
count_filter (count)	SELECT COUNT(*) $W AND users.status = 1
count_path	SELECT COUNT(*) $W
any_role	SELECT $COLS $W AND EXISTS(SELECT 1 FROM user_roles AS l1 INNER JOIN roles AS t1 ON l1.role_id = t1.id WHERE l1.user_id = users.id AND t1.tenant_id = $T AND t1.role_key = 'admin') ORDER BY users.id ASC LIMIT 101
deep_skip	SELECT $COLS $W ORDER BY users.id ASC LIMIT 101 OFFSET 90000
EOF
)

report() {  # $1 = database, $2 = title
  local db=$1 id sql plan best t
  echo "### $2"
  echo
  echo "| statement of | plan | run time (real / user / sys s) |"
  echo "|---|---|---|"
  while IFS=$'\t' read -r id sql; do
    plan=$(sqlite3 "$db" "EXPLAIN QUERY PLAN $sql" | tail -n +2 | sed 's/^[|` -]*//' | paste -sd ';' | sed 's/;/; /g')
    best=""
    for _ in 1 2 3; do
      t=$(printf '.timer on\nSELECT count(*) FROM (%s);\n' "$sql" | sqlite3 "$db" | sed -n 's/^Run Time: real \([0-9.]*\) user \([0-9.]*\) sys \([0-9.]*\)$/\1 \2 \3/p')
      if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[2] + x[3] < y[2] + y[3]) }'; then best=$t; fi
    done
    echo "| $id | $plan | $(echo "$best" | awk '{ printf "%.3f / %.3f / %.3f", $1, $2, $3 }') |"
  done <<< "$STATEMENTS"
  echo
}

report "$DB" "As imported (the schema and statistics the server has; sqlite3 shell $(sqlite3 --version | cut -d' ' -f1))"
A=$DB.explain-analyze.db; I=$DB.explain-index.db
trap 'rm -f "$A" "$I"' EXIT
sqlite3 "$DB" ".backup '$A'"; sqlite3 "$A" "ANALYZE"
report "$A" "A copy after ANALYZE"
sqlite3 "$DB" ".backup '$I'"; sqlite3 "$I" "CREATE INDEX ix_users_tenant_id ON users (tenant_id, id)"
report "$I" "A copy with CREATE INDEX ix_users_tenant_id ON users (tenant_id, id)"
sqlite3 "$I" "ANALYZE"
report "$I" "The same copy with the index, after ANALYZE"
