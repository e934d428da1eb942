"""The edges of the binding: what a caller can pass that the core's types
cannot hold (floats for money, out-of-range ints, datetimes for dates,
stores that are not stores) gives a typed error at the call, and calls the
engine can never finish (a blocking call from inside a port) raise instead
of panicking or hanging."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections import UserDict, deque
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any, cast

import pytest
from reservo import (
    AsyncEngine,
    Block,
    Engine,
    EntryPolicy,
    Item,
    ManualClock,
    MemoryStore,
    Money,
    Notifier,
    Party,
    PostgresStore,
    Property,
    RatePlan,
    Record,
    Resource,
    RevocationList,
    SqliteStore,
    StoredEvent,
    conformance,
    errors,
)

from .conftest import ANA, START, VILLA_PLAN, make_engine, set_up_catalog
from .gateway import TestGateway
from .test_ports import AsyncDictStore, DictStore

VILLA_STAY = Item.stay(
    "villa-azul",
    check_in=date(2026, 7, 1),
    check_out=date(2026, 7, 4),
    party=Party(2),
)
ROOM_STAY = Item.stay(
    "room-double",
    check_in=date(2026, 7, 1),
    check_out=date(2026, 7, 4),
    party=Party(2),
)

# ------------------------------------------------------------- money


@pytest.mark.parametrize("amount", [0.1, 10.5, 123456789012345678.99, True])
def test_money_refuses_floats_and_bools(amount: object) -> None:
    with pytest.raises(TypeError, match=r"decimal\.Decimal, int or str"):
        Money(cast(Any, amount), "EUR")


@pytest.mark.parametrize(
    "amount",
    ["abc", "", Decimal("NaN"), Decimal("Infinity"), Decimal("1e40"), 10**40],
)
def test_money_that_is_no_exact_decimal_is_invalid_input(amount: object) -> None:
    with pytest.raises(errors.InvalidInput):
        Money(cast(Any, amount), "EUR")


def test_money_takes_decimals_ints_and_decimal_text_exactly() -> None:
    assert Money(Decimal("1E+2"), "EUR") == Money("100", "EUR")
    assert Money(7, "EUR").amount == Decimal("7")
    assert Money(" 10.05 ", "EUR").amount == Decimal("10.05")
    assert str(Money(Decimal("0.10"), "EUR")) == "0.10 EUR"


def test_change_fee_percent_refuses_floats() -> None:
    with pytest.raises(TypeError, match="float"):
        Engine(MemoryStore(), change_fee_percent=cast(Any, 12.5))
    with pytest.raises(errors.InvalidInput):
        Engine(MemoryStore(), change_fee_percent=cast(Any, "twelve"))


def test_a_huge_int_in_data_is_invalid_input(engine: Engine) -> None:
    promo = {"code": "BIG", "max_uses": 2**70}
    with pytest.raises(errors.InvalidInput, match="64 bits"):
        engine.put_promo(promo)


def test_a_float_in_data_is_refused_with_a_hint() -> None:
    plan = copy.deepcopy(VILLA_PLAN)
    plan["base_price"] = {"amount": 99.99, "currency": "EUR"}
    with pytest.raises(TypeError, match=r"float 99\.99 .*Decimal"):
        RatePlan.from_dict(plan)
    plan["base_price"] = {"amount": Decimal("99.99"), "currency": "EUR"}
    assert RatePlan.from_dict(plan).id == "villa-flex"


def test_any_mapping_and_sequence_are_data_but_bytes_are_not() -> None:
    plan: dict[str, Any] = copy.deepcopy(VILLA_PLAN)
    expected = RatePlan.from_dict(plan)
    plan["weekday_rates"] = deque(
        MappingProxyType(rate) for rate in plan["weekday_rates"]
    )
    assert RatePlan.from_dict(UserDict(plan)) == expected
    assert RatePlan.from_dict(MappingProxyType(plan)) == expected
    plan["weekday_rates"] = b"weekend"
    with pytest.raises(TypeError, match="cannot read bytes as data"):
        RatePlan.from_dict(plan)


def test_a_float_in_json_text_is_invalid_input_with_a_hint() -> None:
    plan = copy.deepcopy(VILLA_PLAN)
    plan["base_price"] = {"amount": "99.99", "currency": "EUR"}
    text = json.dumps(plan)
    assert RatePlan.from_json(text) == RatePlan.from_dict(plan)
    floated = text.replace('"99.99"', "99.99")
    hint = r"number 99\.99 would be read as a float.*\(\"99\.99\"\)"
    for read in (RatePlan.from_json, RatePlan.from_dict):
        with pytest.raises(errors.InvalidInput, match=hint):
            read(floated)


# ---------------------------------------------------------- integers

OUT_OF_RANGE: list[tuple[str, Callable[[Engine], object]]] = [
    ("party adults negative", lambda e: Party(-1)),
    ("party adults beyond u32", lambda e: Party(2**40)),
    ("child age beyond u8", lambda e: Party(2, [300])),
    ("child age negative", lambda e: Party(2, [-1])),
    (
        "hold ttl negative",
        lambda e: e.hold([VILLA_STAY], idempotency_key="h", ttl_seconds=-1),
    ),
    (
        "hold ttl beyond u32",
        lambda e: e.hold([VILLA_STAY], idempotency_key="h", ttl_seconds=2**40),
    ),
    ("extend ttl negative", lambda e: e.extend("h1", -5, idempotency_key="x")),
    ("events after negative", lambda e: e.events(-1)),
    ("events after beyond u64", lambda e: e.events(2**70)),
    ("events limit beyond usize", lambda e: e.events(0, 2**64)),
    ("expire_due negative", lambda e: e.expire_due(-1)),
    (
        "confirm item index negative",
        lambda e: e.confirm("h1", customer=ANA, idempotency_key="c", items=[-1]),
    ),
    (
        "nightly occupancy negative",
        lambda e: Resource.nightly(
            "r", property="p", name="n", rate_plan="x", max_occupancy=-2
        ),
    ),
    (
        "nightly units beyond u32",
        lambda e: Resource.nightly(
            "r", property="p", name="n", rate_plan="x", max_occupancy=2, units=2**32
        ),
    ),
    (
        "block units negative",
        lambda e: Block.nights(
            "b",
            resource="villa-azul",
            start=date(2026, 7, 1),
            end=date(2026, 7, 2),
            units=-1,
        ),
    ),
    ("entry policy negative", lambda e: EntryPolicy(entries=-1)),
    ("record version negative", lambda e: Record("k", b"v", -1)),
    ("stored event seq negative", lambda e: StoredEvent(-1, "k", b"")),
    ("revocation sequence negative", lambda e: RevocationList(-1, START)),
    ("engine max_attempts negative", lambda e: Engine(MemoryStore(), max_attempts=-1)),
    ("sqlite readers negative", lambda e: SqliteStore("unused.sqlite", readers=-1)),
    ("postgres pool negative", lambda e: PostgresStore("postgres://x", pool_size=-1)),
]


@pytest.mark.parametrize(
    "call", [c for _, c in OUT_OF_RANGE], ids=[n for n, _ in OUT_OF_RANGE]
)
def test_out_of_range_integers_are_invalid_input_not_overflow(
    engine: Engine, call: Callable[[Engine], object]
) -> None:
    with pytest.raises(errors.InvalidInput, match="is not between 0 and"):
        call(engine)


BOOLS: list[tuple[str, Callable[[Engine], object]]] = [
    ("party adults", lambda e: Party(cast(Any, True))),
    ("child age", lambda e: Party(2, [cast(Any, False)])),
    (
        "hold ttl",
        lambda e: e.hold([VILLA_STAY], idempotency_key="h", ttl_seconds=True),
    ),
    ("events limit", lambda e: e.events(0, True)),
    ("entry policy", lambda e: EntryPolicy(entries=True)),
]


@pytest.mark.parametrize("call", [c for _, c in BOOLS], ids=[n for n, _ in BOOLS])
def test_a_bool_where_a_count_is_meant_is_a_type_error(
    engine: Engine, call: Callable[[Engine], object]
) -> None:
    with pytest.raises(TypeError, match="expected an int, got bool"):
        call(engine)


def test_in_range_integers_still_work(engine: Engine) -> None:
    assert Party(2, [17]).size == 3
    assert Record("k", b"v", 2**64 - 1).version == 2**64 - 1
    assert engine.expire_due(2**63) == []
    with pytest.raises(TypeError):
        Party(cast(Any, 2.0))


# ------------------------------------------------------------- dates

UTC5 = timezone(timedelta(hours=-5))
AWARE = datetime(2026, 7, 1, 23, 0, tzinfo=UTC5)

DATES: list[tuple[str, Callable[[Engine], object]]] = [
    (
        "stay",
        lambda e: Item.stay(
            "villa-azul", check_in=AWARE, check_out=date(2026, 7, 4), party=Party(2)
        ),
    ),
    (
        "night availability",
        lambda e: e.night_availability("villa-azul", AWARE, date(2026, 7, 4)),
    ),
    (
        "search stays",
        lambda e: e.search_stays(AWARE, date(2026, 7, 4), party=Party(2)),
    ),
    (
        "bookings for resource",
        lambda e: e.bookings_for_resource("villa-azul", date(2026, 7, 1), AWARE),
    ),
    (
        "block",
        lambda e: Block.nights(
            "b", resource="villa-azul", start=AWARE, end=date(2026, 7, 4)
        ),
    ),
    (
        "owner statement",
        lambda e: e.owner_statement("ana", start=AWARE, end=date(2026, 7, 4)),
    ),
]


@pytest.mark.parametrize("call", [c for _, c in DATES], ids=[n for n, _ in DATES])
def test_a_datetime_where_a_date_is_meant_is_refused(
    engine: Engine, call: Callable[[Engine], object]
) -> None:
    # 23:00 at UTC-5 is already 2 July in UTC: no silent choice of a day.
    with pytest.raises(TypeError, match=r"\.date\(\)"):
        call(engine)


@pytest.mark.parametrize(
    "instant",
    [
        datetime.max.replace(tzinfo=UTC5),
        datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
    ],
)
def test_an_instant_outside_the_utc_calendar_is_invalid_input(
    instant: datetime,
) -> None:
    with pytest.raises(errors.InvalidInput, match="1-9999"):
        ManualClock(instant)


@pytest.mark.parametrize(
    "call",
    [
        lambda e: Property(
            "p", "n", "o", "Europe/Lisbon", "EUR", check_in_time=time(15, tzinfo=UTC5)
        ),
        lambda e: e.set_venue_check_in(
            "casa-azul", entry_hours=(time(8, tzinfo=UTC5), time(20))
        ),
    ],
    ids=["check-in time", "entry hours"],
)
def test_a_time_of_day_with_a_zone_is_refused(
    engine: Engine, call: Callable[[Engine], object]
) -> None:
    # Civil times are read in the property's zone; a tzinfo would be lost.
    with pytest.raises(errors.InvalidInput, match="has a time zone"):
        call(engine)


# ------------------------------------------------- clock and settings


def test_advancing_the_clock_past_the_last_instant_is_invalid_input() -> None:
    clock = ManualClock(START)
    with pytest.raises(errors.InvalidInput):
        clock.advance(timedelta(days=999_999_999))
    assert clock.now() == START
    clock.advance(timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)
    with pytest.raises(errors.InvalidInput, match="never go backwards"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == START + timedelta(days=1)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"max_hold_ttl": timedelta(seconds=-5)},
        {"max_hold_ttl": timedelta(0)},
        {"max_hold_lifetime": timedelta(seconds=-5)},
        {"max_hold_lifetime": timedelta(days=999_999_999)},
    ],
)
def test_engine_settings_the_core_cannot_work_with_are_invalid_input(
    settings: dict[str, Any],
) -> None:
    with pytest.raises(errors.InvalidInput):
        Engine(MemoryStore(), **settings)


@pytest.mark.parametrize("store", [42, object(), "reservo.sqlite"])
def test_a_store_without_the_storage_methods_is_a_type_error(store: object) -> None:
    with pytest.raises(TypeError, match=r"reservo\.Storage"):
        Engine(cast(Any, store))


class ChargeOnly:
    """Half a payment gateway: no capabilities, authorize, capture, refund."""

    def charge(self, request: object) -> dict[str, str]:
        return {"outcome": "approved", "gateway_id": "ch_1"}


def test_ports_missing_their_methods_are_type_errors_at_construction() -> None:
    with pytest.raises(TypeError, match=r"reservo\.PaymentGateway.*capabilities"):
        Engine(MemoryStore(), payment_gateway=cast(Any, ChargeOnly()))
    with pytest.raises(TypeError, match=r"reservo\.SmsSender.*send"):
        Notifier(MemoryStore(), cast(Any, ChargeOnly()))


class Unsure(TestGateway):
    """A gateway that cannot say what it supports."""

    __test__ = False

    def __init__(self, answer: Any) -> None:
        super().__init__()
        self.answer = answer

    def capabilities(self) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_gateway_that_cannot_say_what_it_supports_fails_the_construction() -> None:
    with pytest.raises(RuntimeError, match="no gateway config"):
        Engine(MemoryStore(), payment_gateway=Unsure(RuntimeError("no gateway config")))
    with pytest.raises(errors.InvalidInput, match="separate_capture"):
        Engine(MemoryStore(), payment_gateway=Unsure({"partial_refunds": True}))
    with pytest.raises(errors.InvalidInput, match="capabilities"):
        Engine(MemoryStore(), payment_gateway=Unsure(None))
    good = {"partial_refunds": True, "separate_capture": False}
    Engine(MemoryStore(), payment_gateway=Unsure(good))


def test_value_objects_copy_as_themselves() -> None:
    price = Money("10.50", "EUR")
    assert copy.copy(price) is price
    assert copy.deepcopy({"price": price})["price"] is price
    assert copy.deepcopy(VILLA_STAY) == VILLA_STAY


def test_conformance_raises_what_the_store_factory_raised() -> None:
    name = conformance.case_names()[0]

    def broken() -> DictStore:
        raise OSError("database down")

    with pytest.raises(OSError, match="database down"):
        conformance.run_case(name, broken)
    with pytest.raises(TypeError, match=r"reservo\.Storage"):
        conformance.run_case(name, cast(Any, lambda: 42))
    assert conformance.run_case(name, DictStore) is None


class Misbehaves(DictStore):
    """A store that, once ``mode`` is set, answers against the contract."""

    mode = ""

    def get(self, keys: list[str]) -> list[Record | None]:
        found = super().get(keys)
        if self.mode == "get-swapped":
            return list(reversed(found))
        if self.mode == "get-other-key":
            return [
                None if r is None else Record("zz", r.value, r.version) for r in found
            ]
        return found

    def scan(self, start: str, end: str | None, limit: int) -> list[Record]:
        found = super().scan(start, end, limit)
        if self.mode == "scan-outside":
            return [*found, Record("\uffff", b"{}", 1)]
        if self.mode == "scan-descending":
            return list(reversed(found))
        return found

    def read_events(self, after: int, limit: int) -> list[StoredEvent]:
        found = super().read_events(after, limit)
        if self.mode == "events-replayed":
            return [StoredEvent(after, "x", b"{}"), *found]
        return found


@pytest.mark.parametrize(
    ("mode", "call"),
    [
        (
            "get-swapped",
            lambda e: e.hold([VILLA_STAY], idempotency_key="k2", ttl_seconds=60),
        ),
        (
            "get-other-key",
            lambda e: e.hold([VILLA_STAY], idempotency_key="k2", ttl_seconds=60),
        ),
        (
            "scan-outside",
            lambda e: e.search_stays(
                date(2026, 7, 1), date(2026, 7, 4), party=Party(2)
            ),
        ),
        (
            "scan-descending",
            lambda e: e.search_stays(
                date(2026, 7, 1), date(2026, 7, 4), party=Party(2)
            ),
        ),
        ("events-replayed", lambda e: e.events(2)),
    ],
)
def test_a_host_store_answering_against_the_contract_is_a_storage_error(
    clock: ManualClock, mode: str, call: Callable[[Engine], object]
) -> None:
    store = Misbehaves()
    engine = make_engine(store, clock)
    engine.hold([VILLA_STAY, ROOM_STAY], idempotency_key="k1", ttl_seconds=60)
    store.mode = mode
    # Not a business error (Unavailable, IdempotencyConflict) made of bad data.
    with pytest.raises(errors.StorageError) as raised:
        call(engine)
    assert isinstance(raised.value.__cause__, ValueError)


# ------------------------------------- blocking calls made from ports


class CallsBack(DictStore):
    """A store whose ``get`` calls another engine with the blocking API."""

    def __init__(self, other: Engine) -> None:
        super().__init__()
        self.other = other

    def get(self, keys: list[str]) -> list[Record | None]:
        self.other.resources()
        return super().get(keys)


def test_blocking_engine_called_from_a_port_raises_instead_of_panicking(
    clock: ManualClock,
) -> None:
    other = make_engine(MemoryStore(), clock)
    engine = Engine(CallsBack(other), clock=clock)
    with pytest.raises(errors.StorageError) as raised:
        engine.resources()
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert "AsyncEngine" in str(raised.value.__cause__)

    async def awaited() -> None:
        await AsyncEngine(CallsBack(other), clock=clock).resources()

    with pytest.raises(errors.StorageError) as raised:
        asyncio.run(awaited())
    assert isinstance(raised.value.__cause__, RuntimeError)


class AsyncCallsBack(AsyncDictStore):
    """An async store whose ``get`` calls another engine with the blocking
    API, from the package's background loop."""

    def __init__(self, other: Engine) -> None:
        super().__init__()
        self.other = other

    async def get(self, keys: list[str]) -> list[Record | None]:
        self.other.resources()
        return await super().get(keys)


def test_blocking_engine_called_from_an_async_port_raises_instead_of_hanging(
    clock: ManualClock,
) -> None:
    other = Engine(AsyncDictStore(), clock=clock)
    set_up_catalog(other)
    engine = Engine(AsyncCallsBack(other), clock=clock)
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            engine.resources()
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(60)  # a guard against hanging the run, not a timing check
    assert not worker.is_alive(), "the call waits on the loop it runs on"
    (error,) = outcome
    assert isinstance(error, errors.StorageError)
    assert isinstance(error.__cause__, RuntimeError)
    # The background loop still serves ports after the refusal.
    assert len(other.resources()) == 3
