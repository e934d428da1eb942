//! Owner statements across modifications: a modification appends a
//! reversal of the booking's split and its new split, never on a date
//! before the modification, so the statements of past periods never
//! change, and the periods still add up to the booking's current split
//! (less refunds) exactly in minor units.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/modifications.rs"]
mod modifications;
#[path = "support/money.rs"]
mod money;

use catalog::{d, pid};
use chrono::{NaiveDate, TimeZone, Utc};
use modifications::{modify, shop_with_fee};
use money::{Shop, cancel, eur, hold_villa, pay};
use reservo::commission::{
    BookingLedger, CommissionPlan, FeeRate, OwnerStatement, StatementAmounts, StatementPeriod,
    TaxRemitter,
};
use reservo::engine::{Booking, PayAmount};
use reservo::ids::{OwnerId, RatePlanId};
use reservo::money::Money;
use reservo::policy::{CancellationPolicy, Penalty, Percentage, Threshold, Tier};

fn at(month: u32, day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 10, 0, 0).unwrap()
}

fn month(m: u32) -> StatementPeriod {
    StatementPeriod::new(d(m, 1), d(m + 1, 1)).unwrap()
}

/// A shop charging 10.00 a change, a 12% platform fee at the villa's
/// property, and half refunded until 7 days before check-in.
async fn commission_shop() -> Shop {
    let s = shop_with_fee("10.00").await;
    let plan = CommissionPlan::new(
        FeeRate::percent(Percentage::whole(12).unwrap()),
        vec![],
        TaxRemitter::Owner,
    )
    .unwrap();
    s.w.engine
        .set_commission_plan(&pid("casa-azul"), plan)
        .await
        .unwrap();
    let half_back = CancellationPolicy::new(
        vec![Tier::new(
            Threshold::days(7),
            Penalty::Percent {
                percent: Percentage::whole(50).unwrap(),
            },
        )],
        Penalty::FULL,
        vec![],
    )
    .unwrap();
    s.w.engine
        .set_cancellation_policy(&RatePlanId::new("flex").unwrap(), half_back)
        .await
        .unwrap();
    s
}

/// The villa `[from, to)`, held and paid in full now.
async fn book(s: &Shop, from: (u32, u32), to: (u32, u32)) -> Booking {
    let hold = hold_villa(&s.w, "h1", from, to).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap()
}

async fn statement(s: &Shop, period: StatementPeriod) -> OwnerStatement {
    let owner = OwnerId::new("owner-ana").unwrap();
    s.w.engine.owner_statement(&owner, period).await.unwrap()
}

/// June to September, added up.
async fn all_periods(s: &Shop) -> StatementAmounts {
    let mut sum = statement(s, month(6)).await.totals;
    for m in 7..=9 {
        let t = statement(s, month(m)).await.totals;
        let add = |a: Money, b: Money| a.checked_add(&b).unwrap();
        sum = StatementAmounts {
            gross: add(sum.gross, t.gross),
            refunds: add(sum.refunds, t.refunds),
            platform_fees: add(sum.platform_fees, t.platform_fees),
            commissions: add(sum.commissions, t.commissions),
            taxes: add(sum.taxes, t.taxes),
            owner_payout: add(sum.owner_payout, t.owner_payout),
        };
    }
    sum
}

/// The statements over every period hold exactly what the ledger says
/// each party holds now, and the gross is the booking's current split.
async fn assert_periods_add_up(s: &Shop, ledger: &BookingLedger) {
    let sum = all_periods(s).await;
    let now = ledger.remaining();
    assert_eq!(sum.gross, ledger.split().gross());
    assert_eq!(sum.refunds, ledger.refunded());
    assert_eq!(sum.platform_fees, now.platform_fee());
    assert_eq!(sum.commissions, now.commission_total());
    assert_eq!(sum.taxes, now.taxes());
    assert_eq!(sum.owner_payout, now.owner_payout());
}

fn ledger(booking: &Booking) -> &BookingLedger {
    booking.money.commission.as_ref().unwrap()
}

#[tokio::test]
async fn a_modification_in_july_leaves_the_june_statement_as_it_was() {
    let s = commission_shop().await;
    // Booked on 1 June for 20-23 June (Sat 120.00, Sun and Mon 100.00,
    // cleaning 60.00): recognized in June.
    let booking = book(&s, (6, 20), (6, 23)).await;
    assert_eq!(booking.total, eur("380.00"));
    s.w.clock.set(at(7, 2)).unwrap();
    let june_before = statement(&s, month(6)).await;
    assert_eq!(june_before.totals.gross, eur("380.00"));
    assert_eq!(june_before.totals.platform_fees, eur("45.60"));

    // On 2 July the stay moves to 20-24 July (4 x 100.00 + cleaning and
    // the change fee: 470.00).
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 20), (7, 24)))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("470.00"));
    assert_eq!(statement(&s, month(6)).await, june_before);

    // July: the June split reversed on the 2nd, the new one on the 20th.
    let july = statement(&s, month(7)).await;
    assert_eq!(july.totals.gross, eur("90.00"));
    assert_eq!(july.totals.platform_fees, eur("10.80"));
    assert_eq!(july.totals.owner_payout, eur("79.20"));
    assert_eq!(ledger(&modified).split().gross(), eur("470.00"));
    assert_eq!(ledger(&modified).recognized_on(), d(7, 20));
    assert_periods_add_up(&s, ledger(&modified)).await;

    // A cancellation on 5 July claws back from the new split.
    s.w.clock.set(at(7, 5)).unwrap();
    let cancelled =
        s.w.engine
            .cancel(&cancel("c1", &modified.id))
            .await
            .unwrap();
    assert_eq!(statement(&s, month(6)).await, june_before);
    let ledger = ledger(&cancelled);
    assert!(!ledger.refunded().is_zero());
    assert_eq!(
        ledger.refunds()[0].clawback.gross(),
        ledger.refunded(),
        "clawed back what was refunded"
    );
    assert_periods_add_up(&s, ledger).await;
}

#[tokio::test]
async fn a_modification_before_the_stay_moves_its_money_to_the_new_period() {
    let s = commission_shop().await;
    // Booked on 1 June for 13-16 July (360.00), moved on 10 June to
    // 24-28 August (Monday to Friday): nothing of it is left in July, all
    // of it in August.
    let booking = book(&s, (7, 13), (7, 16)).await;
    s.w.clock.set(at(6, 10)).unwrap();
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking.id, (8, 24), (8, 28)))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("470.00"));
    let june = statement(&s, month(6)).await;
    assert!(june.lines.is_empty(), "{june:?}");
    let july = statement(&s, month(7)).await;
    assert_eq!(july.totals.gross, eur("0.00"));
    assert_eq!(july.totals.owner_payout, eur("0.00"));
    let august = statement(&s, month(8)).await;
    assert_eq!(august.totals.gross, eur("470.00"));
    assert_eq!(august.totals.platform_fees, eur("56.40"));
    assert_periods_add_up(&s, ledger(&modified)).await;
}

#[tokio::test]
async fn modified_twice_then_cancelled_every_closed_period_keeps_its_statement() {
    let s = commission_shop().await;
    let booking = book(&s, (6, 20), (6, 23)).await;
    s.w.clock.set(at(7, 2)).unwrap();
    let june = statement(&s, month(6)).await;
    let once =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 20), (7, 24)))
            .await
            .unwrap();
    s.w.clock.set(at(8, 3)).unwrap();
    let july = statement(&s, month(7)).await;
    // Shorter on 3 August: 24-26 August (2 x 100.00 + cleaning, and two
    // change fees), the difference refunded.
    let twice =
        s.w.engine
            .modify(&modify("m2", &once.id, (8, 24), (8, 26)))
            .await
            .unwrap();
    assert_eq!(twice.total, eur("280.00"));
    assert_eq!(statement(&s, month(6)).await, june);
    assert_eq!(statement(&s, month(7)).await, july);
    assert_eq!(ledger(&twice).resplits().len(), 2);
    assert_periods_add_up(&s, ledger(&twice)).await;

    s.w.clock.set(at(8, 10)).unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &twice.id)).await.unwrap();
    assert_eq!(statement(&s, month(6)).await, june);
    assert_eq!(statement(&s, month(7)).await, july);
    assert_periods_add_up(&s, ledger(&cancelled)).await;
}

#[test]
fn a_ledger_stored_before_re_splits_existed_reads_and_writes_the_same_bytes() {
    let stored = concat!(
        r#"{"booking":"b-1","owner":"o-1","recognized_on":"2026-06-20","#,
        r#""split":{"platform_fee":{"amount":"12.00","currency":"EUR"},"commissions":[],"#,
        r#""taxes":{"amount":"0.00","currency":"EUR"},"tax_remitter":"owner","#,
        r#""owner_payout":{"amount":"88.00","currency":"EUR"}},"refunds":[]}"#
    );
    let ledger: BookingLedger = serde_json::from_str(stored).unwrap();
    assert!(ledger.resplits().is_empty());
    assert_eq!(
        ledger.recognized_on(),
        NaiveDate::from_ymd_opt(2026, 6, 20).unwrap()
    );
    assert_eq!(serde_json::to_string(&ledger).unwrap(), stored);
}

#[test]
fn a_re_split_keeps_past_dates_and_refuses_a_ledger_with_refunds() {
    use reservo::ids::BookingId;
    let plan = CommissionPlan::new(
        FeeRate::percent(Percentage::whole(10).unwrap()),
        vec![],
        TaxRemitter::Owner,
    )
    .unwrap();
    let split = |gross: &str| plan.split(eur(gross), eur("0.00")).unwrap();
    let mut ledger = BookingLedger::new(
        BookingId::new("b-1").unwrap(),
        OwnerId::new("o-1").unwrap(),
        d(8, 20),
        split("100.00"),
    )
    .unwrap();
    // Modified on 2 July for a stay on 25 July: the August split is
    // reversed in August, not in July.
    let entry = ledger.resplit(split("150.00"), d(7, 2), d(7, 25)).unwrap();
    assert_eq!(
        (entry.reversed_on, entry.recognized_on),
        (d(8, 20), d(7, 25))
    );
    // Made free on 3 July, for a start already past: counted on the 3rd.
    let entry = ledger.resplit(split("0.00"), d(7, 3), d(6, 1)).unwrap();
    assert_eq!(
        (entry.reversed_on, entry.recognized_on),
        (d(7, 25), d(7, 3))
    );
    assert_eq!(ledger.split().gross(), eur("0.00"));
    let stored = serde_json::to_string(&ledger).unwrap();
    assert_eq!(
        serde_json::from_str::<BookingLedger>(&stored).unwrap(),
        ledger
    );

    ledger.resplit(split("80.00"), d(7, 4), d(7, 25)).unwrap();
    ledger.refund(eur("8.00"), d(7, 5)).unwrap();
    let before = ledger.clone();
    let err = ledger
        .resplit(split("90.00"), d(7, 6), d(7, 25))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(ledger, before);
    let other = Money::parse("90.00", "USD").unwrap();
    let usd = plan.split(other, Money::parse("0", "USD").unwrap());
    assert_eq!(
        before
            .clone()
            .resplit(usd.unwrap(), d(7, 6), d(7, 25))
            .unwrap_err()
            .code(),
        "CURRENCY_MISMATCH"
    );
}
