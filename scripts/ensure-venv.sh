#!/usr/bin/env bash
# Create .venv with Python 3.11 and install the pinned dependencies and the project (editable),
# again only when requirements.txt or pyproject.toml changed since the last install.
# Quiet unless AFTERSALES_VERBOSE=1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

is_311() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' >/dev/null 2>&1; }

find_python() {
  local c
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && is_311 "$c"; then command -v "$c"; return 0; fi
  done
  return 1
}

how_to_install_python() {
  cat >&2 <<'EOT'
Python 3.11 is needed (nameko 2.14 and eventlet target it; 3.12+ does not work) and neither
`python3.11` nor `python3` is 3.11 here. Install it, then run this again:
  Debian 12:                  sudo apt-get install python3.11 python3.11-venv
  Ubuntu 22.04 / 24.04:       sudo add-apt-repository ppa:deadsnakes/ppa && sudo apt-get install python3.11 python3.11-venv
  Fedora / RHEL 9:            sudo dnf install python3.11
  macOS (Homebrew):           brew install python@3.11
  pyenv:                      pyenv install 3.11 && pyenv local 3.11
EOT
  exit 1
}

# A .venv made with another Python, or whose interpreter is gone, is replaced. One that exists
# but does not run is left alone (it may be a permission problem): say so instead.
if [ -e "$VENV" ] && ! { [ -x "$PY" ] && is_311 "$PY"; }; then
  [ -f "$VENV/pyvenv.cfg" ] || die "$VENV exists but is not a virtualenv: move it away and run this again"
  [ -O "$VENV" ] || die "$PY does not run for $(id -un), and .venv belongs to another user: run this as its owner"
  made_with=$(sed -n 's/^version[_a-z]* *= *//p' "$VENV/pyvenv.cfg" | head -n 1)
  if [ ! -e "$PY" ]; then
    say "replacing .venv: its Python is gone"
  elif [ -n "$made_with" ] && [ "${made_with#3.11}" = "$made_with" ]; then
    say "replacing .venv: it was made with Python $made_with, not 3.11"
  else
    die "$PY does not run ($("$PY" -V 2>&1 | head -n 1)). Remove .venv and run this again: rm -rf .venv"
  fi
  rm -rf "$VENV"
fi

if [ ! -x "$PY" ]; then
  python=$(find_python) || {
    if can_install && apt-cache show python3.11-venv >/dev/null 2>&1; then
      say "installing Python 3.11 with apt-get"
      apt_install python3.11 python3.11-venv || true
    fi
    python=$(find_python) || how_to_install_python
  }
  say "creating .venv with $python ($("$python" -V 2>&1))"
  if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    if can_install && apt-cache show python3.11-venv >/dev/null 2>&1; then
      say "installing python3.11-venv with apt-get (the venv module is missing)"
      apt_install python3.11-venv || true
    fi
    "$python" -m venv "$VENV" || {
      rm -rf "$VENV"
      die "could not create the virtualenv with $python. On Debian/Ubuntu: sudo apt-get install python3.11-venv"
    }
  fi
fi

stamp="$VENV/.installed"
sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi; }
sum=$(cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" | sha256 | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  quiet=(-q); verbose && quiet=()
  pip=("$PY" -m pip --disable-pip-version-check --no-input "${quiet[@]}")
  if [ -f "$stamp" ]; then
    say "requirements.txt or pyproject.toml changed: updating .venv"
  else
    say "installing the pinned dependencies into .venv (takes a minute)"
  fi
  "${pip[@]}" install 'setuptools<82' wheel \
    && "${pip[@]}" install -r "$ROOT/requirements.txt" -e "$ROOT" \
    || die "pip could not install the dependencies (run again with AFTERSALES_VERBOSE=1 to see why)"
  echo "$sum" > "$stamp"
  say ".venv is ready"
fi
