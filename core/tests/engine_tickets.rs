//! Tickets in the engine: issued when a booking is confirmed, verifiable
//! offline, revoked and re-issued, checked in at gates against stored scan
//! logs, and merged from offline gates.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/racing_store.rs"]
mod racing_store;
#[path = "support/spy_store.rs"]
mod spy_store;

use std::sync::Arc;

use catalog::{World, pid, rid, stay, world};
use chrono::{DateTime, Duration, TimeZone, Utc};
use racing_store::{Racing, RacingStore};
use reservo::booking::{BookingStatus, Customer};
use reservo::checkin::{Direction, Passage, Refusal, Scan, ScanId, ScanLog};
use reservo::engine::{
    Booking, CheckInRequest, ConfirmRequest, Engine, HoldRequest, IssuedTicket, Item, QuoteRequest,
    ReissueRequest, TicketSettings, VenueCheckIn,
};
use reservo::party::Party;
use reservo::ports::Storage;
use reservo::token::{
    GateId, IssuerKey, IssuerKeySet, KeyId, PublicKeySet, RevocationList, TOKEN_PREFIX, Verifier,
    ZoneId,
};
use spy_store::Spy;

fn kid(id: &str) -> KeyId {
    id.parse().unwrap()
}

fn issuer_keys() -> IssuerKeySet {
    IssuerKeySet::new(IssuerKey::from_seed(kid("k1"), [1; 32]))
}

/// An engine with a ticket issuer over the fixture's store and clock.
fn ticketing(w: &World, storage: Arc<dyn Storage>, keys: IssuerKeySet) -> Engine {
    Engine::builder(storage)
        .clock(w.clock.clone())
        .tickets(keys, TicketSettings::default())
        .build()
}

async fn ticketed_world() -> (World, Engine) {
    let w = world().await;
    let engine = ticketing(&w, w.store.clone(), issuer_keys());
    (w, engine)
}

async fn book(engine: &Engine, item: Item, key: &str) -> Booking {
    let hold = engine
        .hold(&HoldRequest::new(
            format!("{key}-hold"),
            vec![QuoteRequest::new(item)],
            600,
        ))
        .await
        .unwrap();
    engine
        .confirm(&ConfirmRequest::new(
            format!("{key}-confirm"),
            hold.id,
            Customer::new("Ana Lima", "+351912345678", None).unwrap(),
        ))
        .await
        .unwrap()
}

/// Books `item` and returns the booking with its tickets.
async fn book_tickets(engine: &Engine, item: Item, key: &str) -> (Booking, Vec<IssuedTicket>) {
    let booking = book(engine, item, key).await;
    let tickets = engine.tickets(&booking.id).await.unwrap();
    (booking, tickets)
}

/// The villa, 10 to 12 June, for `guests` adults.
fn villa_stay(guests: u32) -> Item {
    Item::stay(
        rid("villa"),
        stay((6, 10), (6, 12)),
        Party::adults(guests).unwrap(),
    )
}

/// The 09:00 Lisbon (08:00 UTC) surf lesson on 3 June.
fn lesson_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 3, 8, 0, 0).unwrap()
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, day, hour, 0, 0).unwrap()
}

fn gate(id: &str) -> GateId {
    GateId::new(id).unwrap()
}

fn entry(ticket: &IssuedTicket, at_gate: &str) -> CheckInRequest {
    CheckInRequest {
        token: ticket.text.clone(),
        gate: gate(at_gate),
        zone: None,
        direction: Direction::In,
        scan_id: ScanId::generate(),
    }
}

async fn events_of(w: &World, kind: &str) -> usize {
    let events = w.store.read_events(0, usize::MAX).await.unwrap();
    events.iter().filter(|e| e.kind == kind).count()
}

#[tokio::test]
async fn a_confirmed_stay_gets_a_ticket_per_guest_that_verifies_offline() {
    let (_w, engine) = ticketed_world().await;
    let (booking, tickets) = book_tickets(&engine, villa_stay(2), "t1").await;
    assert_eq!(tickets.len(), 2);
    assert_ne!(tickets[0].token_id, tickets[1].token_id);

    // A scanner holding only the public keys, no engine.
    let scanner = Verifier::new(issuer_keys().public_keys());
    for ticket in &tickets {
        let claims = scanner.verify_at(&ticket.text, at(10, 12)).unwrap();
        assert_eq!(claims, ticket.claims);
        assert_eq!(claims.resource, rid("villa"));
        // 00:00 on 10 June to the end of 12 June, Lisbon time (UTC+1).
        assert_eq!(claims.validity.not_before(), at(9, 23));
        assert_eq!(claims.validity.expires(), at(12, 23));
    }
    let ticket_ref = &tickets[0].claims.booking;
    assert_eq!(ticket_ref.as_str().len(), 8);
    assert_eq!(
        engine.booking_by_ticket_ref(ticket_ref).await.unwrap(),
        booking.id
    );
    assert_eq!(
        scanner
            .verify_at(&tickets[0].text, at(12, 23))
            .unwrap_err()
            .code(),
        "TOKEN_EXPIRED"
    );
}

#[tokio::test]
async fn tickets_carry_the_short_reference_and_stay_within_180_base45_characters() {
    let (_w, engine) = ticketed_world().await;
    let (booking, tickets) = book_tickets(&engine, villa_stay(1), "t1").await;
    let ticket = &tickets[0];
    assert_eq!(booking.id.as_str().len(), 32);
    assert_ne!(ticket.claims.booking, booking.id);
    let base45 = ticket.text.strip_prefix(TOKEN_PREFIX).unwrap();
    // 118 bytes: envelope with a 2-byte kid, 8-character reference,
    // 5-character resource id.
    assert_eq!(base45.len(), 177);
}

#[cfg(feature = "qr")]
#[tokio::test]
async fn a_ticket_renders_as_a_version_8_qr_code() {
    let (_w, engine) = ticketed_world().await;
    let (_, tickets) = book_tickets(&engine, villa_stay(1), "t1").await;
    let qr = tickets[0].qr().unwrap();
    assert_eq!(qr.version(), 8);
    assert!(qr.to_svg(4).unwrap().starts_with("<?xml"));
}

#[tokio::test]
async fn a_family_of_four_at_a_surf_lesson_gets_four_single_entry_tickets() {
    let (_w, engine) = ticketed_world().await;
    let family = Party::new(2, vec![8, 11]).unwrap();
    let item = Item::session(rid("surf-lesson"), lesson_start(), family);
    let (_, tickets) = book_tickets(&engine, item, "t1").await;
    assert_eq!(tickets.len(), 4);
    for ticket in &tickets {
        assert_eq!(ticket.claims.entry, Default::default());
        // From 30 minutes before the 09:00 start to the 11:00 end.
        assert_eq!(
            ticket.claims.validity.not_before(),
            lesson_start() - Duration::minutes(30)
        );
        assert_eq!(
            ticket.claims.validity.expires(),
            lesson_start() + Duration::hours(2)
        );
    }
}

#[tokio::test]
async fn an_engine_without_an_issuer_confirms_without_tickets() {
    let w = world().await;
    let booking = book(&w.engine, villa_stay(2), "t1").await;
    assert!(w.engine.tickets(&booking.id).await.unwrap().is_empty());
    let err = w.engine.revocation_list().await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[tokio::test]
async fn revoked_tickets_are_refused_by_a_scanner_with_the_synced_list_and_by_the_engine() {
    let (w, engine) = ticketed_world().await;
    let (booking, tickets) = book_tickets(&engine, villa_stay(2), "t1").await;
    let mut scanner = Verifier::new(engine.ticket_public_keys().unwrap());
    scanner
        .apply_revocations(&engine.revocation_list().await.unwrap())
        .unwrap();
    assert_eq!(scanner.revocations().unwrap().sequence(), 0);

    let revoked = engine.revoke_booking_tickets(&booking.id).await.unwrap();
    assert_eq!(revoked.len(), 2);
    assert!(engine.tickets(&booking.id).await.unwrap().is_empty());
    assert_eq!(events_of(&w, "tickets.revoked").await, 1);

    let list = scanner
        .apply_revocations(&engine.revocation_list().await.unwrap())
        .unwrap();
    assert_eq!(list.sequence(), 1);
    for ticket in &tickets {
        let err = scanner.verify_at(&ticket.text, at(10, 12)).unwrap_err();
        assert_eq!(err.code(), "TOKEN_REVOKED");
    }
    w.clock.set(at(10, 12)).unwrap();
    let err = engine
        .check_in(&entry(&tickets[0], "desk"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_REVOKED");

    // Nothing left to revoke: the list keeps its sequence.
    assert!(
        engine
            .revoke_booking_tickets(&booking.id)
            .await
            .unwrap()
            .is_empty()
    );
    let signed = engine.revocation_list().await.unwrap();
    let again = RevocationList::open(&signed, &issuer_keys().public_keys()).unwrap();
    assert_eq!(again.sequence(), 1);
}

#[tokio::test]
async fn reissued_tickets_replace_the_old_ones_under_the_same_reference() {
    let (w, engine) = ticketed_world().await;
    let booking = book(&engine, villa_stay(1), "t1").await;
    let old = engine.tickets(&booking.id).await.unwrap();
    let request = ReissueRequest {
        idempotency_key: "lost-phone".into(),
        booking: booking.id.clone(),
    };
    let new = engine.reissue_booking_tickets(&request).await.unwrap();
    assert_eq!(new.len(), 1);
    assert_ne!(new[0].token_id, old[0].token_id);
    assert_eq!(new[0].claims.booking, old[0].claims.booking);
    assert_eq!(engine.tickets(&booking.id).await.unwrap(), new);
    // A replay returns the same tickets without issuing again.
    assert_eq!(engine.reissue_booking_tickets(&request).await.unwrap(), new);

    w.clock.set(at(10, 12)).unwrap();
    let err = engine.check_in(&entry(&old[0], "desk")).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_REVOKED");
    let admitted = engine.check_in(&entry(&new[0], "desk")).await.unwrap();
    assert_eq!(admitted.passage, Passage::Entry);
}

#[tokio::test]
async fn check_in_admits_once_then_says_when_and_where_the_ticket_was_used() {
    let (w, engine) = ticketed_world().await;
    let (booking, tickets) = book_tickets(&engine, villa_stay(1), "t1").await;
    let ticket = &tickets[0];
    w.clock.set(at(10, 14)).unwrap();
    let first = engine.check_in(&entry(ticket, "desk")).await.unwrap();
    assert_eq!(first.passage, Passage::Entry);
    assert_eq!(first.booking, booking.id);
    assert_eq!(first.scan.zone.as_str(), "main");

    w.clock.set(at(10, 15)).unwrap();
    match engine.check_in(&entry(ticket, "side-door")).await {
        Err(reservo::Error::TokenAlreadyUsed { used_at, gate }) => {
            assert_eq!((used_at, gate.as_str()), (at(10, 14), "desk"));
        }
        other => panic!("expected TOKEN_ALREADY_USED, got {other:?}"),
    }
    assert_eq!(events_of(&w, "ticket.scanned").await, 2);
}

#[tokio::test]
async fn a_repeated_scan_id_returns_the_first_decision() {
    let (w, engine) = ticketed_world().await;
    let (_, tickets) = book_tickets(&engine, villa_stay(1), "t1").await;
    let ticket = &tickets[0];
    w.clock.set(at(10, 14)).unwrap();
    let request = entry(ticket, "desk");
    let first = engine.check_in(&request).await.unwrap();
    w.clock.set(at(10, 15)).unwrap();
    assert_eq!(engine.check_in(&request).await.unwrap(), first);
    let elsewhere = CheckInRequest {
        gate: gate("side-door"),
        ..request
    };
    let err = engine.check_in(&elsewhere).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
}

#[tokio::test]
async fn a_ticket_scoped_to_the_venue_gates_is_refused_at_another_gate() {
    let (w, engine) = ticketed_world().await;
    let mut venue = VenueCheckIn::default();
    venue.scope.gates.insert(gate("beach-gate"));
    engine
        .set_venue_check_in(&pid("surf-school"), venue)
        .await
        .unwrap();
    let item = Item::session(
        rid("surf-lesson"),
        lesson_start(),
        Party::adults(1).unwrap(),
    );
    let (_, tickets) = book_tickets(&engine, item, "t1").await;
    let ticket = &tickets[0];
    assert!(ticket.claims.scope.gates.contains(&gate("beach-gate")));

    w.clock.set(lesson_start() - Duration::minutes(10)).unwrap();
    let err = engine
        .check_in(&entry(ticket, "car-park"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_WRONG_GATE");
    let admitted = engine.check_in(&entry(ticket, "beach-gate")).await.unwrap();
    assert_eq!(admitted.passage, Passage::Entry);
}

#[tokio::test]
async fn the_engine_clock_refuses_tickets_before_and_after_their_window() {
    let (w, engine) = ticketed_world().await;
    let item = Item::session(
        rid("surf-lesson"),
        lesson_start(),
        Party::adults(1).unwrap(),
    );
    let (booking, tickets) = book_tickets(&engine, item, "t1").await;
    let ticket = &tickets[0];

    w.clock.set(lesson_start() - Duration::minutes(31)).unwrap();
    let err = engine.check_in(&entry(ticket, "beach")).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_NOT_YET_VALID");
    w.clock.set(lesson_start() + Duration::hours(2)).unwrap();
    let err = engine.check_in(&entry(ticket, "beach")).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_EXPIRED");
    assert_eq!(
        engine.booking(&booking.id).await.unwrap().status,
        BookingStatus::Confirmed
    );
}

#[tokio::test]
async fn the_first_entry_moves_the_booking_to_checked_in_exactly_once() {
    let (w, engine) = ticketed_world().await;
    let (booking, tickets) = book_tickets(&engine, villa_stay(2), "t1").await;
    w.clock.set(at(10, 14)).unwrap();
    let first = engine.check_in(&entry(&tickets[0], "desk")).await.unwrap();
    assert_eq!(first.status, BookingStatus::CheckedIn);
    w.clock.set(at(10, 16)).unwrap();
    let second = engine.check_in(&entry(&tickets[1], "desk")).await.unwrap();
    assert_eq!(second.passage, Passage::Entry);

    let stored = engine.booking(&booking.id).await.unwrap();
    assert_eq!(stored.status, BookingStatus::CheckedIn);
    let checked_in: Vec<_> = stored
        .history
        .iter()
        .filter(|c| c.status == BookingStatus::CheckedIn)
        .collect();
    assert_eq!(checked_in.len(), 1);
    assert_eq!(checked_in[0].at, at(10, 14));
    assert_eq!(events_of(&w, "booking.checked_in").await, 1);
}

#[tokio::test]
async fn two_gates_scanning_a_single_entry_ticket_at_once_admit_it_once() {
    let w = world().await;
    let racing: Arc<RacingStore> = Spy::over(w.store.clone(), Racing::on("tt/"));
    let engine = ticketing(&w, racing.clone(), issuer_keys());
    let (_, tickets) = book_tickets(&engine, villa_stay(2), "t1").await;
    w.clock.set(at(10, 14)).unwrap();
    // The booking is checked in already, so only the ticket's own scan log
    // stands between the two gates.
    engine.check_in(&entry(&tickets[1], "desk")).await.unwrap();
    let ticket = &tickets[0];
    racing.hooks.arm();

    let (at_north, at_south) = (entry(ticket, "north"), entry(ticket, "south"));
    let (north, south) = tokio::join!(engine.check_in(&at_north), engine.check_in(&at_south));
    assert_eq!(
        racing.hooks.raced_commits(),
        3,
        "two racing commits and one retry"
    );
    let outcomes = [north, south];
    let admitted = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(admitted, 1);
    let refused = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
    assert_eq!(refused.code(), "TOKEN_ALREADY_USED");
    assert_eq!(events_of(&w, "booking.checked_in").await, 1);
}

#[tokio::test]
async fn offline_gates_admitting_one_ticket_twice_are_reported_on_merge() {
    let (w, engine) = ticketed_world().await;
    let (booking, tickets) = book_tickets(&engine, villa_stay(1), "t1").await;
    let ticket = &tickets[0];
    // Each gate synced keys and rules, then lost its connection.
    let rules = engine.venue_rules(&pid("casa-azul")).await.unwrap();
    let scanner = Verifier::new(engine.ticket_public_keys().unwrap());
    let offline_entry = |at_gate: &str, when: DateTime<Utc>| {
        let claims = scanner.verify_at(&ticket.text, when).unwrap();
        let mut log = ScanLog::new();
        let scan = Scan {
            id: ScanId::generate(),
            gate: gate(at_gate),
            zone: ZoneId::new("main").unwrap(),
            direction: Direction::In,
            at: when,
        };
        assert_eq!(log.check_in(&rules, &claims, scan).unwrap(), Passage::Entry);
        log
    };
    let north = offline_entry("north", at(10, 14));
    let south = offline_entry("south", at(10, 15));

    w.clock.set(at(10, 18)).unwrap();
    let first = engine.merge_offline_scans(&north).await.unwrap();
    assert_eq!(first.merged.added, 1);
    assert!(first.double_admissions.is_empty());
    assert_eq!(first.checked_in, vec![booking.id.clone()]);

    let second = engine.merge_offline_scans(&south).await.unwrap();
    assert_eq!(second.merged.added, 1);
    assert_eq!(second.double_admissions.len(), 1);
    let double = &second.double_admissions[0];
    assert_eq!(double.record.scan.gate, gate("south"));
    assert!(matches!(&double.refusal, Refusal::AlreadyUsed { gate: g, .. } if *g == gate("north")));
    assert!(second.checked_in.is_empty());

    // Merging the same log again counts nothing twice.
    let again = engine.merge_offline_scans(&south).await.unwrap();
    assert_eq!(again.merged.added, 0);
    assert_eq!(events_of(&w, "ticket.scanned").await, 2);
    assert_eq!(events_of(&w, "booking.checked_in").await, 1);
    let err = engine.check_in(&entry(ticket, "desk")).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
}

#[tokio::test]
async fn tickets_issued_before_a_key_rotation_still_verify_and_check_in() {
    let (w, before) = ticketed_world().await;
    let early = book(&before, villa_stay(1), "t1").await;
    let early_ticket = before.tickets(&early.id).await.unwrap().remove(0);

    let mut rotated = issuer_keys();
    rotated
        .rotate_to(IssuerKey::from_seed(kid("k2"), [2; 32]))
        .unwrap();
    let after = ticketing(&w, w.store.clone(), rotated.clone());
    let late = book(
        &after,
        Item::stay(
            rid("double"),
            stay((6, 10), (6, 11)),
            Party::adults(1).unwrap(),
        ),
        "t2",
    )
    .await;
    let late_ticket = after.tickets(&late.id).await.unwrap().remove(0);

    // The new ticket is signed with the new key only.
    let mut only_k2 = PublicKeySet::new();
    only_k2.insert(rotated.current().public_key()).unwrap();
    let moment = at(10, 12);
    assert!(
        Verifier::new(only_k2)
            .verify_at(&late_ticket.text, moment)
            .is_ok()
    );
    let scanner = Verifier::new(after.ticket_public_keys().unwrap());
    assert!(scanner.verify_at(&early_ticket.text, moment).is_ok());
    assert!(scanner.verify_at(&late_ticket.text, moment).is_ok());

    w.clock.set(moment).unwrap();
    let admitted = after.check_in(&entry(&early_ticket, "desk")).await.unwrap();
    assert_eq!(admitted.booking, early.id);
}

#[tokio::test]
async fn a_venue_cannot_scope_a_resource_of_another_property() {
    let (_w, engine) = ticketed_world().await;
    let mut venue = VenueCheckIn::default();
    venue.resources.insert(rid("villa"), Default::default());
    let err = engine
        .set_venue_check_in(&pid("surf-school"), venue)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let err = engine
        .set_venue_check_in(&pid("nowhere"), VenueCheckIn::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    let rules = engine.venue_rules(&pid("surf-school")).await.unwrap();
    assert!(!rules.anti_passback);
    assert_eq!(rules.resources, [rid("surf-lesson")].into());
}
