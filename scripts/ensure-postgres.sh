#!/usr/bin/env bash
# For the tests: make sure PostgreSQL answers at $AFTERSALES_TEST_PG; start an installed
# cluster if it does not. Without one the PostgreSQL tests are skipped (an error under CI).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
: "${AFTERSALES_TEST_PG:=postgresql://postgres@127.0.0.1:5432/postgres}"
export AFTERSALES_TEST_PG

answers() {
  "$PY" - <<'PY' >/dev/null 2>&1
import os, psycopg2
psycopg2.connect(os.environ["AFTERSALES_TEST_PG"], connect_timeout=3).close()
PY
}

if answers; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  say "starting the installed PostgreSQL cluster"
  for v in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 30); do answers && exit 0; sleep 1; done
fi
if [ -n "${CI:-}" ]; then
  die "PostgreSQL does not answer at $AFTERSALES_TEST_PG (CI runs every test on PostgreSQL too)"
fi
warn "PostgreSQL does not answer at $AFTERSALES_TEST_PG: its tests will be skipped (set AFTERSALES_TEST_PG to run them)"
