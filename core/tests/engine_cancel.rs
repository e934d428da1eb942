//! Cancellation, no-shows and refunds: the snapshotted policy, refunds
//! spread over payments, inventory released, commissions clawed back.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::{nightly, nightly_plan, rid, stay};
use chrono::{Duration, TimeZone, Utc};
use money::{
    deposit, eur, events, hold_items, hold_villa, no_partial_refunds, pay, shop, shop_with,
    use_tiered_policy, villa, villa_free, villa_paid_in_full,
};
use reservo::booking::BookingStatus;
use reservo::engine::{
    Booking, CancelRequest, ModifyRequest, NoShowRequest, PayAmount, PayBalanceRequest, RefundState,
};
use reservo::engine::{ConfirmRequest, Item, QuoteRequest};
use reservo::ids::{BookingId, RatePlanId};
use reservo::money::Money;
use reservo::party::Party;
use reservo::policy::{CancellationPolicy, RefundQuote};
use reservo::ports::{Clock, CommitBatch, Mutation, Storage};
use rust_decimal_macros::dec;

/// 2026-07-03 10:00 UTC: 10 days before the 13 July check-in (25% kept).
fn ten_days_before() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 3, 10, 0, 0).unwrap()
}

/// A cancellation with a reason (another reason is another request).
fn cancel(key: &str, booking: &BookingId) -> CancelRequest {
    CancelRequest {
        idempotency_key: key.into(),
        booking: booking.clone(),
        reason: Some("plans changed".into()),
    }
}

/// The villa 13-16 July (360.00), paid 100.00 then 260.00.
async fn paid_in_two(s: &money::Shop) -> Booking {
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("100.00")))
            .await
            .unwrap();
    s.w.engine
        .pay_balance(&PayBalanceRequest {
            idempotency_key: "p2".into(),
            booking: booking.id.clone(),
            payment_method: "tok_visa".into(),
        })
        .await
        .unwrap()
}

fn refunded(booking: &Booking) -> Vec<rust_decimal::Decimal> {
    booking
        .money
        .refunds
        .iter()
        .map(|r| r.amount.amount())
        .collect()
}

#[tokio::test]
async fn full_refund_is_spread_over_both_payments_newest_first_and_releases_the_nights() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(refunded(&cancelled), [dec!(260.00), dec!(100.00)]);
    assert!(
        cancelled
            .money
            .refunds
            .iter()
            .all(|r| matches!(r.state, RefundState::Issued { .. }))
    );
    assert_eq!(s.gateway.refunded(), dec!(360.00));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
    let issued = events(&s.w, "refund.issued").await;
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[0]["booking"]["id"], booking.id.as_str());
    assert_eq!(issued[0]["refund"]["amount"], "260.00");
    assert_eq!(issued[0]["refund"]["currency"], "EUR");
    assert_eq!(issued[0]["customer"]["phone"], "+351912345678");
    let cancelled_events = events(&s.w, "booking.cancelled").await;
    assert_eq!(cancelled_events[0]["booking"]["status"], "cancelled");
    assert_eq!(cancelled_events[0]["customer"]["name"], "Ana Lima");
}

#[tokio::test]
async fn amounts_in_event_payloads_carry_the_currency_s_minor_digits() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    // A deposit given without cents, as a host may write it.
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let pay_deposit = pay("p1", &hold, deposit("100"));
    let booking = s.w.engine.pay_and_confirm(&pay_deposit).await.unwrap();
    s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();

    let captured = events(&s.w, "payment.captured").await;
    assert_eq!(captured[0]["payment"]["amount"], "100.00");
    let issued = events(&s.w, "refund.issued").await;
    assert_eq!(issued[0]["refund"]["amount"], "100.00"); // was "100"
    let cancelled = events(&s.w, "booking.cancelled").await;
    assert_eq!(cancelled[0]["refund"]["amount"], "100.00");
    assert_eq!(cancelled[0]["booking"]["total"], "360.00");
}

#[tokio::test]
async fn the_reason_given_for_a_cancellation_is_in_its_event() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let mut request = cancel("c1", &booking.id);
    s.w.engine.cancel(&request).await.unwrap();
    let hold = hold_villa(&s.w, "h2", (8, 3), (8, 6)).await;
    let other =
        s.w.engine
            .confirm(&ConfirmRequest::new("c2", hold.id, money::ana()))
            .await
            .unwrap();
    let without_reason = CancelRequest {
        reason: None,
        ..cancel("c3", &other.id)
    };
    s.w.engine.cancel(&without_reason).await.unwrap();
    let cancelled = events(&s.w, "booking.cancelled").await;
    assert_eq!(cancelled[0]["reason"], "plans changed");
    assert!(cancelled[0]["refund"]["reason"].is_string(), "the policy's");
    assert!(cancelled[1]["reason"].is_null(), "{}", cancelled[1]);
    // A replay with another reason is another request.
    request.reason = Some("a storm".into());
    let err = s.w.engine.cancel(&request).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
}

#[tokio::test]
async fn partial_refund_takes_the_balance_first_and_sums_exactly() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    s.w.clock.set(ten_days_before()).unwrap();
    let quote = quote_at(&s, &booking, ten_days_before()).await;
    assert_eq!(quote.refund(), eur("270.00"));
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(260.00), dec!(10.00)]);
    assert_eq!(s.gateway.refunded(), dec!(270.00));
    let paid = cancelled.money.paid(cancelled.total.currency());
    assert_eq!(paid, eur("90.00"));
}

#[tokio::test]
async fn refund_quote_answers_without_changing_anything() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    let before = s.w.store.dump();
    let early =
        s.w.engine
            .refund_quote(&booking.id, catalog::start_of_tests() - Duration::days(1))
            .await;
    // Before the booking was made is refused; 10 days out keeps 25%.
    assert_eq!(early.unwrap_err().code(), "INVALID_INPUT");
    let quote = quote_at(&s, &booking, ten_days_before()).await;
    assert_eq!(
        (quote.refund(), quote.penalty()),
        (eur("270.00"), eur("90.00"))
    );
    let late =
        s.w.engine
            .refund_quote(
                &booking.id,
                Utc.with_ymd_and_hms(2026, 7, 12, 10, 0, 0).unwrap(),
            )
            .await
            .unwrap();
    assert_eq!(late.refund(), eur("260.00")); // the first night (100.00) kept
    assert_eq!(s.w.store.dump(), before);
}

/// A "first night" penalty keeps what the first night itself costs:
/// Thursday at the base price, not a third of a stay whose weekend nights
/// cost more.
#[tokio::test]
async fn a_first_night_penalty_keeps_the_price_of_that_night() {
    let s = shop().await;
    let booking = thursday_to_sunday(&s).await;
    assert_eq!(booking.total, eur("400.00"));
    let nights = booking.items[0].quote.nights();
    assert_eq!(nights, [eur("100.00"), eur("120.00"), eur("120.00")]);
    let late = the_day_before(&s, &booking).await;
    assert_eq!(
        (late.refund(), late.penalty()),
        (eur("300.00"), eur("100.00"))
    );
}

/// The villa from Thursday 16 to Sunday 19 July (100.00 + 2 x 120.00 +
/// 60.00 cleaning), paid in full, under the tiered policy.
async fn thursday_to_sunday(s: &money::Shop) -> Booking {
    use_tiered_policy(&s.w).await;
    let hold = hold_villa(&s.w, "h1", (7, 16), (7, 19)).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap()
}

/// What cancelling `booking` on 15 July (the first night kept) returns.
async fn the_day_before(s: &money::Shop, booking: &Booking) -> RefundQuote {
    quote_at(
        s,
        booking,
        Utc.with_ymd_and_hms(2026, 7, 15, 10, 0, 0).unwrap(),
    )
    .await
}

/// What cancelling `booking` at `at` would return.
async fn quote_at(s: &money::Shop, booking: &Booking, at: chrono::DateTime<Utc>) -> RefundQuote {
    s.w.engine.refund_quote(&booking.id, at).await.unwrap()
}

/// One booking of `items`, held (key `h1`) and paid in full (key `p1`).
async fn paid_in_full(s: &money::Shop, items: Vec<QuoteRequest>) -> Booking {
    let hold = hold_items(&s.w, "h1", items).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap()
}

/// One booking of two rooms on two rate plans: the villa on `flex`
/// (the tiered policy), a double on `saver`, which has no policy and so is
/// non-refundable. Each room is judged by its own plan's policy, on its
/// share of what was paid.
#[tokio::test]
async fn each_item_is_judged_by_the_policy_of_its_own_rate_plan() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    s.w.engine
        .put_rate_plan(nightly_plan("saver", "80.00"))
        .await
        .unwrap();
    s.w.engine
        .put_resource(nightly("saver-double", "casa-azul", 2, 2, "saver"))
        .await
        .unwrap();
    let saver_double = QuoteRequest::new(Item::stay(
        rid("saver-double"),
        stay((7, 13), (7, 16)),
        Party::adults(2).unwrap(),
    ));
    let booking = paid_in_full(&s, vec![villa((7, 13), (7, 16)), saver_double]).await;
    // 360.00 for the villa, 3 x 80.00 + 60.00 cleaning for the saver double.
    assert_eq!(booking.total, eur("660.00"));
    let saver = RatePlanId::new("saver").unwrap();
    assert_eq!(
        booking.terms.rate_plan_policies.keys().collect::<Vec<_>>(),
        [&saver]
    );
    assert_eq!(booking.terms.cancellation_policy, money::tiered_policy());
    // A later change of the saver plan's policy does not reach the booking.
    s.w.engine
        .set_cancellation_policy(&saver, money::tiered_policy())
        .await
        .unwrap();
    let quote = quote_at(&s, &booking, ten_days_before()).await;
    // The villa: 25% of 360.00 kept; the saver double: all 300.00 kept.
    assert_eq!(
        (quote.refund(), quote.penalty()),
        (eur("270.00"), eur("390.00"))
    );
    let parts: Vec<(&[usize], Money)> = quote
        .parts()
        .iter()
        .map(|p| (p.items(), p.quote().refund()))
        .collect();
    assert_eq!(parts, [(&[0][..], eur("270.00")), (&[1][..], eur("0.00"))]);
    assert!(quote.reason().starts_with("item 0: "), "{}", quote.reason());
    assert!(quote.reason().contains("; item 1: "), "{}", quote.reason());
    s.w.clock.set(ten_days_before()).unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(s.gateway.refunded(), dec!(270.00));
    let ledger = cancelled.money.commission.unwrap();
    assert_eq!(ledger.remaining().gross(), eur("390.00"));

    // Paid by a deposit, the payment is shared by the rooms' prices:
    // 100.00 x 360/660 = 54.55 (the larger remainder) and 45.45. More than
    // 30 days out the villa's share comes back; the saver's never does.
    s.w.engine
        .set_cancellation_policy(&saver, CancellationPolicy::non_refundable())
        .await
        .unwrap();
    let saver_double = QuoteRequest::new(Item::stay(
        rid("saver-double"),
        stay((8, 10), (8, 13)),
        Party::adults(2).unwrap(),
    ));
    let hold = hold_items(&s.w, "h2", vec![villa((8, 10), (8, 13)), saver_double]).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p2", &hold, deposit("100.00")))
            .await
            .unwrap();
    assert_eq!(booking.total, eur("660.00"));
    let at = Utc.with_ymd_and_hms(2026, 7, 4, 10, 0, 0).unwrap();
    let quote = quote_at(&s, &booking, at).await;
    assert_eq!((quote.refund(), quote.kept()), (eur("54.55"), eur("45.45")));
}

/// One booking of the villa twice, in July and in August, under the tiered
/// policy: each stay is judged from its own check-in, not the booking's.
#[tokio::test]
async fn each_item_is_judged_from_its_own_start() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_full(&s, vec![villa((7, 13), (7, 16)), villa((8, 5), (8, 8))]).await;
    let date = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    assert_eq!(booking.terms.start.local_date(), date(7, 13));
    assert_eq!(booking.terms.start_of(0), booking.terms.start);
    assert_eq!(booking.terms.start_of(1).local_date(), date(8, 5));
    let july = booking.items[0].quote.total();
    let august = booking.items[1].quote.total();
    assert_eq!(july, eur("360.00"));
    // On 3 July the July stay is 10 days out (25% kept) and the August
    // stay 33 (free): judged from the booking's start, August would have
    // kept 25% too.
    let quote = quote_at(&s, &booking, ten_days_before()).await;
    assert_eq!(quote.refund(), eur("270.00").checked_add(&august).unwrap());
    let parts: Vec<(&[usize], Money)> = quote
        .parts()
        .iter()
        .map(|p| (p.items(), p.quote().refund()))
        .collect();
    assert_eq!(parts, [(&[0][..], eur("270.00")), (&[1][..], august)]);

    // A modification moves the second stay to 20 July: its start follows.
    let modified =
        s.w.engine
            .modify(&ModifyRequest {
                idempotency_key: "m1".into(),
                booking: booking.id.clone(),
                items: vec![villa((7, 13), (7, 16)), villa((7, 20), (7, 23))],
                payment_method: Some("tok_visa".into()),
                expected_total: None,
            })
            .await
            .unwrap();
    assert_eq!(modified.terms.start_of(1).local_date(), date(7, 20));
    let quote = quote_at(&s, &modified, ten_days_before()).await;
    let second = modified.items[1].quote.total();
    // 17 days out: 25% of the second stay is kept as well.
    let kept = Money::new(
        (july.amount() + second.amount()) * rust_decimal::Decimal::new(25, 2),
        july.currency(),
    );
    assert_eq!(quote.kept(), kept);

    // A booking whose items start together stores no per-item starts, so
    // its record is what it was before items had starts of their own.
    let hold = hold_villa(&s.w, "h2", (9, 1), (9, 4)).await;
    let single =
        s.w.engine
            .pay_and_confirm(&pay("p2", &hold, PayAmount::Full))
            .await
            .unwrap();
    assert!(single.terms.item_starts.is_empty());
    let stored = s.w.store.get(&[format!("bk/{}", single.id)]).await.unwrap();
    let record = &stored[0].as_ref().unwrap().value;
    assert!(!String::from_utf8_lossy(record).contains("item_starts"));
}

/// A booking stored before quotes said what each night costs has its
/// accommodation spread evenly over its nights, as it was then.
#[tokio::test]
async fn a_booking_stored_without_night_prices_spreads_its_accommodation_evenly() {
    let s = shop().await;
    let booking = thursday_to_sunday(&s).await;
    let key = format!("bk/{}", booking.id);
    let stored = s.w.store.get(std::slice::from_ref(&key)).await.unwrap();
    let mut record: serde_json::Value =
        serde_json::from_slice(&stored[0].as_ref().unwrap().value).unwrap();
    let quote = &mut record["items"][0]["quote"];
    assert!(quote.as_object_mut().unwrap().remove("nights").is_some());
    s.w.store
        .commit(CommitBatch {
            mutations: vec![Mutation::Put {
                key,
                value: serde_json::to_vec(&record).unwrap(),
            }],
            ..CommitBatch::default()
        })
        .await
        .unwrap();
    let late = the_day_before(&s, &booking).await;
    // A third of 340.00, rounded up to the first of the three nights.
    assert_eq!(late.penalty(), eur("113.34"));
}

#[tokio::test]
async fn gateway_without_partial_refunds_refuses_a_partial_refund_and_changes_nothing() {
    let s = shop_with(no_partial_refunds(), None).await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    s.w.clock.set(ten_days_before()).unwrap();
    let before = s.w.store.dump();
    let err =
        s.w.engine
            .cancel(&cancel("c1", &booking.id))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_UNSUPPORTED");
    assert_eq!(s.w.store.dump(), before);
    assert!(s.gateway.calls().iter().all(|c| c.op != "refund"));
}

#[tokio::test]
async fn gateway_without_partial_refunds_refunds_whole_payments() {
    let s = shop_with(no_partial_refunds(), None).await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(260.00), dec!(100.00)]);
    assert_eq!(s.gateway.refunded(), dec!(360.00));
}

#[tokio::test]
async fn refund_never_exceeds_what_was_paid() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("100.00")))
            .await
            .unwrap();
    let quote = s.w.engine.refund_quote(&booking.id, s.w.clock.now()).await;
    assert_eq!(quote.unwrap().refund(), eur("100.00"));
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(100.00)]);
    assert_eq!(s.gateway.refunded(), dec!(100.00));
    let ledger = cancelled.money.commission.unwrap();
    assert!(ledger.remaining().gross().is_zero());
}

#[tokio::test]
async fn without_a_policy_a_booking_is_non_refundable() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert!(cancelled.money.refunds.is_empty());
    assert!(s.gateway.calls().iter().all(|c| c.op != "refund"));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
}

#[tokio::test]
async fn no_show_keeps_the_late_penalty_and_frees_the_nights() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    let request = NoShowRequest {
        idempotency_key: "n1".into(),
        booking: booking.id.clone(),
    };
    // Before the 14:00 check-in on 13 July, the guest can still come.
    let check_in = Utc.with_ymd_and_hms(2026, 7, 13, 14, 0, 0).unwrap();
    s.w.clock.set(check_in - Duration::seconds(1)).unwrap();
    let before = s.w.store.dump();
    let err = s.w.engine.mark_no_show(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");
    assert_eq!(s.w.store.dump(), before);
    s.w.clock.set(check_in + Duration::hours(20)).unwrap();
    let gone = s.w.engine.mark_no_show(&request).await.unwrap();
    assert_eq!(gone.status, BookingStatus::NoShow);
    assert_eq!(refunded(&gone), [dec!(260.00)]);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
    assert_eq!(events(&s.w, "booking.no_show").await.len(), 1);
    assert_eq!(s.w.engine.mark_no_show(&request).await.unwrap(), gone);
    let err =
        s.w.engine
            .cancel(&cancel("c1", &booking.id))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
}

#[tokio::test]
async fn cancel_replays_by_key_and_refuses_a_second_cancellation() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    let first = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    let replay = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(replay, first);
    assert_eq!(s.gateway.refunded(), dec!(360.00));
    let err =
        s.w.engine
            .cancel(&cancel("c2", &booking.id))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    let mut other = cancel("c1", &booking.id);
    other.reason = None;
    let err = s.w.engine.cancel(&other).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    let err =
        s.w.engine
            .mark_no_show(&NoShowRequest {
                idempotency_key: "c1".into(),
                booking: booking.id.clone(),
            })
            .await
            .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
}

#[tokio::test]
async fn refund_with_an_unknown_outcome_stays_pending_until_reconciled() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    s.gateway.lose_next(1);
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert!(cancelled.money.has_pending_refunds());
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["c1:refund:1"]);
    let settled = s.w.engine.booking(&booking.id).await.unwrap();
    assert!(!settled.money.has_pending_refunds());
    assert_eq!(s.gateway.refunded(), dec!(360.00));
    assert_eq!(events(&s.w, "refund.issued").await.len(), 2);
}
