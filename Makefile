# The developer entry points. `make dev` runs the mail server on the embedded default;
# `make test` installs, starts the real backends and runs every test.
.PHONY: help install dev test check typecheck lint format backends-up backends-down clean webmail

help:
	@echo "make dev            run correo on the embedded default (one process, data in ./.data)"
	@echo "make test           install, start Kafka/PostgreSQL/Redis/MinIO, run every test"
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
