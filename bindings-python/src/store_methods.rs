//! The methods of `reservo.Storage` on the stores that ship with Reservo,
//! so that Python can read a built-in store directly (diagnostics, an
//! export, a test that looks at what the engine wrote) and wrap one in its
//! own `Storage` (metrics, tracing) that it passes to an engine.
//!
//! Each method answers a [`Pending`]: `wait()` it, or `await` it. Awaitable
//! answers are what the `Storage` protocol allows, so a wrapper's methods
//! can return them as they are. `commit` raises `reservo.CommitConflict`
//! (not a `StorageError`) when an expectation fails, as the protocol asks
//! of every store: a wrapper that lets it through keeps the conflict a
//! conflict for the engine, which re-reads and retries.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use reservo::ports::{KeyRange, Storage, StorageError};

use crate::convert::Count;
use crate::ports::{PyCommitBatch, PyRecord, PyStoredEvent};
use crate::runtime::Pending;
use crate::stores::{PyMemoryStore, PyPostgresStore, PySqliteStore};

/// `get(keys)`: the record at each key, or `None`, in the keys' order.
fn get(store: Arc<dyn Storage>, keys: Vec<String>) -> Pending {
    Pending::new(false, async move {
        let records = store.get(&keys).await?;
        Ok(records
            .into_iter()
            .map(|r| r.map(PyRecord::from))
            .collect::<Vec<_>>())
    })
}

/// `scan(start, end, limit)`: up to `limit` records with `start <= key <
/// end` (`end` `None`: no upper bound), in key order.
fn scan(store: Arc<dyn Storage>, start: String, end: Option<String>, limit: usize) -> Pending {
    Pending::new(false, async move {
        let records = store.scan(&KeyRange { start, end }, limit).await?;
        Ok(records.into_iter().map(PyRecord::from).collect::<Vec<_>>())
    })
}

/// `commit(batch)`: the batch applied atomically, answering the new
/// version; `CommitConflict(key)` when an expectation does not hold.
fn commit(store: Arc<dyn Storage>, batch: &PyCommitBatch) -> Pending {
    let batch = batch.batch.clone();
    Pending::new(false, async move {
        match store.commit(batch).await {
            Ok(committed) => Ok(CommitAnswer::Committed(committed.version.0)),
            Err(StorageError::Conflict { key }) => Ok(CommitAnswer::Conflict(key)),
            Err(e) => Err(e.into()),
        }
    })
}

/// `read_events(after, limit)`: up to `limit` outbox events with `seq >
/// after`, ascending.
fn read_events(store: Arc<dyn Storage>, after: u64, limit: usize) -> Pending {
    Pending::new(false, async move {
        let events = store.read_events(after, limit).await?;
        Ok(events
            .into_iter()
            .map(|e| PyStoredEvent {
                seq: e.seq,
                kind: e.kind,
                payload: e.payload,
            })
            .collect::<Vec<_>>())
    })
}

/// What a built-in store's `commit` answers in Python: the version, or
/// the protocol's `CommitConflict` raised.
enum CommitAnswer {
    Committed(u64),
    Conflict(String),
}

static CONFLICT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

impl<'py> IntoPyObject<'py> for CommitAnswer {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            CommitAnswer::Committed(version) => Ok(version.into_pyobject(py)?.into_any()),
            CommitAnswer::Conflict(key) => {
                let class = CONFLICT.import(py, "reservo.ports", "CommitConflict")?;
                Err(PyErr::from_value(class.call1((key,))?))
            }
        }
    }
}

/// The four `reservo.Storage` methods on a built-in store class whose
/// `store` field is an `Arc` of a [`Storage`].
macro_rules! storage_methods {
    ($class:ty) => {
        #[pymethods]
        impl $class {
            /// The records at `keys` (`None` for an absent key), in order.
            fn get(&self, keys: Vec<String>) -> Pending {
                get(self.store.clone(), keys)
            }

            /// Up to `limit` records in `[start, end)`, in key order.
            #[pyo3(signature = (start, end, limit))]
            fn scan(&self, start: String, end: Option<String>, limit: Count<usize>) -> Pending {
                scan(self.store.clone(), start, end, limit.0)
            }

            /// Applies `batch` atomically and answers the new version.
            fn commit(&self, batch: PyRef<'_, PyCommitBatch>) -> Pending {
                commit(self.store.clone(), &batch)
            }

            /// Up to `limit` outbox events after sequence number `after`.
            fn read_events(&self, after: Count<u64>, limit: Count<usize>) -> Pending {
                read_events(self.store.clone(), after.0, limit.0)
            }
        }
    };
}

storage_methods!(PyMemoryStore);
storage_methods!(PySqliteStore);
storage_methods!(PyPostgresStore);
