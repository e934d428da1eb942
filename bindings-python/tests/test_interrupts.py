"""A ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``,
``SystemExit``, ``GeneratorExit``) raised inside a host port ends the engine
call as itself, the very object, not wrapped in a ``ReservoError``: Ctrl-C
interrupts. The engine still handles the port's failure as it handles any
(an unknown payment outcome is left for reconciliation, an SMS for retry)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from reservo import (
    AsyncEngine,
    CommitBatch,
    Engine,
    GatewayPort,
    ManualClock,
    Notifier,
    errors,
)
from reservo.ports import PaymentOutcome, PaymentRequest, SmsMessage

from .conftest import ANA, Shop, make_engine, set_up_catalog, villa_july
from .gateway import TestGateway
from .test_ports import DictStore, booked_store, stay

INTERRUPTS: list[Callable[[], BaseException]] = [
    lambda: KeyboardInterrupt(),
    lambda: SystemExit(3),
    lambda: GeneratorExit("closing"),
]
"""Each kind of interrupt, freshly made for each test."""

interrupts = pytest.mark.parametrize(
    "make", INTERRUPTS, ids=["KeyboardInterrupt", "SystemExit", "GeneratorExit"]
)


class InterruptedStore(DictStore):
    """A store whose next ``commit`` raises ``interrupt`` (once)."""

    def __init__(self) -> None:
        super().__init__()
        self.interrupt: BaseException | None = None

    def commit(self, batch: CommitBatch) -> int:
        interrupt, self.interrupt = self.interrupt, None
        if interrupt is not None:
            raise interrupt
        return super().commit(batch)


class InterruptedAsyncStore(InterruptedStore):
    """The same store with an ``async def`` ``commit``."""

    async def commit(self, batch: CommitBatch) -> int:  # type: ignore[override]
        await asyncio.sleep(0)
        return InterruptedStore.commit(self, batch)


class InterruptedGateway(TestGateway):
    """The test gateway, whose next ``charge`` raises ``interrupt`` (once)
    before doing anything."""

    __test__ = False
    interrupt: BaseException | None = None

    def charge(self, request: PaymentRequest) -> PaymentOutcome:
        interrupt, self.interrupt = self.interrupt, None
        if interrupt is not None:
            raise interrupt
        return super().charge(request)


def run_with_deadline(call: Callable[[], Any], seconds: float = 30) -> Any:
    """``call()`` on another thread; fails the test if it has not finished
    within ``seconds`` (a port's interrupt must not hang the engine)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as caught:
            outcome["raised"] = caught

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the engine call never ended"
    if "raised" in outcome:
        raise outcome["raised"]
    return outcome.get("value")


@interrupts
def test_a_store_interrupt_ends_the_blocking_call_as_itself(
    clock: ManualClock, make: Callable[[], BaseException]
) -> None:
    store = InterruptedStore()
    engine = make_engine(store, clock)
    interrupt = store.interrupt = make()
    with pytest.raises(BaseException) as caught:
        engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
    assert caught.value is interrupt
    # Nothing was applied: the same hold goes through afterwards.
    hold = engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
    assert hold.state == "active"


@interrupts
def test_an_async_def_store_interrupt_ends_the_blocking_call_as_itself(
    clock: ManualClock, make: Callable[[], BaseException]
) -> None:
    store = InterruptedAsyncStore()
    engine = make_engine(store, clock)
    interrupt = store.interrupt = make()
    with pytest.raises(BaseException) as caught:
        run_with_deadline(
            lambda: engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
        )
    assert caught.value is interrupt
    # The background loop that runs async def ports survived it.
    hold = run_with_deadline(
        lambda: engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
    )
    assert hold.state == "active"


@interrupts
def test_a_store_interrupt_ends_the_awaited_call_as_itself(
    clock: ManualClock, make: Callable[[], BaseException]
) -> None:
    store = InterruptedStore()
    set_up_catalog(Engine(store, clock=clock))
    interrupt = store.interrupt = make()

    async def main() -> None:
        await AsyncEngine(store, clock=clock).hold(
            [stay()], idempotency_key="h", ttl_seconds=60
        )

    with pytest.raises(BaseException) as caught:
        asyncio.run(main())
    assert caught.value is interrupt


@interrupts
def test_a_gateway_interrupt_leaves_the_payment_to_reconcile(
    clock: ManualClock, make: Callable[[], BaseException]
) -> None:
    gateway = InterruptedGateway()
    shop = Shop(clock, gateway)
    hold = shop.hold(villa_july())
    interrupt = gateway.interrupt = make()
    with pytest.raises(BaseException) as caught:
        shop.engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
        )
    assert caught.value is interrupt
    # The engine handled the failure as any unknown outcome.
    assert shop.engine.payment_attempt("p1").state == "pending"
    assert shop.engine.reconcile_payments().settled == ["p1:charge"]
    [booking] = shop.engine.bookings_by_customer(ANA.phone)
    assert booking.status == "confirmed"


def test_a_gateway_interrupt_during_reconciliation_is_raised_not_swallowed(
    clock: ManualClock,
) -> None:
    gateway = InterruptedGateway()
    shop = Shop(clock, gateway)
    hold = shop.hold(villa_july())
    gateway.lose_next = 1
    with pytest.raises(errors.PaymentOutcomeUnknown):
        shop.engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
        )
    # Reconciling reports a gateway failure as "still pending"; an interrupt
    # still ends the call, and leaves the attempt for the next run.
    interrupt = gateway.interrupt = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt) as caught:
        shop.engine.reconcile_payments()
    assert caught.value is interrupt
    assert shop.engine.payment_attempt("p1").state == "pending"
    assert shop.engine.reconcile_payments().settled == ["p1:charge"]


def test_a_gateway_interrupt_ends_the_awaited_payment_as_itself(
    clock: ManualClock,
) -> None:
    gateway = InterruptedGateway()
    shop = Shop(clock, gateway)
    hold = shop.hold(villa_july())
    interrupt = gateway.interrupt = KeyboardInterrupt()

    async def main() -> None:
        engine = AsyncEngine(shop.store, clock=clock, payment_gateway=gateway)
        await engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
        )

    with pytest.raises(KeyboardInterrupt) as caught:
        asyncio.run(main())
    assert caught.value is interrupt
    assert shop.engine.payment_attempt("p1").state == "pending"


def test_an_interrupt_in_capabilities_is_not_swallowed(clock: ManualClock) -> None:
    interrupt = KeyboardInterrupt()

    class Stubborn(TestGateway):
        """Answers when the engine is built, then raises."""

        __test__ = False
        asked = 0

        def capabilities(self) -> Any:
            self.asked += 1
            if self.asked > 1:
                raise interrupt
            return super().capabilities()

    shop = Shop(clock, Stubborn())
    hold = shop.hold(villa_july())
    with pytest.raises(KeyboardInterrupt) as caught:
        shop.engine.pay_and_confirm(
            hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
        )
    assert caught.value is interrupt


def test_a_gateway_port_interrupt_is_raised_as_itself() -> None:
    interrupt = SystemExit(2)

    class Exiting:
        def capabilities(self) -> dict[str, bool]:
            return {"partial_refunds": True, "separate_capture": False}

        def charge(self, request: PaymentRequest) -> PaymentOutcome:
            raise interrupt

    request: PaymentRequest = {
        "idempotency_key": "pay-1",
        "reference": "bk-1",
        "amount": "1.00",
        "currency": "EUR",
        "payment_method": "tok_visa",
    }
    with pytest.raises(SystemExit) as caught:
        GatewayPort(Exiting()).charge(request).wait()
    assert caught.value is interrupt


def test_an_sms_interrupt_ends_the_run_and_the_message_is_sent_later(
    clock: ManualClock,
) -> None:
    store = booked_store(clock)
    interrupt = KeyboardInterrupt()

    class Interrupted:
        def send(self, message: SmsMessage) -> str:
            raise interrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        Notifier(store, Interrupted(), clock=clock).run_once()
    assert caught.value is interrupt
    # The notifier kept the message for a retry, as for any failed send.
    sent: list[SmsMessage] = []

    class Phone:
        def send(self, message: SmsMessage) -> str:
            sent.append(message)
            return "sms-1"

    clock.advance(timedelta(hours=1))
    Notifier(store, Phone(), clock=clock).run_once()
    assert [m["to"] for m in sent] == ["+351912345678"]


def test_an_ordinary_port_exception_is_still_wrapped(clock: ManualClock) -> None:
    class Broken(Exception):
        pass

    class Failing(DictStore):
        def commit(self, batch: CommitBatch) -> int:
            raise Broken("disk on fire")

    engine = Engine(Failing(), clock=clock)
    with pytest.raises(errors.StorageError) as caught:
        set_up_catalog(engine)
    assert isinstance(caught.value.__cause__, Broken)
