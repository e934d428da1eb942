//! The notifier: turns outbox events into SMS through a host `SmsSender`.
//!
//! `Notifier.run_once()` returns a `Pending` like the engine's methods, so
//! the facade can wait on it or await it.

use std::sync::Arc;

use pyo3::prelude::*;

use reservo::notify::{DispatchReport, Notifier};

use crate::convert::{Count, Plain};
use crate::engine::PyManualClock;
use crate::errors::IntoPyResult;
use crate::ports::{PySmsSender, require_methods};
use crate::runtime::Pending;
use crate::stores::storage_of;

/// What one `run_once` did: counts of events read and deliveries queued,
/// sent, retried, failed or lost to another notifier.
#[pyclass(frozen, module = "reservo._reservo", name = "DispatchReport")]
pub struct PyDispatchReport {
    pub(crate) report: DispatchReport,
}

#[pymethods]
impl PyDispatchReport {
    /// Outbox events read.
    #[getter]
    fn events(&self) -> usize {
        self.report.events
    }
    /// Deliveries queued.
    #[getter]
    fn queued(&self) -> usize {
        self.report.queued
    }
    /// Deliveries the sender accepted.
    #[getter]
    fn sent(&self) -> usize {
        self.report.sent
    }
    /// Sends that failed and will be retried.
    #[getter]
    fn retried(&self) -> usize {
        self.report.retried
    }
    /// Deliveries given up.
    #[getter]
    fn failed(&self) -> usize {
        self.report.failed
    }
    /// Deliveries another notifier took.
    #[getter]
    fn lost(&self) -> usize {
        self.report.lost
    }
    /// Due deliveries whose records this notifier cannot read (a newer
    /// Reservo's, or damaged): passed over and left for one that can.
    #[getter]
    fn unreadable(&self) -> usize {
        self.report.unreadable
    }

    /// Whether the run found nothing to do (records it cannot read do not
    /// count): call `run_once` again until it is, to catch up a backlog.
    fn is_idle(&self) -> bool {
        self.report.is_idle()
    }

    fn __repr__(&self) -> String {
        let r = &self.report;
        format!(
            "DispatchReport(events={}, queued={}, sent={}, retried={}, failed={}, lost={}, \
             unreadable={})",
            r.events, r.queued, r.sent, r.retried, r.failed, r.lost, r.unreadable
        )
    }
}

/// Sends an SMS for every outbox event that has a template, at least once,
/// through the host's `SmsSender`; its state lives in the same store.
#[pyclass(frozen, module = "reservo._reservo", name = "NativeNotifier")]
pub struct PyNotifier {
    notifier: Arc<Notifier>,
}

#[pymethods]
impl PyNotifier {
    #[new]
    #[pyo3(signature = (store, sender, *, clock=None, dedupe_namespace=None))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        sender: Py<PyAny>,
        clock: Option<PyRef<'_, PyManualClock>>,
        dedupe_namespace: Option<String>,
    ) -> PyResult<Self> {
        let (storage, _) = storage_of(store)?;
        require_methods(sender.bind(py), "a reservo.SmsSender", &["send"])?;
        let mut builder = Notifier::builder(storage, Arc::new(PySmsSender::new(sender)));
        if let Some(clock) = clock {
            builder = builder.clock(clock.clock());
        }
        if let Some(namespace) = dedupe_namespace {
            builder = builder.dedupe_namespace(namespace);
        }
        Ok(PyNotifier {
            notifier: Arc::new(builder.build().py(py)?),
        })
    }

    /// Reads new events, queues deliveries and sends up to `max` due ones.
    #[pyo3(signature = (max=Count(100)), text_signature = "(self, max=100)")]
    fn run_once(&self, max: Count<usize>) -> Pending {
        let max = max.0;
        let notifier = self.notifier.clone();
        Pending::new(true, async move {
            notifier
                .run_once(max)
                .await
                .map(|report| PyDispatchReport { report })
        })
    }

    /// Deliveries that were given up, as data.
    #[pyo3(signature = (limit=Count(100)), text_signature = "(self, limit=100)")]
    fn failed_deliveries(&self, limit: Count<usize>) -> Pending {
        let limit = limit.0;
        let notifier = self.notifier.clone();
        Pending::new(true, async move {
            let failed = notifier.failed_deliveries(limit).await?;
            Ok(Plain(failed))
        })
    }
}

/// Registers the notifier classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyNotifier>()?;
    m.add_class::<PyDispatchReport>()?;
    Ok(())
}
