#!/usr/bin/env bash
# A Kafka broker of the bench's own (BENCH_KAFKA=private make bench-vs-postfix / bench-mda-scaling):
# the test backends' broker serves every test suite on the machine, so its fsyncs and CPU are shared
# with whatever else runs. This one is scripts/backends/kafka.sh with its own directory and ports,
# and the same server.properties, fsync included (log.flush.interval.messages=1: every append is
# flushed before it is acknowledged, as a single broker must when acks=all is the 250's promise;
# a replicated production cluster may leave flushing to the OS and rely on its replicas instead).
#   bash bench/private-kafka.sh start|stop|env
set -euo pipefail
export CORREO_BACKENDS_DIR=${BENCH_KAFKA_DIR:-/tmp/correo-bench-kafka}
export CORREO_KAFKA_PORT=${BENCH_KAFKA_PORT:-49192}
export CORREO_KAFKA_CONTROLLER_PORT=${BENCH_KAFKA_CONTROLLER_PORT:-49193}
exec bash "$(dirname "$0")/../scripts/backends/kafka.sh" "$@"
