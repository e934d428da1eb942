"""Ports implemented in Python: a dict-backed Storage (plain and async)
that passes the core's conformance kit and runs the engine, SMS senders,
payment gateways, and host exceptions chained as ``__cause__``."""

from __future__ import annotations

import asyncio
import bisect
import threading
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest
from reservo import (
    AsyncEngine,
    CommissionPlan,
    CommitBatch,
    CommitConflict,
    Customer,
    Engine,
    GatewayPort,
    Item,
    ManualClock,
    Notifier,
    Party,
    Property,
    Record,
    StoredEvent,
    conformance,
    errors,
)
from reservo.ports import PaymentOutcome, PaymentRequest, SmsMessage

from .conftest import Phone, make_engine, set_up_catalog


class DictStore:
    """The storage port in a page of Python: sorted keys, a store-wide
    version counter and an outbox, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, tuple[bytes, int]] = {}
        self._keys: list[str] = []
        self._events: list[StoredEvent] = []
        self._version = 0

    def get(self, keys: list[str]) -> list[Record | None]:
        with self._lock:
            found = [(k, self._records.get(k)) for k in keys]
        return [None if r is None else Record(k, r[0], r[1]) for k, r in found]

    def scan(self, start: str, end: str | None, limit: int) -> list[Record]:
        with self._lock:
            lo = bisect.bisect_left(self._keys, start)
            hi = len(self._keys) if end is None else bisect.bisect_left(self._keys, end)
            keys = self._keys[lo:hi][:limit]
            return [Record(k, *self._records[k]) for k in keys]

    def commit(self, batch: CommitBatch) -> int:
        with self._lock:
            for key, version in batch.expectations:
                current = self._records.get(key)
                if (current[1] if current else None) != version:
                    raise CommitConflict(key)
            self._version += 1
            for key, value in batch.mutations:
                if value is None:
                    if self._records.pop(key, None) is not None:
                        self._keys.remove(key)
                else:
                    if key not in self._records:
                        bisect.insort(self._keys, key)
                    self._records[key] = (value, self._version)
            for kind, payload in batch.events:
                self._events.append(StoredEvent(len(self._events) + 1, kind, payload))
            return self._version

    def read_events(self, after: int, limit: int) -> list[StoredEvent]:
        with self._lock:
            return self._events[after : after + limit]


class AsyncDictStore:
    """The same store with ``async def`` methods, as an async driver has."""

    def __init__(self) -> None:
        self._inner = DictStore()

    async def get(self, keys: list[str]) -> list[Record | None]:
        await asyncio.sleep(0)
        return self._inner.get(keys)

    async def scan(self, start: str, end: str | None, limit: int) -> list[Record]:
        return self._inner.scan(start, end, limit)

    async def commit(self, batch: CommitBatch) -> int:
        await asyncio.sleep(0)
        return self._inner.commit(batch)

    async def read_events(self, after: int, limit: int) -> Sequence[StoredEvent]:
        return self._inner.read_events(after, limit)


@pytest.mark.parametrize("name", conformance.case_names())
def test_python_dict_store_passes_the_storage_contract(name: str) -> None:
    assert conformance.run_case(name, DictStore) is None


@pytest.mark.parametrize(
    "name",
    [n for n in conformance.case_names() if n.startswith(("get_", "racing_"))],
)
def test_async_python_store_passes_the_storage_contract(name: str) -> None:
    assert conformance.run_case(name, AsyncDictStore) is None


def test_conformance_catches_a_store_that_breaks_the_contract() -> None:
    class LosesConflicts(DictStore):
        def commit(self, batch: CommitBatch) -> int:
            try:
                return super().commit(batch)
            except CommitConflict:
                return 0

    failure = conformance.run_case(
        "stale_version_is_a_conflict_that_changes_nothing", LosesConflicts
    )
    assert failure is not None


def stay() -> Item:
    return Item.stay(
        "villa-azul",
        check_in=date(2026, 7, 1),
        check_out=date(2026, 7, 3),
        party=Party(2),
    )


def test_engine_runs_on_a_python_store(clock: ManualClock) -> None:
    engine = make_engine(DictStore(), clock)
    hold = engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
    booking = engine.confirm(
        hold.id, customer=Customer("Ana", "+351912345678"), idempotency_key="c"
    )
    assert engine.booking(booking.id) == booking


def test_blocking_engine_runs_async_def_ports_on_a_background_loop(
    clock: ManualClock,
) -> None:
    engine = make_engine(AsyncDictStore(), clock)
    assert engine.quote(stay()).available == 1


def test_async_engine_runs_async_def_ports_on_the_callers_loop(
    clock: ManualClock,
) -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    class Watched(AsyncDictStore):
        async def get(self, keys: list[str]) -> list[Record | None]:
            seen.append(asyncio.get_running_loop())
            return await super().get(keys)

    async def main() -> None:
        store = Watched()
        set_up_catalog(Engine(store, clock=clock))
        engine = AsyncEngine(store, clock=clock)
        seen.clear()
        quoted = await engine.quote(stay())
        assert quoted.available == 1
        assert seen and all(loop is asyncio.get_running_loop() for loop in seen)

    asyncio.run(main())


class Broken(Exception):
    pass


def test_host_store_exception_is_the_cause(clock: ManualClock) -> None:
    class Failing(DictStore):
        fail = False

        def get(self, keys: list[str]) -> list[Record | None]:
            if self.fail:
                raise Broken("disk on fire")
            return super().get(keys)

    store = Failing()
    engine = make_engine(store, clock)
    store.fail = True
    with pytest.raises(errors.StorageError) as caught:
        engine.quote(stay())
    assert isinstance(caught.value.__cause__, Broken)
    assert "disk on fire" in str(caught.value.__cause__)


def test_async_host_store_exception_is_the_cause(clock: ManualClock) -> None:
    class Failing(AsyncDictStore):
        async def read_events(self, after: int, limit: int) -> Sequence[StoredEvent]:
            raise Broken("outbox gone")

    async def main() -> None:
        with pytest.raises(errors.StorageError) as caught:
            await AsyncEngine(Failing(), clock=clock).events()
        assert isinstance(caught.value.__cause__, Broken)

    asyncio.run(main())


def booked_store(clock: ManualClock) -> DictStore:
    """A Python store holding one confirmed booking of Ana's."""
    store = DictStore()
    engine = make_engine(store, clock)
    hold = engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
    engine.confirm(
        hold.id, customer=Customer("Ana", "+351912345678"), idempotency_key="c"
    )
    return store


def test_sms_sender_in_python_gets_booking_messages(clock: ManualClock) -> None:
    store = booked_store(clock)
    phone = Phone()
    report = Notifier(store, phone, clock=clock).run_once()
    assert report.sent == 1
    assert phone.sent[0]["to"] == "+351912345678"
    assert "Casa Azul" in phone.sent[0]["body"]


def test_a_delivery_record_the_notifier_cannot_read_is_passed_over(
    clock: ManualClock,
) -> None:
    store = booked_store(clock)
    # Due long ago, in a format this Reservo does not know (a newer one's).
    unreadable = "sms/q/000000000000001/00000000000000000001/guest"
    with store._lock:
        store._records[unreadable] = (b'{"v":2}', 1)
        bisect.insort(store._keys, unreadable)
    phone = Phone()
    notifier = Notifier(store, phone, clock=clock)
    report = notifier.run_once()
    assert (report.sent, report.unreadable) == (1, 1)
    assert not report.is_idle()
    again = notifier.run_once()
    assert (again.sent, again.unreadable) == (0, 1)
    assert again.is_idle()  # a host looping until idle stops
    assert "unreadable=1" in repr(again)


def test_a_dedupe_namespace_keeps_stores_sharing_a_provider_apart(
    clock: ManualClock,
) -> None:
    keys: dict[str, str] = {}
    for tenant in ["tenant-a", "tenant-b"]:
        store, phone = booked_store(clock), Phone()
        Notifier(store, phone, clock=clock, dedupe_namespace=tenant).run_once()
        keys[tenant] = phone.sent[0]["dedupe_key"]
    # Both stores number the event alike: only the namespaces tell them apart.
    a, b = (key.removeprefix(f"reservo-sms-{t}-") for t, key in keys.items())
    assert a == b and a.removesuffix("-guest").isdigit()
    with pytest.raises(errors.InvalidInput):
        Notifier(DictStore(), Phone(), dedupe_namespace="tenant a")


def test_owner_and_broker_phones_get_their_alerts(clock: ManualClock) -> None:
    store = DictStore()
    engine = make_engine(store, clock)
    engine.put_property(
        Property(
            "casa-azul",
            "Casa Azul",
            "owner-ana",
            "Europe/Lisbon",
            "EUR",
            owner_phone="+351910000001",
        )
    )
    engine.set_commission_plan(
        "casa-azul",
        CommissionPlan.from_dict(
            {
                "platform_fee": {"percent": "3"},
                "intermediaries": [
                    {
                        "intermediary": {"role": "broker", "id": "agent-rui"},
                        "rate": {"percent": "10"},
                    }
                ],
                "tax_remitter": "owner",
            }
        ),
    )
    hold = engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
    engine.confirm(
        hold.id,
        customer=Customer("Ana", "+351912345678"),
        idempotency_key="c",
        broker="agent-rui",
        broker_phone="+351930000002",
    )
    phone = Phone()
    report = Notifier(store, phone, clock=clock).run_once()
    assert report.sent == 3
    assert sorted(m["to"] for m in phone.sent) == [
        "+351910000001",
        "+351912345678",
        "+351930000002",
    ]
    with pytest.raises(ValueError):
        Property("x", "X", "o", "Europe/Lisbon", "EUR", owner_phone="12345")


def test_async_sms_sender_failures_are_retried_not_raised(clock: ManualClock) -> None:
    class Down:
        async def send(self, message: SmsMessage) -> str:
            raise Broken("provider down")

    store = DictStore()
    engine = make_engine(store, clock)
    hold = engine.hold([stay()], idempotency_key="h", ttl_seconds=60)
    engine.confirm(
        hold.id, customer=Customer("Ana", "+351912345678"), idempotency_key="c"
    )

    async def main() -> None:
        report = await Notifier(store, Down(), clock=clock).run_once_async()
        assert (report.sent, report.retried) == (0, 1)

    asyncio.run(main())


REQUEST: PaymentRequest = {
    "idempotency_key": "pay-1",
    "reference": "bk-1",
    "amount": "120.50",
    "currency": "EUR",
    "payment_method": "tok_visa",
}


class Gateway:
    def __init__(self) -> None:
        self.charged: dict[str, PaymentRequest] = {}

    def capabilities(self) -> dict[str, bool]:
        return {"partial_refunds": True, "separate_capture": False}

    def authorize(self, request: PaymentRequest) -> PaymentOutcome:
        return {"outcome": "declined", "reason": "not supported"}

    def capture(self, request: Any) -> PaymentOutcome:
        return {"outcome": "declined", "reason": "not supported"}

    async def charge(self, request: PaymentRequest) -> PaymentOutcome:
        self.charged.setdefault(request["idempotency_key"], request)
        return {"outcome": "approved", "gateway_id": "ch_" + request["idempotency_key"]}

    def refund(self, request: Any) -> PaymentOutcome:
        raise Broken("gateway timeout")


def test_payment_gateway_in_python_through_the_port() -> None:
    gateway = Gateway()
    port = GatewayPort(gateway)
    assert port.capabilities() == {"partial_refunds": True, "separate_capture": False}
    assert port.charge(REQUEST).wait() == {
        "outcome": "approved",
        "gateway_id": "ch_pay-1",
    }
    assert gateway.charged["pay-1"]["amount"] == "120.50"
    assert port.authorize(REQUEST).wait()["outcome"] == "declined"
    refund = {
        "idempotency_key": "r",
        "payment_id": "p",
        "amount": "1",
        "currency": "EUR",
    }
    with pytest.raises(errors.PortError) as caught:
        port.refund(refund).wait()
    assert isinstance(caught.value.__cause__, Broken)
    # `void` is optional: a gateway without it gets the core's decline.
    void = port.void({"idempotency_key": "v", "authorization_id": "au_9"}).wait()
    assert void["outcome"] == "declined"
    assert "does not void" in void["reason"] and "au_9" in void["reason"]


def test_payment_gateway_awaited_from_asyncio() -> None:
    async def main() -> dict[str, Any]:
        return await GatewayPort(Gateway()).charge(REQUEST)

    assert asyncio.run(main())["outcome"] == "approved"
