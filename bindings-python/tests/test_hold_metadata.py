"""A hold's customer and metadata from Python: given to ``hold`` (metadata
as any mapping), read back from the hold and its ``hold.*`` events, carried
onto the booking (the customer when the confirmation names none, the
metadata under the confirmation's own), and refused whole when malformed or
when the two together make more than 50 keys."""

from __future__ import annotations

import asyncio
import pickle
from datetime import date, timedelta
from types import MappingProxyType

import pytest
from reservo import (
    AsyncEngine,
    Engine,
    ManualClock,
    MemoryStore,
    Notifier,
    SmsTemplates,
    errors,
)

from .conftest import ANA, Phone, Shop, set_up_catalog, villa, villa_july

CART = {"cart_id": "c-9", "source": "web"}


def keys(prefix: str, count: int) -> dict[str, str]:
    return {f"{prefix}{i:02}": "v" for i in range(count)}


def test_a_hold_keeps_its_customer_and_metadata_and_its_events_carry_them(
    shop: Shop,
) -> None:
    hold = shop.engine.hold(
        [villa_july()],
        idempotency_key="h1",
        ttl_seconds=900,
        customer=ANA,
        metadata=MappingProxyType(CART),  # any mapping
    )
    assert hold.customer == ANA
    assert hold.metadata == CART
    # A copy: changing it changes nothing.
    hold.metadata["cart_id"] = "changed"
    assert shop.engine.get_hold(hold.id).metadata == CART
    assert pickle.loads(pickle.dumps(hold)) == hold
    [created] = [e for e in shop.engine.events() if e.kind == "hold.created"]
    assert created.payload["customer"] == {"name": "Ana Lima", "phone": "+351912345678"}
    assert created.payload["metadata"] == CART

    plain = shop.hold(villa(date(2026, 8, 3), date(2026, 8, 5)), key="h2")
    assert (plain.customer, plain.metadata) == (None, {})


def test_confirmation_starts_from_the_holds_metadata(shop: Shop) -> None:
    hold = shop.engine.hold(
        [villa_july()], idempotency_key="h1", ttl_seconds=900, metadata=CART
    )
    booking = shop.engine.confirm(
        hold.id,
        customer=ANA,
        idempotency_key="c1",
        metadata={"order_id": "A-1", "source": "app"},
    )
    assert booking.metadata == {"cart_id": "c-9", "order_id": "A-1", "source": "app"}


@pytest.mark.parametrize(
    "metadata",
    [{"cart id": "spaces are not allowed in keys"}, keys("k", 51)],
    ids=["bad key", "too many"],
)
def test_malformed_metadata_refuses_the_hold(
    shop: Shop, metadata: dict[str, str]
) -> None:
    before = shop.event_kinds()
    with pytest.raises(errors.InvalidInput):
        shop.engine.hold(
            [villa_july()], idempotency_key="h1", ttl_seconds=900, metadata=metadata
        )
    with pytest.raises(TypeError):
        shop.engine.hold(
            [villa_july()],
            idempotency_key="h1",
            ttl_seconds=900,
            metadata={"cart_id": 9},  # type: ignore[dict-item]
        )
    assert shop.event_kinds() == before
    # The refused key was not used up.
    shop.engine.hold([villa_july()], idempotency_key="h1", ttl_seconds=900)


def test_more_than_fifty_keys_with_the_holds_charge_nothing(shop: Shop) -> None:
    hold = shop.engine.hold(
        [villa_july()], idempotency_key="h1", ttl_seconds=900, metadata=keys("a", 30)
    )
    with pytest.raises(errors.InvalidInput, match="make 51"):
        shop.engine.pay_and_confirm(
            hold.id,
            customer=ANA,
            payment_method="tok_visa",
            idempotency_key="p1",
            metadata=keys("b", 21),
        )
    assert shop.gateway.calls == []
    assert shop.engine.get_hold(hold.id).state == "active"
    booking = shop.engine.pay_and_confirm(
        hold.id,
        customer=ANA,
        payment_method="tok_visa",
        idempotency_key="p1",
        metadata=keys("b", 20),
    )
    assert len(booking.metadata) == 50


def test_the_async_engine_holds_with_a_customer_and_metadata(
    clock: ManualClock,
) -> None:
    store = MemoryStore()
    set_up_catalog(Engine(store, clock=clock))

    async def scenario() -> dict[str, str]:
        engine = AsyncEngine(store, clock=clock)
        hold = await engine.hold(
            [villa_july()],
            idempotency_key="h1",
            ttl_seconds=600,
            customer=ANA,
            metadata=CART,
        )
        assert hold.customer == ANA
        booking = await engine.confirm(hold.id, idempotency_key="c1")
        assert booking.customer == ANA
        return booking.metadata

    assert asyncio.run(scenario()) == CART


def test_a_confirmation_without_a_customer_books_for_the_holds(shop: Shop) -> None:
    cart = shop.engine.hold(
        [villa_july()], idempotency_key="h1", ttl_seconds=900, customer=ANA
    )
    first = shop.engine.confirm(cart.id, idempotency_key="c1")
    assert first.customer == ANA
    paid = shop.engine.hold(
        [villa(date(2026, 8, 3), date(2026, 8, 5))],
        idempotency_key="h2",
        ttl_seconds=900,
        customer=ANA,
    )
    booking = shop.engine.pay_and_confirm(
        paid.id, payment_method="tok_visa", idempotency_key="p2"
    )
    assert (booking.customer, booking.status) == (ANA, "confirmed")
    # Both are found by the customer's phone.
    found = shop.engine.bookings_by_customer(ANA.phone)
    assert [b.id for b in found] == [first.id, booking.id]


def test_a_hold_without_a_customer_needs_one_named_and_charges_nothing(
    shop: Shop,
) -> None:
    hold = shop.hold(villa_july(), key="h1")
    before = shop.event_kinds()
    with pytest.raises(errors.InvalidInput, match="without a customer"):
        shop.engine.confirm(hold.id, idempotency_key="c1")
    with pytest.raises(errors.InvalidInput, match="without a customer"):
        shop.engine.pay_and_confirm(
            hold.id, payment_method="tok_visa", idempotency_key="p1"
        )
    assert shop.gateway.calls == []
    assert shop.event_kinds() == before
    assert shop.engine.get_hold(hold.id).state == "active"
    # The refused keys were not used up.
    booking = shop.engine.pay_and_confirm(
        hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
    )
    assert booking.customer == ANA


def test_a_host_template_on_hold_expired_reminds_of_an_abandoned_cart(
    shop: Shop, clock: ManualClock
) -> None:
    shop.engine.hold(
        [villa_july()],
        idempotency_key="h1",
        ttl_seconds=900,
        customer=ANA,
        metadata=CART,
    )
    # A hold without a customer has no one to remind.
    shop.hold(villa(date(2026, 8, 3), date(2026, 8, 5)), key="h2")
    clock.advance(timedelta(minutes=16))
    assert len(shop.engine.expire_due()) == 2

    templates = SmsTemplates.defaults()
    templates.add(
        "hold.expired",
        "guest",
        "Hi {customer.name}, {property.name} is still free from {period.start}."
        " Pick up cart {metadata.cart_id} where you left it.",
    )
    phone = Phone()
    report = Notifier(shop.store, phone, clock=clock, templates=templates).run_once()
    assert report.failed == 0
    assert [(m["to"], m["body"]) for m in phone.sent] == [
        (
            "+351912345678",
            "Hi Ana Lima, Casa Azul is still free from 2026-07-13."
            " Pick up cart c-9 where you left it.",
        )
    ]


def test_a_hold_is_given_its_customer_after_it_is_taken(shop: Shop) -> None:
    hold = shop.hold(villa_july())
    updated = shop.engine.update_hold(
        hold.id, idempotency_key="u1", customer=ANA, metadata=MappingProxyType(CART)
    )
    assert (updated.customer, updated.metadata) == (ANA, CART)
    assert (updated.expires_at, updated.total) == (hold.expires_at, hold.total)
    [event] = [e for e in shop.engine.events() if e.kind == "hold.updated"]
    assert event.payload["customer"]["phone"] == ANA.phone
    # A replay answers the hold; what it has already appends nothing.
    assert (
        shop.engine.update_hold(
            hold.id, idempotency_key="u1", customer=ANA, metadata=CART
        )
        == updated
    )
    shop.engine.update_hold(hold.id, idempotency_key="u2", customer=ANA)
    assert shop.event_kinds().count("hold.updated") == 1
    cleared = shop.engine.update_hold(hold.id, idempotency_key="u3", metadata={})
    assert (cleared.customer, cleared.metadata) == (ANA, {})
    booking = shop.engine.pay_and_confirm(
        hold.id, payment_method="tok_visa", idempotency_key="p1"
    )
    assert booking.customer == ANA


def test_a_hold_customer_can_be_taken_off(shop: Shop) -> None:
    hold = shop.hold(villa_july())
    shop.engine.update_hold(hold.id, idempotency_key="u1", customer=ANA)
    forgotten = shop.engine.update_hold(
        hold.id, idempotency_key="u2", remove_customer=True
    )
    assert (forgotten.customer, shop.engine.get_hold(hold.id).customer) == (None, None)
    updates = [e for e in shop.engine.events() if e.kind == "hold.updated"]
    assert [("customer" in u.payload) for u in updates] == [True, False]
    with pytest.raises(errors.InvalidInput, match="both name"):
        shop.engine.update_hold(
            hold.id, idempotency_key="u3", customer=ANA, remove_customer=True
        )
    with pytest.raises(errors.InvalidInput, match="without a customer"):
        shop.engine.confirm(hold.id, idempotency_key="c1")
    assert shop.engine.get_hold(hold.id).customer is None


def test_a_bad_or_late_hold_update_changes_nothing(
    shop: Shop, clock: ManualClock
) -> None:
    hold = shop.hold(villa_july())
    before = shop.event_kinds()
    with pytest.raises(errors.InvalidInput, match="must name"):
        shop.engine.update_hold(hold.id, idempotency_key="u1")
    with pytest.raises(errors.InvalidInput):
        shop.engine.update_hold(hold.id, idempotency_key="u1", metadata=keys("k", 51))
    assert shop.event_kinds() == before
    assert shop.engine.get_hold(hold.id).customer is None
    clock.advance(timedelta(minutes=16))
    with pytest.raises(errors.HoldExpired):
        shop.engine.update_hold(hold.id, idempotency_key="u1", customer=ANA)


def test_the_async_engine_updates_a_hold(clock: ManualClock) -> None:
    store = MemoryStore()
    set_up_catalog(Engine(store, clock=clock))

    async def scenario() -> str:
        engine = AsyncEngine(store, clock=clock)
        hold = await engine.hold([villa_july()], idempotency_key="h1", ttl_seconds=600)
        await engine.update_hold(hold.id, idempotency_key="u1", customer=ANA)
        booking = await engine.confirm(hold.id, idempotency_key="c1")
        return booking.customer.phone

    assert asyncio.run(scenario()) == ANA.phone
