//! The main demo: a rental villa and a surf school set up on the embedded
//! default store (a SQLite file), then searched and quoted.
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

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::engine::{Engine, Item, QuoteRequest, SearchFor, SearchRequest};
use reservo::ids::{PropertyId, RatePlanId, ResourceId};
use reservo::party::Party;
use reservo::ports::Storage;
use reservo::pricing::RatePlan;
use reservo::store::{PostgresOptions, PostgresStore, SqliteStore};
use reservo::time::{ManualClock, Stay};

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
    let engine = Engine::builder(store).clock(clock.clone()).build();

    // 1. Catalog: a villa in Lisbon with a weekend rate and a cleaning fee.
    engine
        .put_property(Property::new(
            "casa-azul",
            "Casa Azul",
            "owner-ana",
            "Europe/Lisbon",
            "EUR",
        )?)
        .await?;
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
    engine
        .put_resource(Resource {
            id: ResourceId::new("villa-azul")?,
            property: PropertyId::new("casa-azul")?,
            name: "Villa Azul, sea view".into(),
            rate_plan: RatePlanId::new("villa-flex")?,
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
        hits.len() == 1 && hits[0].resource.as_str() == "villa-azul",
        "one villa found",
    )?;

    // 3. Quote it, line by line.
    let quoted = engine
        .quote(&QuoteRequest::new(Item::stay(
            ResourceId::new("villa-azul")?,
            week,
            family,
        )))
        .await?;
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

    println!("demo finished: every step checked");
    Ok(())
}
