"""The binding's overhead: quote and hold+confirm called from Python against
the same calls made in a loop inside Rust, on one engine, in one run.

    python bindings-python/bench/overhead.py           # 2,000 calls each
    python bindings-python/bench/overhead.py --quick   # 200, as a smoke test

Prints microseconds per call for both and their ratio, the best of five
rounds that alternate Python and Rust (the machine may be shared). Hold+confirm from
Python should stay within 2x of Rust; quote is smaller work, so the fixed
cost of crossing the boundary weighs more there.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta, timezone

from reservo import (
    Customer,
    Engine,
    Item,
    ManualClock,
    MemoryStore,
    Party,
    Property,
    RatePlan,
    Resource,
    _reservo,
)

PLAN = {
    "id": "flex",
    "name": "Flexible",
    "unit": "night",
    "base_price": {"amount": "100.00", "currency": "EUR"},
    "weekday_rates": [
        {
            "id": "weekend",
            "name": "Weekend",
            "weekdays": ["Fri", "Sat"],
            "price": {"amount": "120.00", "currency": "EUR"},
        }
    ],
    "fees": [
        {
            "id": "cleaning",
            "name": "Cleaning",
            "amount": {"amount": "60.00", "currency": "EUR"},
            "basis": "per_booking",
            "taxable": False,
        }
    ],
}


def engine() -> Engine:
    clock = ManualClock(datetime(2026, 6, 1, 10, tzinfo=timezone.utc))
    e = Engine(MemoryStore(), clock=clock, max_hold_ttl=timedelta(hours=1))
    e.put_property(Property("hotel", "Hotel", "owner", "Europe/Lisbon", "EUR"))
    e.put_rate_plan(RatePlan.from_dict(PLAN))
    e.put_resource(
        Resource.nightly(
            "rooms",
            property="hotel",
            name="Rooms",
            rate_plan="flex",
            max_occupancy=2,
            units=1_000_000,
        )
    )
    return e


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 calls, a smoke test")
    n = 200 if parser.parse_args().quick else 2000
    rounds = 5
    e = engine()
    item = Item.stay(
        "rooms", check_in=date(2026, 7, 1), check_out=date(2026, 7, 4), party=Party(2)
    )
    ana = Customer("Ana Lima", "+351912345678")
    native = e._native

    for _ in range(n // 10):  # warm up both paths
        e.quote(item)
    _reservo._bench_quote(native, item, n // 10)

    def py_quote() -> float:
        start = time.perf_counter()
        for _ in range(n):
            e.quote(item)
        return (time.perf_counter() - start) / n

    def rust_quote() -> float:
        return _reservo._bench_quote(native, item, n) / n

    def py_hold_confirm(round: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            hold = e.hold([item], idempotency_key=f"py{round}-h{i}", ttl_seconds=600)
            e.confirm(hold.id, customer=ana, idempotency_key=f"py{round}-c{i}")
        return (time.perf_counter() - start) / n

    def rust_hold_confirm(round: int) -> float:
        return _reservo._bench_hold_confirm(native, item, ana, n, f"rust{round}") / n

    # Rounds alternate Python and Rust, so load from other processes and
    # the store's growth weigh on both alike; the best round of each counts.
    quotes = [(py_quote(), rust_quote()) for _ in range(rounds)]
    holds = [(py_hold_confirm(r), rust_hold_confirm(r)) for r in range(rounds)]

    print(
        f"calls per figure: {n}, best of {rounds} rounds (MemoryStore, release build)"
    )
    for name, figures in [("quote", quotes), ("hold+confirm", holds)]:
        py = min(p for p, _ in figures)
        rust = min(r for _, r in figures)
        print(
            f"{name:<13} python {py * 1e6:8.1f} us   rust {rust * 1e6:8.1f} us"
            f"   ratio {py / rust:4.2f}x"
        )


if __name__ == "__main__":
    main()
