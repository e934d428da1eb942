"""Change fees on an engine that sells in several currencies: ``change_fee``
takes one flat fee per currency, and a booking in a currency without one
cannot be modified."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest
from reservo import (
    Engine,
    Item,
    ManualClock,
    MemoryStore,
    Money,
    Party,
    Property,
    RatePlan,
    Resource,
    errors,
)

from .conftest import Shop, eur, villa
from .gateway import TestGateway


def yen(amount: int) -> Money:
    return Money(amount, "JPY")


def ryokan(check_in: date, check_out: date) -> Item:
    return Item.stay(
        "ryokan-room", check_in=check_in, check_out=check_out, party=Party(2)
    )


def shop_in_yen_too(clock: ManualClock, **fees: Any) -> Shop:
    """The usual shop, plus a room in Kyoto at 10001 yen a night."""
    shop = Shop(clock, TestGateway(), **fees)
    shop.engine.put_property(
        Property("ryokan", "Ryokan", "owner-ken", "Asia/Tokyo", "JPY")
    )
    shop.engine.put_rate_plan(
        RatePlan.from_dict(
            {
                "id": "ryokan-plan",
                "name": "Ryokan",
                "unit": "night",
                "base_price": {"amount": "10001", "currency": "JPY"},
            }
        )
    )
    shop.engine.put_resource(
        Resource.nightly(
            "ryokan-room",
            property="ryokan",
            name="Room",
            rate_plan="ryokan-plan",
            max_occupancy=2,
        )
    )
    return shop


JULY_13_16 = (date(2026, 7, 13), date(2026, 7, 16))
JULY_14_17 = (date(2026, 7, 14), date(2026, 7, 17))


def test_each_currency_pays_its_own_flat_fee(clock: ManualClock) -> None:
    shop = shop_in_yen_too(
        clock, change_fee=[eur("10.00"), yen(500)], change_fee_percent=Decimal(10)
    )
    booking = shop.paid_in_full(ryokan(*JULY_13_16), key="p-yen")
    moved = [ryokan(*JULY_14_17)]
    # 10% of 30003 yen rounds to 3000, plus 500.
    assert shop.engine.quote_modification(booking.id, moved).change_fee == yen(3500)
    modified = shop.engine.modify(
        booking.id, moved, idempotency_key="m-yen", payment_method="tok_visa"
    )
    assert modified.money.change_fees == yen(3500)
    villa_booking = shop.paid_in_full()
    quote = shop.engine.quote_modification(villa_booking.id, [villa(*JULY_14_17)])
    # 10% of 360.00, plus 10.00.
    assert quote.change_fee == eur("46.00")


def test_a_currency_without_its_fee_cannot_be_modified(clock: ManualClock) -> None:
    shop = shop_in_yen_too(clock, change_fee=eur("10.00"))
    booking = shop.paid_in_full(ryokan(*JULY_13_16), key="p-yen")
    with pytest.raises(errors.CurrencyMismatch):
        shop.engine.modify(
            booking.id,
            [ryokan(*JULY_14_17)],
            idempotency_key="m-yen",
            payment_method="tok_visa",
        )
    assert shop.engine.booking(booking.id) == booking


def test_change_fees_refuse_a_currency_twice_or_a_non_money() -> None:
    with pytest.raises(errors.InvalidInput, match="two change fees in EUR"):
        Engine(MemoryStore(), change_fee=[eur("10.00"), eur("5.00")])
    with pytest.raises(TypeError, match=r"Money \| Sequence\[Money\]"):
        Engine(MemoryStore(), change_fee=cast(Any, ["10.00"]))
    # No flat fee at all: the percentage alone, in every currency.
    Engine(MemoryStore(), change_fee=[], change_fee_percent=Decimal(5))
