//! Modifications at their limits: the most items a booking takes, and a
//! charge whose answer was lost while another modification moved the
//! booking elsewhere at the same price.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/modifications.rs"]
mod modifications;
#[path = "support/money.rs"]
mod money;

use catalog::{rid, stay};
use modifications::{modify, net_at_gateway};
use money::{eur, shop, villa_free, villa_paid_in_full};
use reservo::engine::{AttemptState, Item, ModifyRequest, QuoteRequest};
use reservo::party::Party;
use rust_decimal_macros::dec;

fn double(from: (u32, u32), to: (u32, u32)) -> QuoteRequest {
    QuoteRequest::new(Item::stay(
        rid("double"),
        stay(from, to),
        Party::adults(2).unwrap(),
    ))
}

#[tokio::test]
async fn a_modification_takes_up_to_the_most_items_a_hold_takes() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let max = reservo::engine::MAX_HOLD_ITEMS;
    // One August night of the double room each, no night twice.
    let nights = |n: usize| -> Vec<QuoteRequest> {
        (0..n)
            .map(|i| {
                let day = u32::try_from(i % 31).unwrap() + 1;
                if i < 31 {
                    double((8, day), if day == 31 { (9, 1) } else { (8, day + 1) })
                } else {
                    double((9, day), (9, day + 1))
                }
            })
            .collect()
    };
    let request = |key: &str, items: Vec<QuoteRequest>| ModifyRequest {
        idempotency_key: key.into(),
        booking: booking.id.clone(),
        items,
        payment_method: Some("tok_visa".into()),
        expected_total: None,
    };
    let before = s.w.store.dump();
    for (key, items) in [("none", Vec::new()), ("too-many", nights(max + 1))] {
        let err = s.w.engine.modify(&request(key, items)).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{key}: {err}");
    }
    assert_eq!(s.w.store.dump(), before);
    let modified =
        s.w.engine
            .modify(&request("most", nights(max)))
            .await
            .unwrap();
    assert_eq!(modified.items.len(), max);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
}

/// The modification to 14-18 July loses its charge's answer; meanwhile
/// another one moves the stay to 20-23 July at the same price. The first
/// was priced on 13-16 July, so it no longer applies: reconciling reverses
/// its charge and the booking keeps 20-23 July.
#[tokio::test]
async fn a_lost_charge_is_reversed_when_another_modification_moved_the_stay_at_the_same_price() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    assert_eq!(booking.total, eur("360.00"));
    s.gateway.lose_next(1);
    let err =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 14), (7, 18)))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    // Mon 20 to Thu 23 July: 3 x 100.00 + 60.00, nothing to pay or refund.
    let moved =
        s.w.engine
            .modify(&modify("m2", &booking.id, (7, 20), (7, 23)))
            .await
            .unwrap();
    assert_eq!(moved.total, eur("360.00"));
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["m1:charge"]);
    let attempt = s.w.engine.payment_attempt("m1").await.unwrap();
    assert!(
        matches!(attempt.state, AttemptState::Reversed { .. }),
        "{:?}",
        attempt.state
    );
    let now = s.w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(now.items, moved.items);
    assert_eq!(now.total, eur("360.00"));
    assert_eq!(net_at_gateway(&s.gateway), dec!(360.00));
    // Neither the charge nor its reversal is still waited on.
    let waited_on: Vec<String> =
        s.w.store
            .dump()
            .records
            .into_iter()
            .map(|r| r.key)
            .filter(|key| key.starts_with("pq/"))
            .collect();
    assert!(waited_on.is_empty(), "{waited_on:?}");
    assert_eq!(
        villa_free(&s.w, (7, 13), (7, 24)).await,
        [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1]
    );
}
