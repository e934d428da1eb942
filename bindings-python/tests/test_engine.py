"""The engine through the binding: catalog, search, quote, holds, bookings,
events, and the value objects it returns."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from reservo import (
    AsyncEngine,
    Block,
    Customer,
    Engine,
    Item,
    ManualClock,
    MemoryStore,
    Money,
    Party,
    Property,
    QuoteRequest,
    RatePlan,
    Resource,
    errors,
)

from .conftest import VILLA_PLAN

ANA = Customer("Ana Lima", "+351912345678", "ana@example.com")


def villa_week() -> Item:
    # Wed 1 July to Sat 4 July: Wed, Thu at 100, Fri at 120 (weekend).
    return Item.stay(
        "villa-azul",
        check_in=date(2026, 7, 1),
        check_out=date(2026, 7, 4),
        party=Party(2, [7]),
    )


def test_quote_prices_each_night_with_its_rule_in_decimal(engine: Engine) -> None:
    quoted = engine.quote(villa_week())
    quote = quoted.quote
    assert quoted.available == 1
    assert quote.total == Money(Decimal("380.00"), "EUR")
    assert isinstance(quote.total.amount, Decimal)
    kinds = [(line.rule_kind, line.rule_id, line.quantity) for line in quote.lines]
    assert kinds == [
        ("base", "villa-flex", 2),
        ("weekday", "weekend", 1),
        ("fee", "cleaning", 1),
    ]
    assert sum((line.amount.amount for line in quote.lines), Decimal(0)) == Decimal(
        "380.00"
    )
    # Each night's own price; the cleaning fee is no night's.
    assert quote.nights == [
        Money(Decimal("100.00"), "EUR"),
        Money(Decimal("100.00"), "EUR"),
        Money(Decimal("120.00"), "EUR"),
    ]
    assert quote.accommodation == Money(Decimal("320.00"), "EUR")


def test_search_finds_stays_and_sessions_with_prices(engine: Engine) -> None:
    stays = engine.search_stays(date(2026, 7, 1), date(2026, 7, 3), party=Party(2))
    assert [(h.resource, h.available, h.total.amount) for h in stays] == [
        ("room-double", 3, Decimal("260.00")),
        ("villa-azul", 1, Decimal("260.00")),
    ]
    sessions = engine.search_sessions(
        date(2026, 6, 2), date(2026, 6, 3), party=Party(1)
    )
    lisbon = ZoneInfo("Europe/Lisbon")
    assert [h.start.astimezone(lisbon).hour for h in sessions if h.start] == [9, 14]
    assert all(h.total == Money(Decimal(45), "EUR") for h in sessions)


def test_hold_confirm_turns_held_units_into_booked_ones(
    engine: Engine, clock: ManualClock
) -> None:
    hold = engine.hold([villa_week()], idempotency_key="hold-1", ttl_seconds=900)
    assert hold.state == "active"
    assert hold.expires_at == clock.now() + timedelta(seconds=900)
    nights = engine.night_availability("villa-azul", date(2026, 7, 1), date(2026, 7, 2))
    assert (nights[0].held, nights[0].available) == (1, 0)

    booking = engine.confirm(hold.id, customer=ANA, idempotency_key="confirm-1")
    assert booking.status == "confirmed"
    assert booking.total == hold.total
    assert booking.customer == ANA
    assert engine.get_hold(hold.id).booking == booking.id
    nights = engine.night_availability("villa-azul", date(2026, 7, 1), date(2026, 7, 2))
    assert (nights[0].held, nights[0].booked) == (0, 1)
    assert engine.booking(booking.id) == booking
    assert engine.bookings_by_customer(ANA.phone) == [booking]
    assert engine.bookings_for_resource(
        "villa-azul", date(2026, 7, 1), date(2026, 8, 1)
    ) == [booking]


def test_replayed_commands_return_the_first_result(engine: Engine) -> None:
    hold = engine.hold([villa_week()], idempotency_key="k", ttl_seconds=60)
    assert engine.hold([villa_week()], idempotency_key="k", ttl_seconds=60) == hold
    with pytest.raises(errors.IdempotencyConflict):
        engine.hold([villa_week()], idempotency_key="k", ttl_seconds=61)


def test_release_extend_and_expiry(engine: Engine, clock: ManualClock) -> None:
    hold = engine.hold([villa_week()], idempotency_key="a", ttl_seconds=600)
    extended = engine.extend(hold.id, 1200, idempotency_key="e")
    assert extended.expires_at == clock.now() + timedelta(seconds=1200)
    clock.advance(timedelta(seconds=30))
    # A retried extension answers with the hold and does not move it again.
    again = engine.extend(hold.id, 1200, idempotency_key="e")
    assert again.expires_at == extended.expires_at
    with pytest.raises(errors.IdempotencyConflict):
        engine.extend(hold.id, 900, idempotency_key="e")
    released = engine.release(hold.id, idempotency_key="r")
    assert released.state == "released"
    assert engine.release(hold.id, idempotency_key="r").state == "released"
    with pytest.raises(errors.HoldAlreadyResolved):
        engine.release(hold.id, idempotency_key="r-2")

    other = engine.hold([villa_week()], idempotency_key="b", ttl_seconds=60)
    clock.advance(timedelta(seconds=61))
    assert other.state_at(clock.now()) == "expired"
    # An expired hold never blocks availability, even before the sweep.
    assert engine.quote(villa_week()).available == 1
    with pytest.raises(errors.HoldExpired):
        engine.confirm(other.id, customer=ANA, idempotency_key="late")
    assert engine.expire_due() == [other.id]
    assert engine.expire_due() == []


def test_partial_confirm_and_quote_requests_with_promo(engine: Engine) -> None:
    engine.put_promo(
        {
            "code": "SUMMER",
            "discount": {"percent": "10"},
            "usage_limit": {"max_uses": 1},
        }
    )
    room = Item.stay(
        "room-double",
        check_in=date(2026, 7, 1),
        check_out=date(2026, 7, 2),
        party=Party(1),
    )
    hold = engine.hold(
        [QuoteRequest(room, promo_code="summer"), villa_week()],
        idempotency_key="two",
        ttl_seconds=600,
    )
    assert hold.items[0].promo_code == "summer"
    assert hold.items[0].quote.total.amount == Decimal("150.00")
    booking = engine.confirm(hold.id, customer=ANA, idempotency_key="c", items=[0])
    assert [i.resource for i in booking.items] == ["room-double"]
    assert engine.quote(villa_week()).available == 1  # the rest was released
    with pytest.raises(errors.PromoNotApplicable):
        engine.quote(room, promo_code="SUMMER")


def test_blocks_and_restrictions(engine: Engine) -> None:
    engine.add_block(
        Block.nights(
            "paint",
            resource="villa-azul",
            start=date(2026, 7, 1),
            end=date(2026, 7, 2),
            reason="owner_use",
        )
    )
    with pytest.raises(errors.Unavailable):
        engine.quote(villa_week())
    engine.remove_block("villa-azul", "paint")
    engine.set_restrictions(
        "villa-azul",
        [
            {
                "dates": {"from": "2026-07-01", "until": "2026-08-31"},
                "restriction": {"rule": "min_stay_on_arrival", "nights": 5},
            }
        ],
    )
    with pytest.raises(errors.MinStayOnArrival) as caught:
        engine.quote(villa_week())
    assert caught.value.code == "MIN_STAY_ON_ARRIVAL"
    assert isinstance(caught.value, errors.RestrictionViolated)


def test_sessions_have_seats_and_refuse_unknown_starts(engine: Engine) -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    start = datetime(2026, 6, 2, 9, 0, tzinfo=lisbon)
    lesson = Item.session("surf-lesson", start=start, party=Party(3))
    hold = engine.hold([lesson], idempotency_key="s", ttl_seconds=60)
    assert hold.items[0].item.start == start.astimezone(timezone.utc)
    seats = engine.session_availability(
        "surf-lesson", date(2026, 6, 2), date(2026, 6, 3)
    )
    assert [(s.start.astimezone(lisbon).hour, s.held, s.available) for s in seats] == [
        (9, 3, 5),
        (14, 0, 8),
    ]
    with pytest.raises(errors.NoSuchSlot):
        engine.quote(
            Item.session(
                "surf-lesson", start=start + timedelta(hours=1), party=Party(1)
            )
        )


def test_events_read_from_a_cursor(engine: Engine) -> None:
    first = engine.events()
    assert {e.kind for e in first} == {"catalog.changed"}
    hold = engine.hold([villa_week()], idempotency_key="e", ttl_seconds=60)
    engine.confirm(hold.id, customer=ANA, idempotency_key="e2")
    later = engine.events(after=first[-1].seq)
    assert [e.kind for e in later] == ["hold.created", "booking.confirmed"]
    assert later[1].payload["customer"]["name"] == "Ana Lima"
    assert engine.events(after=later[-1].seq) == []


def test_catalog_look_ups(engine: Engine) -> None:
    assert engine.property("casa-azul").time_zone == "Europe/Lisbon"
    assert [r.id for r in engine.resources("casa-azul")] == [
        "room-double",
        "surf-lesson",
        "villa-azul",
    ]
    lesson = engine.resource("surf-lesson")
    assert (lesson.kind, lesson.capacity, lesson.max_occupancy) == ("timed", 8, None)
    assert lesson.schedule is not None
    with pytest.raises(errors.NotFound):
        engine.resource("nope")


def cabins(n: int, plan: str) -> list[Resource]:
    return [
        Resource.nightly(
            f"cabin-{i:03}",
            property="pines",
            name=f"Cabin {i}",
            rate_plan=plan,
            max_occupancy=4,
        )
        for i in range(1, n + 1)
    ]


def test_import_catalog_puts_everything_in_one_commit_or_nothing(
    engine: Engine, clock: ManualClock
) -> None:
    pines = Property("pines", "The Pines", "owner-eva", "Europe/Lisbon", "EUR")
    plan = RatePlan.from_dict({**VILLA_PLAN, "id": "pines-std"})
    events = len(engine.events(limit=10_000))
    with pytest.raises(errors.NotFound, match="nope"):
        engine.import_catalog(
            properties=[pines], rate_plans=[plan], resources=cabins(3, "nope")
        )
    assert len(engine.events(limit=10_000)) == events
    with pytest.raises(errors.NotFound):
        engine.property("pines")

    engine.import_catalog(
        properties=[pines], rate_plans=[plan], resources=cabins(200, "pines-std")
    )
    assert len(engine.resources("pines")) == 200
    assert len(engine.events(limit=10_000)) == events + 202
    hold = engine.hold(
        [
            Item.stay(
                "cabin-150",
                check_in=date(2026, 7, 1),
                check_out=date(2026, 7, 3),
                party=Party(2),
            )
        ],
        idempotency_key="h1",
        ttl_seconds=60,
    )
    assert hold.total == Money(Decimal("260.00"), "EUR")

    async def from_the_loop() -> None:
        native = AsyncEngine(MemoryStore(), clock=clock)
        await native.import_catalog(
            properties=[pines], rate_plans=[plan], resources=cabins(2, "pines-std")
        )
        assert [r.id for r in await native.resources("pines")] == [
            "cabin-001",
            "cabin-002",
        ]

    asyncio.run(from_the_loop())


def test_value_objects_are_frozen_comparable_and_hashable() -> None:
    a, b = Party(2, [4]), Party(2, [4])
    assert a == b and hash(a) == hash(b) and a != Party(2)
    assert repr(a) == "Party(adults=2, children_ages=[4])"
    assert Party(2, [3, 10]).children_ages == [3, 10]
    assert len({a, b, Party(1)}) == 2
    with pytest.raises(AttributeError):
        a.adults = 3  # type: ignore[misc]
    money = Money(Decimal("10.50"), "EUR")
    assert repr(money) == "Money('10.50', 'EUR')" and str(money) == "10.50 EUR"
    assert money.to_dict() == {"amount": "10.50", "currency": "EUR"}
    same_value = Money("10.5", "EUR")
    assert same_value == money and hash(same_value) == hash(money)
    assert Money("10.5", "USD") != money
    # Optional fields print as Python writes them, not Rust's Some(...).
    assert repr(Customer("Ana", "+351912345678", "a@b.pt")) == (
        'Customer(name="Ana", phone="+351912345678", email="a@b.pt")'
    )
    assert repr(Customer("Ana", "+351912345678")).endswith("email=None)")
    request = QuoteRequest(
        Item.stay(
            "villa",
            check_in=date(2026, 7, 1),
            check_out=date(2026, 7, 3),
            party=Party(2),
        ),
        rate_plan="villa-flex",
        promo_code="SUMMER",
    )
    assert repr(request).endswith('rate_plan="villa-flex", promo_code="SUMMER")')
    block = Block.nights(
        "b1", resource="villa", start=date(2026, 7, 1), end=date(2026, 7, 3), units=2
    )
    assert "units=2," in repr(block)


def test_instants_must_carry_a_time_zone() -> None:
    with pytest.raises(errors.InvalidInput):
        Item.session("surf-lesson", start=datetime(2026, 6, 2, 9), party=Party(1))
    with pytest.raises(ValueError):
        ManualClock(datetime(2026, 6, 2, 9))
