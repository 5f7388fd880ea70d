#!/usr/bin/env bash
# Prints the path of a Go-built tool the checks need, building it from the Go module proxy into
# ~/.cache/correo on first use (the proxy is the one registry here that carries them):
#   helm            Helm 3, for `helm lint` / `helm template` of charts/correo
#   docker-compose  compose v2: the machine has the Docker client without its compose plugin
#                   (and no engine), and `docker compose config` is an offline check
#   jaeger          Jaeger (all-in-one, in-memory storage), the trace backend of e2e/test/trace.test.ts
set -euo pipefail
CACHE_DIR="${CORREO_CACHE_DIR:-$HOME/.cache/correo}"
HELM_VERSION=v3.22.0
COMPOSE_VERSION=v2.40.3
JAEGER_VERSION=v1.75.0

build_in_throwaway_module() { # <output> <module@version> <package>
  local out=$1 module=$2 package=$3 work
  work=$(mktemp -d)
  printf 'module toolbuild\n\ngo 1.24\n' > "$work/go.mod"
  # compose's go.mod has exclude directives, so `go install pkg@version` refuses it; building
  # it as a dependency of a throwaway module works.
  (cd "$work" && GOFLAGS=-mod=mod go get "$module" >&2 && GOFLAGS=-mod=mod go build -o "$out.tmp" "$package" >&2)
  rm -rf "$work"
  mv "$out.tmp" "$out"
}

tool=${1:?usage: go-tool.sh helm|docker-compose|jaeger}
case "$tool" in
  helm) bin="$CACHE_DIR/bin/helm-$HELM_VERSION" ;;
  docker-compose) bin="$CACHE_DIR/bin/docker-compose-$COMPOSE_VERSION" ;;
  jaeger) bin="$CACHE_DIR/bin/jaeger-$JAEGER_VERSION" ;;
  *) echo "unknown tool: $tool" >&2; exit 2 ;;
esac
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "Go is needed to build $tool" >&2; exit 1; }
  echo "[go-tool] building $tool with go (first run only)" >&2
  mkdir -p "$CACHE_DIR/bin"
  case "$tool" in
    helm)
      gobin=$(mktemp -d)
      GOBIN="$gobin" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
      mv "$gobin/helm" "$bin" && rm -rf "$gobin"
      ;;
    docker-compose) build_in_throwaway_module "$bin" "github.com/docker/compose/v2@$COMPOSE_VERSION" github.com/docker/compose/v2/cmd ;;
    jaeger) build_in_throwaway_module "$bin" "github.com/jaegertracing/jaeger@$JAEGER_VERSION" github.com/jaegertracing/jaeger/cmd/jaeger ;;
  esac
fi
echo "$bin"
