#!/usr/bin/env bash
# Prints the path of Pigeonhole's sieve-test (Debian's dovecot-sieve package), installing it on
# first use: libs/sieve's differential test runs the same scripts through it and compares actions.
set -euo pipefail
if ! command -v sieve-test >/dev/null; then
  # shellcheck source=backends/lib.sh
  source "$(dirname "$0")/backends/lib.sh"
  apt_install dovecot-sieve
fi
command -v sieve-test
