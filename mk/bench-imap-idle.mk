.PHONY: bench-imap-idle

# IMAP IDLE at scale on the all-in-one (a report, not a test): memory per idle connection at
# BENCH_IDLE_CONNECTIONS (10000) sessions in IDLE, and ms from the SMTP 250 to the idlers' EXISTS over
# BENCH_IDLE_DELIVERIES (300) deliveries. Setting up 10,000 argon2 logins takes minutes on two cores.
bench-imap-idle:
	bash scripts/install.sh
	node --import tsx bench/imap-idle.ts
