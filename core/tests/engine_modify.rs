//! Modification: re-quote, change fee, one-commit inventory swap, and the
//! difference charged or refunded.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::{d, rid};
use chrono::{TimeZone, Utc};
use gateway::TestGateway;
use money::{
    cancel, eur, events, hold_villa, pay, shop, shop_with, villa, villa_free, villa_paid_in_full,
};
use reservo::booking::BookingStatus;
use reservo::commission::FeeRate;
use reservo::engine::{Booking, Item, ModifyRequest, PayAmount, QuoteRequest};
use reservo::party::Party;
use reservo::policy::Percentage;
use reservo::ports::{CommitBatch, Mutation, Storage};
use rust_decimal_macros::dec;

async fn ten_euro_fee_shop() -> money::Shop {
    let fee = FeeRate::new(Percentage::ZERO, Some(eur("10.00"))).unwrap();
    shop_with(TestGateway::new(), Some(fee)).await
}

fn modify(key: &str, booking: &Booking, from: (u32, u32), to: (u32, u32)) -> ModifyRequest {
    ModifyRequest {
        idempotency_key: key.into(),
        booking: booking.id.clone(),
        items: vec![villa(from, to)],
        payment_method: Some("tok_visa".into()),
        expected_total: None,
    }
}

#[tokio::test]
async fn longer_stay_is_quoted_then_charged_and_the_nights_swapped() {
    let s = ten_euro_fee_shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    // Tue 14 to Sat 18 July: 3 x 100.00 + Friday 120.00 + cleaning 60.00.
    let request = modify("m1", &booking, (7, 14), (7, 18));
    let before = s.w.store.dump();
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    assert_eq!(s.w.store.dump(), before);
    assert_eq!(quote.current_total, eur("360.00"));
    assert_eq!(quote.new_total, eur("490.00"));
    assert_eq!(quote.change_fee, eur("10.00"));
    assert_eq!(quote.difference, eur("130.00"));
    assert_eq!(quote.to_charge, eur("130.00"));
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.total, eur("490.00"));
    assert_eq!(modified.status, BookingStatus::Confirmed);
    assert_eq!(modified.money.payments.len(), 2);
    assert_eq!(s.gateway.captured(), dec!(490.00));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [1, 0, 0, 0, 0]);
    let listed =
        s.w.engine
            .bookings_for_resource(&rid("villa"), d(7, 13), d(7, 14))
            .await
            .unwrap();
    assert!(listed.is_empty());
    assert_eq!(events(&s.w, "booking.modified").await.len(), 1);
    assert_eq!(s.w.engine.modify(&request).await.unwrap(), modified);
    assert_eq!(s.gateway.captured(), dec!(490.00));
}

#[tokio::test]
async fn shorter_stay_refunds_the_difference_less_the_change_fee() {
    let s = ten_euro_fee_shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking, (7, 13), (7, 15)))
            .await
            .unwrap();
    // 2 x 100.00 + 60.00 + the 10.00 fee: 270.00 of the 360.00 paid.
    assert_eq!(modified.total, eur("270.00"));
    assert_eq!(s.gateway.refunded(), dec!(90.00));
    assert_eq!(
        modified.money.paid(modified.total.currency()),
        eur("270.00")
    );
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 1]);
    let ledger = modified.money.commission.unwrap();
    assert_eq!(ledger.split().gross(), eur("270.00"));
}

#[tokio::test]
async fn modification_to_unavailable_dates_changes_nothing() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let other = hold_villa(&s.w, "h2", (7, 20), (7, 23)).await;
    s.w.engine
        .pay_and_confirm(&pay("p2", &other, PayAmount::Full))
        .await
        .unwrap();
    let calls = s.gateway.calls().len();
    let before = s.w.store.dump();
    let request = modify("m1", &booking, (7, 19), (7, 22));
    let err =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert_eq!(s.w.store.dump(), before);
    assert_eq!(s.gateway.calls().len(), calls);
}

#[tokio::test]
async fn a_modification_to_another_property_is_refused_and_changes_nothing() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let before = s.w.store.dump();
    // The surf school is Rui's; the booking pays Ana.
    let lesson = QuoteRequest::new(Item::session(
        rid("surf-lesson"),
        Utc.with_ymd_and_hms(2026, 7, 14, 8, 0, 0).unwrap(),
        Party::adults(2).unwrap(),
    ));
    let err =
        s.w.engine
            .quote_modification(&booking.id, std::slice::from_ref(&lesson))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("surf-school"), "{err}");
    let mut request = modify("m1", &booking, (7, 13), (7, 16));
    request.items = vec![lesson];
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(s.w.store.dump(), before);
}

#[tokio::test]
async fn declined_charge_for_a_modification_changes_nothing_but_the_attempt() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let mut request = modify("m1", &booking, (7, 13), (7, 18));
    request.payment_method = Some(gateway::DECLINED_CARD.into());
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    assert_eq!(s.w.engine.booking(&booking.id).await.unwrap(), booking);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [0, 0, 0, 1, 1]);
    request.payment_method = None;
    request.idempotency_key = "m2".into();
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[tokio::test]
async fn modify_reuses_keys_only_for_the_same_request_and_never_a_cancelled_booking() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    s.w.engine
        .modify(&modify("m1", &booking, (7, 13), (7, 15)))
        .await
        .unwrap();
    let err =
        s.w.engine
            .modify(&modify("m1", &booking, (7, 14), (7, 15)))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    let err =
        s.w.engine
            .modify(&modify("m2", &booking, (7, 14), (7, 15)))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
}

/// Stores written before the month entries (ADR 021) index a booking once
/// a night under `br/`: listings still find it there, and a modification
/// removes those entries and writes month entries.
#[tokio::test]
async fn bookings_indexed_per_night_by_older_versions_are_listed_and_reindexed_when_modified() {
    let s = ten_euro_fee_shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let indexed = |prefix: &'static str| {
        let dump = s.w.store.dump();
        dump.records
            .into_iter()
            .map(|r| r.key)
            .filter(|key| key.starts_with(prefix))
            .collect::<Vec<_>>()
    };
    let months = indexed("bm/");
    assert_eq!(months, [format!("bm/villa/2026-07/{}", booking.id)]);
    let nights: Vec<String> = booking.items[0]
        .uses
        .iter()
        .map(|u| format!("br/villa/{}/{}", u.date, booking.id))
        .collect();
    assert!(nights.len() > 1);
    let mut mutations: Vec<Mutation> = months
        .into_iter()
        .map(|key| Mutation::Delete { key })
        .collect();
    mutations.extend(nights.iter().map(|key| Mutation::Put {
        key: key.clone(),
        value: Vec::new(),
    }));
    let batch = CommitBatch {
        mutations,
        ..Default::default()
    };
    s.w.store.commit(batch).await.unwrap();
    let villa = rid("villa");
    let listed = |from, to| s.w.engine.bookings_for_resource(&villa, from, to);
    let first = booking.items[0].uses[0].date;
    let found = listed(first, first.succ_opt().unwrap()).await.unwrap();
    assert_eq!(found, std::slice::from_ref(&booking));

    let modified =
        s.w.engine
            .modify(&modify("m1", &booking, (7, 14), (7, 18)))
            .await
            .unwrap();
    assert_eq!(indexed("br/"), Vec::<String>::new());
    assert_eq!(indexed("bm/"), [format!("bm/villa/2026-07/{}", booking.id)]);
    assert_eq!(listed(d(7, 17), d(7, 18)).await.unwrap(), [modified]);
    assert!(listed(first, d(7, 14)).await.unwrap().is_empty());
}

#[tokio::test]
async fn moving_a_stay_to_another_month_moves_its_month_entry() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let month_entries = || {
        s.w.store
            .dump()
            .records
            .into_iter()
            .map(|r| r.key)
            .filter(|key| key.starts_with("bm/"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        month_entries(),
        [format!("bm/villa/2026-07/{}", booking.id)]
    );
    // Thu 30 July to Sun 2 August: a night in each month.
    s.w.engine
        .modify(&modify("m1", &booking, (7, 30), (8, 2)))
        .await
        .unwrap();
    assert_eq!(
        month_entries(),
        [
            format!("bm/villa/2026-07/{}", booking.id),
            format!("bm/villa/2026-08/{}", booking.id),
        ]
    );
    s.w.engine
        .modify(&modify("m2", &booking, (8, 10), (8, 12)))
        .await
        .unwrap();
    assert_eq!(
        month_entries(),
        [format!("bm/villa/2026-08/{}", booking.id)]
    );
}
