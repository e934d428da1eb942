//! Change fees on an engine that sells in several currencies: a flat fee
//! is in one currency, so each other currency the engine modifies
//! bookings in needs its own fee (`EngineBuilder::change_fee_in`), and a
//! booking in a currency without one is refused with nothing changed.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/modifications.rs"]
mod modifications;
#[path = "support/money.rs"]
mod money;
#[path = "support/refunds.rs"]
mod refunds;

use std::sync::Arc;

use catalog::world_with;
use gateway::TestGateway;
use modifications::{flat_fee, modify};
use money::{Shop, eur, villa_paid_in_full};
use refunds::{add_property_in, stay_request};
use reservo::commission::FeeRate;
use reservo::engine::{Engine, ModifyRequest};
use reservo::money::{Currency, Money};
use reservo::policy::Percentage;
use reservo::store::MemoryStore;

fn yen(amount: &str) -> Money {
    Money::parse(amount, "JPY").unwrap()
}

fn jpy() -> Currency {
    Currency::from_code("JPY").unwrap()
}

/// A shop whose engine charges 10.00 EUR a modification, and `yen_fee`
/// for bookings in yen when given.
async fn shop_with_fees(yen_fee: Option<FeeRate>) -> Shop {
    let gateway = TestGateway::new();
    let for_engine = gateway.clone();
    let w = world_with(move |b| {
        let b = b.payment_gateway(for_engine).change_fee(flat_fee("10.00"));
        match yen_fee {
            Some(fee) => b.change_fee_in(jpy(), fee),
            None => b,
        }
    })
    .await;
    Shop { w, gateway }
}

/// The yen booking (13-16 July, 3 x 10001) moved a day later: same price.
fn move_yen_booking(booking: &reservo::engine::Booking) -> ModifyRequest {
    ModifyRequest {
        items: vec![stay_request("room-jpy", (7, 14), (7, 17))],
        ..modify("m-jpy", &booking.id, (7, 14), (7, 17))
    }
}

#[tokio::test]
async fn a_booking_in_a_currency_without_a_fee_of_its_own_is_refused_unchanged() {
    let s = shop_with_fees(None).await;
    let booking = add_property_in(&s, "JPY", "Asia/Tokyo", "10001").await;
    let request = move_yen_booking(&booking);
    let before = s.w.store.dump();
    let calls = s.gateway.calls().len();
    let quoted =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await;
    assert_eq!(quoted.unwrap_err().code(), "CURRENCY_MISMATCH");
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    assert_eq!(s.w.store.dump(), before);
    assert_eq!(s.gateway.calls().len(), calls);
}

#[tokio::test]
async fn each_currency_pays_its_own_change_fee() {
    let percent = Percentage::parse("10").unwrap();
    let yen_fee = FeeRate::new(percent, Some(yen("500"))).unwrap();
    let s = shop_with_fees(Some(yen_fee)).await;
    // Yen: 10% of 30003 is 3000.3, rounded to whole yen, plus 500.
    let booking = add_property_in(&s, "JPY", "Asia/Tokyo", "10001").await;
    let request = move_yen_booking(&booking);
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    let fee = quote.change_fee;
    assert_eq!(fee, yen("3500"));
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.money.change_fees, Some(fee));
    assert_eq!(modified.total, yen("30003").checked_add(&fee).unwrap());
    // Euros keep the engine's own fee.
    let villa = villa_paid_in_full(&s.w).await;
    let modified =
        s.w.engine
            .modify(&modify("m-eur", &villa.id, (7, 14), (7, 17)))
            .await
            .unwrap();
    assert_eq!(modified.money.change_fees, Some(eur("10.00")));
}

#[test]
fn a_fee_set_for_a_currency_must_be_in_it() {
    let built = Engine::builder(Arc::new(MemoryStore::new()))
        .change_fee_in(jpy(), flat_fee("10.00"))
        .try_build();
    assert_eq!(built.err().map(|e| e.code()), Some("INVALID_INPUT"));
    let percent_only = FeeRate::percent(Percentage::parse("5").unwrap());
    let built = Engine::builder(Arc::new(MemoryStore::new()))
        .change_fee_in(jpy(), percent_only)
        .try_build();
    assert!(built.is_ok());
}
