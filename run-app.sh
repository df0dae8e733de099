#!/usr/bin/env bash
# Set up (first run only) and start the essay-marker app on the embedded defaults:
# a SQLite database in ./essay-marker.db and the shipped rubric. Needs only Python 3.11+.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/essay-marker ] || [ pyproject.toml -nt .venv/.installed ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
  touch .venv/.installed
fi
exec .venv/bin/essay-marker serve "$@"
