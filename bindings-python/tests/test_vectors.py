"""The shared scenario vectors (``core/tests/vectors/*.json``) run through
the Python API, on the built-in memory store and on a Python ``Storage``.
The format is described in ``core/tests/vectors/README.md``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from reservo import (
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

from .test_ports import DictStore

VECTORS = Path(__file__).resolve().parents[2] / "core" / "tests" / "vectors"
FILES = sorted(VECTORS.glob("*.json"))
STORES: dict[str, Callable[[], Store]] = {"memory": MemoryStore, "python": DictStore}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def money(data: dict[str, str]) -> Money:
    return Money(Decimal(data["amount"]), data["currency"])


def item(data: dict[str, Any]) -> Item:
    party = Party(data["party"]["adults"], data["party"].get("children_ages", []))
    if "start" in data:
        return Item.session(data["resource"], start=instant(data["start"]), party=party)
    return Item.stay(
        data["resource"],
        check_in=date.fromisoformat(data["check_in"]),
        check_out=date.fromisoformat(data["check_out"]),
        party=party,
    )


def resource(data: dict[str, Any]) -> Resource:
    common = {
        "property": data["property"],
        "name": data["name"],
        "rate_plan": data["rate_plan"],
    }
    if "nightly" in data:
        return Resource.nightly(data["id"], **common, **data["nightly"])
    return Resource.timed(data["id"], **common, **data["timed"])


def set_up(engine: Engine, given: dict[str, Any]) -> None:
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


class Run:
    """One scenario in progress: the engine, its clock and named holds."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine, self.clock = engine, clock
        self.holds: dict[str, Hold] = {}

    def do(self, when: dict[str, Any]) -> dict[str, Any]:
        """Runs one step and returns what ``then`` may check."""
        op = when["op"]
        if op == "quote":
            quoted = self.engine.quote(
                item(when["item"]), promo_code=when.get("promo_code")
            )
            return {"total": quoted.quote.total, "available": quoted.available}
        if op == "hold":
            hold = self.engine.hold(
                [item(i) for i in when["items"]],
                idempotency_key=when["idempotency_key"],
                ttl_seconds=when["ttl_seconds"],
            )
            if "as" in when:
                self.holds[when["as"]] = hold
            return {"total": hold.total, "hold": hold}
        if op == "confirm":
            c = when["customer"]
            booking = self.engine.confirm(
                self.holds[when["hold"]].id,
                customer=Customer(c["name"], c["phone"], c.get("email")),
                idempotency_key=when["idempotency_key"],
            )
            return {"status": booking.status}
        if op == "release":
            released = self.engine.release(
                self.holds[when["hold"]].id, idempotency_key=when["idempotency_key"]
            )
            return {"state": released.state}
        if op == "advance":
            self.clock.advance(timedelta(seconds=when["seconds"]))
            return {}
        if op == "night_availability":
            nights = self.engine.night_availability(
                when["resource"],
                date.fromisoformat(when["start"]),
                date.fromisoformat(when["end"]),
            )
            return {"available": [n.available for n in nights]}
        if op == "search":
            party = when["party"]
            hits = self.engine.search_stays(
                date.fromisoformat(when["check_in"]),
                date.fromisoformat(when["check_out"]),
                party=Party(party["adults"], party.get("children_ages", [])),
                property=when.get("property"),
            )
            return {
                "hits": [h.resource for h in hits],
                "hit_totals": [h.total for h in hits],
            }
        raise AssertionError(f"unknown op {op!r}")

    def check(self, then: dict[str, Any], got: dict[str, Any]) -> None:
        for key, expected in then.items():
            if key == "total":
                assert got["total"] == money(expected)
            elif key == "hit_totals":
                assert got["hit_totals"] == [money(m) for m in expected]
            elif key == "same_as":
                assert got["hold"] == self.holds[expected]
            else:
                assert got[key] == expected, key


@pytest.mark.skipif(not FILES, reason="no scenario vectors in core/tests/vectors")
@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_vector(path: Path, store: str) -> None:
    scenario = json.loads(path.read_text())
    given = scenario["given"]
    clock = ManualClock(instant(given["now"]))
    engine = Engine(STORES[store](), clock=clock)
    set_up(engine, given)
    run = Run(engine, clock)
    for number, step in enumerate(scenario["steps"]):
        then = step["then"]
        context = f"{scenario['name']} step {number}: {step['when']['op']}"
        if "error" in then:
            events_before = len(engine.events(0, 10_000))
            with pytest.raises(ReservoError) as caught:
                run.do(step["when"])
            assert caught.value.code == then["error"], context
            if then.get("unchanged"):
                assert len(engine.events(0, 10_000)) == events_before, context
        else:
            run.check(then, run.do(step["when"]))
