//! What a request asks for: `Party`, `Item`, `QuoteRequest`, `Customer`.

use chrono::NaiveDate;
use pyo3::prelude::*;

use reservo::booking::Customer;
use reservo::engine::{Item, QuoteRequest, Span};
use reservo::ids::{RatePlanId, ResourceId};
use reservo::party::Party;
use reservo::time::Stay;

use crate::convert::{Count, Day, Instant, id};
use crate::errors::IntoPyResult;

use super::optional_repr;

value_object! {
    /// Who is coming: adults and the ages (0-17) of the children.
    PyParty(Party) as "Party" {
        #[new]
        #[pyo3(signature = (adults, children_ages=Vec::new()))]
        fn new(py: Python<'_>, adults: Count<u32>, children_ages: Vec<Count<u8>>) -> PyResult<Self> {
        let adults = adults.0;
            let children_ages = children_ages.into_iter().map(|age| age.0).collect();
            Party::new(adults, children_ages).py(py).map(PyParty::from)
        }

        /// Number of adults.
        #[getter]
        fn adults(&self) -> u32 {
            self.inner.adult_count()
        }

        /// Ages of the children, as given.
        #[getter]
        fn children_ages(&self) -> Vec<u32> {
            // As `u32`: pyo3 hands a `Vec<u8>` over as `bytes`.
            self.inner.children_ages().iter().map(|age| u32::from(*age)).collect()
        }

        /// Number of guests.
        #[getter]
        fn size(&self) -> u32 {
            self.inner.size()
        }

        fn __repr__(&self) -> String {
            format!("Party(adults={}, children_ages={:?})", self.inner.adult_count(), self.inner.children_ages())
        }
    }
}

value_object! {
    /// One thing to price or reserve: a stay in one unit of a nightly
    /// resource, or seats in one session of a timed resource.
    PyItem(Item) as "Item" {
        /// One unit of a nightly resource for the nights `[check_in, check_out)`.
        #[staticmethod]
        #[pyo3(signature = (resource, *, check_in, check_out, party))]
        fn stay(py: Python<'_>, resource: &str, check_in: Day, check_out: Day, party: PyRef<'_, PyParty>) -> PyResult<Self> {
        let check_in = check_in.0;
        let check_out = check_out.0;
            let stay = Stay::new(check_in, check_out).py(py)?;
            Ok(Item::stay(id::<ResourceId>(resource)?, stay, party.inner.clone()).into())
        }

        /// Seats for the party in the session of `resource` starting at `start`.
        #[staticmethod]
        #[pyo3(signature = (resource, *, start, party))]
        fn session(resource: &str, start: Instant, party: PyRef<'_, PyParty>) -> PyResult<Self> {
            Ok(Item::session(id::<ResourceId>(resource)?, start.0, party.inner.clone()).into())
        }

        /// The resource.
        #[getter]
        fn resource(&self) -> &str {
            self.inner.resource.as_str()
        }

        /// Who is coming.
        #[getter]
        fn party(&self) -> PyParty {
            self.inner.party.clone().into()
        }

        /// The first night (stays only).
        #[getter]
        fn check_in(&self) -> Option<NaiveDate> {
            match &self.inner.span {
                Span::Stay(stay) => Some(stay.check_in()),
                Span::Session { .. } => None,
            }
        }

        /// The day the guests leave (stays only).
        #[getter]
        fn check_out(&self) -> Option<NaiveDate> {
            match &self.inner.span {
                Span::Stay(stay) => Some(stay.check_out()),
                Span::Session { .. } => None,
            }
        }

        /// The session's start, in UTC (sessions only).
        #[getter]
        fn start(&self) -> Option<chrono::DateTime<chrono::Utc>> {
            match &self.inner.span {
                Span::Stay(_) => None,
                Span::Session { start } => Some(*start),
            }
        }

        fn __repr__(&self) -> String {
            let span = match &self.inner.span {
                Span::Stay(stay) => format!("check_in={}, check_out={}", stay.check_in(), stay.check_out()),
                Span::Session { start } => format!("start={}", start.to_rfc3339()),
            };
            format!("Item(resource={:?}, {span}, party_size={})", self.inner.resource.as_str(), self.inner.party.size())
        }
    }
}

value_object! {
    /// An item with the rate plan and promo code to price it with.
    PyQuoteRequest(QuoteRequest) as "QuoteRequest" {
        #[new]
        #[pyo3(signature = (item, *, rate_plan=None, promo_code=None))]
        fn new(item: PyRef<'_, PyItem>, rate_plan: Option<&str>, promo_code: Option<String>) -> PyResult<Self> {
            Ok(QuoteRequest {
                item: item.inner.clone(),
                rate_plan: rate_plan.map(id::<RatePlanId>).transpose()?,
                promo_code,
            }
            .into())
        }

        /// The item.
        #[getter]
        fn item(&self) -> PyItem {
            self.inner.item.clone().into()
        }

        /// A rate plan other than the resource's default, if named.
        #[getter]
        fn rate_plan(&self) -> Option<&str> {
            self.inner.rate_plan.as_ref().map(RatePlanId::as_str)
        }

        /// The promo code as the guest typed it, if any.
        #[getter]
        fn promo_code(&self) -> Option<&str> {
            self.inner.promo_code.as_deref()
        }

        fn __repr__(&self) -> String {
            format!(
                "QuoteRequest({}, rate_plan={}, promo_code={})",
                PyItem::from(self.inner.item.clone()).__repr__(),
                optional_repr(self.rate_plan()),
                optional_repr(self.promo_code())
            )
        }
    }
}

value_object! {
    /// Who a booking is for: a name, an E.164 phone and an optional email.
    PyCustomer(Customer) as "Customer" {
        #[new]
        #[pyo3(signature = (name, phone, email=None))]
        fn new(py: Python<'_>, name: &str, phone: &str, email: Option<&str>) -> PyResult<Self> {
            Customer::new(name, phone, email).py(py).map(PyCustomer::from)
        }

        /// Full name.
        #[getter]
        fn name(&self) -> &str {
            &self.inner.name
        }

        /// Mobile number in E.164 form.
        #[getter]
        fn phone(&self) -> &str {
            &self.inner.phone
        }

        /// Email address, if given.
        #[getter]
        fn email(&self) -> Option<&str> {
            self.inner.email.as_deref()
        }

        fn __repr__(&self) -> String {
            format!(
                "Customer(name={:?}, phone={:?}, email={})",
                self.inner.name,
                self.inner.phone,
                optional_repr(self.inner.email.as_deref())
            )
        }
    }
}

/// A hold's items: `Item`s (default plan, no promo) or `QuoteRequest`s.
pub fn quote_requests(items: &Bound<'_, PyAny>) -> PyResult<Vec<QuoteRequest>> {
    items
        .try_iter()?
        .map(|entry| {
            let entry = entry?;
            if let Ok(request) = entry.cast::<PyQuoteRequest>() {
                return Ok(request.get().inner.clone());
            }
            let item = entry.cast::<PyItem>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("hold items must be Item or QuoteRequest")
            })?;
            Ok(QuoteRequest::new(item.get().inner.clone()))
        })
        .collect()
}
