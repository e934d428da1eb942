"""Payments through a payment gateway written in Python: pay and confirm,
declines, unknown outcomes reconciled without charging twice, deposits and
balances, and gateways with ``async def`` methods."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from reservo import AsyncEngine, Engine, ManualClock, MemoryStore, errors

from .conftest import ANA, Shop, eur, set_up_catalog, villa_july
from .gateway import (
    CAPTURE_DECLINED_CARD,
    DECLINED_CARD,
    AsyncTestGateway,
    GatewayTimeout,
    TestGateway,
)


def test_full_payment_confirms_the_booking_with_the_payment_recorded(
    shop: Shop,
) -> None:
    booking = shop.paid_in_full()
    assert booking.status == "confirmed"
    assert booking.total == eur("360.00")
    [payment] = booking.money.payments
    assert payment.amount == eur("360.00")
    assert payment.refundable == eur("360.00")
    assert payment.gateway_id in shop.gateway.payments
    assert booking.paid == eur("360.00")
    assert shop.gateway.captured == Decimal("360.00")
    assert [(c.op, c.key) for c in shop.gateway.calls] == [("charge", "p1:charge")]
    assert shop.event_kinds().count("payment.captured") == 1
    attempt = shop.engine.payment_attempt("p1")
    assert (attempt.state, attempt.gateway_id) == ("approved", payment.gateway_id)


def test_declined_payment_leaves_no_booking_and_the_hold_active(shop: Shop) -> None:
    hold = shop.hold(villa_july())
    with pytest.raises(errors.PaymentDeclined) as declined:
        shop.engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method=DECLINED_CARD, idempotency_key="p1"
        )
    assert declined.value.code == "PAYMENT_DECLINED"
    assert shop.engine.bookings_by_customer(ANA.phone) == []
    assert shop.engine.get_hold(hold.id).state == "active"
    attempt = shop.engine.payment_attempt("p1")
    assert (attempt.state, attempt.reason) == ("declined", "card declined")
    # The same key stays declined without asking the gateway again.
    calls = len(shop.gateway.calls)
    with pytest.raises(errors.PaymentDeclined):
        shop.engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method=DECLINED_CARD, idempotency_key="p1"
        )
    assert len(shop.gateway.calls) == calls
    # Another card under a new key books it.
    booking = shop.engine.pay_and_confirm(
        hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p2"
    )
    assert booking.status == "confirmed"


def test_unknown_outcome_is_chained_then_reconciled_without_charging_twice(
    shop: Shop,
) -> None:
    hold = shop.hold(villa_july())
    shop.gateway.lose_next = 1  # the charge goes through; the answer is lost
    with pytest.raises(errors.PaymentOutcomeUnknown) as unknown:
        shop.engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
        )
    assert isinstance(unknown.value.__cause__, GatewayTimeout)
    assert "connection reset" in str(unknown.value.__cause__)
    attempt = shop.engine.payment_attempt("p1")
    assert attempt.state == "pending"
    assert attempt.amount == eur("360.00")
    assert attempt.last_error is not None and "connection reset" in attempt.last_error
    assert shop.engine.bookings_by_customer(ANA.phone) == []

    shop.gateway.fail_next = 1
    assert shop.engine.reconcile_payments().still_pending == ["p1:charge"]
    report = shop.engine.reconcile_payments()
    assert (report.settled, report.still_pending) == (["p1:charge"], [])
    [booking] = shop.engine.bookings_by_customer(ANA.phone)
    assert booking.status == "confirmed"
    assert shop.gateway.captured == Decimal("360.00")
    # A replay returns the booking; nothing is charged again.
    replay = shop.engine.pay_and_confirm(
        hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
    )
    assert replay == booking
    assert shop.engine.reconcile_payments().settled == []
    assert {c.key for c in shop.gateway.calls} == {"p1:charge"}
    assert shop.gateway.captured == Decimal("360.00")


def test_deposit_then_balance_moves_pending_payment_to_confirmed(shop: Shop) -> None:
    hold = shop.hold(villa_july())
    booking = shop.engine.pay_and_confirm(
        hold.id,
        customer=ANA,
        payment_method="tok_visa",
        idempotency_key="p1",
        deposit=eur("100.00"),
    )
    assert booking.status == "pending_payment"
    assert booking.paid == eur("100.00")
    assert "booking.pending_payment" in shop.event_kinds()
    paid = shop.engine.pay_balance(
        booking.id, payment_method="tok_visa", idempotency_key="p2"
    )
    assert paid.status == "confirmed"
    assert [p.amount for p in paid.money.payments] == [eur("100.00"), eur("260.00")]
    assert paid.paid == eur("360.00")
    assert shop.gateway.captured == Decimal("360.00")
    with pytest.raises(errors.IllegalTransition):
        shop.engine.pay_balance(
            booking.id, payment_method="tok_visa", idempotency_key="p3"
        )
    with pytest.raises(errors.IdempotencyConflict):
        shop.engine.pay_balance(
            booking.id, payment_method="tok_other", idempotency_key="p2"
        )
    assert shop.gateway.captured == Decimal("360.00")


def test_bad_deposits_are_value_errors_and_change_nothing(shop: Shop) -> None:
    hold = shop.hold(villa_july())
    for amount in ["0.00", "360.01", "10.005"]:
        with pytest.raises(ValueError) as bad:
            shop.engine.pay_and_confirm(
                hold.id,
                customer=ANA,
                payment_method="tok_visa",
                idempotency_key="p1",
                deposit=eur(amount),
            )
        assert isinstance(bad.value, errors.InvalidInput), amount
    assert shop.gateway.calls == []
    assert shop.engine.get_hold(hold.id).state == "active"


def test_an_engine_without_a_gateway_refuses_payments(clock: ManualClock) -> None:
    engine = Engine(MemoryStore(), clock=clock)
    set_up_catalog(engine)
    hold = engine.hold([villa_july()], idempotency_key="h", ttl_seconds=60)
    with pytest.raises(errors.PaymentUnsupported):
        engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
        )


def test_gateways_that_capture_separately_are_authorized_then_captured(
    clock: ManualClock,
) -> None:
    shop = Shop(clock, TestGateway(separate_capture=True))
    shop.paid_in_full()
    assert [(c.op, c.key) for c in shop.gateway.calls] == [
        ("authorize", "p1:authorize"),
        ("capture", "p1:charge"),
    ]
    assert shop.gateway.captured == Decimal("360.00")


def test_a_declined_capture_voids_its_authorization(clock: ManualClock) -> None:
    shop = Shop(clock, TestGateway(separate_capture=True))
    hold = shop.hold(villa_july())
    with pytest.raises(errors.PaymentDeclined, match="withdrawn"):
        shop.engine.pay_and_confirm(
            hold.id,
            customer=ANA,
            payment_method=CAPTURE_DECLINED_CARD,
            idempotency_key="p1",
        )
    assert [(c.op, c.key) for c in shop.gateway.calls] == [
        ("authorize", "p1:authorize"),
        ("capture", "p1:charge"),
        ("void", "p1:void"),
    ]
    assert shop.gateway.open_authorizations == 0
    [failed] = [e for e in shop.engine.events(limit=100) if e.kind == "payment.failed"]
    assert failed.payload["authorization"] == {
        "id": "au_1",
        "voided": True,
        "message": None,
    }
    assert shop.engine.get_hold(hold.id).state == "active"


def test_blocking_engine_runs_an_async_gateway_on_the_background_loop(
    clock: ManualClock,
) -> None:
    gateway = AsyncTestGateway()
    engine = Engine(MemoryStore(), clock=clock, payment_gateway=gateway)
    set_up_catalog(engine)
    hold = engine.hold([villa_july()], idempotency_key="h", ttl_seconds=60)
    booking = engine.pay_and_confirm(
        hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
    )
    assert booking.status == "confirmed"
    assert gateway.inner.captured == Decimal("360.00")
    assert len(gateway.loops) == 1


def test_async_engine_awaits_an_async_gateway_on_the_callers_loop(
    clock: ManualClock,
) -> None:
    gateway = AsyncTestGateway()
    store = MemoryStore()
    set_up_catalog(Engine(store, clock=clock))

    async def main() -> None:
        engine = AsyncEngine(store, clock=clock, payment_gateway=gateway)
        hold = await engine.hold([villa_july()], idempotency_key="h", ttl_seconds=60)
        gateway.inner.fail_next = 1
        with pytest.raises(errors.PaymentOutcomeUnknown) as unknown:
            await engine.pay_and_confirm(
                hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
            )
        assert isinstance(unknown.value.__cause__, GatewayTimeout)
        booking = await engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
        )
        assert booking.paid == eur("360.00")
        loop = asyncio.get_running_loop()
        assert len(gateway.loops) == 2
        assert all(seen is loop for seen in gateway.loops)
        assert (await engine.payment_attempt("p1")).state == "approved"

    asyncio.run(main())
    assert gateway.inner.captured == Decimal("360.00")


def test_payment_values_are_frozen_comparable_and_readable(shop: Shop) -> None:
    booking = shop.paid_in_full()
    [payment] = booking.money.payments
    assert payment == shop.engine.booking(booking.id).money.payments[0]
    assert hash(payment) == hash(shop.engine.booking(booking.id).money.payments[0])
    assert repr(payment).startswith("Payment(gateway_id=")
    assert payment.to_dict()["amount"] == {"amount": "360.00", "currency": "EUR"}
    with pytest.raises(AttributeError):
        payment.amount = eur("1.00")  # type: ignore[misc]
