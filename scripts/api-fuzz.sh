#!/usr/bin/env bash
# Schemathesis and openapi-spec-validator (pinned,
# scripts/api-fuzz/requirements.txt) for tests/api/api_fuzz.rs, the API 1
# contract fuzzing, and tests/api/api_docs.rs, the validity of /openapi.json:
#
#   scripts/api-fuzz.sh install   # pinned install into $API_FUZZ_DIR/venv
#
# API_FUZZ_DIR defaults to target/api-fuzz. Needs python3. The test finds
# schemathesis at $API_FUZZ_DIR/venv/bin/schemathesis and loads the checks
# of scripts/api-fuzz/hooks.py.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${API_FUZZ_DIR:-target/api-fuzz}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

log() { printf '[api-fuzz] %s\n' "$*" >&2; }

case ${1:-install} in
  install)
    command -v python3 >/dev/null || { log "FAIL: python3 is required"; exit 1; }
    log "schemathesis (pinned, scripts/api-fuzz/requirements.txt) into $dir/venv"
    [ -x "$dir/venv/bin/python" ] || python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/api-fuzz/requirements.txt
    "$dir/venv/bin/schemathesis" --version >&2
    "$dir/venv/bin/openapi-spec-validator" --version >&2 || "$dir/venv/bin/pip" show openapi-spec-validator | head -2 >&2
    ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
