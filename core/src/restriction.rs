//! Booking restrictions of a resource: minimum and maximum stay (on arrival
//! and through), closed to arrival and departure, advance-booking window
//! and stop-sell, each over a date range and optionally some weekdays.
//!
//! Owns the decision whether a stay or a slot may be sold under these
//! rules, and which violation is reported. Must never look at capacity,
//! prices or a clock: the caller passes the booking moment in.
//!
//! # Which date a rule is read on
//!
//! | rule | stay | slot |
//! | --- | --- | --- |
//! | stop-sell, min/max stay through | every night of the stay | the slot's local date |
//! | closed to arrival, min/max stay on arrival, advance | the check-in date | the slot's local date (advance only) |
//! | closed to departure | the check-out date | — |
//!
//! Stay-length and arrival/departure rules mean nothing to a slot and are
//! not read by [`Restrictions::check_slot`].
//!
//! # Lead time
//!
//! [`Lead::Days`] counts **calendar days** in the property's zone from the
//! local date of the booking to the arrival date (or the slot's local
//! date): booking at 23:59 on the 9th for the 10th is one day ahead, at
//! 00:01 on the 10th it is zero. [`Lead::Minutes`] is **elapsed** time from
//! the booking instant to the slot's start; it applies to slots only,
//! because a stay's arrival instant depends on the property's check-in
//! time, which restrictions do not hold. A lead is "ahead" by at least a
//! minimum and at most a maximum, both inclusive.
//!
//! # Overlapping rules: the most restrictive wins
//!
//! When several entries of the same rule apply on the same date, the
//! strictest applies (the largest minimum, the smallest maximum; any
//! closed or stopped entry closes). The order of entries never matters.
//!
//! # Which violation is reported
//!
//! One, deterministically: the first rule in this order that is broken —
//! stop-sell, closed to arrival, closed to departure, minimum advance,
//! maximum advance, minimum stay on arrival, maximum stay on arrival,
//! minimum stay through, maximum stay through — on its earliest date,
//! with the strictest limit on that date.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, RestrictionRule, Result};
use crate::ids::ResourceId;
use crate::schedule::{DateRange, Weekdays};
use crate::time::{Stay, days_between, local_date};

mod violation;

use violation::{Found, consider};

/// A number of nights in a stay-length rule: 1 to [`Stay::MAX_NIGHTS`].
///
/// Serialized as a plain number.
///
/// ```
/// use reservo::restriction::Nights;
/// assert_eq!(Nights::new(3).unwrap().get(), 3);
/// assert_eq!(Nights::new(0).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Nights(u32);

impl Nights {
    /// `nights`, refusing 0 and more than [`Stay::MAX_NIGHTS`].
    pub fn new(nights: u32) -> Result<Nights> {
        if nights == 0 || nights > Stay::MAX_NIGHTS {
            return Err(Error::invalid(
                "nights",
                format!(
                    "{nights} is not a stay length: use 1 to {}",
                    Stay::MAX_NIGHTS
                ),
            ));
        }
        Ok(Nights(nights))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Nights {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Nights::new(u32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// How far ahead of its start a booking is made (see the module docs).
///
/// Serialized as `{"days":2}` or `{"minutes":90}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lead {
    /// Calendar days in the property's zone; read by stays and slots.
    Days(u32),
    /// Elapsed minutes to the slot's start; read by slots only.
    Minutes(u32),
}

/// One restriction, without the dates it applies on.
///
/// Serialized with a `rule` tag: `{"rule":"min_stay_on_arrival","nights":3}`,
/// `{"rule":"closed_to_arrival"}`, `{"rule":"min_advance","lead":{"days":2}}`.
///
/// ```
/// use reservo::restriction::{Nights, Restriction};
/// let min3 = Restriction::MinStayOnArrival { nights: Nights::new(3).unwrap() };
/// assert_eq!(serde_json::to_string(&min3).unwrap(), r#"{"rule":"min_stay_on_arrival","nights":3}"#);
/// assert!(serde_json::from_str::<Restriction>(r#"{"rule":"max_stay_through","nights":0}"#).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Restriction {
    /// A stay arriving on the date lasts at least `nights`.
    MinStayOnArrival {
        /// The minimum.
        nights: Nights,
    },
    /// A stay arriving on the date lasts at most `nights`.
    MaxStayOnArrival {
        /// The maximum.
        nights: Nights,
    },
    /// A stay that includes the date's night lasts at least `nights`.
    MinStayThrough {
        /// The minimum.
        nights: Nights,
    },
    /// A stay that includes the date's night lasts at most `nights`.
    MaxStayThrough {
        /// The maximum.
        nights: Nights,
    },
    /// No stay may arrive on the date.
    ClosedToArrival,
    /// No stay may depart on the date.
    ClosedToDeparture,
    /// Bookings starting on the date are made at least `lead` ahead.
    MinAdvance {
        /// The minimum lead.
        lead: Lead,
    },
    /// Bookings starting on the date are made at most `lead` ahead.
    MaxAdvance {
        /// The maximum lead.
        lead: Lead,
    },
    /// Nothing that uses the date (a night, a slot) is sold.
    StopSell,
}

/// Not derived: serde ignores fields beside the tag of a unit variant even
/// with `deny_unknown_fields` (serde-rs/serde#2123), and a misplaced field
/// (`{"rule":"stop_sell","weekdays":["sat"]}`) must be refused, not
/// dropped.
impl<'de> Deserialize<'de> for Restriction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use RestrictionRule as R;
        use serde::de::Error as _;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            rule: RestrictionRule,
            nights: Option<Nights>,
            lead: Option<Lead>,
        }
        let Raw { rule, nights, lead } = Raw::deserialize(d)?;
        let nights_rule = matches!(
            rule,
            R::MinStayOnArrival | R::MaxStayOnArrival | R::MinStayThrough | R::MaxStayThrough
        );
        let lead_rule = matches!(rule, R::MinAdvance | R::MaxAdvance);
        if nights.is_some() && !nights_rule {
            return Err(D::Error::unknown_field("nights", &["rule", "lead"]));
        }
        if lead.is_some() && !lead_rule {
            return Err(D::Error::unknown_field("lead", &["rule", "nights"]));
        }
        let nights = || nights.ok_or_else(|| D::Error::missing_field("nights"));
        let lead = || lead.ok_or_else(|| D::Error::missing_field("lead"));
        Ok(match rule {
            R::MinStayOnArrival => Restriction::MinStayOnArrival { nights: nights()? },
            R::MaxStayOnArrival => Restriction::MaxStayOnArrival { nights: nights()? },
            R::MinStayThrough => Restriction::MinStayThrough { nights: nights()? },
            R::MaxStayThrough => Restriction::MaxStayThrough { nights: nights()? },
            R::ClosedToArrival => Restriction::ClosedToArrival,
            R::ClosedToDeparture => Restriction::ClosedToDeparture,
            R::MinAdvance => Restriction::MinAdvance { lead: lead()? },
            R::MaxAdvance => Restriction::MaxAdvance { lead: lead()? },
            R::StopSell => Restriction::StopSell,
        })
    }
}

impl Restriction {
    /// The rule it is, as named in [`Error::RestrictionViolated`].
    pub fn rule(&self) -> RestrictionRule {
        match self {
            Restriction::MinStayOnArrival { .. } => RestrictionRule::MinStayOnArrival,
            Restriction::MaxStayOnArrival { .. } => RestrictionRule::MaxStayOnArrival,
            Restriction::MinStayThrough { .. } => RestrictionRule::MinStayThrough,
            Restriction::MaxStayThrough { .. } => RestrictionRule::MaxStayThrough,
            Restriction::ClosedToArrival => RestrictionRule::ClosedToArrival,
            Restriction::ClosedToDeparture => RestrictionRule::ClosedToDeparture,
            Restriction::MinAdvance { .. } => RestrictionRule::MinAdvance,
            Restriction::MaxAdvance { .. } => RestrictionRule::MaxAdvance,
            Restriction::StopSell => RestrictionRule::StopSell,
        }
    }
}

/// A restriction on the dates of `dates` whose weekday is in `weekdays`.
///
/// Serialized as `{"dates":{"from":..,"until":..},"weekdays":[..],
/// "restriction":{"rule":..}}`; `weekdays` may be absent (every day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedRestriction {
    /// The dates it is in force.
    pub dates: DateRange,
    /// The weekdays it is in force on, within `dates`.
    #[serde(default = "every_day")]
    pub weekdays: Weekdays,
    /// What it restricts.
    pub restriction: Restriction,
}

fn every_day() -> Weekdays {
    Weekdays::ALL
}

impl DatedRestriction {
    /// Whether it is in force on `date`.
    pub fn applies_on(&self, date: NaiveDate) -> bool {
        self.dates.contains(date) && self.weekdays.contains_date(date)
    }

    /// The first date of `start .. end_exclusive` it is in force on.
    fn first_date_in(&self, start: NaiveDate, end_exclusive: NaiveDate) -> Option<NaiveDate> {
        self.dates.first_match(&self.weekdays, start, end_exclusive)
    }
}

/// When a booking is made: the instant and its local date in the
/// property's zone. Build it once per request and pass it to every check.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use reservo::restriction::BookedAt;
/// let sydney: chrono_tz::Tz = "Australia/Sydney".parse().unwrap();
/// let at = BookedAt::new(Utc.with_ymd_and_hms(2026, 7, 9, 14, 30, 0).unwrap(), sydney);
/// assert_eq!(at.local_date(), NaiveDate::from_ymd_opt(2026, 7, 10).unwrap()); // 00:30 AEST
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BookedAt {
    instant: DateTime<Utc>,
    local_date: NaiveDate,
}

impl BookedAt {
    /// The booking moment `instant`, read in the property's zone `tz`.
    pub fn new(instant: DateTime<Utc>, tz: Tz) -> BookedAt {
        BookedAt {
            instant,
            local_date: local_date(instant, tz),
        }
    }

    /// The instant.
    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    /// Its civil date in the property's zone.
    pub fn local_date(&self) -> NaiveDate {
        self.local_date
    }
}

/// All restrictions of one resource. Any list of entries is valid; the
/// order never matters (see the module docs).
///
/// Serialized as a plain list of [`DatedRestriction`]s.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use reservo::ids::ResourceId;
/// use reservo::restriction::{BookedAt, DatedRestriction, Nights, Restriction, Restrictions};
/// use reservo::schedule::{DateRange, Weekdays};
/// use reservo::time::Stay;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let summer = DateRange::new(d(7, 1), Some(d(8, 31))).unwrap();
/// let rules = Restrictions::new(vec![DatedRestriction {
///     dates: summer,
///     weekdays: Weekdays::ALL,
///     restriction: Restriction::MinStayOnArrival { nights: Nights::new(3).unwrap() },
/// }]);
/// let villa = ResourceId::new("villa-7").unwrap();
/// let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
/// let booked = BookedAt::new(Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap(), berlin);
///
/// assert!(rules.check_stay(&villa, &Stay::new(d(7, 10), d(7, 13)).unwrap(), &booked).is_ok());
/// let err = rules.check_stay(&villa, &Stay::new(d(7, 10), d(7, 12)).unwrap(), &booked).unwrap_err();
/// assert_eq!(err.code(), "MIN_STAY_ON_ARRIVAL");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Restrictions {
    entries: Vec<DatedRestriction>,
}

impl Restrictions {
    /// The restrictions `entries`.
    pub fn new(entries: Vec<DatedRestriction>) -> Restrictions {
        Restrictions { entries }
    }

    /// The entries, in the order given.
    pub fn entries(&self) -> &[DatedRestriction] {
        &self.entries
    }

    /// Whether `stay` may be booked at `booked`, or the one violation to
    /// report ([`Error::RestrictionViolated`], see the module docs for the
    /// order). `resource` only names the resource in the error. Allocates
    /// nothing unless it fails.
    pub fn check_stay(&self, resource: &ResourceId, stay: &Stay, booked: &BookedAt) -> Result<()> {
        let (arrival, departure) = (stay.check_in(), stay.check_out());
        let nights = stay.nights();
        let lead_days = days_between(booked.local_date, arrival);
        let mut worst = None;
        for entry in &self.entries {
            let on_arrival = |found| entry.applies_on(arrival).then_some((arrival, found));
            let through = |found| entry.first_date_in(arrival, departure).map(|d| (d, found));
            let found = match entry.restriction {
                Restriction::StopSell => through(Found::Closed),
                Restriction::ClosedToArrival => on_arrival(Found::Closed),
                Restriction::ClosedToDeparture => entry
                    .applies_on(departure)
                    .then_some((departure, Found::Closed)),
                Restriction::MinAdvance {
                    lead: Lead::Days(n),
                } if lead_days < i64::from(n) => on_arrival(Found::days(n, lead_days)),
                Restriction::MaxAdvance {
                    lead: Lead::Days(n),
                } if lead_days > i64::from(n) => on_arrival(Found::days(n, lead_days)),
                Restriction::MinStayOnArrival { nights: n } if nights < n.get() => {
                    on_arrival(Found::nights(n, nights))
                }
                Restriction::MaxStayOnArrival { nights: n } if nights > n.get() => {
                    on_arrival(Found::nights(n, nights))
                }
                Restriction::MinStayThrough { nights: n } if nights < n.get() => {
                    through(Found::nights(n, nights))
                }
                Restriction::MaxStayThrough { nights: n } if nights > n.get() => {
                    through(Found::nights(n, nights))
                }
                _ => None,
            };
            consider(&mut worst, entry.restriction.rule(), found);
        }
        worst.map_or(Ok(()), |v| Err(v.into_error(resource)))
    }

    /// Whether a slot on local date `slot_date` starting at `start` may be
    /// booked at `booked`: stop-sell and the advance-booking window (both
    /// lead units) on `slot_date`. Allocates nothing unless it fails.
    ///
    /// ```
    /// use chrono::{Duration, NaiveDate, TimeZone, Utc};
    /// use reservo::ids::ResourceId;
    /// use reservo::restriction::{BookedAt, DatedRestriction, Lead, Restriction, Restrictions};
    /// use reservo::schedule::{DateRange, Weekdays};
    /// let date = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    /// let rules = Restrictions::new(vec![DatedRestriction {
    ///     dates: DateRange::starting(date),
    ///     weekdays: Weekdays::ALL,
    ///     restriction: Restriction::MinAdvance { lead: Lead::Minutes(120) },
    /// }]);
    /// let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
    /// let start = Utc.with_ymd_and_hms(2026, 3, 8, 14, 0, 0).unwrap(); // 10:00 EDT
    /// let tour = ResourceId::new("harbour-tour").unwrap();
    /// let early = BookedAt::new(start - Duration::minutes(120), ny);
    /// assert!(rules.check_slot(&tour, date, start, &early).is_ok());
    /// let late = BookedAt::new(start - Duration::minutes(119), ny);
    /// assert_eq!(rules.check_slot(&tour, date, start, &late).unwrap_err().code(), "MIN_ADVANCE_NOT_MET");
    /// ```
    pub fn check_slot(
        &self,
        resource: &ResourceId,
        slot_date: NaiveDate,
        start: DateTime<Utc>,
        booked: &BookedAt,
    ) -> Result<()> {
        let lead_days = days_between(booked.local_date, slot_date);
        let lead = start - booked.instant;
        let lead_minutes = lead.num_minutes();
        let mut worst = None;
        for entry in self.entries.iter().filter(|e| e.applies_on(slot_date)) {
            let found = match entry.restriction {
                Restriction::StopSell => Some(Found::Closed),
                Restriction::MinAdvance {
                    lead: Lead::Days(n),
                } if lead_days < i64::from(n) => Some(Found::days(n, lead_days)),
                Restriction::MaxAdvance {
                    lead: Lead::Days(n),
                } if lead_days > i64::from(n) => Some(Found::days(n, lead_days)),
                Restriction::MinAdvance {
                    lead: Lead::Minutes(n),
                } if lead < Duration::minutes(n.into()) => Some(Found::minutes(n, lead_minutes)),
                Restriction::MaxAdvance {
                    lead: Lead::Minutes(n),
                } if lead > Duration::minutes(n.into()) => Some(Found::minutes(n, lead_minutes)),
                _ => None,
            };
            consider(
                &mut worst,
                entry.restriction.rule(),
                found.map(|f| (slot_date, f)),
            );
        }
        worst.map_or(Ok(()), |v| Err(v.into_error(resource)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::add_days;

    #[test]
    fn lead_serializes_with_its_unit() {
        let json = serde_json::to_string(&Restriction::MaxAdvance {
            lead: Lead::Days(365),
        })
        .unwrap();
        assert_eq!(json, r#"{"rule":"max_advance","lead":{"days":365}}"#);
        let back: Restriction = serde_json::from_str(&json).unwrap();
        assert_eq!(back.rule(), RestrictionRule::MaxAdvance);
    }

    #[test]
    fn nights_out_of_range_name_the_value() {
        let err = serde_json::from_str::<Nights>("5000").unwrap_err();
        assert!(err.to_string().contains("5000"));
    }

    #[test]
    fn dated_restriction_without_weekdays_applies_every_day() {
        let r: DatedRestriction = serde_json::from_str(
            r#"{"dates":{"from":"2026-01-01"},"restriction":{"rule":"stop_sell"}}"#,
        )
        .unwrap();
        assert_eq!(r.weekdays, Weekdays::ALL);
        let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(r.applies_on(add_days(date, 3).unwrap()));
        assert!(!r.applies_on(add_days(date, -1).unwrap()));
    }
}
