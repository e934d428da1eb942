//! Edges of entry tickets: retried scans, replaced tickets, hostile input
//! to the token types.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/tickets.rs"]
mod tickets;

use catalog::{pid, rid, stay};
use chrono::{DateTime, Duration, Utc};
use reservo::booking::BookingStatus;
use reservo::checkin::{Direction, Passage, Refusal, Scan, ScanId, ScanLog};
use reservo::engine::{
    CompleteRequest, Engine, IssuedTicket, Item, MAIN_ZONE, ModifyRequest, QuoteRequest,
    ReissueRequest, TicketSettings, VenueCheckIn,
};
use reservo::ids::BookingId;
use reservo::party::Party;
use reservo::ports::Storage;
use reservo::token::{TokenId, Verifier, ZoneId};
use tickets::{
    book_tickets, entry, gate, issuer_keys, june, lesson, lesson_start, scan_of, ticketing_world,
    villa_stay,
};

#[tokio::test]
async fn a_scan_retried_after_the_ticket_expired_returns_the_first_decision() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (_, tickets) = book_tickets(&w.engine, lesson(1), "t1").await;
    let ends = lesson_start() + Duration::hours(2);
    w.clock.set(ends - Duration::seconds(1)).unwrap();
    let request = entry(&tickets[0], "beach");
    let first = w.engine.check_in(&request).await.unwrap();
    assert_eq!(first.passage, Passage::Entry);

    // The gate timed out and sends the same scan again, a moment later.
    w.clock.set(ends + Duration::seconds(5)).unwrap();
    let again = w.engine.check_in(&request).await.unwrap();
    assert_eq!((again.passage, again.scan), (first.passage, first.scan));
    // A new scan is still refused.
    let late = w.engine.check_in(&entry(&tickets[0], "beach")).await;
    assert_eq!(late.unwrap_err().code(), "TOKEN_EXPIRED");
}

/// Nobody is kept inside: a ticket that ran out, or was revoked, while
/// its holder was in still scans out. Entries stay refused.
#[tokio::test]
async fn an_expired_or_revoked_ticket_still_scans_out() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (booking, tickets) = book_tickets(&w.engine, lesson(2), "t1").await;
    w.clock.set(lesson_start()).unwrap();
    for ticket in &tickets {
        w.engine.check_in(&entry(ticket, "beach")).await.unwrap();
    }

    w.clock.set(lesson_start() + Duration::hours(3)).unwrap();
    let out = w
        .engine
        .check_in(&scan_of(&tickets[0], "beach", Direction::Out))
        .await
        .unwrap();
    assert_eq!(out.passage, Passage::Exit);
    let back_in = w.engine.check_in(&entry(&tickets[0], "beach")).await;
    assert_eq!(back_in.unwrap_err().code(), "TOKEN_EXPIRED");

    w.engine.revoke_booking_tickets(&booking.id).await.unwrap();
    let out = w
        .engine
        .check_in(&scan_of(&tickets[1], "beach", Direction::Out))
        .await
        .unwrap();
    assert_eq!(out.passage, Passage::Exit);
    let logged = w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(logged.status, BookingStatus::CheckedIn);

    // A forged token is still no exit.
    let mut forged = scan_of(&tickets[1], "beach", Direction::Out);
    let middle = forged.token.len() / 2;
    let other = if &forged.token[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    forged.token.replace_range(middle..=middle, other);
    let err = w.engine.check_in(&forged).await.unwrap_err();
    assert!(err.code().starts_with("TOKEN_"), "{err}");
}

#[tokio::test]
async fn a_scan_retried_after_its_tickets_were_revoked_returns_the_first_decision() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (booking, tickets) = book_tickets(&w.engine, villa_stay(1), "t1").await;
    w.clock.set(june(10, 14)).unwrap();
    let request = entry(&tickets[0], "desk");
    let first = w.engine.check_in(&request).await.unwrap();
    w.engine
        .complete_booking(&CompleteRequest {
            idempotency_key: "out".into(),
            booking: booking.id.clone(),
        })
        .await
        .unwrap();

    let again = w.engine.check_in(&request).await.unwrap();
    assert_eq!((again.passage, again.scan), (first.passage, first.scan));
    assert_eq!(again.status, BookingStatus::Completed);
    let new_scan = w.engine.check_in(&entry(&tickets[0], "desk")).await;
    assert_eq!(new_scan.unwrap_err().code(), "TOKEN_REVOKED");
}

/// A lost phone: the booking's tickets are replaced.
async fn lost_phone(engine: &Engine, booking: &BookingId) -> Vec<IssuedTicket> {
    engine
        .reissue_booking_tickets(&ReissueRequest {
            idempotency_key: "lost-phone".into(),
            booking: booking.clone(),
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn reissued_tickets_of_a_checked_in_booking_do_not_admit_again() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (booking, old) = book_tickets(&w.engine, villa_stay(2), "t1").await;
    w.clock.set(june(10, 14)).unwrap();
    w.engine.check_in(&entry(&old[0], "desk")).await.unwrap();

    let new = lost_phone(&w.engine, &booking.id).await;
    w.clock.set(june(10, 16)).unwrap();
    match w.engine.check_in(&entry(&new[0], "side-door")).await {
        Err(reservo::Error::TokenAlreadyUsed { used_at, gate }) => {
            assert_eq!((used_at, gate.as_str()), (june(10, 14), "desk"));
        }
        other => panic!("expected TOKEN_ALREADY_USED, got {other:?}"),
    }
    // The guest who had not entered yet still can, once.
    let second = w.engine.check_in(&entry(&new[1], "desk")).await.unwrap();
    assert_eq!(second.passage, Passage::Entry);
    let again = w.engine.check_in(&entry(&new[1], "desk")).await;
    assert_eq!(again.unwrap_err().code(), "TOKEN_ALREADY_USED");
}

/// An entry through `at_gate` into the main zone, as an offline gate logs it.
fn offline_entry(at_gate: &str, at: DateTime<Utc>) -> Scan {
    Scan {
        id: ScanId::generate(),
        gate: gate(at_gate),
        zone: ZoneId::new(MAIN_ZONE).unwrap(),
        direction: Direction::In,
        at,
    }
}

/// A gate that had not synced the revocation list admits the old ticket
/// offline, and the new one is admitted online: once the gate's log is
/// merged, the new ticket's history holds both, and the second entry is
/// reported. The carried record publishes no second event.
#[tokio::test]
async fn an_old_ticket_admitted_offline_after_a_reissue_is_a_double_admission_of_the_new() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (booking, old) = book_tickets(&w.engine, villa_stay(1), "t1").await;
    let rules = w.engine.venue_rules(&pid("casa-azul")).await.unwrap();
    let scanner = Verifier::new(w.engine.ticket_public_keys().unwrap());
    let new = lost_phone(&w.engine, &booking.id).await;

    let mut north = ScanLog::new();
    let claims = scanner.verify_at(&old[0].text, june(10, 14)).unwrap();
    let scan = offline_entry("north", june(10, 14));
    assert_eq!(
        north.check_in(&rules, &claims, scan).unwrap(),
        Passage::Entry
    );
    w.clock.set(june(10, 15)).unwrap();
    w.engine.check_in(&entry(&new[0], "desk")).await.unwrap();

    w.clock.set(june(10, 18)).unwrap();
    for round in 0..2 {
        let report = w.engine.merge_offline_scans(&north).await.unwrap();
        assert_eq!(report.merged.added, 1 - round, "round {round}");
        assert_eq!(report.double_admissions.len(), 1, "round {round}");
        let double = &report.double_admissions[0];
        assert_eq!(double.record.token, new[0].token_id);
        assert_eq!(double.record.scan.gate, gate("desk"));
        assert!(matches!(
            &double.refusal,
            Refusal::AlreadyUsed { gate: g, .. } if *g == gate("north")
        ));
    }
    let events = w.store.read_events(0, usize::MAX).await.unwrap();
    let scanned = events.iter().filter(|e| e.kind == "ticket.scanned");
    assert_eq!(scanned.count(), 2);
}

/// The venue narrows its gates after a guest entered; the reissued ticket
/// carries that entry, made at a gate its own scope no longer names. On a
/// merge the carried entry still counts, but is not itself reported: its
/// gate was judged against the old ticket's scope.
#[tokio::test]
async fn a_carried_entry_outside_the_new_tickets_scope_counts_but_is_not_reported() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (booking, old) = book_tickets(&w.engine, villa_stay(1), "t1").await;
    w.clock.set(june(10, 14)).unwrap();
    w.engine.check_in(&entry(&old[0], "north")).await.unwrap();
    let mut venue = VenueCheckIn::default();
    venue.scope.gates.insert(gate("desk"));
    let property = pid("casa-azul");
    w.engine.set_venue_check_in(&property, venue).await.unwrap();
    let new = lost_phone(&w.engine, &booking.id).await;
    assert_eq!(new[0].claims.scope.gates, [gate("desk")].into());

    let rules = w.engine.venue_rules(&property).await.unwrap();
    let scanner = Verifier::new(w.engine.ticket_public_keys().unwrap());
    let claims = scanner.verify_at(&new[0].text, june(10, 15)).unwrap();
    let mut desk = ScanLog::new();
    let scan = offline_entry("desk", june(10, 15));
    assert_eq!(
        desk.check_in(&rules, &claims, scan).unwrap(),
        Passage::Entry
    );
    let report = w.engine.merge_offline_scans(&desk).await.unwrap();
    assert_eq!(report.double_admissions.len(), 1);
    let double = &report.double_admissions[0];
    assert_eq!(double.record.scan.gate, gate("desk"));
    assert!(matches!(
        &double.refusal,
        Refusal::AlreadyUsed { gate: g, .. } if *g == gate("north")
    ));
}

#[tokio::test]
async fn verifying_at_the_ends_of_time_with_leeway_is_an_error_not_a_panic() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (_, tickets) = book_tickets(&w.engine, villa_stay(1), "t1").await;
    let scanner = Verifier::new(issuer_keys().public_keys())
        .with_leeway(Duration::minutes(5))
        .unwrap();
    let text = &tickets[0].text;
    let at_end = scanner.verify_at(text, DateTime::<Utc>::MAX_UTC);
    assert_eq!(at_end.unwrap_err().code(), "TOKEN_EXPIRED");
    let at_start = scanner.verify_at(text, DateTime::<Utc>::MIN_UTC);
    assert_eq!(at_start.unwrap_err().code(), "TOKEN_NOT_YET_VALID");
}

/// A session's tickets admit from the settings' opening before its start
/// to their closing after its end.
#[tokio::test]
async fn session_tickets_admit_from_their_opening_to_their_closing_after_the_end() {
    let settings = TicketSettings {
        session_opens_minutes_before: 45,
        session_closes_minutes_after: 20,
        ..TicketSettings::default()
    };
    let w = ticketing_world(settings).await;
    let (_, tickets) = book_tickets(&w.engine, lesson(1), "t1").await;
    let validity = &tickets[0].claims.validity;
    assert_eq!(
        validity.not_before(),
        lesson_start() - Duration::minutes(45)
    );
    // The lesson ends two hours after it starts.
    assert_eq!(
        validity.expires(),
        lesson_start() + Duration::minutes(2 * 60 + 20)
    );
}

/// An engine built without a ticket issuer (a second app instance on the
/// same store, say) cannot replace a booking's tickets, so it refuses a
/// modification that would, and changes nothing; once the tickets are
/// revoked there is nothing to replace and the same engine modifies it.
#[tokio::test]
async fn an_engine_without_an_issuer_modifies_a_booking_only_once_its_tickets_are_revoked() {
    let w = ticketing_world(TicketSettings::default()).await;
    let (booking, tickets) = book_tickets(&w.engine, villa_stay(2), "t1").await;
    let plain = Engine::builder(w.store.clone())
        .clock(w.clock.clone())
        .build();
    let modify = |key: &str| ModifyRequest {
        idempotency_key: key.into(),
        booking: booking.id.clone(),
        items: vec![QuoteRequest::new(Item::stay(
            rid("villa"),
            stay((6, 14), (6, 16)),
            Party::adults(2).unwrap(),
        ))],
        payment_method: None,
        expected_total: None,
    };
    let err = plain.modify(&modify("m1")).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");
    assert_eq!(w.engine.booking(&booking.id).await.unwrap(), booking);
    assert_eq!(w.engine.tickets(&booking.id).await.unwrap(), tickets);

    let revoked = w.engine.revoke_booking_tickets(&booking.id).await.unwrap();
    assert_eq!(revoked.len(), 2);
    let modified = plain.modify(&modify("m2")).await.unwrap();
    assert_ne!(modified.items, booking.items);
    assert!(w.engine.tickets(&booking.id).await.unwrap().is_empty());
}

#[test]
fn token_ids_parse_from_hex_digits_only() {
    for text in ["+f+f", "+0", "0x", " 0f0f"] {
        let err = text.parse::<TokenId>().unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{text:?}");
    }
    assert!(serde_json::from_str::<TokenId>(r#""+a+b""#).is_err());
    let id: TokenId = "0F0f".parse().unwrap();
    assert_eq!(id.to_string(), "0f0f");
    assert_eq!(format!("{id:?}"), "TokenId(0f0f)");
    // 1 to 16 bytes: 2 to 32 hex digits.
    let longest = "ab".repeat(16);
    assert_eq!(longest.parse::<TokenId>().unwrap().as_bytes(), [0xab; 16]);
    for text in ["", "abc", &"ab".repeat(17)] {
        let err = text.parse::<TokenId>().unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{text:?}");
    }
    assert_eq!(
        TokenId::from_bytes([1; 17]).unwrap_err().code(),
        "INVALID_INPUT"
    );
}
