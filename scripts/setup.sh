#!/usr/bin/env bash
# Set-up shared by the run and test commands: a python3.10 virtual environment
# in .venv/ with requirements.txt installed (again only when it changed).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    candidate="$(pyenv root)/versions/$(pyenv versions --bare | grep -E '^3\.10' | tail -n 1)/bin/python3.10"
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  fi
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  PY="$(find_python310)" || { echo "Python 3.10 is required (Rasa 3.6 does not run on 3.11). Install it, or set PYTHON310=/path/to/python3.10." >&2; exit 1; }
  echo "Creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=.venv/.requirements.sha256
wanted="$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing requirements (pip caches downloads in ~/.cache/pip)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
  echo "$wanted" > "$stamp"
fi
mkdir -p var models
