//! The `period` of hold and booking events: from the earliest start to the
//! latest end of the items, in time order even in the hour a DST change
//! repeats, where the local text of a later end sorts before an earlier one.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;

use catalog::{d, pid, rid, world};
use chrono::{DateTime, Utc};
use holds::{adults, hold_request};
use reservo::catalog::{Resource, ResourceKind};
use reservo::engine::{Item, QuoteRequest};
use reservo::ids::RatePlanId;
use reservo::ports::Storage;
use reservo::schedule::Schedule;

/// Lisbon on 25 October 2026: at 02:00 WEST the clocks go back to 01:00
/// WET, so local 01:00-02:00 happens twice. A 90-minute class from 00:30
/// ends at 01:00 WET (01:00 UTC, the second 01:00); a 30-minute one from
/// 01:15 WEST ends at 01:45 WEST (00:45 UTC), earlier, with the larger
/// local text.
fn fold_classes() -> Schedule {
    serde_json::from_str(
        r#"{"rules": [
              {"weekdays": ["sun"], "start_times": ["00:30:00"], "duration_minutes": 90,
               "dates": {"from": "2026-10-25", "until": "2026-10-25"}},
              {"weekdays": ["sun"], "start_times": ["01:15:00"], "duration_minutes": 30,
               "dates": {"from": "2026-10-25", "until": "2026-10-25"}}]}"#,
    )
    .unwrap()
}

#[tokio::test]
async fn a_period_across_the_repeated_hour_ends_at_the_latest_instant() {
    let w = world().await;
    let schedule = fold_classes();
    w.engine
        .put_resource(Resource {
            id: rid("night-class"),
            property: pid("surf-school"),
            name: "Night class".into(),
            rate_plan: RatePlanId::new("lesson").unwrap(),
            kind: ResourceKind::Timed {
                seats: 8,
                schedule: schedule.clone(),
            },
        })
        .await
        .unwrap();
    let tz = chrono_tz::Europe::Lisbon;
    let classes = schedule.occurrences(tz, d(10, 25), d(10, 26)).unwrap();
    assert_eq!(classes.len(), 2);
    let ends: Vec<DateTime<Utc>> = classes.iter().map(|o| o.slot().end()).collect();
    let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    // The long class ends later, at the smaller local time.
    assert!(ends[0] > ends[1], "{ends:?}");
    assert!(local(ends[0]) < local(ends[1]));

    let items = classes
        .iter()
        .map(|o| {
            QuoteRequest::new(Item::session(
                rid("night-class"),
                o.slot().start(),
                adults(1),
            ))
        })
        .collect();
    w.engine
        .hold(&hold_request("h1", items, 900))
        .await
        .unwrap();
    let events = w.store.read_events(0, usize::MAX).await.unwrap();
    let created = events.iter().find(|e| e.kind == "hold.created").unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&created.payload).unwrap();
    assert_eq!(payload["period"]["start"], local(classes[0].slot().start()));
    assert_eq!(payload["period"]["end"], "2026-10-25 01:00");
    assert_eq!(payload["period"]["end"], local(ends[0]));
}
