#!/usr/bin/env bash
# The whole test suite (make test): SQLite always; PostgreSQL when a server
# answers or MOCPCR_TEST_DATABASE_URL is set; the browser tests when Chromium
# is installed. go test hides skip messages without -v, so this script ends
# with a summary saying which halves ran and why any did not.
set -uo pipefail
cd "$(dirname "$0")/.."

default_pg_url='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
pg_state=""
if [ -n "${MOCPCR_TEST_DATABASE_URL:-}" ]; then
  pg_state="ran (MOCPCR_TEST_DATABASE_URL is set)"
elif (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  # A TCP probe, not pg_isready: the client tools need not be installed.
  export MOCPCR_TEST_DATABASE_URL="$default_pg_url"
  pg_state="ran (a server answers on 127.0.0.1:5432; database test)"
else
  pg_state="SKIPPED: nothing answers on 127.0.0.1:5432 and MOCPCR_TEST_DATABASE_URL is unset (start PostgreSQL with trust auth and a database named test, or set MOCPCR_TEST_DATABASE_URL)"
fi

browser=""
for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then browser=$(command -v "$name"); break; fi
done
if [ -n "$browser" ]; then
  browser_state="ran ($browser)"
else
  browser_state="SKIPPED: Chromium is not installed (apt-get install chromium)"
fi

echo "make test: go test -count=1 -timeout 30m ./..."
go test -count=1 -timeout 30m "$@" ./...
rc=$?

echo
echo "== test summary =="
echo "SQLite half:      ran"
echo "PostgreSQL half:  $pg_state"
echo "Browser half:     $browser_state"
if [ "$rc" -eq 0 ]; then
  echo "Result:           ok"
else
  echo "Result:           FAILED (go test exit status $rc)"
fi
exit "$rc"
