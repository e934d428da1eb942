//! The notifier: turns outbox events into SMS through a host `SmsSender`.
//!
//! `Notifier.run_once()` returns a `Pending` like the engine's methods, so
//! the facade can wait on it or await it.

use std::sync::Arc;

use pyo3::prelude::*;

use reservo::notify::{Audience, DispatchReport, Notifier, SmsTemplates};

use crate::convert::{Count, Plain, to_json};
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
    #[pyo3(signature = (store, sender, *, clock=None, dedupe_namespace=None, templates=None))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyAny>,
        sender: Py<PyAny>,
        clock: Option<PyRef<'_, PyManualClock>>,
        dedupe_namespace: Option<String>,
        templates: Option<PyRef<'_, PySmsTemplates>>,
    ) -> PyResult<Self> {
        let (storage, _) = storage_of(store)?;
        require_methods(sender.bind(py), "a reservo.SmsSender", &["send"])?;
        let mut builder = Notifier::builder(storage, Arc::new(PySmsSender::new(sender)));
        if let Some(clock) = clock {
            builder = builder.clock(clock.clock());
        }
        if let Some(templates) = templates {
            // A copy: changing the templates later changes this notifier
            // not at all.
            builder = builder.templates(templates.inner.clone());
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

/// The SMS a notifier sends: one template per event kind and audience
/// (`guest`, `owner`, `broker`), and for each audience where its phone
/// number is in event payloads. `SmsTemplates.defaults()` is Reservo's
/// English set; `SmsTemplates()` starts empty.
#[pyclass(module = "reservo._reservo", name = "SmsTemplates")]
pub struct PySmsTemplates {
    inner: SmsTemplates,
}

#[pymethods]
impl PySmsTemplates {
    /// No templates and no recipient paths.
    #[new]
    fn new() -> Self {
        PySmsTemplates {
            inner: SmsTemplates::new(),
        }
    }

    /// Rebuilds pickled templates: `(kind, audience, text)` triples and
    /// `(audience, path)` pairs, as `__reduce__` lists them.
    #[classmethod]
    fn _restore(
        _cls: &Bound<'_, pyo3::types::PyType>,
        py: Python<'_>,
        templates: Vec<(String, String, String)>,
        recipients: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let mut restored = PySmsTemplates::new();
        for (audience, path) in recipients {
            restored.set_recipient(py, &audience, &path)?;
        }
        for (kind, audience, text) in templates {
            restored.add(py, &kind, &audience, &text)?;
        }
        Ok(restored)
    }

    /// Pickles as its templates and recipient paths.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, pyo3::types::PyTuple>)> {
        let this = slf.borrow();
        let templates: Vec<(String, &str, String)> = this
            .inner
            .iter()
            .map(|(kind, audience, t)| (kind.to_owned(), audience.as_str(), t.source().to_owned()))
            .collect();
        let recipients: Vec<(&str, String)> = this
            .inner
            .recipients()
            .map(|(audience, path)| (audience.as_str(), path.to_string()))
            .collect();
        crate::pickle::by_restore(slf.as_any(), (templates, recipients))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PySmsTemplates>()
            .is_ok_and(|other| other.borrow().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let recipients: Vec<&str> = self.inner.recipients().map(|(a, _)| a.as_str()).collect();
        format!(
            "SmsTemplates(templates={}, recipients={recipients:?})",
            self.inner.iter().count()
        )
    }

    /// Reservo's default English templates, with recipients at
    /// `customer.phone`, `owner.phone` and `broker.phone`.
    #[staticmethod]
    fn defaults() -> Self {
        PySmsTemplates {
            inner: SmsTemplates::defaults(),
        }
    }

    /// Registers (or replaces) the template for `kind` and `audience`;
    /// `{customer.name}`-style placeholders name payload fields. Bad
    /// syntax raises `InvalidInput` and changes nothing.
    fn add(&mut self, py: Python<'_>, kind: &str, audience: &str, template: &str) -> PyResult<()> {
        let audience = Audience::parse(audience).py(py)?;
        self.inner.add(kind, audience, template).py(py)
    }

    /// Says where `audience`'s phone number is in event payloads (a dotted
    /// path such as `customer.phone`).
    fn set_recipient(&mut self, py: Python<'_>, audience: &str, path: &str) -> PyResult<()> {
        let audience = Audience::parse(audience).py(py)?;
        self.inner.set_recipient(audience, path).py(py)
    }

    /// The template text for `kind` and `audience`, if there is one.
    fn get(&self, py: Python<'_>, kind: &str, audience: &str) -> PyResult<Option<String>> {
        let audience = Audience::parse(audience).py(py)?;
        Ok(self
            .inner
            .get(kind, audience)
            .map(|t| t.source().to_owned()))
    }

    /// The message `audience` would get for an event of `kind` with
    /// `payload` (a dict), as `(to, body)`; `None` when there is no
    /// template, no recipient path or no phone number at it. Raises
    /// `InvalidInput` for a phone that is not E.164 or a placeholder with
    /// no value: what a notifier records as a failed delivery.
    fn render(
        &self,
        py: Python<'_>,
        kind: &str,
        audience: &str,
        payload: &Bound<'_, PyAny>,
    ) -> PyResult<Option<(String, String)>> {
        let audience = Audience::parse(audience).py(py)?;
        let payload = to_json(payload)?;
        self.inner
            .render(kind, audience, &payload)
            .map(|rendered| rendered.map(|r| (r.to.as_str().to_owned(), r.body)))
            .transpose()
            .py(py)
    }
}

/// Registers the notifier classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyNotifier>()?;
    m.add_class::<PySmsTemplates>()?;
    m.add_class::<PyDispatchReport>()?;
    Ok(())
}
