#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers at $AMQP_URI: reuse it, start an installed one, or
# install one with the OS package manager when allowed; otherwise say what to do.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

answers() {
  "$PY" - <<'PY' >/dev/null 2>&1
import os
from kombu import Connection
with Connection(os.environ["AMQP_URI"], connect_timeout=3) as c:
    c.ensure_connection(max_retries=1)
PY
}

if answers; then exit 0; fi

start_local() {
  say "starting the installed rabbitmq-server"
  if command -v systemctl >/dev/null 2>&1 && systemctl list-unit-files rabbitmq-server.service >/dev/null 2>&1 \
     && as_root systemctl start rabbitmq-server 2>/dev/null; then :
  else
    as_root rabbitmq-server -detached >/dev/null 2>&1 || rabbitmq-server -detached >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 60); do
    if answers; then say "RabbitMQ is up"; return 0; fi
    sleep 1
  done
  return 1
}

if command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ]; then
  PATH="$PATH:/usr/sbin"
  start_local && exit 0
  die "rabbitmq-server is installed but did not answer at $AMQP_URI within 60 s; see its log (rabbitmq-diagnostics status)"
fi

if can_install; then
  say "installing rabbitmq-server with apt-get"
  apt_install rabbitmq-server || die "apt-get could not install rabbitmq-server"
  PATH="$PATH:/usr/sbin"
  start_local && exit 0
  die "rabbitmq-server was installed but does not answer at $AMQP_URI"
fi

die "no RabbitMQ answers at $AMQP_URI. Either:
  - install and start one: sudo apt-get install rabbitmq-server   (or: brew install rabbitmq && brew services start rabbitmq)
  - run one in Docker:     docker run -d -p 5672:5672 -p 15672:15672 rabbitmq:3-management
  - or point AMQP_URI at a broker you have (pyamqp://user:password@host:5672//)"
