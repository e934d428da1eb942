//! Helpers for the cancellation policy tests: instants, dates, zones,
//! percentages and amounts from plain values, the start and facts of a
//! fully paid booking, and the refund a policy quotes at an instant.

#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use reservo::money::Money;
use reservo::policy::{
    BookingFacts, BookingStart, CancellationEvent, CancellationPolicy, Percentage,
};
use reservo::time::Stay;

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

pub fn tz(name: &str) -> Tz {
    name.parse().unwrap()
}

pub fn pct(p: u8) -> Percentage {
    Percentage::whole(p).unwrap()
}

pub fn money(amount: &str, code: &str) -> Money {
    Money::parse(amount, code).unwrap()
}

pub fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

pub fn stay_start(zone: &str, check_in: NaiveDate, nights: u32, at: NaiveTime) -> BookingStart {
    let out = check_in + chrono::Days::new(u64::from(nights));
    BookingStart::for_stay(&Stay::new(check_in, out).unwrap(), tz(zone), at).unwrap()
}

/// Facts of a fully paid booking of `price` (no fees) in EUR, booked long
/// before it starts.
pub fn paid_facts(start: BookingStart, price: &str, nights: &[&str]) -> BookingFacts {
    BookingFacts::new(
        start.instant() - Duration::days(400),
        start,
        eur(price),
        eur(price),
        eur("0.00"),
        nights.iter().map(|n| eur(n)).collect(),
    )
    .unwrap()
}

pub fn at(t: DateTime<Utc>) -> CancellationEvent {
    CancellationEvent::Cancelled { at: t }
}

pub fn refund(policy: &CancellationPolicy, facts: &BookingFacts, t: DateTime<Utc>) -> Money {
    policy.quote(facts, at(t)).unwrap().refund()
}
