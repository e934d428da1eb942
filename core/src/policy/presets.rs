//! Presets: the published cancellation policies of well-known platforms,
//! written as [`CancellationPolicy`] data.
//!
//! Owns nothing but the encoding of each platform's rules; every preset
//! says what it encodes, where the rules come from, and what is uncertain
//! (see also `docs/cancellation-presets.md`). Must never invent a rule a
//! source does not state: where a source is silent the preset says which
//! reading it took. Platform fees (Airbnb's guest service fee, Vrbo's
//! traveler service fee) are not part of these policies: pass them to
//! [`BookingFacts`](super::BookingFacts) as the non-refundable part if the
//! platform keeps them, or leave them out of the price.

use std::num::NonZeroU16;

use super::model::{
    CancellationPolicy, FreeCancellationWindow, LeadCondition, LeadMeasuredAt, Penalty, Tier,
};
use super::threshold::{DeadlineTime, Threshold};
use crate::money::Percentage;

fn half() -> Penalty {
    Penalty::Percent {
        percent: Percentage::new(rust_decimal::Decimal::new(50, 0)).expect("50 is a percentage"),
    }
}

fn hours(h: u16) -> NonZeroU16 {
    NonZeroU16::new(h).expect("preset windows are non-zero")
}

fn preset(
    tiers: Vec<Tier>,
    late: Penalty,
    windows: Vec<FreeCancellationWindow>,
) -> CancellationPolicy {
    CancellationPolicy::new(tiers, late, windows).expect("presets are valid policies")
}

/// The names [`by_name`] knows, each `platform.policy`: the same in every
/// binding and in the shared scenario vectors.
pub const NAMES: [&str; 12] = [
    "airbnb.flexible",
    "airbnb.moderate",
    "airbnb.limited",
    "airbnb.firm",
    "airbnb.strict",
    "airbnb.non_refundable",
    "booking_com.non_refundable",
    "vrbo.relaxed",
    "vrbo.moderate",
    "vrbo.firm",
    "vrbo.strict",
    "vrbo.no_refund",
];

/// The preset named `name` (one of [`NAMES`]), or `None`. Booking.com's
/// [`free_until`](booking_com::free_until) takes arguments and has no name.
///
/// ```
/// use reservo::policy::presets;
/// assert_eq!(presets::by_name("airbnb.moderate"), Some(presets::airbnb::moderate()));
/// assert_eq!(presets::by_name("airbnb.lenient"), None);
/// assert!(presets::NAMES.iter().all(|name| presets::by_name(name).is_some()));
/// ```
pub fn by_name(name: &str) -> Option<CancellationPolicy> {
    Some(match name {
        "airbnb.flexible" => airbnb::flexible(),
        "airbnb.moderate" => airbnb::moderate(),
        "airbnb.limited" => airbnb::limited(),
        "airbnb.firm" => airbnb::firm(),
        "airbnb.strict" => airbnb::strict(),
        "airbnb.non_refundable" => airbnb::non_refundable(),
        "booking_com.non_refundable" => booking_com::non_refundable(),
        "vrbo.relaxed" => vrbo::relaxed(),
        "vrbo.moderate" => vrbo::moderate(),
        "vrbo.firm" => vrbo::firm(),
        "vrbo.strict" => vrbo::strict(),
        "vrbo.no_refund" => vrbo::no_refund(),
        _ => return None,
    })
}

/// Airbnb's standard cancellation policies for stays of fewer than 28
/// nights, as published for reservations from 1 October 2025.
///
/// Source: Airbnb Help Center, "Cancellation policies for your listing"
/// (article 475, titled "Cancellation policies for your home" in its 2025
/// revision), and its section "Changes to standard cancellation policies
/// effective October 1, 2025". Airbnb counts deadlines in the listing's
/// local time and relative to its check-in time, which is what
/// [`DeadlineTime::StartTime`] does.
///
/// Encoded for every policy except [`non_refundable`](airbnb::non_refundable): the 24-hour window of
/// October 2025 — a full refund within 24 hours after booking if the
/// booking was confirmed at least 7 days before check-in.
///
/// "You'll be paid for each night they stay, plus one additional night"
/// is encoded, for a cancellation before check-in, as a penalty of the
/// first night. Cancelling after check-in (an early departure) is judged
/// like a no-show, by the late penalty; the nights actually stayed are not
/// modelled.
pub mod airbnb {
    use super::*;

    /// Full refund within 24 h after booking if booked ≥ 7 days before check-in.
    pub fn window_24h() -> FreeCancellationWindow {
        FreeCancellationWindow {
            hours_after_booking: hours(24),
            min_lead: Some(LeadCondition {
                threshold: Threshold::days(7),
                measured_at: LeadMeasuredAt::Booking,
            }),
        }
    }

    fn first_night(percent_of_rest: u8) -> Penalty {
        Penalty::first_nights(1, Percentage::whole(percent_of_rest).expect("a percentage"))
            .expect("one night")
    }

    /// Flexible: full refund until 24 hours before check-in; after that the
    /// first night is kept.
    ///
    /// ```
    /// let p = reservo::policy::presets::airbnb::flexible();
    /// assert_eq!(p.tiers()[0].threshold, reservo::policy::Threshold::hours(24));
    /// ```
    pub fn flexible() -> CancellationPolicy {
        preset(
            vec![Tier::new(Threshold::hours(24), Penalty::None)],
            first_night(0),
            vec![window_24h()],
        )
    }

    /// Moderate: full refund until 5 days before check-in; after that the
    /// first night plus 50% of the rest is kept.
    ///
    /// ```
    /// let p = reservo::policy::presets::airbnb::moderate();
    /// assert_eq!(p.tiers()[0].threshold, reservo::policy::Threshold::days(5));
    /// ```
    pub fn moderate() -> CancellationPolicy {
        preset(
            vec![Tier::new(Threshold::days(5), Penalty::None)],
            first_night(50),
            vec![window_24h()],
        )
    }

    /// Limited (new in 2025): full refund until 14 days before check-in,
    /// 50% refund until 7 days before, nothing after.
    ///
    /// ```
    /// assert_eq!(reservo::policy::presets::airbnb::limited().tiers().len(), 2);
    /// ```
    pub fn limited() -> CancellationPolicy {
        preset(
            vec![
                Tier::new(Threshold::days(14), Penalty::None),
                Tier::new(Threshold::days(7), half()),
            ],
            Penalty::FULL,
            vec![window_24h()],
        )
    }

    /// Firm: full refund until 30 days before check-in, 50% refund until 7
    /// days before, nothing after.
    ///
    /// ```
    /// assert_eq!(reservo::policy::presets::airbnb::firm().tiers().len(), 2);
    /// ```
    pub fn firm() -> CancellationPolicy {
        preset(
            vec![
                Tier::new(Threshold::days(30), Penalty::None),
                Tier::new(Threshold::days(7), half()),
            ],
            Penalty::FULL,
            vec![window_24h()],
        )
    }

    /// Strict (by invitation after October 2025): full refund within 48
    /// hours of booking if the cancellation is at least 14 days before
    /// check-in; 50% refund until 7 days before; nothing after. The
    /// 24-hour window is included as for the other policies.
    ///
    /// Uncertain: the 2025 articles describe Strict without the 48-hour
    /// window (only the universal 24-hour one); this preset keeps the
    /// 48-hour window of the earlier published text.
    ///
    /// ```
    /// assert_eq!(reservo::policy::presets::airbnb::strict().free_windows().len(), 2);
    /// ```
    pub fn strict() -> CancellationPolicy {
        preset(
            vec![Tier::new(Threshold::days(7), half())],
            Penalty::FULL,
            vec![
                FreeCancellationWindow {
                    hours_after_booking: hours(48),
                    min_lead: Some(LeadCondition {
                        threshold: Threshold::days(14),
                        measured_at: LeadMeasuredAt::Cancellation,
                    }),
                },
                window_24h(),
            ],
        )
    }

    /// Non-refundable option: no refund at any time. Whether the 24-hour
    /// window of October 2025 also covers this option is not stated in the
    /// sources used; it is not included.
    ///
    /// ```
    /// assert!(reservo::policy::presets::airbnb::non_refundable().tiers().is_empty());
    /// ```
    pub fn non_refundable() -> CancellationPolicy {
        CancellationPolicy::non_refundable()
    }
}

/// Booking.com-style policies: "free cancellation until N days before
/// arrival, then the first night / X% / 100%".
///
/// Source: Booking.com Connectivity documentation, "Cancellation policy
/// codes" (developers.booking.com/connectivity/docs/policies-api/policy-codes),
/// and the older "(BCCP) Booking.com cancellation and prepayment policies"
/// page, which states that deadlines count back from 12 AM (00:00) on the
/// day of arrival, in the property's time. Hour-based codes (24, 48, 72 h
/// before that midnight) are encoded here as whole days at 00:00, which
/// differs from elapsed hours by the DST shift when one falls in between.
/// The no-show fee is taken to equal the after-deadline penalty.
pub mod booking_com {
    use super::*;
    use chrono::NaiveTime;

    /// What a cancellation after the free deadline costs.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum AfterDeadline {
        /// The price of the first night.
        FirstNight,
        /// A share of the total price (refundable part).
        Percent(Percentage),
        /// The whole (refundable) price.
        Full,
    }

    /// Free until 00:00 (property time) `days` days before the arrival
    /// date, then `after`. `days = 0` means free until midnight at the start
    /// of the arrival day.
    ///
    /// ```
    /// use reservo::policy::presets::booking_com::{free_until, AfterDeadline};
    /// let p = free_until(2, AfterDeadline::FirstNight);
    /// assert_eq!(p.tiers().len(), 1);
    /// ```
    pub fn free_until(days: u16, after: AfterDeadline) -> CancellationPolicy {
        let late = match after {
            AfterDeadline::FirstNight => {
                Penalty::first_nights(1, Percentage::ZERO).expect("one night")
            }
            AfterDeadline::Percent(percent) => Penalty::Percent { percent },
            AfterDeadline::Full => Penalty::FULL,
        };
        let deadline = Threshold::DaysBefore {
            days,
            at: DeadlineTime::At(NaiveTime::MIN),
        };
        preset(vec![Tier::new(deadline, Penalty::None)], late, vec![])
    }

    /// Non-refundable (code 1: 100% charged from reservation).
    ///
    /// ```
    /// assert!(reservo::policy::presets::booking_com::non_refundable().tiers().is_empty());
    /// ```
    pub fn non_refundable() -> CancellationPolicy {
        CancellationPolicy::non_refundable()
    }
}

/// Vrbo's standard policies: Relaxed, Moderate, Firm, Strict, No refund.
///
/// Sources: Rentals United, "Vrbo predefined policies" (its help article on
/// setting a Vrbo cancellation policy), and tripping.com's summary of
/// Vrbo's policies; Vrbo's own help page could not be consulted. A
/// deadline "N days before check-in" is taken as the end of that day in the
/// property's time zone ("by 11:59 pm in the property's time zone", as
/// summaries of Vrbo's rules put it; an older summary says 12 pm US Central
/// instead — unverified). Vrbo's traveler service fee is refunded in
/// proportion by Vrbo; it is not part of these policies.
pub mod vrbo {
    use super::*;

    fn by_end_of(days: u16) -> Threshold {
        Threshold::DaysBefore {
            days,
            at: DeadlineTime::EndOfDay,
        }
    }

    fn two_step(full: u16, half_until: u16) -> CancellationPolicy {
        preset(
            vec![
                Tier::new(by_end_of(full), Penalty::None),
                Tier::new(by_end_of(half_until), half()),
            ],
            Penalty::FULL,
            vec![],
        )
    }

    /// Relaxed: full refund at least 14 days before check-in, 50% at least
    /// 7 days before, nothing after.
    ///
    /// ```
    /// assert_eq!(reservo::policy::presets::vrbo::relaxed().tiers().len(), 2);
    /// ```
    pub fn relaxed() -> CancellationPolicy {
        two_step(14, 7)
    }

    /// Moderate: full refund at least 30 days before check-in, 50% at least
    /// 14 days before, nothing after.
    ///
    /// ```
    /// assert_eq!(reservo::policy::presets::vrbo::moderate().tiers().len(), 2);
    /// ```
    pub fn moderate() -> CancellationPolicy {
        two_step(30, 14)
    }

    /// Firm: full refund at least 60 days before check-in, 50% at least 30
    /// days before, nothing after.
    ///
    /// ```
    /// assert_eq!(reservo::policy::presets::vrbo::firm().tiers().len(), 2);
    /// ```
    pub fn firm() -> CancellationPolicy {
        two_step(60, 30)
    }

    /// Strict: full refund at least 60 days before check-in, nothing after.
    ///
    /// ```
    /// assert_eq!(reservo::policy::presets::vrbo::strict().tiers().len(), 1);
    /// ```
    pub fn strict() -> CancellationPolicy {
        preset(
            vec![Tier::new(by_end_of(60), Penalty::None)],
            Penalty::FULL,
            vec![],
        )
    }

    /// No refund at any time.
    ///
    /// ```
    /// assert!(reservo::policy::presets::vrbo::no_refund().tiers().is_empty());
    /// ```
    pub fn no_refund() -> CancellationPolicy {
        CancellationPolicy::non_refundable()
    }
}
