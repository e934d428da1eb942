//! The payloads of the engine's `booking.*` and `hold.*` events.
//!
//! Owns what a host (and the default SMS templates, see [`crate::notify`])
//! reads from the outbox: the booking or hold, its property, its period
//! and its resources. Must never change the bytes of a field a released
//! version wrote: hosts parse these payloads.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::booking::{BookingStatus, Metadata};
use crate::catalog::{Property, ResourceKind};
use crate::ids::{BookingId, HoldId, ResourceId};
use crate::money::Money;

use super::catalog_cache::CatalogView;
use super::confirm::Booking;
use super::hold::{HeldItem, Hold};
use super::item::Span;

/// The payload of `booking.*` events, with the fields the default SMS
/// templates read (see [`crate::notify`]).
pub(crate) fn booking_event<'a>(view: &'a CatalogView, booking: &'a Booking) -> BookingEvent<'a> {
    let property = property_of(view, &booking.items);
    // Fields in alphabetical order, as `json!` wrote them before: the
    // payload's bytes did not change when it became typed.
    BookingEvent {
        booking: BookingPart {
            currency: booking.total.currency(),
            id: &booking.id,
            status: booking.status,
            total: booking.total.padded_amount().to_string(),
        },
        broker: Contact {
            id: booking.terms.attribution.broker.as_deref(),
            phone: booking.terms.attribution.broker_phone.as_deref(),
        },
        customer: Person {
            name: &booking.customer.name,
            phone: &booking.customer.phone,
        },
        metadata: booking.metadata.if_any(),
        owner: Contact {
            id: property.map(|p| p.owner.as_str()),
            phone: property.and_then(|p| p.owner_phone.as_deref()),
        },
        period: period(view, property, &booking.items),
        property: PropertyPart::of(property),
        resources: booking
            .items
            .iter()
            .map(|i| i.resource().as_str())
            .collect(),
    }
}

/// The payload of `booking.*` events (see [`booking_event`]).
#[derive(Serialize)]
pub(crate) struct BookingEvent<'a> {
    booking: BookingPart<'a>,
    broker: Contact<'a>,
    customer: Person<'a>,
    /// The host's metadata; left out when empty, so payloads of bookings
    /// without any keep the bytes they had before it existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Metadata>,
    owner: Contact<'a>,
    period: Period,
    property: PropertyPart<'a>,
    resources: Vec<&'a str>,
}

/// The payload of `hold.*` events: the hold, its total and expiry, and,
/// as in `booking.*` events, its property, period and resources; its
/// customer (name and phone) and metadata when the hold has them, left
/// out otherwise so that payloads keep the bytes they had before holds
/// could carry them. No default SMS reads these events: a host that wants
/// an abandoned-cart reminder adds a `hold.expired` template for the guest.
#[derive(Serialize)]
pub(crate) struct HoldEvent<'a> {
    hold: &'a HoldId,
    total: &'a Money,
    #[serde(serialize_with = "crate::text::serialize_instant")]
    expires_at: DateTime<Utc>,
    resources: Vec<&'a ResourceId>,
    period: Period,
    property: PropertyPart<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<Person<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Metadata>,
}

impl<'a> HoldEvent<'a> {
    pub(crate) fn of(view: &'a CatalogView, hold: &'a Hold) -> HoldEvent<'a> {
        let property = property_of(view, &hold.items);
        HoldEvent {
            hold: &hold.id,
            total: &hold.total,
            expires_at: hold.expires_at,
            resources: hold.items.iter().map(HeldItem::resource).collect(),
            period: period(view, property, &hold.items),
            property: PropertyPart::of(property),
            customer: hold.customer.as_ref().map(|c| Person {
                name: &c.name,
                phone: &c.phone,
            }),
            metadata: hold.metadata.if_any(),
        }
    }
}

/// The property of `items` (one per hold or booking, ADR 010), if the
/// catalog still has it.
fn property_of<'a>(view: &'a CatalogView, items: &[HeldItem]) -> Option<&'a Property> {
    let entry = view.resources.get(items.first()?.resource())?;
    view.properties.get(&entry.resource.property)
}

/// From the earliest start to the latest end over `items`: check-in and
/// check-out dates of stays, local `YYYY-MM-DD HH:MM` of sessions, ordered
/// by date, then by instant (so sessions in the hour a DST change repeats
/// are ordered by when they happen, not by their local text).
fn period(view: &CatalogView, property: Option<&Property>, items: &[HeldItem]) -> Period {
    let edges: Vec<(Edge, Edge)> = items
        .iter()
        .map(|item| item_period(view, property, item))
        .collect();
    let text = |edge: Option<&Edge>| edge.map(|e| e.text.clone()).unwrap_or_default();
    Period {
        start: text(edges.iter().map(|e| &e.0).min()),
        end: text(edges.iter().map(|e| &e.1).max()),
    }
}

/// One end of an item as a period shows it, ordered by its date, then its
/// instant (a stay's date comes before the sessions of that day).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    date: NaiveDate,
    at: Option<DateTime<Utc>>,
    text: String,
}

impl Edge {
    fn day(date: NaiveDate) -> Edge {
        Edge {
            date,
            at: None,
            text: date.to_string(),
        }
    }

    fn local(at: DateTime<Utc>, tz: Tz) -> Edge {
        let local = at.with_timezone(&tz);
        Edge {
            date: local.date_naive(),
            at: Some(at),
            text: local.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// The start and end of one item, as [`period`] shows them.
fn item_period(view: &CatalogView, property: Option<&Property>, item: &HeldItem) -> (Edge, Edge) {
    match (&item.request.item.span, property) {
        (Span::Stay(stay), _) => (Edge::day(stay.check_in()), Edge::day(stay.check_out())),
        (Span::Session { start }, Some(p)) => {
            let tz = p.time_zone;
            let end = view
                .resources
                .get(item.resource())
                .and_then(|e| match &e.resource.kind {
                    ResourceKind::Timed { schedule, .. } => schedule.occurrence_at(tz, *start),
                    ResourceKind::Nightly { .. } => None,
                })
                .map(|o| o.slot().end())
                .unwrap_or(*start);
            (Edge::local(*start, tz), Edge::local(end, tz))
        }
        (Span::Session { start }, None) => {
            let utc = |at: DateTime<Utc>| Edge {
                date: at.date_naive(),
                at: Some(at),
                text: at.to_rfc3339(),
            };
            (utc(*start), utc(*start))
        }
    }
}

#[derive(Serialize)]
struct BookingPart<'a> {
    currency: crate::money::Currency,
    id: &'a BookingId,
    status: BookingStatus,
    total: String,
}

#[derive(Serialize)]
struct Contact<'a> {
    id: Option<&'a str>,
    phone: Option<&'a str>,
}

#[derive(Serialize)]
struct Person<'a> {
    name: &'a str,
    phone: &'a str,
}

#[derive(Serialize)]
struct Period {
    end: String,
    start: String,
}

#[derive(Serialize)]
struct PropertyPart<'a> {
    id: Option<&'a str>,
    name: Option<&'a str>,
    owner: Option<&'a str>,
}

impl<'a> PropertyPart<'a> {
    fn of(property: Option<&'a Property>) -> PropertyPart<'a> {
        PropertyPart {
            id: property.map(|p| p.id.as_str()),
            name: property.map(|p| p.name.as_str()),
            owner: property.map(|p| p.owner.as_str()),
        }
    }
}
