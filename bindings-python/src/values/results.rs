//! What the engine answers: quotes, search hits and availability.

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;

use reservo::engine::{NightAvailability, Quoted, SearchHit, SessionAvailability};
use reservo::pricing::{Quote, QuoteLine};

use super::money::{PyMoney, money_repr};
use crate::convert::to_plain;

value_object! {
    /// A priced stay or session: lines in a fixed order, and totals.
    /// `total = subtotal + taxes`; `included_taxes` are already in the subtotal.
    PyQuote(Quote) as "Quote" {
        /// The rate plan that priced it.
        #[getter]
        fn rate_plan(&self) -> &str {
            self.inner.rate_plan().as_str()
        }

        /// The ISO 4217 currency.
        #[getter]
        fn currency(&self) -> String {
            self.inner.currency().code().to_owned()
        }

        /// The lines, each naming the rule that produced it.
        #[getter]
        fn lines(&self) -> Vec<PyQuoteLine> {
            super::wrap_all(self.inner.lines().to_vec())
        }

        /// Every line that is not a tax.
        #[getter]
        fn subtotal(&self) -> PyMoney {
            self.inner.subtotal().into()
        }

        /// Taxes added on top.
        #[getter]
        fn taxes(&self) -> PyMoney {
            self.inner.taxes().into()
        }

        /// Taxes already contained in the subtotal.
        #[getter]
        fn included_taxes(&self) -> PyMoney {
            self.inner.included_taxes().into()
        }

        /// What the guest pays.
        #[getter]
        fn total(&self) -> PyMoney {
            self.inner.total().into()
        }

        /// Every line that is neither a fee nor a tax: rates, occupancy
        /// and discounts.
        #[getter]
        fn accommodation(&self) -> PyMoney {
            self.inner.accommodation().into()
        }

        /// What each night of a stay costs, in night order: its rate and
        /// occupancy less its share of discounts; sums to `accommodation`.
        /// Empty for a session.
        #[getter]
        fn nights(&self) -> Vec<PyMoney> {
            self.inner.nights().iter().copied().map(PyMoney::from).collect()
        }

        fn __repr__(&self) -> String {
            format!("Quote(rate_plan={:?}, total={}, lines={})", self.rate_plan(), money_repr(&self.inner.total()), self.inner.lines().len())
        }
    }
}

value_object! {
    /// One line of a quote; discounts are negative.
    PyQuoteLine(QuoteLine) as "QuoteLine" {
        /// The kind of rule: `base`, `season`, `weekday`, `length_of_stay`,
        /// `occupancy`, `fee`, `tax` or `promo`.
        #[getter]
        fn rule_kind(&self, py: Python<'_>) -> PyResult<String> {
            to_plain(py, &self.inner.rule.kind)?.extract()
        }

        /// The rule's id in the rate plan (or the promo code).
        #[getter]
        fn rule_id(&self) -> &str {
            &self.inner.rule.id
        }

        /// What it is, for people.
        #[getter]
        fn description(&self) -> &str {
            &self.inner.description
        }

        /// Nights, guest-nights, or 1.
        #[getter]
        fn quantity(&self) -> u32 {
            self.inner.quantity
        }

        /// The amount of one unit.
        #[getter]
        fn unit_amount(&self) -> PyMoney {
            self.inner.unit_amount.into()
        }

        /// `quantity × unit_amount`.
        #[getter]
        fn amount(&self) -> PyMoney {
            self.inner.amount.into()
        }

        /// Whether it is an inclusive tax (shown, not added).
        #[getter]
        fn included(&self) -> bool {
            self.inner.included
        }

        /// `False` only for a fee the rate plan marks non-refundable
        /// (`"refundable": false`): a cancellation keeps its amount.
        #[getter]
        fn refundable(&self) -> bool {
            self.inner.refundable
        }

        fn __repr__(&self) -> String {
            format!("QuoteLine({:?}, {} x {} = {})", self.inner.description, self.inner.quantity, self.inner.unit_amount, self.inner.amount)
        }
    }
}

value_object! {
    /// A quote and the units or seats left for it right now.
    PyQuoted(Quoted) as "Quoted" {
        /// The priced lines and totals.
        #[getter]
        fn quote(&self) -> PyQuote {
            self.inner.quote.clone().into()
        }

        /// Units (on the tightest night) or seats left.
        #[getter]
        fn available(&self) -> u32 {
            self.inner.available
        }

        fn __repr__(&self) -> String {
            format!("Quoted(total={}, available={})", money_repr(&self.inner.quote.total()), self.inner.available)
        }
    }
}

value_object! {
    /// A resource (and, for timed resources, a session) that can be booked,
    /// with its price on the default rate plan.
    PySearchHit(SearchHit) as "SearchHit" {
        /// The resource.
        #[getter]
        fn resource(&self) -> &str {
            self.inner.resource.as_str()
        }

        /// Its property.
        #[getter]
        fn property(&self) -> &str {
            self.inner.property.as_str()
        }

        /// The session's start (timed resources).
        #[getter]
        fn start(&self) -> Option<DateTime<Utc>> {
            self.inner.slot.map(|s| s.start())
        }

        /// The session's end (timed resources).
        #[getter]
        fn end(&self) -> Option<DateTime<Utc>> {
            self.inner.slot.map(|s| s.end())
        }

        /// Units or seats left.
        #[getter]
        fn available(&self) -> u32 {
            self.inner.available
        }

        /// The price.
        #[getter]
        fn total(&self) -> PyMoney {
            self.inner.total.into()
        }

        fn __repr__(&self) -> String {
            format!("SearchHit(resource={:?}, start={}, available={}, total={})", self.resource(), self.start().map_or_else(|| "None".to_owned(), |s| s.to_rfc3339()), self.inner.available, money_repr(&self.inner.total))
        }
    }
}

value_object! {
    /// What is left of one night of a nightly resource.
    PyNightAvailability(NightAvailability) as "NightAvailability" {
        /// The night (the date it starts on).
        #[getter]
        fn date(&self) -> NaiveDate {
            self.inner.date
        }

        /// Units the resource has.
        #[getter]
        fn capacity(&self) -> u32 {
            self.inner.capacity
        }

        /// Units taken by blocks.
        #[getter]
        fn blocked(&self) -> u32 {
            self.inner.blocked
        }

        /// Units under live holds.
        #[getter]
        fn held(&self) -> u32 {
            self.inner.held
        }

        /// Units booked.
        #[getter]
        fn booked(&self) -> u32 {
            self.inner.booked
        }

        /// Units that can still be sold.
        #[getter]
        fn available(&self) -> u32 {
            self.inner.available
        }

        fn __repr__(&self) -> String {
            let n = &self.inner;
            format!("NightAvailability({}, available={}, held={}, booked={}, blocked={}, capacity={})", n.date, n.available, n.held, n.booked, n.blocked, n.capacity)
        }
    }
}

value_object! {
    /// What is left of one session of a timed resource.
    PySessionAvailability(SessionAvailability) as "SessionAvailability" {
        /// The session's civil date in the property's time zone.
        #[getter]
        fn local_date(&self) -> NaiveDate {
            self.inner.local_date
        }

        /// When it starts (UTC).
        #[getter]
        fn start(&self) -> DateTime<Utc> {
            self.inner.slot.start()
        }

        /// When it ends (UTC).
        #[getter]
        fn end(&self) -> DateTime<Utc> {
            self.inner.slot.end()
        }

        /// Seats the session has.
        #[getter]
        fn capacity(&self) -> u32 {
            self.inner.capacity
        }

        /// Seats taken by blocks.
        #[getter]
        fn blocked(&self) -> u32 {
            self.inner.blocked
        }

        /// Seats under live holds.
        #[getter]
        fn held(&self) -> u32 {
            self.inner.held
        }

        /// Seats booked.
        #[getter]
        fn booked(&self) -> u32 {
            self.inner.booked
        }

        /// Seats that can still be sold.
        #[getter]
        fn available(&self) -> u32 {
            self.inner.available
        }

        fn __repr__(&self) -> String {
            let s = &self.inner;
            format!("SessionAvailability({}, available={}, held={}, booked={}, blocked={}, capacity={})", s.slot.start().to_rfc3339(), s.available, s.held, s.booked, s.blocked, s.capacity)
        }
    }
}
