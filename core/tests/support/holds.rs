//! Helpers shared by the hold tests: items, requests, customers, and
//! reading what a hold left behind.

#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use reservo::booking::Customer;
use reservo::engine::{ConfirmRequest, Engine, HoldRequest, QuoteRequest};
use reservo::ids::HoldId;
use reservo::party::Party;
use reservo::ports::Storage;

use super::catalog::{World, d, rid, stay};
use reservo::engine::Item;

pub fn adults(n: u32) -> Party {
    Party::adults(n).unwrap()
}

pub fn villa(from: (u32, u32), to: (u32, u32)) -> QuoteRequest {
    QuoteRequest::new(Item::stay(rid("villa"), stay(from, to), adults(2)))
}

pub fn double(from: (u32, u32), to: (u32, u32)) -> QuoteRequest {
    QuoteRequest::new(Item::stay(rid("double"), stay(from, to), adults(2)))
}

/// The 09:00 Lisbon lesson (08:00 UTC in summer) for `n` adults.
pub fn lesson(month: u32, day: u32, n: u32) -> QuoteRequest {
    let start = Utc.with_ymd_and_hms(2026, month, day, 8, 0, 0).unwrap();
    QuoteRequest::new(Item::session(rid("surf-lesson"), start, adults(n)))
}

pub fn hold_request(key: &str, items: Vec<QuoteRequest>, ttl_seconds: u32) -> HoldRequest {
    HoldRequest::new(key, items, ttl_seconds)
}

pub fn ana() -> Customer {
    Customer::new("Ana Lima", "+351912345678", None).unwrap()
}

pub fn rui() -> Customer {
    Customer::new("Rui Costa", "+351934567890", None).unwrap()
}

pub fn confirm_request(key: &str, hold: &HoldId, customer: Customer) -> ConfirmRequest {
    ConfirmRequest {
        idempotency_key: key.into(),
        hold: hold.clone(),
        customer: Some(customer),
        items: None,
        attribution: Default::default(),
        metadata: Default::default(),
    }
}

pub async fn hold(w: &World, key: &str, items: Vec<QuoteRequest>) -> HoldId {
    w.engine
        .hold(&hold_request(key, items, 900))
        .await
        .unwrap()
        .id
}

pub async fn villa_left(engine: &Engine, from: (u32, u32), to: (u32, u32)) -> Vec<u32> {
    engine
        .night_availability(&rid("villa"), d(from.0, from.1), d(to.0, to.1))
        .await
        .unwrap()
        .iter()
        .map(|n| n.available)
        .collect()
}

pub async fn event_kinds(w: &World) -> Vec<String> {
    w.store
        .read_events(0, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| k != "catalog.changed")
        .collect()
}
