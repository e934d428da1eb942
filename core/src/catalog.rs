//! Catalog: what can be booked, and where.
//!
//! Owns properties (a hotel, a rental home, a studio, a tour base) with
//! their owner, time zone and currency; bookable resources in their two
//! shapes — nightly units and timed sessions — and blocks that take
//! capacity away for a range. Must never hold prices (see
//! [`crate::pricing`]), restrictions ([`crate::restriction`]) or live
//! inventory (the engine's ledgers).
//!
//! Catalog values are plain data with public fields so that every binding
//! can build them from its own literals; [`Property::validate`],
//! [`Resource::validate`] and [`Block::validate`] hold the rules, and the
//! engine calls them before anything is stored.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{BlockId, OwnerId, PropertyId, RatePlanId, ResourceId, validate_name};
use crate::money::Currency;
use crate::schedule::Schedule;
use crate::time::{Slot, Stay};

/// A place that sells inventory: its owner, time zone and currency.
///
/// ```
/// use reservo::catalog::Property;
/// let villa = Property::new("casa-azul", "Casa Azul", "owner-ana", "Europe/Lisbon", "EUR").unwrap();
/// assert_eq!(villa.check_in_time.to_string(), "15:00:00");
/// assert_eq!(Property::new("x", "X", "o", "Nowhere/City", "EUR").unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Property {
    /// The property's id.
    pub id: PropertyId,
    /// Its name, for people.
    pub name: String,
    /// Who receives its payouts.
    pub owner: OwnerId,
    /// Its IANA time zone: every civil time of the property is read in it.
    pub time_zone: Tz,
    /// The currency it sells in.
    pub currency: Currency,
    /// Civil time guests may arrive on their check-in date (default 15:00).
    pub check_in_time: NaiveTime,
    /// Civil time guests leave on their check-out date (default 11:00).
    pub check_out_time: NaiveTime,
    /// The owner's mobile number (E.164) for booking alerts by SMS; none
    /// sends the owner nothing.
    #[serde(default)]
    pub owner_phone: Option<String>,
}

impl Property {
    /// A property with the default check-in (15:00) and check-out (11:00)
    /// times, from plain strings.
    pub fn new(
        id: &str,
        name: &str,
        owner: &str,
        time_zone: &str,
        currency: &str,
    ) -> Result<Property> {
        let property = Property {
            id: PropertyId::new(id)?,
            name: name.to_owned(),
            owner: OwnerId::new(owner)?,
            time_zone: crate::time::parse_time_zone(time_zone)?,
            currency: Currency::from_code(currency)?,
            check_in_time: NaiveTime::from_hms_opt(15, 0, 0).expect("valid time"),
            check_out_time: NaiveTime::from_hms_opt(11, 0, 0).expect("valid time"),
            owner_phone: None,
        };
        property.validate()?;
        Ok(property)
    }

    /// Checks the rules a stored property must satisfy.
    pub fn validate(&self) -> Result<()> {
        validate_name("name", &self.name)?;
        if let Some(phone) = &self.owner_phone {
            crate::booking::validate_e164(phone)?;
        }
        Ok(())
    }

    /// The same property with the owner's phone for SMS alerts.
    ///
    /// ```
    /// use reservo::catalog::Property;
    /// let p = Property::new("casa", "Casa", "ana", "Europe/Lisbon", "EUR").unwrap();
    /// assert!(p.clone().with_owner_phone("+351912000111").is_ok());
    /// assert_eq!(p.with_owner_phone("12345").unwrap_err().code(), "INVALID_INPUT");
    /// ```
    pub fn with_owner_phone(mut self, phone: &str) -> Result<Property> {
        self.owner_phone = Some(phone.to_owned());
        self.validate()?;
        Ok(self)
    }
}

/// The two shapes of bookable inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResourceKind {
    /// Sold by the night, `[check_in, check_out)`: a room type with
    /// `units` identical rooms, or one rental home (`units: 1`).
    Nightly {
        /// Identical units sold under this resource.
        units: u32,
        /// The most guests one unit takes.
        max_occupancy: u32,
    },
    /// Sold by the seat in timed sessions: a class, tour or activity.
    Timed {
        /// Seats in each session.
        seats: u32,
        /// When sessions run, in the property's civil time.
        schedule: Schedule,
    },
}

/// A bookable resource of a property.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The resource's id.
    pub id: ResourceId,
    /// The property it belongs to.
    pub property: PropertyId,
    /// Its name, for people.
    pub name: String,
    /// The rate plan quotes use unless the request names another.
    pub rate_plan: RatePlanId,
    /// Nightly units or timed sessions.
    pub kind: ResourceKind,
}

impl Resource {
    /// Checks the rules a stored resource must satisfy.
    pub fn validate(&self) -> Result<()> {
        validate_name("name", &self.name)?;
        match &self.kind {
            ResourceKind::Nightly {
                units,
                max_occupancy,
            } => {
                if *units == 0 {
                    return Err(Error::invalid(
                        "units",
                        "a nightly resource needs at least 1 unit, got 0",
                    ));
                }
                if *max_occupancy == 0 {
                    return Err(Error::invalid("max_occupancy", "must be at least 1, got 0"));
                }
            }
            ResourceKind::Timed { seats, .. } => {
                if *seats == 0 {
                    return Err(Error::invalid(
                        "seats",
                        "a timed resource needs at least 1 seat, got 0",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Units (nightly) or seats (timed) sold per night or session.
    pub fn capacity(&self) -> u32 {
        match &self.kind {
            ResourceKind::Nightly { units, .. } => *units,
            ResourceKind::Timed { seats, .. } => *seats,
        }
    }

    /// Whether the resource is sold by the night.
    pub fn is_nightly(&self) -> bool {
        matches!(self.kind, ResourceKind::Nightly { .. })
    }
}

/// Why capacity is blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// Repairs, cleaning, inspection.
    Maintenance,
    /// The owner uses it.
    OwnerUse,
    /// Anything else, in words.
    Other(String),
}

/// What a block covers: nights of a nightly resource, or a period of a
/// timed one (every session whose occupied interval overlaps it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "span", rename_all = "snake_case", deny_unknown_fields)]
pub enum BlockSpan {
    /// The nights `[from, to)`.
    Nights {
        /// First blocked night.
        from: NaiveDate,
        /// First night no longer blocked.
        to: NaiveDate,
    },
    /// The instants `[start, end)`.
    Period {
        /// Start of the block.
        start: DateTime<Utc>,
        /// End of the block.
        end: DateTime<Utc>,
    },
}

/// Capacity taken away from a resource for a range (maintenance, owner use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    /// The block's id.
    pub id: BlockId,
    /// The resource it blocks.
    pub resource: ResourceId,
    /// What it covers.
    pub span: BlockSpan,
    /// Units (or seats) blocked; `None` blocks the whole capacity.
    pub units: Option<u32>,
    /// Why.
    pub reason: BlockReason,
}

impl Block {
    /// Checks the block against the resource it is for.
    pub fn validate(&self, resource: &Resource) -> Result<()> {
        match (&self.span, resource.is_nightly()) {
            (BlockSpan::Nights { from, to }, true) => {
                Stay::new(*from, *to).map_err(|_| {
                    Error::invalid(
                        "span",
                        format!("block must end after it starts: {from} to {to}"),
                    )
                })?;
            }
            (BlockSpan::Period { start, end }, false) => {
                Slot::new(*start, *end).map_err(|_| {
                    Error::invalid(
                        "span",
                        format!("block must end after it starts: {start} to {end}"),
                    )
                })?;
            }
            (BlockSpan::Nights { .. }, false) => {
                return Err(Error::invalid(
                    "span",
                    format!("{} is timed: block a period, not nights", resource.id),
                ));
            }
            (BlockSpan::Period { .. }, true) => {
                return Err(Error::invalid(
                    "span",
                    format!("{} is nightly: block nights, not a period", resource.id),
                ));
            }
        }
        if let Some(units) = self.units {
            if units == 0 || units > resource.capacity() {
                return Err(Error::invalid(
                    "units",
                    format!(
                        "must be 1-{} for {}, got {units}",
                        resource.capacity(),
                        resource.id
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Units this block takes from a resource of `capacity` on `night`.
    pub fn units_on_night(&self, night: NaiveDate, capacity: u32) -> u32 {
        match self.span {
            BlockSpan::Nights { from, to } if from <= night && night < to => {
                self.units.unwrap_or(capacity)
            }
            _ => 0,
        }
    }

    /// Seats this block takes from a session occupying `occupied`.
    pub fn units_in_period(&self, occupied: &Slot, capacity: u32) -> u32 {
        match self.span {
            BlockSpan::Period { start, end }
                if start < occupied.end() && occupied.start() < end =>
            {
                self.units.unwrap_or(capacity)
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nightly(units: u32) -> Resource {
        Resource {
            id: ResourceId::new("room-double").unwrap(),
            property: PropertyId::new("hotel").unwrap(),
            name: "Double room".into(),
            rate_plan: RatePlanId::new("bar").unwrap(),
            kind: ResourceKind::Nightly {
                units,
                max_occupancy: 2,
            },
        }
    }

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 8, day).unwrap()
    }

    #[test]
    fn resource_without_capacity_is_refused() {
        assert_eq!(nightly(0).validate().unwrap_err().code(), "INVALID_INPUT");
        assert!(nightly(3).validate().is_ok());
    }

    /// A period block takes seats from a session whose occupied time
    /// overlaps it by any part; touching it at either end is no overlap.
    #[test]
    fn a_period_block_takes_seats_only_from_sessions_it_overlaps() {
        let at = |h: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 8, 1, h, 0, 0).unwrap();
        let block = Block {
            id: BlockId::new("b1").unwrap(),
            resource: ResourceId::new("kayak-tour").unwrap(),
            span: BlockSpan::Period {
                start: at(10),
                end: at(12),
            },
            units: Some(4),
            reason: BlockReason::Maintenance,
        };
        let taken = |from, to| block.units_in_period(&Slot::new(at(from), at(to)).unwrap(), 12);
        assert_eq!(taken(9, 11), 4);
        assert_eq!(taken(11, 13), 4);
        assert_eq!(taken(10, 12), 4);
        assert_eq!(taken(8, 10), 0, "ends as the block starts");
        assert_eq!(taken(12, 14), 0, "starts as the block ends");
        let whole = Block {
            units: None,
            ..block.clone()
        };
        assert_eq!(
            whole.units_in_period(&Slot::new(at(9), at(11)).unwrap(), 12),
            12
        );
    }

    #[test]
    fn block_must_match_the_resource_shape_and_capacity() {
        let room = nightly(3);
        let block = |span, units| Block {
            id: BlockId::new("b1").unwrap(),
            resource: room.id.clone(),
            span,
            units,
            reason: BlockReason::Maintenance,
        };
        assert!(
            block(
                BlockSpan::Nights {
                    from: d(1),
                    to: d(3)
                },
                Some(2)
            )
            .validate(&room)
            .is_ok()
        );
        let backwards = block(
            BlockSpan::Nights {
                from: d(3),
                to: d(3),
            },
            None,
        );
        assert_eq!(
            backwards.validate(&room).unwrap_err().code(),
            "INVALID_INPUT"
        );
        let too_many = block(
            BlockSpan::Nights {
                from: d(1),
                to: d(3),
            },
            Some(4),
        );
        assert!(
            too_many
                .validate(&room)
                .unwrap_err()
                .to_string()
                .contains("got 4")
        );
        let period = block(
            BlockSpan::Period {
                start: DateTime::<Utc>::UNIX_EPOCH,
                end: Utc::now(),
            },
            None,
        );
        assert_eq!(period.validate(&room).unwrap_err().code(), "INVALID_INPUT");
    }

    /// A misspelt field is refused, not ignored: a block's `"unit": 1`
    /// would otherwise block the whole capacity (`units` missing is all).
    #[test]
    fn catalog_json_with_an_unknown_field_is_refused() {
        let block = r#"{"id": "b1", "resource": "room-double", "units": 1, "reason": "maintenance",
                        "span": {"span": "nights", "from": "2026-08-01", "to": "2026-08-03"}}"#;
        let resource = r#"{"id": "room-double", "property": "hotel", "name": "Double room",
                           "rate_plan": "bar",
                           "kind": {"shape": "nightly", "units": 3, "max_occupancy": 2}}"#;
        let property = r#"{"id": "hotel", "name": "Hotel", "owner": "ana",
                           "time_zone": "Europe/Lisbon", "currency": "EUR",
                           "check_in_time": "15:00:00", "check_out_time": "11:00:00"}"#;
        let block_json: Block = serde_json::from_str(block).unwrap();
        assert_eq!(block_json.units, Some(1));
        assert_eq!(
            serde_json::from_str::<Resource>(resource).unwrap(),
            nightly(3)
        );
        serde_json::from_str::<Property>(property).unwrap();
        fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
            serde_json::from_str::<T>(json).unwrap_err().to_string()
        }
        let misspelt = |json: &str, field: &str, typo: &str| {
            json.replace(&format!("\"{field}\""), &format!("\"{typo}\""))
        };
        for (error, typo) in [
            (refused::<Block>(&misspelt(block, "units", "unit")), "unit"),
            (refused::<Block>(&misspelt(block, "to", "until")), "until"),
            (
                refused::<Resource>(&misspelt(resource, "max_occupancy", "max_guests")),
                "max_guests",
            ),
            (
                refused::<Resource>(&misspelt(resource, "rate_plan", "plan")),
                "plan",
            ),
            (
                refused::<Property>(&misspelt(property, "check_out_time", "checkout")),
                "checkout",
            ),
        ] {
            assert!(
                error.contains(&format!("unknown field `{typo}`")),
                "{error}"
            );
        }
    }

    #[test]
    fn block_takes_units_only_on_its_nights() {
        let b = Block {
            id: BlockId::new("b").unwrap(),
            resource: ResourceId::new("r").unwrap(),
            span: BlockSpan::Nights {
                from: d(10),
                to: d(12),
            },
            units: None,
            reason: BlockReason::OwnerUse,
        };
        assert_eq!(b.units_on_night(d(9), 4), 0);
        assert_eq!(b.units_on_night(d(10), 4), 4);
        assert_eq!(b.units_on_night(d(11), 4), 4);
        assert_eq!(b.units_on_night(d(12), 4), 0);
    }
}
