//! Holds at their edges: expiry at the exact instant and inside its last
//! millisecond, lifetime and extension limits, several items on one
//! ledger, session seats at capacity, and bad hold and confirm requests.
//! Replays and key conflicts are in `engine_hold_retries.rs`.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/lifecycle.rs"]
mod lifecycle;
#[path = "support/money.rs"]
mod money;

use catalog::{d, rid, start_of_tests, stay, world, world_with};
use chrono::{Duration, TimeZone, Utc};
use holds::*;
use lifecycle::{confirm, date, villa_stay};
use money::events as payloads;
use reservo::booking::{BookingStatus, Customer};
use reservo::engine::{EngineConfig, ExtendRequest, HoldState, Item, QuoteRequest, ReleaseRequest};
use reservo::ids::HoldId;
use reservo::ports::Clock;

// ------------------------------------------------- the last millisecond

/// Ledgers keep a hold's expiry in whole milliseconds; so does the hold
/// (its expiry is cut to the millisecond when made), so a hold is active
/// exactly while its ledger entries count. With a clock that has
/// sub-millisecond precision (`SystemClock`), the hold's last millisecond
/// must still block its unit: otherwise two holds confirm on one villa.
#[tokio::test]
async fn a_hold_in_its_last_millisecond_still_blocks_its_unit() {
    let w = world().await;
    w.clock
        .set(start_of_tests() + Duration::microseconds(500))
        .unwrap();
    let first = w
        .engine
        .hold(&hold_request("first", vec![villa((7, 3), (7, 5))], 60))
        .await
        .unwrap();
    let inside = first.expires_at - Duration::microseconds(300);
    w.clock.set(inside).unwrap();
    let stored = w.engine.hold_by_id(&first.id).await.unwrap();
    assert_eq!(stored.state_at(inside), HoldState::Active);
    let left = villa_left(&w.engine, (7, 3), (7, 5)).await;
    let second = w
        .engine
        .hold(&hold_request("second", vec![villa((7, 3), (7, 5))], 60))
        .await;
    // Confirm both: the first is still active, so if the second took the
    // unit the ledger thought free, the villa is booked twice.
    let first_booking = w
        .engine
        .confirm(&confirm_request("c1", &first.id, ana()))
        .await;
    let mut second_booking = None;
    if let Ok(second) = &second {
        second_booking = Some(
            w.engine
                .confirm(&confirm_request("c2", &second.id, rui()))
                .await,
        );
    }
    let nights = w
        .engine
        .night_availability(&rid("villa"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    let oversold: Vec<_> = nights.iter().filter(|n| n.booked > n.capacity).collect();
    assert!(
        oversold.is_empty(),
        "the villa (1 unit) is booked twice: {oversold:?}; availability inside the \
         active first hold's last millisecond was {left:?}; first confirm {:?}, second \
         hold {:?}, second confirm {:?}",
        first_booking.map(|b| b.id),
        second.as_ref().map(|h| &h.id),
        second_booking.map(|r| r.map(|b| b.id)),
    );
    assert_eq!(left, [0, 0], "an active hold must take its unit");
}

/// An extension asked for inside the hold's last millisecond keeps the
/// hold's ledger entries (moving them), so the extended hold keeps its
/// units for the whole extension.
#[tokio::test]
async fn extending_a_hold_in_its_last_millisecond_keeps_its_units() {
    let w = world().await;
    w.clock
        .set(start_of_tests() + Duration::microseconds(500))
        .unwrap();
    let first = w
        .engine
        .hold(&hold_request("first", vec![villa((7, 3), (7, 5))], 60))
        .await
        .unwrap();
    w.clock
        .set(first.expires_at - Duration::microseconds(300))
        .unwrap();
    let extended = w
        .engine
        .extend(&ExtendRequest::new(
            format!("extend-103-{}", first.id),
            first.id.clone(),
            600,
        ))
        .await
        .unwrap();
    // Five minutes into the ten-minute extension.
    w.clock.advance(Duration::minutes(5));
    let now = w.clock.now();
    assert_eq!(extended.state_at(now), HoldState::Active);
    assert_eq!(
        villa_left(&w.engine, (7, 3), (7, 5)).await,
        [0, 0],
        "an extended, active hold must still take the villa"
    );
}

/// `EngineConfig::max_hold_lifetime` is how long a hold may live in all,
/// so it also caps the TTL a new hold may ask for, whatever
/// `max_hold_ttl` says.
#[tokio::test]
async fn a_ttl_above_the_max_lifetime_is_refused_even_under_the_ttl_cap() {
    let w = world_with(|b| {
        b.config(EngineConfig {
            max_hold_ttl: Duration::hours(3),
            max_hold_lifetime: Duration::hours(2),
            ..EngineConfig::default()
        })
    })
    .await;
    let before = w.store.dump();
    let err = w
        .engine
        .hold(&hold_request("h", vec![villa((7, 3), (7, 5))], 3 * 3600))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");
    assert_eq!(w.store.dump(), before);
    let hold = w
        .engine
        .hold(&hold_request("h", vec![villa((7, 3), (7, 5))], 2 * 3600))
        .await
        .unwrap();
    assert_eq!(hold.expires_at, hold.max_until);
}

// ------------------------------------------------------- expiry instants

#[tokio::test]
async fn at_the_exact_expiry_instant_availability_confirm_and_sweep_agree() {
    let w = world().await;
    let villa_hold = hold(&w, "hv", vec![villa((7, 3), (7, 5))]).await;
    let double_hold = hold(&w, "hd", vec![double((7, 3), (7, 5))]).await;
    let expires_at = w.engine.hold_by_id(&villa_hold).await.unwrap().expires_at;
    // One millisecond before: both still take their units; the villa's
    // hold confirms.
    w.clock.set(expires_at - Duration::milliseconds(1)).unwrap();
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    let doubles = w
        .engine
        .night_availability(&rid("double"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    assert!(doubles.iter().all(|n| n.held == 1 && n.available == 4));
    assert!(w.engine.expire_due(10).await.unwrap().is_empty());
    confirm(&w, "c-villa", &villa_hold).await;
    // At the instant: the double's hold takes nothing, cannot be confirmed,
    // released or extended, and the sweep expires it (and only it).
    w.clock.set(expires_at).unwrap();
    let doubles = w
        .engine
        .night_availability(&rid("double"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    assert!(
        doubles.iter().all(|n| n.held == 0 && n.available == 5),
        "{doubles:?}"
    );
    let before = w.store.dump();
    let err = w
        .engine
        .confirm(&confirm_request("c-double", &double_hold, ana()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_EXPIRED");
    assert_eq!(
        w.engine
            .release(&ReleaseRequest::new(
                format!("release-184-{}", double_hold),
                double_hold.clone()
            ))
            .await
            .unwrap_err()
            .code(),
        "HOLD_EXPIRED"
    );
    assert_eq!(
        w.engine
            .extend(&ExtendRequest::new(
                format!("extend-189-{}", double_hold),
                double_hold.clone(),
                60
            ))
            .await
            .unwrap_err()
            .code(),
        "HOLD_EXPIRED"
    );
    assert_eq!(w.store.dump(), before, "refusals change nothing");
    assert_eq!(
        w.engine.expire_due(10).await.unwrap(),
        std::slice::from_ref(&double_hold)
    );
    assert!(w.engine.expire_due(10).await.unwrap().is_empty());
    assert_eq!(payloads(&w, "hold.expired").await.len(), 1);
    assert_eq!(
        w.engine.hold_by_id(&double_hold).await.unwrap().state,
        HoldState::Expired { at: expires_at }
    );
    // The villa stays booked; its hold stays confirmed.
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    assert!(matches!(
        w.engine.hold_by_id(&villa_hold).await.unwrap().state,
        HoldState::Confirmed { .. }
    ));
}

#[tokio::test]
async fn an_expired_unswept_hold_lets_a_new_hold_take_its_units_and_the_sweep_then_frees_nothing_twice()
 {
    let w = world().await;
    let old = hold(&w, "old", vec![villa((7, 3), (7, 5))]).await;
    w.clock.advance(Duration::seconds(900));
    let new = hold(&w, "new", vec![villa((7, 3), (7, 5))]).await;
    // The sweep expires the old hold without giving back the new one's unit.
    assert_eq!(w.engine.expire_due(10).await.unwrap(), [old]);
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    let nights = w
        .engine
        .night_availability(&rid("villa"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    assert!(nights.iter().all(|n| n.held == 1 && n.booked == 0));
    confirm(&w, "c", &new).await;
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
}

#[tokio::test]
async fn extend_with_the_largest_ttl_is_the_extension_limit_not_an_overflow() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let before = w.store.dump();
    let err = w
        .engine
        .extend(&ExtendRequest::new(
            format!("extend-236-{}", id),
            id.clone(),
            u32::MAX,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_EXTENSION_LIMIT");
    assert_eq!(w.store.dump(), before);
}

// ----------------------------------------------- several items, one ledger

#[tokio::test]
async fn two_items_on_the_same_nights_need_two_units_of_each_ledger() {
    let w = world().await;
    let before = w.store.dump();
    for (items, first_full) in [
        (
            vec![villa((7, 3), (7, 5)), villa((7, 3), (7, 5))],
            "2026-07-03",
        ),
        (
            vec![villa((7, 3), (7, 5)), villa((7, 4), (7, 6))],
            "2026-07-04",
        ),
    ] {
        let err = w
            .engine
            .hold(&hold_request("twice", items, 900))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "UNAVAILABLE");
        assert!(err.to_string().contains(first_full), "{err}");
    }
    assert_eq!(w.store.dump(), before);
    // Five doubles fit the five units; a sixth does not.
    let six = vec![double((7, 3), (7, 5)); 6];
    let err = w
        .engine
        .hold(&hold_request("six", six, 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert_eq!(w.store.dump(), before);
    let five = w
        .engine
        .hold(&hold_request("five", vec![double((7, 3), (7, 5)); 5], 900))
        .await
        .unwrap();
    let nights = w
        .engine
        .night_availability(&rid("double"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    assert!(nights.iter().all(|n| n.held == 5 && n.available == 0));
    // Confirming two of them books two and gives the other three back.
    let mut request = confirm_request("c", &five.id, ana());
    request.items = Some(vec![4, 0]);
    let booking = w.engine.confirm(&request).await.unwrap();
    assert_eq!(booking.items.len(), 2);
    let nights = w
        .engine
        .night_availability(&rid("double"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    let counts: Vec<(u32, u32, u32)> = nights
        .iter()
        .map(|n| (n.booked, n.held, n.available))
        .collect();
    assert_eq!(counts, [(2, 0, 3), (2, 0, 3)]);
}

#[tokio::test]
async fn seats_of_one_session_add_up_across_items_and_stop_at_capacity() {
    let w = world().await;
    let before = w.store.dump();
    let err = w
        .engine
        .hold(&hold_request(
            "nine",
            vec![lesson(7, 4, 5), lesson(7, 4, 4)],
            900,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert_eq!(w.store.dump(), before);
    let eight = w
        .engine
        .hold(&hold_request(
            "eight",
            vec![lesson(7, 4, 4), lesson(7, 4, 4)],
            900,
        ))
        .await
        .unwrap();
    let err = w
        .engine
        .hold(&hold_request("one-more", vec![lesson(7, 4, 1)], 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    let mut request = confirm_request("c", &eight.id, ana());
    request.items = Some(vec![1]);
    w.engine.confirm(&request).await.unwrap();
    let sessions = w
        .engine
        .session_availability(&rid("surf-lesson"), d(7, 4), d(7, 5))
        .await
        .unwrap();
    let morning = &sessions[0];
    assert_eq!((morning.booked, morning.held, morning.available), (4, 0, 4));
    // The other session of the day was never touched.
    assert_eq!(sessions[1].available, 8);
}

// ------------------------------------------------------------- bad input

#[tokio::test]
async fn bad_hold_requests_are_typed_errors_that_change_nothing() {
    let w = world().await;
    let before = w.store.dump();
    let now = w.clock.now();
    let at_now = QuoteRequest::new(Item::session(rid("surf-lesson"), now, adults(1)));
    let off_schedule = QuoteRequest::new(Item::session(
        rid("surf-lesson"),
        Utc.with_ymd_and_hms(2026, 7, 4, 8, 30, 0).unwrap(),
        adults(1),
    ));
    let yesterday = villa_stay(date(2026, 5, 31), date(2026, 6, 2));
    let crowd = QuoteRequest::new(Item::stay(rid("villa"), stay((7, 3), (7, 5)), adults(5)));
    let stay_on_timed = QuoteRequest::new(Item::stay(
        rid("surf-lesson"),
        stay((7, 3), (7, 5)),
        adults(1),
    ));
    let cases: Vec<(&str, Vec<QuoteRequest>, u32, &str)> = vec![
        ("no-items", vec![], 900, "INVALID_INPUT"),
        (
            "too-many",
            vec![double((7, 3), (7, 4)); 51],
            900,
            "INVALID_INPUT",
        ),
        (
            "huge-ttl",
            vec![villa((7, 3), (7, 5))],
            u32::MAX,
            "INVALID_INPUT",
        ),
        ("bad key", vec![villa((7, 3), (7, 5))], 900, "INVALID_INPUT"),
        ("", vec![villa((7, 3), (7, 5))], 900, "INVALID_INPUT"),
        ("past", vec![yesterday], 900, "IN_THE_PAST"),
        ("now", vec![at_now], 900, "IN_THE_PAST"),
        ("off", vec![off_schedule], 900, "NO_SUCH_SLOT"),
        ("crowd", vec![crowd], 900, "PARTY_TOO_LARGE"),
        ("shape", vec![stay_on_timed], 900, "INVALID_INPUT"),
        (
            "mixed",
            vec![
                villa((7, 3), (7, 5)),
                villa_stay(date(2026, 5, 1), date(2026, 5, 3)),
            ],
            900,
            "IN_THE_PAST",
        ),
    ];
    for (key, items, ttl, code) in cases {
        let err = w
            .engine
            .hold(&hold_request(key, items, ttl))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{key}: {err}");
    }
    let long_key = "k".repeat(201);
    let err = w
        .engine
        .hold(&hold_request(&long_key, vec![villa((7, 3), (7, 5))], 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(w.store.dump(), before);
    // Exactly the maximum number of items holds.
    let fifty = vec![double((7, 3), (7, 4)); 5]
        .into_iter()
        .chain((0..45).map(|n| double((8, 1 + n % 28), (8, 2 + n % 28))))
        .collect::<Vec<_>>();
    assert_eq!(fifty.len(), reservo::engine::MAX_HOLD_ITEMS);
    w.engine
        .hold(&hold_request("fifty", fifty, 900))
        .await
        .unwrap();
    // A stay starting today, under a key of exactly 200 characters (the
    // longest a key may be; one more was refused above), holds.
    let today = villa_stay(date(2026, 6, 1), date(2026, 6, 3));
    let longest_key = "k".repeat(200);
    w.engine
        .hold(&hold_request(&longest_key, vec![today], 900))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_confirm_with_a_bad_customer_changes_nothing_and_the_hold_stays_active() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let before = w.store.dump();
    let bad = [
        Customer {
            name: "Ana".into(),
            phone: "+351 912 345 678".into(),
            email: None,
        },
        Customer {
            name: "Ana".into(),
            phone: "00351912345678".into(),
            email: None,
        },
        Customer {
            name: "   ".into(),
            phone: "+351912345678".into(),
            email: None,
        },
        Customer {
            name: "Ana".into(),
            phone: "+351912345678".into(),
            email: Some("ana at example.org".into()),
        },
    ];
    for customer in bad {
        let err = w
            .engine
            .confirm(&confirm_request("c", &id, customer.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{customer:?}");
    }
    assert_eq!(w.store.dump(), before);
    // The same key then confirms for a valid customer: nothing was stored
    // under it.
    let booking = confirm(&w, "c", &id).await;
    assert_eq!(booking.status, BookingStatus::Confirmed);
}

#[tokio::test]
async fn a_confirm_of_an_unknown_hold_is_not_found_and_changes_nothing() {
    let w = world().await;
    let before = w.store.dump();
    let err = w
        .engine
        .confirm(&confirm_request(
            "c",
            &HoldId::new("no-such-hold").unwrap(),
            ana(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    let err = w
        .engine
        .release(&ReleaseRequest::new(
            "release-488",
            HoldId::new("no-such-hold").unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    assert_eq!(w.store.dump(), before);
}

/// Settings no engine can work with are refused when it is built: a hold
/// lifetime so long that `now + lifetime` overflows would panic at the
/// first hold, and no attempts would fail every write as contention.
#[test]
fn an_engine_config_it_cannot_work_with_is_refused_at_build() {
    let lifetimes = [
        Duration::days(365 * 1_000_000),
        Duration::zero(),
        -Duration::hours(1),
    ];
    let mut configs: Vec<EngineConfig> = lifetimes
        .into_iter()
        .flat_map(|d| {
            [
                EngineConfig {
                    max_hold_lifetime: d,
                    ..EngineConfig::default()
                },
                EngineConfig {
                    max_hold_ttl: d,
                    ..EngineConfig::default()
                },
            ]
        })
        .collect();
    configs.push(EngineConfig {
        max_attempts: 0,
        ..EngineConfig::default()
    });
    for config in configs {
        let store = std::sync::Arc::new(reservo::store::MemoryStore::new());
        let built = reservo::engine::Engine::builder(store)
            .config(config)
            .try_build();
        let err = built.err().expect("an unusable config must be refused");
        assert_eq!(err.code(), "INVALID_INPUT", "{config:?}");
    }
}

#[test]
fn hold_durations_may_reach_the_longest_a_request_can_ask_for_and_no_further() {
    let longest = EngineConfig::LONGEST_HOLD;
    assert_eq!(longest.num_seconds(), i64::from(u32::MAX));
    for past in [false, true] {
        let d = if past {
            longest + Duration::seconds(1)
        } else {
            longest
        };
        for config in [
            EngineConfig {
                max_hold_ttl: d,
                ..EngineConfig::default()
            },
            EngineConfig {
                max_hold_lifetime: d,
                ..EngineConfig::default()
            },
        ] {
            assert_eq!(config.validate().is_err(), past, "{config:?}");
        }
    }
}
