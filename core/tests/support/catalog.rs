//! A small catalog shared by the engine tests: a rental villa, a hotel room
//! type and a surf school, in Lisbon, priced in EUR, on a manual clock.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::engine::{Engine, EngineBuilder};
use reservo::ids::{PropertyId, RatePlanId, ResourceId};
use reservo::pricing::{Percentage, Promo, PromoCode, PromoDiscount, RatePlan, UsageLimit};
use reservo::schedule::Schedule;
use reservo::store::MemoryStore;
use reservo::time::{ManualClock, Stay};

/// 2026-06-01 10:00 UTC (11:00 in Lisbon), a Monday.
pub fn start_of_tests() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap()
}

pub fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

pub fn stay(from: (u32, u32), to: (u32, u32)) -> Stay {
    Stay::new(d(from.0, from.1), d(to.0, to.1)).unwrap()
}

pub fn rid(id: &str) -> ResourceId {
    ResourceId::new(id).unwrap()
}

pub fn pid(id: &str) -> PropertyId {
    PropertyId::new(id).unwrap()
}

pub struct World {
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    pub engine: Engine,
}

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
    .unwrap()
}

/// `code`: 10% off the accommodation, for at most `uses` bookings.
pub fn limited_promo(code: &str, uses: u32) -> Promo {
    Promo {
        code: PromoCode::new(code).unwrap(),
        discount: PromoDiscount::Percent(Percentage::parse("10").unwrap()),
        booking_window: None,
        stay_window: None,
        usage_limit: UsageLimit::MaxUses(uses.try_into().unwrap()),
        min_nights: None,
    }
}

/// A nightly plan that costs nothing (no fees either).
pub fn free_nightly_plan(id: &str) -> RatePlan {
    RatePlan::from_json(&format!(
        r#"{{"id": "{id}", "name": "Free stay", "unit": "night",
             "base_price": {{"amount": "0.00", "currency": "EUR"}}}}"#
    ))
    .unwrap()
}

pub fn lesson_plan() -> RatePlan {
    RatePlan::from_json(
        r#"{
      "id": "lesson", "name": "Lesson", "unit": "slot",
      "base_price": {"amount": "45.00", "currency": "EUR"},
      "occupancy": {"included_guests": 1, "extra_adult": {"amount": "45.00", "currency": "EUR"},
                    "child_bands": [{"id": "kid", "min_age": 0, "max_age": 17, "price": {"amount": "30.00", "currency": "EUR"}}]}
    }"#,
    )
    .unwrap()
}

pub fn daily_lessons() -> Schedule {
    serde_json::from_str(
        r#"{"rules": [{"weekdays": ["mon","tue","wed","thu","fri","sat","sun"],
                        "start_times": ["09:00:00", "14:00:00"], "duration_minutes": 120,
                        "dates": {"from": "2026-01-01"}}],
            "buffers": {"before_minutes": 15, "after_minutes": 15}}"#,
    )
    .unwrap()
}

pub fn nightly(id: &str, property: &str, units: u32, max_occupancy: u32, plan: &str) -> Resource {
    Resource {
        id: rid(id),
        property: pid(property),
        name: format!("Resource {id}"),
        rate_plan: RatePlanId::new(plan).unwrap(),
        kind: ResourceKind::Nightly {
            units,
            max_occupancy,
        },
    }
}

/// A world with the catalog set up.
pub async fn world() -> World {
    world_with(|builder| builder).await
}

/// A world with the catalog set up, on an engine `configure` adds to
/// (a payment gateway, a change fee).
pub async fn world_with(configure: impl FnOnce(EngineBuilder) -> EngineBuilder) -> World {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(start_of_tests()));
    let engine = configure(Engine::builder(store.clone()).clock(clock.clone())).build();
    engine
        .put_property(
            Property::new(
                "casa-azul",
                "Casa Azul",
                "owner-ana",
                "Europe/Lisbon",
                "EUR",
            )
            .unwrap(),
        )
        .await
        .unwrap();
    engine
        .put_property(
            Property::new(
                "surf-school",
                "Onda Surf School",
                "owner-rui",
                "Europe/Lisbon",
                "EUR",
            )
            .unwrap(),
        )
        .await
        .unwrap();
    engine
        .put_rate_plan(nightly_plan("flex", "100.00"))
        .await
        .unwrap();
    engine.put_rate_plan(lesson_plan()).await.unwrap();
    engine
        .put_resource(nightly("villa", "casa-azul", 1, 4, "flex"))
        .await
        .unwrap();
    engine
        .put_resource(nightly("double", "casa-azul", 5, 2, "flex"))
        .await
        .unwrap();
    engine
        .put_resource(Resource {
            id: rid("surf-lesson"),
            property: pid("surf-school"),
            name: "Surf lesson".into(),
            rate_plan: RatePlanId::new("lesson").unwrap(),
            kind: ResourceKind::Timed {
                seats: 8,
                schedule: daily_lessons(),
            },
        })
        .await
        .unwrap();
    World {
        store,
        clock,
        engine,
    }
}
