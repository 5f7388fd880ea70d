#!/usr/bin/env bash
# `make test`: install what is needed, check, start the real backends, run every test, stop
# the backends (also when a test fails). CI runs exactly this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=node.sh
source scripts/node.sh

bash scripts/install.sh
# Clients nobody here wrote, for the end-to-end tests.
(source scripts/backends/lib.sh && apt_install curl swaks python3 fetchmail isync mutt sieve-connect)
# Chart and alert checks (e2e/test/helm.test.ts, prometheus.test.ts): promtool from Debian's
# prometheus package, kubernetes-validate from PyPI into a venv; installed here, before the tests
# run in parallel (the tests would install them on first use too).
bash scripts/promtool.sh >/dev/null
# Pigeonhole's sieve-test for libs/sieve's differential test (Debian's dovecot-sieve).
bash scripts/sieve-test.sh >/dev/null
bash scripts/py-tool.sh kubernetes-validate >/dev/null
# Python's ManageSieve client for managesieve-gateway's client tests.
bash scripts/py-tool.sh managesieve >/dev/null
# The trace test's backend (e2e/test/trace.test.ts): Jaeger built from the Go module proxy on
# first use (minutes on a new machine; cached under ~/.cache/correo afterwards).
bash scripts/go-tool.sh jaeger >/dev/null
# The webmail's browser tests drive Debian's chromium (never a downloaded browser build).
bash scripts/chromium.sh >/dev/null

echo "== webmail front end (vite build; its own typecheck with the DOM types)"
npm run --silent build -w @correo/webmail

echo "== static checks: typecheck, lint, format"
npx tsc -p tsconfig.json
npx eslint --max-warnings 0 .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

echo "== real backends"
trap 'bash scripts/backends/down.sh' EXIT
bash scripts/backends/up.sh
set -a; source .test-backends/env; set +a

echo "== tests"
mapfile -t files < <(find libs services e2e -name node_modules -prune -o -name '*.test.ts' -print | sort)
[ ${#files[@]} -gt 0 ] || { echo "no test files found"; exit 1; }
node --import tsx --test --test-reporter=spec --test-concurrency="${TEST_CONCURRENCY:-2}" \
  --test-timeout="${TEST_TIMEOUT_MS:-600000}" "${files[@]}"

echo "== Kafka 3.9 for older clusters: the bus contract suite on a private 3.9 broker"
bash scripts/kafka-compat.sh

echo "== the fault run, bounded (e2e/faults/run.ts: services and backends killed under load, nothing lost)"
# Its own private Kafka, PostgreSQL, Redis and MinIO: the shared backends above are left alone.
make --no-print-directory test-faults
