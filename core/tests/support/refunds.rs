//! Helpers shared by the engine cancellation tests: the villa paid in
//! full or in two payments, stay requests, the `flex` plan, and the
//! refunds a booking is quoted or was issued, and a booking at a property
//! in another currency.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::engine::{Booking, Item, PayAmount, PayBalanceRequest, QuoteRequest};
use reservo::ids::RatePlanId;
use reservo::money::Money;
use reservo::party::Party;
use reservo::policy::{CancellationPolicy, Penalty, Percentage, Threshold, Tier};
use reservo::pricing::RatePlan;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::catalog::{pid, rid, stay};
use super::money::{Shop, deposit, hold_items, hold_villa, pay};

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

pub fn plan_in(id: &str, code: &str, base: &str) -> RatePlan {
    RatePlan::from_json(&format!(
        r#"{{"id": "{id}", "name": "Plan {id}", "unit": "night",
             "base_price": {{"amount": "{base}", "currency": "{code}"}}}}"#
    ))
    .unwrap()
}

/// A property, plan and one-unit room in `code` at `base` a night, with
/// a policy keeping a third until 7 days before, and a booking of 13-16
/// July there paid as a 40% deposit and its balance.
pub async fn add_property_in(s: &Shop, code: &str, zone: &str, base: &str) -> Booking {
    let property = format!("prop-{}", code.to_lowercase());
    let plan = format!("plan-{}", code.to_lowercase());
    let room = format!("room-{}", code.to_lowercase());
    s.w.engine
        .put_property(Property::new(&property, "Elsewhere", "owner-x", zone, code).unwrap())
        .await
        .unwrap();
    s.w.engine
        .put_rate_plan(plan_in(&plan, code, base))
        .await
        .unwrap();
    s.w.engine
        .put_resource(Resource {
            id: rid(&room),
            property: pid(&property),
            name: "Room".into(),
            rate_plan: RatePlanId::new(&plan).unwrap(),
            kind: ResourceKind::Nightly {
                units: 1,
                max_occupancy: 2,
            },
        })
        .await
        .unwrap();
    let policy = CancellationPolicy::new(
        vec![Tier::new(
            Threshold::days(7),
            Penalty::percent(Percentage::new(dec!(33.333)).unwrap()),
        )],
        Penalty::FULL,
        vec![],
    )
    .unwrap();
    s.w.engine
        .set_cancellation_policy(&RatePlanId::new(&plan).unwrap(), policy)
        .await
        .unwrap();
    let hold = hold_items(
        &s.w,
        &format!("h-{room}"),
        vec![stay_request(&room, (7, 13), (7, 16))],
    )
    .await;
    let first = hold
        .total
        .times(dec!(0.4))
        .round(reservo::money::RoundingMode::TowardZero);
    let booking =
        s.w.engine
            .pay_and_confirm(&pay(
                &format!("p-{room}"),
                &hold,
                PayAmount::Deposit { amount: first },
            ))
            .await
            .unwrap();
    s.w.engine
        .pay_balance(&PayBalanceRequest {
            idempotency_key: format!("b-{room}"),
            booking: booking.id.clone(),
            payment_method: "tok_visa".into(),
        })
        .await
        .unwrap()
}
