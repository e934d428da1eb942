//! Helpers shared by the ticket edge tests: an engine that issues tickets
//! over the catalog fixture, booking items with their tickets, and gate
//! scans.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use reservo::booking::Customer;
use reservo::checkin::{Direction, ScanId};
use reservo::engine::{
    Booking, CheckInRequest, ConfirmRequest, Engine, HoldRequest, IssuedTicket, Item, QuoteRequest,
    TicketSettings,
};
use reservo::party::Party;
use reservo::token::{GateId, IssuerKey, IssuerKeySet};

use super::catalog::{World, rid, stay, world_with};

/// The issuer keys every ticketing engine of these tests signs with.
pub fn issuer_keys() -> IssuerKeySet {
    IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [1; 32]))
}

/// The catalog fixture on an engine that issues tickets with `settings`.
pub async fn ticketing_world(settings: TicketSettings) -> World {
    world_with(move |b| b.tickets(issuer_keys(), settings)).await
}

/// Holds and confirms `item` under `key`; returns the booking and its
/// tickets.
pub async fn book_tickets(engine: &Engine, item: Item, key: &str) -> (Booking, Vec<IssuedTicket>) {
    let hold = engine
        .hold(&HoldRequest::new(
            format!("{key}-hold"),
            vec![QuoteRequest::new(item)],
            600,
        ))
        .await
        .unwrap();
    let booking = engine
        .confirm(&ConfirmRequest::new(
            format!("{key}-confirm"),
            hold.id,
            Customer::new("Ana Lima", "+351912345678", None).unwrap(),
        ))
        .await
        .unwrap();
    let tickets = engine.tickets(&booking.id).await.unwrap();
    (booking, tickets)
}

/// The villa, 10 to 12 June 2026, for `guests` adults.
pub fn villa_stay(guests: u32) -> Item {
    Item::stay(
        rid("villa"),
        stay((6, 10), (6, 12)),
        Party::adults(guests).unwrap(),
    )
}

/// The 09:00 Lisbon (08:00 UTC) surf lesson on 3 June 2026, to 11:00.
pub fn lesson_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 3, 8, 0, 0).unwrap()
}

/// The surf lesson of [`lesson_start`] for `guests` adults.
pub fn lesson(guests: u32) -> Item {
    Item::session(
        rid("surf-lesson"),
        lesson_start(),
        Party::adults(guests).unwrap(),
    )
}

/// `hour`:00 UTC on `day` June 2026.
pub fn june(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, day, hour, 0, 0).unwrap()
}

pub fn gate(id: &str) -> GateId {
    GateId::new(id).unwrap()
}

/// A new scan of `ticket` at `at_gate` in `direction`, into the main zone.
pub fn scan_of(ticket: &IssuedTicket, at_gate: &str, direction: Direction) -> CheckInRequest {
    CheckInRequest {
        token: ticket.text.clone(),
        gate: gate(at_gate),
        zone: None,
        direction,
        scan_id: ScanId::generate(),
    }
}

/// A new entry scan of `ticket` at `at_gate`.
pub fn entry(ticket: &IssuedTicket, at_gate: &str) -> CheckInRequest {
    scan_of(ticket, at_gate, Direction::In)
}
