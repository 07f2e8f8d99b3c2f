#!/usr/bin/env bash
# For the tests, two tools from the OS's packages:
#   promtool / prometheus (package prometheus): checks the Prometheus configuration, unit-tests
#     the alert rules, and the end-to-end test scrapes the services with a real server;
#   docker-compose (package docker-compose): validates docker-compose.yml (`config`) without a
#     Docker engine (a `docker compose` v2 plugin is used instead when present);
#   chromium (package chromium, /usr/bin/chromium): the console's browser tests drive it with
#     Playwright (the pinned Python package in requirements.txt) and never download a browser;
#     with a Chinese font (package fonts-wqy-microhei) so the screenshots show Chinese, not boxes.
# Installed with apt-get when allowed (root or passwordless sudo, AFTERSALES_NO_INSTALL unset);
# otherwise the tests that need them are skipped locally and fail under CI.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

have_compose() {
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1
}
missing() {
  local m=()
  command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || m+=(prometheus)
  have_compose || m+=(docker-compose)
  [ -x /usr/bin/chromium ] || m+=(chromium)
  fc-list :lang=zh 2>/dev/null | grep -q . || m+=(fonts-wqy-microhei)
  echo "${m[@]}"
}

need=$(missing)
[ -z "$need" ] && exit 0

if can_install; then
  say "installing $need with apt-get (for the deploy-file, monitoring and browser tests)"
  # shellcheck disable=SC2086
  apt_install $need || warn "apt-get could not install $need"
  # The prometheus package may start a server (systemd or init script); the tests run their own.
  if [[ " $need " == *" prometheus "* ]]; then
    if [ -d /run/systemd/system ]; then
      as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/prometheus ]; then
      as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
  fi
  need=$(missing)
  [ -z "$need" ] && exit 0
fi

msg="missing $need: install with 'sudo apt-get install $need'"
if [ -n "${CI:-}" ]; then die "$msg (CI runs every test)"; fi
warn "$msg; until then the tests that need them are skipped"
