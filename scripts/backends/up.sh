#!/usr/bin/env bash
# Starts every real backend the tests need (Kafka, PostgreSQL, Redis, MinIO, Rspamd), idempotently,
# and writes their endpoints to .test-backends/env. A backend that the environment already
# points at (KAFKA_BROKERS, TEST_DATABASE_URL or DATABASE_URL, REDIS_URL, S3_ENDPOINT, RSPAMD_URL) is used
# instead of being started: that is how docker compose or a dev cluster plugs in. Tests create
# their own databases on that server, so its URL must allow CREATE DATABASE.
source "$(dirname "$0")/lib.sh"
if [ -z "${TEST_DATABASE_URL:-}" ] && [ -n "${DATABASE_URL:-}" ]; then TEST_DATABASE_URL=$DATABASE_URL; fi
HERE="$(dirname "$0")"
ENV_FILE="$STATE_DIR/env"
: > "$ENV_FILE.tmp"

use_or_start() { # <var> <script>
  local var=$1 script=$2
  if [ -n "${!var:-}" ]; then
    log "using $var=${!var} from the environment"
    echo "$var=${!var}" >> "$ENV_FILE.tmp"
    [ "$var" = S3_ENDPOINT ] && for v in S3_REGION S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY S3_BUCKET; do
      [ -n "${!v:-}" ] && echo "$v=${!v}" >> "$ENV_FILE.tmp"; done
    [ "$var" = RSPAMD_URL ] && for v in RSPAMD_CONTROLLER_URL RSPAMD_PASSWORD; do
      [ -n "${!v:-}" ] && echo "$v=${!v}" >> "$ENV_FILE.tmp"; done
    return 0
  fi
  bash "$HERE/$script" start
  bash "$HERE/$script" env >> "$ENV_FILE.tmp"
  echo "$script" >> "$STATE_DIR/started"
}

touch "$STATE_DIR/started"
use_or_start REDIS_URL redis.sh
use_or_start TEST_DATABASE_URL postgres.sh
use_or_start S3_ENDPOINT minio.sh
use_or_start KAFKA_BROKERS kafka.sh
# After Redis: Rspamd keeps its Bayes statistics there.
use_or_start RSPAMD_URL rspamd.sh
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "backends ready; endpoints in $ENV_FILE:"
sed 's/^/[backends]   /' "$ENV_FILE" >&2
