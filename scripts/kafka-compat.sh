#!/usr/bin/env bash
# One extra pass of the bus contract suite against an older Kafka line, for clusters not yet on
# the tested version (scripts/backends/kafka.sh runs 4.4 by default). A private broker of its own
# (own port and data directory under .test-backends/kafka-compat), started and stopped here, so
# the usual test broker and anyone using it are left alone.
#   KAFKA_COMPAT_VERSION=3.9.1 (default)   bash scripts/kafka-compat.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The other backends the suite uses (PostgreSQL) from `make backends-up`; only Kafka is ours.
if [ -f .test-backends/env ]; then set -a; source .test-backends/env; set +a; fi
export CORREO_KAFKA_VERSION="${KAFKA_COMPAT_VERSION:-3.9.1}"
export CORREO_BACKENDS_DIR="$PWD/.test-backends/kafka-compat"
export CORREO_KAFKA_PORT="${KAFKA_COMPAT_PORT:-39292}"
export CORREO_KAFKA_CONTROLLER_PORT="${KAFKA_COMPAT_CONTROLLER_PORT:-39293}"
trap 'bash scripts/backends/kafka.sh stop' EXIT
bash scripts/backends/kafka.sh start
echo "== bus contract suite on Kafka $CORREO_KAFKA_VERSION"
KAFKA_BROKERS="127.0.0.1:$CORREO_KAFKA_PORT" node --import tsx --test --test-reporter=spec \
  libs/bus/test/kafka.contract.test.ts
