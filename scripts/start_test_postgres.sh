#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the mark book's tests and print the URL to use.
#
#   export ESSAY_MARKER_TEST_PG_URL="$(scripts/start_test_postgres.sh)"   # URL on stdout, logs on stderr
#   scripts/start_test_postgres.sh stop          # stop it and delete its data
#
# Installs Debian's postgresql with apt if needed (needs root), runs a private
# cluster as the postgres user in $PGTEST_DIR (default /tmp/essay-marker-pg) on
# 127.0.0.1:$PGTEST_PORT (default 5433, or the next free port), trust auth on
# loopback only. Needs the Python driver too: pip install "psycopg[binary]".
set -euo pipefail

DIR="${PGTEST_DIR:-/tmp/essay-marker-pg}"
PORT="${PGTEST_PORT:-5433}"
DB=essay_marker_test

as_pg() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing postgresql with apt..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2 && apt-get install -y --no-install-recommends postgresql >&2
fi
BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"

if [ "${1:-}" = stop ]; then
  [ -f "$DIR/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
  rm -rf "$DIR"
  exit 0
fi

if [ -f "$DIR/port" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  PORT="$(cat "$DIR/port")"   # already running: just print the URL
else
  port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  rm -rf "$DIR"
  mkdir -p "$DIR"
  chown postgres:postgres "$DIR" 2>/dev/null || true
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 >&2
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >&2
  as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" >&2
  echo "$PORT" > "$DIR/port"
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
