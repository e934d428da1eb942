"""The engine, blocking (:class:`Engine`) and awaitable (:class:`AsyncEngine`).

Both are thin: every method prepares one native call and either waits on it
with the GIL released or awaits it on the running loop. They take the same
arguments and return the same frozen value objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Union

from . import _reservo
from ._reservo import (
    Block,
    Booking,
    Customer,
    Event,
    Hold,
    Item,
    ManualClock,
    NightAvailability,
    Party,
    Property,
    Quoted,
    QuoteRequest,
    RatePlan,
    Resource,
    SearchHit,
    SessionAvailability,
)
from .ports import Storage

Store = Union[
    _reservo.MemoryStore, _reservo.SqliteStore, _reservo.PostgresStore, Storage
]
"""A built-in store, or any object implementing :class:`reservo.Storage`."""

Data = Mapping[str, Any]
"""Core values given as data: the core's JSON form as dicts and lists."""


def _native(
    store: Store,
    clock: ManualClock | None,
    max_attempts: int | None,
    max_hold_ttl: timedelta | None,
    max_hold_lifetime: timedelta | None,
) -> _reservo.NativeEngine:
    return _reservo.NativeEngine(
        store,
        clock=clock,
        max_attempts=max_attempts,
        max_hold_ttl=max_hold_ttl,
        max_hold_lifetime=max_hold_lifetime,
    )


class Engine:
    """The booking engine, blocking: each call returns when the work is done.

    Safe to share between threads; the GIL is released while the engine
    works. ``store`` is a built-in store or a host :class:`reservo.Storage`;
    ``clock`` a :class:`ManualClock` for tests (default: the system clock).
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: ManualClock | None = None,
        max_attempts: int | None = None,
        max_hold_ttl: timedelta | None = None,
        max_hold_lifetime: timedelta | None = None,
    ) -> None:
        self._native = _native(
            store, clock, max_attempts, max_hold_ttl, max_hold_lifetime
        )

    # ----------------------------------------------------------- catalog

    def put_property(self, property: Property) -> None:
        """Creates or replaces a property."""
        self._native.put_property(property).wait()

    def put_rate_plan(self, plan: RatePlan) -> None:
        """Creates or replaces a rate plan."""
        self._native.put_rate_plan(plan).wait()

    def put_resource(self, resource: Resource) -> None:
        """Creates or replaces a resource; its property and plan must exist."""
        self._native.put_resource(resource).wait()

    def set_restrictions(self, resource: str, restrictions: Sequence[Data]) -> None:
        """Replaces a resource's restrictions (the core's dated entries)."""
        self._native.set_restrictions(resource, restrictions).wait()

    def put_promo(self, promo: Data) -> None:
        """Creates or replaces a promo code (the core's promo as data)."""
        self._native.put_promo(promo).wait()

    def add_block(self, block: Block) -> None:
        """Blocks capacity; refused with ``Unavailable`` over sold units."""
        self._native.add_block(block).wait()

    def remove_block(self, resource: str, block: str) -> None:
        """Removes a block, freeing its capacity."""
        self._native.remove_block(resource, block).wait()

    def property(self, property: str) -> Property:
        """A property by id."""
        return self._native.property(property).wait()

    def resource(self, resource: str) -> Resource:
        """A resource by id."""
        return self._native.resource(resource).wait()

    def resources(self, property: str | None = None) -> list[Resource]:
        """Every resource, or those of one property, in id order."""
        return self._native.resources(property).wait()

    # ------------------------------------------------------ availability

    def night_availability(
        self, resource: str, start: date, end: date
    ) -> list[NightAvailability]:
        """Units left on each night ``[start, end)`` of a nightly resource."""
        return self._native.night_availability(resource, start, end).wait()

    def session_availability(
        self, resource: str, start: date, end: date
    ) -> list[SessionAvailability]:
        """Seats left in each session of a timed resource on ``[start, end)``."""
        return self._native.session_availability(resource, start, end).wait()

    def search_stays(
        self,
        check_in: date,
        check_out: date,
        *,
        party: Party,
        property: str | None = None,
    ) -> list[SearchHit]:
        """Nightly resources bookable for the stay, with their price."""
        return self._native.search_stays(
            check_in, check_out, party=party, property=property
        ).wait()

    def search_sessions(
        self, start: date, end: date, *, party: Party, property: str | None = None
    ) -> list[SearchHit]:
        """Sessions on ``[start, end)`` with seats for the party, priced."""
        return self._native.search_sessions(
            start, end, party=party, property=property
        ).wait()

    def quote(
        self,
        item: Item,
        *,
        rate_plan: str | None = None,
        promo_code: str | None = None,
    ) -> Quoted:
        """Prices an item that can be booked now. Reserves nothing."""
        return self._native.quote(
            item, rate_plan=rate_plan, promo_code=promo_code
        ).wait()

    # ------------------------------------------------- holds and bookings

    def hold(
        self,
        items: Sequence[Item | QuoteRequest],
        *,
        idempotency_key: str,
        ttl_seconds: int,
    ) -> Hold:
        """Holds every item, or none of them, for ``ttl_seconds``."""
        return self._native.hold(
            items, idempotency_key=idempotency_key, ttl_seconds=ttl_seconds
        ).wait()

    def confirm(
        self,
        hold: str,
        *,
        customer: Customer,
        idempotency_key: str,
        items: Sequence[int] | None = None,
    ) -> Booking:
        """Turns a hold (or the listed item indexes of it) into a booking."""
        return self._native.confirm(
            hold,
            customer=customer,
            idempotency_key=idempotency_key,
            items=None if items is None else list(items),
        ).wait()

    def release(self, hold: str) -> Hold:
        """Gives a hold's inventory back."""
        return self._native.release(hold).wait()

    def extend(self, hold: str, ttl_seconds: int) -> Hold:
        """Moves a hold's expiry to ``ttl_seconds`` from now, within its cap."""
        return self._native.extend(hold, ttl_seconds).wait()

    def expire_due(self, limit: int = 100) -> list[str]:
        """Marks up to ``limit`` overdue holds expired; returns their ids."""
        return self._native.expire_due(limit).wait()

    def get_hold(self, hold: str) -> Hold:
        """A hold by id."""
        return self._native.get_hold(hold).wait()

    def booking(self, booking: str) -> Booking:
        """A booking by id."""
        return self._native.booking(booking).wait()

    def bookings_by_customer(self, phone: str) -> list[Booking]:
        """Every booking of the customer with this E.164 phone, oldest first."""
        return self._native.bookings_by_customer(phone).wait()

    def bookings_for_resource(
        self, resource: str, start: date, end: date
    ) -> list[Booking]:
        """Every booking that takes ``resource`` on a date in ``[start, end)``."""
        return self._native.bookings_for_resource(resource, start, end).wait()

    def events(self, after: int = 0, limit: int = 100) -> list[Event]:
        """Outbox events after sequence ``after`` (a cursor), in order."""
        return self._native.events(after, limit).wait()


class AsyncEngine:
    """The booking engine for asyncio (FastAPI, ...): every method is awaitable.

    The work runs on Reservo's tokio runtime, never on the event loop;
    ``async def`` ports run on the awaiting loop.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: ManualClock | None = None,
        max_attempts: int | None = None,
        max_hold_ttl: timedelta | None = None,
        max_hold_lifetime: timedelta | None = None,
    ) -> None:
        self._native = _native(
            store, clock, max_attempts, max_hold_ttl, max_hold_lifetime
        )

    async def put_property(self, property: Property) -> None:
        """Creates or replaces a property."""
        await self._native.put_property(property)

    async def put_rate_plan(self, plan: RatePlan) -> None:
        """Creates or replaces a rate plan."""
        await self._native.put_rate_plan(plan)

    async def put_resource(self, resource: Resource) -> None:
        """Creates or replaces a resource; its property and plan must exist."""
        await self._native.put_resource(resource)

    async def set_restrictions(
        self, resource: str, restrictions: Sequence[Data]
    ) -> None:
        """Replaces a resource's restrictions (the core's dated entries)."""
        await self._native.set_restrictions(resource, restrictions)

    async def put_promo(self, promo: Data) -> None:
        """Creates or replaces a promo code (the core's promo as data)."""
        await self._native.put_promo(promo)

    async def add_block(self, block: Block) -> None:
        """Blocks capacity; refused with ``Unavailable`` over sold units."""
        await self._native.add_block(block)

    async def remove_block(self, resource: str, block: str) -> None:
        """Removes a block, freeing its capacity."""
        await self._native.remove_block(resource, block)

    async def property(self, property: str) -> Property:
        """A property by id."""
        return await self._native.property(property)

    async def resource(self, resource: str) -> Resource:
        """A resource by id."""
        return await self._native.resource(resource)

    async def resources(self, property: str | None = None) -> list[Resource]:
        """Every resource, or those of one property, in id order."""
        return await self._native.resources(property)

    async def night_availability(
        self, resource: str, start: date, end: date
    ) -> list[NightAvailability]:
        """Units left on each night ``[start, end)`` of a nightly resource."""
        return await self._native.night_availability(resource, start, end)

    async def session_availability(
        self, resource: str, start: date, end: date
    ) -> list[SessionAvailability]:
        """Seats left in each session of a timed resource on ``[start, end)``."""
        return await self._native.session_availability(resource, start, end)

    async def search_stays(
        self,
        check_in: date,
        check_out: date,
        *,
        party: Party,
        property: str | None = None,
    ) -> list[SearchHit]:
        """Nightly resources bookable for the stay, with their price."""
        return await self._native.search_stays(
            check_in, check_out, party=party, property=property
        )

    async def search_sessions(
        self, start: date, end: date, *, party: Party, property: str | None = None
    ) -> list[SearchHit]:
        """Sessions on ``[start, end)`` with seats for the party, priced."""
        return await self._native.search_sessions(
            start, end, party=party, property=property
        )

    async def quote(
        self,
        item: Item,
        *,
        rate_plan: str | None = None,
        promo_code: str | None = None,
    ) -> Quoted:
        """Prices an item that can be booked now. Reserves nothing."""
        return await self._native.quote(
            item, rate_plan=rate_plan, promo_code=promo_code
        )

    async def hold(
        self,
        items: Sequence[Item | QuoteRequest],
        *,
        idempotency_key: str,
        ttl_seconds: int,
    ) -> Hold:
        """Holds every item, or none of them, for ``ttl_seconds``."""
        return await self._native.hold(
            items, idempotency_key=idempotency_key, ttl_seconds=ttl_seconds
        )

    async def confirm(
        self,
        hold: str,
        *,
        customer: Customer,
        idempotency_key: str,
        items: Sequence[int] | None = None,
    ) -> Booking:
        """Turns a hold (or the listed item indexes of it) into a booking."""
        return await self._native.confirm(
            hold,
            customer=customer,
            idempotency_key=idempotency_key,
            items=None if items is None else list(items),
        )

    async def release(self, hold: str) -> Hold:
        """Gives a hold's inventory back."""
        return await self._native.release(hold)

    async def extend(self, hold: str, ttl_seconds: int) -> Hold:
        """Moves a hold's expiry to ``ttl_seconds`` from now, within its cap."""
        return await self._native.extend(hold, ttl_seconds)

    async def expire_due(self, limit: int = 100) -> list[str]:
        """Marks up to ``limit`` overdue holds expired; returns their ids."""
        return await self._native.expire_due(limit)

    async def get_hold(self, hold: str) -> Hold:
        """A hold by id."""
        return await self._native.get_hold(hold)

    async def booking(self, booking: str) -> Booking:
        """A booking by id."""
        return await self._native.booking(booking)

    async def bookings_by_customer(self, phone: str) -> list[Booking]:
        """Every booking of the customer with this E.164 phone, oldest first."""
        return await self._native.bookings_by_customer(phone)

    async def bookings_for_resource(
        self, resource: str, start: date, end: date
    ) -> list[Booking]:
        """Every booking that takes ``resource`` on a date in ``[start, end)``."""
        return await self._native.bookings_for_resource(resource, start, end)

    async def events(self, after: int = 0, limit: int = 100) -> list[Event]:
        """Outbox events after sequence ``after`` (a cursor), in order."""
        return await self._native.events(after, limit)
