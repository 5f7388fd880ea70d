#!/usr/bin/env bash
# Installs the npm dependencies from the lock file when they are missing or stale. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=node.sh
source scripts/node.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
