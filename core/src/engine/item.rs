//! What a request asks for: one resource, a stay or a session, a party.
//!
//! Owns the checks that need only the catalog: the resource's shape
//! matches the span, the party fits, the span is not in the past, the
//! session exists in the schedule, the restrictions allow it. Shared by
//! quotes, searches and holds. Must never read inventory.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Property, ResourceKind};
use crate::error::{Error, Result};
use crate::ids::ResourceId;
use crate::party::Party;
use crate::restriction::BookedAt;
use crate::schedule::Occurrence;
use crate::time::{Stay, local_date};

use super::availability::Counts;
use super::catalog_cache::{CatalogView, ResourceEntry};
use super::keys;
use super::ledger::Ledger;

/// When an item takes inventory: nights of a stay, or one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// The nights of a stay in one unit of a nightly resource (book two
    /// rooms as two items).
    Stay(Stay),
    /// Seats in the session of a timed resource that starts at `start`;
    /// one seat per guest of the party.
    Session {
        /// The session's start.
        start: DateTime<Utc>,
    },
}

/// One thing to price or reserve.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::engine::Item;
/// use reservo::party::Party;
/// use reservo::time::Stay;
/// let d = |day| NaiveDate::from_ymd_opt(2026, 7, day).unwrap();
/// let item = Item::stay("villa-1".parse().unwrap(), Stay::new(d(1), d(8)).unwrap(), Party::adults(2).unwrap());
/// assert_eq!(item.party.size(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The resource.
    pub resource: ResourceId,
    /// The nights or session.
    pub span: Span,
    /// Who is coming.
    pub party: Party,
}

impl Item {
    /// One unit of a nightly resource for `stay`.
    pub fn stay(resource: ResourceId, stay: Stay, party: Party) -> Item {
        Item {
            resource,
            span: Span::Stay(stay),
            party,
        }
    }

    /// Seats for `party` in the session of `resource` starting at `start`.
    pub fn session(resource: ResourceId, start: DateTime<Utc>, party: Party) -> Item {
        Item {
            resource,
            span: Span::Session { start },
            party,
        }
    }
}

/// An item checked against the catalog: the inventory it needs.
#[derive(Debug, Clone)]
pub(crate) struct Resolved<'a> {
    pub entry: &'a ResourceEntry,
    pub property: &'a Property,
    /// Ledger keys, each with its civil date and the units it needs.
    pub needs: Vec<Need>,
    /// The session, for timed resources.
    pub occurrence: Option<Occurrence>,
}

/// Units needed on one ledger.
#[derive(Debug, Clone)]
pub(crate) struct Need {
    pub key: String,
    pub date: NaiveDate,
    pub units: u32,
    pub blocked: u32,
    pub capacity: u32,
}

impl Need {
    /// Units left on this ledger at `now`, before this need takes any.
    pub fn left(&self, ledger: &Ledger, now: DateTime<Utc>) -> u32 {
        Counts::from_ledger(self.capacity, self.blocked, ledger, now).available()
    }

    /// `Ok` if `left` units cover this need, else `UNAVAILABLE` naming the
    /// resource, the date and both counts.
    pub fn ensure_fits(&self, resource: &ResourceId, left: u32) -> Result<()> {
        if left < self.units {
            return Err(Error::Unavailable {
                resource: resource.to_string(),
                date: self.date,
                requested: self.units,
                available: left,
            });
        }
        Ok(())
    }
}

impl Item {
    /// Checks the item against the catalog and the clock.
    pub(crate) fn resolve<'a>(
        &self,
        view: &'a CatalogView,
        now: DateTime<Utc>,
    ) -> Result<Resolved<'a>> {
        let entry = view.resource(&self.resource)?;
        let property = view.property(&entry.resource.property)?;
        let tz = property.time_zone;
        let size = self.party.size();
        match (&entry.resource.kind, &self.span) {
            (
                ResourceKind::Nightly {
                    units: capacity,
                    max_occupancy,
                },
                Span::Stay(stay),
            ) => {
                if size > *max_occupancy {
                    return Err(Error::PartyTooLarge {
                        resource: self.resource.to_string(),
                        party: size,
                        max: *max_occupancy,
                    });
                }
                let today = local_date(now, tz);
                if stay.check_in() < today {
                    return Err(Error::InThePast {
                        what: "stay",
                        start: stay.arrival_instant(tz, property.check_in_time)?,
                        now,
                    });
                }
                if let Some(restrictions) = &entry.restrictions {
                    restrictions.check_stay(&self.resource, stay, &BookedAt::new(now, tz))?;
                }
                let needs = stay
                    .night_dates()
                    .map(|night| Need {
                        key: keys::night(night, &self.resource),
                        date: night,
                        units: 1,
                        blocked: super::availability::blocked_on_night(
                            &entry.blocks,
                            night,
                            *capacity,
                        ),
                        capacity: *capacity,
                    })
                    .collect();
                Ok(Resolved {
                    entry,
                    property,
                    needs,
                    occurrence: None,
                })
            }
            (ResourceKind::Timed { seats, schedule }, Span::Session { start }) => {
                if size > *seats {
                    return Err(Error::PartyTooLarge {
                        resource: self.resource.to_string(),
                        party: size,
                        max: *seats,
                    });
                }
                if *start <= now {
                    return Err(Error::InThePast {
                        what: "slot",
                        start: *start,
                        now,
                    });
                }
                let occurrence =
                    schedule
                        .occurrence_at(tz, *start)
                        .ok_or_else(|| Error::NoSuchSlot {
                            resource: self.resource.to_string(),
                            start: *start,
                        })?;
                if let Some(restrictions) = &entry.restrictions {
                    restrictions.check_slot(
                        &self.resource,
                        occurrence.date(),
                        *start,
                        &BookedAt::new(now, tz),
                    )?;
                }
                let need = Need {
                    key: keys::session(&self.resource, *start),
                    date: occurrence.date(),
                    units: size,
                    blocked: super::availability::blocked_in(
                        &entry.blocks,
                        &occurrence.occupied(),
                        *seats,
                    ),
                    capacity: *seats,
                };
                Ok(Resolved {
                    entry,
                    property,
                    needs: vec![need],
                    occurrence: Some(occurrence),
                })
            }
            (ResourceKind::Nightly { .. }, Span::Session { .. }) => Err(Error::invalid(
                "span",
                format!("{} is sold by the night: ask for a stay", self.resource),
            )),
            (ResourceKind::Timed { .. }, Span::Stay(_)) => Err(Error::invalid(
                "span",
                format!("{} is sold in sessions: ask for a session", self.resource),
            )),
        }
    }
}
