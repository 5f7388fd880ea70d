#!/usr/bin/env bash
# Rspamd from Debian's rspamd package on 127.0.0.1:31333 (scanner) and :31334 (controller, with a
# password), configured by scripts/backends/rspamd/ over Debian's defaults: no lookup leaves the
# machine (DNS goes to a dead loopback port, list and map modules are off), Bayes lives in the
# backends' Redis in database 13. State (databases, log, pid) under .test-backends/rspamd.
# CORREO_RSPAMD_PORT/_CONTROLLER_PORT: a private instance beside the usual one.
source "$(dirname "$0")/lib.sh"
DIR="$STATE_DIR/rspamd${CORREO_RSPAMD_PORT:+-$CORREO_RSPAMD_PORT}"
PIDFILE="$DIR/rspamd.pid"
CONF_DIR="$REPO_ROOT/scripts/backends/rspamd"

redis_server() { # host:port of REDIS_URL (compose, a dev cluster) or of redis.sh's Redis
  local url=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}
  url=${url#redis://}; url=${url##*@}; echo "${url%%/*}"
}

case "${1:-}" in
  start)
    if pid_alive "$PIDFILE"; then log "rspamd already running"; exit 0; fi
    command -v rspamd >/dev/null || apt_install rspamd
    mkdir -p "$DIR/db" "$DIR/run"
    : > "$DIR/rspamd.log"
    # Running as root (containers, CI) needs -i: rspamd refuses privileged workers otherwise.
    insecure=(); [ "$(id -u)" = 0 ] && insecure=(-i)
    rspamd "${insecure[@]}" -c "$CONF_DIR/rspamd.conf" -p "$PIDFILE" \
      --var "CONFDIR=/etc/rspamd" --var "LOCAL_CONFDIR=$CONF_DIR" \
      --var "DBDIR=$DIR/db" --var "RUNDIR=$DIR/run" --var "LOGDIR=$DIR" \
      --var "CORREO_BIND=127.0.0.1" --var "CORREO_NORMAL_PORT=$RSPAMD_PORT" \
      --var "CORREO_CONTROLLER_PORT=$RSPAMD_CONTROLLER_PORT" \
      --var "CORREO_CONTROLLER_PASSWORD=$RSPAMD_PASSWORD" --var "CORREO_DNS=127.0.0.1:1" \
      --var "CORREO_REDIS_SERVER=$(redis_server)" --var "CORREO_REDIS_DB=13" \
      >"$DIR/startup.log" 2>&1 || { cat "$DIR/startup.log" >&2; die "rspamd did not start"; }
    wait_for rspamd 60 curl -fsS "http://127.0.0.1:$RSPAMD_PORT/ping"
    # Rspamd's main process stays up without the workers it could not bind: a ping answered by
    # another Rspamd on the port is no start.
    if grep -q "Address already in use" "$DIR/rspamd.log"; then
      stop_pid "$PIDFILE" rspamd
      die "rspamd could not bind 127.0.0.1:$RSPAMD_PORT/$RSPAMD_CONTROLLER_PORT (another one running?)"
    fi
    log "rspamd up on 127.0.0.1:$RSPAMD_PORT (controller :$RSPAMD_CONTROLLER_PORT)"
    ;;
  stop) stop_pid "$PIDFILE" rspamd ;;
  env)
    echo "RSPAMD_URL=http://127.0.0.1:$RSPAMD_PORT"
    echo "RSPAMD_CONTROLLER_URL=http://127.0.0.1:$RSPAMD_CONTROLLER_PORT"
    echo "RSPAMD_PASSWORD=$RSPAMD_PASSWORD"
    ;;
  *) die "usage: $0 start|stop|env" ;;
esac
