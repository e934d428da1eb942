//! The core's storage conformance kit, for stores written in Python.
//!
//! `case_names()` lists the contract's cases; `run_case(name, factory)`
//! runs one on a fresh store from `factory` (a callable returning a
//! built-in store or a `reservo.Storage`) and returns `None` if the store
//! behaved as the contract says, or what it did wrong.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

use reservo::ports::Storage;
use reservo::store::conformance;

use crate::ports::PyStorage;
use crate::runtime::runtime;
use crate::stores::storage_of;

/// The names of the contract's cases, in the order the kit runs them.
#[pyfunction]
fn case_names() -> Vec<&'static str> {
    conformance::case_names()
}

/// Runs the case `name` on a fresh store made by `factory`; `None` if the
/// store passed, otherwise what it did wrong. Unknown names raise
/// `KeyError`; a factory that raises, or returns something that is not a
/// store, has that exception raised here (the case does not run on it).
#[pyfunction]
fn run_case(py: Python<'_>, name: &str, factory: Py<PyAny>) -> PyResult<Option<String>> {
    let refused: Arc<Mutex<Option<PyErr>>> = Arc::default();
    let make = {
        let refused = refused.clone();
        move || async move {
            Python::attach(|py| -> Arc<dyn Storage> {
                match factory
                    .call0(py)
                    .and_then(|store| storage_of(store.bind(py)))
                {
                    Ok((storage, _)) => storage,
                    Err(err) => {
                        // A store that fails every call, so the case ends;
                        // the factory's exception is what the caller sees.
                        refused
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(err);
                        Arc::new(PyStorage::new(py.None()))
                    }
                }
            })
        }
    };
    let outcome = py.detach(|| runtime().block_on(conformance::run_case(name, make)));
    if let Some(err) = refused.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(err);
    }
    match outcome {
        Some(case) => Ok(case.failure),
        None => Err(pyo3::exceptions::PyKeyError::new_err(format!(
            "no conformance case named {name:?}"
        ))),
    }
}

/// Registers the conformance functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(case_names, m)?)?;
    m.add_function(wrap_pyfunction!(run_case, m)?)?;
    Ok(())
}
