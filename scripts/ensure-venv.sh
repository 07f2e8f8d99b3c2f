#!/usr/bin/env bash
# Create .venv with Python 3.11 and install the pinned dependencies (only when they changed).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

find_python() {
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && \
       "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

if [ ! -x "$PY" ]; then
  python=$(find_python) || {
    if can_install; then
      say "installing Python 3.11 with apt-get"
      apt_install python3.11 python3.11-venv || true
      python=$(find_python) || true
    fi
    [ -n "${python:-}" ] || die "Python 3.11 is needed (nameko 2.14 and eventlet target it). Install it, e.g. 'apt-get install python3.11 python3.11-venv' or 'pyenv install 3.11', then run this again."
  }
  say "creating .venv with $python"
  "$python" -m venv "$VENV" || die "could not create the virtualenv (on Debian/Ubuntu: apt-get install python3.11-venv)"
fi

stamp="$VENV/.installed"
sum=$(cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  say "installing the pinned dependencies into .venv (first run takes a minute)"
  "$PY" -m pip install -q --disable-pip-version-check 'setuptools<82' wheel
  "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt"
  "$PY" -m pip install -q --disable-pip-version-check --no-deps -e "$ROOT"
  echo "$sum" > "$stamp"
fi
