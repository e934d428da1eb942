"""Domain functions without an engine: tokens and check-in, refund quotes,
commission splits and owner statements."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from reservo import (
    BookingFacts,
    BookingLedger,
    CancellationPolicy,
    CommissionPlan,
    IssuerKey,
    IssuerKeySet,
    Money,
    PublicKey,
    PublicKeySet,
    RevocationList,
    ScanLog,
    TicketClaims,
    VenueRules,
    Verifier,
    errors,
    owner_statement,
)


def at(hour: int, day: int = 1) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=timezone.utc)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def claims(**kw: object) -> TicketClaims:
    return TicketClaims(
        booking="BK-1042",
        resource="museum",
        not_before=at(9),
        expires=at(18),
        **kw,  # type: ignore[arg-type]
    )


def test_tokens_issue_verify_and_expire() -> None:
    keys = IssuerKeySet(IssuerKey.from_seed("k1", bytes(32)))
    ticket = claims(token_id="0a0b0c0d")
    token = keys.issue(ticket)
    assert token.startswith("RV1:")
    verifier = Verifier(keys.public_keys())
    assert verifier.verify(token, at(12)) == ticket
    with pytest.raises(errors.TokenExpired):
        verifier.verify(token, at(18))
    with pytest.raises(errors.TokenNotYetValid):
        verifier.verify(token, at(8))
    with pytest.raises(errors.TokenMalformed):
        verifier.verify("RV1:???", at(12))
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(errors.ReservoError):
        verifier.verify(tampered, at(12))


def test_key_rotation_and_public_keys_from_bytes() -> None:
    old = IssuerKey.generate("k1")
    keys = IssuerKeySet(old)
    token = keys.issue(claims())
    keys.rotate_to(IssuerKey.generate("k2"))
    assert keys.current_kid == "k2"
    scanner = Verifier(
        PublicKeySet([PublicKey.from_bytes("k1", old.public_key().to_bytes())])
    )
    assert scanner.verify(token, at(12)).resource == "museum"
    with pytest.raises(errors.TokenUnknownKey):
        scanner.verify(keys.issue(claims()), at(12))


def test_revocation_lists_refuse_revoked_bookings() -> None:
    keys = IssuerKeySet(IssuerKey.generate("k1"))
    token = keys.issue(claims())
    verifier = Verifier(keys.public_keys())
    revoked = RevocationList(1, at(10))
    revoked.revoke_booking("BK-1042")
    assert verifier.apply_revocations(keys.sign_revocations(revoked)) == 1
    with pytest.raises(errors.TokenRevoked):
        verifier.verify(token, at(12))
    with pytest.raises(errors.InvalidInput):
        verifier.apply_revocations(keys.sign_revocations(revoked))


def test_a_signed_revocation_list_opens_to_what_was_signed() -> None:
    keys = IssuerKeySet(IssuerKey.generate("k1"))
    revoked = RevocationList(7, at(10))
    revoked.revoke_booking("BK-1042")
    revoked.revoke_token("0f1e2d3c4b5a6978")
    opened = RevocationList.open(keys.sign_revocations(revoked), keys.public_keys())
    assert (opened.sequence, opened.issued_at) == (7, at(10))
    assert (opened.token_ids, opened.booking_ids) == (["0f1e2d3c4b5a6978"], ["BK-1042"])
    stranger = IssuerKeySet(IssuerKey.generate("k1"))
    with pytest.raises(errors.TokenBadSignature):
        RevocationList.open(keys.sign_revocations(revoked), stranger.public_keys())


def test_a_revocation_list_is_not_issued_before_1970() -> None:
    with pytest.raises(errors.InvalidInput, match="1970"):
        RevocationList(1, datetime(1969, 12, 31, 23, 59, 59, tzinfo=timezone.utc))


def test_check_in_rules_admit_once_then_refuse() -> None:
    rules = VenueRules(
        time_zone="Europe/Lisbon",
        resources=["museum"],
        entry_hours=(time(9), time(17)),
        anti_passback=True,
    )
    ticket = claims(entries=1, reentry=True)
    log = ScanLog()
    assert log.check_in(rules, ticket, gate="north", zone="hall", at=at(10)) == "entry"
    with pytest.raises(errors.EntryRefused):  # anti-passback
        log.check_in(rules, ticket, gate="south", zone="hall", at=at(11))
    assert (
        log.check_in(
            rules, ticket, gate="north", zone="hall", at=at(12), direction="out"
        )
        == "exit"
    )
    assert (
        log.check_in(rules, ticket, gate="north", zone="hall", at=at(13)) == "re_entry"
    )
    with pytest.raises(errors.EntryRefused):  # 20:00 in Lisbon
        log.check_in(rules, claims(), gate="north", zone="hall", at=at(19))
    other = ScanLog()
    assert other.merge(log) == len(log)


def test_overnight_entry_hours_count_a_night_as_one_venue_day() -> None:
    # A club in Lisbon (UTC+1 in June) open 20:00-03:00: 01:00 belongs to
    # the night that began the evening before.
    rules = VenueRules(
        time_zone="Europe/Lisbon",
        resources=["museum"],
        entry_hours=(time(20), time(3)),
    )
    assert (rules.time_zone, rules.resources, rules.anti_passback) == (
        "Europe/Lisbon",
        ["museum"],
        False,
    )
    assert rules.entry_hours == (time(20), time(3))
    ticket = TicketClaims(
        booking="BK-1042",
        resource="museum",
        not_before=at(0),
        expires=at(23, day=3),
        per_day=1,
        entries=None,
        reentry=False,
    )
    log = ScanLog()
    with pytest.raises(errors.EntryRefused):  # 19:00 in Lisbon: not open yet
        log.check_in(rules, ticket, gate="door", zone="floor", at=at(18))
    assert log.check_in(rules, ticket, gate="door", zone="floor", at=at(22)) == "entry"
    with pytest.raises(errors.TokenAlreadyUsed):  # 01:00: the same night
        log.check_in(rules, ticket, gate="door", zone="floor", at=at(0, day=2))
    with pytest.raises(errors.EntryRefused):  # 03:00: closed
        log.check_in(rules, ticket, gate="door", zone="floor", at=at(2, day=2))
    assert (
        log.check_in(rules, ticket, gate="door", zone="floor", at=at(19, day=2))
        == "entry"
    )
    with pytest.raises(errors.InvalidInput):
        VenueRules(
            time_zone="Europe/Lisbon", resources=[], entry_hours=(time(3), time(3))
        )


def test_refund_quote_follows_the_policy() -> None:
    facts = BookingFacts(
        booked_at=datetime(2026, 7, 1, 10, tzinfo=timezone.utc),
        start=datetime(2026, 9, 10, 14, tzinfo=timezone.utc),
        time_zone="Europe/Lisbon",
        price=eur("345.00"),
        paid=eur("345.00"),
        non_refundable=eur("45.00"),
        night_amounts=[eur("100.00")] * 3,
    )
    moderate = CancellationPolicy.preset("airbnb.moderate")
    early = moderate.quote(
        facts, cancelled_at=datetime(2026, 9, 4, tzinfo=timezone.utc)
    )
    assert early.refund == eur("300.00")
    late = moderate.quote(facts, no_show=True)
    assert late.refund == eur("100.00")
    assert (
        late.refund.amount + late.penalty.amount + late.non_refundable_kept.amount
        == Decimal("345.00")
    )
    with pytest.raises(errors.InvalidInput):
        moderate.quote(facts)
    assert CancellationPolicy.from_dict(moderate.to_dict()) == moderate
    names = CancellationPolicy.preset_names()
    assert "airbnb.moderate" in names and len(names) == len(set(names)) == 12
    assert all(CancellationPolicy.preset(name) for name in names)
    with pytest.raises(errors.NotFound):
        CancellationPolicy.preset("airbnb.lenient")


def test_commission_split_clawback_and_owner_statement() -> None:
    plan = CommissionPlan.from_dict(
        {
            "platform_fee": {"percent": "3"},
            "intermediaries": [
                {
                    "intermediary": {"role": "broker", "id": "agency-7"},
                    "rate": {
                        "percent": "10",
                        "flat": {"amount": "5.00", "currency": "EUR"},
                    },
                }
            ],
            "tax_remitter": "platform",
        }
    )
    split = plan.split(eur("221.00"), eur("21.00"))
    assert (split.platform_fee, split.taxes, split.owner_payout) == (
        eur("6.00"),
        eur("21.00"),
        eur("169.00"),
    )
    assert split.commissions == [("broker", "agency-7", eur("25.00"))]
    ledger = BookingLedger(
        booking="b-1", owner="o-1", recognized_on=date(2026, 5, 1), split=split
    )
    ledger.refund(eur("100.00"), date(2026, 6, 2))
    assert ledger.remaining().gross == eur("121.00")
    may = owner_statement(
        "o-1",
        start=date(2026, 5, 1),
        end=date(2026, 6, 1),
        currency="EUR",
        ledgers=[ledger],
    )
    june = owner_statement(
        "o-1",
        start=date(2026, 6, 1),
        end=date(2026, 7, 1),
        currency="EUR",
        ledgers=[ledger],
    )
    assert may.totals.owner_payout == eur("169.00")
    assert june.totals.owner_payout.amount < 0
    assert [line.booking for line in june.lines] == ["b-1"]
    with pytest.raises(errors.InvalidInput):
        owner_statement(
            "o-2",
            start=date(2026, 5, 1),
            end=date(2026, 6, 1),
            currency="EUR",
            ledgers=[ledger],
        )


def test_leeway_is_bounded() -> None:
    keys = IssuerKeySet(IssuerKey.generate("k1"))
    with pytest.raises(errors.InvalidInput):
        Verifier(keys.public_keys(), leeway=timedelta(hours=2))
