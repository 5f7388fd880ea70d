#!/usr/bin/env bash
# PostgreSQL from Debian's packages, a throwaway cluster on 127.0.0.1:35432 with trust auth
# for the superuser `correo` (loopback only, tests only). postgres refuses to run as root, so
# the cluster belongs to the `postgres` system user that the package creates, in a directory
# that user can reach whatever the checkout's permissions are.
source "$(dirname "$0")/lib.sh"
PGDATA_DIR="${CORREO_TEST_PGDATA:-/var/tmp/correo-test-postgres}"
PIDFILE="$STATE_DIR/postgres.pid"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/postgres" ]; then
    apt_install postgresql >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

as_postgres() { runuser -u postgres -- "$@"; }

case "${1:-}" in
  start)
    if pid_alive "$PIDFILE"; then log "postgres already running"; exit 0; fi
    BIN=$(pg_bin)
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    # A fresh cluster every run: tests never depend on leftovers.
    rm -rf "$PGDATA_DIR"; mkdir -p "$PGDATA_DIR"; chown postgres "$PGDATA_DIR"; chmod 700 "$PGDATA_DIR"
    as_postgres "$BIN/initdb" -D "$PGDATA_DIR/data" -U correo --auth=trust -E UTF8 --locale=C.UTF-8 >"$STATE_DIR/postgres-initdb.log" 2>&1 \
      || die "initdb failed: $(tail -n 5 "$STATE_DIR/postgres-initdb.log")"
    touch "$STATE_DIR/postgres.log"; chown postgres "$STATE_DIR/postgres.log" 2>/dev/null || true
    as_postgres "$BIN/pg_ctl" -D "$PGDATA_DIR/data" -w -t 60 -l "$PGDATA_DIR/postgres.log" \
      -o "-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -k $PGDATA_DIR -c max_connections=300 -c fsync=on -c shared_buffers=128MB" start >&2 \
      || die "postgres did not start: $(tail -n 20 "$PGDATA_DIR/postgres.log")"
    head -n 1 "$PGDATA_DIR/data/postmaster.pid" > "$PIDFILE"
    log "postgres up on 127.0.0.1:$POSTGRES_PORT"
    ;;
  stop)
    if pid_alive "$PIDFILE"; then
      BIN=$(pg_bin)
      as_postgres "$BIN/pg_ctl" -D "$PGDATA_DIR/data" -m fast -w stop >&2 || stop_pid "$PIDFILE" postgres
    fi
    rm -f "$PIDFILE"
    ;;
  env) echo "TEST_DATABASE_URL=postgres://correo@127.0.0.1:$POSTGRES_PORT/postgres" ;;
  *) die "usage: $0 start|stop|env" ;;
esac
