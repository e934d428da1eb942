#!/usr/bin/env bash
# Server-side cost of Reservo's hold + confirm rows on PostgreSQL against
# the plain booking, with pgbench's cheap clients (16 connections), so the
# figures are the server's alone. Run from the project's root:
#
#   scripts/postgres.sh run -- benches/pgbench/run.sh [seconds] [rounds]
#
# Prints bookings a second for each variant (gen.py's options), variants
# alternated round after round; compare within a round.
set -euo pipefail
here=$(dirname "$0")
seconds=${1:-8}
rounds=${2:-2}
: "${RESERVO_PG_URL:?run under scripts/postgres.sh run -- ...}"
# Debian puts pgbench beside the server's binaries, not on PATH.
bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
[[ -x $bindir/pgbench ]] || { echo "pgbench not found under $bindir" >&2; exit 2; }
psql() { "$bindir/psql" -q -v ON_ERROR_STOP=1 "$RESERVO_PG_URL" "$@"; }
psql -c "SET client_min_messages = warning" -f "$here/setup.sql" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/plain.sql" "$work/plain.sql"
python3 "$here/gen.py" >"$work/reservo.sql"
python3 "$here/gen.py" --small-records >"$work/small_records.sql"
python3 "$here/gen.py" --small-records --minimal-rows >"$work/minimal.sql"
python3 "$here/gen.py" --bookings 4 >"$work/batched_4.sql"
for round in $(seq "$rounds"); do
    for variant in plain reservo small_records minimal batched_4; do
        tps=$("$bindir/pgbench" -n -M prepared -c 16 -j 2 -T "$seconds" \
            -f "$work/$variant.sql" "$RESERVO_PG_URL" 2>/dev/null |
            sed -n 's/^tps = \([0-9.]*\).*/\1/p')
        per=1
        [[ $variant == batched_4 ]] && per=4
        awk -v r="$round" -v v="$variant" -v t="$tps" -v p="$per" \
            'BEGIN { printf "round %s  %-14s %6.0f bookings/s\n", r, v, t * p }'
    done
done
