//! Capacity left per night and per session.
//!
//! Owns combining catalog capacity and blocks with the ledgers into what
//! is left. Must never write: availability is a read, and a hold re-checks
//! it inside its own commit.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Block, ResourceKind};
use crate::error::{Error, Result};
use crate::ids::ResourceId;
use crate::ports::{Key, Record};
use crate::schedule::Occurrence;
use crate::time::{Slot, days_between};

use super::Engine;
use super::keys;
use super::ledger::Ledger;

/// The longest range one availability call covers, in days.
pub const MAX_RANGE_DAYS: i64 = 400;

/// What is left of one night of a nightly resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NightAvailability {
    /// The night (the date it starts on).
    pub date: NaiveDate,
    /// Units the resource has.
    pub capacity: u32,
    /// Units taken by blocks.
    pub blocked: u32,
    /// Units under live holds.
    pub held: u32,
    /// Units booked.
    pub booked: u32,
    /// Units that can still be sold.
    pub available: u32,
}

/// What is left of one session of a timed resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionAvailability {
    /// The session's civil date in the property's time zone.
    pub local_date: NaiveDate,
    /// When it runs.
    pub slot: Slot,
    /// Seats the session has.
    pub capacity: u32,
    /// Seats taken by blocks.
    pub blocked: u32,
    /// Seats under live holds.
    pub held: u32,
    /// Seats booked.
    pub booked: u32,
    /// Seats that can still be sold.
    pub available: u32,
}

/// Counts of one night or session, before they are labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub capacity: u32,
    pub blocked: u32,
    pub held: u32,
    pub booked: u32,
}

impl Counts {
    pub fn from_ledger(capacity: u32, blocked: u32, ledger: &Ledger, now: DateTime<Utc>) -> Counts {
        Counts {
            capacity,
            blocked: blocked.min(capacity),
            held: ledger.held_at(now),
            booked: ledger.booked,
        }
    }

    pub fn available(&self) -> u32 {
        self.capacity
            .saturating_sub(self.blocked)
            .saturating_sub(self.held)
            .saturating_sub(self.booked)
    }
}

pub(crate) fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    let days = days_between(from, to);
    if !(1..=MAX_RANGE_DAYS).contains(&days) {
        return Err(Error::invalid(
            "range",
            format!("{from} to {to} must span 1-{MAX_RANGE_DAYS} days, spans {days}"),
        ));
    }
    Ok(())
}

pub(crate) fn blocked_on_night(blocks: &[Block], night: NaiveDate, capacity: u32) -> u32 {
    blocks
        .iter()
        .map(|b| b.units_on_night(night, capacity))
        .sum()
}

pub(crate) fn blocked_in(blocks: &[Block], occupied: &Slot, capacity: u32) -> u32 {
    blocks
        .iter()
        .map(|b| b.units_in_period(occupied, capacity))
        .sum()
}

pub(crate) fn ledger_of(record: Option<&Record>, key: &str) -> Result<Ledger> {
    record.map_or_else(|| Ok(Ledger::default()), |r| Ledger::decode(key, &r.value))
}

impl Engine {
    /// Units left on each night `[from, to)` of a nightly resource.
    ///
    /// Errors: `NOT_FOUND` for an unknown resource, `INVALID_INPUT` for a
    /// timed resource or a range that is empty or longer than
    /// [`MAX_RANGE_DAYS`].
    pub async fn night_availability(
        &self,
        resource: &ResourceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightAvailability>> {
        check_range(from, to)?;
        let catalog = self.catalog().await?;
        let entry = catalog.resource(resource)?;
        let ResourceKind::Nightly { units, .. } = entry.resource.kind else {
            return Err(Error::invalid(
                "resource",
                format!("{resource} is sold in sessions: ask for session availability"),
            ));
        };
        let nights: Vec<NaiveDate> = from.iter_days().take_while(|d| *d < to).collect();
        let keys: Vec<Key> = nights.iter().map(|d| keys::night(*d, resource)).collect();
        let records = self.storage.get(&keys).await?;
        let now = self.clock.now();
        nights
            .iter()
            .zip(&keys)
            .zip(&records)
            .map(|((date, key), record)| {
                let ledger = ledger_of(record.as_ref(), key)?;
                let blocked = blocked_on_night(&entry.blocks, *date, units);
                let c = Counts::from_ledger(units, blocked, &ledger, now);
                Ok(NightAvailability {
                    date: *date,
                    capacity: c.capacity,
                    blocked: c.blocked,
                    held: c.held,
                    booked: c.booked,
                    available: c.available(),
                })
            })
            .collect()
    }

    /// Seats left in each session of a timed resource whose civil date is
    /// in `[from, to)`, in start order.
    ///
    /// Errors: `NOT_FOUND` for an unknown resource, `INVALID_INPUT` for a
    /// nightly resource or a bad range.
    pub async fn session_availability(
        &self,
        resource: &ResourceId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SessionAvailability>> {
        check_range(from, to)?;
        let catalog = self.catalog().await?;
        let entry = catalog.resource(resource)?;
        let ResourceKind::Timed { seats, schedule } = &entry.resource.kind else {
            return Err(Error::invalid(
                "resource",
                format!("{resource} is sold by the night: ask for night availability"),
            ));
        };
        let tz = catalog.property(&entry.resource.property)?.time_zone;
        let occurrences: Vec<Occurrence> = schedule.occurrences(tz, from, to)?;
        let keys: Vec<Key> = occurrences
            .iter()
            .map(|o| keys::session(resource, o.slot().start()))
            .collect();
        let records = self.storage.get(&keys).await?;
        let now = self.clock.now();
        occurrences
            .iter()
            .zip(&keys)
            .zip(&records)
            .map(|((o, key), record)| {
                let ledger = ledger_of(record.as_ref(), key)?;
                let blocked = blocked_in(&entry.blocks, &o.occupied(), *seats);
                let c = Counts::from_ledger(*seats, blocked, &ledger, now);
                Ok(SessionAvailability {
                    local_date: o.date(),
                    slot: o.slot(),
                    capacity: c.capacity,
                    blocked: c.blocked,
                    held: c.held,
                    booked: c.booked,
                    available: c.available(),
                })
            })
            .collect()
    }
}
