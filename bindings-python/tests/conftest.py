"""Shared fixtures: a small catalog on a manual clock (2026-06-01 10:00 UTC,
11:00 in Lisbon, a Monday), the same one the core's engine tests use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from reservo import (
    Engine,
    ManualClock,
    MemoryStore,
    Property,
    RatePlan,
    Resource,
    Store,
)

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
