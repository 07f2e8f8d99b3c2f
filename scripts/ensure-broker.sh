#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers at $AMQP_URI: reuse it when it answers; otherwise start
# an installed rabbitmq-server; otherwise install one with apt-get when allowed (root or
# passwordless sudo, AFTERSALES_NO_INSTALL unset); otherwise say exactly what to do.
#   AFTERSALES_BROKER_TIMEOUT  seconds to wait for a started broker (default 60)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_venv
TIMEOUT="${AFTERSALES_BROKER_TIMEOUT:-60}"

# 0: answers; 2: nothing answers (refused, unreachable); 3: answers but refuses us (login, vhost).
probe() {
  "$PY" - <<'PY'
import os, sys
from kombu import Connection
from kombu.exceptions import OperationalError
try:
    with Connection(os.environ["AMQP_URI"], connect_timeout=3) as c:
        c.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=5)
except OperationalError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
except Exception as exc:   # the broker answered and said no: AccessRefused, NotAllowed (vhost)
    print(exc, file=sys.stderr)
    sys.exit(3)
PY
}

# "host port display" of AMQP_URI, the password masked for messages.
read -r HOST PORT SHOWN < <("$PY" - <<'PY'
import os, re
from kombu import Connection
uri = os.environ["AMQP_URI"]
c = Connection(uri)
print(c.hostname or "localhost", c.port or 5672, re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", uri))
PY
) || die "AMQP_URI is not a broker URL: $AMQP_URI"

check() {
  local rc=0 err
  err=$(probe 2>&1 >/dev/null) || rc=$?
  if [ $rc = 3 ]; then
    die "RabbitMQ at $HOST:$PORT answers but refuses the connection ($err).
  Fix the user, password or vhost in AMQP_URI (now $SHOWN), or create them on the broker:
    sudo rabbitmqctl add_user USER PASSWORD
    sudo rabbitmqctl add_vhost VHOST
    sudo rabbitmqctl set_permissions -p VHOST USER '.*' '.*' '.*'"
  fi
  return $rc
}

check && exit 0

how_to() {
  die "no RabbitMQ answers at $SHOWN. $1Either:
  - install and start one:  sudo apt-get install rabbitmq-server && sudo rabbitmq-server -detached
                            (macOS: brew install rabbitmq && brew services start rabbitmq)
  - run one in Docker:      docker run -d --name rabbitmq -p 5672:5672 -p 15672:15672 rabbitmq:3-management
  - or point AMQP_URI at a broker you have:  export AMQP_URI=pyamqp://USER:PASSWORD@HOST:5672//
then run this again."
}

case "$HOST" in
  localhost|127.*|::1|0.0.0.0|"$(hostname 2>/dev/null)"|"$(hostname -f 2>/dev/null)") ;;
  *) die "no RabbitMQ answers at $SHOWN, and that is not this machine: start the broker on $HOST, or point AMQP_URI at one that runs (e.g. pyamqp://guest:guest@127.0.0.1:5672//)." ;;
esac

wait_until_up() {
  local deadline=$((SECONDS + TIMEOUT))
  printf '    waiting for RabbitMQ (up to %ss) ' "$TIMEOUT"
  while :; do
    if check; then echo; say "RabbitMQ answers at $HOST:$PORT"; return 0; fi
    [ $SECONDS -ge $deadline ] && { echo; return 1; }
    printf '.'; sleep 2
  done
}

start_installed() {
  say "starting the installed rabbitmq-server"
  local out=/dev/null
  verbose && out=/dev/stderr
  if [ -d /run/systemd/system ] && systemctl cat rabbitmq-server.service >/dev/null 2>&1 \
     && as_root systemctl start rabbitmq-server >"$out" 2>&1; then
    :
  elif as_root true; then
    as_root rabbitmq-server -detached >"$out" 2>&1 || true
  elif ! rabbitmq-server -detached >"$out" 2>&1; then
    # not root and no passwordless sudo: the broker's files belong to another user
    die "could not start rabbitmq-server as $(id -un). Start it as root, then run this again:
    sudo systemctl start rabbitmq-server     (or: sudo rabbitmq-server -detached)"
  fi
  wait_until_up
}

if command -v rabbitmq-server >/dev/null 2>&1; then
  start_installed && exit 0
  die "rabbitmq-server is installed but nothing answered at $SHOWN within ${TIMEOUT}s.
  Start it:      sudo systemctl start rabbitmq-server   (or: sudo rabbitmq-server -detached)
  See why not:   sudo rabbitmq-diagnostics status       (logs under /var/log/rabbitmq/)
  If it runs on another port or with other credentials, set AMQP_URI accordingly."
fi

if can_install; then
  say "installing rabbitmq-server with apt-get"
  apt_install rabbitmq-server || how_to "apt-get could not install rabbitmq-server. "
  # the package may have started it already
  check && { say "RabbitMQ answers at $HOST:$PORT"; exit 0; }
  start_installed && exit 0
  die "rabbitmq-server was installed but nothing answered at $SHOWN within ${TIMEOUT}s (sudo rabbitmq-diagnostics status)"
fi

if [ -n "${AFTERSALES_NO_INSTALL:-}" ]; then
  how_to "(AFTERSALES_NO_INSTALL is set, so nothing was installed.) "
fi
how_to ""
