#!/usr/bin/env bash
# Stops the backends that up.sh started (never ones the environment pointed at).
source "$(dirname "$0")/lib.sh"
HERE="$(dirname "$0")"
if [ -f "$STATE_DIR/started" ]; then
  for script in $(sort -u "$STATE_DIR/started"); do bash "$HERE/$script" stop || true; done
  rm -f "$STATE_DIR/started"
fi
