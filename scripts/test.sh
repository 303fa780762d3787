#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# The sibling ../shared (recorded API responses, CRDs) is read by some tests.
if [ ! -d ../shared ]; then
  echo "note: ../shared is missing; tests that read recorded fixtures will say so" >&2
fi

bash scripts/setup-envoy.sh
bash scripts/setup-debian.sh
export MESHDECK_ENVOY="$PWD/.venv/bin/envoy"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --all-targets --locked -- -D warnings

echo "== tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
  # nextest does not run doctests; there are none worth a second compile, but say so.
  echo "(doctests: none)"
else
  cargo test --locked --no-fail-fast
fi
