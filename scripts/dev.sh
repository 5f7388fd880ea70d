#!/usr/bin/env bash
# `make dev`: install, build (typecheck: the services run their TypeScript through tsx), and
# run the embedded default in the foreground. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "== typecheck"
npx tsc -p tsconfig.json
export CORREO_DATA_DIR="${CORREO_DATA_DIR:-$PWD/.data}"
exec node --import tsx services/all-in-one/src/main.ts
