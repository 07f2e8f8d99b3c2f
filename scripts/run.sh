#!/usr/bin/env bash
# `make run`: bring the whole system up locally and stop it cleanly on Ctrl-C (or SIGTERM).
#
# venv and broker (ensure-*.sh) -> migrations -> demo data on the first run (and, in development
# mode, the console's demo users) -> the services (the four and the console)
# as background processes (logs in var/log/<service>.log, pids in var/run/<service>.pid) ->
# wait for every /health -> print URLs and an API key -> keep watching; if a service dies the
# others are stopped too. On the way out: SIGTERM to each, then SIGKILL after a bounded time.
#   AFTERSALES_START_TIMEOUT  seconds for all services to answer /health (default 90)
#   AFTERSALES_STOP_TIMEOUT   seconds a service gets to stop after SIGTERM (default 15)
#   plus everything aftersales/config.py reads (AMQP_URI, <SERVICE>_HTTP, ...)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

START_TIMEOUT="${AFTERSALES_START_TIMEOUT:-90}"
STOP_TIMEOUT="${AFTERSALES_STOP_TIMEOUT:-15}"
SERVICES=(intake dispatch parts feedback console)

bash scripts/ensure-venv.sh
bash scripts/ensure-broker.sh

export AFTERSALES_VAR_DIR="${AFTERSALES_VAR_DIR:-$ROOT/var}"
# A developer's machine: development mode, where a missing AFTERSALES_SECRET means the public
# development secret (production mode, the default everywhere else, refuses to start so).
export AFTERSALES_MODE="${AFTERSALES_MODE:-development}"
if [ -z "${AFTERSALES_SECRET:-}" ]; then
  warn "AFTERSALES_SECRET is not set: development mode, API keys are signed with the PUBLIC development secret (never do this in production)"
fi
LOGS="$AFTERSALES_VAR_DIR/log"
RUN="$AFTERSALES_VAR_DIR/run"
mkdir -p "$LOGS" "$RUN"

# Each service's HTTP address, as the services themselves read it (<SERVICE>_HTTP), and
# whether it can be listened on: "ok", "busy" (another program has it) or why not.
ADDRS=() BIND=()
while read -r name addr bind; do
  for i in "${!SERVICES[@]}"; do
    [ "${SERVICES[$i]}" = "$name" ] && ADDRS[$i]=$addr BIND[$i]=$bind
  done
done < <("$PY" - "${SERVICES[@]}" <<'PY'
import errno, socket, sys
from aftersales.config import http_address
for s in sys.argv[1:]:
    addr = http_address(s)
    host, port = addr.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), int(port)))
        state = "ok"
    except OSError as exc:
        state = "busy" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).replace(" ", "_")
    finally:
        sock.close()
    print(s, addr, state)
PY
)
[ ${#ADDRS[@]} = ${#SERVICES[@]} ] || die "could not read the services' addresses (<SERVICE>_HTTP)"
url() { local a=${ADDRS[$1]}; echo "http://${a/#0.0.0.0:/127.0.0.1:}"; }

# Not twice: a previous `make run` still running, or something else on a service's port.
for i in "${!SERVICES[@]}"; do
  s=${SERVICES[$i]} pidfile="$RUN/${SERVICES[$i]}.pid"
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && \
       ps -o args= -p "$pid" 2>/dev/null | grep -q "aftersales run $s"; then
      die "$s is already running (pid $pid, from an earlier 'make run'): stop that one first (Ctrl-C in its terminal, or: kill $pid)"
    fi
    rm -f "$pidfile"
  fi
  port=${ADDRS[$i]##*:} upper=$(echo "$s" | tr '[:lower:]' '[:upper:]')
  case "${BIND[$i]}" in
    ok) ;;
    busy) die "port $port ($s) is already in use by another program. Stop it, or choose other ports, e.g.: ${upper}_HTTP=127.0.0.1:$((port + 10000)) make run" ;;
    *) die "$s cannot listen on ${ADDRS[$i]} (${BIND[$i]//_/ }): check ${upper}_HTTP" ;;
  esac
done

say "applying database migrations"
"$PY" -m aftersales migrate | sed 's/^/    /'
# classic queues left by an older install become quorum queues, messages kept (idempotent:
# one line when there is nothing to do); the services are not running yet
say "checking the broker's queues (quorum)"
"$PY" -m aftersales broker migrate-queues | sed 's/^/    /'
say "loading demo reference data where a service has none yet"
"$PY" -m aftersales seed --if-empty | sed 's/^/    /'
if [ "$AFTERSALES_MODE" = development ]; then
  say "the console's demo users (development only: their password is public)"
  "$PY" -m aftersales users demo | sed 's/^/    /'
fi

PIDS=()
stopping=0
alive() { [ -n "${PIDS[$1]:-}" ] && kill -0 "${PIDS[$1]}" 2>/dev/null; }
stop_all() {
  [ $stopping = 1 ] && return
  stopping=1
  trap '' INT TERM
  local i deadline any
  if [ ${#PIDS[@]} -gt 0 ]; then
    say "stopping the services"
    for i in "${!PIDS[@]}"; do alive "$i" && kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
    deadline=$((SECONDS + STOP_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
      any=0
      for i in "${!PIDS[@]}"; do alive "$i" && any=1; done
      [ $any = 0 ] && break
      sleep 0.2
    done
    for i in "${!PIDS[@]}"; do
      if alive "$i"; then
        warn "${SERVICES[$i]} did not stop within ${STOP_TIMEOUT}s after SIGTERM: killing it"
        kill -KILL "${PIDS[$i]}" 2>/dev/null || true
      fi
      wait "${PIDS[$i]}" 2>/dev/null || true
      rm -f "$RUN/${SERVICES[$i]}.pid"
    done
    say "stopped"
  fi
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

show_log() {
  printf '    --- last lines of %s ---\n' "$LOGS/$1.log" >&2
  tail -n 25 "$LOGS/$1.log" 2>/dev/null | sed 's/^/    /' >&2 || true
}

say "starting the services (logs in $LOGS/)"
for i in "${!SERVICES[@]}"; do
  s=${SERVICES[$i]}
  printf '\n=== %s: starting %s\n' "$(date '+%Y-%m-%dT%H:%M:%S%z')" "$s" >>"$LOGS/$s.log"
  "$PY" -m aftersales run "$s" >>"$LOGS/$s.log" 2>&1 &
  PIDS[$i]=$!
  echo "${PIDS[$i]}" >"$RUN/$s.pid"
done

say "waiting for every service's /health (up to ${START_TIMEOUT}s)"
UP=()
deadline=$((SECONDS + START_TIMEOUT))
while :; do
  for i in "${!SERVICES[@]}"; do
    [ -n "${UP[$i]:-}" ] && continue
    s=${SERVICES[$i]}
    if ! alive "$i"; then
      rc=0; wait "${PIDS[$i]}" 2>/dev/null || rc=$?
      show_log "$s"
      die "$s exited during start-up (exit status $rc); its log: $LOGS/$s.log"
    fi
    if curl -fsS -m 2 -o /dev/null "$(url "$i")/health" 2>/dev/null; then
      UP[$i]=1; printf '    %-9s up   %s\n' "$s" "$(url "$i")"
    fi
  done
  [ ${#UP[@]} = ${#SERVICES[@]} ] && break
  if [ $SECONDS -ge $deadline ]; then
    for i in "${!SERVICES[@]}"; do
      [ -n "${UP[$i]:-}" ] && continue
      s=${SERVICES[$i]}
      body=$(curl -sS -m 2 "$(url "$i")/health" 2>&1 || true)
      show_log "$s"
      warn "$s: $(url "$i")/health answered: ${body:-nothing}"
    done
    die "not every service answered /health within ${START_TIMEOUT}s (see the logs above; /health is 503 while the broker or the database is unreachable)"
  fi
  sleep 1
done

KEY=$("$PY" -m aftersales keys issue --branch HQ --role admin --subject make-run-demo --expires 7d)
echo
say "the after-sales platform is running; Ctrl-C stops it"
printf '    %-9s %-24s %-32s %s\n' service API health metrics
for i in "${!SERVICES[@]}"; do
  u=$(url "$i"); printf '    %-9s %-24s %-32s %s\n' "${SERVICES[$i]}" "$u" "$u/health" "$u/metrics"
done
cat <<EOT

    demo API key (HQ, admin):
      export KEY=$KEY
    try:
      curl -s -H "Authorization: Bearer \$KEY" $(url 0)/api/v1/tickets
    play phone centers, engineers and customers (in another terminal):
      make demo
    more keys (development mode, as here):
      AFTERSALES_MODE=development .venv/bin/aftersales keys issue --branch SH --role agent --subject SH-A001
      .venv/bin/aftersales keys list      .venv/bin/aftersales keys revoke KID
    the console (web pages for people; zh, English with the switch):
      $(url 4)/console
EOT
if [ "$AFTERSALES_MODE" = development ]; then
  cat <<EOT
      demo logins, password $("$PY" -c 'from services.console.service_layer.users import DEMO_PASSWORD as p; print(p)') (development only):
$("$PY" -c 'from services.console.service_layer.users import DEMO_USERS as u
for login, name, branch, role, _ in u: print(f"        {login:<14} {role:<11} {branch:<3} {name}")')
EOT
else
  echo "      add people with: .venv/bin/aftersales users add LOGIN --name NAME --branch SH --role agent"
fi
cat <<EOT
    logs:        $LOGS/<service>.log        data: $AFTERSALES_VAR_DIR

EOT

# Keep watching: a service that dies takes the others down with it, loudly.
while :; do
  for i in "${!SERVICES[@]}"; do
    if ! alive "$i"; then
      rc=0; wait "${PIDS[$i]}" 2>/dev/null || rc=$?
      s=${SERVICES[$i]}
      show_log "$s"
      unset "PIDS[$i]"; rm -f "$RUN/$s.pid"
      die "$s stopped unexpectedly (exit status $rc); stopping the others (log: $LOGS/$s.log)"
    fi
  done
  sleep 1 &
  wait $! || true
done
