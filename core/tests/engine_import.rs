//! Bulk catalog import: one commit for a whole catalog, checked against
//! the catalog it lands on, all or nothing.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/spy_store.rs"]
mod spy_store;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use catalog::{World, d, lesson_plan, nightly, nightly_plan, pid, rid, stay, world};
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::engine::{CatalogImport, Engine, Item, QuoteRequest};
use reservo::ids::RatePlanId;
use reservo::party::Party;
use reservo::ports::{CommitBatch, Storage};
use reservo::pricing::RatePlan;
use reservo::store::MemoryStore;
use reservo::time::ManualClock;
use spy_store::{Hooks, Spy};

/// Counts commits.
#[derive(Default)]
struct Commits(AtomicUsize);

#[async_trait]
impl Hooks for Commits {
    async fn on_commit(&self, _batch: &CommitBatch) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn pines() -> Property {
    Property::new("pines", "The Pines", "owner-eva", "Europe/Lisbon", "EUR").unwrap()
}

fn cabin(n: u32, plan: &str) -> Resource {
    nightly(&format!("cabin-{n:03}"), "pines", 1, 4, plan)
}

fn usd_plan(id: &str) -> RatePlan {
    RatePlan::from_json(&format!(
        r#"{{"id": "{id}", "name": "Dollars", "unit": "night",
            "base_price": {{"amount": "90.00", "currency": "USD"}}}}"#
    ))
    .unwrap()
}

async fn catalog_events(w: &World) -> usize {
    w.store
        .read_events(0, usize::MAX)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "catalog.changed")
        .count()
}

#[tokio::test]
async fn an_import_lands_in_one_commit_with_an_event_per_record() {
    let store = Spy::over(Arc::new(MemoryStore::new()), Commits::default());
    let clock = Arc::new(ManualClock::new(catalog::start_of_tests()));
    let engine = Engine::builder(store.clone()).clock(clock).build();
    let import = CatalogImport {
        properties: vec![pines()],
        rate_plans: vec![nightly_plan("pines-std", "90.00")],
        resources: (1..=300).map(|n| cabin(n, "pines-std")).collect(),
    };
    engine.import_catalog(&import).await.unwrap();
    assert_eq!(store.hooks.0.load(Ordering::SeqCst), 1);
    let events = store.inner.read_events(0, usize::MAX).await.unwrap();
    assert_eq!(events.len(), 302);
    assert!(events.iter().all(|e| e.kind == "catalog.changed"));
    let cabins = engine.resources(Some(&pid("pines"))).await.unwrap();
    assert_eq!(cabins.len(), 300);
    assert_eq!(cabins[41], cabin(42, "pines-std"));
    // Bookable at once.
    let item = Item::stay(
        rid("cabin-042"),
        stay((7, 1), (7, 3)),
        Party::adults(2).unwrap(),
    );
    let quoted = engine.quote(&QuoteRequest::new(item)).await.unwrap();
    assert_eq!(quoted.quote.accommodation().amount().to_string(), "180.00");
    // An empty import commits nothing.
    engine
        .import_catalog(&CatalogImport::default())
        .await
        .unwrap();
    assert_eq!(store.hooks.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_import_may_replace_records_and_lean_on_the_catalog() {
    let w = world().await;
    // The villa moves to a new plan; a new room uses the catalog's `flex`.
    let mut villa = nightly("villa", "casa-azul", 1, 6, "villa-2027");
    villa.name = "Villa Azul".into();
    w.engine
        .import_catalog(&CatalogImport {
            properties: vec![],
            rate_plans: vec![nightly_plan("villa-2027", "150.00")],
            resources: vec![villa.clone(), nightly("twin", "casa-azul", 4, 2, "flex")],
        })
        .await
        .unwrap();
    assert_eq!(w.engine.resource(&rid("villa")).await.unwrap(), villa);
    let twin = w.engine.resource(&rid("twin")).await.unwrap();
    assert_eq!(twin.rate_plan, RatePlanId::new("flex").unwrap());
    let left = w
        .engine
        .night_availability(&rid("twin"), d(7, 1), d(7, 2))
        .await
        .unwrap();
    assert_eq!(left[0].available, 4);
}

#[tokio::test]
async fn a_bad_import_is_refused_whole_and_changes_nothing() {
    let w = world().await;
    let before = w.store.dump();
    let events = catalog_events(&w).await;
    let good = || CatalogImport {
        properties: vec![pines()],
        rate_plans: vec![nightly_plan("pines-std", "90.00")],
        resources: (1..=5).map(|n| cabin(n, "pines-std")).collect(),
    };
    let lesson = Resource {
        kind: ResourceKind::Nightly {
            units: 8,
            max_occupancy: 1,
        },
        ..w.engine.resource(&rid("surf-lesson")).await.unwrap()
    };
    let mut twice = good();
    twice.resources.push(cabin(3, "pines-std"));
    let mut unknown_plan = good();
    unknown_plan.resources.push(cabin(6, "nope"));
    let mut unknown_property = good();
    unknown_property.properties.clear();
    let mut dollars = good();
    dollars.rate_plans.push(usd_plan("pines-usd"));
    dollars.resources.push(cabin(6, "pines-usd"));
    // Replacing `flex` with a dollar plan would break the villa (euros).
    let mut breaks_the_villa = good();
    breaks_the_villa.rate_plans.push(usd_plan("flex"));
    let mut changes_kind = good();
    changes_kind.resources.push(lesson);
    let mut bad_name = good();
    bad_name.resources[0].name = String::new();
    let cases = [
        (twice, "INVALID_INPUT", "cabin-003"),
        (unknown_plan, "NOT_FOUND", "nope"),
        (unknown_property, "NOT_FOUND", "pines"),
        (dollars, "CURRENCY_MISMATCH", "USD"),
        (breaks_the_villa, "CURRENCY_MISMATCH", "USD"),
        (changes_kind, "INVALID_INPUT", "surf-lesson"),
        (bad_name, "INVALID_INPUT", "name"),
    ];
    for (import, code, mentions) in cases {
        let err = w.engine.import_catalog(&import).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(err.to_string().contains(mentions), "{err}");
        assert_eq!(w.store.dump(), before, "{err}");
    }
    assert_eq!(catalog_events(&w).await, events);
    // The lesson plan is untouched and the good import still goes in.
    assert_eq!(
        w.engine
            .resource(&rid("surf-lesson"))
            .await
            .unwrap()
            .rate_plan,
        *lesson_plan().id()
    );
    w.engine.import_catalog(&good()).await.unwrap();
}

/// A property changes currency in one import that brings plans in the new
/// currency and moves every one of its resources onto them; an import
/// that leaves one resource on a plan in the old currency is refused.
#[tokio::test]
async fn a_property_switches_currency_with_all_its_resources_in_one_import() {
    let w = world().await;
    w.engine
        .import_catalog(&CatalogImport {
            properties: vec![pines()],
            rate_plans: vec![nightly_plan("pines-std", "90.00")],
            resources: (1..=3).map(|n| cabin(n, "pines-std")).collect(),
        })
        .await
        .unwrap();
    let dollars = Property {
        currency: "USD".parse().unwrap(),
        ..pines()
    };
    let one_left_behind = CatalogImport {
        properties: vec![dollars.clone()],
        rate_plans: vec![usd_plan("pines-usd")],
        resources: (1..=2).map(|n| cabin(n, "pines-usd")).collect(),
    };
    let err = w.engine.import_catalog(&one_left_behind).await.unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH", "{err}");
    w.engine
        .import_catalog(&CatalogImport {
            resources: (1..=3).map(|n| cabin(n, "pines-usd")).collect(),
            ..one_left_behind
        })
        .await
        .unwrap();
    let pines = w.engine.property(&pid("pines")).await.unwrap();
    assert_eq!(pines.currency.code(), "USD");
    let cabin_3 = w.engine.resource(&rid("cabin-003")).await.unwrap();
    assert_eq!(cabin_3.rate_plan, RatePlanId::new("pines-usd").unwrap());
}
