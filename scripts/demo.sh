#!/usr/bin/env bash
# Runs the main demo: a full booking flow on the embedded default store.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet -p reservo-examples --bin booking_flow -- "$@"
