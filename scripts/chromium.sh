#!/usr/bin/env bash
# Prints the path of Debian's chromium, installing it on first use: the webmail's browser tests
# (services/webmail/test/browser/*) drive it with playwright-core. Never a downloaded browser build.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  # shellcheck source=backends/lib.sh
  source "$(dirname "$0")/backends/lib.sh"
  apt_install chromium fonts-dejavu-core
fi
command -v chromium
