#!/usr/bin/env bash
# Prints the path of a PyPI-installed tool the checks need, installing it into its own venv under
# ~/.cache/correo on first use (the counterpart of go-tool.sh for Python tools):
#   kubernetes-validate  validates rendered manifests offline; the package ships the Kubernetes
#                        JSON schemas of every release it knows, so no network at check time
#   managesieve          Python's ManageSieve client library (RFC 5804): prints the venv's python3,
#                        which the managesieve-gateway client tests run their scripts with
set -euo pipefail
CACHE_DIR="${CORREO_CACHE_DIR:-$HOME/.cache/correo}"
KUBERNETES_VALIDATE_VERSION=1.37.0
MANAGESIEVE_VERSION=0.8.1

tool=${1:?usage: py-tool.sh kubernetes-validate|managesieve}
program=$tool
case "$tool" in
  kubernetes-validate) package="kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" ;;
  managesieve) package="managesieve==$MANAGESIEVE_VERSION" program=python3 ;;
  *) echo "unknown tool: $tool" >&2; exit 2 ;;
esac
venv="$CACHE_DIR/venv-${package/==/-}"
bin="$venv/bin/$program"
# A venv cannot be moved (its scripts name their interpreter by path), so it is built in place and
# a marker written last tells a finished install from an interrupted one.
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.py-tool.lock"
flock 9 # two test files installing at once would share one half-built venv
if [ ! -f "$venv/.installed" ]; then
  command -v python3 >/dev/null || { echo "python3 is needed to install $tool" >&2; exit 1; }
  echo "[py-tool] installing $package into $venv (first run only)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$package" >&2
  touch "$venv/.installed"
fi
echo "$bin"
