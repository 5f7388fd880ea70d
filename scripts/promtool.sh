#!/usr/bin/env bash
# Prints the path of promtool (Debian's prometheus package), installing it on first use: the
# checks run `promtool check rules` / `promtool test rules` on charts/correo/prometheus.
set -euo pipefail
if ! command -v promtool >/dev/null; then
  # shellcheck source=backends/lib.sh
  source "$(dirname "$0")/backends/lib.sh"
  apt_install prometheus
fi
command -v promtool
