.PHONY: bench-imap-statements

# The PostgreSQL statements each command of bench-imap-vs-dovecot's cycle costs, listed (a report, not
# a test): the gateway in the bench process on the test backends, its pg clients' queries recorded.
bench-imap-statements:
	bash scripts/backends/up.sh
	set -a; . ./.test-backends/env; set +a; node --import tsx bench/imap-statements.ts
