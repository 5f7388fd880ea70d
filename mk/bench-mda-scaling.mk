.PHONY: bench-mda-scaling

# mda throughput with one process against two on a 12-partition mail.accepted (a report, not a
# test): the real mda service, Kafka from the test backends (KAFKA_BROKERS), N events to many
# accounts published at once after a warm-up. Options: BENCH_MESSAGES, BENCH_PROCESSES (1,2),
# BENCH_PARTITIONS (12), BENCH_ACCOUNTS, BENCH_MDA_CONCURRENCY, BENCH_RUNS, BENCH_WARMUP, BENCH_BACKLOG,
# BENCH_MDA_CPU=200m (each mda in a cgroup with that CPU limit, as the kubelet sets it; root, cgroup
# v1), BENCH_KAFKA=private (a broker of the bench's own, bench/private-kafka.sh). bench/mda-scaling.ts.
bench-mda-scaling:
	bash scripts/backends/up.sh
	if [ "$${BENCH_KAFKA:-}" = private ]; then bash bench/private-kafka.sh start; fi
	set -a; . ./.test-backends/env; if [ "$${BENCH_KAFKA:-}" = private ]; then eval "$$(bash bench/private-kafka.sh env)"; fi; \
	  set +a; node --import tsx bench/mda-scaling.ts; status=$$?; \
	  if [ "$${BENCH_KAFKA:-}" = private ]; then bash bench/private-kafka.sh stop; fi; exit $$status
