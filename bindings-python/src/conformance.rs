//! The core's storage conformance kit, for stores written in Python.
//!
//! `case_names()` lists the contract's cases; `run_case(name, factory)`
//! runs one on a fresh store from `factory` (a callable returning a
//! built-in store or a `reservo.Storage`) and returns `None` if the store
//! behaved as the contract says, or what it did wrong.

use pyo3::prelude::*;

use reservo::store::conformance;

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
/// store, has that exception raised here (the case does not run). The
/// factory is called before the case starts, from the caller's thread, so
/// it may open a store that connects (a `PostgresStore`).
#[pyfunction]
fn run_case(py: Python<'_>, name: &str, factory: Py<PyAny>) -> PyResult<Option<String>> {
    if !conformance::case_names().contains(&name) {
        return Err(pyo3::exceptions::PyKeyError::new_err(format!(
            "no conformance case named {name:?}"
        )));
    }
    let (storage, _) = storage_of(factory.call0(py)?.bind(py))?;
    let make = move || async move { storage };
    let outcome = py.detach(|| runtime().block_on(conformance::run_case(name, make)));
    Ok(outcome.and_then(|case| case.failure))
}

/// Registers the conformance functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(case_names, m)?)?;
    m.add_function(wrap_pyfunction!(run_case, m)?)?;
    Ok(())
}
