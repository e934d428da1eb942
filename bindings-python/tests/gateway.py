"""A payment gateway in Python that behaves like a real PSP, for the tests:
idempotent on every key, captures and refunds tracked per payment, partial
refunds optional. It declines the card ``tok_declined`` (and the captures of
``tok_capture_declined``, whose authorizations it voids), can fail before
doing anything (``fail_next``) or do the work and lose the answer
(``lose_next``), and records every call. ``AsyncTestGateway`` is the same
gateway with ``async def`` methods."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from reservo.ports import (
    CaptureRequest,
    GatewayCapabilities,
    PaymentOutcome,
    PaymentRequest,
    RefundRequest,
    VoidRequest,
)

DECLINED_CARD = "tok_declined"
CAPTURE_DECLINED_CARD = "tok_capture_declined"

Work = Callable[[Decimal], PaymentOutcome]
"""What a gateway call does the first time its key is seen."""


class GatewayTimeout(Exception):
    """What the gateway raises when the outcome of a call is unknown."""


@dataclass(frozen=True)
class Call:
    """One call as the gateway saw it."""

    op: str
    key: str
    amount: Decimal


@dataclass
class TestGateway:
    """The gateway, with plain methods."""

    __test__ = False  # not a pytest test class

    partial_refunds: bool = True
    separate_capture: bool = False
    fail_next: int = 0
    lose_next: int = 0
    calls: list[Call] = field(default_factory=list)
    payments: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    _outcomes: dict[str, PaymentOutcome] = field(default_factory=dict)
    _authorizations: dict[str, Decimal] = field(default_factory=dict)
    _doomed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def captured(self) -> Decimal:
        """Money captured from guests, over every payment."""
        return sum((p[0] for p in self.payments.values()), Decimal(0))

    @property
    def refunded(self) -> Decimal:
        """Money given back to guests."""
        return sum((p[1] for p in self.payments.values()), Decimal(0))

    def capabilities(self) -> GatewayCapabilities:
        return {
            "partial_refunds": self.partial_refunds,
            "separate_capture": self.separate_capture,
        }

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{len(self._outcomes) + 1}"

    def _run(self, op: str, key: str, amount: str, work: Work) -> PaymentOutcome:
        with self._lock:
            self.calls.append(Call(op, key, Decimal(amount)))
            if self.fail_next:
                self.fail_next -= 1
                raise GatewayTimeout(f"{op} {key}: gateway timeout")
            if key not in self._outcomes:
                self._outcomes[key] = work(Decimal(amount))
            if self.lose_next:
                self.lose_next -= 1
                raise GatewayTimeout(f"{op} {key}: connection reset after sending")
            return self._outcomes[key]

    def _capture(self, amount: Decimal) -> PaymentOutcome:
        payment = self._new_id("ch")
        self.payments[payment] = (amount, Decimal(0))
        return {"outcome": "approved", "gateway_id": payment}

    def authorize(self, request: PaymentRequest) -> PaymentOutcome:
        def work(amount: Decimal) -> PaymentOutcome:
            if request["payment_method"] == DECLINED_CARD:
                return {"outcome": "declined", "reason": "card declined"}
            authorization = self._new_id("au")
            self._authorizations[authorization] = amount
            if request["payment_method"] == CAPTURE_DECLINED_CARD:
                self._doomed.add(authorization)
            return {"outcome": "approved", "gateway_id": authorization}

        return self._run(
            "authorize", request["idempotency_key"], request["amount"], work
        )

    def capture(self, request: CaptureRequest) -> PaymentOutcome:
        def work(amount: Decimal) -> PaymentOutcome:
            if request["authorization_id"] in self._doomed:
                return {"outcome": "declined", "reason": "authorization withdrawn"}
            authorized = self._authorizations.pop(request["authorization_id"], None)
            if authorized is None or amount > authorized:
                return {"outcome": "declined", "reason": "no such authorization"}
            return self._capture(amount)

        return self._run("capture", request["idempotency_key"], request["amount"], work)

    def charge(self, request: PaymentRequest) -> PaymentOutcome:
        def work(amount: Decimal) -> PaymentOutcome:
            if request["payment_method"] == DECLINED_CARD:
                return {"outcome": "declined", "reason": "card declined"}
            return self._capture(amount)

        return self._run("charge", request["idempotency_key"], request["amount"], work)

    def refund(self, request: RefundRequest) -> PaymentOutcome:
        def work(amount: Decimal) -> PaymentOutcome:
            payment = self.payments.get(request["payment_id"])
            if payment is None:
                return {"outcome": "declined", "reason": "no such payment"}
            paid, refunded = payment
            if not self.partial_refunds and (amount != paid or refunded):
                return {"outcome": "declined", "reason": "no partial refunds"}
            if amount + refunded > paid:
                return {"outcome": "declined", "reason": "refund exceeds payment"}
            self.payments[request["payment_id"]] = (paid, refunded + amount)
            return {"outcome": "approved", "gateway_id": self._new_id("re")}

        return self._run("refund", request["idempotency_key"], request["amount"], work)

    @property
    def open_authorizations(self) -> int:
        """Authorizations neither captured nor voided."""
        return len(self._authorizations)

    def void(self, request: VoidRequest) -> PaymentOutcome:
        def work(_: Decimal) -> PaymentOutcome:
            if self._authorizations.pop(request["authorization_id"], None) is None:
                return {"outcome": "declined", "reason": "no such authorization"}
            return {"outcome": "approved", "gateway_id": self._new_id("vo")}

        return self._run("void", request["idempotency_key"], "0", work)


class AsyncTestGateway:
    """The same gateway through ``async def`` methods, as an async PSP client
    has; it records the event loop each call ran on."""

    __test__ = False

    def __init__(self, inner: TestGateway | None = None) -> None:
        self.inner = inner or TestGateway()
        self.loops: list[asyncio.AbstractEventLoop] = []

    def capabilities(self) -> GatewayCapabilities:
        return self.inner.capabilities()

    async def authorize(self, request: PaymentRequest) -> PaymentOutcome:
        self.loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return self.inner.authorize(request)

    async def capture(self, request: CaptureRequest) -> PaymentOutcome:
        self.loops.append(asyncio.get_running_loop())
        return self.inner.capture(request)

    async def charge(self, request: PaymentRequest) -> PaymentOutcome:
        self.loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return self.inner.charge(request)

    async def refund(self, request: RefundRequest) -> PaymentOutcome:
        self.loops.append(asyncio.get_running_loop())
        return self.inner.refund(request)
