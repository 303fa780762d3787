#!/usr/bin/env bash
# Builds meshdeck and opens the console on its built-in example registry.
# Extra arguments go to meshdeck, e.g. `scripts/demo.sh --theme light`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-envoy.sh
cargo build --release --locked
exec ./target/release/meshdeck "$@"
