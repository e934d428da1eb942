//! A [`Storage`] implemented in Python, and the record types it exchanges.
//!
//! The protocol (`reservo.Storage`): `get(keys) -> list[Record | None]`,
//! `scan(start, end, limit) -> list[Record]`, `commit(batch) -> int` (the
//! new version; raise `reservo.CommitConflict(key)` when an expectation
//! fails), `read_events(after, limit) -> list[StoredEvent]`. Any other
//! exception is a backend failure whose outcome is unknown.

use async_trait::async_trait;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyTuple, PyType};

use reservo::ports::{
    CommitBatch, Committed, Durability, Key, KeyRange, Mutation, Record, Storage, StorageError,
    StoredEvent, Version,
};

use super::call_host;
use crate::convert::Count;

/// A stored record: key, opaque value bytes and version.
#[pyclass(frozen, module = "reservo._reservo", name = "Record")]
pub struct PyRecord {
    pub(crate) key: String,
    pub(crate) value: Vec<u8>,
    pub(crate) version: u64,
}

#[pymethods]
impl PyRecord {
    #[new]
    fn new(key: String, value: Vec<u8>, version: Count<u64>) -> Self {
        let version = version.0;
        PyRecord {
            key,
            value,
            version,
        }
    }

    /// The record's key.
    #[getter]
    fn key(&self) -> &str {
        &self.key
    }

    /// The value exactly as the engine wrote it.
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.value)
    }

    /// The version the store gave it.
    #[getter]
    fn version(&self) -> u64 {
        self.version
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        (&self.key, &self.value, self.version) == (&other.key, &other.value, other.version)
    }

    fn __hash__(&self) -> u64 {
        crate::convert::hash_of(&(&self.key, &self.value, self.version))
    }

    fn __repr__(&self) -> String {
        format!(
            "Record(key={:?}, version={}, {} bytes)",
            self.key,
            self.version,
            self.value.len()
        )
    }
}

impl From<Record> for PyRecord {
    fn from(record: Record) -> Self {
        PyRecord {
            key: record.key,
            value: record.value,
            version: record.version.0,
        }
    }
}

/// An outbox event as a store keeps it: sequence number, kind, payload bytes.
#[pyclass(frozen, module = "reservo._reservo", name = "StoredEvent")]
pub struct PyStoredEvent {
    pub(crate) seq: u64,
    pub(crate) kind: String,
    pub(crate) payload: Vec<u8>,
}

#[pymethods]
impl PyStoredEvent {
    #[new]
    fn new(seq: Count<u64>, kind: String, payload: Vec<u8>) -> Self {
        let seq = seq.0;
        PyStoredEvent { seq, kind, payload }
    }

    /// Position in the outbox, from 1, in commit order.
    #[getter]
    fn seq(&self) -> u64 {
        self.seq
    }

    /// The event's kind.
    #[getter]
    fn kind(&self) -> &str {
        &self.kind
    }

    /// The event's body, opaque to the store.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.payload)
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        (self.seq, &self.kind, &self.payload) == (other.seq, &other.kind, &other.payload)
    }

    fn __hash__(&self) -> u64 {
        crate::convert::hash_of(&(self.seq, &self.kind, &self.payload))
    }

    fn __repr__(&self) -> String {
        format!("StoredEvent(seq={}, kind={:?})", self.seq, self.kind)
    }
}

/// One atomic change for a store to apply: all of it, or none of it.
#[pyclass(frozen, module = "reservo._reservo", name = "CommitBatch")]
pub struct PyCommitBatch {
    pub(crate) batch: CommitBatch,
}

#[pymethods]
impl PyCommitBatch {
    /// `(key, version)` pairs every key must match before anything is
    /// applied; `version` `None` means the key must be absent.
    #[getter]
    fn expectations(&self) -> Vec<(String, Option<u64>)> {
        self.batch
            .expectations
            .iter()
            .map(|e| (e.key.clone(), e.version.map(|v| v.0)))
            .collect()
    }

    /// `(key, value)` writes in order; `value` `None` deletes the key.
    #[getter]
    fn mutations<'py>(&self, py: Python<'py>) -> Vec<(String, Option<Bound<'py, PyBytes>>)> {
        self.batch
            .mutations
            .iter()
            .map(|m| match m {
                Mutation::Put { key, value } => (key.clone(), Some(PyBytes::new(py, value))),
                Mutation::Delete { key } => (key.clone(), None),
            })
            .collect()
    }

    /// `(kind, payload)` events to append if and only if the writes apply.
    #[getter]
    fn events<'py>(&self, py: Python<'py>) -> Vec<(String, Bound<'py, PyBytes>)> {
        self.batch
            .events
            .iter()
            .map(|e| (e.kind.clone(), PyBytes::new(py, &e.payload)))
            .collect()
    }

    /// `"durable"`: the commit must be on stable storage before `commit`
    /// returns. `"deferred"`: it may be acknowledged first and lost to a
    /// power cut until the store's next durable commit, which must make it
    /// durable too (a store may treat every batch as durable).
    #[getter]
    fn durability(&self) -> &'static str {
        match self.batch.durability {
            Durability::Durable => "durable",
            Durability::Deferred => "deferred",
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "CommitBatch({} expectations, {} mutations, {} events)",
            self.batch.expectations.len(),
            self.batch.mutations.len(),
            self.batch.events.len()
        )
    }
}

static CONFLICT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The host's exception as a storage error: `CommitConflict` is a conflict,
/// anything else a backend failure carrying the exception.
fn storage_error(method: &str, err: PyErr) -> StorageError {
    let conflict_key = Python::attach(|py| -> Option<String> {
        let class = CONFLICT
            .import(py, "reservo.ports", "CommitConflict")
            .ok()?;
        if !err.is_instance(py, class) {
            return None;
        }
        err.value(py).getattr("key").ok()?.extract().ok()
    });
    match conflict_key {
        Some(key) => StorageError::Conflict { key },
        None => StorageError::Backend {
            message: format!("host storage {method}() raised {err}"),
            source: Some(Box::new(err)),
        },
    }
}

fn record_of(ob: &Bound<'_, PyAny>) -> PyResult<Record> {
    let record = ob.cast::<PyRecord>()?.get();
    Ok(Record {
        key: record.key.clone(),
        value: record.value.clone(),
        version: Version(record.version),
    })
}

/// Refuses a `scan()` answer that breaks the contract: more than `limit`
/// records, a key outside the range, or keys not in ascending order.
fn check_scan(range: &KeyRange, limit: usize, records: &[Record]) -> PyResult<()> {
    let invalid = |message: String| Err(pyo3::exceptions::PyValueError::new_err(message));
    if records.len() > limit {
        return invalid(format!(
            "scan() returned {} records with a limit of {limit}",
            records.len()
        ));
    }
    for (i, record) in records.iter().enumerate() {
        let key = &record.key;
        if !range.contains(key) {
            return invalid(format!(
                "scan() returned {key:?}, outside [{:?}, {:?})",
                range.start, range.end
            ));
        }
        if i > 0 && records[i - 1].key >= *key {
            return invalid(format!(
                "scan() returned {key:?} after {:?}: keys must ascend",
                records[i - 1].key
            ));
        }
    }
    Ok(())
}

/// Refuses a `read_events()` answer that breaks the contract: more than
/// `limit` events, or sequence numbers not ascending from after `after` (a
/// reader's cursor would never move on).
fn check_events(after: u64, limit: usize, events: &[StoredEvent]) -> PyResult<()> {
    if events.len() > limit {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "read_events() returned {} events with a limit of {limit}",
            events.len()
        )));
    }
    let mut previous = after;
    for event in events {
        if event.seq <= previous {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "read_events({after}, ...) returned seq {} after {previous}: sequence numbers must ascend past `after`",
                event.seq
            )));
        }
        previous = event.seq;
    }
    Ok(())
}

/// A storage port implemented by a Python object.
pub struct PyStorage {
    host: Py<PyAny>,
}

impl PyStorage {
    /// Wraps a host object implementing `reservo.Storage`.
    pub fn new(host: Py<PyAny>) -> Self {
        PyStorage { host }
    }
}

#[async_trait]
impl Storage for PyStorage {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let result = call_host(&self.host, "get", |py| PyTuple::new(py, [keys.to_vec()]))
            .await
            .and_then(|list| {
                Python::attach(|py| {
                    let list = list.bind(py);
                    let records: Vec<Option<Record>> = list
                        .try_iter()?
                        .map(|entry| {
                            let entry = entry?;
                            if entry.is_none() {
                                Ok(None)
                            } else {
                                record_of(&entry).map(Some)
                            }
                        })
                        .collect::<PyResult<_>>()?;
                    if records.len() != keys.len() {
                        return Err(pyo3::exceptions::PyValueError::new_err(format!(
                            "get() returned {} entries for {} keys",
                            records.len(),
                            keys.len()
                        )));
                    }
                    for (asked, record) in keys.iter().zip(&records) {
                        if let Some(record) = record.as_ref().filter(|r| &r.key != asked) {
                            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                                "get() returned the record of {:?} where {asked:?} was asked: \
                                 entries must be in the order of the keys",
                                record.key
                            )));
                        }
                    }
                    Ok(records)
                })
            });
        result.map_err(|e| storage_error("get", e))
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        let (start, end) = (range.start.clone(), range.end.clone());
        call_host(&self.host, "scan", move |py| {
            (start, end, limit).into_pyobject(py)
        })
        .await
        .and_then(|list| {
            Python::attach(|py| {
                let records: Vec<Record> = list
                    .bind(py)
                    .try_iter()?
                    .map(|r| record_of(&r?))
                    .collect::<PyResult<_>>()?;
                check_scan(range, limit, &records)?;
                Ok(records)
            })
        })
        .map_err(|e| storage_error("scan", e))
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        call_host(&self.host, "commit", move |py| {
            PyTuple::new(py, [Bound::new(py, PyCommitBatch { batch })?])
        })
        .await
        .and_then(|version| Python::attach(|py| version.extract::<u64>(py)))
        .map(|version| Committed {
            version: Version(version),
        })
        .map_err(|e| storage_error("commit", e))
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        call_host(&self.host, "read_events", move |py| {
            (after, limit).into_pyobject(py)
        })
        .await
        .and_then(|list| {
            Python::attach(|py| {
                let events: Vec<StoredEvent> = list
                    .bind(py)
                    .try_iter()?
                    .map(|e| {
                        let e = e?;
                        let event = e.cast::<PyStoredEvent>()?.get();
                        Ok(StoredEvent {
                            seq: event.seq,
                            kind: event.kind.clone(),
                            payload: event.payload.clone(),
                        })
                    })
                    .collect::<PyResult<_>>()?;
                check_events(after, limit, &events)?;
                Ok(events)
            })
        })
        .map_err(|e| storage_error("read_events", e))
    }
}
