"""The engine, blocking (:class:`Engine`); its awaitable twin is
:class:`reservo.AsyncEngine` (``async_engine.py``).

Both are thin: every method prepares one native call and either waits on it
with the GIL released or awaits it on the running loop. They take the same
arguments and return the same frozen value objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, Union

from . import _reservo
from ._reservo import (
    Block,
    Booking,
    CancellationPolicy,
    CheckInOutcome,
    CommissionPlan,
    Customer,
    Event,
    Hold,
    IssuedTicket,
    IssuerKeySet,
    Item,
    ManualClock,
    ModificationQuote,
    Money,
    NightAvailability,
    OwnerStatement,
    Party,
    PaymentAttempt,
    Property,
    PublicKeySet,
    Quoted,
    QuoteRequest,
    RatePlan,
    ReconcileReport,
    RefundQuote,
    Resource,
    ScanLog,
    ScanMergeReport,
    SearchHit,
    SessionAvailability,
    TicketSettings,
    VenueRules,
)
from .ports import PaymentGateway, Storage

Store = Union[
    _reservo.MemoryStore, _reservo.SqliteStore, _reservo.PostgresStore, Storage
]
"""A built-in store, or any object implementing :class:`reservo.Storage`."""

Data = Mapping[str, Any]
"""Core values given as data: the core's JSON form as dicts and lists."""

Scope = Mapping[str, Sequence[str]]
"""Where tickets admit: ``{"gates": [...], "zones": [...]}`` (empty: all)."""

Direction = Literal["in", "out"]
"""Which way a person passes a gate."""


def _metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    """Any mapping as the ``dict`` the native module takes."""
    return None if metadata is None else dict(metadata)


class _EngineBase:
    """What :class:`Engine` and :class:`reservo.AsyncEngine` share: how they
    are built, and the calls that do no I/O."""

    def __init__(
        self,
        store: Store,
        *,
        clock: ManualClock | None = None,
        payment_gateway: PaymentGateway | None = None,
        tickets: IssuerKeySet | None = None,
        ticket_settings: TicketSettings | None = None,
        change_fee: Money | Sequence[Money] | None = None,
        change_fee_percent: Decimal | None = None,
        max_attempts: int | None = None,
        max_hold_ttl: timedelta | None = None,
        max_hold_lifetime: timedelta | None = None,
        durable_holds: bool = False,
    ) -> None:
        """``store``: a built-in store or a host :class:`reservo.Storage`.
        ``clock``: a :class:`ManualClock` for tests (default: the system
        clock). ``payment_gateway``: the host's
        :class:`reservo.PaymentGateway` (plain or ``async def`` methods);
        without one, payment commands raise ``PaymentUnsupported``.
        ``tickets``: the keys that sign entry tickets at confirmation (a
        copy is taken: rotate by building a new engine), with
        ``ticket_settings``. ``change_fee`` (flat; a Money per currency sold
        in) and ``change_fee_percent`` (of the new total) price modifications.
        ``durable_holds``: make each new hold durable before ``hold``
        returns; by default a store may acknowledge it first (a power cut
        can then lose the hold, like an early expiry; see ADR 007). Set it
        when you charge the guest outside the engine between ``hold`` and
        ``confirm``.
        """
        self._native = _reservo.NativeEngine(
            store,
            clock=clock,
            payment_gateway=payment_gateway,
            tickets=tickets,
            ticket_settings=ticket_settings,
            change_fee=change_fee,
            change_fee_percent=change_fee_percent,
            max_attempts=max_attempts,
            max_hold_ttl=max_hold_ttl,
            max_hold_lifetime=max_hold_lifetime,
            durable_holds=durable_holds,
        )

    def ticket_public_keys(self) -> PublicKeySet:
        """The ticket issuer's public keys, for offline scanners' ``Verifier``.

        Raises ``InvalidInput`` for an engine built without ``tickets``."""
        return self._native.ticket_public_keys()


class Engine(_EngineBase):
    """The booking engine, blocking: each call returns when the work is done.

    Safe to share between threads; the GIL is released while the engine
    works. ``async def`` ports run on a background loop of the package.
    """

    # ----------------------------------------------------------- catalog

    def put_property(self, property: Property) -> None:
        """Creates or replaces a property."""
        self._native.put_property(property).wait()

    def put_rate_plan(self, plan: RatePlan) -> None:
        """Creates or replaces a rate plan."""
        self._native.put_rate_plan(plan).wait()

    def put_resource(self, resource: Resource) -> None:
        """Creates or replaces a resource; its property and plan must exist.
        Bookings are kept even where capacity is cut below them."""
        self._native.put_resource(resource).wait()

    def import_catalog(
        self,
        *,
        properties: Sequence[Property] = (),
        rate_plans: Sequence[RatePlan] = (),
        resources: Sequence[Resource] = (),
    ) -> None:
        """Creates or replaces all of them in one commit, checked as the
        ``put_*`` calls check them: all or nothing. Use it to load a large
        catalog (it reads the catalog once; a ``put_*`` per record reads it
        once per record). Resources may name properties and plans of the
        import or of the catalog."""
        self._native.import_catalog(
            list(properties), list(rate_plans), list(resources)
        ).wait()

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
        customer: Customer | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Hold:
        """Holds every item, or none of them, for ``ttl_seconds``.
        ``customer``, if the host knows who is checking out, and
        ``metadata`` (up to 50 ``str`` to ``str`` entries: a cart id) are
        kept on the hold and in its ``hold.*`` events; the booking confirmed
        from it starts with this metadata, the confirmation's on top."""
        return self._native.hold(
            items,
            idempotency_key=idempotency_key,
            ttl_seconds=ttl_seconds,
            customer=customer,
            metadata=_metadata(metadata),
        ).wait()

    def confirm(
        self,
        hold: str,
        *,
        customer: Customer | None = None,
        idempotency_key: str,
        items: Sequence[int] | None = None,
        channel: str | None = None,
        broker: str | None = None,
        broker_phone: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Booking:
        """Turns a hold (or the listed item indexes of it) into a booking
        for ``customer``; without one, for the customer the hold was made
        with (``InvalidInput`` if it has none). ``channel`` and ``broker``
        name who sold it (their terms must be in
        the property's commission plan); direct if absent. ``broker_phone``
        (E.164) lets the broker get booking alerts by SMS. ``metadata``
        (up to 50 ``str`` to ``str`` entries) is the host's own data, kept
        on the booking and in its events: see :attr:`Booking.metadata`."""
        return self._native.confirm(
            hold,
            customer=customer,
            idempotency_key=idempotency_key,
            items=None if items is None else list(items),
            channel=channel,
            broker=broker,
            broker_phone=broker_phone,
            metadata=_metadata(metadata),
        ).wait()

    def release(self, hold: str, *, idempotency_key: str) -> Hold:
        """Gives a hold's inventory back. A retry with the same key answers
        with the released hold instead of :class:`HoldAlreadyResolved`."""
        return self._native.release(hold, idempotency_key=idempotency_key).wait()

    def update_hold(
        self,
        hold: str,
        *,
        idempotency_key: str,
        customer: Customer | None = None,
        remove_customer: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> Hold:
        """Names an active hold's customer (``remove_customer`` takes it off)
        or replaces its metadata (``{}`` clears it), or both: a confirmation
        without a customer books for the hold's. Appends ``hold.updated``
        unless nothing changed; inventory, expiry and price stay. Raises
        ``InvalidInput`` (nothing to change, or bad), ``HoldExpired``, ..."""
        return self._native.update_hold(
            hold,
            idempotency_key=idempotency_key,
            customer=customer,
            remove_customer=remove_customer,
            metadata=_metadata(metadata),
        ).wait()

    def extend(self, hold: str, ttl_seconds: int, *, idempotency_key: str) -> Hold:
        """Moves a hold's expiry to ``ttl_seconds`` from now, within its cap.
        A retry with the same key answers with the hold and does not move
        the expiry again."""
        return self._native.extend(
            hold, ttl_seconds, idempotency_key=idempotency_key
        ).wait()

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

    # ------------------------------------------------------------ payments

    def pay_and_confirm(
        self,
        hold: str,
        *,
        customer: Customer | None = None,
        payment_method: str,
        idempotency_key: str,
        deposit: Money | None = None,
        channel: str | None = None,
        broker: str | None = None,
        broker_phone: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Booking:
        """Charges the hold's total (or a ``deposit``) through the payment
        gateway and, once approved, confirms the hold as a booking carrying
        the payment: ``confirmed`` when paid in full, ``pending_payment``
        after a deposit. ``customer`` as in :meth:`confirm`: a hold with no
        customer and a call without one raise ``InvalidInput`` before
        anything is charged. ``channel`` and ``broker`` name who sold it;
        ``broker_phone`` (E.164) gets the broker's SMS alerts; ``metadata``
        as in :meth:`confirm` (kept even when reconciliation confirms).

        A retry under the same key never charges twice. Raises
        ``PaymentDeclined`` (no booking; the hold stays active for another
        card), ``PaymentOutcomeUnknown`` (the gateway's exception as
        ``__cause__``; retry or :meth:`reconcile_payments`),
        ``PaymentUnsupported`` (no gateway), ``HoldExpired``, ...
        """
        return self._native.pay_and_confirm(
            hold,
            customer=customer,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            deposit=deposit,
            channel=channel,
            broker=broker,
            broker_phone=broker_phone,
            metadata=_metadata(metadata),
        ).wait()

    def pay_balance(
        self, booking: str, *, payment_method: str, idempotency_key: str
    ) -> Booking:
        """Charges the balance of a ``pending_payment`` booking and confirms it."""
        return self._native.pay_balance(
            booking, payment_method=payment_method, idempotency_key=idempotency_key
        ).wait()

    def reconcile_payments(self) -> ReconcileReport:
        """Asks the gateway again, with the same keys, about every charge and
        refund whose outcome is unknown, and applies the answers."""
        return self._native.reconcile_payments().wait()

    def payment_attempt(self, idempotency_key: str) -> PaymentAttempt:
        """The charge made under a payment command's idempotency key."""
        return self._native.payment_attempt(idempotency_key).wait()

    # ------------------------------------------ cancellation and changes

    def cancel(
        self, booking: str, *, idempotency_key: str, reason: str | None = None
    ) -> Booking:
        """Cancels a booking now: its snapshotted policy decides the refund,
        spread over its payments newest first; inventory is released,
        commissions clawed back, tickets revoked, and ``reason`` goes into
        the ``booking.cancelled`` event. A refund whose outcome is unknown
        stays ``pending`` on the booking for :meth:`reconcile_payments`."""
        return self._native.cancel(
            booking, idempotency_key=idempotency_key, reason=reason
        ).wait()

    def mark_no_show(self, booking: str, *, idempotency_key: str) -> Booking:
        """Records that the guest of a ``confirmed`` booking never came: the
        policy's late penalty applies, the rest is refunded."""
        return self._native.mark_no_show(
            booking, idempotency_key=idempotency_key
        ).wait()

    def check_in_at_desk(self, booking: str, *, idempotency_key: str) -> Booking:
        """Checks the guest of a ``confirmed`` booking in at a desk, without
        a ticket, from the booking's first day on (in the property's time
        zone)."""
        return self._native.check_in_at_desk(
            booking, idempotency_key=idempotency_key
        ).wait()

    def complete_booking(self, booking: str, *, idempotency_key: str) -> Booking:
        """Completes a ``checked_in`` booking: the guest has left. Its nights
        or seats go back to inventory (an early departure frees the rest of
        the stay) and its tickets are revoked; no money moves."""
        return self._native.complete_booking(
            booking, idempotency_key=idempotency_key
        ).wait()

    def set_booking_metadata(
        self, booking: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> Booking:
        """Replaces a booking's metadata, the host's own entries (order id,
        invoice, a note for the desk), in any status; ``{}`` clears it. Up
        to 50 entries: keys of 1-40 ASCII letters, digits, ``_`` or ``-``
        (usable in SMS templates as ``{metadata.order_id}``), values of up
        to 500 characters. Appends ``booking.metadata_changed``; metadata
        equal to the booking's changes nothing. Raises :class:`InvalidInput`
        for bad entries (nothing changed), ``NotFound``,
        ``IdempotencyConflict``."""
        return self._native.set_booking_metadata(
            booking, _metadata(metadata), idempotency_key=idempotency_key
        ).wait()

    def refund_quote(self, booking: str, at: datetime) -> RefundQuote:
        """What comes back if ``booking`` is cancelled at ``at`` (tz-aware),
        out of what was paid through the engine. Changes nothing."""
        return self._native.refund_quote(booking, at).wait()

    def quote_modification(
        self, booking: str, items: Sequence[Item | QuoteRequest]
    ) -> ModificationQuote:
        """Prices replacing a booking's items with ``items``: the new total,
        change fee and what would be charged or refunded. Changes nothing."""
        return self._native.quote_modification(booking, items).wait()

    def modify(
        self,
        booking: str,
        items: Sequence[Item | QuoteRequest],
        *,
        idempotency_key: str,
        payment_method: str | None = None,
        expected_total: Money | None = None,
    ) -> Booking:
        """Replaces a booking's items in one commit; if ``money.through_gateway``,
        charges the difference (``payment_method``) or refunds it. Pass the
        ``new_total`` of :meth:`quote_modification` as ``expected_total`` to
        apply it only at that price (:class:`PriceChanged` otherwise). On any
        error nothing changes."""
        return self._native.modify(
            booking,
            items,
            idempotency_key=idempotency_key,
            payment_method=payment_method,
            expected_total=expected_total,
        ).wait()

    # ------------------------------------------------ terms and payouts

    def set_cancellation_policy(
        self, rate_plan: str, policy: CancellationPolicy
    ) -> None:
        """Sets a rate plan's cancellation policy for bookings made from now
        on (without one, a plan is non-refundable)."""
        self._native.set_cancellation_policy(rate_plan, policy).wait()

    def set_commission_plan(self, property: str, plan: CommissionPlan) -> None:
        """Sets a property's commission plan for bookings made from now on."""
        self._native.set_commission_plan(property, plan).wait()

    def owner_statement(
        self, owner: str, *, start: date, end: date, currency: str | None = None
    ) -> OwnerStatement:
        """``owner``'s statement for ``[start, end)`` over every booking made
        for the owner, also at properties since sold: bookings on their start
        date, refunds on theirs. An owner with bookings in several currencies
        gets one statement per ``currency`` (ISO 4217 code); without it, such
        an owner's statement is :class:`CurrencyMismatch`."""
        return self._native.owner_statement(
            owner, start=start, end=end, currency=currency
        ).wait()

    # ---------------------------------------------- tickets and check-in

    def tickets(self, booking: str) -> list[IssuedTicket]:
        """A booking's current tickets, one per guest of each item."""
        return self._native.tickets(booking).wait()

    def booking_by_ticket_ref(self, ticket_ref: str) -> str:
        """The booking a ticket reference (``claims.booking``) stands for."""
        return self._native.booking_by_ticket_ref(ticket_ref).wait()

    def revoke_booking_tickets(self, booking: str) -> list[str]:
        """Revokes a booking's current tickets; returns their token ids."""
        return self._native.revoke_booking_tickets(booking).wait()

    def reissue_booking_tickets(
        self, booking: str, *, idempotency_key: str
    ) -> list[IssuedTicket]:
        """Revokes a booking's tickets and issues new ones."""
        return self._native.reissue_booking_tickets(
            booking, idempotency_key=idempotency_key
        ).wait()

    def revocation_list(self) -> bytes:
        """The signed revocation list, for ``Verifier.apply_revocations``."""
        return self._native.revocation_list().wait()

    def check_in(
        self,
        token: str,
        *,
        gate: str,
        zone: str | None = None,
        direction: Direction = "in",
        scan_id: str | None = None,
    ) -> CheckInOutcome:
        """Decides a scan of ``token`` at ``gate`` and records it; the first
        entry checks the booking in, an exit needs only a genuine token. Entries
        are refused with ``TokenAlreadyUsed``, ``EntryRefused``, ``TokenExpired``,
        ... A ``scan_id`` sent again gets its first decision."""
        return self._native.check_in(
            token, gate=gate, zone=zone, direction=direction, scan_id=scan_id
        ).wait()

    def merge_offline_scans(self, log: ScanLog) -> ScanMergeReport:
        """Merges the scans offline gates recorded, without double counting."""
        return self._native.merge_offline_scans(log).wait()

    def set_venue_check_in(
        self,
        property: str,
        *,
        entry_hours: tuple[time, time] | None = None,
        anti_passback: bool = False,
        gates: Sequence[str] = (),
        zones: Sequence[str] = (),
        resources: Mapping[str, Scope] | None = None,
    ) -> None:
        """Sets a property's check-in rules: entry hours (civil time; closing
        at or before opening runs past midnight, and then a venue day runs
        from closing to closing time), anti-passback, and where its tickets
        admit (``gates``/``zones``, or per resource
        ``{"surf": {"gates": ["beach"]}}``; empty: everywhere)."""
        self._native.set_venue_check_in(
            property,
            entry_hours=entry_hours,
            anti_passback=anti_passback,
            gates=list(gates),
            zones=list(zones),
            resources=resources,
        ).wait()

    def venue_rules(self, property: str) -> VenueRules:
        """A property's check-in rules, for offline ``ScanLog.check_in``."""
        return self._native.venue_rules(property).wait()
