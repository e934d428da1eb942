//! The engine's first slice: catalog set-up, availability, search and
//! quotes, persisted through the storage port.

#[path = "support/catalog.rs"]
mod catalog;

use catalog::{World, d, nightly, nightly_plan, pid, rid, stay, world};
use chrono::{Duration, TimeZone, Utc};
use reservo::catalog::{Block, BlockReason, BlockSpan, Property};
use reservo::engine::{Engine, HoldRequest, Item, QuoteRequest, SearchFor, SearchRequest};
use reservo::ids::BlockId;
use reservo::party::Party;
use reservo::pricing::{Percentage, Promo, PromoCode, PromoDiscount, RatePlan, UsageLimit};
use reservo::restriction::Restrictions;

fn adults(n: u32) -> Party {
    Party::adults(n).unwrap()
}

fn block(id: &str, resource: &str, span: BlockSpan, units: Option<u32>) -> Block {
    Block {
        id: BlockId::new(id).unwrap(),
        resource: rid(resource),
        span,
        units,
        reason: BlockReason::Maintenance,
    }
}

fn nights(from: (u32, u32), to: (u32, u32)) -> BlockSpan {
    BlockSpan::Nights {
        from: d(from.0, from.1),
        to: d(to.0, to.1),
    }
}

fn lesson_at(month: u32, day: u32, hour_utc: u32) -> chrono::DateTime<Utc> {
    // Lisbon is UTC+1 in summer: the 09:00 lesson starts at 08:00 UTC.
    Utc.with_ymd_and_hms(2026, month, day, hour_utc, 0, 0)
        .unwrap()
}

#[tokio::test]
async fn quote_prices_each_night_by_its_rule_and_adds_fees() {
    let w = world().await;
    // Friday 5 June to Monday 8 June: Fri and Sat at the weekend rate.
    let item = Item::stay(rid("villa"), stay((6, 5), (6, 8)), adults(2));
    let quoted = w.engine.quote(&QuoteRequest::new(item)).await.unwrap();
    let lines: Vec<String> = quoted
        .quote
        .lines()
        .iter()
        .map(|l| {
            format!(
                "{} {}x{}",
                l.description,
                l.quantity,
                l.unit_amount.amount()
            )
        })
        .collect();
    assert_eq!(
        lines,
        ["Weekend 2x120.00", "Base rate 1x100.00", "Cleaning 1x60.00"]
    );
    assert_eq!(quoted.quote.total().to_string(), "400.00 EUR");
    assert_eq!(quoted.available, 1);
}

#[tokio::test]
async fn quote_applies_a_promo_code_typed_in_any_case() {
    let w = world().await;
    let promo = Promo {
        code: PromoCode::new("SUMMER10").unwrap(),
        discount: PromoDiscount::Percent(Percentage::parse("10").unwrap()),
        booking_window: None,
        stay_window: None,
        usage_limit: UsageLimit::Unlimited,
        min_nights: None,
    };
    w.engine.put_promo(promo).await.unwrap();
    let item = Item::stay(rid("villa"), stay((6, 5), (6, 8)), adults(2));
    let quoted = w
        .engine
        .quote(&QuoteRequest::new(item.clone()).with_promo("summer10"))
        .await
        .unwrap();
    // 10% off the 340.00 of accommodation; the cleaning fee is not discounted.
    assert_eq!(quoted.quote.total().to_string(), "366.00 EUR");
    let err = w
        .engine
        .quote(&QuoteRequest::new(item).with_promo("NOPE"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PROMO_NOT_APPLICABLE");
    assert!(err.to_string().contains("NOPE"));
}

#[tokio::test]
async fn search_lists_what_fits_the_party_with_its_price() {
    let w = world().await;
    let request = |n| SearchRequest {
        what: SearchFor::Stay(stay((6, 5), (6, 8))),
        party: adults(n),
        property: None,
    };
    let hits = w.engine.search(&request(2)).await.unwrap();
    let shown: Vec<(String, u32, String)> = hits
        .iter()
        .map(|h| (h.resource.to_string(), h.available, h.total.to_string()))
        .collect();
    assert_eq!(
        shown,
        [
            ("double".into(), 5, "400.00 EUR".into()),
            ("villa".into(), 1, "400.00 EUR".into())
        ]
    );
    let hits = w.engine.search(&request(3)).await.unwrap();
    assert_eq!(
        hits.iter().map(|h| h.resource.as_str()).collect::<Vec<_>>(),
        ["villa"]
    );
}

#[tokio::test]
async fn blocks_take_capacity_and_leave_search_results() {
    let w = world().await;
    w.engine
        .add_block(block("paint", "villa", nights((6, 6), (6, 7)), None))
        .await
        .unwrap();
    w.engine
        .add_block(block("repair", "double", nights((6, 5), (6, 9)), Some(3)))
        .await
        .unwrap();
    let villa = w
        .engine
        .night_availability(&rid("villa"), d(6, 5), d(6, 8))
        .await
        .unwrap();
    assert_eq!(
        villa.iter().map(|n| n.available).collect::<Vec<_>>(),
        [1, 0, 1]
    );
    assert_eq!(villa[1].blocked, 1);
    let hits = w
        .engine
        .search(&SearchRequest {
            what: SearchFor::Stay(stay((6, 5), (6, 8))),
            party: adults(2),
            property: None,
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].resource.as_str(), hits[0].available),
        ("double", 2)
    );
    w.engine
        .remove_block(&rid("villa"), &BlockId::new("paint").unwrap())
        .await
        .unwrap();
    let villa = w
        .engine
        .night_availability(&rid("villa"), d(6, 5), d(6, 8))
        .await
        .unwrap();
    assert!(villa.iter().all(|n| n.available == 1));
}

#[tokio::test]
async fn a_block_cannot_take_more_than_is_left() {
    let w = world().await;
    w.engine
        .add_block(block("a", "double", nights((6, 5), (6, 9)), Some(4)))
        .await
        .unwrap();
    let err = w
        .engine
        .add_block(block("b", "double", nights((6, 8), (6, 10)), Some(2)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert!(err.to_string().contains("2026-06-08"), "{err}");
    let err = w
        .engine
        .add_block(block("a", "double", nights((7, 1), (7, 2)), Some(1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ALREADY_EXISTS");
    let err = w
        .engine
        .add_block(block("c", "double", nights((7, 1), (7, 2)), Some(6)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[tokio::test]
async fn restrictions_refuse_quotes_naming_rule_and_date_and_filter_search() {
    let w = world().await;
    let rules: Restrictions = serde_json::from_str(
        r#"[{"dates": {"from": "2026-06-01", "until": "2026-06-30"},
             "restriction": {"rule": "min_stay_on_arrival", "nights": 3}},
            {"dates": {"from": "2026-06-20", "until": "2026-06-20"},
             "restriction": {"rule": "closed_to_arrival"}}]"#,
    )
    .unwrap();
    w.engine
        .set_restrictions(&rid("villa"), rules)
        .await
        .unwrap();
    let err = w
        .engine
        .quote(&QuoteRequest::new(Item::stay(
            rid("villa"),
            stay((6, 5), (6, 7)),
            adults(2),
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "MIN_STAY_ON_ARRIVAL");
    assert!(err.to_string().contains("2026-06-05"), "{err}");
    let err = w
        .engine
        .quote(&QuoteRequest::new(Item::stay(
            rid("villa"),
            stay((6, 20), (6, 25)),
            adults(2),
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CLOSED_TO_ARRIVAL");
    let hits = w
        .engine
        .search(&SearchRequest {
            what: SearchFor::Stay(stay((6, 5), (6, 7))),
            party: adults(2),
            property: None,
        })
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.resource.as_str()).collect::<Vec<_>>(),
        ["double"]
    );
}

#[tokio::test]
async fn sessions_are_quoted_by_the_seat_and_searched_by_day() {
    let w = world().await;
    let lessons = w
        .engine
        .session_availability(&rid("surf-lesson"), d(6, 2), d(6, 3))
        .await
        .unwrap();
    assert_eq!(lessons.len(), 2);
    assert_eq!(lessons[0].slot.start(), lesson_at(6, 2, 8));
    assert_eq!((lessons[0].capacity, lessons[0].available), (8, 8));
    let family = Party::new(1, vec![9, 12]).unwrap();
    let item = Item::session(rid("surf-lesson"), lesson_at(6, 2, 8), family.clone());
    let quoted = w.engine.quote(&QuoteRequest::new(item)).await.unwrap();
    // One adult included at 45.00, two children at 30.00.
    assert_eq!(quoted.quote.total().to_string(), "105.00 EUR");
    let hits = w
        .engine
        .search(&SearchRequest {
            what: SearchFor::Sessions {
                from: d(6, 2),
                to: d(6, 4),
            },
            party: family,
            property: Some(pid("surf-school")),
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 4);
    assert!(
        hits.windows(2)
            .all(|w| w[0].slot.unwrap().start() < w[1].slot.unwrap().start())
    );
}

#[tokio::test]
async fn session_requests_that_cannot_exist_are_typed_errors() {
    let w = world().await;
    let quote = |start, party| {
        let engine = &w.engine;
        async move {
            engine
                .quote(&QuoteRequest::new(Item::session(
                    rid("surf-lesson"),
                    start,
                    party,
                )))
                .await
        }
    };
    let not_scheduled = quote(lesson_at(6, 2, 10), adults(1)).await.unwrap_err();
    assert_eq!(not_scheduled.code(), "NO_SUCH_SLOT");
    let past = quote(lesson_at(6, 1, 8), adults(1)).await.unwrap_err();
    assert_eq!(past.code(), "IN_THE_PAST");
    let crowd = quote(lesson_at(6, 2, 8), adults(9)).await.unwrap_err();
    assert_eq!(crowd.code(), "PARTY_TOO_LARGE");
    // A party of exactly the session's 8 seats fits.
    let full = quote(lesson_at(6, 2, 8), adults(8)).await.unwrap();
    assert_eq!(full.available, 8);
    let wrong_shape = w
        .engine
        .quote(&QuoteRequest::new(Item::stay(
            rid("surf-lesson"),
            stay((6, 5), (6, 6)),
            adults(1),
        )))
        .await
        .unwrap_err();
    assert_eq!(wrong_shape.code(), "INVALID_INPUT");
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let w = world().await;
    let before = w.store.dump();
    let e = &w.engine;
    let codes = vec![
        e.put_resource(nightly("ghost", "no-such-property", 1, 2, "flex"))
            .await
            .unwrap_err()
            .code(),
        e.put_resource(nightly("ghost", "casa-azul", 1, 2, "no-such-plan"))
            .await
            .unwrap_err()
            .code(),
        e.put_resource(nightly("ghost", "casa-azul", 0, 2, "flex"))
            .await
            .unwrap_err()
            .code(),
        e.quote(&QuoteRequest::new(Item::stay(
            rid("nope"),
            stay((6, 5), (6, 6)),
            adults(1),
        )))
        .await
        .unwrap_err()
        .code(),
        e.quote(&QuoteRequest::new(Item::stay(
            rid("villa"),
            stay((5, 20), (6, 6)),
            adults(1),
        )))
        .await
        .unwrap_err()
        .code(),
        e.quote(&QuoteRequest::new(Item::stay(
            rid("villa"),
            stay((6, 5), (6, 6)),
            adults(5),
        )))
        .await
        .unwrap_err()
        .code(),
        e.add_block(block("b", "nope", nights((6, 5), (6, 6)), None))
            .await
            .unwrap_err()
            .code(),
        e.remove_block(&rid("villa"), &BlockId::new("nope").unwrap())
            .await
            .unwrap_err()
            .code(),
        e.night_availability(&rid("villa"), d(6, 5), d(6, 5))
            .await
            .unwrap_err()
            .code(),
        e.night_availability(&rid("surf-lesson"), d(6, 5), d(6, 6))
            .await
            .unwrap_err()
            .code(),
    ];
    assert_eq!(
        codes,
        [
            "NOT_FOUND",
            "NOT_FOUND",
            "INVALID_INPUT",
            "NOT_FOUND",
            "IN_THE_PAST",
            "PARTY_TOO_LARGE",
            "NOT_FOUND",
            "NOT_FOUND",
            "INVALID_INPUT",
            "INVALID_INPUT"
        ]
    );
    // A plan in dollars cannot price a property in euros.
    let dollars = RatePlan::from_json(
        r#"{"id": "usd", "name": "USD", "unit": "night", "base_price": {"amount": "90", "currency": "USD"}}"#,
    )
    .unwrap();
    let mut in_dollars = nightly("villa", "casa-azul", 1, 4, "usd");
    e.put_rate_plan(dollars).await.unwrap();
    let after_plan = w.store.dump();
    assert_eq!(
        e.put_resource(in_dollars.clone()).await.unwrap_err().code(),
        "CURRENCY_MISMATCH"
    );
    in_dollars.rate_plan = "flex".parse().unwrap();
    let mut lisbon = Property::new(
        "casa-azul",
        "Casa Azul",
        "owner-ana",
        "Europe/Lisbon",
        "USD",
    )
    .unwrap();
    assert_eq!(
        e.put_property(lisbon.clone()).await.unwrap_err().code(),
        "CURRENCY_MISMATCH"
    );
    lisbon.name = "   ".into();
    assert_eq!(
        e.put_property(lisbon).await.unwrap_err().code(),
        "INVALID_INPUT"
    );
    assert_eq!(w.store.dump(), after_plan);
    assert_ne!(before, after_plan);
}

#[test]
fn malformed_values_are_refused_before_they_reach_the_engine() {
    use reservo::money::Money;
    use reservo::time::Stay;
    assert_eq!(
        Money::parse("10", "EURO").unwrap_err().code(),
        "UNKNOWN_CURRENCY"
    );
    assert_eq!(
        Stay::new(d(6, 5), d(6, 5)).unwrap_err().code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        Stay::new(d(6, 5), d(6, 4)).unwrap_err().code(),
        "INVALID_INPUT"
    );
    assert_eq!(Party::new(0, vec![]).unwrap_err().code(), "INVALID_INPUT");
    let negative = RatePlan::from_json(
        r#"{"id": "neg", "name": "Neg", "unit": "night", "base_price": {"amount": "-1.00", "currency": "EUR"}}"#,
    )
    .unwrap_err();
    assert_eq!(negative.code(), "INVALID_INPUT");
    assert!(negative.to_string().contains("-1.00"), "{negative}");
}

#[tokio::test]
async fn a_second_engine_on_the_same_store_sees_catalog_changes() {
    let w: World = world().await;
    let other = Engine::builder(w.store.clone())
        .clock(w.clock.clone())
        .build();
    let item = Item::stay(rid("villa"), stay((6, 8), (6, 9)), adults(2));
    let before = other.quote(&QuoteRequest::new(item.clone())).await.unwrap();
    assert_eq!(before.quote.total().to_string(), "160.00 EUR");
    w.engine
        .put_rate_plan(nightly_plan("flex", "150.00"))
        .await
        .unwrap();
    let after = other.quote(&QuoteRequest::new(item)).await.unwrap();
    assert_eq!(after.quote.total().to_string(), "210.00 EUR");
}

#[tokio::test]
async fn catalog_changes_append_events_in_the_same_commit() {
    let w = world().await;
    let events = w.engine.storage().read_events(0, 100).await.unwrap();
    assert_eq!(events.len(), 7, "2 properties, 2 plans, 3 resources");
    assert!(events.iter().all(|e| e.kind == "catalog.changed"));
    let last: serde_json::Value = serde_json::from_slice(&events[6].payload).unwrap();
    assert_eq!(last["record"], "resource");
    assert_eq!(last["id"], "surf-lesson");
}

#[tokio::test]
async fn time_moves_stays_into_the_past() {
    let w = world().await;
    let item = Item::stay(rid("villa"), stay((6, 2), (6, 3)), adults(2));
    assert!(
        w.engine
            .quote(&QuoteRequest::new(item.clone()))
            .await
            .is_ok()
    );
    // 2 June, 11:00 in Lisbon: arriving today is still allowed.
    w.clock.advance(Duration::days(1));
    assert!(
        w.engine
            .quote(&QuoteRequest::new(item.clone()))
            .await
            .is_ok()
    );
    w.clock.advance(Duration::days(1));
    let err = w.engine.quote(&QuoteRequest::new(item)).await.unwrap_err();
    assert_eq!(err.code(), "IN_THE_PAST");
}

#[tokio::test]
async fn a_period_block_takes_seats_from_every_session_whose_occupied_time_it_overlaps() {
    // Lessons run 08:00-10:00 and 13:00-15:00 UTC with 15-minute buffers.
    let w = world().await;
    let period = |from: (u32, u32), to: (u32, u32)| BlockSpan::Period {
        start: Utc.with_ymd_and_hms(2026, 6, 2, from.0, from.1, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2026, 6, 2, to.0, to.1, 0).unwrap(),
    };
    // Three seats kept for a group during the morning lesson; the whole
    // school closed from the end of the morning's buffer into the
    // afternoon's setup buffer (12:45).
    let group = block("group", "surf-lesson", period((8, 30), (9, 0)), Some(3));
    let closed = block("storm", "surf-lesson", period((10, 15), (12, 50)), None);
    for b in [group, closed] {
        w.engine.add_block(b).await.unwrap();
    }
    let day = w
        .engine
        .session_availability(&rid("surf-lesson"), d(6, 2), d(6, 3))
        .await
        .unwrap();
    let seats: Vec<(u32, u32)> = day.iter().map(|s| (s.blocked, s.available)).collect();
    assert_eq!(seats, [(3, 5), (8, 0)]);

    let search = |party| SearchRequest {
        what: SearchFor::Sessions {
            from: d(6, 2),
            to: d(6, 3),
        },
        party,
        property: Some(pid("surf-school")),
    };
    let hits = w.engine.search(&search(adults(5))).await.unwrap();
    let starts: Vec<_> = hits.iter().map(|h| h.slot.unwrap().start()).collect();
    assert_eq!(starts, [lesson_at(6, 2, 8)]);
    assert!(
        w.engine
            .search(&search(adults(6)))
            .await
            .unwrap()
            .is_empty()
    );

    let six = QuoteRequest::new(Item::session(
        rid("surf-lesson"),
        lesson_at(6, 2, 8),
        adults(6),
    ));
    let err = w
        .engine
        .hold(&HoldRequest::new("six", vec![six], 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    // The next day's lessons were never touched.
    let next = w
        .engine
        .session_availability(&rid("surf-lesson"), d(6, 3), d(6, 4))
        .await
        .unwrap();
    assert!(next.iter().all(|s| (s.blocked, s.available) == (0, 8)));
}
