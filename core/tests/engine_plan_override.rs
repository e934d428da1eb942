//! A quote or hold may name a rate plan other than the resource's
//! default; the plan must be one that could have been its default.

#[path = "support/catalog.rs"]
mod catalog;

use catalog::{nightly_plan, rid, stay, world};
use chrono::{TimeZone, Utc};
use reservo::engine::{HoldRequest, Item, QuoteRequest};
use reservo::party::Party;
use reservo::pricing::RatePlan;

fn villa_in_june() -> Item {
    Item::stay(
        rid("villa"),
        stay((6, 5), (6, 8)),
        Party::adults(2).unwrap(),
    )
}

fn on_plan(item: Item, plan: &str) -> QuoteRequest {
    QuoteRequest {
        rate_plan: Some(plan.parse().unwrap()),
        ..QuoteRequest::new(item)
    }
}

#[tokio::test]
async fn a_plan_in_another_currency_is_refused_and_nothing_is_held() {
    let w = world().await;
    let dollars = RatePlan::from_json(
        r#"{"id": "usd", "name": "USD", "unit": "night", "base_price": {"amount": "1.00", "currency": "USD"}}"#,
    )
    .unwrap();
    w.engine.put_rate_plan(dollars).await.unwrap();
    let before = w.store.dump();
    let err = w
        .engine
        .quote(&on_plan(villa_in_june(), "usd"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    assert!(err.to_string().contains("EUR") && err.to_string().contains("USD"));
    let err = w
        .engine
        .hold(&HoldRequest::new(
            "h",
            vec![on_plan(villa_in_june(), "usd")],
            900,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    assert_eq!(w.store.dump(), before);
}

#[tokio::test]
async fn a_plan_that_prices_sessions_cannot_price_nights() {
    let w = world().await;
    let before = w.store.dump();
    for request in [
        on_plan(villa_in_june(), "lesson"),
        on_plan(
            // 09:00 in Lisbon (summer time) on Friday 5 June.
            Item::session(
                rid("surf-lesson"),
                Utc.with_ymd_and_hms(2026, 6, 5, 8, 0, 0).unwrap(),
                Party::adults(1).unwrap(),
            ),
            "flex",
        ),
    ] {
        let err = w.engine.quote(&request).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{err}");
        let err = w
            .engine
            .hold(&HoldRequest::new("h", vec![request], 900))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{err}");
        assert!(err.to_string().contains("rate plan"), "{err}");
    }
    assert_eq!(w.store.dump(), before);
}

#[tokio::test]
async fn another_plan_in_the_propertys_currency_prices_the_stay() {
    let w = world().await;
    w.engine
        .put_rate_plan(nightly_plan("saver", "80.00"))
        .await
        .unwrap();
    let saver = w
        .engine
        .quote(&on_plan(villa_in_june(), "saver"))
        .await
        .unwrap();
    // Friday and Saturday at the weekend rate, Sunday at 80.00, cleaning.
    assert_eq!(saver.quote.total().to_string(), "380.00 EUR");
    assert_eq!(saver.quote.rate_plan().as_str(), "saver");
    // Naming the default plan is the same as naming none.
    let default = w
        .engine
        .quote(&on_plan(villa_in_june(), "flex"))
        .await
        .unwrap();
    assert_eq!(
        default.quote,
        w.engine
            .quote(&QuoteRequest::new(villa_in_june()))
            .await
            .unwrap()
            .quote
    );
    let held = w
        .engine
        .hold(&HoldRequest::new(
            "h",
            vec![on_plan(villa_in_june(), "saver")],
            900,
        ))
        .await
        .unwrap();
    assert_eq!(held.total.to_string(), "380.00 EUR");
}
