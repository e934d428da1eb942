//! Commissions snapshotted at booking, clawed back on refunds, and owner
//! statements over the stored bookings.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::{d, pid, rid, stay};
use chrono::{TimeZone, Utc};
use money::{ana, cancel, eur, hold_villa, pay, shop, use_tiered_policy};
use reservo::commission::{
    CommissionPlan, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms, StatementPeriod,
    TaxRemitter,
};
use reservo::engine::{Attribution, ConfirmRequest, HoldRequest, Item, PayAmount, QuoteRequest};
use reservo::ids::OwnerId;
use reservo::party::Party;
use reservo::policy::Percentage;

fn terms(role: IntermediaryRole, id: &str, rate: FeeRate) -> IntermediaryTerms {
    IntermediaryTerms {
        intermediary: Intermediary::new(role, id).unwrap(),
        rate,
    }
}

fn pct(p: u8) -> FeeRate {
    FeeRate::percent(Percentage::whole(p).unwrap())
}

fn plan() -> CommissionPlan {
    CommissionPlan::new(
        pct(3),
        vec![
            terms(IntermediaryRole::Channel, "booking-com", pct(15)),
            terms(IntermediaryRole::Channel, "airbnb", pct(5)),
            terms(
                IntermediaryRole::Broker,
                "agency-7",
                FeeRate::new(Percentage::whole(10).unwrap(), Some(eur("5.00"))).unwrap(),
            ),
        ],
        TaxRemitter::Owner,
    )
    .unwrap()
}

fn sold_by(channel: &str, broker: &str) -> Attribution {
    Attribution {
        channel: Some(channel.into()),
        broker: Some(broker.into()),
        broker_phone: Some("+351930000002".into()),
    }
}

#[tokio::test]
async fn booking_splits_by_its_own_channel_and_broker_and_claws_back_pro_rata() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    s.w.engine
        .set_commission_plan(&pid("casa-azul"), plan())
        .await
        .unwrap();
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.attribution = sold_by("booking-com", "agency-7");
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    let split = booking.money.commission.as_ref().unwrap().split().clone();
    assert_eq!(
        split.parts(),
        [
            eur("10.80"),
            eur("54.00"),
            eur("41.00"),
            eur("0.00"),
            eur("254.20")
        ]
    );
    assert_eq!(split.gross(), booking.total);
    // A later catalog change does not touch the snapshot.
    s.w.engine
        .set_commission_plan(
            &pid("casa-azul"),
            CommissionPlan::new(pct(50), vec![], TaxRemitter::Owner).unwrap(),
        )
        .await
        .unwrap();
    s.w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 3, 10, 0, 0).unwrap())
        .unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    let ledger = cancelled.money.commission.unwrap();
    assert_eq!(ledger.split(), &split);
    let clawback = &ledger.refunds()[0].clawback;
    assert_eq!(
        clawback.parts(),
        [
            eur("8.10"),
            eur("40.50"),
            eur("30.75"),
            eur("0.00"),
            eur("190.65")
        ]
    );
    assert_eq!(clawback.gross(), eur("270.00"));
    assert_eq!(ledger.remaining().gross(), eur("90.00"));
}

#[tokio::test]
async fn attribution_without_terms_in_the_plan_is_refused() {
    let s = shop().await;
    s.w.engine
        .set_commission_plan(&pid("casa-azul"), plan())
        .await
        .unwrap();
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let before = s.w.store.dump();
    let mut request = ConfirmRequest::new("c1", hold.id.clone(), ana());
    request.attribution = sold_by("expedia", "agency-7");
    let err = s.w.engine.confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(s.w.store.dump(), before);
}

#[tokio::test]
async fn owner_statement_totals_bookings_by_stay_and_refunds_by_their_date() {
    let s = shop().await;
    let flat_ten = CommissionPlan::new(pct(10), vec![], TaxRemitter::Owner).unwrap();
    s.w.engine
        .set_commission_plan(&pid("casa-azul"), flat_ten)
        .await
        .unwrap();
    let free_until_30_days = reservo::policy::CancellationPolicy::new(
        vec![reservo::policy::Tier::new(
            reservo::policy::Threshold::days(30),
            reservo::policy::Penalty::None,
        )],
        reservo::policy::Penalty::FULL,
        vec![],
    )
    .unwrap();
    s.w.engine
        .set_cancellation_policy(
            &reservo::ids::RatePlanId::new("flex").unwrap(),
            free_until_30_days,
        )
        .await
        .unwrap();
    let villa = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &villa, PayAmount::Full))
        .await
        .unwrap();
    let double =
        s.w.engine
            .hold(&HoldRequest::new(
                "h2",
                vec![QuoteRequest::new(Item::stay(
                    rid("double"),
                    stay((7, 20), (7, 22)),
                    Party::adults(2).unwrap(),
                ))],
                600,
            ))
            .await
            .unwrap();
    let second =
        s.w.engine
            .pay_and_confirm(&pay("p2", &double, PayAmount::Full))
            .await
            .unwrap();
    assert_eq!(second.total, eur("260.00"));
    s.w.engine.cancel(&cancel("c2", &second.id)).await.unwrap();
    let owner = OwnerId::new("owner-ana").unwrap();
    let july = StatementPeriod::new(d(7, 1), d(8, 1)).unwrap();
    let statement = s.w.engine.owner_statement(&owner, july).await.unwrap();
    assert_eq!(statement.lines.len(), 2);
    assert_eq!(statement.totals.gross, eur("620.00"));
    assert_eq!(statement.totals.platform_fees, eur("62.00"));
    assert_eq!(statement.totals.owner_payout, eur("558.00"));
    let june = StatementPeriod::new(d(6, 1), d(7, 1)).unwrap();
    let statement = s.w.engine.owner_statement(&owner, june).await.unwrap();
    assert_eq!(statement.totals.refunds, eur("260.00"));
    assert_eq!(statement.totals.platform_fees, eur("-26.00"));
    assert_eq!(statement.totals.owner_payout, eur("-234.00"));
    let rui = OwnerId::new("owner-rui").unwrap();
    let empty = s.w.engine.owner_statement(&rui, july).await.unwrap();
    assert!(empty.lines.is_empty());
    let nobody = OwnerId::new("owner-nobody").unwrap();
    let err = s.w.engine.owner_statement(&nobody, july).await.unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
}

/// An owner with properties in two currencies: one statement per currency
/// from `owner_statement_in`; `owner_statement` refuses to add them up.
#[tokio::test]
async fn an_owner_with_bookings_in_two_currencies_gets_a_statement_per_currency() {
    let s = shop().await;
    let owner = OwnerId::new("owner-ana").unwrap();
    let july = StatementPeriod::new(d(7, 1), d(8, 1)).unwrap();
    let flat = reservo::catalog::Property::new(
        "london-flat",
        "London Flat",
        "owner-ana",
        "Europe/London",
        "GBP",
    )
    .unwrap();
    s.w.engine.put_property(flat).await.unwrap();
    let pounds = catalog::nightly_plan("pounds", "80.00");
    let pounds = reservo::pricing::RatePlan::from_json(
        &serde_json::to_string(&pounds)
            .unwrap()
            .replace("EUR", "GBP"),
    )
    .unwrap();
    s.w.engine.put_rate_plan(pounds).await.unwrap();
    s.w.engine
        .put_resource(catalog::nightly("flat", "london-flat", 1, 2, "pounds"))
        .await
        .unwrap();
    // No bookings yet: the statement is in the properties' currency.
    let empty = s.w.engine.owner_statement(&owner, july).await.unwrap();
    assert!(empty.lines.is_empty());
    let villa = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &villa, PayAmount::Full))
        .await
        .unwrap();
    let in_euros = s.w.engine.owner_statement(&owner, july).await.unwrap();
    assert_eq!(in_euros.totals.gross, eur("360.00"));
    let flat =
        s.w.engine
            .hold(&HoldRequest::new(
                "h2",
                vec![QuoteRequest::new(Item::stay(
                    rid("flat"),
                    stay((7, 20), (7, 22)),
                    Party::adults(2).unwrap(),
                ))],
                600,
            ))
            .await
            .unwrap();
    let flat =
        s.w.engine
            .pay_and_confirm(&pay("p2", &flat, PayAmount::Full))
            .await
            .unwrap();
    let gbp = flat.total.currency();
    assert_eq!(gbp.code(), "GBP");
    let err = s.w.engine.owner_statement(&owner, july).await.unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    let eur_code = eur("0.00").currency();
    let in_euros =
        s.w.engine
            .owner_statement_in(&owner, july, eur_code)
            .await
            .unwrap();
    assert_eq!(in_euros.totals.gross, eur("360.00"));
    assert_eq!(in_euros.lines.len(), 1);
    let in_pounds =
        s.w.engine
            .owner_statement_in(&owner, july, gbp)
            .await
            .unwrap();
    assert_eq!(in_pounds.totals.gross, flat.total);
    assert_eq!(in_pounds.lines.len(), 1);
    let nobody = OwnerId::new("owner-nobody").unwrap();
    let err =
        s.w.engine
            .owner_statement_in(&nobody, july, gbp)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
}

/// A property sold to another owner: bookings made before keep their
/// owner, whose statements still show them though it owns nothing now;
/// the new owner's start empty.
#[tokio::test]
async fn a_former_owner_still_gets_the_statements_of_its_bookings() {
    let s = shop().await;
    let booking = money::villa_paid_in_full(&s.w).await;
    let sold = reservo::catalog::Property::new(
        "casa-azul",
        "Casa Azul",
        "owner-bea",
        "Europe/Lisbon",
        "EUR",
    )
    .unwrap();
    s.w.engine.put_property(sold).await.unwrap();

    let july = StatementPeriod::new(d(7, 1), d(8, 1)).unwrap();
    let ana = OwnerId::new("owner-ana").unwrap();
    let former = s.w.engine.owner_statement(&ana, july).await.unwrap();
    assert_eq!(former.lines.len(), 1);
    assert_eq!(former.lines[0].booking, booking.id);
    assert_eq!(former.totals.gross, eur("360.00"));
    let in_euros =
        s.w.engine
            .owner_statement_in(&ana, july, eur("0.00").currency());
    assert_eq!(in_euros.await.unwrap(), former);

    let bea = OwnerId::new("owner-bea").unwrap();
    let new = s.w.engine.owner_statement(&bea, july).await.unwrap();
    assert!(new.lines.is_empty());
}
