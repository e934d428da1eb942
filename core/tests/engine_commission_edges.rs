//! Commissions through the engine: plans checked when set and before the
//! guest is charged, exact splits of awkward plans, clawbacks on
//! cancellation and modification, and owner statements by the property's
//! civil dates.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/commission.rs"]
mod commission;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::{World, d, pid, rid, world};
use chrono::{NaiveDate, TimeZone, Utc};
use commission::{amounts_balance, broker, channel, m, pct, terms};
use gateway::TestGateway;
use money::{Shop, cancel, deposit, eur, hold_villa, pay, shop, shop_with, use_tiered_policy};
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::commission::{CommissionPlan, FeeRate, StatementPeriod, TaxRemitter};
use reservo::engine::{
    Attribution, Booking, ConfirmRequest, HoldRequest, Item, ModifyRequest, PayAmount, QuoteRequest,
};
use reservo::ids::{OwnerId, RatePlanId};
use reservo::money::{Currency, Money};
use reservo::party::Party;
use reservo::policy::Percentage;
use reservo::schedule::Schedule;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn sold_by_ota() -> Attribution {
    Attribution {
        channel: Some("ota".into()),
        broker: Some("agent".into()),
        broker_phone: None,
    }
}

/// Puts [`awkward_plan`] on casa-azul, the villa's property.
async fn put_awkward_plan(s: &Shop) {
    s.w.engine
        .set_commission_plan(&pid("casa-azul"), awkward_plan())
        .await
        .unwrap();
}

/// Platform 3.333%, channel `ota` 15% + 1.00, broker `agent` 7.5%.
fn awkward_plan() -> CommissionPlan {
    CommissionPlan::new(
        FeeRate::percent(pct(dec!(3.333))),
        vec![
            terms(
                channel("ota"),
                FeeRate::new(pct(dec!(15)), Some(eur("1.00"))).unwrap(),
            ),
            terms(broker("agent"), FeeRate::percent(pct(dec!(7.5)))),
        ],
        TaxRemitter::Platform,
    )
    .unwrap()
}

/// What the ledger still holds must be what the guest paid and did not
/// get back (ADR 004), and its parts must sum to it.
fn assert_ledger_matches_payments(booking: &Booking) {
    let ledger = booking.money.commission.as_ref().expect("a ledger");
    let currency = booking.total.currency();
    let left = ledger.remaining();
    assert_eq!(left.gross(), booking.money.paid(currency), "{}", booking.id);
    assert!(left.parts().iter().all(|p| !p.is_negative()));
    assert_eq!(
        ledger.split().gross(),
        booking.total,
        "the split is of the booking's total"
    );
}

async fn statement(
    w: &World,
    owner: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> reservo::commission::OwnerStatement {
    w.engine
        .owner_statement(
            &OwnerId::new(owner).unwrap(),
            StatementPeriod::new(from, to).unwrap(),
        )
        .await
        .unwrap()
}

/// A plan with a USD flat fee for an EUR property could never split a
/// booking: it is refused when set, and nothing is stored.
#[tokio::test]
async fn set_commission_plan_refuses_a_flat_fee_in_another_currency() {
    let w = world().await;
    let usd_flat = CommissionPlan::new(
        FeeRate::new(Percentage::ZERO, Some(m("2.00", "USD"))).unwrap(),
        vec![],
        TaxRemitter::Owner,
    )
    .unwrap();
    let before = w.store.dump();
    let err = w
        .engine
        .set_commission_plan(&pid("casa-azul"), usd_flat)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    assert_eq!(w.store.dump(), before);
    // the same plan in EUR is accepted, and bookings confirm under it
    let eur_flat = CommissionPlan::new(
        FeeRate::new(Percentage::ZERO, Some(m("2.00", "EUR"))).unwrap(),
        vec![],
        TaxRemitter::Owner,
    )
    .unwrap();
    w.engine
        .set_commission_plan(&pid("casa-azul"), eur_flat)
        .await
        .unwrap();
    let hold = hold_villa(&w, "h1", (7, 13), (7, 16)).await;
    let booking = w
        .engine
        .confirm(&ConfirmRequest::new("c1", hold.id.clone(), money::ana()))
        .await
        .unwrap();
    let split = booking.money.commission.as_ref().unwrap().split().clone();
    assert_eq!(split.platform_fee(), eur("2.00"));
}

/// A commission split that cannot be made (a broker's flat fee of
/// 500.00 on a 360.00 booking) is refused before the gateway is called:
/// everything needed to refuse is known up front, so the guest is never
/// charged and nothing moves.
#[tokio::test]
async fn pay_and_confirm_refuses_an_impossible_split_before_charging_the_guest() {
    let s = shop().await;
    let greedy = CommissionPlan::new(
        FeeRate::none(),
        vec![terms(
            broker("agent"),
            FeeRate::new(Percentage::ZERO, Some(eur("500.00"))).unwrap(),
        )],
        TaxRemitter::Owner,
    )
    .unwrap();
    s.w.engine
        .set_commission_plan(&pid("casa-azul"), greedy)
        .await
        .unwrap();
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.attribution = Attribution {
        channel: None,
        broker: Some("agent".into()),
        broker_phone: None,
    };
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(
        s.gateway.calls(),
        [],
        "the guest was charged and refunded for a booking that could never be confirmed"
    );
}

#[tokio::test]
async fn awkward_plan_splits_the_booking_exactly_and_cancellation_keeps_the_penalty_pro_rata() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    put_awkward_plan(&s).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.attribution = sold_by_ota();
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(booking.total, eur("360.00"));
    let split = booking.money.commission.as_ref().unwrap().split().clone();
    // base 360.00: 11.9988 -> 12.00; 54.00 + 1.00; 27.00; owner the rest
    assert_eq!(
        split.parts(),
        [
            eur("12.00"),
            eur("55.00"),
            eur("27.00"),
            eur("0.00"),
            eur("266.00")
        ]
    );
    assert_ledger_matches_payments(&booking);
    // 75% back between 30 and 7 days before
    s.w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 3, 10, 0, 0).unwrap())
        .unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_ledger_matches_payments(&cancelled);
    let left = cancelled.money.commission.as_ref().unwrap().remaining();
    // every party keeps about 25% of its share of the kept 90.00
    assert_eq!(left.gross(), eur("90.00"));
    for (kept, had) in left.parts().iter().zip(split.parts()) {
        let exact = had.amount() / dec!(4);
        assert!(
            (kept.amount() - exact).abs() < dec!(0.01),
            "{kept} of {had}"
        );
    }
}

#[tokio::test]
async fn cancelling_a_deposit_booking_claws_back_the_refund_and_the_unpaid_balance() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    put_awkward_plan(&s).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, deposit("100.01"));
    request.attribution = sold_by_ota();
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(
        booking.money.commission.as_ref().unwrap().split().gross(),
        eur("360.00")
    );
    s.w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 3, 10, 0, 0).unwrap())
        .unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_ledger_matches_payments(&cancelled);
    let refunds = cancelled.money.commission.as_ref().unwrap().refunds();
    let clawed: Decimal = refunds.iter().map(|r| r.amount.amount()).sum();
    assert_eq!(
        clawed,
        dec!(360.00) - cancelled.money.paid(Currency::EUR).amount()
    );
    // both clawbacks count on the cancellation's local date
    assert!(refunds.iter().all(|r| r.on == d(7, 3)));
}

#[tokio::test]
async fn plain_confirm_then_cancel_writes_everything_off_and_nets_to_zero() {
    let s = shop().await;
    put_awkward_plan(&s).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = ConfirmRequest::new("c1", hold.id.clone(), money::ana());
    request.attribution = sold_by_ota();
    let booking = s.w.engine.confirm(&request).await.unwrap();
    let cancelled = s.w.engine.cancel(&cancel("x1", &booking.id)).await.unwrap();
    assert_ledger_matches_payments(&cancelled);
    let left = cancelled.money.commission.as_ref().unwrap().remaining();
    assert!(left.parts().iter().all(Money::is_zero));
    let s1 = statement(&s.w, "owner-ana", d(6, 1), d(8, 1)).await;
    assert_eq!(s1.totals.gross, eur("360.00"));
    assert_eq!(s1.totals.refunds, eur("360.00"));
    for share in [
        s1.totals.platform_fees,
        s1.totals.commissions,
        s1.totals.taxes,
        s1.totals.owner_payout,
    ] {
        assert!(share.is_zero(), "{share}");
    }
}

fn modify(key: &str, booking: &Booking, from: (u32, u32), to: (u32, u32)) -> ModifyRequest {
    ModifyRequest {
        idempotency_key: key.into(),
        booking: booking.id.clone(),
        items: vec![money::villa(from, to)],
        payment_method: Some("tok_visa".into()),
        expected_total: None,
    }
}

#[tokio::test]
async fn modification_moves_the_booking_between_statements_and_keeps_the_ledger_whole() {
    let fee = FeeRate::new(pct(dec!(3.333)), Some(eur("1.00"))).unwrap();
    let s = shop_with(TestGateway::new(), Some(fee)).await;
    use_tiered_policy(&s.w).await;
    put_awkward_plan(&s).await;
    let hold = hold_villa(&s.w, "h1", (7, 31), (8, 3)).await;
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.attribution = sold_by_ota();
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    let july = (d(7, 1), d(8, 1));
    let august = (d(8, 1), d(9, 1));
    assert_eq!(
        statement(&s.w, "owner-ana", july.0, july.1)
            .await
            .lines
            .len(),
        1
    );
    // shorter and a day later: recognized in August now, refunded the
    // difference less the change fee
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking, (8, 1), (8, 3)))
            .await
            .unwrap();
    assert!(modified.total < booking.total);
    assert_ledger_matches_payments(&modified);
    let ledger = modified.money.commission.as_ref().unwrap();
    assert_eq!(ledger.recognized_on(), d(8, 1));
    assert!(
        statement(&s.w, "owner-ana", july.0, july.1)
            .await
            .lines
            .is_empty()
    );
    let aug = statement(&s.w, "owner-ana", august.0, august.1).await;
    assert_eq!(aug.totals.gross, modified.total);
    assert!(amounts_balance(&aug.totals));
    // longer again: charged the difference
    let longer =
        s.w.engine
            .modify(&modify("m2", &modified, (8, 1), (8, 6)))
            .await
            .unwrap();
    assert!(longer.total > modified.total);
    assert_ledger_matches_payments(&longer);
    // cancelled late: the change fees and the penalty stay, split
    s.w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 30, 10, 0, 0).unwrap())
        .unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &longer.id)).await.unwrap();
    assert_ledger_matches_payments(&cancelled);
    let kept = cancelled.money.paid(Currency::EUR);
    assert!(kept >= cancelled.money.change_fees(Currency::EUR));
    let both = statement(&s.w, "owner-ana", july.0, august.1).await;
    assert_eq!(
        both.totals.gross.amount() - both.totals.refunds.amount(),
        kept.amount()
    );
}

#[tokio::test]
async fn shrinking_a_deposit_booking_below_its_deposit_keeps_the_ledger_equal_to_what_was_paid() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    put_awkward_plan(&s).await;
    // 13-16 July, 360.00; deposit 300.00
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, deposit("300.00"));
    request.attribution = sold_by_ota();
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    // one night (Mon): 100.00 + cleaning 60.00 < 300.00 paid
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking, (7, 13), (7, 14)))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("160.00"));
    assert_eq!(modified.money.paid(Currency::EUR), eur("160.00"));
    assert_ledger_matches_payments(&modified);
    s.w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 3, 10, 0, 0).unwrap())
        .unwrap();
    let cancelled =
        s.w.engine
            .cancel(&cancel("c1", &modified.id))
            .await
            .unwrap();
    assert_ledger_matches_payments(&cancelled);
    let july = statement(&s.w, "owner-ana", d(7, 1), d(8, 1)).await;
    assert_eq!(july.totals.gross, eur("160.00"));
    assert_eq!(
        july.totals.gross.amount() - july.totals.refunds.amount(),
        cancelled.money.paid(Currency::EUR).amount()
    );
}

/// A property in Auckland (UTC+12 in winter): a tour at 09:00 on
/// 1 August local is 21:00 UTC on 31 July. It counts in August, and so
/// does a cancellation at 00:30 on 1 August local (12:30 UTC on 31 July).
#[tokio::test]
async fn statements_use_the_propertys_civil_dates_not_utc() {
    let w = world().await;
    w.engine
        .put_property(
            Property::new(
                "kiwi",
                "Kiwi Tours",
                "owner-kiri",
                "Pacific/Auckland",
                "EUR",
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let schedule: Schedule = serde_json::from_str(
        r#"{"rules": [{"weekdays": ["mon","tue","wed","thu","fri","sat","sun"],
                        "start_times": ["09:00:00"], "duration_minutes": 120,
                        "dates": {"from": "2026-01-01"}}]}"#,
    )
    .unwrap();
    w.engine
        .put_resource(Resource {
            id: rid("kiwi-tour"),
            property: pid("kiwi"),
            name: "Tour".into(),
            rate_plan: RatePlanId::new("lesson").unwrap(),
            kind: ResourceKind::Timed { seats: 8, schedule },
        })
        .await
        .unwrap();
    w.engine
        .set_commission_plan(
            &pid("kiwi"),
            CommissionPlan::new(
                FeeRate::percent(pct(dec!(12.5))),
                vec![],
                TaxRemitter::Owner,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let start = Utc.with_ymd_and_hms(2026, 7, 31, 21, 0, 0).unwrap();
    let hold = w
        .engine
        .hold(&HoldRequest::new(
            "h1",
            vec![QuoteRequest::new(Item::session(
                rid("kiwi-tour"),
                start,
                Party::adults(1).unwrap(),
            ))],
            600,
        ))
        .await
        .unwrap();
    let booking = w
        .engine
        .confirm(&ConfirmRequest::new("c1", hold.id.clone(), money::ana()))
        .await
        .unwrap();
    let ledger = booking.money.commission.as_ref().unwrap();
    assert_eq!(ledger.recognized_on(), d(8, 1));
    assert_eq!(ledger.owner().as_str(), "owner-kiri");
    assert!(
        statement(&w, "owner-kiri", d(7, 1), d(8, 1))
            .await
            .lines
            .is_empty()
    );
    let aug = statement(&w, "owner-kiri", d(8, 1), d(9, 1)).await;
    assert_eq!(aug.totals.gross, eur("45.00"));
    assert_eq!(aug.totals.platform_fees, eur("5.62")); // 5.625, half-even
    assert_eq!(aug.totals.owner_payout, eur("39.38"));
    // another owner's statement never shows it
    assert!(
        statement(&w, "owner-rui", d(8, 1), d(9, 1))
            .await
            .lines
            .is_empty()
    );
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 31, 12, 30, 0).unwrap())
        .unwrap();
    let cancelled = w.engine.cancel(&cancel("x1", &booking.id)).await.unwrap();
    let refunds = cancelled.money.commission.as_ref().unwrap().refunds();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].on, d(8, 1));
    assert!(
        statement(&w, "owner-kiri", d(7, 1), d(8, 1))
            .await
            .lines
            .is_empty()
    );
    let aug = statement(&w, "owner-kiri", d(8, 1), d(9, 1)).await;
    assert!(aug.totals.owner_payout.is_zero());
    assert_eq!(aug.totals.refunds, eur("45.00"));
}

/// Taxes stay with the intermediary the plan names only on bookings it
/// sold; on a direct booking the owner remits them.
#[tokio::test]
async fn taxes_stay_with_the_channel_only_on_bookings_it_sold() {
    let s = shop().await;
    let plan = CommissionPlan::new(
        FeeRate::percent(pct(dec!(3))),
        vec![terms(channel("ota"), FeeRate::percent(pct(dec!(15))))],
        TaxRemitter::Intermediary(channel("ota")),
    )
    .unwrap();
    s.w.engine
        .set_commission_plan(&pid("casa-azul"), plan)
        .await
        .unwrap();
    let remitter = |booking: &Booking| {
        let ledger = booking.money.commission.as_ref().expect("a ledger");
        ledger.split().tax_remitter().clone()
    };
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.attribution = Attribution {
        channel: Some("ota".into()),
        broker: None,
        broker_phone: None,
    };
    let sold = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(remitter(&sold), TaxRemitter::Intermediary(channel("ota")));
    let hold = hold_villa(&s.w, "h2", (7, 20), (7, 23)).await;
    let direct =
        s.w.engine
            .pay_and_confirm(&pay("p2", &hold, PayAmount::Full))
            .await
            .unwrap();
    assert_eq!(remitter(&direct), TaxRemitter::Owner);
}

/// A channel or broker id that is not an id is refused as such (not as an
/// intermediary without terms) before the guest is charged.
#[tokio::test]
async fn a_malformed_channel_or_broker_is_refused_before_any_charge() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    for (channel, broker) in [(Some("ota team"), None), (None, Some(""))] {
        let mut request = pay("p1", &hold, PayAmount::Full);
        request.attribution = Attribution {
            channel: channel.map(str::to_owned),
            broker: broker.map(str::to_owned),
            broker_phone: None,
        };
        let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{err}");
        assert!(err.to_string().contains("is not a valid id"), "{err}");
    }
    assert_eq!(s.gateway.calls(), []);
}

/// A free booking has no commission ledger; modified into a priced one,
/// it gets one, split on its new total (and the guest is charged it:
/// `engine_modify_free.rs`).
#[tokio::test]
async fn a_free_booking_made_priced_by_a_modification_gets_a_commission_ledger() {
    let s = shop().await;
    put_awkward_plan(&s).await;
    let booking = free_villa_booking(&s).await;
    assert!(booking.total.is_zero());
    assert!(booking.money.commission.is_none());
    s.w.engine
        .put_rate_plan(catalog::nightly_plan("flex", "100.00"))
        .await
        .unwrap();
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking, (7, 20), (7, 23)))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("360.00"));
    let ledger = modified.money.commission.as_ref().expect("a ledger");
    assert_eq!(ledger.split().gross(), eur("360.00"));
    assert_eq!(ledger.split().parts()[0], eur("12.00"));
}

/// A free booking moved to other free dates still has no commission
/// ledger, and the move does not fail for want of one: there is nothing
/// to split.
#[tokio::test]
async fn a_free_booking_moved_to_other_free_dates_stays_without_a_ledger() {
    let s = shop().await;
    let booking = free_villa_booking(&s).await;
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking, (7, 20), (7, 23)))
            .await
            .unwrap();
    assert!(modified.total.is_zero());
    assert_ne!(modified.items, booking.items);
    assert!(modified.money.commission.is_none());
}

/// The villa, 13 to 16 July, on a free `flex` plan, confirmed through
/// `pay_and_confirm` (which charges nothing).
async fn free_villa_booking(s: &Shop) -> Booking {
    let free = catalog::free_nightly_plan("flex");
    s.w.engine.put_rate_plan(free).await.unwrap();
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap()
}
