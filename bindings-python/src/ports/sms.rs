//! An [`SmsSender`] implemented in Python.
//!
//! The protocol (`reservo.SmsSender`): `send(message)` takes
//! `{"to": ..., "body": ..., "dedupe_key": ...}` and returns the provider's
//! message id, plainly or as `async def`. An exception means "not sent";
//! the notifier retries under the same dedupe key.

use async_trait::async_trait;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use reservo::ports::{PortError, SmsMessage, SmsSender};

use super::call_host;
use super::payment::port_error;
use crate::convert::to_plain;

/// An SMS sender implemented by a Python object.
pub struct PySmsSender {
    host: Py<PyAny>,
}

impl PySmsSender {
    /// Wraps a host object implementing `reservo.SmsSender`.
    pub fn new(host: Py<PyAny>) -> Self {
        PySmsSender { host }
    }
}

#[async_trait]
impl SmsSender for PySmsSender {
    async fn send(&self, message: &SmsMessage) -> Result<String, PortError> {
        call_host(&self.host, "send", |py| {
            PyTuple::new(py, [to_plain(py, message)?])
        })
        .await
        .and_then(|id| Python::attach(|py| id.extract::<String>(py)))
        .map_err(|e| port_error("sms sender send()", e))
    }
}
