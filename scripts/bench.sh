#!/usr/bin/env bash
# Runs every criterion bench of Reservo (benches/benches/*.rs) and prints
# each figure; benches/README.md says what they measure and the targets.
# Extra arguments go to criterion, e.g. `scripts/bench.sh search` runs only
# the benches whose name contains "search", and
# `scripts/bench.sh --warm-up-time 1 --measurement-time 5` is a quicker run.
# Reports land in target/criterion/.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc:   $(rustc --version)"

for bench in quote token engine; do
  printf '\n==> %s\n' "$bench"
  cargo bench --quiet -p reservo-benches --bench "$bench" -- "$@"
done
