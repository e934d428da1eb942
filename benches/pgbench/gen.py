"""Writes a pgbench script that does, per booking, the server-side work of
Reservo's hold + confirm on PostgreSQL: two statements shaped like the
store's one-statement commit (ADR 013/015), writing the rows a booking of
the `durable` bench writes (benches/README.md, "2026-11-23, twenty-eighth
session"). Options change the record layout, to measure what a layout
would save on the server before building it:

    python3 gen.py [--bookings N] [--small-records] [--minimal-rows]

--bookings N     N bookings per statement (commits batched together)
--small-records  the hold and booking records a few bytes instead of
                 1.5 and 2.3 KB
--minimal-rows   no idempotency, expiry or look-up index rows: only the
                 hold, the night ledgers and the booking
"""

import argparse

NIGHTS = (2, 3, 4)


def night(b: int, n: int) -> str:
    return f"convert_to('nt/2026-07-0{n}/r' || :r{b}, 'UTF8')"


def key(b: int, prefix: str) -> str:
    return f"convert_to('{prefix}' || :id{b}, 'UTF8')"


def payload(b: int, column: str, small: bool) -> str:
    if small:
        return f"convert_to(:p{b}::text, 'UTF8')"
    return f"(SELECT {column} FROM payloads WHERE i = :p{b})"


def statement(
    updated: list[tuple[str, str]],
    created: list[tuple[str, str]],
    deleted: list[str],
    events: list[tuple[str, str]],
) -> str:
    """One commit: updates, inserts, deletes and events in `WITH` queries
    taking one version, as the store's `commit_in_one` does."""

    def array(items: list[str], cast: str = "") -> str:
        return f"ARRAY[{', '.join(items)}]{cast}"

    up_keys = array([k for k, _ in updated])
    parts = [
        "WITH v AS (SELECT nextval('versions') AS v)",
        (
            "updated AS (UPDATE records AS r SET value = u.value, "
            "version = (SELECT v FROM v) "
            f"FROM unnest({up_keys}, {array([v for _, v in updated])}) AS u(key, value) "
            f"WHERE r.key = u.key AND r.key = ANY({up_keys}) RETURNING r.key)"
        ),
        (
            "created AS (INSERT INTO records (key, value, version) "
            "SELECT c.key, c.value, (SELECT v FROM v) "
            f"FROM unnest({array([k for k, _ in created])}, "
            f"{array([v for _, v in created])}) AS c(key, value) "
            "ORDER BY c.key ON CONFLICT (key) DO NOTHING RETURNING key)"
        ),
    ]
    counts = ["updated", "created"]
    if deleted:
        parts.append(
            "removed AS (DELETE FROM records AS r "
            f"WHERE r.key = ANY({array(deleted)}) RETURNING r.key)"
        )
        counts.append("removed")
    parts.append(
        "appended AS (INSERT INTO pending_events (version, n, kind, payload) "
        "SELECT (SELECT v FROM v), e.n, e.kind, e.payload "
        f"FROM unnest({array([k for k, _ in events], '::text[]')}, "
        f"{array([p for _, p in events])}) "
        "WITH ORDINALITY AS e(kind, payload, n) RETURNING n)"
    )
    counts.append("appended")
    checks = " AND ".join(f"(SELECT count(*) FROM {c}) >= 0" for c in counts)
    return (
        ", ".join(parts)
        + f" SELECT v.v / (CASE WHEN {checks} THEN 1 ELSE 0 END) FROM v;"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=1)
    parser.add_argument("--small-records", action="store_true")
    parser.add_argument("--minimal-rows", action="store_true")
    args = parser.parse_args()
    small, minimal = args.small_records, args.minimal_rows
    bookings = range(args.bookings)
    lines = []
    for b in bookings:
        lines.append(f"\\set r{b} random(0, 999)")
        lines.append(f"\\set id{b} random(1, 9000000000000000)")
        lines.append(f"\\set p{b} random(0, 999)")

    hold_updated, hold_created, hold_events = [], [], []
    for b in bookings:
        held = f"convert_to('1;0;h' || :id{b} || ':1:1780000000000', 'UTF8')"
        hold_updated += [(night(b, n), held) for n in NIGHTS]
        hold_created.append((key(b, "hold/"), payload(b, "hold", small)))
        if not minimal:
            hold_created.append((key(b, "idem/h"), payload(b, "idem", False)))
            hold_created.append((key(b, "hx/"), "''::bytea"))
        hold_events.append(("'hold.created'", payload(b, "ev", False)))
    lines.append(statement(hold_updated, hold_created, [], hold_events))

    updated, created, deleted, events = [], [], [], []
    for b in bookings:
        updated.append((key(b, "hold/"), payload(b, "hold", small)))
        booked = "convert_to('1;1;', 'UTF8')"
        updated += [(night(b, n), booked) for n in NIGHTS]
        created.append((key(b, "bk/"), payload(b, "bk", small)))
        if not minimal:
            created += [
                (key(b, "idem/c"), payload(b, "idem", False)),
                (key(b, "bc/+351912345678/"), "''::bytea"),
                (
                    key(b, "bm/r/2026-07/"),
                    "convert_to('2026-07-02 2026-07-04', 'UTF8')",
                ),
                (key(b, "ob/owner/"), "''::bytea"),
            ]
            deleted.append(key(b, "hx/"))
        events.append(("'booking.confirmed'", payload(b, "ev", False)))
    lines.append(statement(updated, created, deleted, events))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
