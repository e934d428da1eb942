//! Search at its edges: it agrees with quotes on price and availability,
//! expired holds never hide a resource, and one resource that cannot be
//! priced does not take the whole search down.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;

use catalog::{d, daily_lessons, nightly, pid, rid, stay, world};
use chrono::Duration;
use holds::{adults, hold_request};
use reservo::catalog::{Resource, ResourceKind};
use reservo::engine::{Item, QuoteRequest, SearchFor, SearchHit, SearchRequest};
use reservo::ids::RatePlanId;

fn stays(from: (u32, u32), to: (u32, u32), guests: u32) -> SearchRequest {
    SearchRequest {
        what: SearchFor::Stay(stay(from, to)),
        party: adults(guests),
        property: None,
    }
}

fn found(hits: &[SearchHit]) -> Vec<String> {
    hits.iter()
        .map(|h| format!("{} {} {}", h.resource, h.available, h.total))
        .collect()
}

#[tokio::test]
async fn an_expired_hold_never_hides_a_resource_from_search() {
    let w = world().await;
    let villa = QuoteRequest::new(Item::stay(rid("villa"), stay((7, 1), (7, 4)), adults(2)));
    w.engine
        .hold(&hold_request("h1", vec![villa], 60))
        .await
        .unwrap();
    let hits = w.engine.search(&stays((7, 1), (7, 4), 2)).await.unwrap();
    // Wednesday 1 to Saturday 4 July: 100 + 100 + 120 (Friday) + 60 cleaning.
    assert_eq!(found(&hits), ["double 5 380.00 EUR"]);
    w.clock.advance(Duration::seconds(61));
    let hits = w.engine.search(&stays((7, 1), (7, 4), 2)).await.unwrap();
    assert_eq!(found(&hits), ["double 5 380.00 EUR", "villa 1 380.00 EUR"]);
}

#[tokio::test]
async fn search_prices_and_counts_every_hit_as_a_quote_does() {
    let w = world().await;
    // Friday 3 July to Monday 6 July: a weekend at 120.00 and a night at 100.00.
    let hits = w.engine.search(&stays((7, 3), (7, 6), 2)).await.unwrap();
    assert_eq!(hits.len(), 2);
    for hit in &hits {
        let item = Item::stay(hit.resource.clone(), stay((7, 3), (7, 6)), adults(2));
        let quoted = w.engine.quote(&QuoteRequest::new(item)).await.unwrap();
        assert_eq!(quoted.quote.total(), hit.total, "{}", hit.resource);
        assert_eq!(quoted.available, hit.available, "{}", hit.resource);
    }
}

#[tokio::test]
async fn a_resource_on_a_plan_of_the_other_unit_does_not_break_search() {
    let w = world().await;
    // "lesson" prices slots and "flex" nights: neither resource below can
    // be quoted, and a search must still list everything else.
    w.engine
        .put_resource(nightly("odd-room", "casa-azul", 1, 4, "lesson"))
        .await
        .unwrap();
    w.engine
        .put_resource(Resource {
            id: rid("odd-class"),
            property: pid("surf-school"),
            name: "Odd class".into(),
            rate_plan: RatePlanId::new("flex").unwrap(),
            kind: ResourceKind::Timed {
                seats: 8,
                schedule: daily_lessons(),
            },
        })
        .await
        .unwrap();
    let odd = Item::stay(rid("odd-room"), stay((7, 1), (7, 4)), adults(2));
    let err = w.engine.quote(&QuoteRequest::new(odd)).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");

    let hits = w.engine.search(&stays((7, 1), (7, 4), 2)).await.unwrap();
    assert_eq!(found(&hits), ["double 5 380.00 EUR", "villa 1 380.00 EUR"]);
    let sessions = w
        .engine
        .search(&SearchRequest {
            what: SearchFor::Sessions {
                from: d(7, 1),
                to: d(7, 2),
            },
            party: adults(1),
            property: None,
        })
        .await
        .unwrap();
    let resources: Vec<String> = sessions.iter().map(|h| h.resource.to_string()).collect();
    assert_eq!(resources, ["surf-lesson", "surf-lesson"]);
}
