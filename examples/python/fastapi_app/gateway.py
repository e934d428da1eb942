"""A payment gateway for the example service: an in-memory stand-in for a
PSP client, written against ``reservo.PaymentGateway`` with ``async def``
methods as a real async client would be.

It is idempotent on every key (a retry gets the first answer), declines
the card ``tok_declined``, keeps captured payments and their refunds, and
can be switched ``down`` to raise as a timed-out PSP does (the engine then
reports ``PAYMENT_OUTCOME_UNKNOWN`` and reconciles later with the same
keys). Swap it for your PSP's client; the engine needs nothing else.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from reservo.ports import (
    CaptureRequest,
    GatewayCapabilities,
    PaymentOutcome,
    PaymentRequest,
    RefundRequest,
)

DECLINED_CARD = "tok_declined"


class GatewayUnavailable(Exception):
    """The PSP did not answer: the outcome of the call is unknown."""


class DemoGateway:
    """Charges in one step and refunds partially."""

    def __init__(self) -> None:
        self.down = False
        self.payments: dict[str, tuple[Decimal, Decimal]] = {}
        self._answers: dict[str, PaymentOutcome] = {}
        self._lock = threading.Lock()

    @property
    def captured(self) -> Decimal:
        """Money taken from guests."""
        return sum((paid for paid, _ in self.payments.values()), Decimal(0))

    @property
    def refunded(self) -> Decimal:
        """Money given back."""
        return sum((back for _, back in self.payments.values()), Decimal(0))

    def capabilities(self) -> GatewayCapabilities:
        """One-step charges, partial refunds."""
        return {"partial_refunds": True, "separate_capture": False}

    async def authorize(self, request: PaymentRequest) -> PaymentOutcome:
        """Not used: this gateway charges in one step."""
        return {"outcome": "declined", "reason": "authorize without capture"}

    async def capture(self, request: CaptureRequest) -> PaymentOutcome:
        """Not used: this gateway charges in one step."""
        return {"outcome": "declined", "reason": "no such authorization"}

    async def charge(self, request: PaymentRequest) -> PaymentOutcome:
        """Takes ``amount`` from the payment method, once per key."""
        with self._lock:
            self._check_up()
            key = request["idempotency_key"]
            if key not in self._answers:
                if request["payment_method"] == DECLINED_CARD:
                    self._answers[key] = {
                        "outcome": "declined",
                        "reason": "card declined",
                    }
                else:
                    payment = f"ch_{len(self.payments) + 1}"
                    self.payments[payment] = (Decimal(request["amount"]), Decimal(0))
                    self._answers[key] = {"outcome": "approved", "gateway_id": payment}
            return self._answers[key]

    async def refund(self, request: RefundRequest) -> PaymentOutcome:
        """Gives ``amount`` of a payment back, once per key."""
        with self._lock:
            self._check_up()
            key = request["idempotency_key"]
            if key not in self._answers:
                self._answers[key] = self._refund(
                    request["payment_id"], Decimal(request["amount"])
                )
            return self._answers[key]

    def _refund(self, payment: str, amount: Decimal) -> PaymentOutcome:
        paid, back = self.payments.get(payment, (Decimal(0), Decimal(0)))
        if amount + back > paid:
            return {"outcome": "declined", "reason": "refund exceeds the payment"}
        self.payments[payment] = (paid, back + amount)
        return {"outcome": "approved", "gateway_id": f"re_{payment}_{back + amount}"}

    def _check_up(self) -> None:
        if self.down:
            raise GatewayUnavailable("the PSP timed out")
