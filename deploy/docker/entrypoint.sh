#!/bin/sh
# The image's entrypoint.  docker run IMAGE [SERVICE | COMMAND ARGS...]
#   (no arguments)   run the service named by $AFTERSALES_SERVICE (default: intake)
#   SERVICE          run that service: intake, dispatch, parts or feedback
#   COMMAND ARGS     any `aftersales` command: migrate, seed --if-empty, keys issue ..., parked ...
# AFTERSALES_SEED_ON_START=1: before a service starts, load the demo data where its database
# is still empty (docker-compose.yml uses a one-shot `seed` service instead).
set -e
if [ $# -eq 0 ]; then
  set -- "${AFTERSALES_SERVICE:-intake}"
fi
case "$1" in
  intake|dispatch|parts|feedback) service=$1; shift; set -- run "$service" "$@" ;;
esac
if [ "$1" = run ] && [ -n "${AFTERSALES_SEED_ON_START:-}" ] && [ "$AFTERSALES_SEED_ON_START" != 0 ]; then
  python -m aftersales seed --if-empty "$2"
fi
exec python -m aftersales "$@"
