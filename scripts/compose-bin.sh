#!/usr/bin/env bash
# Prints the path of a docker compose v2 binary, building it from the Go module proxy into the
# cache on first use: the machine has the Docker client but not its compose plugin, and no
# engine, so `docker compose config` (an offline check) is all we run with it.
set -euo pipefail
CACHE_DIR="${CORREO_CACHE_DIR:-$HOME/.cache/correo}"
COMPOSE_VERSION=v2.40.3
BIN="$CACHE_DIR/bin/docker-compose-$COMPOSE_VERSION"
if [ ! -x "$BIN" ]; then
  command -v go >/dev/null || { echo "Go is needed to build docker compose" >&2; exit 1; }
  echo "[compose] building docker compose $COMPOSE_VERSION with go (first run only)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # compose's own go.mod has exclude directives, so `go install pkg@version` refuses it;
  # building it as a dependency of a throwaway module works.
  printf 'module composebuild\n\ngo 1.24\n' > "$work/go.mod"
  (cd "$work" && GOFLAGS=-mod=mod go get "github.com/docker/compose/v2@$COMPOSE_VERSION" >&2 \
    && GOFLAGS=-mod=mod go build -o "$BIN.tmp" github.com/docker/compose/v2/cmd >&2)
  mv "$BIN.tmp" "$BIN"
fi
echo "$BIN"
