//! Cancellation policies as data, and refund quotes.
//!
//! Owns the policy model ([`CancellationPolicy`]: free windows after
//! booking, tiers by time before the start, a late penalty that also covers
//! no-shows), the deadlines it is judged by ([`Threshold`], counted in the
//! property's calendar and time zone), the refund quote
//! ([`CancellationPolicy::quote`]) and [`presets`] for Airbnb, Booking.com
//! and Vrbo. Policies are serde values, validated when built and when
//! deserialized, so a booking can snapshot its policy as JSON.
//!
//! Must never do I/O, read a clock, or move money: the engine passes "now"
//! in and carries out the refund the quote describes.
//!
//! ```
//! use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
//! use reservo::money::Money;
//! use reservo::policy::{presets, BookingFacts, BookingStart, CancellationEvent};
//! use reservo::time::Stay;
//!
//! let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
//! let eur = |s| Money::parse(s, "EUR").unwrap();
//! let stay = Stay::new(d(9, 10), d(9, 13)).unwrap();
//! let start = BookingStart::for_stay(
//!     &stay, "Europe/Lisbon".parse().unwrap(), NaiveTime::from_hms_opt(15, 0, 0).unwrap(),
//! ).unwrap();
//! let facts = BookingFacts::new(
//!     Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap(), start,
//!     eur("345.00"), eur("345.00"), eur("45.00"), vec![eur("100.00"); 3],
//! ).unwrap();
//! let moderate = presets::airbnb::moderate();
//! let early = moderate
//!     .quote(&facts, CancellationEvent::Cancelled { at: start.instant() - Duration::days(6) })
//!     .unwrap();
//! assert_eq!(early.refund(), eur("300.00"));
//! let late = moderate.quote(&facts, CancellationEvent::NoShow).unwrap();
//! assert_eq!(late.refund(), eur("100.00")); // first night kept, then half of the other two
//! ```

pub(crate) mod checks;
mod model;
pub mod presets;
mod quote;
mod threshold;

pub use crate::money::Percentage;
pub use model::{
    CancellationPolicy, FreeCancellationWindow, LeadCondition, LeadMeasuredAt, Penalty, Tier,
};
pub use quote::{AppliedRule, BookingFacts, CancellationEvent, RefundPart, RefundQuote};
pub use threshold::{BookingStart, DeadlineTime, Threshold};
