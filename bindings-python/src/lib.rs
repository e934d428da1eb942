//! `reservo._reservo`: the native module behind the `reservo` Python package.
//!
//! A thin layer over the core crate `reservo`: conversion of values
//! ([`convert`], [`values`]), error mapping ([`errors`]), running the
//! core's futures blocking or awaited ([`runtime`]), the stores
//! ([`stores`]) and the ports a host implements in Python ([`ports`]). The
//! idiomatic API (the blocking `Engine`, `AsyncEngine`, the exception
//! classes and the `Protocol`s) is the hand-written facade in
//! `python/reservo/`. This crate must never hold a business rule: every
//! decision is the core's.

#[macro_use]
mod values;

mod awaited;
mod bench;
mod checkin;
mod conformance;
mod convert;
mod domain;
mod engine;
mod errors;
mod notify;
mod pickle;
mod ports;
mod runtime;
mod store_methods;
mod stores;
mod tickets;
mod tokens;

use pyo3::prelude::*;

#[pymodule]
fn _reservo(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<runtime::Pending>()?;
    m.add_function(wrap_pyfunction!(awaited::finish_calls, m)?)?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<engine::PyManualClock>()?;
    m.add_class::<stores::PyMemoryStore>()?;
    m.add_class::<stores::PySqliteStore>()?;
    m.add_class::<stores::PyPostgresStore>()?;
    m.add_function(wrap_pyfunction!(stores::copy_store, m)?)?;
    m.add_class::<ports::PyRecord>()?;
    m.add_class::<ports::PyStoredEvent>()?;
    m.add_class::<ports::PyCommitBatch>()?;
    m.add_class::<ports::PyGatewayPort>()?;
    m.add_class::<values::PyMoney>()?;
    m.add_class::<values::PyProperty>()?;
    m.add_class::<values::PyResource>()?;
    m.add_class::<values::PyRatePlan>()?;
    m.add_class::<values::PyBlock>()?;
    m.add_class::<values::PyParty>()?;
    m.add_class::<values::PyItem>()?;
    m.add_class::<values::PyQuoteRequest>()?;
    m.add_class::<values::PyCustomer>()?;
    m.add_class::<values::PyQuote>()?;
    m.add_class::<values::PyQuoteLine>()?;
    m.add_class::<values::PyQuoted>()?;
    m.add_class::<values::PySearchHit>()?;
    m.add_class::<values::PyNightAvailability>()?;
    m.add_class::<values::PySessionAvailability>()?;
    m.add_class::<values::PyHold>()?;
    m.add_class::<values::PyHeldItem>()?;
    m.add_class::<values::PyBooking>()?;
    m.add_class::<values::PyStatusChange>()?;
    m.add_class::<values::PyEvent>()?;
    m.add_class::<values::PyBookingTerms>()?;
    m.add_class::<values::PyBookingMoney>()?;
    m.add_class::<values::PyPayment>()?;
    m.add_class::<values::PyRefund>()?;
    m.add_class::<values::PyPaymentAttempt>()?;
    m.add_class::<values::PyReconcileReport>()?;
    m.add_class::<values::PyModificationQuote>()?;
    notify::register(m)?;
    tokens::register(m)?;
    checkin::register(m)?;
    tickets::register(m)?;
    domain::register(m)?;
    conformance::register(m)?;
    bench::register(m)?;
    Ok(())
}
