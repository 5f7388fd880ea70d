.PHONY: bench-ingest

# SMTP ingest throughput and 250-to-stored latency (a report, not a test), on the embedded default
# and on the Kafka stack (Kafka, PostgreSQL, MinIO, Redis from scripts/backends/up.sh).
# Options: BENCH_MESSAGES (2000), BENCH_SESSIONS (20, as bench-vs-postfix's smtp-source load), BENCH_STACKS (embedded,kafka).
bench-ingest:
	bash scripts/backends/up.sh
	set -a; . ./.test-backends/env; set +a; node --import tsx bench/ingest.ts
