//! The core's storage conformance kit, for stores written in Python.
//!
//! `case_names()` lists the contract's cases; `run_case(name, factory)`
//! runs one on a fresh store from `factory` (a callable returning a
//! built-in store or a `reservo.Storage`) and returns `None` if the store
//! behaved as the contract says, or what it did wrong.

use pyo3::prelude::*;

use reservo::ports::Storage;
use reservo::store::conformance;

use crate::runtime::runtime;
use crate::stores::storage_of;

/// The names of the contract's cases, in the order the kit runs them.
#[pyfunction]
fn case_names() -> Vec<&'static str> {
    conformance::case_names()
}

/// Runs the case `name` on a fresh store made by `factory`; `None` if the
/// store passed, otherwise what it did wrong. Unknown names raise `KeyError`.
#[pyfunction]
fn run_case(py: Python<'_>, name: &str, factory: Py<PyAny>) -> PyResult<Option<String>> {
    let make = move || async move {
        Python::attach(|py| -> std::sync::Arc<dyn Storage> {
            match factory.call0(py) {
                Ok(store) => storage_of(store.bind(py)).0,
                Err(err) => panic!("the store factory raised {err}"),
            }
        })
    };
    let outcome = py.detach(|| runtime().block_on(conformance::run_case(name, make)));
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
