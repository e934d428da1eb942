//! Catalog values: `Property`, `Resource`, `RatePlan` and `Block`.

use chrono::NaiveTime;
use pyo3::prelude::*;

use reservo::catalog::{Block, BlockReason, BlockSpan, Property, Resource, ResourceKind};
use reservo::ids::{BlockId, PropertyId, RatePlanId, ResourceId};
use reservo::pricing::RatePlan;
use reservo::schedule::Schedule;

use crate::convert::{Civil, Count, Day, Instant, from_data, id, to_plain};
use crate::errors::IntoPyResult;

use super::optional_repr;

value_object! {
    /// A place that sells inventory: its owner, IANA time zone and currency.
    /// Check-in and check-out times default to 15:00 and 11:00;
    /// ``owner_phone`` (E.164) gets the owner's booking alerts by SMS.
    PyProperty(Property) as "Property" {
        #[new]
        #[pyo3(signature = (id, name, owner, time_zone, currency, *, check_in_time=None, check_out_time=None, owner_phone=None))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            py: Python<'_>,
            id: &str,
            name: &str,
            owner: &str,
            time_zone: &str,
            currency: &str,
            check_in_time: Option<Civil>,
            check_out_time: Option<Civil>,
            owner_phone: Option<&str>,
        ) -> PyResult<Self> {
            let mut property = Property::new(id, name, owner, time_zone, currency).py(py)?;
            if let Some(phone) = owner_phone {
                property = property.with_owner_phone(phone).py(py)?;
            }
            if let Some(Civil(t)) = check_in_time {
                property.check_in_time = t;
            }
            if let Some(Civil(t)) = check_out_time {
                property.check_out_time = t;
            }
            Ok(property.into())
        }

        /// The property's id.
        #[getter]
        fn id(&self) -> &str {
            self.inner.id.as_str()
        }

        /// Its name, for people.
        #[getter]
        fn name(&self) -> &str {
            &self.inner.name
        }

        /// Who receives its payouts.
        #[getter]
        fn owner(&self) -> &str {
            self.inner.owner.as_str()
        }

        /// Its IANA time zone name.
        #[getter]
        fn time_zone(&self) -> &str {
            self.inner.time_zone.name()
        }

        /// The ISO 4217 currency it sells in.
        #[getter]
        fn currency(&self) -> &str {
            self.inner.currency.code()
        }

        /// Civil time guests may arrive.
        #[getter]
        fn check_in_time(&self) -> NaiveTime {
            self.inner.check_in_time
        }

        /// Civil time guests leave.
        #[getter]
        fn check_out_time(&self) -> NaiveTime {
            self.inner.check_out_time
        }

        /// The owner's mobile number for SMS alerts, if any.
        #[getter]
        fn owner_phone(&self) -> Option<&str> {
            self.inner.owner_phone.as_deref()
        }

        fn __repr__(&self) -> String {
            format!(
                "Property(id={:?}, name={:?}, time_zone={:?}, currency={:?})",
                self.inner.id.as_str(),
                self.inner.name,
                self.inner.time_zone.name(),
                self.inner.currency.code()
            )
        }
    }
}

value_object! {
    /// A bookable resource: nightly units (rooms, homes) or timed sessions
    /// (classes, tours). Build one with `Resource.nightly` or `Resource.timed`.
    PyResource(Resource) as "Resource" {
        /// A resource sold by the night, with `units` identical units.
        #[staticmethod]
        #[pyo3(signature = (id, *, property, name, rate_plan, max_occupancy, units=Count(1)), text_signature = "(id, *, property, name, rate_plan, max_occupancy, units=1)")]
        fn nightly(
            id: &str,
            property: &str,
            name: &str,
            rate_plan: &str,
            max_occupancy: Count<u32>,
            units: Count<u32>,
        ) -> PyResult<Self> {
        let max_occupancy = max_occupancy.0;
        let units = units.0;
            resource(id, property, name, rate_plan, ResourceKind::Nightly { units, max_occupancy })
        }

        /// A resource sold by the seat in sessions. `schedule` is the
        /// core's schedule as data: `{"rules": [{"weekdays": ["Mon"],
        /// "start_times": ["09:00"], "duration_minutes": 90, "dates":
        /// {"from": "2026-01-01"}}], "buffers": {...}}`.
        #[staticmethod]
        #[pyo3(signature = (id, *, property, name, rate_plan, seats, schedule))]
        fn timed(
            id: &str,
            property: &str,
            name: &str,
            rate_plan: &str,
            seats: Count<u32>,
            schedule: &Bound<'_, PyAny>,
        ) -> PyResult<Self> {
        let seats = seats.0;
            let schedule: Schedule = from_data(schedule, "schedule")?;
            resource(id, property, name, rate_plan, ResourceKind::Timed { seats, schedule })
        }

        /// The resource's id.
        #[getter]
        fn id(&self) -> &str {
            self.inner.id.as_str()
        }

        /// The property it belongs to.
        #[getter]
        fn property(&self) -> &str {
            self.inner.property.as_str()
        }

        /// Its name, for people.
        #[getter]
        fn name(&self) -> &str {
            &self.inner.name
        }

        /// The rate plan quotes use unless they name another.
        #[getter]
        fn rate_plan(&self) -> &str {
            self.inner.rate_plan.as_str()
        }

        /// `"nightly"` or `"timed"`.
        #[getter]
        fn kind(&self) -> &'static str {
            if self.inner.is_nightly() { "nightly" } else { "timed" }
        }

        /// Units (nightly) or seats (timed) per night or session.
        #[getter]
        fn capacity(&self) -> u32 {
            self.inner.capacity()
        }

        /// The most guests one unit takes (nightly only).
        #[getter]
        fn max_occupancy(&self) -> Option<u32> {
            match self.inner.kind {
                ResourceKind::Nightly { max_occupancy, .. } => Some(max_occupancy),
                ResourceKind::Timed { .. } => None,
            }
        }

        /// The schedule as data (timed only).
        #[getter]
        fn schedule<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
            match &self.inner.kind {
                ResourceKind::Timed { schedule, .. } => to_plain(py, schedule).map(Some),
                ResourceKind::Nightly { .. } => Ok(None),
            }
        }

        fn __repr__(&self) -> String {
            format!(
                "Resource(id={:?}, property={:?}, kind={:?}, capacity={})",
                self.inner.id.as_str(),
                self.inner.property.as_str(),
                self.kind(),
                self.inner.capacity()
            )
        }
    }
}

fn resource(
    id_: &str,
    property: &str,
    name: &str,
    rate_plan: &str,
    kind: ResourceKind,
) -> PyResult<PyResource> {
    let resource = Resource {
        id: id::<ResourceId>(id_)?,
        property: id::<PropertyId>(property)?,
        name: name.to_owned(),
        rate_plan: id::<RatePlanId>(rate_plan)?,
        kind,
    };
    Python::attach(|py| resource.validate().py(py))?;
    Ok(resource.into())
}

value_object! {
    /// A rate plan: base price, seasons, weekday rates, length-of-stay
    /// discounts, occupancy, fees and taxes, validated and compiled by the
    /// core. Build one with `RatePlan.from_dict` or `RatePlan.from_json`.
    PyRatePlan(RatePlan) as "RatePlan" {
        /// A rate plan from the core's JSON form as a dict (amounts as
        /// `Decimal` or strings).
        #[staticmethod]
        fn from_dict(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
            from_data::<RatePlan>(spec, "rate_plan").map(PyRatePlan::from)
        }

        /// A rate plan from the core's JSON text.
        #[staticmethod]
        fn from_json(py: Python<'_>, json: &str) -> PyResult<Self> {
            RatePlan::from_json(json).py(py).map(PyRatePlan::from)
        }

        /// The plan's id.
        #[getter]
        fn id(&self) -> &str {
            self.inner.id().as_str()
        }

        /// The ISO 4217 currency it prices in.
        #[getter]
        fn currency(&self) -> String {
            self.inner.currency().code().to_owned()
        }

        fn __repr__(&self) -> String {
            format!("RatePlan(id={:?}, currency={:?})", self.inner.id().as_str(), self.inner.currency().code())
        }
    }
}

value_object! {
    /// Capacity taken away from a resource: nights of a nightly resource,
    /// or a period of a timed one. `units=None` blocks it all.
    PyBlock(Block) as "Block" {
        /// A block of the nights `[start, end)` of a nightly resource.
        #[staticmethod]
        #[pyo3(signature = (id, *, resource, start, end, units=None, reason="maintenance"))]
        fn nights(id: &str, resource: &str, start: Day, end: Day, units: Option<Count<u32>>, reason: &str) -> PyResult<Self> {
        let start = start.0;
        let end = end.0;
            block(id, resource, BlockSpan::Nights { from: start, to: end }, units.map(|u| u.0), reason)
        }

        /// A block of the instants `[start, end)` of a timed resource.
        #[staticmethod]
        #[pyo3(signature = (id, *, resource, start, end, units=None, reason="maintenance"))]
        fn period(id: &str, resource: &str, start: Instant, end: Instant, units: Option<Count<u32>>, reason: &str) -> PyResult<Self> {
            block(id, resource, BlockSpan::Period { start: start.0, end: end.0 }, units.map(|u| u.0), reason)
        }

        /// The block's id.
        #[getter]
        fn id(&self) -> &str {
            self.inner.id.as_str()
        }

        /// The resource it blocks.
        #[getter]
        fn resource(&self) -> &str {
            self.inner.resource.as_str()
        }

        /// Units or seats blocked; `None` for all.
        #[getter]
        fn units(&self) -> Option<u32> {
            self.inner.units
        }

        /// `"maintenance"`, `"owner_use"` or the reason given.
        #[getter]
        fn reason(&self) -> String {
            reason_name(&self.inner.reason)
        }

        fn __repr__(&self) -> String {
            let span = match self.inner.span {
                BlockSpan::Nights { from, to } => format!("nights {from} to {to}"),
                BlockSpan::Period { start, end } => format!("{} to {}", start.to_rfc3339(), end.to_rfc3339()),
            };
            format!(
                "Block(id={:?}, resource={:?}, {span}, units={}, reason={:?})",
                self.inner.id.as_str(),
                self.inner.resource.as_str(),
                optional_repr(self.inner.units),
                reason_name(&self.inner.reason)
            )
        }
    }
}

fn reason_name(reason: &BlockReason) -> String {
    match reason {
        BlockReason::Maintenance => "maintenance".into(),
        BlockReason::OwnerUse => "owner_use".into(),
        BlockReason::Other(text) => text.clone(),
    }
}

fn block(
    id_: &str,
    resource: &str,
    span: BlockSpan,
    units: Option<u32>,
    reason: &str,
) -> PyResult<PyBlock> {
    let reason = match reason {
        "maintenance" => BlockReason::Maintenance,
        "owner_use" => BlockReason::OwnerUse,
        other => BlockReason::Other(other.to_owned()),
    };
    Ok(Block {
        id: id::<BlockId>(id_)?,
        resource: id::<ResourceId>(resource)?,
        span,
        units,
        reason,
    }
    .into())
}
