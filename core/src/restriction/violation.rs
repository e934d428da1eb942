//! The violation a restriction check reports: what each broken rule found,
//! and the one order in which violations are ranked.
//!
//! Owns the ranking and the error message. Must never allocate before a
//! violation is certain to be reported.

use chrono::NaiveDate;

use super::Nights;
use crate::error::{Error, RestrictionRule};
use crate::ids::ResourceId;

/// What a broken rule found: its limit and the requested value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Found {
    Closed,
    Nights { limit: u32, requested: u32 },
    Days { limit: u32, requested: i64 },
    Minutes { limit: u32, requested: i64 },
}

impl Found {
    pub(super) fn nights(limit: Nights, requested: u32) -> Found {
        Found::Nights {
            limit: limit.get(),
            requested,
        }
    }
    pub(super) fn days(limit: u32, requested: i64) -> Found {
        Found::Days { limit, requested }
    }
    pub(super) fn minutes(limit: u32, requested: i64) -> Found {
        Found::Minutes { limit, requested }
    }
    fn limit(self) -> i64 {
        match self {
            Found::Closed => 0,
            Found::Nights { limit, .. }
            | Found::Days { limit, .. }
            | Found::Minutes { limit, .. } => i64::from(limit),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Violation {
    rule: RestrictionRule,
    date: NaiveDate,
    found: Found,
}

impl Violation {
    /// Smaller is reported first: rule order, then earliest date, then the
    /// strictest limit (the largest minimum, the smallest maximum).
    fn rank(&self) -> (u8, NaiveDate, i64) {
        let (order, strictness) = match self.rule {
            RestrictionRule::StopSell => (0, 0),
            RestrictionRule::ClosedToArrival => (1, 0),
            RestrictionRule::ClosedToDeparture => (2, 0),
            RestrictionRule::MinAdvance => (3, -self.found.limit()),
            RestrictionRule::MaxAdvance => (4, self.found.limit()),
            RestrictionRule::MinStayOnArrival => (5, -self.found.limit()),
            RestrictionRule::MaxStayOnArrival => (6, self.found.limit()),
            RestrictionRule::MinStayThrough => (7, -self.found.limit()),
            RestrictionRule::MaxStayThrough => (8, self.found.limit()),
        };
        (order, self.date, strictness)
    }

    pub(super) fn into_error(self, resource: &ResourceId) -> Error {
        let is_minimum = matches!(
            self.rule,
            RestrictionRule::MinAdvance
                | RestrictionRule::MinStayOnArrival
                | RestrictionRule::MinStayThrough
        );
        let bound = |limit: u32| {
            if is_minimum {
                format!("at least {limit} required")
            } else {
                format!("at most {limit} allowed")
            }
        };
        let detail = match self.found {
            Found::Closed => match self.rule {
                RestrictionRule::ClosedToArrival => "arrival is closed".to_owned(),
                RestrictionRule::ClosedToDeparture => "departure is closed".to_owned(),
                _ => "sales are stopped".to_owned(),
            },
            Found::Nights { limit, requested } => {
                format!("{requested} nights requested, {}", bound(limit))
            }
            Found::Days { limit, requested } => {
                format!("booked {requested} days ahead, {}", bound(limit))
            }
            Found::Minutes { limit, requested } => {
                format!("booked {requested} minutes ahead, {}", bound(limit))
            }
        };
        Error::RestrictionViolated {
            rule: self.rule,
            resource: resource.to_string(),
            date: self.date,
            detail,
        }
    }
}

pub(super) fn consider(
    worst: &mut Option<Violation>,
    rule: RestrictionRule,
    found: Option<(NaiveDate, Found)>,
) {
    if let Some((date, found)) = found {
        let candidate = Violation { rule, date, found };
        if worst.is_none_or(|w| candidate.rank() < w.rank()) {
            *worst = Some(candidate);
        }
    }
}
