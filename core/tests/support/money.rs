//! Helpers for the money tests: a world with a test gateway, a guest, holds
//! on the villa, payment requests and outbox reads.

#![allow(dead_code)]

use std::sync::Arc;

use reservo::booking::{Customer, Metadata};
use reservo::commission::FeeRate;
use reservo::engine::{
    Attribution, Booking, CancelRequest, Hold, HoldRequest, Item, PayAmount, PayRequest,
    QuoteRequest,
};
use reservo::ids::BookingId;
use reservo::ids::RatePlanId;
use reservo::money::Money;
use reservo::party::Party;
use reservo::policy::{CancellationPolicy, Penalty, Percentage, Threshold, Tier};
use reservo::ports::{GatewayCapabilities, Storage};

use super::catalog::{World, rid, stay, world_with};
use super::gateway::TestGateway;

pub struct Shop {
    pub w: World,
    pub gateway: Arc<TestGateway>,
}

/// A world whose engine takes payments through a test gateway that
/// refunds partially and charges in one step.
pub async fn shop() -> Shop {
    shop_with(TestGateway::new(), None).await
}

pub async fn shop_with(gateway: Arc<TestGateway>, change_fee: Option<FeeRate>) -> Shop {
    let for_engine = gateway.clone();
    let w = world_with(move |b| {
        let b = b.payment_gateway(for_engine);
        match change_fee {
            Some(fee) => b.change_fee(fee),
            None => b,
        }
    })
    .await;
    Shop { w, gateway }
}

pub fn no_partial_refunds() -> Arc<TestGateway> {
    TestGateway::with(GatewayCapabilities {
        partial_refunds: false,
        separate_capture: false,
    })
}

pub fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

pub fn ana() -> Customer {
    Customer::new("Ana Lima", "+351912345678", None).unwrap()
}

pub fn villa(from: (u32, u32), to: (u32, u32)) -> QuoteRequest {
    QuoteRequest::new(Item::stay(
        rid("villa"),
        stay(from, to),
        Party::adults(2).unwrap(),
    ))
}

/// Holds the villa for `[from, to)` for 15 minutes.
pub async fn hold_villa(w: &World, key: &str, from: (u32, u32), to: (u32, u32)) -> Hold {
    hold_items(w, key, vec![villa(from, to)]).await
}

/// A hold of `items` for 15 minutes under `key`.
pub async fn hold_items(w: &World, key: &str, items: Vec<QuoteRequest>) -> Hold {
    w.engine
        .hold(&HoldRequest::new(key, items, 900))
        .await
        .unwrap()
}

pub fn pay(key: &str, hold: &Hold, amount: PayAmount) -> PayRequest {
    PayRequest {
        idempotency_key: key.into(),
        hold: hold.id.clone(),
        customer: Some(ana()),
        payment_method: "tok_visa".into(),
        amount,
        attribution: Attribution::direct(),
        metadata: Metadata::new(),
    }
}

/// The villa 13-16 July (360.00), held under `h1` and paid in full under `p1`.
pub async fn villa_paid_in_full(w: &World) -> Booking {
    let hold = hold_villa(w, "h1", (7, 13), (7, 16)).await;
    w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap()
}

/// A cancellation of `booking` under `key`, without a reason.
pub fn cancel(key: &str, booking: &BookingId) -> CancelRequest {
    CancelRequest {
        idempotency_key: key.into(),
        booking: booking.clone(),
        reason: None,
    }
}

pub fn deposit(amount: &str) -> PayAmount {
    PayAmount::Deposit {
        amount: eur(amount),
    }
}

/// Full refund until 30 days before check-in, 75% until 7 days before,
/// then the first night is kept (also for no-shows).
pub fn tiered_policy() -> CancellationPolicy {
    CancellationPolicy::new(
        vec![
            Tier::new(Threshold::days(30), Penalty::None),
            Tier::new(
                Threshold::days(7),
                Penalty::percent(Percentage::whole(25).unwrap()),
            ),
        ],
        Penalty::first_nights(1, Percentage::ZERO).unwrap(),
        vec![],
    )
    .unwrap()
}

pub async fn use_tiered_policy(w: &World) {
    w.engine
        .set_cancellation_policy(&RatePlanId::new("flex").unwrap(), tiered_policy())
        .await
        .unwrap();
}

/// Every outbox event of `kind`, as JSON.
pub async fn events(w: &World, kind: &str) -> Vec<serde_json::Value> {
    w.store
        .read_events(0, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_slice(&e.payload).unwrap())
        .collect()
}

/// Villa units available per night of `[from, to)`.
pub async fn villa_free(w: &World, from: (u32, u32), to: (u32, u32)) -> Vec<u32> {
    let s = stay(from, to);
    w.engine
        .night_availability(&rid("villa"), s.check_in(), s.check_out())
        .await
        .unwrap()
        .iter()
        .map(|n| n.available)
        .collect()
}
