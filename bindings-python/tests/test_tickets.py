"""Tickets through the engine: issued when a booking is confirmed, verified
offline with a ``Verifier``, checked in once then refused, revoked on
cancellation and on demand, re-issued, scoped to gates, and merged from
offline gates."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from reservo import (
    AsyncEngine,
    Booking,
    Customer,
    Engine,
    EntryPolicy,
    IssuedTicket,
    IssuerKey,
    IssuerKeySet,
    Item,
    ManualClock,
    MemoryStore,
    Party,
    RevocationList,
    ScanLog,
    TicketSettings,
    Verifier,
    errors,
)

from .conftest import set_up_catalog, villa

ANA = Customer("Ana Lima", "+351912345678")


def keys() -> IssuerKeySet:
    return IssuerKeySet(IssuerKey.from_seed("k1", bytes([1] * 32)))


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def engine(clock: ManualClock) -> Engine:
    engine = Engine(MemoryStore(), clock=clock, tickets=keys())
    set_up_catalog(engine)
    return engine


def book(engine: Engine, adults: int = 2, key: str = "t1") -> Booking:
    """The villa, 10 to 12 June."""
    item = villa(date(2026, 6, 10), date(2026, 6, 12), adults)
    hold = engine.hold([item], idempotency_key=f"{key}-hold", ttl_seconds=600)
    return engine.confirm(hold.id, customer=ANA, idempotency_key=f"{key}-confirm")


def booked_tickets(
    engine: Engine, adults: int = 2
) -> tuple[Booking, list[IssuedTicket]]:
    booking = book(engine, adults)
    return booking, engine.tickets(booking.id)


def test_confirm_issues_a_ticket_per_guest_that_verifies_offline(
    engine: Engine,
) -> None:
    booking, tickets = booked_tickets(engine)
    assert len(tickets) == 2
    assert tickets[0].token_id != tickets[1].token_id
    # A scanner holding only the public keys, no engine.
    scanner = Verifier(engine.ticket_public_keys())
    for ticket in tickets:
        claims = scanner.verify(ticket.text, at(10, 12))
        assert claims == ticket.claims
        assert claims.resource == "villa-azul"
        # 00:00 on 10 June to the end of 12 June, Lisbon time (UTC+1).
        assert (claims.not_before, claims.expires) == (at(9, 23), at(12, 23))
    ref = tickets[0].claims.booking
    assert ref != booking.id and len(ref) == 8
    assert engine.booking_by_ticket_ref(ref) == booking.id
    with pytest.raises(errors.TokenExpired):
        scanner.verify(tickets[0].text, at(12, 23))
    qr = tickets[0].qr()
    assert qr.version == 8 and qr.width == 17 + 4 * 8
    assert qr.to_svg().startswith("<?xml")
    assert qr.to_png(module_px=2).startswith(b"\x89PNG")
    assert engine.tickets(booking.id) == tickets


def test_check_in_admits_once_then_the_ticket_is_used(
    engine: Engine, clock: ManualClock
) -> None:
    booking, [first, _] = booked_tickets(engine)
    clock.set(at(10, 15))
    entry = engine.check_in(first.text, gate="front", scan_id="scan-1")
    assert (entry.passage, entry.status, entry.booking) == (
        "entry",
        "checked_in",
        booking.id,
    )
    assert (entry.gate, entry.zone, entry.direction, entry.at) == (
        "front",
        "main",
        "in",
        at(10, 15),
    )
    assert entry.claims == first.claims
    assert engine.booking(booking.id).status == "checked_in"
    with pytest.raises(errors.TokenAlreadyUsed) as used:
        engine.check_in(first.text, gate="back")
    assert used.value.code == "TOKEN_ALREADY_USED"
    # The same scan sent again (a gate's retry) gets the first decision.
    assert engine.check_in(first.text, gate="front", scan_id="scan-1") == entry
    with pytest.raises(errors.IdempotencyConflict):
        engine.check_in(first.text, gate="back", scan_id="scan-1")
    with pytest.raises(errors.TokenMalformed):
        engine.check_in("RV1:???", gate="front")
    with pytest.raises(errors.InvalidInput):
        engine.check_in(first.text, gate="front", direction="sideways")  # type: ignore[arg-type]


def test_cancellation_revokes_the_tickets_online_and_offline(
    engine: Engine, clock: ManualClock
) -> None:
    booking, [ticket, _] = booked_tickets(engine)
    scanner = Verifier(engine.ticket_public_keys())
    assert scanner.verify(ticket.text, at(10, 12)).token_id == ticket.token_id
    engine.cancel(booking.id, idempotency_key="c1")
    assert engine.tickets(booking.id) == []
    clock.set(at(10, 12))
    with pytest.raises(errors.TokenRevoked):
        engine.check_in(ticket.text, gate="front")
    signed = engine.revocation_list()
    assert isinstance(signed, bytes)
    assert scanner.apply_revocations(signed) >= 1
    with pytest.raises(errors.TokenRevoked):
        scanner.verify(ticket.text, at(10, 12))


def test_revoke_and_reissue_replace_a_bookings_tickets(
    engine: Engine, clock: ManualClock
) -> None:
    booking, old = booked_tickets(engine)
    new = engine.reissue_booking_tickets(booking.id, idempotency_key="r1")
    assert len(new) == 2
    assert {t.token_id for t in new}.isdisjoint({t.token_id for t in old})
    assert engine.reissue_booking_tickets(booking.id, idempotency_key="r1") == new
    clock.set(at(10, 12))
    with pytest.raises(errors.TokenRevoked):
        engine.check_in(old[0].text, gate="front")
    assert engine.check_in(new[0].text, gate="front").passage == "entry"
    revoked = engine.revoke_booking_tickets(booking.id)
    assert sorted(revoked) == sorted(t.token_id for t in new)
    with pytest.raises(errors.TokenRevoked):
        engine.check_in(new[1].text, gate="front")


def test_venue_scopes_tickets_to_its_gates(engine: Engine, clock: ManualClock) -> None:
    engine.set_venue_check_in("casa-azul", gates=["beach-gate"], anti_passback=True)
    _, [ticket, _] = booked_tickets(engine)
    assert ticket.claims.gates == ["beach-gate"]
    clock.set(at(10, 12))
    with pytest.raises(errors.TokenWrongGate):
        engine.check_in(ticket.text, gate="car-park")
    assert engine.check_in(ticket.text, gate="beach-gate").passage == "entry"
    with pytest.raises(errors.NotFound):
        engine.set_venue_check_in("nowhere")


def test_offline_gate_scans_merge_once(engine: Engine) -> None:
    booking, [ticket, _] = booked_tickets(engine)
    rules = engine.venue_rules("casa-azul")
    scanner = Verifier(engine.ticket_public_keys())
    gate_log = ScanLog()
    claims = scanner.verify(ticket.text, at(10, 12))
    passage = gate_log.check_in(rules, claims, gate="front", zone="main", at=at(10, 12))
    assert passage == "entry"
    report = engine.merge_offline_scans(gate_log)
    assert (report.added, report.checked_in, report.unknown_tokens) == (
        1,
        [booking.id],
        [],
    )
    assert engine.booking(booking.id).status == "checked_in"
    again = engine.merge_offline_scans(gate_log)
    assert (again.added, again.checked_in) == (0, [])


def test_ticket_settings_shape_the_entry_policy(clock: ManualClock) -> None:
    day_pass = EntryPolicy(entries=None, per_day=1)
    settings = TicketSettings(stay_entry=day_pass)
    assert settings.stay_entry == day_pass
    assert settings.session_entry == EntryPolicy()
    assert repr(day_pass) == "EntryPolicy(entries=None, per_day=1, reentry=False)"
    engine = Engine(
        MemoryStore(), clock=clock, tickets=keys(), ticket_settings=settings
    )
    set_up_catalog(engine)
    _, [ticket] = booked_tickets(engine, adults=1)
    assert (ticket.claims.entries, ticket.claims.per_day) == (None, 1)
    with pytest.raises(errors.InvalidInput):
        EntryPolicy(entries=0)
    with pytest.raises(errors.InvalidInput):
        Engine(MemoryStore(), ticket_settings=settings)


def test_revoked_tickets_leave_the_list_once_long_expired(clock: ManualClock) -> None:
    assert TicketSettings().revoked_kept_days_after_expiry == 7
    settings = TicketSettings(revoked_kept_days_after_expiry=1)
    assert settings.revoked_kept_days_after_expiry == 1
    engine = Engine(
        MemoryStore(), clock=clock, tickets=keys(), ticket_settings=settings
    )
    set_up_catalog(engine)
    june, [first, _] = booked_tickets(engine)
    later_item = villa(date(2026, 6, 20), date(2026, 6, 22), 2)
    hold = engine.hold([later_item], idempotency_key="t2-hold", ttl_seconds=600)
    later = engine.confirm(hold.id, customer=ANA, idempotency_key="t2-confirm")
    later_ids = sorted(t.token_id for t in engine.tickets(later.id))
    engine.cancel(june.id, idempotency_key="c1")

    def listed() -> list[str]:
        signed = engine.revocation_list()
        return RevocationList.open(signed, engine.ticket_public_keys()).token_ids

    assert first.token_id in listed()
    clock.set(first.claims.expires + timedelta(days=1, hours=1))
    engine.revoke_booking_tickets(later.id)
    assert listed() == later_ids


def test_an_engine_without_tickets_issues_none(clock: ManualClock) -> None:
    engine = Engine(MemoryStore(), clock=clock)
    set_up_catalog(engine)
    booking = book(engine)
    assert engine.tickets(booking.id) == []
    with pytest.raises(errors.InvalidInput):
        engine.revocation_list()
    with pytest.raises(errors.InvalidInput):
        engine.ticket_public_keys()


def test_async_engine_checks_in(clock: ManualClock) -> None:
    store = MemoryStore()
    set_up_catalog(Engine(store, clock=clock))

    async def main() -> None:
        engine = AsyncEngine(store, clock=clock, tickets=keys())
        item = villa(date(2026, 6, 10), date(2026, 6, 12), 1)
        hold = await engine.hold([item], idempotency_key="h", ttl_seconds=600)
        booking = await engine.confirm(hold.id, customer=ANA, idempotency_key="c")
        [ticket] = await engine.tickets(booking.id)
        clock.set(at(10, 12))
        entry = await engine.check_in(ticket.text, gate="front")
        assert entry.status == "checked_in"
        with pytest.raises(errors.TokenAlreadyUsed):
            await engine.check_in(ticket.text, gate="front")
        assert isinstance(await engine.revocation_list(), bytes)
        rules = await engine.venue_rules("casa-azul")
        assert repr(rules) == 'VenueRules(time_zone="Europe/Lisbon", resources=3)'

    asyncio.run(main())


def test_a_family_at_a_surf_lesson_gets_one_ticket_each(engine: Engine) -> None:
    lesson = Item.session("surf-lesson", start=at(3, 8), party=Party(2, [8, 11]))
    hold = engine.hold([lesson], idempotency_key="h", ttl_seconds=600)
    booking = engine.confirm(hold.id, customer=ANA, idempotency_key="c")
    tickets = engine.tickets(booking.id)
    assert len(tickets) == 4
    # From 30 minutes before the 09:00 (Lisbon) start to the 11:00 end.
    assert {(t.claims.not_before, t.claims.expires) for t in tickets} == {
        (datetime(2026, 6, 3, 7, 30, tzinfo=timezone.utc), at(3, 10))
    }
