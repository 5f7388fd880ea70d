#!/usr/bin/env bash
# MinIO as the S3 server, built with `go install` into the cache (the Go module proxy is the
# one registry that carries it), serving a throwaway directory on 127.0.0.1:39000.
source "$(dirname "$0")/lib.sh"
PIDFILE="$STATE_DIR/minio.pid"
MINIO_BIN="$CACHE_DIR/bin/minio"

ensure_minio() {
  [ -x "$MINIO_BIN" ] && return 0
  command -v go >/dev/null || die "Go is needed to build MinIO (go install github.com/minio/minio@latest)"
  log "building MinIO with go install (first run only; takes several minutes)"
  GOBIN="$CACHE_DIR/bin" GOFLAGS=-mod=mod go install github.com/minio/minio@latest >&2 || die "go install minio failed"
}

case "${1:-}" in
  start)
    if pid_alive "$PIDFILE"; then log "minio already running"; exit 0; fi
    ensure_minio
    rm -rf "$STATE_DIR/minio-data"; mkdir -p "$STATE_DIR/minio-data"
    MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" MINIO_BROWSER=off \
      MINIO_UPDATE=off MINIO_CI_CD=1 \
      nohup "$MINIO_BIN" server "$STATE_DIR/minio-data" --quiet --address "127.0.0.1:$MINIO_PORT" \
      --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" >"$STATE_DIR/minio.log" 2>&1 &
    echo $! > "$PIDFILE"
    wait_for minio 60 curl -fsS "http://127.0.0.1:$MINIO_PORT/minio/health/live"
    # The test bucket; curl signs the request itself (SigV4), so no S3 client is needed here.
    curl -fsS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$MINIO_USER:$MINIO_PASSWORD" \
      "http://127.0.0.1:$MINIO_PORT/$S3_TEST_BUCKET" >/dev/null 2>&1 || true
    log "minio up on 127.0.0.1:$MINIO_PORT"
    ;;
  stop) stop_pid "$PIDFILE" minio ;;
  env)
    echo "S3_ENDPOINT=http://127.0.0.1:$MINIO_PORT"
    echo "S3_REGION=us-east-1"
    echo "S3_ACCESS_KEY_ID=$MINIO_USER"
    echo "S3_SECRET_ACCESS_KEY=$MINIO_PASSWORD"
    echo "S3_BUCKET=$S3_TEST_BUCKET"
    ;;
  *) die "usage: $0 start|stop|env" ;;
esac
