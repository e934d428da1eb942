"""Shared fixtures: a small catalog on a manual clock (2026-06-01 10:00 UTC,
11:00 in Lisbon, a Monday), the same one the core's engine tests use, and a
shop that takes payments through a Python test gateway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

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
    Resource,
    Store,
)
from reservo.ports import SmsMessage

from .gateway import TestGateway

START = datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)

VILLA_PLAN = {
    "id": "villa-flex",
    "name": "Flexible",
    "unit": "night",
    "base_price": {"amount": Decimal("100.00"), "currency": "EUR"},
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

LESSON_PLAN = {
    "id": "lesson",
    "name": "Lesson",
    "unit": "slot",
    "base_price": {"amount": "45.00", "currency": "EUR"},
}

DAILY_LESSONS = {
    "rules": [
        {
            "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start_times": ["09:00:00", "14:00:00"],
            "duration_minutes": 120,
            "dates": {"from": date(2026, 1, 1)},
        }
    ]
}


def set_up_catalog(engine: Engine) -> None:
    """A villa (1 unit), a hotel room type (3 units) and a surf lesson
    (8 seats, daily at 09:00 and 14:00 Lisbon time)."""
    engine.put_property(
        Property("casa-azul", "Casa Azul", "owner-ana", "Europe/Lisbon", "EUR")
    )
    engine.put_rate_plan(RatePlan.from_dict(VILLA_PLAN))
    engine.put_rate_plan(RatePlan.from_dict(LESSON_PLAN))
    engine.put_resource(
        Resource.nightly(
            "villa-azul",
            property="casa-azul",
            name="Villa Azul",
            rate_plan="villa-flex",
            max_occupancy=6,
        )
    )
    engine.put_resource(
        Resource.nightly(
            "room-double",
            property="casa-azul",
            name="Double room",
            rate_plan="villa-flex",
            max_occupancy=2,
            units=3,
        )
    )
    engine.put_resource(
        Resource.timed(
            "surf-lesson",
            property="casa-azul",
            name="Surf lesson",
            rate_plan="lesson",
            seats=8,
            schedule=DAILY_LESSONS,
        )
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def make_engine(store: Store, clock: ManualClock) -> Engine:
    engine = Engine(store, clock=clock)
    set_up_catalog(engine)
    return engine


@pytest.fixture
def engine(clock: ManualClock) -> Iterator[Engine]:
    yield make_engine(MemoryStore(), clock)


# ------------------------------------------------------------- money

ANA = Customer("Ana Lima", "+351912345678")

TIERED_POLICY = CancellationPolicy.from_dict(
    {
        "tiers": [
            {
                "threshold": {"kind": "days_before", "days": 30, "at": "start_time"},
                "penalty": {"kind": "none"},
            },
            {
                "threshold": {"kind": "days_before", "days": 7, "at": "start_time"},
                "penalty": {"kind": "percent", "percent": "25"},
            },
        ],
        "late_penalty": {"kind": "first_nights", "nights": 1, "percent_of_rest": "0"},
        "free_windows": [],
    }
)
"""Full refund until 30 days before check-in, 75% until 7 days before, then
the first night is kept (also for no-shows)."""


def villa(check_in: date, check_out: date, adults: int = 2) -> Item:
    """The villa (1 unit) for the nights ``[check_in, check_out)``."""
    return Item.stay(
        "villa-azul", check_in=check_in, check_out=check_out, party=Party(adults)
    )


def book_villa(engine: Engine, check_in: date, check_out: date) -> Booking:
    """Holds the villa for ``[check_in, check_out)`` and confirms it for Ana
    (idempotency keys ``h1`` and ``c1``)."""
    hold = engine.hold(
        [villa(check_in, check_out)], idempotency_key="h1", ttl_seconds=600
    )
    return engine.confirm(
        hold.id, customer=Customer("Ana", "+351912345678"), idempotency_key="c1"
    )


def villa_july() -> Item:
    """Mon 13 to Thu 16 July: 3 x 100.00 + 60.00 cleaning = 360.00."""
    return villa(date(2026, 7, 13), date(2026, 7, 16))


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


class Shop:
    """An engine that takes payments through a Python test gateway."""

    def __init__(self, clock: ManualClock, gateway: TestGateway, **kw: Any) -> None:
        self.clock = clock
        self.gateway = gateway
        self.store = MemoryStore()
        self.engine = Engine(self.store, clock=clock, payment_gateway=gateway, **kw)
        set_up_catalog(self.engine)

    def hold(self, item: Item, key: str = "h1") -> Hold:
        return self.engine.hold([item], idempotency_key=key, ttl_seconds=900)

    def paid_in_full(self, item: Item | None = None, key: str = "p1") -> Booking:
        hold = self.hold(item or villa_july(), f"{key}-hold")
        return self.engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key=key
        )

    def event_kinds(self) -> list[str]:
        return [e.kind for e in self.engine.events(limit=1000)]


@pytest.fixture
def shop(clock: ManualClock) -> Shop:
    return Shop(clock, TestGateway())


class Phone:
    """The host's SMS sender in tests: records what it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> str:
        self.sent.append(message)
        return f"sms-{len(self.sent)}"
