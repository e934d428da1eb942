"""A booking service over Reservo's ``AsyncEngine`` on a SQLite file.

Routes are one engine call each: availability, quote, hold, confirm, pay
(in full or a deposit, then the balance) through a payment gateway written
in Python (``gateway.py``), refund quote, cancel with refund, tickets and
check-in at a gate. Request and response bodies are pydantic models
(amounts as decimal strings, instants as ISO 8601), and every
``ReservoError`` becomes a JSON error ``{"code", "message"}`` with the HTTP
status of its code (``STATUS``).
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Literal

import reservo
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from reservo import (
    AsyncEngine,
    CancellationPolicy,
    Customer,
    IssuerKey,
    IssuerKeySet,
    Item,
    ManualClock,
    Party,
    PaymentGateway,
    errors,
)

from .gateway import DemoGateway

STATUS: dict[type[reservo.ReservoError], int] = {
    errors.NotFound: 404,
    errors.Unavailable: 409,
    errors.HoldExpired: 409,
    errors.HoldAlreadyResolved: 409,
    errors.IdempotencyConflict: 409,
    errors.IllegalTransition: 409,
    errors.RefundExceedsPaid: 409,
    errors.PriceChanged: 409,
    errors.TokenAlreadyUsed: 409,
    errors.PaymentDeclined: 402,
    errors.PaymentOutcomeUnknown: 502,
    errors.PortError: 502,
    errors.TokenMalformed: 422,
    errors.TokenUnknownKey: 403,
    errors.TokenBadSignature: 403,
    errors.TokenExpired: 403,
    errors.TokenNotYetValid: 403,
    errors.TokenRevoked: 403,
    errors.TokenWrongGate: 403,
    errors.EntryRefused: 403,
    errors.RestrictionViolated: 422,
    errors.PartyTooLarge: 422,
    errors.InThePast: 422,
    errors.NoSuchSlot: 422,
    errors.PromoNotApplicable: 422,
}
"""HTTP status per error class (first match by ``isinstance``); bad input
(``ValueError``) is 422, anything else 500. A declined card is 402; a
gateway whose answer was lost is 502 (retry with the same idempotency key:
nothing is charged twice); a ticket the gate refuses is 403, or 409 once
its entries are used."""


def status_of(error: reservo.ReservoError) -> int:
    """The HTTP status for an error."""
    for cls, status in STATUS.items():
        if isinstance(error, cls):
            return status
    return 422 if isinstance(error, ValueError) else 500


class MoneyOut(BaseModel):
    """An exact amount: a decimal string and an ISO 4217 code."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, money: reservo.Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency)


class PartyIn(BaseModel):
    """Who is coming."""

    adults: int = Field(ge=0)
    children_ages: list[int] = []

    def party(self) -> Party:
        return Party(self.adults, self.children_ages)


class StayIn(BaseModel):
    """One unit of a nightly resource for the nights ``[check_in, check_out)``."""

    resource: str
    check_in: date
    check_out: date
    party: PartyIn
    promo_code: str | None = None

    def item(self) -> Item:
        return Item.stay(
            self.resource,
            check_in=self.check_in,
            check_out=self.check_out,
            party=self.party.party(),
        )


class NightOut(BaseModel):
    """Units left on one night."""

    date: date
    available: int
    held: int
    booked: int
    blocked: int


class QuoteLineOut(BaseModel):
    """One priced line and the rule behind it."""

    rule: str
    description: str
    quantity: int
    amount: MoneyOut


class QuoteOut(BaseModel):
    """A quote and the units left for it."""

    lines: list[QuoteLineOut]
    total: MoneyOut
    available: int


class CustomerIn(BaseModel):
    """Who the booking is for (phone in E.164 form)."""

    name: str
    phone: str
    email: str | None = None

    def customer(self) -> Customer:
        return Customer(self.name, self.phone, self.email)


class HoldIn(BaseModel):
    """What to hold, for how long, under the client's idempotency key; the
    customer checking out, if known, is kept on the hold and booked for
    when the confirmation names none."""

    items: list[StayIn] = Field(min_length=1)
    ttl_seconds: int = Field(gt=0)
    idempotency_key: str
    customer: CustomerIn | None = None


class HoldOut(BaseModel):
    """A hold: its id, total, expiry and state."""

    id: str
    total: MoneyOut
    expires_at: datetime
    state: str


class ConfirmIn(BaseModel):
    """Confirm a hold for a customer (the hold's if none), under the
    client's idempotency key."""

    customer: CustomerIn | None = None
    idempotency_key: str


class RefundOut(BaseModel):
    """One refund of one payment."""

    amount: MoneyOut
    state: str = Field(description="pending, issued or declined")


class BookingOut(BaseModel):
    """A booking, with what was paid through the gateway and refunded."""

    id: str
    hold: str
    status: str
    total: MoneyOut
    paid: MoneyOut
    customer_name: str
    resources: list[str]
    refunds: list[RefundOut]


def _customer(given: CustomerIn | None) -> Customer | None:
    return None if given is None else given.customer()


def booking_out(booking: reservo.Booking) -> BookingOut:
    return BookingOut(
        id=booking.id,
        hold=booking.hold,
        status=booking.status,
        total=MoneyOut.of(booking.total),
        paid=MoneyOut.of(booking.paid),
        customer_name=booking.customer.name,
        resources=[item.resource for item in booking.items],
        refunds=[
            RefundOut(amount=MoneyOut.of(r.amount), state=r.state)
            for r in booking.money.refunds
        ],
    )


class PayIn(BaseModel):
    """Pay for a hold (all of it, or a deposit) and confirm it for a
    customer (the hold's if none)."""

    customer: CustomerIn | None = None
    payment_method: str = Field(min_length=1)
    idempotency_key: str
    deposit: Decimal | None = Field(default=None, gt=0)


class PayBalanceIn(BaseModel):
    """Pay what is left of a booking confirmed with a deposit."""

    payment_method: str = Field(min_length=1)
    idempotency_key: str


class ReleaseIn(BaseModel):
    """Release a hold under the client's idempotency key."""

    idempotency_key: str


class CancelIn(BaseModel):
    """Cancel a booking under the client's idempotency key."""

    idempotency_key: str
    reason: str | None = None


class RefundQuoteOut(BaseModel):
    """What comes back if the booking is cancelled at ``at``."""

    at: datetime
    refund: MoneyOut
    kept: MoneyOut
    reason: str


class TicketOut(BaseModel):
    """An entry ticket: ``text`` is what the QR code holds."""

    token_id: str
    text: str
    resource: str
    valid_from: datetime
    valid_until: datetime


class CheckInIn(BaseModel):
    """A ticket scanned at a gate; resend the same ``scan_id`` to retry."""

    token: str
    gate: str
    zone: str | None = None
    direction: Literal["in", "out"] = "in"
    scan_id: str | None = None


class CheckInOut(BaseModel):
    """A scan the gate let through."""

    passage: str
    booking: str
    status: str
    scan_id: str
    at: datetime


def hold_out(hold: reservo.Hold) -> HoldOut:
    return HoldOut(
        id=hold.id,
        total=MoneyOut.of(hold.total),
        expires_at=hold.expires_at,
        state=hold.state,
    )


def create_app(
    store: reservo.Store,
    *,
    gateway: PaymentGateway,
    ticket_keys: IssuerKeySet,
    clock: ManualClock | None = None,
) -> FastAPI:
    """The service over ``store``, taking payments through ``gateway`` and
    signing tickets with ``ticket_keys``; ``clock`` fixes time for tests."""
    engine = AsyncEngine(
        store, clock=clock, payment_gateway=gateway, tickets=ticket_keys
    )
    app = FastAPI(title="Reservo booking service", version=reservo.__version__)

    def now() -> datetime:
        return clock.now() if clock else datetime.now(timezone.utc)

    @app.exception_handler(reservo.ReservoError)
    async def reservo_error(_: Request, error: reservo.ReservoError) -> JSONResponse:
        return JSONResponse(
            status_code=status_of(error),
            content={"code": error.code, "message": str(error)},
        )

    @app.get("/resources/{resource}/availability")
    async def availability(resource: str, start: date, end: date) -> list[NightOut]:
        nights = await engine.night_availability(resource, start, end)
        return [
            NightOut(
                date=n.date,
                available=n.available,
                held=n.held,
                booked=n.booked,
                blocked=n.blocked,
            )
            for n in nights
        ]

    @app.post("/quotes")
    async def quote(stay: StayIn) -> QuoteOut:
        quoted = await engine.quote(stay.item(), promo_code=stay.promo_code)
        return QuoteOut(
            lines=[
                QuoteLineOut(
                    rule=f"{line.rule_kind}:{line.rule_id}",
                    description=line.description,
                    quantity=line.quantity,
                    amount=MoneyOut.of(line.amount),
                )
                for line in quoted.quote.lines
            ],
            total=MoneyOut.of(quoted.quote.total),
            available=quoted.available,
        )

    @app.post("/holds", status_code=201)
    async def hold(body: HoldIn) -> HoldOut:
        requests = [
            reservo.QuoteRequest(stay.item(), promo_code=stay.promo_code)
            for stay in body.items
        ]
        created = await engine.hold(
            requests,
            idempotency_key=body.idempotency_key,
            ttl_seconds=body.ttl_seconds,
            customer=_customer(body.customer),
        )
        return hold_out(created)

    @app.post("/holds/{hold}/release")
    async def release(hold: str, body: ReleaseIn) -> HoldOut:
        released = await engine.release(hold, idempotency_key=body.idempotency_key)
        return hold_out(released)

    @app.post("/holds/{hold}/confirm", status_code=201)
    async def confirm(hold: str, body: ConfirmIn) -> BookingOut:
        booking = await engine.confirm(
            hold,
            customer=_customer(body.customer),
            idempotency_key=body.idempotency_key,
        )
        return booking_out(booking)

    @app.get("/bookings/{booking}")
    async def get_booking(booking: str) -> BookingOut:
        return booking_out(await engine.booking(booking))

    @app.post("/holds/{hold}/pay", status_code=201)
    async def pay(hold: str, body: PayIn) -> BookingOut:
        currency = (await engine.get_hold(hold)).total.currency
        booking = await engine.pay_and_confirm(
            hold,
            customer=_customer(body.customer),
            payment_method=body.payment_method,
            idempotency_key=body.idempotency_key,
            deposit=None
            if body.deposit is None
            else reservo.Money(body.deposit, currency),
        )
        return booking_out(booking)

    @app.post("/bookings/{booking}/balance")
    async def pay_balance(booking: str, body: PayBalanceIn) -> BookingOut:
        paid = await engine.pay_balance(
            booking,
            payment_method=body.payment_method,
            idempotency_key=body.idempotency_key,
        )
        return booking_out(paid)

    @app.get("/bookings/{booking}/refund-quote")
    async def refund_quote(booking: str, at: datetime | None = None) -> RefundQuoteOut:
        when = at or now()
        quote = await engine.refund_quote(booking, when)
        return RefundQuoteOut(
            at=when,
            refund=MoneyOut.of(quote.refund),
            kept=MoneyOut.of(quote.kept),
            reason=quote.reason,
        )

    @app.post("/bookings/{booking}/cancel")
    async def cancel(booking: str, body: CancelIn) -> BookingOut:
        cancelled = await engine.cancel(
            booking, idempotency_key=body.idempotency_key, reason=body.reason
        )
        return booking_out(cancelled)

    @app.get("/bookings/{booking}/tickets")
    async def tickets(booking: str) -> list[TicketOut]:
        return [
            TicketOut(
                token_id=t.token_id,
                text=t.text,
                resource=t.claims.resource,
                valid_from=t.claims.not_before,
                valid_until=t.claims.expires,
            )
            for t in await engine.tickets(booking)
        ]

    @app.post("/check-ins")
    async def check_in(body: CheckInIn) -> CheckInOut:
        outcome = await engine.check_in(
            body.token,
            gate=body.gate,
            zone=body.zone,
            direction=body.direction,
            scan_id=body.scan_id,
        )
        return CheckInOut(
            passage=outcome.passage,
            booking=outcome.booking,
            status=outcome.status,
            scan_id=outcome.scan_id,
            at=outcome.at,
        )

    return app


def seed_demo_catalog(store: reservo.Store) -> None:
    """A villa in Lisbon at 180 EUR a night (220 on Fridays and Saturdays)
    with a cleaning fee, free to cancel until 14 days before check-in and
    half refunded after: enough to try every route."""
    engine = reservo.Engine(store)
    engine.put_property(
        reservo.Property("casa-azul", "Casa Azul", "owner-ana", "Europe/Lisbon", "EUR")
    )
    engine.put_rate_plan(reservo.RatePlan.from_dict(DEMO_PLAN))
    engine.put_resource(
        reservo.Resource.nightly(
            "villa-azul",
            property="casa-azul",
            name="Villa Azul",
            rate_plan="villa-flex",
            max_occupancy=6,
        )
    )
    engine.set_cancellation_policy("villa-flex", DEMO_POLICY)


DEMO_POLICY = CancellationPolicy.from_dict(
    {
        "tiers": [
            {
                "threshold": {"kind": "days_before", "days": 14, "at": "start_time"},
                "penalty": {"kind": "none"},
            }
        ],
        "late_penalty": {"kind": "percent", "percent": "50"},
    }
)

DEMO_PLAN = {
    "id": "villa-flex",
    "name": "Flexible",
    "unit": "night",
    "base_price": {"amount": "180.00", "currency": "EUR"},
    "weekday_rates": [
        {
            "id": "weekend",
            "name": "Weekend",
            "weekdays": ["Fri", "Sat"],
            "price": {"amount": "220.00", "currency": "EUR"},
        }
    ],
    "fees": [
        {
            "id": "cleaning",
            "name": "Cleaning",
            "basis": "per_booking",
            "taxable": False,
            "amount": {"amount": "75.00", "currency": "EUR"},
        }
    ],
}


def default_app() -> FastAPI:
    """The service on the SQLite file ``$RESERVO_DB`` with the demo catalog,
    the demo gateway and a ticket key made at start-up (a real service loads
    its key from a secret store: tickets signed by a lost key stop
    verifying). Run with ``uvicorn fastapi_app.app:default_app --factory``."""
    store = reservo.SqliteStore(os.environ.get("RESERVO_DB", "reservo.sqlite"))
    seed_demo_catalog(store)
    keys = IssuerKeySet(IssuerKey.generate("demo-1"))
    return create_app(store, gateway=DemoGateway(), ticket_keys=keys)
