//! Promo codes in modifications: a booking's own use of a code is free, as
//! its own units are; a code it did not carry counts one use, within the
//! code's limit.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use money::{Shop, ana, eur, hold_items, shop, villa};
use reservo::engine::{Booking, ConfirmRequest, ModifyRequest, QuoteRequest};

/// 10% off the accommodation, for one booking only.
async fn put_once(s: &Shop) {
    let once = catalog::limited_promo("ONCE", 1);
    s.w.engine.put_promo(once).await.unwrap();
}

async fn booked(s: &Shop, key: &str, item: QuoteRequest) -> Booking {
    let hold = hold_items(&s.w, &format!("h-{key}"), vec![item]).await;
    s.w.engine
        .confirm(&ConfirmRequest::new(key, hold.id, ana()))
        .await
        .unwrap()
}

fn moved(key: &str, booking: &Booking, item: QuoteRequest) -> ModifyRequest {
    ModifyRequest {
        idempotency_key: key.into(),
        booking: booking.id.clone(),
        items: vec![item],
        payment_method: None,
        expected_total: None,
    }
}

#[tokio::test]
async fn a_booking_keeps_the_code_whose_last_use_it_took() {
    let s = shop().await;
    put_once(&s).await;
    // 13-16 July: 300.00 of nights (10% off: 270.00) and 60.00 cleaning.
    let booking = booked(&s, "c1", villa((7, 13), (7, 16)).with_promo("once")).await;
    assert_eq!(booking.total, eur("330.00"));
    let later = || villa((7, 20), (7, 23)).with_promo("ONCE");
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &[later()])
            .await
            .unwrap();
    assert_eq!(quote.new_total, eur("330.00"));
    let modified = s.w.engine.modify(&moved("m1", &booking, later())).await;
    assert_eq!(modified.unwrap().total, eur("330.00"));
    // Still one use: nobody else gets the code.
    let other = villa((8, 3), (8, 6)).with_promo("once");
    let err = s.w.engine.quote(&other).await.unwrap_err();
    assert_eq!(err.code(), "PROMO_NOT_APPLICABLE", "{err}");
}

#[tokio::test]
async fn a_code_added_by_a_modification_counts_a_use() {
    let s = shop().await;
    put_once(&s).await;
    let first = booked(&s, "c1", villa((7, 13), (7, 16))).await;
    let second = booked(&s, "c2", villa((8, 3), (8, 6))).await;
    assert_eq!(first.total, eur("360.00"));

    let discounted = villa((7, 13), (7, 16)).with_promo("once");
    let modified =
        s.w.engine
            .modify(&moved("m1", &first, discounted.clone()))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("330.00"));

    let also = villa((8, 3), (8, 6)).with_promo("once");
    let err =
        s.w.engine
            .quote_modification(&second.id, std::slice::from_ref(&also))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PROMO_NOT_APPLICABLE", "{err}");
    let err =
        s.w.engine
            .modify(&moved("m2", &second, also))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PROMO_NOT_APPLICABLE", "{err}");
    assert_eq!(s.w.engine.booking(&second.id).await.unwrap(), second);

    // The first booking, which took the use, moves with it.
    let again = villa((7, 20), (7, 23)).with_promo("once");
    let moved_again = s.w.engine.modify(&moved("m3", &first, again)).await;
    assert_eq!(moved_again.unwrap().total, eur("330.00"));
}
