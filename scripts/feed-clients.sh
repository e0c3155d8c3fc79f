#!/usr/bin/env bash
# Real OData clients against the v4 feed, unpatched, installed pinned:
#   - the OASIS odata-csdl converter (npm) turns $metadata into JSON CSDL
#     without errors, and its output equals the feed's own $format=json;
#   - python-odata (PyPI) reflects $metadata, queries, pages, expands,
#     creates and updates a user;
#     (every client authenticates with HTTP Basic: the demo client's id and
#     secret, which the server prints once on its first start)
#   - the SAP Cloud SDK generator (npm) generates a typed client from
#     $metadata, which then runs queries against the feed and does CRUD
#     (create, update with its ETag, 412 on a stale ETag, delete);
#   - the README's client examples (quick start curl, Python requests,
#     python-odata, fetch, the SDK generator and typed client, the ETag
#     curl example) run as written, only the server address changed.
#
#   scripts/feed-clients.sh install   # pinned installs into $FEED_CLIENTS_DIR
#   scripts/feed-clients.sh check     # start a server with demo data, run all checks
#   scripts/feed-clients.sh           # both
#
# FEED_CLIENTS_DIR defaults to target/feed-clients; ODATA_USERS_BIN to
# target/debug/odata-users (built when missing). Needs python3, node (20+),
# npm and curl. Exits non-zero on the first failing check.
set -euo pipefail
cd "$(dirname "$0")/.."
here=scripts/feed-clients
dir=${FEED_CLIENTS_DIR:-target/feed-clients}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

log() { printf '[feed-clients] %s\n' "$*" >&2; }

install() {
  for tool in python3 node npm curl; do
    command -v "$tool" >/dev/null || { log "FAIL: $tool is required"; exit 1; }
  done
  log "python-odata (pinned, $here/requirements.txt) into $dir/venv"
  [ -x "$dir/venv/bin/python" ] || python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  log "odata-csdl and @sap-cloud-sdk/generator (pinned, $here/package-lock.json) into $dir/node"
  mkdir -p "$dir/node"
  cp "$here/package.json" "$here/package-lock.json" "$dir/node/"
  (cd "$dir/node" && npm ci --no-audit --no-fund --loglevel=error)
}

installed() {
  [ -x "$dir/venv/bin/python" ] && "$dir/venv/bin/python" -c 'import odata' 2>/dev/null &&
    [ -x "$dir/node/node_modules/.bin/generate-odata-client" ] &&
    [ -x "$dir/node/node_modules/.bin/odata-csdl-xml2json" ]
}

check() {
  installed || { log "FAIL: tools not installed; run: $0 install"; exit 1; }
  local bin=${ODATA_USERS_BIN:-target/debug/odata-users}
  if [ ! -x "$bin" ]; then
    log "building $bin"
    cargo build --quiet --bin odata-users
  fi
  local work
  work=$(mktemp -d)
  # Demo data (1000 users) with small pages, so clients must follow nextLinks.
  DATABASE_URL="sqlite://$work/feed.db?mode=rwc" APP_MAIL_OUTBOX="$work/outbox" \
    APP_DEMO=true APP_FEED_PAGE_SIZE=100 \
    "$bin" serve --bind 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr" &
  local pid=$!
  trap "kill $pid 2>/dev/null || true; rm -rf '$work'" EXIT
  local address=""
  for _ in $(seq 1 120); do
    address=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$work/stdout" | head -n1)
    [ -n "$address" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; log "FAIL: server exited"; exit 1; }
    sleep 0.5
  done
  [ -n "$address" ] || { log "FAIL: server did not start"; exit 1; }
  # Demo seeding runs before the listening line; the demo client's
  # credentials follow it (printed once). The clients use HTTP Basic.
  local client_id="" client_secret=""
  for _ in $(seq 1 60); do
    client_id=$(sed -n 's/^ *client id: *\([^ ]*\)$/\1/p' "$work/stdout" | head -n1)
    client_secret=$(sed -n 's/^ *client secret: *\([^ ]*\)$/\1/p' "$work/stdout" | head -n1)
    [ -n "$client_id" ] && [ -n "$client_secret" ] && break
    sleep 0.5
  done
  [ -n "$client_id" ] && [ -n "$client_secret" ] || { log "FAIL: no demo client credentials on stdout"; exit 1; }
  export FEED_CLIENT_ID=$client_id FEED_CLIENT_SECRET=$client_secret
  # A client with only identity.admin, for the README's explain example.
  local admin
  admin=$(DATABASE_URL="sqlite://$work/feed.db?mode=rwc" "$bin" clients create \
    --tenant demo --org main --scope identity.admin --json)
  ADMIN_ID=$(printf '%s' "$admin" | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientId"])')
  ADMIN_SECRET=$(printf '%s' "$admin" | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientSecret"])')
  export ADMIN_ID ADMIN_SECRET
  local root="$address/api/demo/main/odata"
  log "feed at $root (HTTP Basic with the demo client)"

  log "1/4 OASIS odata-csdl converter"
  mkdir -p "$work/edmx"
  curl -sSf -u "$client_id:$client_secret" -H 'Accept: application/json' "$root/\$metadata" -o "$work/edmx/identity.edmx"
  curl -sSf -u "$client_id:$client_secret" "$root/\$metadata?\$format=json" -o "$work/feed.json"
  "$dir/node/node_modules/.bin/odata-csdl-xml2json" -t "$work/converted.json" "$work/edmx/identity.edmx"
  python3 - "$work/converted.json" "$work/feed.json" <<'EOF'
import json, sys
converted, feed = (json.load(open(p)) for p in sys.argv[1:3])
# The converter spells out the XML default $Precision 0 where the XML has
# no Precision; the feed's JSON CSDL leaves defaults out.
def strip_defaults(x):
    if isinstance(x, dict):
        return {k: strip_defaults(v) for k, v in x.items() if not (k == "$Precision" and v == 0)}
    if isinstance(x, list):
        return [strip_defaults(v) for v in x]
    return x
assert strip_defaults(converted) == strip_defaults(feed), "converted XML CSDL differs from $format=json"
print("odata-csdl: $metadata converts without errors and equals the feed's JSON CSDL")
EOF

  log "2/4 python-odata"
  "$dir/venv/bin/python" "$here/pyodata_check.py" "$root/"

  log "3/4 SAP Cloud SDK generator"
  rm -rf "$dir/node/gen"
  printf '{"%s":{"packageName":"identity","directoryName":"identity","basePath":"/"}}\n' \
    "$work/edmx/identity.edmx" >"$work/options.json"
  "$dir/node/node_modules/.bin/generate-odata-client" --input "$work/edmx" \
    --outputDir "$dir/node/gen" --optionsPerService "$work/options.json" --transpile \
    >"$work/generator.log" 2>&1 || { cat "$work/generator.log" >&2; log "FAIL: generation"; exit 1; }
  NODE_PATH="$dir/node/node_modules" node "$here/sap_query.js" "$dir/node/gen/identity" "$root"

  log "4/4 README examples, as written"
  "$dir/venv/bin/python" "$here/readme_examples.py" README.md "$address" "$dir/node"
  log "all client checks passed"
}

case "${1:-all}" in
  install) install ;;
  check) check ;;
  all) install; check ;;
  *) log "usage: $0 [install|check]"; exit 2 ;;
esac
