.PHONY: fuzz

# Every fuzz target for FUZZ_SECONDS each (a report, not a test): new corpus entries and findings go
# to .fuzz/, the report to docs/fuzzing.md. FUZZ_SEED replays a run; FUZZ_TARGETS=a,b picks targets.
# `make test` runs the same targets briefly, from the committed seeds.
FUZZ_SECONDS ?= 60

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) node --import tsx scripts/fuzz.ts
