#!/usr/bin/env bash
# Redis from Debian's redis-server, on 127.0.0.1:36379, no persistence (tests only).
source "$(dirname "$0")/lib.sh"
PIDFILE="$STATE_DIR/redis.pid"
case "${1:-}" in
  start)
    if pid_alive "$PIDFILE"; then log "redis already running"; exit 0; fi
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p "$STATE_DIR/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --pidfile "$PIDFILE" \
      --dir "$STATE_DIR/redis" --save "" --appendonly no --logfile "$STATE_DIR/redis.log" >&2
    wait_for redis 30 port_open "$REDIS_PORT"
    log "redis up on 127.0.0.1:$REDIS_PORT"
    ;;
  stop) stop_pid "$PIDFILE" redis ;;
  env) echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" ;;
  *) die "usage: $0 start|stop|env" ;;
esac
