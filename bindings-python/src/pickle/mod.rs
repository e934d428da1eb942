//! Pickling of the binding's plain-data values (Celery tasks,
//! multiprocessing, caches).
//!
//! A value pickles as a call that rebuilds it: through its own constructor
//! when that takes every field, otherwise through the class's hidden
//! `_restore` classmethod, which reads the state with the core's serde
//! (and so the core's validation). The state is the value's JSON form, as
//! the same version of the package writes it: pickles move values between
//! processes, they are no archive format. Handles to live resources
//! (engines, stores, clocks, ports, verifiers) and private keys do not
//! pickle. Must never rebuild a value by any rule of its own: what the
//! core does not let the binding construct, it refuses to pickle.

mod mirrors;
mod records;
mod tickets;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde::Serialize;

use crate::errors::core_err;

/// A core value that can be read back from the JSON its `Serialize` wrote.
pub trait Restore: Sized {
    /// The value of `json`, checked as the core checks what it reads.
    fn restore(json: &str) -> serde_json::Result<Self>;
}

/// [`Restore`] through the type's own `Deserialize`.
macro_rules! restore_with_serde {
    ($($ty:ty),* $(,)?) => {
        $(impl Restore for $ty {
            fn restore(json: &str) -> serde_json::Result<Self> {
                serde_json::from_str(json)
            }
        })*
    };
}

restore_with_serde!(
    reservo::booking::Customer,
    reservo::catalog::Block,
    reservo::catalog::Property,
    reservo::catalog::Resource,
    reservo::commission::BookingLedger,
    reservo::commission::CommissionPlan,
    reservo::commission::Split,
    reservo::engine::Booking,
    reservo::engine::BookingMoney,
    reservo::engine::BookingTerms,
    reservo::engine::HeldItem,
    reservo::engine::Hold,
    reservo::engine::Item,
    reservo::engine::NightAvailability,
    reservo::engine::Payment,
    reservo::engine::PaymentAttempt,
    reservo::engine::QuoteRequest,
    reservo::engine::Refund,
    reservo::engine::SessionAvailability,
    reservo::engine::StatusChange,
    reservo::money::Money,
    reservo::notify::DispatchReport,
    reservo::party::Party,
    reservo::policy::BookingFacts,
    reservo::policy::CancellationPolicy,
    reservo::policy::RefundQuote,
    reservo::pricing::Quote,
    reservo::pricing::QuoteLine,
    reservo::pricing::RatePlan,
    reservo::token::EntryPolicy,
    crate::values::EventRecord,
);

/// The JSON form of `value`, as pickle state.
pub fn state_of<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<String> {
    serde_json::to_string(value)
        .map_err(|e| core_err(py, reservo::Error::invalid("pickle", e.to_string())))
}

/// The value a pickle's `state` holds, or `InvalidInput` for state that
/// this version of the package cannot read.
pub fn restored<T: Restore>(py: Python<'_>, state: &str) -> PyResult<T> {
    T::restore(state).map_err(|e| {
        core_err(
            py,
            reservo::Error::invalid(
                "pickle",
                format!("not a value pickled by this version of reservo: {e}"),
            ),
        )
    })
}

/// `__reduce__`'s answer: rebuild an object of `slf`'s class by calling its
/// `_restore` classmethod with `args`.
pub fn by_restore<'py, A>(
    slf: &Bound<'py, PyAny>,
    args: A,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)>
where
    A: IntoPyObject<'py, Target = PyTuple, Output = Bound<'py, PyTuple>, Error = PyErr>,
{
    let restore = slf
        .get_type()
        .getattr(pyo3::intern!(slf.py(), "_restore"))?;
    Ok((restore, args.into_pyobject(slf.py())?))
}
