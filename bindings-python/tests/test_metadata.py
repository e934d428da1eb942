"""The host's metadata on bookings from Python: given to ``confirm`` and
``pay_and_confirm`` as any mapping, read back as a ``dict``, carried in
``booking.*`` events, replaced with ``set_booking_metadata`` (also from the
``AsyncEngine``), and refused whole when malformed."""

from __future__ import annotations

import asyncio
from datetime import date
from types import MappingProxyType

import pytest
from reservo import AsyncEngine, Engine, ManualClock, MemoryStore, errors

from .conftest import ANA, Shop, set_up_catalog, villa, villa_july

ORDER = {"order_id": "A-1042", "source": "web"}


def test_metadata_given_at_confirmation_is_on_the_booking_and_its_event(
    shop: Shop,
) -> None:
    hold = shop.hold(villa_july())
    booking = shop.engine.confirm(
        hold.id,
        customer=ANA,
        idempotency_key="c1",
        metadata=MappingProxyType(ORDER),  # any mapping
    )
    assert booking.metadata == ORDER
    assert shop.engine.booking(booking.id).metadata == ORDER
    # A copy: changing it changes nothing.
    booking.metadata["order_id"] = "changed"
    assert booking.metadata == ORDER
    [confirmed] = [e for e in shop.engine.events() if e.kind == "booking.confirmed"]
    assert confirmed.payload["metadata"] == ORDER


def test_metadata_given_with_a_payment_is_kept_and_absent_means_empty(
    shop: Shop,
) -> None:
    hold = shop.hold(villa_july())
    booking = shop.engine.pay_and_confirm(
        hold.id,
        customer=ANA,
        payment_method="tok_visa",
        idempotency_key="p1",
        metadata={"order_id": "A-7"},
    )
    assert booking.metadata == {"order_id": "A-7"}
    plain = shop.paid_in_full(villa(date(2026, 8, 3), date(2026, 8, 5)), key="p2")
    assert plain.metadata == {}
    [_, event] = [e for e in shop.engine.events() if e.kind == "booking.confirmed"]
    assert "metadata" not in event.payload


@pytest.mark.parametrize(
    "metadata",
    [
        {"order id": "spaces are not allowed in keys"},
        {"k" * 41: "key too long"},
        {"note": "x" * 501},
        {f"k{i}": "v" for i in range(51)},
    ],
    ids=["bad key", "long key", "long value", "too many"],
)
def test_malformed_metadata_is_invalid_input_and_nothing_is_charged(
    shop: Shop, metadata: dict[str, str]
) -> None:
    hold = shop.hold(villa_july())
    with pytest.raises(errors.InvalidInput):
        shop.engine.confirm(
            hold.id, customer=ANA, idempotency_key="c1", metadata=metadata
        )
    with pytest.raises(errors.InvalidInput):
        shop.engine.pay_and_confirm(
            hold.id,
            customer=ANA,
            payment_method="tok_visa",
            idempotency_key="p1",
            metadata=metadata,
        )
    assert shop.gateway.calls == []
    assert shop.engine.get_hold(hold.id).state == "active"
    assert "booking.confirmed" not in shop.event_kinds()


def test_values_that_are_not_text_are_a_type_error(shop: Shop) -> None:
    hold = shop.hold(villa_july())
    with pytest.raises(TypeError):
        shop.engine.confirm(
            hold.id,
            customer=ANA,
            idempotency_key="c1",
            metadata={"order_id": 1042},  # type: ignore[dict-item]
        )


def test_set_booking_metadata_replaces_it_once_per_key(shop: Shop) -> None:
    booking = shop.paid_in_full()
    invoice = {"invoice": "F-2026/7731"}
    changed = shop.engine.set_booking_metadata(
        booking.id, invoice, idempotency_key="m1"
    )
    assert changed.metadata == invoice
    assert changed.status == booking.status
    assert changed.paid == booking.paid
    # A replay returns the booking; other metadata under the key conflicts.
    assert shop.engine.set_booking_metadata(
        booking.id, invoice, idempotency_key="m1"
    ) == shop.engine.booking(booking.id)
    with pytest.raises(errors.IdempotencyConflict):
        shop.engine.set_booking_metadata(booking.id, ORDER, idempotency_key="m1")
    with pytest.raises(errors.NotFound):
        shop.engine.set_booking_metadata("no-such-booking", ORDER, idempotency_key="m2")
    with pytest.raises(errors.InvalidInput):
        shop.engine.set_booking_metadata(
            booking.id, {"a.b": "dots are not allowed"}, idempotency_key="m3"
        )
    assert shop.engine.booking(booking.id).metadata == invoice
    [event] = [e for e in shop.engine.events() if e.kind == "booking.metadata_changed"]
    assert event.payload["metadata"] == invoice
    cleared = shop.engine.set_booking_metadata(booking.id, {}, idempotency_key="m4")
    assert cleared.metadata == {}


def test_the_async_engine_sets_metadata_too(clock: ManualClock) -> None:
    store = MemoryStore()
    set_up_catalog(Engine(store, clock=clock))

    async def scenario() -> dict[str, str]:
        engine = AsyncEngine(store, clock=clock)
        hold = await engine.hold([villa_july()], idempotency_key="h1", ttl_seconds=600)
        booking = await engine.confirm(
            hold.id, customer=ANA, idempotency_key="c1", metadata=ORDER
        )
        assert booking.metadata == ORDER
        changed = await engine.set_booking_metadata(
            booking.id, {"desk_note": "late arrival"}, idempotency_key="m1"
        )
        return changed.metadata

    assert asyncio.run(scenario()) == {"desk_note": "late arrival"}
