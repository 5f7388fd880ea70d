.PHONY: bench-pop3

# POP3 retrieval throughput with C concurrent clients (a report, not a test). Needs the real test
# backends (Postgres for metadata; MinIO and Redis with BENCH_KIND=distributed).
bench-pop3:
	bash scripts/backends/up.sh
	set -a; . ./.test-backends/env; set +a; node --import tsx bench/pop3-retrieve.ts
