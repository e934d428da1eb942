"""The shared scenario vectors (``core/tests/vectors/*.json``) run through
the Python API, on the built-in memory store and on a Python ``Storage``,
with the tests' Python payment gateway. The format is described in
``core/tests/vectors/README.md``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

import pytest
from reservo import (
    Booking,
    CancellationPolicy,
    Customer,
    Engine,
    Hold,
    Item,
    ManualClock,
    MemoryStore,
    Money,
    Party,
    Property,
    RatePlan,
    ReservoError,
    Resource,
    Store,
)

from .gateway import TestGateway
from .test_ports import DictStore

VECTORS = Path(__file__).resolve().parents[2] / "core" / "tests" / "vectors"
FILES = sorted(VECTORS.glob("*.json"))
STORES: dict[str, Callable[[], Store]] = {"memory": MemoryStore, "python": DictStore}

Data = dict[str, Any]
PAGE = 8
"""How many records or events a snapshot reads per call: few, so that the
larger scenarios read their stores in several pages."""


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def money(data: Data) -> Money:
    return Money(Decimal(data["amount"]), data["currency"])


def party(data: Data) -> Party:
    return Party(data["adults"], data.get("children_ages", []))


def item(data: Data) -> Item:
    if "start" in data:
        return Item.session(
            data["resource"], start=instant(data["start"]), party=party(data["party"])
        )
    return Item.stay(
        data["resource"],
        check_in=date.fromisoformat(data["check_in"]),
        check_out=date.fromisoformat(data["check_out"]),
        party=party(data["party"]),
    )


def customer(data: Data) -> Customer:
    return Customer(data["name"], data["phone"], data.get("email"))


def optional_customer(when: Data) -> Customer | None:
    """The step's ``customer``, if it has one."""
    return customer(when["customer"]) if "customer" in when else None


def person(customer: Customer) -> Data:
    """A booking's customer as a step's ``then.customer``: name and phone."""
    return {"name": customer.name, "phone": customer.phone}


def resource(data: Data) -> Resource:
    common = {
        "property": data["property"],
        "name": data["name"],
        "rate_plan": data["rate_plan"],
    }
    if "nightly" in data:
        return Resource.nightly(data["id"], **common, **data["nightly"])
    return Resource.timed(data["id"], **common, **data["timed"])


def policy(data: Data | str) -> CancellationPolicy:
    """The core's policy JSON, or a preset by name."""
    if isinstance(data, str):
        return CancellationPolicy.preset(data)
    return CancellationPolicy.from_dict(data)


def engine_for(store: Store, clock: ManualClock, given: Data) -> Engine:
    fee = given.get("change_fee", {})
    return Engine(
        store,
        clock=clock,
        payment_gateway=TestGateway(),
        change_fee=money(fee["flat"]) if "flat" in fee else None,
        change_fee_percent=Decimal(fee["percent"]) if "percent" in fee else None,
    )


def set_up(engine: Engine, given: Data) -> None:
    for p in given.get("properties", []):
        engine.put_property(
            Property(p["id"], p["name"], p["owner"], p["time_zone"], p["currency"])
        )
    for plan in given.get("rate_plans", []):
        engine.put_rate_plan(RatePlan.from_dict(plan))
    for r in given.get("resources", []):
        engine.put_resource(resource(r))
    for rid, entries in given.get("restrictions", {}).items():
        engine.set_restrictions(rid, entries)
    for promo in given.get("promos", []):
        engine.put_promo(promo)
    for plan_id, data in given.get("cancellation_policies", {}).items():
        engine.set_cancellation_policy(plan_id, policy(data))


def moved(before: Booking, after: Booking) -> Data:
    """What ``then`` may check of a booking after a step that changed it:
    the money that moved in the step is what its payments and refunds
    gained."""
    currency = after.total.currency

    def total(amounts: list[Money]) -> Money:
        return Money(sum((m.amount for m in amounts), Decimal(0)), currency)

    payments = after.money.payments[len(before.money.payments) :]
    refunds = after.money.refunds[len(before.money.refunds) :]
    return {
        "status": after.status,
        "total": after.total,
        "paid": after.paid,
        "charged": total([p.amount for p in payments]),
        "refund": total([r.amount for r in refunds]),
    }


class Snapshot(NamedTuple):
    """What a refused step must leave exactly as it was."""

    records: list[tuple[str, bytes, int]] | None
    """Every record as (key, value, version), in key order; ``None`` where
    the store offers no way to list its records from Python."""
    outbox: list[tuple[int, str, Any]]
    """Every outbox event as (seq, kind, payload)."""


class Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


E = TypeVar("E", bound=Sequenced)


def every_event(read: Callable[[int, int], Sequence[E]]) -> list[E]:
    """The whole outbox, read a page at a time from sequence 0 on."""
    events: list[E] = []
    while page := read(events[-1].seq if events else 0, PAGE):
        events += page
    return events


def every_record(store: DictStore) -> list[tuple[str, bytes, int]]:
    """Every record of ``store``, through the ``Storage`` protocol: the
    whole key space scanned a page at a time, each page starting just after
    the last key of the one before."""
    records: list[tuple[str, bytes, int]] = []
    start = ""
    while page := store.scan(start, None, PAGE):
        records += [(r.key, r.value, r.version) for r in page]
        start = page[-1].key + "\0"
    return records


def snapshot(engine: Engine, store: Store) -> Snapshot:
    """The store's records and outbox, as its public API shows them. A
    Python store is read through its ``Storage`` methods (the raw bytes).
    The built-in ``MemoryStore`` has no Python method that lists or reads
    its records, so for it only the outbox, read through the engine, is
    compared (the core's own runner compares its whole dump)."""
    if isinstance(store, DictStore):
        outbox = [(e.seq, e.kind, e.payload) for e in every_event(store.read_events)]
        return Snapshot(every_record(store), outbox)
    events = every_event(engine.events)
    return Snapshot(None, [(e.seq, e.kind, e.payload) for e in events])


class Run:
    """One scenario in progress: the engine, its clock, named holds and
    named bookings (their ids)."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine, self.clock = engine, clock
        self.holds: dict[str, Hold] = {}
        self.bookings: dict[str, str] = {}
        self.ops: dict[str, Callable[[Data], Data]] = {
            "quote": self.quote,
            "hold": self.hold,
            "confirm": self.confirm,
            "release": self.release,
            "advance": self.advance,
            "night_availability": self.night_availability,
            "search": self.search,
            "extend": self.extend,
            "update_hold": self.update_hold,
            "expire_due": self.expire_due,
            "pay": self.pay,
            "cancel": self.cancel,
            "refund_quote": self.refund_quote,
            "quote_modification": self.quote_modification,
            "modify": self.modify,
            "set_metadata": self.set_metadata,
        }

    def do(self, when: Data) -> Data:
        """Runs one step and returns what ``then`` may check."""
        op = self.ops.get(when["op"])
        if op is None:
            raise AssertionError(f"unknown op {when['op']!r}")
        return op(when)

    def quote(self, when: Data) -> Data:
        quoted = self.engine.quote(
            item(when["item"]), promo_code=when.get("promo_code")
        )
        return {"total": quoted.quote.total, "available": quoted.available}

    def hold(self, when: Data) -> Data:
        hold = self.engine.hold(
            [item(i) for i in when["items"]],
            idempotency_key=when["idempotency_key"],
            ttl_seconds=when["ttl_seconds"],
            customer=optional_customer(when),
            metadata=when.get("metadata"),
        )
        if "as" in when:
            self.holds[when["as"]] = hold
        return {"total": hold.total, "hold": hold, "metadata": hold.metadata}

    def confirm(self, when: Data) -> Data:
        booking = self.engine.confirm(
            self.holds[when["hold"]].id,
            customer=optional_customer(when),
            idempotency_key=when["idempotency_key"],
            metadata=when.get("metadata"),
        )
        self.name(when, booking)
        return {
            "status": booking.status,
            "metadata": booking.metadata,
            "customer": person(booking.customer),
        }

    def set_metadata(self, when: Data) -> Data:
        booking = self.engine.set_booking_metadata(
            self.bookings[when["booking"]],
            when["metadata"],
            idempotency_key=when["idempotency_key"],
        )
        return {"status": booking.status, "metadata": booking.metadata}

    def release(self, when: Data) -> Data:
        released = self.engine.release(
            self.holds[when["hold"]].id, idempotency_key=when["idempotency_key"]
        )
        return {"state": released.state}

    def advance(self, when: Data) -> Data:
        self.clock.advance(timedelta(seconds=when["seconds"]))
        return {}

    def night_availability(self, when: Data) -> Data:
        nights = self.engine.night_availability(
            when["resource"],
            date.fromisoformat(when["start"]),
            date.fromisoformat(when["end"]),
        )
        return {"available": [n.available for n in nights]}

    def search(self, when: Data) -> Data:
        hits = self.engine.search_stays(
            date.fromisoformat(when["check_in"]),
            date.fromisoformat(when["check_out"]),
            party=party(when["party"]),
            property=when.get("property"),
        )
        return {
            "hits": [h.resource for h in hits],
            "hit_totals": [h.total for h in hits],
        }

    def extend(self, when: Data) -> Data:
        hold = self.engine.extend(
            self.holds[when["hold"]].id,
            when["ttl_seconds"],
            idempotency_key=when["idempotency_key"],
        )
        return {"expires_at": hold.expires_at}

    def update_hold(self, when: Data) -> Data:
        hold = self.engine.update_hold(
            self.holds[when["hold"]].id,
            idempotency_key=when["idempotency_key"],
            customer=optional_customer(when),
            metadata=when.get("metadata"),
        )
        customer = None if hold.customer is None else person(hold.customer)
        return {"customer": customer, "metadata": hold.metadata}

    def expire_due(self, when: Data) -> Data:
        return {"expired": len(self.engine.expire_due(when.get("limit", 100)))}

    def pay(self, when: Data) -> Data:
        booking = self.engine.pay_and_confirm(
            self.holds[when["hold"]].id,
            customer=optional_customer(when),
            payment_method=when["payment_method"],
            idempotency_key=when["idempotency_key"],
            deposit=money(when["deposit"]) if "deposit" in when else None,
        )
        self.name(when, booking)
        return {
            "status": booking.status,
            "total": booking.total,
            "paid": booking.paid,
            "customer": person(booking.customer),
        }

    def cancel(self, when: Data) -> Data:
        booking = self.bookings[when["booking"]]
        before = self.engine.booking(booking)
        after = self.engine.cancel(
            booking, idempotency_key=when["idempotency_key"], reason=when.get("reason")
        )
        return moved(before, after)

    def refund_quote(self, when: Data) -> Data:
        quote = self.engine.refund_quote(
            self.bookings[when["booking"]], instant(when["at"])
        )
        return {
            "refund": quote.refund,
            "penalty": quote.penalty,
            "non_refundable_kept": quote.non_refundable_kept,
            "kept": quote.kept,
            "rule": quote.rule["kind"],
        }

    def quote_modification(self, when: Data) -> Data:
        quote = self.engine.quote_modification(
            self.bookings[when["booking"]], [item(i) for i in when["items"]]
        )
        return {
            "current_total": quote.current_total,
            "new_total": quote.new_total,
            "change_fee": quote.change_fee,
            "difference": quote.difference,
            "to_charge": quote.to_charge,
            "to_refund": quote.to_refund,
        }

    def modify(self, when: Data) -> Data:
        booking = self.bookings[when["booking"]]
        before = self.engine.booking(booking)
        expected = when.get("expected_total")
        after = self.engine.modify(
            booking,
            [item(i) for i in when["items"]],
            idempotency_key=when["idempotency_key"],
            payment_method=when.get("payment_method"),
            expected_total=money(expected) if expected else None,
        )
        return moved(before, after)

    def name(self, when: Data, booking: Booking) -> None:
        """Names ``booking`` as the step's ``as`` says, if it does."""
        if "as" in when:
            self.bookings[when["as"]] = booking.id

    def check(self, context: str, then: Data, got: Data) -> None:
        for key, expected in then.items():
            where = f"{context}: {key}"
            if isinstance(expected, dict) and "amount" in expected:
                assert got[key] == money(expected), where
            elif key == "hit_totals":
                assert got["hit_totals"] == [money(m) for m in expected], where
            elif key == "same_as":
                assert got["hold"] == self.holds[expected], where
            elif key == "expires_at":
                assert got["expires_at"] == instant(expected), where
            else:
                assert got[key] == expected, where


def test_the_shared_vectors_are_found() -> None:
    assert len(FILES) >= 10, f"the shared vectors are missing from {VECTORS}"


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_vector(path: Path, store: str) -> None:
    scenario = json.loads(path.read_text())
    given = scenario["given"]
    clock = ManualClock(instant(given["now"]))
    storage = STORES[store]()
    engine = engine_for(storage, clock, given)
    set_up(engine, given)
    run = Run(engine, clock)
    for number, step in enumerate(scenario["steps"]):
        then = step["then"]
        context = f"{scenario['name']} step {number}: {step['when']['op']}"
        if "error" in then:
            before = snapshot(engine, storage)
            with pytest.raises(ReservoError) as caught:
                run.do(step["when"])
            assert caught.value.code == then["error"], context
            if then.get("unchanged"):
                after = snapshot(engine, storage)
                assert after == before, f"{context}: the refused step changed the store"
        else:
            run.check(context, then, run.do(step["when"]))
