//! The stores that ship with Reservo, and how a `store` argument becomes a
//! [`Storage`]: one of these, or any Python object that implements the
//! `reservo.Storage` protocol (wrapped in [`crate::ports::PyStorage`]).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;

use reservo::ports::Storage;
use reservo::store::{MemoryStore, PostgresOptions, PostgresStore, SqliteStore};

use crate::ports::PyStorage;
use crate::runtime::block_on;

/// Records in memory, for tests, demos and short-lived hosts.
#[pyclass(frozen, module = "reservo._reservo", name = "MemoryStore")]
pub struct PyMemoryStore {
    store: Arc<MemoryStore>,
}

#[pymethods]
impl PyMemoryStore {
    #[new]
    fn new() -> Self {
        PyMemoryStore {
            store: Arc::new(MemoryStore::new()),
        }
    }

    fn __repr__(&self) -> &'static str {
        "MemoryStore()"
    }
}

/// The embedded, durable store: one SQLite file (created if missing).
#[pyclass(frozen, module = "reservo._reservo", name = "SqliteStore")]
pub struct PySqliteStore {
    store: Arc<SqliteStore>,
    path: PathBuf,
}

#[pymethods]
impl PySqliteStore {
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let opened = py.detach(|| SqliteStore::open(&path));
        let store = opened.map_err(|e| crate::errors::core_err(py, e.into()))?;
        Ok(PySqliteStore {
            store: Arc::new(store),
            path,
        })
    }

    /// The database file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    fn __repr__(&self) -> String {
        format!("SqliteStore({:?})", self.path)
    }
}

/// PostgreSQL (or a compatible database), for many app instances sharing
/// one database. Applies its migrations on connect. TLS follows the URL's
/// `sslmode` and `sslrootcert` as in libpq (`psql`): across a network, use
/// `sslmode=verify-full&sslrootcert=<CA file or system>`.
#[pyclass(frozen, module = "reservo._reservo", name = "PostgresStore")]
pub struct PyPostgresStore {
    store: Arc<PostgresStore>,
}

#[pymethods]
impl PyPostgresStore {
    #[new]
    #[pyo3(signature = (url, *, table_prefix=None))]
    fn new(py: Python<'_>, url: String, table_prefix: Option<String>) -> PyResult<Self> {
        let options = match table_prefix {
            Some(prefix) => PostgresOptions::default().with_table_prefix(prefix),
            None => PostgresOptions::default(),
        };
        let store = block_on(py, false, async move {
            Ok(PostgresStore::connect_with(&url, options).await?)
        })?;
        Ok(PyPostgresStore {
            store: Arc::new(store),
        })
    }

    fn __repr__(&self) -> &'static str {
        "PostgresStore(...)"
    }
}

/// The storage port behind a `store` argument, and whether it is the
/// host's own (Python) implementation.
pub fn storage_of(store: &Bound<'_, PyAny>) -> (Arc<dyn Storage>, bool) {
    if let Ok(s) = store.cast::<PyMemoryStore>() {
        return (s.get().store.clone(), false);
    }
    if let Ok(s) = store.cast::<PySqliteStore>() {
        return (s.get().store.clone(), false);
    }
    if let Ok(s) = store.cast::<PyPostgresStore>() {
        return (s.get().store.clone(), false);
    }
    (Arc::new(PyStorage::new(store.clone().unbind())), true)
}
