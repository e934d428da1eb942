//! Holds, bookings and outbox events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use serde::{Deserialize, Serialize};

use reservo::engine::{Booking, HeldItem, Hold, HoldState, StatusChange};
use reservo::ports::StoredEvent;

use super::money::{PyMoney, money_repr};
use super::payments::{PyBookingMoney, PyBookingTerms};
use super::request::{PyCustomer, PyItem};
use super::results::PyQuote;
use crate::convert::{Instant, from_json_value};

fn state_name(state: &HoldState) -> &'static str {
    match state {
        HoldState::Active => "active",
        HoldState::Confirmed { .. } => "confirmed",
        HoldState::Released { .. } => "released",
        HoldState::Expired { .. } => "expired",
    }
}

value_object! {
    /// A two-phase reservation of inventory with a time to live. It
    /// resolves once: confirmed, released or expired.
    PyHold(Hold) as "Hold" {
        /// The hold's id.
        #[getter]
        fn id(&self) -> &str {
            self.inner.id.as_str()
        }

        /// The held items, in request order, each with its price.
        #[getter]
        fn items(&self) -> Vec<PyHeldItem> {
            super::wrap_all(self.inner.items.clone())
        }

        /// The sum of the items' totals.
        #[getter]
        fn total(&self) -> PyMoney {
            self.inner.total.into()
        }

        /// When it was made.
        #[getter]
        fn created_at(&self) -> DateTime<Utc> {
            self.inner.created_at
        }

        /// When it stops taking inventory, unless resolved first.
        #[getter]
        fn expires_at(&self) -> DateTime<Utc> {
            self.inner.expires_at
        }

        /// The latest `expires_at` an extension may reach.
        #[getter]
        fn max_until(&self) -> DateTime<Utc> {
            self.inner.max_until
        }

        /// The state as last written: `active`, `confirmed`, `released` or
        /// `expired`. Use `state_at(now)` for the truth at an instant.
        #[getter]
        fn state(&self) -> &'static str {
            state_name(&self.inner.state)
        }

        /// The state at `now`: an active hold past its expiry is `expired`.
        fn state_at(&self, now: Instant) -> &'static str {
            state_name(&self.inner.state_at(now.0))
        }

        /// Who is checking out, if the hold was made with a customer.
        #[getter]
        fn customer(&self) -> Option<PyCustomer> {
            self.inner.customer.clone().map(PyCustomer::from)
        }

        /// The host's own entries on the hold (a cart id), as a new dict;
        /// the booking confirmed from it starts with them.
        #[getter]
        fn metadata(&self) -> BTreeMap<&str, &str> {
            self.inner.metadata.iter().collect()
        }

        /// The booking it became, once confirmed.
        #[getter]
        fn booking(&self) -> Option<&str> {
            match &self.inner.state {
                HoldState::Confirmed { booking, .. } => Some(booking.as_str()),
                _ => None,
            }
        }

        fn __repr__(&self) -> String {
            format!("Hold(id={:?}, state={:?}, total={}, expires_at={})", self.id(), self.state(), money_repr(&self.inner.total), self.inner.expires_at.to_rfc3339())
        }
    }
}

value_object! {
    /// One held or booked item with the quote snapshotted when it was held.
    PyHeldItem(HeldItem) as "HeldItem" {
        /// The item asked for.
        #[getter]
        fn item(&self) -> PyItem {
            self.inner.request.item.clone().into()
        }

        /// The resource.
        #[getter]
        fn resource(&self) -> &str {
            self.inner.resource().as_str()
        }

        /// The promo code it was priced with, if any.
        #[getter]
        fn promo_code(&self) -> Option<&str> {
            self.inner.request.promo_code.as_deref()
        }

        /// Its price, which confirmation keeps.
        #[getter]
        fn quote(&self) -> PyQuote {
            self.inner.quote.clone().into()
        }

        fn __repr__(&self) -> String {
            format!("HeldItem(resource={:?}, total={})", self.resource(), money_repr(&self.inner.quote.total()))
        }
    }
}

value_object! {
    /// A confirmed booking with its customer, items and status history.
    PyBooking(Booking) as "Booking" {
        /// The booking's id.
        #[getter]
        fn id(&self) -> &str {
            self.inner.id.as_str()
        }

        /// The hold it was confirmed from.
        #[getter]
        fn hold(&self) -> &str {
            self.inner.hold.as_str()
        }

        /// `pending_payment`, `confirmed`, `checked_in`, `completed`,
        /// `cancelled` or `no_show`.
        #[getter]
        fn status(&self) -> &'static str {
            self.inner.status.as_str()
        }

        /// Who it is for.
        #[getter]
        fn customer(&self) -> PyCustomer {
            self.inner.customer.clone().into()
        }

        /// What was booked, each with its snapshotted quote.
        #[getter]
        fn items(&self) -> Vec<PyHeldItem> {
            super::wrap_all(self.inner.items.clone())
        }

        /// The sum of the items' totals.
        #[getter]
        fn total(&self) -> PyMoney {
            self.inner.total.into()
        }

        /// When it was confirmed.
        #[getter]
        fn created_at(&self) -> DateTime<Utc> {
            self.inner.created_at
        }

        /// Every status it has had, oldest first.
        #[getter]
        fn history(&self) -> Vec<PyStatusChange> {
            super::wrap_all(self.inner.history.clone())
        }

        /// Who sold it, when it starts, and the cancellation policy and
        /// commission plan snapshotted when it was made.
        #[getter]
        fn terms(&self) -> PyBookingTerms {
            self.inner.terms.clone().into()
        }

        /// Its payments, refunds, commission ledger and change fees.
        #[getter]
        fn money(&self) -> PyBookingMoney {
            self.inner.money.clone().into()
        }

        /// What the guest has paid through the engine, net of refunds.
        #[getter]
        fn paid(&self) -> PyMoney {
            self.inner.money.paid(self.inner.total.currency()).into()
        }

        /// The host's own entries (order id, invoice, notes), as a new
        /// dict: changing it changes nothing; use
        /// `Engine.set_booking_metadata`.
        #[getter]
        fn metadata(&self) -> BTreeMap<&str, &str> {
            self.inner.metadata.iter().collect()
        }

        fn __repr__(&self) -> String {
            format!("Booking(id={:?}, status={:?}, total={}, customer={:?})", self.id(), self.status(), money_repr(&self.inner.total), self.inner.customer.name)
        }
    }
}

value_object! {
    /// One change of a booking's status.
    PyStatusChange(StatusChange) as "StatusChange" {
        /// The new status.
        #[getter]
        fn status(&self) -> &'static str {
            self.inner.status.as_str()
        }

        /// When.
        #[getter]
        fn at(&self) -> DateTime<Utc> {
            self.inner.at
        }

        fn __repr__(&self) -> String {
            format!("StatusChange({:?}, at={})", self.status(), self.inner.at.to_rfc3339())
        }
    }
}

/// An outbox event as the binding shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    seq: u64,
    kind: String,
    payload: serde_json::Value,
}

impl From<StoredEvent> for EventRecord {
    fn from(event: StoredEvent) -> Self {
        let payload = serde_json::from_slice(&event.payload).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&event.payload).into_owned())
        });
        EventRecord {
            seq: event.seq,
            kind: event.kind,
            payload,
        }
    }
}

value_object! {
    /// A domain event from the store's outbox, in commit order.
    PyEvent(EventRecord) as "Event" {
        /// Position in the outbox, from 1; read on with `events(after=seq)`.
        #[getter]
        fn seq(&self) -> u64 {
            self.inner.seq
        }

        /// The kind, such as `booking.confirmed`.
        #[getter]
        fn kind(&self) -> &str {
            &self.inner.kind
        }

        /// The event's body as plain data.
        #[getter]
        fn payload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            from_json_value(py, &self.inner.payload)
        }

        fn __repr__(&self) -> String {
            format!("Event(seq={}, kind={:?})", self.inner.seq, self.inner.kind)
        }
    }
}
