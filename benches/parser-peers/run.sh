#!/usr/bin/env bash
# Benchmarks odata-parser against its peers on one corpus, in one run:
#   Rust (Criterion): odata-params 0.4.0, cf-modkit-odata 0.6.2, odatav4-parser 0.0.3
#   npm: @odata/parser 0.2.14        Python: odata-query 0.10.0
# Usage: benches/parser-peers/run.sh   (from anywhere; writes to $PEERS_WORK)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${PEERS_WORK:-/tmp/parser-peers-work}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
mkdir -p "$work"
cd "$here"

echo "== acceptance"
nice cargo run --release -q -- accept
cargo run --release -q -- dump > "$work/corpus.jsonl"

echo "== npm @odata/parser (pinned)"
if [ ! -d "$work/js/node_modules/@odata/parser" ]; then
  mkdir -p "$work/js" && (cd "$work/js" && npm init -y >/dev/null && npm install --no-audit --no-fund @odata/parser@0.2.14 >/dev/null)
fi
NODE_PATH="$work/js/node_modules" nice node js/bench.js "$work/corpus.jsonl"

echo "== Python odata-query (pinned)"
if [ ! -x "$work/py/bin/python" ]; then
  python3 -m venv "$work/py" && "$work/py/bin/pip" install -q odata-query==0.10.0
fi
nice "$work/py/bin/python" py/bench.py "$work/corpus.jsonl"

echo "== Criterion (Rust peers and ours)"
nice cargo bench
