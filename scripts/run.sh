#!/usr/bin/env bash
# `make run`: bring the whole system up locally and stop it cleanly on Ctrl-C.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash scripts/ensure-venv.sh
bash scripts/ensure-broker.sh

export AFTERSALES_VAR_DIR="${AFTERSALES_VAR_DIR:-$ROOT/var}"
LOGS="$AFTERSALES_VAR_DIR/log"
mkdir -p "$LOGS"
SERVICES=(intake dispatch parts feedback)

say "applying database migrations"
"$PY" -m aftersales migrate
say "loading demo reference data where a service has none yet"
"$PY" -m aftersales seed --if-empty

declare -A PIDS=()
stop_all() {
  trap - INT TERM EXIT
  [ ${#PIDS[@]} -eq 0 ] && return
  say "stopping the services"
  for s in "${!PIDS[@]}"; do kill -TERM "${PIDS[$s]}" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    alive=0
    for s in "${!PIDS[@]}"; do kill -0 "${PIDS[$s]}" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.5
  done
  for s in "${!PIDS[@]}"; do
    if kill -0 "${PIDS[$s]}" 2>/dev/null; then
      warn "$s did not stop in 10 s; killing it"; kill -KILL "${PIDS[$s]}" 2>/dev/null || true
    fi
  done
  say "stopped"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

url_of() { "$PY" -c "from aftersales.config import http_address; print('http://' + http_address('$1'))"; }

for s in "${SERVICES[@]}"; do
  "$PY" -m aftersales run "$s" >>"$LOGS/$s.log" 2>&1 &
  PIDS[$s]=$!
done

say "waiting for the services to answer /health"
for s in "${SERVICES[@]}"; do
  url="$(url_of "$s")/health"
  for i in $(seq 1 60); do
    if ! kill -0 "${PIDS[$s]}" 2>/dev/null; then
      tail -n 20 "$LOGS/$s.log" >&2 || true
      die "$s exited during start-up (log: $LOGS/$s.log)"
    fi
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then printf '    %-9s up\n' "$s"; break; fi
    [ "$i" = 60 ] && die "$s did not answer $url within 60 s (log: $LOGS/$s.log)"
    sleep 1
  done
done

KEY=$("$PY" -m aftersales keys issue --branch HQ --role admin)
echo
say "the after-sales platform is running (Ctrl-C stops it)"
for s in "${SERVICES[@]}"; do
  u=$(url_of "$s"); printf '    %-9s %s   (%s/health, %s/metrics)\n' "$s" "$u" "$u" "$u"
done
cat <<EOT

    logs:        $LOGS/<service>.log
    an HQ key:   export KEY=$KEY
    try:         curl -s -H "Authorization: Bearer \$KEY" "$(url_of intake)/api/v1/tickets"
    simulate:    make demo    (in another terminal)
    more keys:   .venv/bin/aftersales keys issue --branch SH --role agent

EOT
wait
