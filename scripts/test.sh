#!/usr/bin/env bash
# Runs every test of Reservo: formatting and lints, the Rust workspace
# (SQLite on real files, PostgreSQL on a throwaway local server), the
# examples (which assert what they print), and the benches once in test mode.
# Installs what it needs on a fresh machine. Used by .ci/run unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt, clippy and rustdoc"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
# Default features too: what `cargo add reservo` users build, and the
# feature-gated test support must compile without PostgreSQL.
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps -p reservo --all-features

step "a throwaway PostgreSQL server on loopback (installed from apt if missing)"
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop "$RESERVO_PG_DIR"' EXIT
echo "RESERVO_PG_URL=$RESERVO_PG_URL"

step "Rust tests (all features): SQLite files and the PostgreSQL server"
cargo test --workspace --all-features

step "examples (they assert what they print): the demo on SQLite, then on PostgreSQL"
cargo run --quiet -p reservo-examples --bin booking_flow
cargo run --quiet -p reservo-examples --bin booking_flow -- --postgres

# ---------------------------------------------------------------- Python
step "Python: build and install the package as a user would, then ruff, mypy --strict, pytest"
# A fresh virtualenv under target/, the package installed from its source
# directory through the maturin build backend (pip builds the wheel), and
# the tools the checks need. Works without stdin and with CI=true.
PY_VENV=target/.venv-test
rm -rf "$PY_VENV"
python3 -m venv "$PY_VENV"
"$PY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$PY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r bindings-python/test-requirements.txt
"$PY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check ./bindings-python
"$PY_VENV/bin/ruff" check bindings-python/python bindings-python/tests bindings-python/bench examples/python benches/pgbench
"$PY_VENV/bin/ruff" format --check bindings-python/python bindings-python/tests bindings-python/bench examples/python benches/pgbench
(cd bindings-python && ../"$PY_VENV/bin/mypy" --strict python/reservo tests bench ../examples/python)
# Run the tests against the installed package, not the source tree.
"$PY_VENV/bin/python" -m pytest -q -p no:cacheprovider --rootdir=bindings-python \
  -c bindings-python/pyproject.toml \
  bindings-python/tests examples/python
"$PY_VENV/bin/python" bindings-python/bench/overhead.py --quick
# ------------------------------------------------------------ end Python

step "benches in test mode (each runs once; figures come from scripts/bench.sh)"
cargo test --quiet -p reservo-benches --benches

echo
echo "all tests passed"
