//! The Rust side of `bench/overhead.py`: the same engine calls the Python
//! bench makes, timed in a loop that never leaves Rust, so one run prints
//! the binding's overhead against the core's own cost.

use std::time::Instant;

use pyo3::prelude::*;

use reservo::engine::{ConfirmRequest, HoldRequest, QuoteRequest};

use crate::engine::PyEngine;
use crate::errors::core_err;
use crate::runtime::runtime;
use crate::values::{PyCustomer, PyItem};

/// Seconds taken by `n` quotes of `item`, called from Rust.
#[pyfunction]
fn bench_quote(
    py: Python<'_>,
    engine: PyRef<'_, PyEngine>,
    item: PyRef<'_, PyItem>,
    n: usize,
) -> PyResult<f64> {
    let engine = engine.engine.clone();
    let request = QuoteRequest::new(item.inner.clone());
    let elapsed = py.detach(|| {
        runtime().block_on(async {
            let start = Instant::now();
            for _ in 0..n {
                engine.quote(&request).await?;
            }
            Ok(start.elapsed().as_secs_f64())
        })
    });
    elapsed.map_err(|e: reservo::Error| core_err(py, e))
}

/// Seconds taken by `n` holds of `item`, each confirmed for `customer`,
/// called from Rust; idempotency keys start with `key_prefix`.
#[pyfunction]
fn bench_hold_confirm(
    py: Python<'_>,
    engine: PyRef<'_, PyEngine>,
    item: PyRef<'_, PyItem>,
    customer: PyRef<'_, PyCustomer>,
    n: usize,
    key_prefix: String,
) -> PyResult<f64> {
    let engine = engine.engine.clone();
    let (item, customer) = (item.inner.clone(), customer.inner.clone());
    let elapsed = py.detach(|| {
        runtime().block_on(async {
            let start = Instant::now();
            for i in 0..n {
                let hold = engine
                    .hold(&HoldRequest::new(
                        format!("{key_prefix}-h{i}"),
                        vec![QuoteRequest::new(item.clone())],
                        600,
                    ))
                    .await?;
                engine
                    .confirm(&ConfirmRequest::new(
                        format!("{key_prefix}-c{i}"),
                        hold.id,
                        customer.clone(),
                    ))
                    .await?;
            }
            Ok(start.elapsed().as_secs_f64())
        })
    });
    elapsed.map_err(|e: reservo::Error| core_err(py, e))
}

/// Registers the bench functions (as `_bench_quote`, `_bench_hold_confirm`).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("_bench_quote", wrap_pyfunction!(bench_quote, m)?)?;
    m.add(
        "_bench_hold_confirm",
        wrap_pyfunction!(bench_hold_confirm, m)?,
    )?;
    Ok(())
}
