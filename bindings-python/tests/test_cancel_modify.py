"""Cancellation and refunds, refund quotes, no-shows, modification with a
price difference, booking terms, commissions and owner statements, through
the binding with a Python payment gateway."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from reservo import (
    AsyncEngine,
    Booking,
    CancellationPolicy,
    CommissionPlan,
    Engine,
    Item,
    ManualClock,
    Party,
    Property,
    RatePlan,
    Resource,
    errors,
)

from .conftest import (
    ANA,
    START,
    TIERED_POLICY,
    VILLA_PLAN,
    Shop,
    eur,
    villa,
    villa_july,
)
from .gateway import TestGateway

TEN_DAYS_BEFORE = datetime(2026, 7, 3, 10, tzinfo=timezone.utc)
"""10 days before the 13 July check-in: the tiered policy keeps 25%."""


def paid_in_two(shop: Shop) -> Booking:
    """The villa 13-16 July (360.00), paid 100.00 then 260.00."""
    hold = shop.hold(villa_july())
    booking = shop.engine.pay_and_confirm(
        hold.id,
        customer=ANA,
        payment_method="tok_visa",
        idempotency_key="p1",
        deposit=eur("100.00"),
    )
    return shop.engine.pay_balance(
        booking.id, payment_method="tok_visa", idempotency_key="p2"
    )


def free_nights(shop: Shop) -> list[int]:
    nights = shop.engine.night_availability(
        "villa-azul", date(2026, 7, 13), date(2026, 7, 16)
    )
    return [n.available for n in nights]


def test_cancellation_refund_is_spread_over_payments_newest_first(
    shop: Shop,
) -> None:
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    booking = paid_in_two(shop)
    assert booking.terms.cancellation_policy == TIERED_POLICY
    shop.clock.set(TEN_DAYS_BEFORE)
    quote = shop.engine.refund_quote(booking.id, TEN_DAYS_BEFORE)
    assert (quote.refund, quote.penalty) == (eur("270.00"), eur("90.00"))
    assert free_nights(shop) == [0, 0, 0]

    cancelled = shop.engine.cancel(
        booking.id, idempotency_key="c1", reason="plans changed"
    )
    assert cancelled.status == "cancelled"
    refunds = cancelled.money.refunds
    assert [r.amount for r in refunds] == [eur("260.00"), eur("10.00")]
    assert [r.state for r in refunds] == ["issued", "issued"]
    payments = cancelled.money.payments
    assert [r.payment for r in refunds] == [
        payments[1].gateway_id,
        payments[0].gateway_id,
    ]
    assert cancelled.paid == eur("90.00")
    assert shop.gateway.refunded == Decimal("270.00")
    assert free_nights(shop) == [1, 1, 1]
    assert shop.event_kinds().count("refund.issued") == 2
    # A replay changes nothing and refunds nothing more.
    assert shop.engine.cancel(
        booking.id, idempotency_key="c1", reason="plans changed"
    ) == shop.engine.booking(booking.id)
    assert shop.gateway.refunded == Decimal("270.00")


def test_refund_quote_answers_without_changing_anything(shop: Shop) -> None:
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    booking = paid_in_two(shop)
    events = len(shop.engine.events(limit=1000))
    early = shop.engine.refund_quote(booking.id, START)
    assert early.refund == eur("360.00") and early.penalty == eur("0.00")
    late = shop.engine.refund_quote(
        booking.id, datetime(2026, 7, 12, tzinfo=timezone.utc)
    )
    assert late.refund == eur("260.00")  # the first night is kept
    assert late.refund.amount + late.kept.amount == Decimal("360.00")
    assert len(shop.engine.events(limit=1000)) == events
    assert shop.engine.booking(booking.id) == booking
    with pytest.raises(errors.InvalidInput):
        shop.engine.refund_quote(booking.id, datetime(2026, 5, 1, tzinfo=timezone.utc))
    with pytest.raises(errors.InvalidInput):
        shop.engine.refund_quote(booking.id, datetime(2026, 7, 1))  # naive
    shop.engine.cancel(booking.id, idempotency_key="c1")
    with pytest.raises(errors.IllegalTransition):
        shop.engine.refund_quote(booking.id, START)


def test_refund_with_unknown_outcome_stays_pending_until_reconciled(
    shop: Shop,
) -> None:
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    booking = shop.paid_in_full()
    shop.gateway.fail_next = 1
    cancelled = shop.engine.cancel(booking.id, idempotency_key="c1")
    assert cancelled.status == "cancelled"
    assert cancelled.money.has_pending_refunds
    [refund] = cancelled.money.refunds
    assert (refund.state, refund.amount) == ("pending", eur("360.00"))
    assert shop.gateway.refunded == Decimal(0)
    report = shop.engine.reconcile_payments()
    assert report.settled == ["c1:refund:0"]
    [refund] = shop.engine.booking(booking.id).money.refunds
    assert refund.state == "issued" and refund.gateway_id is not None
    assert shop.gateway.refunded == Decimal("360.00")
    assert shop.engine.reconcile_payments().settled == []
    assert shop.gateway.refunded == Decimal("360.00")


def test_no_show_keeps_the_late_penalty(shop: Shop) -> None:
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    booking = shop.paid_in_full()
    with pytest.raises(errors.InvalidInput):
        shop.engine.mark_no_show(booking.id, idempotency_key="n1")
    shop.clock.set(datetime(2026, 7, 14, 9, tzinfo=timezone.utc))
    marked = shop.engine.mark_no_show(booking.id, idempotency_key="n1")
    assert marked.status == "no_show"
    assert [r.amount for r in marked.money.refunds] == [eur("260.00")]
    with pytest.raises(errors.IllegalTransition):
        shop.engine.cancel(booking.id, idempotency_key="c1")


def test_a_desk_check_in_then_completion_ends_the_stay(shop: Shop) -> None:
    booking = shop.paid_in_full()
    with pytest.raises(errors.InvalidInput):
        shop.engine.check_in_at_desk(booking.id, idempotency_key="in")
    with pytest.raises(errors.IllegalTransition):
        shop.engine.complete_booking(booking.id, idempotency_key="out")
    shop.clock.set(datetime(2026, 7, 13, 15, tzinfo=timezone.utc))
    checked_in = shop.engine.check_in_at_desk(booking.id, idempotency_key="in")
    assert checked_in.status == "checked_in"
    assert free_nights(shop) == [0, 0, 0]
    shop.clock.set(datetime(2026, 7, 15, 9, tzinfo=timezone.utc))
    completed = shop.engine.complete_booking(booking.id, idempotency_key="out")
    assert completed.status == "completed"
    assert completed.money.payments == booking.money.payments
    # Left a day early: the night of 15 July is free again.
    assert free_nights(shop)[2] == 1
    assert shop.event_kinds()[-2:] == ["booking.checked_in", "booking.completed"]
    with pytest.raises(errors.IdempotencyConflict):
        shop.engine.check_in_at_desk(booking.id, idempotency_key="out")


def test_without_a_policy_a_booking_is_non_refundable(shop: Shop) -> None:
    booking = shop.paid_in_full()
    cancelled = shop.engine.cancel(booking.id, idempotency_key="c1")
    assert cancelled.money.refunds == []
    assert shop.gateway.refunded == Decimal(0)


def fee_shop(clock: ManualClock) -> Shop:
    return Shop(clock, TestGateway(), change_fee=eur("10.00"))


def test_longer_stay_is_quoted_then_charged_the_difference(clock: ManualClock) -> None:
    shop = fee_shop(clock)
    booking = shop.paid_in_full()
    # Tue 14 to Sat 18 July: 3 x 100.00 + Friday 120.00 + 60.00 cleaning.
    longer = [villa(date(2026, 7, 14), date(2026, 7, 18))]
    quote = shop.engine.quote_modification(booking.id, longer)
    assert (quote.current_total, quote.new_total) == (eur("360.00"), eur("490.00"))
    assert (quote.change_fee, quote.difference) == (eur("10.00"), eur("130.00"))
    assert (quote.to_charge, quote.to_refund) == (eur("130.00"), eur("0.00"))
    assert shop.engine.booking(booking.id) == booking

    modified = shop.engine.modify(
        booking.id, longer, idempotency_key="m1", payment_method="tok_visa"
    )
    assert modified.total == eur("490.00")
    assert modified.money.change_fees == eur("10.00")
    assert [p.amount for p in modified.money.payments] == [
        eur("360.00"),
        eur("130.00"),
    ]
    assert shop.gateway.captured == Decimal("490.00")
    nights = shop.engine.night_availability(
        "villa-azul", date(2026, 7, 13), date(2026, 7, 18)
    )
    assert [n.available for n in nights] == [1, 0, 0, 0, 0]
    assert modified.items[0].item.check_in == date(2026, 7, 14)
    # A replay returns the same booking without charging again.
    assert (
        shop.engine.modify(
            booking.id, longer, idempotency_key="m1", payment_method="tok_visa"
        )
        == modified
    )
    assert shop.gateway.captured == Decimal("490.00")


def test_a_free_booking_paid_through_the_engine_is_charged_once_it_costs_more(
    shop: Shop,
) -> None:
    free_plan = {
        **VILLA_PLAN,
        "base_price": {"amount": Decimal("0.00"), "currency": "EUR"},
        "weekday_rates": [],
        "fees": [],
    }
    shop.engine.put_rate_plan(RatePlan.from_dict(free_plan))
    booking = shop.paid_in_full()
    assert booking.total == eur("0.00")
    assert booking.money.payments == []
    assert booking.money.through_gateway
    assert shop.gateway.calls == []

    shop.engine.put_rate_plan(RatePlan.from_dict(VILLA_PLAN))
    later = [villa(date(2026, 7, 20), date(2026, 7, 23))]
    assert shop.engine.quote_modification(booking.id, later).to_charge == eur("360.00")
    modified = shop.engine.modify(
        booking.id, later, idempotency_key="m1", payment_method="tok_visa"
    )
    assert [p.amount for p in modified.money.payments] == [eur("360.00")]
    assert shop.gateway.captured == Decimal("360.00")


def test_a_booking_confirmed_without_the_gateway_is_paid_outside(shop: Shop) -> None:
    hold = shop.hold(villa_july())
    booking = shop.engine.confirm(hold.id, customer=ANA, idempotency_key="c1")
    assert booking.money.payments == []
    assert not booking.money.through_gateway


def test_a_modification_at_a_quoted_total_refuses_a_new_price(
    clock: ManualClock,
) -> None:
    shop = fee_shop(clock)
    booking = shop.paid_in_full()
    longer = [villa(date(2026, 7, 14), date(2026, 7, 18))]
    quote = shop.engine.quote_modification(booking.id, longer)
    dearer = {**VILLA_PLAN, "base_price": {"amount": "150.00", "currency": "EUR"}}
    shop.engine.put_rate_plan(RatePlan.from_dict(dearer))
    with pytest.raises(errors.PriceChanged):
        shop.engine.modify(
            booking.id,
            longer,
            idempotency_key="m1",
            payment_method="tok_visa",
            expected_total=quote.new_total,
        )
    assert shop.engine.booking(booking.id) == booking
    assert shop.gateway.captured == Decimal("360.00")
    requote = shop.engine.quote_modification(booking.id, longer)
    modified = shop.engine.modify(
        booking.id,
        longer,
        idempotency_key="m2",
        payment_method="tok_visa",
        expected_total=requote.new_total,
    )
    assert modified.total == requote.new_total != quote.new_total


def test_shorter_stay_refunds_the_difference_less_the_change_fee(
    clock: ManualClock,
) -> None:
    shop = fee_shop(clock)
    booking = shop.paid_in_full()
    shorter = [villa(date(2026, 7, 13), date(2026, 7, 15))]
    modified = shop.engine.modify(booking.id, shorter, idempotency_key="m1")
    # 2 x 100.00 + 60.00 + the 10.00 fee: 270.00 of the 360.00 paid.
    assert modified.total == eur("270.00")
    assert shop.gateway.refunded == Decimal("90.00")
    assert modified.paid == eur("270.00")
    commission = modified.money.commission
    assert commission is not None and commission.gross == eur("270.00")


def test_a_charge_needs_a_payment_method_and_a_decline_changes_nothing(
    clock: ManualClock,
) -> None:
    shop = fee_shop(clock)
    booking = shop.paid_in_full()
    longer = [villa(date(2026, 7, 13), date(2026, 7, 18))]
    with pytest.raises(errors.InvalidInput):
        shop.engine.modify(booking.id, longer, idempotency_key="m1")
    with pytest.raises(errors.PaymentDeclined):
        shop.engine.modify(
            booking.id, longer, idempotency_key="m2", payment_method="tok_declined"
        )
    assert shop.engine.booking(booking.id) == booking


PLAN = CommissionPlan.from_dict(
    {
        "platform_fee": {"percent": "3"},
        "intermediaries": [
            {
                "intermediary": {"role": "channel", "id": "booking-com"},
                "rate": {"percent": "15"},
            },
            {
                "intermediary": {"role": "broker", "id": "agency-7"},
                "rate": {
                    "percent": "10",
                    "flat": {"amount": "5.00", "currency": "EUR"},
                },
            },
        ],
        "tax_remitter": "owner",
    }
)


def test_attribution_is_snapshotted_and_splits_the_money(shop: Shop) -> None:
    shop.engine.set_commission_plan("casa-azul", PLAN)
    hold = shop.hold(villa_july())
    booking = shop.engine.pay_and_confirm(
        hold.id,
        customer=ANA,
        payment_method="tok_visa",
        idempotency_key="p1",
        channel="booking-com",
        broker="agency-7",
    )
    terms = booking.terms
    assert (terms.channel, terms.broker) == ("booking-com", "agency-7")
    assert terms.time_zone == "Europe/Lisbon"
    assert terms.start == datetime(2026, 7, 13, 14, tzinfo=timezone.utc)  # 15:00
    assert repr(terms) == (
        'BookingTerms(channel="booking-com", broker="agency-7", '
        "start=2026-07-13T14:00:00+00:00)"
    )
    split = booking.money.commission
    assert split is not None
    assert split.platform_fee == eur("10.80")
    assert sorted(split.commissions) == [
        ("broker", "agency-7", eur("41.00")),
        ("channel", "booking-com", eur("54.00")),
    ]
    assert split.owner_payout == eur("254.20")
    other = shop.hold(villa(date(2026, 8, 3), date(2026, 8, 5)), "h2")
    with pytest.raises(errors.InvalidInput):
        shop.engine.confirm(
            other.id, customer=ANA, idempotency_key="c2", channel="expedia"
        )


def test_owner_statement_counts_bookings_by_stay_and_refunds_by_their_date(
    shop: Shop,
) -> None:
    shop.engine.set_commission_plan(
        "casa-azul",
        CommissionPlan.from_dict(
            {
                "platform_fee": {"percent": "10"},
                "intermediaries": [],
                "tax_remitter": "owner",
            }
        ),
    )
    free_until_30_days = CancellationPolicy.from_dict(
        {
            "tiers": [
                {
                    "threshold": {
                        "kind": "days_before",
                        "days": 30,
                        "at": "start_time",
                    },
                    "penalty": {"kind": "none"},
                }
            ],
            "late_penalty": {"kind": "percent", "percent": "100"},
        }
    )
    shop.engine.set_cancellation_policy("villa-flex", free_until_30_days)
    shop.paid_in_full()
    room = Item.stay(
        "room-double",
        check_in=date(2026, 7, 20),
        check_out=date(2026, 7, 22),
        party=Party(2),
    )
    double = shop.hold(room, "h2")
    second = shop.engine.pay_and_confirm(
        double.id, customer=ANA, payment_method="tok_visa", idempotency_key="p2"
    )
    assert second.total == eur("260.00")
    shop.engine.cancel(second.id, idempotency_key="c2")

    july = shop.engine.owner_statement(
        "owner-ana", start=date(2026, 7, 1), end=date(2026, 8, 1)
    )
    assert {line.booking for line in july.lines} == {
        b.id for b in shop.engine.bookings_by_customer(ANA.phone)
    }
    assert (july.totals.gross, july.totals.platform_fees) == (
        eur("620.00"),
        eur("62.00"),
    )
    assert july.totals.owner_payout == eur("558.00")
    june = shop.engine.owner_statement(
        "owner-ana", start=date(2026, 6, 1), end=date(2026, 7, 1)
    )
    assert june.totals.refunds == eur("260.00")
    assert june.totals.owner_payout == eur("-234.00")
    in_euros = shop.engine.owner_statement(
        "owner-ana", start=date(2026, 7, 1), end=date(2026, 8, 1), currency="EUR"
    )
    assert in_euros.to_dict() == july.to_dict()
    in_pounds = shop.engine.owner_statement(
        "owner-ana", start=date(2026, 7, 1), end=date(2026, 8, 1), currency="GBP"
    )
    assert (in_pounds.currency, in_pounds.lines) == ("GBP", [])
    with pytest.raises(errors.UnknownCurrency):
        shop.engine.owner_statement(
            "owner-ana", start=date(2026, 7, 1), end=date(2026, 8, 1), currency="XXY"
        )
    with pytest.raises(errors.NotFound):
        shop.engine.owner_statement(
            "owner-nobody", start=date(2026, 7, 1), end=date(2026, 8, 1)
        )
    with pytest.raises(errors.InvalidInput):
        shop.engine.owner_statement(
            "owner-ana", start=date(2026, 8, 1), end=date(2026, 7, 1)
        )


def test_async_engine_cancels_and_quotes_modifications(clock: ManualClock) -> None:
    gateway = TestGateway()
    shop = Shop(clock, gateway)
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    booking = shop.paid_in_full()

    async def main() -> Booking:
        engine = AsyncEngine(shop.store, clock=clock, payment_gateway=gateway)
        shorter = [villa(date(2026, 7, 13), date(2026, 7, 15))]
        quote = await engine.quote_modification(booking.id, shorter)
        assert quote.to_refund == eur("100.00")
        assert (await engine.refund_quote(booking.id, START)).refund == eur("360.00")
        return await engine.cancel(booking.id, idempotency_key="c1")

    cancelled = asyncio.run(main())
    assert cancelled.status == "cancelled"
    assert gateway.refunded == Decimal("360.00")


def test_each_item_is_judged_by_the_policy_of_its_own_rate_plan(
    shop: Shop,
) -> None:
    # The villa's plan has the tiered policy; the lesson's has none, so it
    # is non-refundable.
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    lesson = Item.session(
        "surf-lesson",
        start=datetime(2026, 7, 13, 8, tzinfo=timezone.utc),
        party=Party(2),
    )
    hold = shop.engine.hold(
        [villa_july(), lesson], idempotency_key="h1", ttl_seconds=900
    )
    booking = shop.engine.pay_and_confirm(
        hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
    )
    policies = booking.terms.rate_plan_policies
    assert list(policies) == ["lesson"]
    assert policies["lesson"] == CancellationPolicy.preset("airbnb.non_refundable")
    lesson_price = booking.items[1].quote.total
    assert booking.total.amount == Decimal("360.00") + lesson_price.amount

    quote = shop.engine.refund_quote(booking.id, TEN_DAYS_BEFORE)
    assert quote.refund == eur("270.00")
    assert quote.penalty.amount == Decimal("90.00") + lesson_price.amount
    (villa_items, villa_part), (lesson_items, lesson_part) = quote.parts
    assert (villa_items, lesson_items) == ([0], [1])
    assert (villa_part.refund, lesson_part.refund) == (eur("270.00"), eur("0.00"))
    assert quote.reason.startswith("item 0: ")


def test_each_item_is_judged_from_its_own_start(shop: Shop) -> None:
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    august = villa(date(2026, 8, 5), date(2026, 8, 8))
    hold = shop.engine.hold(
        [villa_july(), august], idempotency_key="h1", ttl_seconds=900
    )
    booking = shop.engine.pay_and_confirm(
        hold.id, customer=ANA, payment_method="tok_visa", idempotency_key="p1"
    )
    july_start, august_start = booking.terms.item_starts
    assert july_start == booking.terms.start
    assert august_start.date() == date(2026, 8, 5)
    # On 3 July the July stay is 10 days out (25% of 360.00 kept), the
    # August stay 33 days out (free).
    august_price = booking.items[1].quote.total
    quote = shop.engine.refund_quote(booking.id, TEN_DAYS_BEFORE)
    assert quote.refund.amount == Decimal("270.00") + august_price.amount
    assert [items for items, _ in quote.parts] == [[0], [1]]


def test_items_at_two_properties_are_refused(engine: Engine) -> None:
    engine.put_property(
        Property("surf-co", "Surf Co", "owner-rui", "Europe/Lisbon", "EUR")
    )
    engine.put_resource(
        Resource.nightly(
            "bunk",
            property="surf-co",
            name="Bunk",
            rate_plan="villa-flex",
            max_occupancy=2,
        )
    )
    bunk = Item.stay(
        "bunk",
        check_in=date(2026, 7, 13),
        check_out=date(2026, 7, 16),
        party=Party(2),
    )
    with pytest.raises(errors.InvalidInput, match="surf-co"):
        engine.hold([villa_july(), bunk], idempotency_key="h1", ttl_seconds=900)
    assert (
        engine.night_availability("bunk", date(2026, 7, 13), date(2026, 7, 16))[
            0
        ].available
        == 1
    )


def test_a_non_refundable_fee_is_kept_by_a_free_cancellation(shop: Shop) -> None:
    # The villa's plan with a non-refundable 20.00 service fee besides its
    # cleaning fee (refundable: no flag).
    def fee(rule_id: str, amount: str) -> dict[str, object]:
        return {
            "id": rule_id,
            "name": rule_id.title(),
            "amount": {"amount": amount, "currency": "EUR"},
            "basis": "per_booking",
            "taxable": False,
        }

    service = {**fee("service", "20.00"), "refundable": False}
    plan = {**VILLA_PLAN, "fees": [fee("cleaning", "60.00"), service]}
    shop.engine.put_rate_plan(RatePlan.from_dict(plan))
    shop.engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    booking = shop.paid_in_full()
    assert booking.total == eur("380.00")
    lines = {line.rule_id: line.refundable for line in booking.items[0].quote.lines}
    assert (lines["cleaning"], lines["service"]) == (True, False)

    quote = shop.engine.refund_quote(booking.id, START)
    assert (quote.refund, quote.penalty) == (eur("360.00"), eur("0.00"))
    assert quote.non_refundable_kept == eur("20.00")
    cancelled = shop.engine.cancel(booking.id, idempotency_key="c1")
    assert [r.amount for r in cancelled.money.refunds] == [eur("360.00")]
