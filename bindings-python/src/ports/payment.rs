//! A [`PaymentGateway`] implemented in Python.
//!
//! The protocol (`reservo.PaymentGateway`): `capabilities()` returns
//! `{"partial_refunds": bool, "separate_capture": bool}` (a plain method:
//! the core asks synchronously); `authorize`, `capture`, `charge` and
//! `refund` take the request as a dict (amounts as decimal strings) and
//! return `{"outcome": "approved", "gateway_id": ...}` or
//! `{"outcome": "declined", "reason": ...}`, plainly or as `async def`. An
//! exception means the outcome is unknown; it is kept as the error's source.
//! `void` (releasing an authorization whose capture was declined) is
//! optional: an object without it gets the core's default, a decline.

use async_trait::async_trait;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde::Serialize;

use reservo::ports::{
    CaptureRequest, GatewayCapabilities, PaymentGateway, PaymentOutcome, PaymentRequest, PortError,
    RefundRequest, VoidRequest,
};

use super::call_host;
use crate::convert::{Plain, from_data, to_plain};
use crate::runtime::note_interrupt;

/// A payment gateway implemented by a Python object.
pub struct PyPaymentGateway {
    host: Py<PyAny>,
}

impl PyPaymentGateway {
    /// Wraps a host object implementing `reservo.PaymentGateway`. Its
    /// `capabilities()` is asked once here: a gateway that raises, or
    /// answers in another shape, is refused when the engine is built, not
    /// taken to support the least at its first payment.
    pub fn new(py: Python<'_>, host: Py<PyAny>) -> PyResult<Self> {
        let gateway = PyPaymentGateway { host };
        gateway.read_capabilities(py)?;
        Ok(gateway)
    }

    fn read_capabilities(&self, py: Python<'_>) -> PyResult<GatewayCapabilities> {
        let caps = self.host.bind(py).call_method0("capabilities")?;
        from_data::<GatewayCapabilities>(&caps, "capabilities")
    }

    async fn call<R: Serialize>(
        &self,
        method: &'static str,
        request: &R,
    ) -> Result<PaymentOutcome, PortError> {
        call_host(&self.host, method, |py| {
            PyTuple::new(py, [to_plain(py, request)?])
        })
        .await
        .and_then(|outcome| {
            Python::attach(|py| from_data::<PaymentOutcome>(outcome.bind(py), "payment outcome"))
        })
        .map_err(|e| port_error(&format!("payment gateway {method}()"), e))
    }
}

/// The host's exception as a port error that keeps it as its source.
pub fn port_error(what: &str, err: PyErr) -> PortError {
    PortError {
        message: format!("{what} raised {err}"),
        source: Some(Box::new(err)),
    }
}

#[async_trait]
impl PaymentGateway for PyPaymentGateway {
    fn capabilities(&self) -> GatewayCapabilities {
        // The trait cannot fail here: a gateway that answered when the
        // engine was built but cannot say what it supports now is treated
        // as supporting the least.
        Python::attach(|py| {
            self.read_capabilities(py)
                .inspect_err(|e| note_interrupt(py, e))
        })
        .unwrap_or(GatewayCapabilities {
            partial_refunds: false,
            separate_capture: false,
        })
    }

    async fn authorize(&self, request: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        self.call("authorize", request).await
    }

    async fn capture(&self, request: &CaptureRequest) -> Result<PaymentOutcome, PortError> {
        self.call("capture", request).await
    }

    async fn charge(&self, request: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        self.call("charge", request).await
    }

    async fn refund(&self, request: &RefundRequest) -> Result<PaymentOutcome, PortError> {
        self.call("refund", request).await
    }

    async fn void(&self, request: &VoidRequest) -> Result<PaymentOutcome, PortError> {
        let implemented = Python::attach(|py| {
            self.host
                .bind(py)
                .hasattr("void")
                .inspect_err(|e| note_interrupt(py, e))
        })
        .map_err(|e| port_error("payment gateway void()", e))?;
        if implemented {
            return self.call("void", request).await;
        }
        Ok(request.unsupported())
    }
}

/// A host payment gateway seen through the core's port: each call goes
/// through the Rust trait exactly as the engine's payment steps call it
/// (outcomes checked, exceptions kept as `__cause__` of a `PortError`).
/// Hosts use it to test a gateway against the port's contract.
#[pyclass(frozen, module = "reservo._reservo", name = "GatewayPort")]
pub struct PyGatewayPort {
    gateway: std::sync::Arc<PyPaymentGateway>,
}

fn to_core(port: PortError) -> reservo::Error {
    reservo::Error::Port {
        port: "payment gateway",
        message: port.message,
        source: port.source,
    }
}

impl PyGatewayPort {
    fn call<R, F, Fut>(
        &self,
        request: &Bound<'_, PyAny>,
        what: &str,
        op: F,
    ) -> PyResult<crate::runtime::Pending>
    where
        R: serde::de::DeserializeOwned,
        F: FnOnce(std::sync::Arc<PyPaymentGateway>, R) -> Fut,
        Fut: std::future::Future<Output = Result<PaymentOutcome, PortError>> + Send + 'static,
    {
        let request: R = from_data(request, what)?;
        let outcome = op(self.gateway.clone(), request);
        Ok(crate::runtime::Pending::new(true, async move {
            outcome.await.map(Plain).map_err(to_core)
        }))
    }
}

#[pymethods]
impl PyGatewayPort {
    #[new]
    fn new(py: Python<'_>, gateway: Py<PyAny>) -> PyResult<Self> {
        Ok(PyGatewayPort {
            gateway: std::sync::Arc::new(PyPaymentGateway::new(py, gateway)?),
        })
    }

    /// The gateway's capabilities as the core reads them.
    fn capabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let caps = py.detach(|| self.gateway.capabilities());
        to_plain(py, &caps)
    }

    /// Authorizes without capturing, through the port.
    fn authorize(&self, request: &Bound<'_, PyAny>) -> PyResult<crate::runtime::Pending> {
        self.call(request, "authorize", |g, r: PaymentRequest| async move {
            g.authorize(&r).await
        })
    }

    /// Captures an authorization, through the port.
    fn capture(&self, request: &Bound<'_, PyAny>) -> PyResult<crate::runtime::Pending> {
        self.call(request, "capture", |g, r: CaptureRequest| async move {
            g.capture(&r).await
        })
    }

    /// Authorizes and captures, through the port.
    fn charge(&self, request: &Bound<'_, PyAny>) -> PyResult<crate::runtime::Pending> {
        self.call(request, "charge", |g, r: PaymentRequest| async move {
            g.charge(&r).await
        })
    }

    /// Refunds a payment, through the port.
    fn refund(&self, request: &Bound<'_, PyAny>) -> PyResult<crate::runtime::Pending> {
        self.call(request, "refund", |g, r: RefundRequest| async move {
            g.refund(&r).await
        })
    }

    /// Voids an authorization, through the port (the core's default
    /// decline when the gateway has no `void`).
    fn void(&self, request: &Bound<'_, PyAny>) -> PyResult<crate::runtime::Pending> {
        self.call(request, "void", |g, r: VoidRequest| async move {
            g.void(&r).await
        })
    }
}
