# Shared helpers of the project's scripts (sourced, not run).
#
# Environment understood by every script:
#   AMQP_URI               the broker (default pyamqp://guest:guest@127.0.0.1:5672//)
#   AFTERSALES_NO_INSTALL  set to anything: never install OS packages, only say what to install
#   AFTERSALES_VERBOSE     set to 1: show pip's and apt-get's output
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
: "${AMQP_URI:=pyamqp://guest:guest@127.0.0.1:5672//}"
export AMQP_URI
PATH="$PATH:/usr/sbin:/sbin"   # rabbitmq-server and rabbitmqctl live there on Debian

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  _B=$'\033[1m' _Y=$'\033[33m' _R=$'\033[31m' _N=$'\033[0m'
else
  _B='' _Y='' _R='' _N=''
fi
say()  { printf '%s==>%s %s\n' "$_B" "$_N" "$*"; }
warn() { printf '%swarning:%s %s\n' "$_Y" "$_N" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$_R" "$_N" "$*" >&2; exit 1; }
verbose() { [ "${AFTERSALES_VERBOSE:-0}" != 0 ]; }

# Run a command as root: directly, or with passwordless sudo; fail otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

# May the scripts install OS packages? (apt-get, root or passwordless sudo, not forbidden)
can_install() {
  [ -z "${AFTERSALES_NO_INSTALL:-}" ] && command -v apt-get >/dev/null 2>&1 && \
    { [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }
}

_apt_updated=
apt_install() {
  local out=/dev/null
  verbose && out=/dev/stderr
  if [ -z "$_apt_updated" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$out" 2>&1 || return 1
    _apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >"$out" 2>&1
}

# The scripts that check services need the venv's Python (kombu, psycopg2).
# (ensure-venv.sh is quick when nothing changed.)
need_venv() {
  bash "$ROOT/scripts/ensure-venv.sh"
}
