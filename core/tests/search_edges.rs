//! Search at its edges: it agrees with quotes on price and availability,
//! expired holds never hide a resource, one resource that cannot be
//! priced does not take the whole search down, and "today" is each
//! property's own.

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
use reservo::ports::{CommitBatch, Expectation, Mutation, Storage};

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

/// "lesson" prices sessions and "flex" nights: neither resource can be
/// quoted.
fn on_plans_of_the_other_unit() -> [Resource; 2] {
    [
        nightly("odd-room", "casa-azul", 1, 4, "lesson"),
        Resource {
            id: rid("odd-class"),
            property: pid("surf-school"),
            name: "Odd class".into(),
            rate_plan: RatePlanId::new("flex").unwrap(),
            kind: ResourceKind::Timed {
                seats: 8,
                schedule: daily_lessons(),
            },
        },
    ]
}

/// What a search of stays and one of sessions find.
async fn everything_found(w: &catalog::World) -> (Vec<String>, Vec<String>) {
    let hits = w.engine.search(&stays((7, 1), (7, 4), 2)).await.unwrap();
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
    let sessions = sessions.iter().map(|h| h.resource.to_string()).collect();
    (found(&hits), sessions)
}

#[tokio::test]
async fn a_resource_on_a_plan_of_the_other_unit_is_refused_and_changes_nothing() {
    let w = world().await;
    let before = everything_found(&w).await;
    assert_eq!(
        before,
        (
            vec![
                "double 5 380.00 EUR".to_owned(),
                "villa 1 380.00 EUR".to_owned()
            ],
            vec!["surf-lesson".to_owned(), "surf-lesson".to_owned()]
        )
    );
    for resource in on_plans_of_the_other_unit() {
        let err = w.engine.put_resource(resource.clone()).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{err}");
        assert!(err.to_string().contains(resource.id.as_str()), "{err}");
    }
    assert_eq!(everything_found(&w).await, before);
}

#[tokio::test]
async fn a_stored_resource_on_a_plan_of_the_other_unit_does_not_break_search() {
    // Catalogs written before imports checked the plan's unit may hold
    // such resources: written here past the engine, with the catalog's
    // epoch moved on as an import does.
    let w = world().await;
    let before = everything_found(&w).await;
    let epoch = w.store.get(&["cat/epoch".into()]).await.unwrap().remove(0);
    let epoch = epoch.expect("the world's catalog was imported");
    let next: u64 = serde_json::from_slice::<u64>(&epoch.value).unwrap() + 1;
    let mut mutations = vec![Mutation::Put {
        key: "cat/epoch".into(),
        value: next.to_string().into_bytes(),
    }];
    for resource in on_plans_of_the_other_unit() {
        mutations.push(Mutation::Put {
            key: format!("cat/r/{}", resource.id),
            value: serde_json::to_vec(&resource).unwrap(),
        });
    }
    let batch = CommitBatch {
        expectations: vec![Expectation {
            key: "cat/epoch".into(),
            version: Some(epoch.version),
        }],
        mutations,
        ..CommitBatch::default()
    };
    w.store.commit(batch).await.unwrap();
    let odd = Item::stay(rid("odd-room"), stay((7, 1), (7, 4)), adults(2));
    let err = w.engine.quote(&QuoteRequest::new(odd)).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(everything_found(&w).await, before);
}

/// Stays are searched from the first night that has not begun in each
/// property's own time zone, and one property can be asked for alone. At
/// 10:00 UTC on Monday 1 June it is 11:00 in Lisbon but already Tuesday
/// on Kiritimati (UTC+14), and still Sunday where the day ends last
/// (UTC-12).
#[tokio::test]
async fn search_starts_today_in_each_propertys_time_zone_and_filters_by_property() {
    let w = world().await;
    let atoll = reservo::catalog::Property::new(
        "atoll",
        "Atoll Huts",
        "owner-ana",
        "Pacific/Kiritimati",
        "EUR",
    )
    .unwrap();
    w.engine.put_property(atoll).await.unwrap();
    w.engine
        .put_resource(nightly("hut", "atoll", 1, 2, "flex"))
        .await
        .unwrap();
    let search = |from, to, property: Option<&str>| {
        let request = SearchRequest {
            property: property.map(pid),
            ..stays(from, to, 2)
        };
        let engine = &w.engine;
        async move {
            let hits = engine.search(&request).await?;
            let mut ids: Vec<String> = hits.iter().map(|h| h.resource.to_string()).collect();
            ids.sort();
            Ok::<_, reservo::Error>(ids)
        }
    };
    // Tonight: begun on the atoll, not in Lisbon.
    assert_eq!(
        search((6, 1), (6, 2), None).await.unwrap(),
        ["double", "villa"]
    );
    assert_eq!(
        search((6, 2), (6, 3), None).await.unwrap(),
        ["double", "hut", "villa"]
    );
    assert_eq!(
        search((6, 2), (6, 3), Some("atoll")).await.unwrap(),
        ["hut"]
    );
    assert_eq!(
        search((6, 2), (6, 3), Some("casa-azul")).await.unwrap(),
        ["double", "villa"]
    );
    // Asked of the atoll alone, tonight is in the past.
    let past = search((6, 1), (6, 2), Some("atoll")).await.unwrap_err();
    assert_eq!(past.code(), "IN_THE_PAST");
    // Sunday night: begun in every property here, but not everywhere on
    // Earth, so nothing is found rather than an error; asked of a Lisbon
    // property, it is in the past.
    assert!(search((5, 31), (6, 2), None).await.unwrap().is_empty());
    let past = search((5, 31), (6, 2), Some("casa-azul"))
        .await
        .unwrap_err();
    assert_eq!(past.code(), "IN_THE_PAST");
    let past = search((5, 30), (6, 2), None).await.unwrap_err();
    assert_eq!(past.code(), "IN_THE_PAST");
}

/// A night with more booked resources than the search reads ledgers in
/// one page (4,096): every page is merged, so exactly the resources left
/// free are found.
#[tokio::test]
async fn search_reads_every_page_of_a_nights_ledgers() {
    let w = world().await;
    let resources: Vec<Resource> = (0..4_200)
        .map(|n| nightly(&format!("room-{n:04}"), "casa-azul", 1, 2, "flex"))
        .collect();
    let import = reservo::engine::CatalogImport {
        resources: resources.clone(),
        ..Default::default()
    };
    w.engine.import_catalog(&import).await.unwrap();
    // Every room but each 400th is held for the night of 1 July, 50 to a
    // hold: 4,189 ledgers on that night.
    let free: Vec<String> = (0..4_200)
        .filter(|n| n % 400 == 7)
        .map(|n| format!("room-{n:04}"))
        .collect();
    let held: Vec<&Resource> = resources
        .iter()
        .filter(|r| !free.contains(&r.id.to_string()))
        .collect();
    for (i, chunk) in held.chunks(50).enumerate() {
        let items = chunk
            .iter()
            .map(|r| QuoteRequest::new(Item::stay(r.id.clone(), stay((7, 1), (7, 2)), adults(2))))
            .collect();
        w.engine
            .hold(&hold_request(&format!("h{i}"), items, 3_600))
            .await
            .unwrap();
    }
    let hits = w.engine.search(&stays((7, 1), (7, 2), 2)).await.unwrap();
    let mut found: Vec<String> = hits.iter().map(|h| h.resource.to_string()).collect();
    found.sort();
    let mut expected = free.clone();
    expected.extend(["double".to_owned(), "villa".to_owned()]);
    expected.sort();
    assert_eq!(found, expected);
}

/// A party as large as a session's seats finds it; one more does not.
#[tokio::test]
async fn a_party_filling_every_seat_of_a_session_finds_it() {
    let w = world().await;
    let sessions = |guests| SearchRequest {
        what: SearchFor::Sessions {
            from: d(6, 2),
            to: d(6, 3),
        },
        party: adults(guests),
        property: None,
    };
    // The surf lesson: 8 seats, at 09:00 and 14:00 each day.
    let hits = w.engine.search(&sessions(8)).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert!(
        hits.iter()
            .all(|h| h.resource == rid("surf-lesson") && h.available == 8)
    );
    assert!(w.engine.search(&sessions(9)).await.unwrap().is_empty());
}
