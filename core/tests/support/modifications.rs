//! Helpers shared by the modification and payment tests: a shop with a
//! flat change fee, modification and balance requests, and the sums a
//! booking must agree with (net at the gateway, items plus change fees).

#![allow(dead_code)]

use reservo::commission::FeeRate;
use reservo::engine::{Booking, ModifyRequest, PayBalanceRequest};
use reservo::ids::BookingId;
use reservo::money::Money;
use reservo::policy::Percentage;
use rust_decimal::Decimal;

use super::gateway::TestGateway;
use super::money::{Shop, eur, shop_with, villa};

pub fn flat_fee(amount: &str) -> FeeRate {
    FeeRate::new(Percentage::ZERO, Some(eur(amount))).unwrap()
}

pub async fn shop_with_fee(amount: &str) -> Shop {
    shop_with(TestGateway::new(), Some(flat_fee(amount))).await
}

pub fn modify(key: &str, booking: &BookingId, from: (u32, u32), to: (u32, u32)) -> ModifyRequest {
    ModifyRequest {
        idempotency_key: key.into(),
        booking: booking.clone(),
        items: vec![villa(from, to)],
        payment_method: Some("tok_visa".into()),
        expected_total: None,
    }
}

pub fn balance(key: &str, booking: &BookingId) -> PayBalanceRequest {
    PayBalanceRequest {
        idempotency_key: key.into(),
        booking: booking.clone(),
        payment_method: "tok_visa".into(),
    }
}

/// What the guest has at the gateway, net of refunds.
pub fn net_at_gateway(gateway: &TestGateway) -> Decimal {
    gateway.captured() - gateway.refunded()
}

/// The booking's items' totals plus its change fees: what its total must be.
pub fn priced_total(booking: &Booking) -> Money {
    let currency = booking.total.currency();
    let items = booking.items.iter().fold(Money::zero(currency), |sum, i| {
        sum.checked_add(&i.quote.total()).unwrap()
    });
    items
        .checked_add(&booking.money.change_fees(currency))
        .unwrap()
}
