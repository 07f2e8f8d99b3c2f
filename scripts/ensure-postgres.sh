#!/usr/bin/env bash
# For the tests: make sure PostgreSQL answers at $AFTERSALES_TEST_PG (default
# postgresql://postgres@127.0.0.1:5432/postgres); start an installed but stopped cluster
# (pg_ctlcluster) if it does not. Without one the PostgreSQL tests are skipped locally
# (exit 0 with a warning) and fail under CI (CI set: exit 1).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_venv
: "${AFTERSALES_TEST_PG:=postgresql://postgres@127.0.0.1:5432/postgres}"
export AFTERSALES_TEST_PG
SHOWN=$(printf '%s' "$AFTERSALES_TEST_PG" | sed -E 's#(//[^:/@]*:)[^@/]*@#\1***@#')

answers() {
  "$PY" - <<'PY' >/dev/null 2>&1
import os, psycopg2
psycopg2.connect(os.environ["AFTERSALES_TEST_PG"], connect_timeout=3).close()
PY
}

answers && exit 0

if command -v pg_lsclusters >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1; then
  started=0
  while read -r ver name _port status _rest; do
    [ -n "$ver" ] || continue
    case "$status" in online*) continue ;; esac
    say "starting PostgreSQL cluster $ver/$name"
    if as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >/dev/null 2>&1 \
       || pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >/dev/null 2>&1; then
      started=1
    else
      warn "could not start PostgreSQL cluster $ver/$name (see pg_lsclusters and its log)"
    fi
  done < <(pg_lsclusters -h 2>/dev/null || true)
  if [ $started = 1 ]; then
    for _ in $(seq 1 30); do answers && { say "PostgreSQL answers"; exit 0; }; sleep 1; done
  fi
fi

how="Start PostgreSQL (e.g. sudo apt-get install postgresql, with trust or a password for
  the user in the URL), or set AFTERSALES_TEST_PG=postgresql://USER:PASSWORD@HOST:5432/postgres
  (a user allowed to create databases)."
if [ -n "${CI:-}" ]; then   # as the test fixtures: any non-empty CI
  die "PostgreSQL does not answer at $SHOWN, and CI runs every test on PostgreSQL too.
  $how"
fi
warn "PostgreSQL does not answer at $SHOWN: the PostgreSQL tests will be skipped.
  $how"
