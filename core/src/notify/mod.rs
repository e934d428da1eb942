//! Notifications: SMS to the guest, owner and broker for every booking
//! event that has a template.
//!
//! Every state change of a booking appends a domain event to the store's
//! outbox in the same commit (see [`crate::ports::Storage`]). This module
//! turns those events into text messages:
//!
//! * [`SmsTemplates`] holds a [`Template`] per event kind and [`Audience`],
//!   with `{dotted.path}` placeholders filled from the event's JSON payload,
//!   and the payload path of each audience's phone number ([`PhoneNumber`],
//!   E.164). Kinds are data: a new kind needs a template, not code.
//! * [`Notifier`] reads the outbox from a durable cursor, queues one
//!   [`Delivery`] per audience, and sends it through the host's
//!   [`SmsSender`](crate::ports::SmsSender) at least once, under a dedupe key
//!   that is stable per (event, audience), with exponential backoff
//!   ([`RetryPolicy`]) and a claim lease ([`NotifierConfig`]). Its state
//!   lives in the same store under `sms/`.
//!
//! It must never write to anything but its own `sms/` records and never
//! fail a booking: it only reads the outbox, so a failed SMS is recorded as
//! a failed [`Delivery`] and nothing else changes.
//!
//! # Event payloads
//!
//! The default templates ([`SmsTemplates::defaults`]) read these fields;
//! the engine's events carry them (and may carry more). `period` is the
//! booked dates for a stay (check-in and check-out dates) or the local
//! start and end of a slot, as text in the property's time zone (over
//! several items, the earliest start and the latest end). Amounts
//! (`booking.total`, `refund.amount`, `payment.amount`) are decimal
//! strings with at least the currency's minor-unit digits (`50.00` EUR,
//! `1500` JPY), never floats. `broker`
//! (and any audience's phone) may be absent: that audience then gets
//! nothing.
//!
//! `hold.*` events (`hold.created`, `hold.released`, `hold.extended`,
//! `hold.updated`, `hold.expired`) carry `hold`, `total`, `expires_at`,
//! `resources`, `property` and `period`, plus `customer` (`name`, `phone`)
//! and `metadata` when the hold has them (from its request or a later
//! `update_hold`). No default template reads
//! them; a host that holds with a customer can add one, for example an
//! abandoned-cart reminder on `hold.expired` to the guest (a hold without
//! a customer has no `customer.phone`, so its guest gets nothing).
//!
//! | kind | fields used |
//! |---|---|
//! | `booking.confirmed`, `booking.modified`, `booking.cancelled` | `booking.id`, `property.name`, `period.start`, `period.end`, `customer.name`, `customer.phone`, `owner.phone`, `broker.phone` |
//! | `refund.issued` | `booking.id`, `refund.amount`, `refund.currency`, `customer.name`, `customer.phone` |
//!
//! ```
//! use reservo::notify::{Audience, SmsTemplates};
//! use serde_json::json;
//!
//! // booking.confirmed, booking.modified (period: the new dates) and
//! // booking.cancelled.
//! let booking = json!({
//!     "booking":  {"id": "bk_01JD4Z7Q", "status": "confirmed"},
//!     "property": {"id": "villa-sol", "name": "Villa Sol"},
//!     "period":   {"start": "2026-07-10", "end": "2026-07-13"},
//!     "customer": {"name": "Ana Lima", "phone": "+351912345678"},
//!     "owner":    {"name": "Rui Costa", "phone": "+351934567890"},
//!     "broker":   {"name": "Sunny Stays", "phone": "+442071234567"}
//! });
//! // refund.issued: the amount as a decimal string, never a float.
//! let refund = json!({
//!     "booking":  {"id": "bk_01JD4Z7Q"},
//!     "refund":   {"amount": "120.50", "currency": "EUR"},
//!     "customer": {"name": "Ana Lima", "phone": "+351912345678"}
//! });
//!
//! let templates = SmsTemplates::defaults();
//! let examples = [
//!     ("booking.confirmed", &booking),
//!     ("booking.modified", &booking),
//!     ("booking.cancelled", &booking),
//!     ("refund.issued", &refund),
//! ];
//! for (kind, payload) in examples {
//!     for audience in Audience::ALL {
//!         if let Some(rendered) = templates.render(kind, audience, payload) {
//!             rendered.unwrap(); // every default placeholder is in the example
//!         }
//!     }
//! }
//! let guest = templates.render("booking.confirmed", Audience::Guest, &booking);
//! assert_eq!(
//!     guest.unwrap().unwrap().body,
//!     "Hi Ana Lima, your booking at Villa Sol from 2026-07-10 to 2026-07-13 \
//!      is confirmed. Ref bk_01JD4Z7Q"
//! );
//! ```

mod defaults;
mod delivery;
mod dispatcher;
mod phone;
mod records;
mod retry;
mod template;

use serde::{Deserialize, Serialize};

pub use delivery::{Delivery, DeliveryState};
pub use dispatcher::{DispatchReport, Notifier, NotifierBuilder};
pub use phone::PhoneNumber;
pub use retry::{NotifierConfig, RetryPolicy};
pub use template::{PayloadPath, Rendered, SmsTemplates, Template};

/// Who a message is for.
///
/// ```
/// use reservo::notify::Audience;
/// assert_eq!(Audience::Broker.as_str(), "broker");
/// assert_eq!(Audience::ALL.len(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The customer who booked.
    Guest,
    /// The owner of the property.
    Owner,
    /// The broker or agency that sold the booking, if any.
    Broker,
}

impl Audience {
    /// Every audience, in the order deliveries are queued.
    pub const ALL: [Audience; 3] = [Audience::Guest, Audience::Owner, Audience::Broker];

    /// The audience named `name` (`guest`, `owner` or `broker`), as
    /// [`Audience::as_str`] writes it.
    ///
    /// ```
    /// use reservo::notify::Audience;
    /// assert_eq!(Audience::parse("owner").unwrap(), Audience::Owner);
    /// assert_eq!(Audience::parse("customer").unwrap_err().code(), "INVALID_INPUT");
    /// ```
    pub fn parse(name: &str) -> crate::Result<Audience> {
        Audience::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| {
                crate::Error::invalid(
                    "audience",
                    format!("must be 'guest', 'owner' or 'broker', got {name:?}"),
                )
            })
    }

    /// The audience's name in keys, dedupe keys and payload docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Guest => "guest",
            Audience::Owner => "owner",
            Audience::Broker => "broker",
        }
    }
}
