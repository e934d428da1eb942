//! Helpers shared by the hold and booking lifecycle tests: dates in any
//! year, villa stays between them, and confirming a hold for Ana.

#![allow(dead_code)]

use chrono::NaiveDate;
use reservo::engine::{Booking, Item, QuoteRequest};
use reservo::ids::HoldId;
use reservo::time::Stay;

use super::catalog::{World, rid};
use super::holds::{adults, ana, confirm_request};

pub fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn villa_stay(from: NaiveDate, to: NaiveDate) -> QuoteRequest {
    QuoteRequest::new(Item::stay(
        rid("villa"),
        Stay::new(from, to).unwrap(),
        adults(2),
    ))
}

pub async fn confirm(w: &World, key: &str, hold: &HoldId) -> Booking {
    w.engine
        .confirm(&confirm_request(key, hold, ana()))
        .await
        .unwrap()
}
