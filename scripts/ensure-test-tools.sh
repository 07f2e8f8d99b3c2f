#!/usr/bin/env bash
# For the tests: promtool (the OS's prometheus package) checks and unit-tests the alert rules,
# docker-compose validates docker-compose.yml without a Docker engine. Installed when allowed;
# otherwise those tests are skipped (an error under CI).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0
if can_install; then
  say "installing ${need[*]} with apt-get (for the deploy-file tests)"
  apt_install "${need[@]}" || warn "apt-get could not install ${need[*]}"
  # the prometheus package starts a server where systemd runs; the tests start their own
  as_root sh -c 'systemctl disable --now prometheus >/dev/null 2>&1 || true'
fi
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(promtool)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ -n "${CI:-}" ]; then die "missing ${missing[*]}: install the prometheus and docker-compose packages"; fi
warn "missing ${missing[*]}: the tests that need them will be skipped"
