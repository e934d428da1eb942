"""A booking service over Reservo's ``AsyncEngine`` on a SQLite file.

Routes are one engine call each; request and response bodies are pydantic
models (amounts as decimal strings, instants as ISO 8601), and every
``ReservoError`` becomes a JSON error ``{"code", "message"}`` with the HTTP
status of its code (``STATUS``). Payments, cancellation and check-in slot in
as more routes of the same shape once the engine has them.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal

import reservo
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from reservo import AsyncEngine, Customer, Item, ManualClock, Party, errors

STATUS: dict[type[reservo.ReservoError], int] = {
    errors.NotFound: 404,
    errors.Unavailable: 409,
    errors.HoldExpired: 409,
    errors.HoldAlreadyResolved: 409,
    errors.IdempotencyConflict: 409,
    errors.RestrictionViolated: 422,
    errors.PartyTooLarge: 422,
    errors.InThePast: 422,
    errors.NoSuchSlot: 422,
    errors.PromoNotApplicable: 422,
}
"""HTTP status per error class (first match by ``isinstance``); bad input
(``ValueError``) is 422, anything else 500."""


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


class HoldIn(BaseModel):
    """What to hold, for how long, under the client's idempotency key."""

    items: list[StayIn] = Field(min_length=1)
    ttl_seconds: int = Field(gt=0)
    idempotency_key: str


class HoldOut(BaseModel):
    """A hold: its id, total, expiry and state."""

    id: str
    total: MoneyOut
    expires_at: datetime
    state: str


class CustomerIn(BaseModel):
    """Who the booking is for (phone in E.164 form)."""

    name: str
    phone: str
    email: str | None = None


class ConfirmIn(BaseModel):
    """Confirm a hold for a customer, under the client's idempotency key."""

    customer: CustomerIn
    idempotency_key: str


class BookingOut(BaseModel):
    """A booking."""

    id: str
    hold: str
    status: str
    total: MoneyOut
    customer_name: str
    resources: list[str]


def booking_out(booking: reservo.Booking) -> BookingOut:
    return BookingOut(
        id=booking.id,
        hold=booking.hold,
        status=booking.status,
        total=MoneyOut.of(booking.total),
        customer_name=booking.customer.name,
        resources=[item.resource for item in booking.items],
    )


def hold_out(hold: reservo.Hold) -> HoldOut:
    return HoldOut(
        id=hold.id,
        total=MoneyOut.of(hold.total),
        expires_at=hold.expires_at,
        state=hold.state,
    )


def create_app(store: reservo.Store, *, clock: ManualClock | None = None) -> FastAPI:
    """The service over ``store``; ``clock`` fixes time for tests."""
    engine = AsyncEngine(store, clock=clock)
    app = FastAPI(title="Reservo booking service", version=reservo.__version__)

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
        )
        return hold_out(created)

    @app.delete("/holds/{hold}")
    async def release(hold: str) -> HoldOut:
        return hold_out(await engine.release(hold))

    @app.post("/holds/{hold}/confirm", status_code=201)
    async def confirm(hold: str, body: ConfirmIn) -> BookingOut:
        customer = Customer(
            body.customer.name, body.customer.phone, body.customer.email
        )
        booking = await engine.confirm(
            hold, customer=customer, idempotency_key=body.idempotency_key
        )
        return booking_out(booking)

    @app.get("/bookings/{booking}")
    async def get_booking(booking: str) -> BookingOut:
        return booking_out(await engine.booking(booking))

    return app


def seed_demo_catalog(store: reservo.Store) -> None:
    """A villa in Lisbon at 180 EUR a night (220 on Fridays and Saturdays)
    with a cleaning fee: enough to try every route."""
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
    """The service on the SQLite file ``$RESERVO_DB`` with the demo catalog
    (``uvicorn fastapi_app.app:default_app --factory``)."""
    store = reservo.SqliteStore(os.environ.get("RESERVO_DB", "reservo.sqlite"))
    seed_demo_catalog(store)
    return create_app(store)
