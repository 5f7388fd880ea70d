.PHONY: bench-mda-scaling

# mda throughput with one process against two on a 12-partition mail.accepted (a report, not a
# test): the real mda service, Kafka from the test backends (KAFKA_BROKERS), N events to many
# accounts published at once after a warm-up. Options: BENCH_MESSAGES, BENCH_PROCESSES (1,2),
# BENCH_PARTITIONS (12), BENCH_ACCOUNTS, BENCH_MDA_CONCURRENCY. bench/mda-scaling.ts.
bench-mda-scaling:
	bash scripts/backends/up.sh
	set -a; . ./.test-backends/env; set +a; node --import tsx bench/mda-scaling.ts
