//! What a quote is asked for: the stay or slot, the party, the booking
//! date and an optional promo code.
//!
//! Owns [`QuoteRequest`], [`PricedItem`] and [`SlotStart`]: plain data the
//! engine (or a binding) builds once and passes by reference to as many
//! rate plans as it prices. Must never read a clock or a time zone
//! database by itself: the caller says which civil dates apply.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};

use super::promo::PromoRedemption;
use crate::error::{Error, Result};
use crate::party::Party;
use crate::time::{Stay, days_between, local_date};

/// The start of a timed session with its civil date in the venue's time
/// zone, which decides its season and weekday.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use reservo::pricing::SlotStart;
/// let tz: chrono_tz::Tz = "Pacific/Auckland".parse().unwrap();
/// // 20:00 UTC on 1 May is 08:00 on 2 May in Auckland.
/// let start = Utc.with_ymd_and_hms(2026, 5, 1, 20, 0, 0).unwrap();
/// let slot = SlotStart::in_zone(start, tz);
/// assert_eq!(slot.local_date(), NaiveDate::from_ymd_opt(2026, 5, 2).unwrap());
/// let far = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
/// assert_eq!(SlotStart::new(start, far).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SlotStart {
    start: DateTime<Utc>,
    local_date: NaiveDate,
}

impl SlotStart {
    /// A slot starting at `start` whose venue-local date is `local_date`;
    /// refused if no time zone could make that the date (it must be within
    /// a day of the UTC date).
    pub fn new(start: DateTime<Utc>, local_date: NaiveDate) -> Result<SlotStart> {
        if days_between(start.date_naive(), local_date).abs() > 1 {
            return Err(Error::invalid(
                "local_date",
                format!("{local_date} cannot be the local date of a slot starting at {start}"),
            ));
        }
        Ok(SlotStart { start, local_date })
    }

    /// A slot starting at `start` in a venue in `tz`.
    pub fn in_zone(start: DateTime<Utc>, tz: Tz) -> SlotStart {
        SlotStart {
            start,
            local_date: local_date(start, tz),
        }
    }

    /// When the slot starts.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// Its civil date in the venue's time zone.
    pub fn local_date(&self) -> NaiveDate {
        self.local_date
    }
}

impl<'de> Deserialize<'de> for SlotStart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            start: DateTime<Utc>,
            local_date: NaiveDate,
        }
        let raw = Raw::deserialize(d)?;
        SlotStart::new(raw.start, raw.local_date).map_err(serde::de::Error::custom)
    }
}

/// What is priced: the nights of a stay, or one timed session.
///
/// Serialized as `{"stay": {"check_in": ..., "check_out": ...}}` or
/// `{"slot": {"start": ..., "local_date": ...}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricedItem {
    /// Nights `[check_in, check_out)`, priced by a nightly plan.
    Stay(Stay),
    /// One session, priced by a per-slot plan.
    Slot(SlotStart),
}

impl PricedItem {
    /// Nights of a stay; a slot counts as one.
    pub fn nights(&self) -> u32 {
        match self {
            PricedItem::Stay(stay) => stay.nights(),
            PricedItem::Slot(_) => 1,
        }
    }

    /// The first night's date, or the slot's local date.
    pub fn first_date(&self) -> NaiveDate {
        match self {
            PricedItem::Stay(stay) => stay.check_in(),
            PricedItem::Slot(slot) => slot.local_date(),
        }
    }

    /// The last night's date (the day before check-out), or the slot's
    /// local date.
    pub fn last_date(&self) -> NaiveDate {
        match self {
            PricedItem::Stay(stay) => stay
                .check_out()
                .pred_opt()
                .expect("a check-out after a check-in has a day before it"),
            PricedItem::Slot(slot) => slot.local_date(),
        }
    }

    /// The dates priced, in order: each night's, or the slot's.
    pub(crate) fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        let (first, count) = (self.first_date(), self.nights());
        first.iter_days().take(count as usize)
    }
}

/// Everything a quote depends on besides the rate plan.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::party::Party;
/// use reservo::pricing::QuoteRequest;
/// use reservo::time::Stay;
/// let d = |day| NaiveDate::from_ymd_opt(2026, 8, day).unwrap();
/// let request = QuoteRequest::stay(Stay::new(d(10), d(17)).unwrap(), Party::adults(2).unwrap(), d(1));
/// assert_eq!(request.item.nights(), 7);
/// assert!(request.promo.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    /// The stay or slot priced.
    pub item: PricedItem,
    /// Who is coming.
    pub party: Party,
    /// The venue-local date the booking is made on (for promo booking
    /// windows): `time::local_date(clock.now(), property.time_zone)`.
    pub booking_date: NaiveDate,
    /// A promo code entered by the guest, if any.
    #[serde(default)]
    pub promo: Option<PromoRedemption>,
}

impl QuoteRequest {
    /// A request for a stay, without a promo.
    pub fn stay(stay: Stay, party: Party, booking_date: NaiveDate) -> QuoteRequest {
        QuoteRequest {
            item: PricedItem::Stay(stay),
            party,
            booking_date,
            promo: None,
        }
    }

    /// A request for a slot, without a promo.
    pub fn slot(slot: SlotStart, party: Party, booking_date: NaiveDate) -> QuoteRequest {
        QuoteRequest {
            item: PricedItem::Slot(slot),
            party,
            booking_date,
            promo: None,
        }
    }

    /// The same request with a promo code.
    pub fn with_promo(self, promo: PromoRedemption) -> QuoteRequest {
        QuoteRequest {
            promo: Some(promo),
            ..self
        }
    }
}
