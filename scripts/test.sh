#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh machine, by itself. It installs what the suite needs
# when it is missing (Debian's chromium for the explorer's browser test; with sudo when not
# root), type-checks the project (a type error fails the run), then runs every test with
# Hardhat's mocha, whose reporter (scripts/lib/mocha-summary-reporter.ts) prints
# `tests: N passed, M failed` last and writes cache/test-summary.json.
#
#   npm test                               # everything
#   npm test -- test/server/store.test.ts  # some files (no type check)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "[test] $*" >&2; }

# Debian's chromium for test/explorer/explorer.browser.test.ts; the package lists are refreshed
# only when the first try fails (a fresh machine may have none). A failed install is not fatal
# here: the browser test then fails and says what to install.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  say "installing Debian's chromium (for the explorer's browser test)"
  export DEBIAN_FRONTEND=noninteractive
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n -E"; else say "not root and no sudo: install chromium yourself (apt-get install -y chromium)"; return 0; fi
  fi
  $sudo apt-get install -y chromium >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo apt-get install -y chromium >/dev/null; } \
    || say "could not install chromium; the explorer's browser test will fail"
}

ensure_postgresql() {
  # The store contract suite and the PostgreSQL gateway tests need a real server
  # (test/helpers/postgres.ts starts a throwaway one unless GATEWAY_TEST_DATABASE_URL is set).
  [ -n "${GATEWAY_TEST_DATABASE_URL:-}" ] && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  command -v initdb >/dev/null 2>&1 && return 0
  say "installing Debian's postgresql (for the PostgreSQL store tests)"
  export DEBIAN_FRONTEND=noninteractive
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n -E"; else say "not root and no sudo: install postgresql yourself (apt-get install -y postgresql)"; return 0; fi
  fi
  $sudo apt-get install -y postgresql >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo apt-get install -y postgresql >/dev/null; } \
    || say "could not install postgresql; the PostgreSQL store tests will fail"
}

ensure_chromium
ensure_postgresql
if [ "$#" -eq 0 ]; then
  say "compiling the contracts and type-checking (npm run typecheck)"
  npm run --silent typecheck || { say "the type check failed: fix the errors above"; exit 1; }
fi
exec npx hardhat test "$@"
