//! Shared set-up for Reservo's criterion benches (the benches themselves are
//! under `benches/benches/`). See `benches/README.md` for the figures and the
//! commands that reproduce them.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use reservo::booking::Customer;
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::engine::{CatalogImport, ConfirmRequest, Engine, HoldRequest, Item, QuoteRequest};
use reservo::ids::{HoldId, PropertyId, RatePlanId, ResourceId};
use reservo::party::Party;
use reservo::pricing::RatePlan;
use reservo::store::MemoryStore;
use reservo::time::{ManualClock, Stay};

/// A single-threaded tokio runtime: the benches measure one caller on one
/// core, as the targets in `benches/README.md` are stated.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime always builds")
}

/// An engine on an in-memory store and a manual clock.
pub struct World {
    /// The store, for checks on what the engine wrote.
    pub store: Arc<MemoryStore>,
    /// The clock, stopped at [`bench_now`].
    pub clock: Arc<ManualClock>,
    /// The engine under test.
    pub engine: Engine,
}

/// The instant every bench runs at: Monday 2026-06-01 10:00 UTC.
pub fn bench_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0)
        .single()
        .expect("a valid instant")
}

/// A date in 2026.
pub fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).expect("a valid date")
}

fn world_on(store: Arc<MemoryStore>) -> World {
    let clock = Arc::new(ManualClock::new(bench_now()));
    let engine = Engine::builder(store.clone()).clock(clock.clone()).build();
    World {
        store,
        clock,
        engine,
    }
}

/// The nightly plan of the engine tests: a base price, a weekend rate and a
/// cleaning fee per booking.
pub fn nightly_plan(id: &str, base: &str) -> RatePlan {
    RatePlan::from_json(&format!(
        r#"{{
      "id": "{id}", "name": "Flexible", "unit": "night",
      "base_price": {{"amount": "{base}", "currency": "EUR"}},
      "weekday_rates": [{{"id": "weekend", "name": "Weekend", "weekdays": ["Fri", "Sat"],
                         "price": {{"amount": "120.00", "currency": "EUR"}}}}],
      "fees": [{{"id": "cleaning", "name": "Cleaning", "amount": {{"amount": "60.00", "currency": "EUR"}},
                "basis": "per_booking", "taxable": false}}]
    }}"#
    ))
    .expect("the bench plan is valid")
}

fn property(id: &str) -> Property {
    Property::new(id, id, "owner-bench", "Europe/Lisbon", "EUR").expect("a valid property")
}

fn nightly(id: &str, property: &str, units: u32, plan: &str) -> Resource {
    Resource {
        id: ResourceId::new(id).expect("a valid id"),
        property: PropertyId::new(property).expect("a valid id"),
        name: format!("Unit {id}"),
        rate_plan: RatePlanId::new(plan).expect("a valid id"),
        kind: ResourceKind::Nightly {
            units,
            max_occupancy: 4,
        },
    }
}

/// The hotel of the hold + confirm bench: one property, one room type with
/// a million units (so the bench never runs out), on [`nightly_plan`].
pub async fn hotel() -> World {
    let w = world_on(Arc::new(MemoryStore::new()));
    w.engine
        .put_property(property("hotel"))
        .await
        .expect("the property is valid");
    w.engine
        .put_rate_plan(nightly_plan("flex", "100.00"))
        .await
        .expect("the plan is valid");
    w.engine
        .put_resource(nightly("double", "hotel", 1_000_000, "flex"))
        .await
        .expect("the resource is valid");
    w
}

/// Thursday 2 to Sunday 5 July: three nights, two at the weekend rate.
pub fn hotel_stay() -> Stay {
    Stay::new(date(7, 2), date(7, 5)).expect("a valid stay")
}

/// A hold of one double room for [`hotel_stay`], two adults, 15 minutes.
pub fn hold_request(idempotency_key: String) -> HoldRequest {
    HoldRequest::new(
        idempotency_key,
        vec![QuoteRequest::new(Item::stay(
            ResourceId::new("double").expect("a valid id"),
            hotel_stay(),
            Party::adults(2).expect("a valid party"),
        ))],
        900,
    )
}

/// The guest of every bench booking.
pub fn guest() -> Customer {
    Customer::new("Ana Lima", "+351912345678", None).expect("a valid customer")
}

/// Confirms all of `hold` for [`guest`].
pub fn confirm_request(idempotency_key: String, hold: reservo::ids::HoldId) -> ConfirmRequest {
    ConfirmRequest {
        idempotency_key,
        hold,
        customer: Some(guest()),
        items: None,
        attribution: Default::default(),
        metadata: Default::default(),
    }
}

/// Pair `i` of the hold + confirm bench: holds one room ([`hold_request`],
/// key `h<i>`) and confirms all of it ([`confirm_request`], key `c<i>`).
pub async fn hold_and_confirm(engine: &Engine, i: u64) -> reservo::engine::Booking {
    let hold = engine
        .hold(&hold_request(format!("h{i}")))
        .await
        .expect("the hotel never runs out");
    engine
        .confirm(&confirm_request(format!("c{i}"), hold.id))
        .await
        .expect("a fresh hold confirms")
}

/// The shape of a search bench's inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inventory {
    /// Properties; resources are spread evenly over them.
    pub properties: usize,
    /// Nightly resources.
    pub resources: usize,
    /// Units of each resource.
    pub units_each: u32,
    /// Whether every resource has a rate plan of its own (with its own
    /// base price), or all share one.
    pub own_plans: bool,
    /// Roughly how many unit-nights around [`search_stay`] are booked, in
    /// percent. Bookings are real stays of one to five nights, made through
    /// [`Engine::hold`] and [`Engine::confirm`].
    pub booked_percent: u32,
}

/// The stay every search bench asks for: Wednesday 1 to Wednesday 8 July.
pub fn search_stay() -> Stay {
    Stay::new(date(7, 1), date(7, 8)).expect("a valid stay")
}

/// What [`inventory`] built.
pub struct Stocked {
    /// The engine and its store.
    pub world: World,
    /// Bookings made.
    pub bookings: usize,
    /// Booked unit-nights in [`search_stay`] over all unit-nights in it,
    /// in percent.
    pub booked_share_of_stay: f64,
}

/// Builds `shape`: the catalog in one [`Engine::import_catalog`], then
/// bookings through the engine.
pub async fn inventory(shape: Inventory) -> Stocked {
    let store = Arc::new(MemoryStore::new());
    let mut import = CatalogImport {
        properties: (0..shape.properties)
            .map(|p| property(&format!("prop-{p:05}")))
            .collect(),
        ..CatalogImport::default()
    };
    if !shape.own_plans {
        import.rate_plans.push(nightly_plan("shared", "100.00"));
    }
    for r in 0..shape.resources {
        let id = format!("unit-{r:05}");
        let prop = format!("prop-{:05}", r % shape.properties);
        let plan = if shape.own_plans {
            let plan = format!("plan-{r:05}");
            // Base prices from 80.00 to 179.00, so no two neighbours agree.
            let base = format!("{}.00", 80 + (r * 37) % 100);
            import.rate_plans.push(nightly_plan(&plan, &base));
            plan
        } else {
            "shared".to_owned()
        };
        import
            .resources
            .push(nightly(&id, &prop, shape.units_each, &plan));
    }
    let world = world_on(store);
    world
        .engine
        .import_catalog(&import)
        .await
        .expect("the catalog imports");
    let (bookings, booked_in_stay) = book_around_search_stay(&world.engine, shape).await;
    let unit_nights = shape.resources as f64 * f64::from(shape.units_each) * 7.0;
    Stocked {
        world,
        bookings,
        booked_share_of_stay: 100.0 * booked_in_stay as f64 / unit_nights,
    }
}

/// Books stays of 1-5 nights with random gaps on every unit of every
/// resource, in the weeks around [`search_stay`]. Returns the bookings made
/// and the unit-nights they take inside the search stay.
async fn book_around_search_stay(engine: &Engine, shape: Inventory) -> (usize, usize) {
    if shape.booked_percent == 0 {
        return (0, 0);
    }
    let window = (date(6, 24), date(7, 15));
    let searched = search_stay();
    // A stay averages 3 nights; a gap of g nights between stays books
    // 3 / (3 + g) of them.
    let mean_gap = 3.0 * (100.0 / f64::from(shape.booked_percent) - 1.0);
    let max_gap = (2.0 * mean_gap).round() as u64;
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let party = Party::adults(2).expect("a valid party");
    let (mut made, mut in_stay) = (0usize, 0usize);
    for r in 0..shape.resources {
        let resource = ResourceId::new(format!("unit-{r:05}")).expect("a valid id");
        for unit in 0..shape.units_each {
            let mut night = window.0 + Duration::days(rng.below(max_gap + 1) as i64);
            while night < window.1 {
                let nights = 1 + rng.below(5) as i64;
                let end = (night + Duration::days(nights)).min(window.1);
                let stay = Stay::new(night, end).expect("an ordered stay");
                let key = format!("seed-{r}-{unit}-{night}");
                let hold = engine
                    .hold(&HoldRequest::new(
                        key.clone(),
                        vec![QuoteRequest::new(Item::stay(
                            resource.clone(),
                            stay,
                            party.clone(),
                        ))],
                        60,
                    ))
                    .await
                    .expect("seed stays never overlap");
                engine
                    .confirm(&confirm_request(format!("{key}-c"), hold.id))
                    .await
                    .expect("a fresh hold confirms");
                made += 1;
                in_stay += stay
                    .night_dates()
                    .filter(|n| searched.night_dates().any(|s| s == *n))
                    .count();
                night = end + Duration::days(rng.below(max_gap + 1) as i64);
            }
        }
    }
    (made, in_stay)
}

/// A small deterministic generator (xorshift64), so every run books the
/// same nights.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// An engine on `store` for the durable benches: one property on a clock
/// stopped at [`bench_now`], one plain nightly plan, and a nightly
/// resource of `units` units for each id in `resources`.
pub async fn durable_hotel(
    store: Arc<dyn reservo::ports::Storage>,
    resources: impl IntoIterator<Item = String>,
    units: u32,
) -> Engine {
    let engine = Engine::builder(store)
        .clock(Arc::new(ManualClock::new(bench_now())))
        .build();
    let property = Property::new("hotel", "Hotel", "owner", "Europe/Lisbon", "EUR").unwrap();
    engine.put_property(property).await.unwrap();
    let plan = r#"{"id": "flex", "name": "Flexible", "unit": "night",
                   "base_price": {"amount": "90.00", "currency": "EUR"}}"#;
    engine
        .put_rate_plan(RatePlan::from_json(plan).unwrap())
        .await
        .unwrap();
    for id in resources {
        let resource = Resource {
            name: format!("Room {id}"),
            id: ResourceId::new(id).unwrap(),
            property: PropertyId::new("hotel").unwrap(),
            rate_plan: RatePlanId::new("flex").unwrap(),
            kind: ResourceKind::Nightly {
                units,
                max_occupancy: 2,
            },
        };
        engine.put_resource(resource).await.unwrap();
    }
    engine
}

/// The two nights every durable-bench booking takes: 10 to 12 July 2026.
pub fn durable_nights() -> [NaiveDate; 2] {
    let first = NaiveDate::from_ymd_opt(2026, 7, 10).expect("a valid date");
    [first, first.succ_opt().expect("a next day")]
}

/// A durable-bench hold: one unit of `resource` for [`durable_nights`],
/// two adults, ten minutes.
pub fn durable_hold(resource: &str, idempotency_key: String) -> HoldRequest {
    let [first, second] = durable_nights();
    let stay = Stay::new(first, second.succ_opt().unwrap()).unwrap();
    let item = Item::stay(
        ResourceId::new(resource).unwrap(),
        stay,
        Party::adults(2).unwrap(),
    );
    HoldRequest::new(idempotency_key, vec![QuoteRequest::new(item)], 600)
}

/// The confirmation of a [`durable_hold`] for one guest.
pub fn durable_confirm(hold: HoldId, idempotency_key: String) -> ConfirmRequest {
    let guest = Customer::new("Guest", "+351912345678", None).unwrap();
    ConfirmRequest::new(idempotency_key, hold, guest)
}
