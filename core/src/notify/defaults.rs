//! Reservo's default English SMS templates, as data.
//!
//! Owns the text of [`SmsTemplates::defaults`](super::SmsTemplates::defaults)
//! and nothing else. Every placeholder here must be a field documented in
//! the payload section of [`crate::notify`]; a test checks them against the
//! example payloads there.

use super::Audience::{self, Broker, Guest, Owner};

/// `(event kind, audience, template)`.
pub(super) const TEMPLATES: &[(&str, Audience, &str)] = &[
    (
        "booking.confirmed",
        Guest,
        "Hi {customer.name}, your booking at {property.name} from {period.start} to \
         {period.end} is confirmed. Ref {booking.id}",
    ),
    (
        "booking.confirmed",
        Owner,
        "New booking {booking.id} at {property.name}: {customer.name}, {period.start} to \
         {period.end}.",
    ),
    (
        "booking.confirmed",
        Broker,
        "Booking {booking.id} confirmed at {property.name} for {customer.name}, \
         {period.start} to {period.end}.",
    ),
    (
        "booking.modified",
        Guest,
        "Hi {customer.name}, your booking {booking.id} at {property.name} now runs from \
         {period.start} to {period.end}.",
    ),
    (
        "booking.modified",
        Owner,
        "Booking {booking.id} at {property.name} changed: now {period.start} to {period.end}.",
    ),
    (
        "booking.modified",
        Broker,
        "Booking {booking.id} at {property.name} changed: now {period.start} to {period.end}.",
    ),
    (
        "booking.cancelled",
        Guest,
        "Hi {customer.name}, your booking {booking.id} at {property.name} from {period.start} \
         to {period.end} is cancelled.",
    ),
    (
        "booking.cancelled",
        Owner,
        "Booking {booking.id} at {property.name} ({period.start} to {period.end}) was cancelled.",
    ),
    (
        "booking.cancelled",
        Broker,
        "Booking {booking.id} at {property.name} ({period.start} to {period.end}) was cancelled.",
    ),
    (
        "refund.issued",
        Guest,
        "Hi {customer.name}, a refund of {refund.amount} {refund.currency} for booking \
         {booking.id} is on its way.",
    ),
];
