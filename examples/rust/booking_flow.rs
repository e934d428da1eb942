//! The main demo: a full booking on the embedded default store (a SQLite
//! file): catalog, search, quote, hold, payment and confirmation, SMS,
//! modification, cancellation with a refund, and the owner's statement.
//!
//! Every step prints what it did and asserts it, so this runs in CI as a
//! test. The clock is fixed (1 June 2026, 11:00 in Lisbon) so the output is
//! the same on every day it runs.
//!
//! ```sh
//! scripts/demo.sh                      # SQLite file under target/
//! scripts/demo.sh --db /tmp/demo.db    # a SQLite file of your choice
//! RESERVO_PG_URL=postgres://... scripts/demo.sh --postgres
//! ```

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{NaiveDate, TimeZone, Utc};
use reservo::booking::{BookingStatus, Customer, Metadata};
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::commission::{
    CommissionPlan, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms, StatementPeriod,
    TaxRemitter,
};
use reservo::engine::{
    Attribution, CancelRequest, Engine, HoldRequest, Item, ModifyRequest, PayAmount, PayRequest,
    QuoteRequest, SearchFor, SearchRequest,
};
use reservo::ids::{OwnerId, PropertyId, RatePlanId, ResourceId};
use reservo::money::{Money, Percentage};
use reservo::notify::Notifier;
use reservo::party::Party;
use reservo::policy::presets::booking_com::{AfterDeadline, free_until};
use reservo::ports::{
    CaptureRequest, Clock, GatewayCapabilities, PaymentGateway, PaymentOutcome, PaymentRequest,
    PortError, RefundRequest, SmsMessage, SmsSender, Storage,
};
use reservo::pricing::RatePlan;
use reservo::store::{PostgresOptions, PostgresStore, SqliteStore};
use reservo::time::{ManualClock, Stay};

/// The host's payment provider. A real host calls its PSP here; the demo
/// approves every charge and refund and keeps a log to check against.
#[derive(Default)]
struct DemoGateway {
    log: Mutex<Vec<String>>,
}

#[async_trait]
impl PaymentGateway for DemoGateway {
    fn capabilities(&self) -> GatewayCapabilities {
        GatewayCapabilities {
            partial_refunds: true,
            separate_capture: false,
        }
    }
    async fn authorize(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        self.charge(r).await
    }
    async fn capture(&self, r: &CaptureRequest) -> Result<PaymentOutcome, PortError> {
        Ok(PaymentOutcome::Approved {
            gateway_id: format!("cap-{}", r.authorization_id),
        })
    }
    async fn charge(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        let mut log = self.log.lock().unwrap();
        log.push(format!("charge {} {}", r.amount, r.currency));
        Ok(PaymentOutcome::Approved {
            gateway_id: format!("pay-{}", log.len()),
        })
    }
    async fn refund(&self, r: &RefundRequest) -> Result<PaymentOutcome, PortError> {
        let mut log = self.log.lock().unwrap();
        log.push(format!("refund {} {}", r.amount, r.currency));
        Ok(PaymentOutcome::Approved {
            gateway_id: format!("ref-{}", log.len()),
        })
    }
}

/// The host's SMS provider; the demo prints each message.
#[derive(Default)]
struct PrintedSms {
    sent: Mutex<Vec<SmsMessage>>,
}

#[async_trait]
impl SmsSender for PrintedSms {
    async fn send(&self, message: &SmsMessage) -> Result<String, PortError> {
        println!("sms:   to {}: {}", message.to, message.body);
        let mut sent = self.sent.lock().unwrap();
        sent.push(message.clone());
        Ok(format!("sms-{}", sent.len()))
    }
}

type Failure = Box<dyn std::error::Error>;

fn check(ok: bool, what: &str) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(format!("demo check failed: {what}").into())
    }
}

async fn open_store() -> Result<(Arc<dyn Storage>, String), Failure> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--postgres") {
        let url = std::env::var("RESERVO_PG_URL").map_err(|_| "--postgres needs RESERVO_PG_URL")?;
        let prefix = format!("demo_{}_", std::process::id());
        let store = PostgresStore::connect_with(
            &url,
            PostgresOptions::default().with_table_prefix(&prefix),
        )
        .await?;
        return Ok((Arc::new(store), format!("PostgreSQL (tables {prefix}*)")));
    }
    let path = match args.iter().position(|a| a == "--db") {
        Some(i) => args.get(i + 1).ok_or("--db needs a path")?.clone(),
        None => {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
            std::fs::create_dir_all(&dir)?;
            dir.join("reservo-demo.sqlite")
                .to_string_lossy()
                .into_owned()
        }
    };
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    Ok((
        Arc::new(SqliteStore::open(&path)?),
        format!("SQLite file {path}"),
    ))
}

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).expect("valid date")
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let (store, described) = open_store().await?;
    println!("store: {described}");
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap(),
    ));
    let gateway = Arc::new(DemoGateway::default());
    let engine = Engine::builder(store.clone())
        .clock(clock.clone())
        .payment_gateway(gateway.clone())
        .build();
    let sms = Arc::new(PrintedSms::default());
    let notifier = Notifier::builder(store, sms.clone())
        .clock(clock.clone())
        .build()?;

    // 1. Catalog: a villa in Lisbon with a weekend rate, a weekly discount
    //    and a cleaning fee; free cancellation until 14 days before arrival,
    //    then the first night is kept; a channel takes 15%, the platform 3%.
    let property = Property::new(
        "casa-azul",
        "Casa Azul",
        "owner-ana",
        "Europe/Lisbon",
        "EUR",
    )?
    .with_owner_phone("+351910000001")?;
    engine.put_property(property).await?;
    engine
        .put_rate_plan(RatePlan::from_json(
            r#"{"id": "villa-flex", "name": "Flexible", "unit": "night",
                "base_price": {"amount": "180.00", "currency": "EUR"},
                "weekday_rates": [{"id": "weekend", "name": "Weekend", "weekdays": ["Fri", "Sat"],
                                   "price": {"amount": "220.00", "currency": "EUR"}}],
                "length_of_stay": [{"id": "week", "min_nights": 7, "discount": {"percent": "10"}}],
                "fees": [{"id": "cleaning", "name": "Cleaning", "basis": "per_booking", "taxable": true,
                          "amount": {"amount": "75.00", "currency": "EUR"}}],
                "taxes": [{"id": "vat", "name": "VAT", "rate": "6", "inclusion": "inclusive",
                           "base": "accommodation_and_fees"}]}"#,
        )?)
        .await?;
    let plan_id = RatePlanId::new("villa-flex")?;
    engine
        .set_cancellation_policy(&plan_id, free_until(14, AfterDeadline::FirstNight))
        .await?;
    engine
        .set_commission_plan(
            &PropertyId::new("casa-azul")?,
            CommissionPlan::new(
                FeeRate::new(Percentage::parse("3")?, None)?,
                vec![IntermediaryTerms {
                    intermediary: Intermediary::new(IntermediaryRole::Channel, "holiday-site")?,
                    rate: FeeRate::new(Percentage::parse("15")?, None)?,
                }],
                TaxRemitter::Owner,
            )?,
        )
        .await?;
    let villa = ResourceId::new("villa-azul")?;
    engine
        .put_resource(Resource {
            id: villa.clone(),
            property: PropertyId::new("casa-azul")?,
            name: "Villa Azul, sea view".into(),
            rate_plan: plan_id,
            kind: ResourceKind::Nightly {
                units: 1,
                max_occupancy: 6,
            },
        })
        .await?;
    println!("catalog: property casa-azul, resource villa-azul (1 unit, up to 6 guests)");

    // 2. Search a week in July for a family of four.
    let family = Party::new(2, vec![6, 9])?;
    let week = Stay::new(date(7, 4), date(7, 11))?;
    let hits = engine
        .search(&SearchRequest {
            what: SearchFor::Stay(week),
            party: family.clone(),
            property: None,
        })
        .await?;
    for hit in &hits {
        println!(
            "search: {} available={} total={}",
            hit.resource, hit.available, hit.total
        );
    }
    check(
        hits.len() == 1 && hits[0].resource == villa,
        "one villa found",
    )?;

    // 3. Quote it, line by line.
    let item = Item::stay(villa.clone(), week, family.clone());
    let quoted = engine.quote(&QuoteRequest::new(item.clone())).await?;
    for line in quoted.quote.lines() {
        println!(
            "quote: {:<28} {:>2} x {:>8} = {:>9}",
            line.description,
            line.quantity,
            line.unit_amount.amount(),
            line.amount.amount()
        );
    }
    println!(
        "quote: total {} (VAT included: {})",
        quoted.quote.total(),
        quoted.quote.included_taxes()
    );
    // 2 weekend nights at 220 + 5 at 180 = 1340, minus 10% for a week = 1206, plus 75 cleaning.
    check(
        quoted.quote.total().to_string() == "1281.00 EUR",
        "quote total is 1281.00 EUR",
    )?;
    check(
        hits[0].total == quoted.quote.total(),
        "search and quote agree on the price",
    )?;

    // 4. Hold it for 15 minutes while the guest pays, then pay and confirm.
    // The hold knows the guest and the shop's cart id: if it expired, a
    // `hold.expired` template could remind her of the cart.
    let guest = Customer::new("Ana Lima", "+351912345678", Some("ana@example.com"))?;
    let hold = engine
        .hold(
            &HoldRequest::new("cart-1001", vec![QuoteRequest::new(item)], 900)
                .with_customer(guest.clone())
                .with_metadata(Metadata::from_pairs([("cart_id", "c-1001")])?),
        )
        .await?;
    println!(
        "hold: {} total={} expires {}",
        hold.id, hold.total, hold.expires_at
    );
    let left = engine
        .night_availability(&villa, date(7, 4), date(7, 5))
        .await?;
    check(
        left[0].available == 0 && left[0].held == 1,
        "the hold takes the villa",
    )?;
    let booking = engine
        .pay_and_confirm(&PayRequest {
            idempotency_key: "checkout-1001".into(),
            hold: hold.id.clone(),
            // No customer named: the booking is for the hold's guest.
            customer: None,
            payment_method: "tok_visa_4242".into(),
            amount: PayAmount::Full,
            attribution: Attribution {
                channel: Some("holiday-site".into()),
                ..Attribution::default()
            },
            // The shop's own order id, kept on the booking and its events
            // with the hold's cart id.
            metadata: Metadata::from_pairs([("order_id", "1001")])?,
        })
        .await?;
    println!(
        "booking: {} status={} paid={} order_id={}",
        booking.id,
        booking.status,
        booking.money.paid(booking.total.currency()),
        booking.metadata.get("order_id").unwrap_or("-")
    );
    check(
        booking.customer == guest,
        "the booking is for the guest the hold was made for",
    )?;
    check(
        booking.status == BookingStatus::Confirmed,
        "paid in full: confirmed",
    )?;
    check(
        booking.metadata.get("order_id") == Some("1001")
            && booking.metadata.get("cart_id") == Some("c-1001"),
        "the shop's order id and the hold's cart id are on the booking",
    )?;
    check(
        gateway.log.lock().unwrap().as_slice() == ["charge 1281.00 EUR"],
        "one charge",
    )?;

    // 5. SMS from the outbox: the guest and the owner hear about it.
    let report = notifier.run_once(100).await?;
    check(report.sent == 2, "confirmation SMS to guest and owner")?;

    // 6. Modify: one more night. The difference is charged, at the price
    // quoted (if rates changed in between, it fails with PRICE_CHANGED).
    let longer = Item::stay(villa.clone(), Stay::new(date(7, 4), date(7, 12))?, family);
    let change = engine
        .quote_modification(&booking.id, &[QuoteRequest::new(longer.clone())])
        .await?;
    println!(
        "modify: new total {} to charge {}",
        change.new_total, change.to_charge
    );
    let booking = engine
        .modify(&ModifyRequest {
            idempotency_key: "change-1001".into(),
            booking: booking.id.clone(),
            items: vec![QuoteRequest::new(longer)],
            payment_method: Some("tok_visa_4242".into()),
            expected_total: Some(change.new_total),
        })
        .await?;
    println!(
        "modify: booking now {} paid={}",
        booking.total,
        booking.money.paid(booking.total.currency())
    );
    check(
        booking.total == change.new_total,
        "the booking has the new price",
    )?;
    let night_12 = engine
        .night_availability(&villa, date(7, 11), date(7, 12))
        .await?;
    check(night_12[0].booked == 1, "the extra night is booked")?;

    // 7. Three days before arrival the guest cancels: the first night is kept.
    clock.set(Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap())?;
    let refund = engine.refund_quote(&booking.id, clock.now()).await?;
    println!(
        "refund quote: {} back, {} kept ({})",
        refund.refund(),
        refund.penalty(),
        refund.reason()
    );
    let cancelled = engine
        .cancel(&CancelRequest {
            idempotency_key: "cancel-1001".into(),
            booking: booking.id.clone(),
            reason: Some("family emergency".into()),
        })
        .await?;
    let refunds: Vec<String> = gateway
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("refund"))
        .cloned()
        .collect();
    println!(
        "cancel: status={} gateway: {}",
        cancelled.status,
        refunds.join(", ")
    );
    check(cancelled.status == BookingStatus::Cancelled, "cancelled")?;
    // The first night, Saturday 4 July, costs 220.00 less the 10% of the
    // 7+ nights discount: 198.00 is kept. Refunds come from the newest
    // payment first: the 198.00 change, then the rest.
    check(
        refund.penalty().to_string() == "198.00 EUR",
        "the first night's own price is kept",
    )?;
    check(
        refunds == ["refund 198.00 EUR", "refund 1083.00 EUR"],
        "refunded 1281.00 in two parts",
    )?;
    check(
        refund.refund().to_string() == "1281.00 EUR",
        "everything but the first night comes back",
    )?;
    let free = engine
        .night_availability(&villa, date(7, 4), date(7, 12))
        .await?;
    check(
        free.iter().all(|n| n.available == 1),
        "the villa is free again",
    )?;
    let report = notifier.run_once(100).await?;
    check(report.sent >= 2, "cancellation SMS to guest and owner")?;

    // 8. The owner's statement for July.
    let period = StatementPeriod::new(date(7, 1), date(8, 1))?;
    let statement = engine
        .owner_statement(&OwnerId::new("owner-ana")?, period)
        .await?;
    let t = &statement.totals;
    println!(
        "statement: gross {} refunds {} platform {} commissions {} payout {}",
        t.gross, t.refunds, t.platform_fees, t.commissions, t.owner_payout
    );
    let kept = t.gross.checked_sub(&t.refunds)?;
    let shares = Money::sum(
        t.gross.currency(),
        [&t.platform_fees, &t.commissions, &t.taxes, &t.owner_payout],
    )?;
    check(
        kept == shares && kept == refund.penalty(),
        "the money kept is split exactly",
    )?;
    check(
        sms.sent.lock().unwrap().len() >= 4,
        "every message went out",
    )?;

    println!("demo finished: every step checked");
    Ok(())
}
