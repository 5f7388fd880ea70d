#!/usr/bin/env bash
# A checkout of another commit to run beside this one in one bench run (old code against new):
#   bash bench/checkout-for-ab.sh main /tmp/correo-main
#   BENCH_STACKS=postfix,embedded@/tmp/correo-main,embedded make bench-vs-postfix
# The code is `git archive` of the commit; node_modules links every package to this checkout's,
# except the workspace packages (@correo/*), which must point into the other checkout's own libs and
# services. Dependencies that changed between the commits are not installed: compare commits with
# the same package-lock.json.
set -euo pipefail
commit=${1:?commit}
dir=${2:?directory}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$dir"
mkdir -p "$dir/node_modules/@correo"
git -C "$here" archive "$commit" | tar -x -C "$dir"
for entry in "$here"/node_modules/* "$here"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = "@correo" ] || ln -s "$entry" "$dir/node_modules/$name"
done
for link in "$here"/node_modules/@correo/*; do
  ln -s "$(readlink "$link")" "$dir/node_modules/@correo/$(basename "$link")"
done
# Workspaces with packages of their own (versions the root could not hoist).
for nested in "$here"/libs/*/node_modules "$here"/services/*/node_modules; do
  [ -d "$nested" ] && ln -s "$nested" "$dir/${nested#"$here"/}"
done
echo "$dir: $(git -C "$here" rev-parse --short "$commit")"
