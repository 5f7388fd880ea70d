# Shared by the scripts that start the real test backends. Sourced, not run.
# Everything binds 127.0.0.1 on ports that do not clash with the embedded default (DESIGN.md).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE_DIR="${CORREO_CACHE_DIR:-$HOME/.cache/correo}"
STATE_DIR="${CORREO_BACKENDS_DIR:-$REPO_ROOT/.test-backends}"
mkdir -p "$CACHE_DIR" "$STATE_DIR"

# CORREO_KAFKA_PORT/_CONTROLLER_PORT: a second, private broker (another version) beside the usual one.
KAFKA_PORT=${CORREO_KAFKA_PORT:-39092}
KAFKA_CONTROLLER_PORT=${CORREO_KAFKA_CONTROLLER_PORT:-39093}
POSTGRES_PORT=35432
REDIS_PORT=36379
MINIO_PORT=39000
MINIO_CONSOLE_PORT=39001
MINIO_USER=correo-test
MINIO_PASSWORD=correo-test-secret
S3_TEST_BUCKET=correo-test
# Rspamd: the scanner (/checkv2) and the controller (/learnspam, /stat, password below).
RSPAMD_PORT=${CORREO_RSPAMD_PORT:-31333}
RSPAMD_CONTROLLER_PORT=${CORREO_RSPAMD_CONTROLLER_PORT:-31334}
RSPAMD_PASSWORD=correo-rspamd-test

log() { printf '[backends] %s\n' "$*" >&2; }
die() { printf '[backends] ERROR: %s\n' "$*" >&2; exit 1; }

# apt-get only when a package is missing; `apt-get update` once per run.
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} from apt"
  if [ ! -f "$STATE_DIR/.apt-updated" ]; then apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 && touch "$STATE_DIR/.apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >&2
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for <what> <seconds> <command...>: polls the command until it succeeds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && die "$what did not come up within ${seconds}s (see $STATE_DIR/*.log)"
    sleep 0.3
  done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid <pidfile> <name>: TERM, then KILL after a grace period.
stop_pid() {
  local pidfile=$1 name=$2
  if pid_alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
