.PHONY: bench-webmail

# Webmail speed (a report, not a test): the all-in-one with BENCH_MESSAGES (10000) in INBOX, Debian's
# chromium: first meaningful paint of the inbox and click-to-body time of opening a message, p50/p90.
bench-webmail:
	bash scripts/chromium.sh >/dev/null
	npm run build -w @correo/webmail
	node --import tsx bench/webmail.ts
