//! Pickling of the storage port's records, the notifier's report and the
//! booking ledger: small values whose classes are not value objects.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple, PyType};

use reservo::commission::BookingLedger;
use reservo::notify::DispatchReport;
use reservo::ports::{CommitBatch, Durability, Expectation, Mutation, NewEvent, Version};

use super::{by_restore, restored, state_of};
use crate::domain::PyBookingLedger;
use crate::notify::PyDispatchReport;
use crate::ports::{PyCommitBatch, PyRecord, PyStoredEvent};
use crate::tokens::{equal_locked, locked};

type Reduced<'py> = (Bound<'py, PyAny>, Bound<'py, PyTuple>);

#[pymethods]
impl PyRecord {
    /// Pickles as a call of the constructor.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let py = slf.py();
        let r = slf.get();
        let args = (r.key.clone(), PyBytes::new(py, &r.value), r.version);
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }
}

#[pymethods]
impl PyStoredEvent {
    /// Pickles as a call of the constructor.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let py = slf.py();
        let e = slf.get();
        let args = (e.seq, e.kind.clone(), PyBytes::new(py, &e.payload));
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }
}

/// A commit batch's parts as pickle state: expectations, mutations
/// (`None` deletes), events, durability.
type BatchState = (
    Vec<(String, Option<u64>)>,
    Vec<(String, Option<Vec<u8>>)>,
    Vec<(String, Vec<u8>)>,
    bool,
);

#[pymethods]
impl PyCommitBatch {
    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.batch == other.batch
    }

    fn __hash__(&self) -> u64 {
        crate::convert::hash_of(&batch_state(&self.batch))
    }

    /// Pickles as its expectations, mutations, events and durability.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        by_restore(slf.as_any(), batch_state(&slf.get().batch))
    }

    /// The batch a pickle holds (the arguments `__reduce__` gave).
    #[classmethod]
    fn _restore(
        _cls: &Bound<'_, PyType>,
        expectations: Vec<(String, Option<u64>)>,
        mutations: Vec<(String, Option<Vec<u8>>)>,
        events: Vec<(String, Vec<u8>)>,
        durable: bool,
    ) -> Self {
        let batch = CommitBatch {
            expectations: expectations
                .into_iter()
                .map(|(key, version)| Expectation {
                    key,
                    version: version.map(Version),
                })
                .collect(),
            mutations: mutations
                .into_iter()
                .map(|(key, value)| match value {
                    Some(value) => Mutation::Put { key, value },
                    None => Mutation::Delete { key },
                })
                .collect(),
            events: events
                .into_iter()
                .map(|(kind, payload)| NewEvent { kind, payload })
                .collect(),
            durability: if durable {
                Durability::Durable
            } else {
                Durability::Deferred
            },
        };
        PyCommitBatch { batch }
    }
}

fn batch_state(batch: &CommitBatch) -> BatchState {
    (
        batch
            .expectations
            .iter()
            .map(|e| (e.key.clone(), e.version.map(|v| v.0)))
            .collect(),
        batch
            .mutations
            .iter()
            .map(|m| match m {
                Mutation::Put { key, value } => (key.clone(), Some(value.clone())),
                Mutation::Delete { key } => (key.clone(), None),
            })
            .collect(),
        batch
            .events
            .iter()
            .map(|e| (e.kind.clone(), e.payload.clone()))
            .collect(),
        batch.durability == Durability::Durable,
    )
}

#[pymethods]
impl PyDispatchReport {
    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.report == other.report
    }

    fn __hash__(&self) -> u64 {
        crate::convert::hash_of(&self.report)
    }

    /// Pickles as the report's JSON form, read back by `_restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        by_restore(slf.as_any(), (state_of(slf.py(), &slf.get().report)?,))
    }

    /// The report a pickle holds (the argument `__reduce__` gave).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, py: Python<'_>, state: &str) -> PyResult<Self> {
        let report = restored::<DispatchReport>(py, state)?;
        Ok(PyDispatchReport { report })
    }
}

#[pymethods]
impl PyBookingLedger {
    /// Equal when the bookings, splits and refunds are (a ledger changes:
    /// it has no hash).
    fn __eq__(&self, other: PyRef<'_, Self>) -> PyResult<bool> {
        equal_locked(&self.ledger, &other.ledger)
    }

    /// Pickles as the ledger's JSON form, read back by `_restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let state = state_of(slf.py(), &*locked(&slf.get().ledger)?)?;
        by_restore(slf.as_any(), (state,))
    }

    /// The ledger a pickle holds (the argument `__reduce__` gave).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, py: Python<'_>, state: &str) -> PyResult<Self> {
        let ledger = restored::<BookingLedger>(py, state)?;
        Ok(PyBookingLedger {
            ledger: std::sync::Mutex::new(ledger),
        })
    }
}
