.PHONY: bench-imap-vs-dovecot

# correo's IMAP gateway side by side with a private Dovecot (Debian's dovecot-imapd, own config and
# directories, loopback, passwd-file users; never the system instance) on the same accounts, messages
# and client mix; prints ops/s and p50/p99 per command and the ratio (a report, not a test).
# Installing the package does not start the system service where policy-rc.d forbids it (containers).
bench-imap-vs-dovecot:
	bash scripts/backends/up.sh
	test -x /usr/sbin/dovecot || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd)
	set -a; . ./.test-backends/env; set +a; node --import tsx bench/imap-vs-dovecot.ts
