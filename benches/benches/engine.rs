//! The engine's two hot paths on the in-memory store, one caller on one
//! core:
//!
//! * `engine/hold_confirm`: hold one room for three nights, then confirm
//!   it. Target: at least 250,000 pairs per second (at most 4 µs a pair).
//! * `engine/search_7_nights/<inventory>`: an availability search for a
//!   7-night stay over 10,000 units, priced. Target: at most 5 ms.
//!
//! What each inventory is, and the figures, are in `benches/README.md`.
//! Run: `cargo bench -p reservo-benches --bench engine`.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reservo::engine::{Item, QuoteRequest, SearchFor, SearchRequest};
use reservo::party::Party;
use reservo_benches::{
    Inventory, Stocked, hold_and_confirm, hotel, inventory, runtime, search_stay,
};

/// Hold + confirm pairs on one fresh hotel per sample (timed: the pairs
/// only), so a long run does not measure an ever larger store.
fn hold_confirm(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    group.bench_function("hold_confirm", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let w = hotel().await;
                let mut spent = Duration::ZERO;
                for i in 0..iters {
                    let started = Instant::now();
                    let booking = hold_and_confirm(&w.engine, i).await;
                    spent += started.elapsed();
                    std::hint::black_box(booking);
                }
                spent
            })
        })
    });
    group.finish();
}

/// The inventories searched, by name (see the README).
const INVENTORIES: [(&str, Inventory); 3] = [
    (
        "rentals_10000_own_plans_30pct_booked",
        Inventory {
            properties: 1_000,
            resources: 10_000,
            units_each: 1,
            own_plans: true,
            booked_percent: 30,
        },
    ),
    (
        "rentals_10000_own_plans_nothing_booked",
        Inventory {
            properties: 1_000,
            resources: 10_000,
            units_each: 1,
            own_plans: true,
            booked_percent: 0,
        },
    ),
    (
        "room_types_100x100_units_shared_plan_30pct_booked",
        Inventory {
            properties: 10,
            resources: 100,
            units_each: 100,
            own_plans: false,
            booked_percent: 30,
        },
    ),
];

/// Builds an inventory and checks that searching it finds something and
/// agrees with a quote of each hit: a bench of an empty or wrong answer
/// measures nothing.
fn stock(
    rt: &tokio::runtime::Runtime,
    name: &str,
    shape: Inventory,
    request: &SearchRequest,
) -> Stocked {
    let stocked = rt.block_on(inventory(shape));
    let engine = &stocked.world.engine;
    let hits = rt
        .block_on(engine.search(request))
        .expect("the search runs");
    assert!(!hits.is_empty(), "{name}: nothing is free");
    for hit in hits.iter().step_by(hits.len().div_ceil(20)) {
        let item = Item::stay(hit.resource.clone(), search_stay(), request.party.clone());
        let quoted = rt
            .block_on(engine.quote(&QuoteRequest::new(item)))
            .expect("a hit can be quoted");
        assert_eq!(
            (quoted.quote.total(), quoted.available),
            (hit.total, hit.available)
        );
    }
    eprintln!(
        "{name}: {} bookings, {:.1}% of the stay's unit-nights booked, {} of {} resources free",
        stocked.bookings,
        stocked.booked_share_of_stay,
        hits.len(),
        shape.resources
    );
    stocked
}

fn search(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("engine/search_7_nights");
    group.sample_size(30);
    let request = SearchRequest {
        what: SearchFor::Stay(search_stay()),
        party: Party::adults(2).expect("a valid party"),
        property: None,
    };
    for (name, shape) in INVENTORIES {
        // Built on first use, so a filtered run builds only what it runs.
        let mut stocked: Option<Stocked> = None;
        group.bench_function(name, |b| {
            let stocked = stocked.get_or_insert_with(|| stock(&rt, name, shape, &request));
            let engine = &stocked.world.engine;
            b.to_async(&rt).iter(|| engine.search(&request))
        });
    }
    group.finish();
}

criterion_group!(benches, hold_confirm, search);
criterion_main!(benches);
