//! Ports the host implements in Python: storage, payment gateway, SMS.
//!
//! A host object is held as `Py<PyAny>` and its methods are called with the
//! GIL taken for the call only. A method may be a plain function or an
//! `async def`: an awaitable result runs on the event loop of the awaiting
//! caller (`AsyncEngine`), or on the package's background loop when the
//! engine call blocks. An exception the host raises travels inside the
//! port's error as its source, so the caller sees it as `__cause__`; an
//! interrupt (`KeyboardInterrupt`, `SystemExit`, `GeneratorExit`) does too,
//! and is also kept for the end of the call, which raises it as itself
//! (see [`crate::runtime`]). Must never hold the GIL across an await.

mod payment;
mod sms;
mod storage;

pub use payment::{PyGatewayPort, PyPaymentGateway};
pub use sms::PySmsSender;
pub use storage::{PyCommitBatch, PyRecord, PyStorage, PyStoredEvent};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::runtime::{background_locals, note_interrupt};

/// Refuses, with a `TypeError` when the engine is built, a host object
/// that lacks a method its port calls (`port` names the protocol), rather
/// than a `StorageError` or `PaymentOutcomeUnknown` at the first call.
pub fn require_methods(host: &Bound<'_, PyAny>, port: &str, methods: &[&str]) -> PyResult<()> {
    for method in methods {
        let callable = host
            .getattr(*method)
            .map(|attr| attr.is_callable())
            .unwrap_or(false);
        if !callable {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "expected {port}, got {} with no method {method}()",
                host.get_type().name()?
            )));
        }
    }
    Ok(())
}

/// Calls `method` on the host object `target` with `args` (built with the
/// GIL held) and awaits the result if the method is `async def`. An
/// interrupt it raises is noted for the end of the call running.
pub async fn call_host<A>(target: &Py<PyAny>, method: &'static str, args: A) -> PyResult<Py<PyAny>>
where
    A: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
{
    let result = call_and_await(target, method, args).await;
    if let Err(err) = &result {
        Python::attach(|py| note_interrupt(py, err));
    }
    result
}

async fn call_and_await<A>(target: &Py<PyAny>, method: &'static str, args: A) -> PyResult<Py<PyAny>>
where
    A: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
{
    let awaiting = Python::attach(|py| -> PyResult<Result<Py<PyAny>, _>> {
        let result = target.bind(py).call_method1(method, args(py)?)?;
        if !result.hasattr(intern!(py, "__await__"))? {
            return Ok(Ok(result.unbind()));
        }
        let locals = pyo3_async_runtimes::tokio::get_current_locals(py)
            .or_else(|_| background_locals(py))?;
        Ok(Err(pyo3_async_runtimes::into_future_with_locals(
            &locals, result,
        )?))
    })?;
    match awaiting {
        Ok(value) => Ok(value),
        Err(future) => future.await,
    }
}
