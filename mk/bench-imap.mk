.PHONY: bench-imap

# IMAP: an imaptest-like command mix with C concurrent clients (memory per IDLE connection: bench-imap-idle)
# (a report, not a test). Needs the real test backends (Postgres; MinIO and Redis with BENCH_KIND=distributed).
bench-imap:
	bash scripts/backends/up.sh
	set -a; . ./.test-backends/env; set +a; node --expose-gc --import tsx bench/imap.ts
