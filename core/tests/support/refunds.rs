//! Helpers shared by the engine cancellation tests: the villa paid in
//! full or in two payments, stay requests, the `flex` plan, and the
//! refunds a booking is quoted or was issued.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use reservo::engine::{Booking, Item, PayAmount, PayBalanceRequest, QuoteRequest};
use reservo::ids::RatePlanId;
use reservo::money::Money;
use reservo::party::Party;
use reservo::policy::{CancellationPolicy, Penalty};
use rust_decimal::Decimal;

use super::catalog::{rid, stay};
use super::money::{Shop, deposit, hold_villa, pay};

pub async fn refund_at(s: &Shop, booking: &Booking, t: DateTime<Utc>) -> Money {
    s.w.engine
        .refund_quote(&booking.id, t)
        .await
        .unwrap()
        .refund()
}

pub fn refunded(booking: &Booking) -> Vec<Decimal> {
    booking
        .money
        .refunds
        .iter()
        .map(|r| r.amount.amount())
        .collect()
}

pub async fn villa_paid(s: &Shop, key: &str, from: (u32, u32), to: (u32, u32)) -> Booking {
    let hold = hold_villa(&s.w, &format!("h-{key}"), from, to).await;
    s.w.engine
        .pay_and_confirm(&pay(&format!("p-{key}"), &hold, PayAmount::Full))
        .await
        .unwrap()
}

pub fn stay_request(resource: &str, from: (u32, u32), to: (u32, u32)) -> QuoteRequest {
    QuoteRequest::new(Item::stay(
        rid(resource),
        stay(from, to),
        Party::adults(2).unwrap(),
    ))
}

pub fn flex() -> RatePlanId {
    RatePlanId::new("flex").unwrap()
}

/// Puts on the `flex` plan a policy that keeps a fixed fee of `amount`
/// euros, and nothing else, whenever a booking is cancelled.
pub async fn use_fixed_fee_policy(s: &Shop, amount: &str) {
    let fee = CancellationPolicy::new(
        vec![],
        Penalty::Fixed {
            amount: super::money::eur(amount),
        },
        vec![],
    )
    .unwrap();
    s.w.engine
        .set_cancellation_policy(&flex(), fee)
        .await
        .unwrap();
}

/// The villa 13-16 July (360.00), paid 100.00 then 260.00.
pub async fn paid_in_two(s: &Shop) -> Booking {
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
