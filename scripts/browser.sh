#!/usr/bin/env bash
# The server's pages in a real headless Chromium (issue 13): Debian's
# chromium and chromium-driver (the same version by construction), driven
# by Selenium pinned in scripts/browser/requirements.txt.
#
#   scripts/browser.sh install   # chromium + chromium-driver (apt-get, when missing) and the pinned Selenium into $BROWSER_TOOLS_DIR
#   scripts/browser.sh check     # run scripts/browser/check.py (BROWSER_CONFIG: the JSON tests/api/browser.rs writes)
#
# BROWSER_TOOLS_DIR defaults to target/browser-tools. tests/api/browser.rs runs
# `check` against a server it starts, with ODATA_TEST_BROWSER=1 making
# missing tools a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
here=scripts/browser
dir=${BROWSER_TOOLS_DIR:-target/browser-tools}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

log() { printf '[browser] %s\n' "$*" >&2; }

install() {
  if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
    command -v apt-get >/dev/null || { log "FAIL: chromium and chromium-driver are missing and there is no apt-get"; exit 1; }
    log "chromium and chromium-driver (apt-get)"
    { apt-get install -y --no-install-recommends chromium chromium-driver ||
      { apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver; }; } >/dev/null
  fi
  command -v python3 >/dev/null || { log "FAIL: python3 is required"; exit 1; }
  log "selenium (pinned, $here/requirements.txt) into $dir/venv"
  [ -x "$dir/venv/bin/python" ] || python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
}

check() {
  [ -x "$dir/venv/bin/python" ] || { log "FAIL: not installed; run: $0 install"; exit 1; }
  [ -n "${BROWSER_CONFIG:-}" ] || { log "FAIL: BROWSER_CONFIG is not set (tests/api/browser.rs sets it)"; exit 1; }
  "$dir/venv/bin/python" "$here/check.py"
}

case "${1:-}" in
  install) install ;;
  check) check ;;
  *) log "usage: $0 install|check"; exit 2 ;;
esac
