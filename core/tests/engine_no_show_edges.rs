//! No-shows and shared fixed penalties on bookings of several stays: a
//! no-show judges every stay as one, it can be recorded from the very
//! instant the booking starts, and a fixed fee shared by stays that start
//! on different days is split by their prices.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;
#[path = "support/policy.rs"]
mod policy;
#[path = "support/refunds.rs"]
mod refunds;

use chrono::Duration;
use money::{eur, hold_items, pay, shop, use_tiered_policy};
use policy::utc;
use refunds::{refunded, stay_request, use_fixed_fee_policy, villa_paid};
use reservo::booking::BookingStatus;
use reservo::engine::{Booking, NoShowRequest, PayAmount};
use reservo::money::Money;
use reservo::policy::AppliedRule;
use rust_decimal_macros::dec;

fn no_show(key: &str, booking: &Booking) -> NoShowRequest {
    NoShowRequest {
        idempotency_key: key.into(),
        booking: booking.id.clone(),
    }
}

/// The villa 13-16 July (360.00) and the double room from 3 August to
/// `double_out`, one booking on the `flex` plan, paid in full.
async fn two_stays(s: &money::Shop, key: &str, double_out: (u32, u32)) -> Booking {
    let hold = hold_items(
        &s.w,
        &format!("h-{key}"),
        vec![
            stay_request("villa", (7, 13), (7, 16)),
            stay_request("double", (8, 3), double_out),
        ],
    )
    .await;
    s.w.engine
        .pay_and_confirm(&pay(&format!("p-{key}"), &hold, PayAmount::Full))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_no_show_is_recorded_from_the_instant_the_booking_starts() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = villa_paid(&s, "a", (7, 13), (7, 16)).await;
    let start = booking.terms.first_start();
    s.w.clock.set(start - Duration::seconds(1)).unwrap();
    let err = s.w.engine.mark_no_show(&no_show("n1", &booking)).await;
    assert_eq!(err.unwrap_err().code(), "INVALID_INPUT");
    s.w.clock.set(start).unwrap();
    let marked = s.w.engine.mark_no_show(&no_show("n2", &booking)).await;
    assert_eq!(marked.unwrap().status, BookingStatus::NoShow);
}

#[tokio::test]
async fn a_no_show_judges_every_stay_of_the_booking_as_a_no_show() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    // The double room 3-6 August: 360.00 too.
    let booking = two_stays(&s, "a", (8, 6)).await;
    assert_eq!(booking.total, eur("720.00"));
    // The evening of the first stay's arrival: the second stay is still
    // 20 days away, where a cancellation would keep 25% of it.
    let evening = utc(2026, 7, 13, 20, 0, 0);
    let cancelled_then = s.w.engine.refund_quote(&booking.id, evening).await.unwrap();
    let rules: Vec<AppliedRule> = cancelled_then
        .parts()
        .iter()
        .map(|p| p.quote().rule())
        .collect();
    assert!(
        matches!(
            rules[..],
            [AppliedRule::Late { .. }, AppliedRule::Tier { .. }]
        ),
        "{rules:?}"
    );
    s.w.clock.set(evening).unwrap();
    let marked =
        s.w.engine
            .mark_no_show(&no_show("n1", &booking))
            .await
            .unwrap();
    assert_eq!(marked.status, BookingStatus::NoShow);
    // Each stay keeps its first night (100.00 each, both Mondays), as a
    // late cancellation of each would; cancelling that evening instead
    // would have kept 100.00 + 25% of 360.00.
    assert_eq!(cancelled_then.refund(), eur("530.00"));
    assert_eq!(refunded(&marked), [dec!(520.00)]);
    assert_eq!(s.gateway.refunded(), dec!(520.00));
}

#[tokio::test]
async fn a_fixed_fee_shared_by_stays_starting_on_different_days_is_split_by_price() {
    let s = shop().await;
    use_fixed_fee_policy(&s, "50.00").await;
    // The double room 3-5 August: 260.00 with its cleaning, against the
    // villa's 360.00.
    let booking = two_stays(&s, "a", (8, 5)).await;
    let quote =
        s.w.engine
            .refund_quote(&booking.id, utc(2026, 6, 2, 0, 0, 0))
            .await
            .unwrap();
    let parts: Vec<(&[usize], Money, Money)> = quote
        .parts()
        .iter()
        .map(|p| (p.items(), p.quote().penalty(), p.quote().refund()))
        .collect();
    assert_eq!(booking.total, eur("620.00"));
    // 50.00 x 360/620 = 29.03 and 50.00 x 260/620 = 20.97, each with its
    // own stay.
    assert_eq!(
        parts,
        [
            (&[0][..], eur("29.03"), eur("330.97")),
            (&[1][..], eur("20.97"), eur("239.03")),
        ]
    );
    assert_eq!(quote.penalty(), eur("50.00"));
}
