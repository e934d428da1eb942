//! Errors: the core's [`reservo::Error`] as the Python exception of its code.
//!
//! The exception classes live in `reservo/errors.py` (one per code, under
//! `reservo.ReservoError`; invalid-input codes also subclass `ValueError`).
//! This module looks the class up by [`reservo::Error::code`] and, when the
//! error came from a port the host implemented in Python, chains the host's
//! original exception as `__cause__` (an interrupt it raised is raised as
//! itself). Must never map on messages: codes only.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::runtime::is_interrupt;

static CLASSES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Bound<'_, PyDict>> {
    let dict = CLASSES.get_or_try_init(py, || -> PyResult<Py<PyDict>> {
        let module = py.import("reservo.errors")?;
        Ok(module.getattr("BY_CODE")?.cast_into::<PyDict>()?.unbind())
    })?;
    Ok(dict.bind(py))
}

/// The exception for a core error, with the host's exception (if the error
/// came from a Python port) as its `__cause__`; or, when the host raised an
/// interrupt (a `BaseException` that is not an `Exception`, such as
/// `KeyboardInterrupt`), that very exception, unwrapped.
pub fn core_err(py: Python<'_>, error: reservo::Error) -> PyErr {
    if let Some(interrupt) = host_cause(&error).filter(|cause| is_interrupt(py, cause)) {
        return interrupt.clone_ref(py);
    }
    let class = match classes(py).and_then(|c| c.get_item(error.code())) {
        Ok(Some(class)) => class,
        Ok(None) => {
            return PyRuntimeError::new_err(format!(
                "{}: {error} (no exception class for this code: reservo.errors is out of step with the core)",
                error.code()
            ));
        }
        Err(lookup) => return lookup,
    };
    let err = match class.call1((error.to_string(),)) {
        Ok(instance) => PyErr::from_value(instance),
        Err(failed) => return failed,
    };
    if let Some(cause) = host_cause(&error) {
        err.set_cause(py, Some(cause.clone_ref(py)));
    }
    err
}

/// The Python exception somewhere in the error's source chain, if any.
fn host_cause(error: &reservo::Error) -> Option<&PyErr> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(py_err) = current.downcast_ref::<PyErr>() {
            return Some(py_err);
        }
        source = current.source();
    }
    None
}

/// Shorthand for `map_err(|e| core_err(py, e))` on core results.
pub trait IntoPyResult<T> {
    /// The result with a core error turned into its Python exception.
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for reservo::Result<T> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| core_err(py, e))
    }
}
