//! The engine as one native class whose every operation returns a
//! [`Pending`] call: the facade's `Engine` waits on it, `AsyncEngine`
//! awaits it, so each operation is defined (and its arguments converted)
//! once. This module holds the engine's construction, catalog,
//! availability, holds and bookings; [`money`] its payments, cancellation,
//! modification, terms and payouts; [`tickets`] its tickets and check-in.
//! Must never run Rust work here: arguments are converted with the GIL
//! held, the work runs when the call is waited on or awaited.

mod money;
mod tickets;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use reservo::commission::FeeRate;
use reservo::engine::{
    Attribution, ConfirmRequest, Engine, EngineBuilder, EngineConfig, ExtendRequest, HoldRequest,
    QuoteRequest, ReleaseRequest, SearchFor, SearchRequest, UpdateHoldRequest,
};
use reservo::ids::{BookingId, HoldId, PropertyId, RatePlanId, ResourceId};
use reservo::money::{Money, Percentage};
use reservo::pricing::Promo;
use reservo::restriction::Restrictions;
use reservo::time::{ManualClock, Stay};

use crate::convert::{self, Count, Day, Exact, Instant, from_data, id};
use crate::errors::{IntoPyResult, core_err};
use crate::ports::{PyPaymentGateway, require_methods};
use crate::runtime::Pending;
use crate::stores::storage_of;
use crate::tickets::PyTicketSettings;
use crate::tokens::{PyIssuerKeySet, locked};
use crate::values::{
    EventRecord, PyBlock, PyBooking, PyCustomer, PyEvent, PyHold, PyItem, PyMoney,
    PyNightAvailability, PyParty, PyProperty, PyQuoted, PyRatePlan, PyResource, PySearchHit,
    PySessionAvailability, quote_requests, wrap_all,
};

/// A clock the host sets by hand: for tests, simulations and demos.
#[pyclass(frozen, module = "reservo._reservo", name = "ManualClock")]
pub struct PyManualClock {
    clock: Arc<ManualClock>,
}

#[pymethods]
impl PyManualClock {
    #[new]
    fn new(now: Instant) -> Self {
        PyManualClock {
            clock: Arc::new(ManualClock::new(now.0)),
        }
    }

    /// The clock's instant (UTC).
    fn now(&self) -> DateTime<Utc> {
        use reservo::ports::Clock;
        self.clock.now()
    }

    /// Moves the clock to `now`; it never goes backwards.
    fn set(&self, py: Python<'_>, now: Instant) -> PyResult<()> {
        self.clock.set(now.0).py(py)
    }

    /// Moves the clock forward by `by` (a `timedelta`); a negative one is
    /// refused, as `set` refuses an earlier instant.
    fn advance(&self, py: Python<'_>, by: chrono::Duration) -> PyResult<()> {
        if by < chrono::Duration::zero() {
            let message = format!(
                "{} seconds would move the clock back; clocks never go backwards",
                by.num_seconds()
            );
            return Err(core_err(py, reservo::Error::invalid("by", message)));
        }
        self.clock.try_advance(by).map(|_| ()).py(py)
    }

    fn __repr__(&self) -> String {
        format!("ManualClock({})", self.now().to_rfc3339())
    }
}

impl PyManualClock {
    /// The clock as the core's port.
    pub fn clock(&self) -> Arc<ManualClock> {
        self.clock.clone()
    }
}

/// The booking engine over one store. Every method returns a `Pending`
/// call; use `reservo.Engine` or `reservo.AsyncEngine`, not this class.
#[pyclass(frozen, module = "reservo._reservo", name = "NativeEngine")]
pub struct PyEngine {
    pub(crate) engine: Arc<Engine>,
    pub(crate) host_ports: bool,
}

impl PyEngine {
    fn call<F, Fut, T>(&self, op: F) -> Pending
    where
        F: FnOnce(Arc<Engine>) -> Fut,
        Fut: std::future::Future<Output = reservo::Result<T>> + Send + 'static,
        T: for<'py> IntoPyObject<'py> + Send + 'static,
    {
        Pending::new(self.host_ports, op(self.engine.clone()))
    }
}

/// `change_fee`: one flat fee, or one per currency the engine sells in.
#[derive(FromPyObject)]
enum ChangeFees<'py> {
    #[pyo3(transparent, annotation = "Money")]
    One(PyRef<'py, PyMoney>),
    #[pyo3(transparent, annotation = "Sequence[Money]")]
    PerCurrency(Vec<PyRef<'py, PyMoney>>),
}

impl Default for ChangeFees<'_> {
    fn default() -> Self {
        ChangeFees::PerCurrency(Vec::new())
    }
}

impl ChangeFees<'_> {
    /// Sets the fees on `builder`, each with `percent`: the first flat fee
    /// is the engine's fee and every one its currency's, so a booking in a
    /// currency not listed is refused with `CurrencyMismatch`.
    fn apply(
        self,
        py: Python<'_>,
        mut builder: EngineBuilder,
        percent: Percentage,
    ) -> PyResult<EngineBuilder> {
        let flats: Vec<Money> = match self {
            ChangeFees::One(fee) => vec![fee.inner],
            ChangeFees::PerCurrency(fees) => fees.iter().map(|fee| fee.inner).collect(),
        };
        let Some(first) = flats.first() else {
            return Ok(builder.change_fee(FeeRate::percent(percent)));
        };
        builder = builder.change_fee(FeeRate::new(percent, Some(*first)).py(py)?);
        let mut seen = BTreeSet::new();
        for flat in flats {
            if !seen.insert(flat.currency()) {
                let message = format!("two change fees in {}", flat.currency());
                return Err(core_err(py, reservo::Error::invalid("change_fee", message)));
            }
            let fee = FeeRate::new(percent, Some(flat)).py(py)?;
            builder = builder.change_fee_in(flat.currency(), fee);
        }
        Ok(builder)
    }
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (store, *, clock=None, payment_gateway=None, tickets=None, ticket_settings=None, change_fee=None, change_fee_percent=None, max_attempts=None, max_hold_ttl=None, max_hold_lifetime=None, durable_holds=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        clock: Option<PyRef<'_, PyManualClock>>,
        payment_gateway: Option<Py<PyAny>>,
        tickets: Option<PyRef<'_, PyIssuerKeySet>>,
        ticket_settings: Option<PyRef<'_, PyTicketSettings>>,
        change_fee: Option<ChangeFees<'_>>,
        change_fee_percent: Option<Exact>,
        max_attempts: Option<Count<u32>>,
        max_hold_ttl: Option<chrono::Duration>,
        max_hold_lifetime: Option<chrono::Duration>,
        durable_holds: bool,
    ) -> PyResult<Self> {
        let (storage, host_storage) = storage_of(store)?;
        let defaults = EngineConfig::default();
        let config = EngineConfig {
            max_attempts: max_attempts.map_or(defaults.max_attempts, |c| c.0),
            max_hold_ttl: max_hold_ttl.unwrap_or(defaults.max_hold_ttl),
            max_hold_lifetime: max_hold_lifetime.unwrap_or(defaults.max_hold_lifetime),
            durable_holds,
        };
        let mut builder = Engine::builder(storage).config(config);
        if let Some(clock) = clock {
            builder = builder.clock(clock.clock.clone());
        }
        let host_ports = host_storage || payment_gateway.is_some();
        if let Some(gateway) = payment_gateway {
            require_methods(
                gateway.bind(py),
                "a reservo.PaymentGateway",
                &["capabilities", "authorize", "capture", "charge", "refund"],
            )?;
            builder = builder.payment_gateway(Arc::new(PyPaymentGateway::new(py, gateway)?));
        }
        if change_fee.is_some() || change_fee_percent.is_some() {
            let percent =
                Percentage::new(change_fee_percent.map(|p| p.0).unwrap_or_default()).py(py)?;
            builder = change_fee.unwrap_or_default().apply(py, builder, percent)?;
        }
        match (tickets, ticket_settings) {
            (Some(keys), settings) => {
                let keys = locked(&keys.keys)?.clone();
                let settings = settings.map(|s| s.settings).unwrap_or_default();
                builder = builder.tickets(keys, settings);
            }
            (None, Some(_)) => {
                return Err(core_err(
                    py,
                    reservo::Error::invalid(
                        "ticket_settings",
                        "settings without keys issue nothing: pass tickets=IssuerKeySet(...) too",
                    ),
                ));
            }
            (None, None) => {}
        }
        Ok(PyEngine {
            engine: Arc::new(builder.try_build().py(py)?),
            host_ports,
        })
    }

    fn put_property(&self, property: PyRef<'_, PyProperty>) -> Pending {
        let property = property.inner.clone();
        self.call(|e| async move { e.put_property(property).await })
    }

    fn put_rate_plan(&self, plan: PyRef<'_, PyRatePlan>) -> Pending {
        let plan = plan.inner.clone();
        self.call(|e| async move { e.put_rate_plan(plan).await })
    }

    fn put_resource(&self, resource: PyRef<'_, PyResource>) -> Pending {
        let resource = resource.inner.clone();
        self.call(|e| async move { e.put_resource(resource).await })
    }

    fn import_catalog(
        &self,
        properties: Vec<PyRef<'_, PyProperty>>,
        rate_plans: Vec<PyRef<'_, PyRatePlan>>,
        resources: Vec<PyRef<'_, PyResource>>,
    ) -> Pending {
        let import = reservo::engine::CatalogImport {
            properties: properties.iter().map(|p| p.inner.clone()).collect(),
            rate_plans: rate_plans.iter().map(|p| p.inner.clone()).collect(),
            resources: resources.iter().map(|r| r.inner.clone()).collect(),
        };
        self.call(|e| async move { e.import_catalog(&import).await })
    }

    fn set_restrictions(
        &self,
        resource: &str,
        restrictions: &Bound<'_, PyAny>,
    ) -> PyResult<Pending> {
        let resource = id::<ResourceId>(resource)?;
        let restrictions: Restrictions = from_data(restrictions, "restrictions")?;
        Ok(self.call(|e| async move { e.set_restrictions(&resource, restrictions).await }))
    }

    fn put_promo(&self, promo: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let promo: Promo = from_data(promo, "promo")?;
        Ok(self.call(|e| async move { e.put_promo(promo).await }))
    }

    fn add_block(&self, block: PyRef<'_, PyBlock>) -> Pending {
        let block = block.inner.clone();
        self.call(|e| async move { e.add_block(block).await })
    }

    fn remove_block(&self, resource: &str, block: &str) -> PyResult<Pending> {
        let (resource, block) = (id::<ResourceId>(resource)?, id(block)?);
        Ok(self.call(|e| async move { e.remove_block(&resource, &block).await }))
    }

    fn property(&self, property: &str) -> PyResult<Pending> {
        let property = id::<PropertyId>(property)?;
        Ok(self.call(|e| async move { e.property(&property).await.map(PyProperty::from) }))
    }

    fn resource(&self, resource: &str) -> PyResult<Pending> {
        let resource = id::<ResourceId>(resource)?;
        Ok(self.call(|e| async move { e.resource(&resource).await.map(PyResource::from) }))
    }

    #[pyo3(signature = (property=None))]
    fn resources(&self, property: Option<&str>) -> PyResult<Pending> {
        let property = property.map(id::<PropertyId>).transpose()?;
        Ok(self.call(|e| async move {
            e.resources(property.as_ref())
                .await
                .map(wrap_all::<_, PyResource>)
        }))
    }

    fn night_availability(&self, resource: &str, start: Day, end: Day) -> PyResult<Pending> {
        let start = start.0;
        let end = end.0;
        let resource = id::<ResourceId>(resource)?;
        Ok(self.call(|e| async move {
            e.night_availability(&resource, start, end)
                .await
                .map(wrap_all::<_, PyNightAvailability>)
        }))
    }

    fn session_availability(&self, resource: &str, start: Day, end: Day) -> PyResult<Pending> {
        let start = start.0;
        let end = end.0;
        let resource = id::<ResourceId>(resource)?;
        Ok(self.call(|e| async move {
            e.session_availability(&resource, start, end)
                .await
                .map(wrap_all::<_, PySessionAvailability>)
        }))
    }

    #[pyo3(signature = (check_in, check_out, *, party, property=None))]
    fn search_stays(
        &self,
        py: Python<'_>,
        check_in: Day,
        check_out: Day,
        party: PyRef<'_, PyParty>,
        property: Option<&str>,
    ) -> PyResult<Pending> {
        let check_in = check_in.0;
        let check_out = check_out.0;
        let what = SearchFor::Stay(Stay::new(check_in, check_out).py(py)?);
        self.search(what, &party, property)
    }

    #[pyo3(signature = (start, end, *, party, property=None))]
    fn search_sessions(
        &self,
        start: Day,
        end: Day,
        party: PyRef<'_, PyParty>,
        property: Option<&str>,
    ) -> PyResult<Pending> {
        let start = start.0;
        let end = end.0;
        self.search(
            SearchFor::Sessions {
                from: start,
                to: end,
            },
            &party,
            property,
        )
    }

    #[pyo3(signature = (item, *, rate_plan=None, promo_code=None))]
    fn quote(
        &self,
        item: PyRef<'_, PyItem>,
        rate_plan: Option<&str>,
        promo_code: Option<String>,
    ) -> PyResult<Pending> {
        let request = QuoteRequest {
            item: item.inner.clone(),
            rate_plan: rate_plan.map(id::<RatePlanId>).transpose()?,
            promo_code,
        };
        Ok(self.call(|e| async move { e.quote(&request).await.map(PyQuoted::from) }))
    }

    #[pyo3(signature = (items, *, idempotency_key, ttl_seconds, customer=None, metadata=None))]
    fn hold(
        &self,
        items: &Bound<'_, PyAny>,
        idempotency_key: String,
        ttl_seconds: Count<u32>,
        customer: Option<PyRef<'_, PyCustomer>>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Pending> {
        let mut request = HoldRequest::new(idempotency_key, quote_requests(items)?, ttl_seconds.0)
            .with_metadata(convert::metadata(metadata)?);
        request.customer = customer.map(|c| c.inner.clone());
        Ok(self.call(|e| async move { e.hold(&request).await.map(PyHold::from) }))
    }

    // Python keyword arguments, one per optional part of the request.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (hold, *, customer=None, idempotency_key, items=None, channel=None, broker=None, broker_phone=None, metadata=None))]
    fn confirm(
        &self,
        hold: &str,
        customer: Option<PyRef<'_, PyCustomer>>,
        idempotency_key: String,
        items: Option<Vec<Count<usize>>>,
        channel: Option<String>,
        broker: Option<String>,
        broker_phone: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Pending> {
        let mut request = ConfirmRequest::for_hold_customer(idempotency_key, id::<HoldId>(hold)?)
            .with_metadata(convert::metadata(metadata)?);
        request.customer = customer.map(|c| c.inner.clone());
        request.items = items.map(|items| items.into_iter().map(|i| i.0).collect());
        request.attribution = Attribution {
            channel,
            broker,
            broker_phone,
        };
        Ok(self.call(|e| async move { e.confirm(&request).await.map(PyBooking::from) }))
    }

    #[pyo3(signature = (hold, *, idempotency_key))]
    fn release(&self, hold: &str, idempotency_key: String) -> PyResult<Pending> {
        let request = ReleaseRequest::new(idempotency_key, id::<HoldId>(hold)?);
        Ok(self.call(|e| async move { e.release(&request).await.map(PyHold::from) }))
    }

    #[pyo3(signature = (hold, *, idempotency_key, customer=None, remove_customer=false, metadata=None))]
    fn update_hold(
        &self,
        hold: &str,
        idempotency_key: String,
        customer: Option<PyRef<'_, PyCustomer>>,
        remove_customer: bool,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Pending> {
        let mut request = UpdateHoldRequest::new(idempotency_key, id::<HoldId>(hold)?);
        request.customer = customer.map(|c| c.inner.clone());
        request.remove_customer = remove_customer;
        request.metadata = match metadata {
            Some(entries) => Some(convert::metadata(Some(entries))?),
            None => None,
        };
        Ok(self.call(|e| async move { e.update_hold(&request).await.map(PyHold::from) }))
    }

    #[pyo3(signature = (hold, ttl_seconds, *, idempotency_key))]
    fn extend(
        &self,
        hold: &str,
        ttl_seconds: Count<u32>,
        idempotency_key: String,
    ) -> PyResult<Pending> {
        let ttl_seconds = ttl_seconds.0;
        let request = ExtendRequest::new(idempotency_key, id::<HoldId>(hold)?, ttl_seconds);
        Ok(self.call(|e| async move { e.extend(&request).await.map(PyHold::from) }))
    }

    #[pyo3(signature = (limit=Count(100)), text_signature = "(self, limit=100)")]
    fn expire_due(&self, limit: Count<usize>) -> Pending {
        let limit = limit.0;
        self.call(|e| async move {
            e.expire_due(limit)
                .await
                .map(|ids| ids.into_iter().map(|h| h.to_string()).collect::<Vec<_>>())
        })
    }

    fn get_hold(&self, hold: &str) -> PyResult<Pending> {
        let hold = id::<HoldId>(hold)?;
        Ok(self.call(|e| async move { e.hold_by_id(&hold).await.map(PyHold::from) }))
    }

    fn booking(&self, booking: &str) -> PyResult<Pending> {
        let booking = id::<BookingId>(booking)?;
        Ok(self.call(|e| async move { e.booking(&booking).await.map(PyBooking::from) }))
    }

    fn bookings_by_customer(&self, phone: String) -> Pending {
        self.call(|e| async move {
            e.bookings_by_customer(&phone)
                .await
                .map(wrap_all::<_, PyBooking>)
        })
    }

    fn bookings_for_resource(&self, resource: &str, start: Day, end: Day) -> PyResult<Pending> {
        let start = start.0;
        let end = end.0;
        let resource = id::<ResourceId>(resource)?;
        Ok(self.call(|e| async move {
            e.bookings_for_resource(&resource, start, end)
                .await
                .map(wrap_all::<_, PyBooking>)
        }))
    }

    #[pyo3(signature = (after=Count(0), limit=Count(100)), text_signature = "(self, after=0, limit=100)")]
    fn events(&self, after: Count<u64>, limit: Count<usize>) -> Pending {
        let after = after.0;
        let limit = limit.0;
        self.call(|e| async move {
            let events = e.storage().read_events(after, limit).await?;
            Ok(events
                .into_iter()
                .map(|ev| PyEvent::from(EventRecord::from(ev)))
                .collect::<Vec<_>>())
        })
    }
}

impl PyEngine {
    fn search(
        &self,
        what: SearchFor,
        party: &PyParty,
        property: Option<&str>,
    ) -> PyResult<Pending> {
        let request = SearchRequest {
            what,
            party: party.inner.clone(),
            property: property.map(id::<PropertyId>).transpose()?,
        };
        Ok(self.call(|e| async move { e.search(&request).await.map(wrap_all::<_, PySearchHit>) }))
    }
}
