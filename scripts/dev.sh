#!/usr/bin/env bash
# `make dev`: install, build (typecheck: the services run their TypeScript through tsx), and
# run the embedded default in the foreground. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=node.sh
source scripts/node.sh
bash scripts/install.sh
echo "== typecheck"
npx tsc -p tsconfig.json
echo "== webmail front end"
npm run --silent build -w @correo/webmail
export CORREO_DATA_DIR="${CORREO_DATA_DIR:-$PWD/.data}"
# A try-out on this machine: the demo account and plaintext AUTH from loopback (docs/security.md).
export CORREO_DEV=true
# A demo account with a printed password: listen on loopback unless told otherwise.
for var in METRICS_HOST ADMIN_API_HOST SMTP_BIND_HOST IMAP_BIND_HOST POP3_BIND_HOST MANAGESIEVE_BIND_HOST WEBMAIL_HOST; do
  export "$var=${!var:-127.0.0.1}"
done
exec node --import tsx services/all-in-one/src/main.ts
