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
# The spam filter (docs/spam.md) when Debian's rspamd is installed: started on loopback beside
# correo (state under the data dir, Bayes in the test backends' Redis if it runs) and stopped with
# it. Without rspamd (or with RSPAMD_URL pointing elsewhere) correo runs without a spam filter.
if [ -z "${RSPAMD_URL:-}" ] && command -v rspamd >/dev/null; then
  export CORREO_BACKENDS_DIR="$CORREO_DATA_DIR/backends" CORREO_RSPAMD_PORT=11333 CORREO_RSPAMD_CONTROLLER_PORT=11334
  bash scripts/backends/rspamd.sh start
  trap 'bash scripts/backends/rspamd.sh stop' EXIT
  # A signal ends the script through exit, so the EXIT trap stops Rspamd (it runs detached).
  trap 'exit 130' INT
  trap 'exit 143' TERM
  set -a
  # shellcheck disable=SC1090
  source <(bash scripts/backends/rspamd.sh env)
  set +a
elif [ -z "${RSPAMD_URL:-}" ]; then
  echo "== spam filter off: rspamd is not installed (apt-get install rspamd, or set RSPAMD_URL)"
fi
node --import tsx services/all-in-one/src/main.ts
