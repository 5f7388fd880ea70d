.PHONY: bench-vs-postfix bench-filing-cost

# correo against Postfix end to end (a report, not a test): the same smtp-source load (2,000 x 4 KB
# over 20 sessions, then 500 over one session) against a private Postfix on loopback (installed
# from Debian when missing; bench/postfix-private.sh), the embedded default and, with the test
# backends, the Kafka stack. Prints accept/deliver msgs/s, 250 -> stored p50/p99, CPU per message
# and the ratio to Postfix. Options: BENCH_MESSAGES, BENCH_SESSIONS, BENCH_SEQUENTIAL_MESSAGES,
# BENCH_STACKS (postfix,embedded,kafka), BENCH_CPU_PROF (a directory: correo runs with --cpu-prof),
# BENCH_NOTE (printed beside the numbers, e.g. what else loads the machine), BENCH_ROUNDS (every load
# against every system N times, alternately: an A/B in one run), BENCH_KAFKA=private (the
# Kafka stack on a broker of the bench's own, bench/private-kafka.sh). A correo system may
# carry variables for an A/B in one run: BENCH_STACKS=postfix,embedded:SMTP_INLINE_BODY_BYTES=0,embedded
# and run another checkout's code: BENCH_STACKS=postfix,embedded@/tmp/main-checkout,embedded (that
# directory needs a node_modules whose @correo links point into it: bench/checkout-for-ab.sh makes one)
bench-vs-postfix:
	bash scripts/backends/up.sh
	if [ "$${BENCH_KAFKA:-}" = private ]; then bash bench/private-kafka.sh start; fi
	set -a; . ./.test-backends/env; if [ "$${BENCH_KAFKA:-}" = private ]; then eval "$$(bash bench/private-kafka.sh env)"; fi; \
	  set +a; node --import tsx bench/vs-postfix.ts; status=$$?; \
	  if [ "$${BENCH_KAFKA:-}" = private ]; then bash bench/private-kafka.sh stop; fi; exit $$status

# What the filing costs PostgreSQL per message (a measurement, not a test; docs/performance.md, sixth
# round): the embedded default files 2,000 messages from smtp-source, then their filing is replayed in
# that private database in variants (batch size, without the search text, without the kept body) and
# the bus path (publish, fetch), reading the backend's own CPU. Options: BENCH_MESSAGES, BENCH_PASSES.
bench-filing-cost:
	node --import tsx bench/filing-cost.ts
