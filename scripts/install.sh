#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine: npm packages (from
# the lock file) and the command-line mail clients the end-to-end tests drive. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/backends/lib.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
# Clients nobody here wrote, for the end-to-end tests.
apt_install curl swaks python3
