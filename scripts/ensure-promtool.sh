#!/usr/bin/env bash
# For the tests: promtool (from the OS's prometheus package) checks and unit-tests the alert
# rules. Installed when allowed; otherwise those tests are skipped (an error under CI).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null 2>&1 && exit 0
if can_install; then
  say "installing Prometheus (for promtool) with apt-get"
  apt_install prometheus && as_root sh -c 'systemctl disable --now prometheus >/dev/null 2>&1 || true'
  command -v promtool >/dev/null 2>&1 && exit 0
fi
if [ -n "${CI:-}" ]; then die "promtool is not available: install the prometheus package"; fi
warn "promtool is not available: the Prometheus rule tests will be skipped"
