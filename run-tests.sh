#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite, then the accuracy gate on the dev corpora.
#   ./run-tests.sh             # everything
#   ./run-tests.sh -k ingest   # extra arguments go to pytest
# As root on Debian it installs Chromium (browser test) and PostgreSQL (storage tests) with apt-get;
# elsewhere those tests skip with a message. ESSAY_MARKER_CORPUS points at the labelled corpora
# (default ../shared/corpus); CI=1 makes their absence an error instead of a skip.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed-test ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test,postgres]'
  touch .venv/.installed-test
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v pg_ctlcluster >/dev/null || need+=(postgresql)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
if [ -z "${ESSAY_MARKER_TEST_PG_URL:-}" ] && [ -x scripts/start_test_postgres.sh ] && command -v pg_ctlcluster >/dev/null; then
  ESSAY_MARKER_TEST_PG_URL=$(scripts/start_test_postgres.sh) && export ESSAY_MARKER_TEST_PG_URL || true
fi
export ESSAY_MARKER_CORPUS=${ESSAY_MARKER_CORPUS:-$(cd .. && pwd)/shared/corpus}
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ]; then
  if [ -f "$ESSAY_MARKER_CORPUS/dev/labels.json" ]; then
    .venv/bin/essay-marker evaluate "$ESSAY_MARKER_CORPUS/dev" "$ESSAY_MARKER_CORPUS/dev_fixedlen" \
      --min-qwk 0.85 --min-f1 0.85
  elif [ -n "${CI:-}" ]; then
    echo "error: labelled corpus not found at $ESSAY_MARKER_CORPUS" >&2; exit 1
  else
    echo "skipping accuracy gate: no labelled corpus at $ESSAY_MARKER_CORPUS"
  fi
fi
