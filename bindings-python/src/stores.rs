//! The stores that ship with Reservo, and how a `store` argument becomes a
//! [`Storage`]: one of these, or any Python object that implements the
//! `reservo.Storage` protocol (wrapped in [`crate::ports::PyStorage`]).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;

use reservo::ports::Storage;
use reservo::store::{
    MemoryStore, PostgresOptions, PostgresStore, SqliteOptions, SqliteStore, Synchronous,
};

use crate::convert::Count;
use crate::errors::core_err;
use crate::ports::{PyStorage, require_methods};
use crate::runtime::{Pending, block_on};

/// Records in memory, for tests, demos and short-lived hosts.
#[pyclass(frozen, module = "reservo._reservo", name = "MemoryStore")]
pub struct PyMemoryStore {
    pub(crate) store: Arc<MemoryStore>,
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
///
/// `synchronous="normal"` trades durability for speed: the last commits
/// before a power loss or OS crash may be lost (never corrupting the
/// file; a crash of the process alone loses nothing). `lock_wait` is how
/// long a call waits for another process holding the file's lock before it
/// fails; `readers` how many idle reader connections are kept;
/// `commit_on_caller=False` hands every commit to the store's writer thread
/// instead of committing on the calling thread when nothing else writes.
#[pyclass(frozen, module = "reservo._reservo", name = "SqliteStore")]
pub struct PySqliteStore {
    pub(crate) store: Arc<SqliteStore>,
    path: PathBuf,
}

#[pymethods]
impl PySqliteStore {
    #[new]
    #[pyo3(
        signature = (
            path, *, synchronous="full", lock_wait=None, readers=Count(2), commit_on_caller=true
        ),
        text_signature = "(path, *, synchronous='full', lock_wait=None, readers=2, commit_on_caller=True)"
    )]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        synchronous: &str,
        lock_wait: Option<chrono::Duration>,
        readers: Count<usize>,
        commit_on_caller: bool,
    ) -> PyResult<Self> {
        let readers = readers.0;
        let options = sqlite_options(synchronous, lock_wait, readers)
            .map_err(|e| core_err(py, e))?
            .commit_on_caller(commit_on_caller);
        let opened = py.detach(|| SqliteStore::open_with(&path, options));
        let store = opened.map_err(|e| core_err(py, e.into()))?;
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

/// Checked [`SqliteOptions`] from the constructor's keywords.
fn sqlite_options(
    synchronous: &str,
    lock_wait: Option<chrono::Duration>,
    readers: usize,
) -> Result<SqliteOptions, reservo::Error> {
    let synchronous = match synchronous {
        "full" => Synchronous::Full,
        "normal" => Synchronous::Normal,
        other => {
            return Err(reservo::Error::invalid(
                "synchronous",
                format!("must be \"full\" or \"normal\", got {other:?}"),
            ));
        }
    };
    if readers == 0 {
        return Err(reservo::Error::invalid(
            "readers",
            "must be at least 1, got 0",
        ));
    }
    let mut options = SqliteOptions::default()
        .synchronous(synchronous)
        .readers(readers);
    if let Some(wait) = lock_wait {
        let wait = wait
            .to_std()
            .map_err(|_| reservo::Error::invalid("lock_wait", "must not be negative"))?;
        options = options.lock_wait(wait);
    }
    Ok(options)
}

/// PostgreSQL (or a compatible database), for many app instances sharing
/// one database. Applies its migrations on connect. TLS follows the URL's
/// `sslmode` and `sslrootcert` as in libpq (`psql`): across a network, use
/// `sslmode=verify-full&sslrootcert=<CA file or system>`. `pool_size` is
/// the most connections it opens at once; `pool_timeout` how many seconds
/// an operation waits for one (a free one of the pool, or a new one made,
/// the first connection included) before it fails with a `StorageError`
/// (`None`: as long as it takes); `query_timeout` how many seconds a
/// statement may run before the server cancels it (its `statement_timeout`,
/// unless the URL sets one) or a transaction may wait on a client that was
/// cut off before the server ends it (`idle_in_transaction_session_timeout`),
/// and, a second more, how long an operation waits for a server that
/// stopped answering before it closes the connection and fails with a
/// `StorageError` (`None`: no bound). `commits_in_flight` is the most
/// commit statements in flight at once: commits made meanwhile wait and go
/// to the server together, each still checked and applied on its own (set
/// it near the number of cores the server can give the app).
#[pyclass(frozen, module = "reservo._reservo", name = "PostgresStore")]
pub struct PyPostgresStore {
    pub(crate) store: Arc<PostgresStore>,
}

#[pymethods]
impl PyPostgresStore {
    #[new]
    #[pyo3(
        signature = (
            url, *, table_prefix=None, pool_size=Count(8), pool_timeout=Some(30.0),
            query_timeout=Some(30.0), commits_in_flight=Count(4)
        ),
        text_signature = "(url, *, table_prefix=None, pool_size=8, pool_timeout=30.0, query_timeout=30.0, commits_in_flight=4)"
    )]
    fn new(
        py: Python<'_>,
        url: String,
        table_prefix: Option<String>,
        pool_size: Count<usize>,
        pool_timeout: Option<f64>,
        query_timeout: Option<f64>,
        commits_in_flight: Count<usize>,
    ) -> PyResult<Self> {
        let (pool_size, commits_in_flight) = (pool_size.0, commits_in_flight.0);
        for (name, count) in [
            ("pool_size", pool_size),
            ("commits_in_flight", commits_in_flight),
        ] {
            if count == 0 {
                let error = reservo::Error::invalid(name, "must be at least 1, got 0");
                return Err(core_err(py, error));
            }
        }
        let pool_timeout = timeout_of(py, "pool_timeout", pool_timeout)?;
        let query_timeout = timeout_of(py, "query_timeout", query_timeout)?;
        let options = PostgresOptions::default()
            .with_pool_size(pool_size)
            .with_pool_timeout(pool_timeout)
            .with_query_timeout(query_timeout)
            .with_commits_in_flight(commits_in_flight);
        let options = match table_prefix {
            Some(prefix) => options.with_table_prefix(prefix),
            None => options,
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

/// A timeout option given in seconds: `None`, or a positive finite number.
fn timeout_of(
    py: Python<'_>,
    name: &str,
    seconds: Option<f64>,
) -> PyResult<Option<std::time::Duration>> {
    let Some(seconds) = seconds else {
        return Ok(None);
    };
    match std::time::Duration::try_from_secs_f64(seconds) {
        Ok(timeout) if !timeout.is_zero() => Ok(Some(timeout)),
        _ => {
            let error = reservo::Error::invalid(
                name,
                format!("must be a positive number of seconds or None, got {seconds}"),
            );
            Err(core_err(py, error))
        }
    }
}

/// The storage port behind a `store` argument, and whether it is the
/// host's own (Python) implementation. Anything else than a built-in store
/// must have the methods of `reservo.Storage`: a `TypeError` here, not a
/// `StorageError` at the first call.
pub fn storage_of(store: &Bound<'_, PyAny>) -> PyResult<(Arc<dyn Storage>, bool)> {
    if let Ok(s) = store.cast::<PyMemoryStore>() {
        return Ok((s.get().store.clone(), false));
    }
    if let Ok(s) = store.cast::<PySqliteStore>() {
        return Ok((s.get().store.clone(), false));
    }
    if let Ok(s) = store.cast::<PyPostgresStore>() {
        return Ok((s.get().store.clone(), false));
    }
    require_methods(
        store,
        "a MemoryStore, SqliteStore, PostgresStore or a reservo.Storage",
        &["get", "scan", "commit", "read_events"],
    )?;
    Ok((Arc::new(PyStorage::new(store.clone().unbind())), true))
}

/// Copies every record and outbox event of `source` into the empty
/// `target` (see the facade's `reservo.copy_store`); answers
/// `(records, events)`.
#[pyfunction]
pub fn copy_store(source: &Bound<'_, PyAny>, target: &Bound<'_, PyAny>) -> PyResult<Pending> {
    let (source, source_is_host) = storage_of(source)?;
    let (target, target_is_host) = storage_of(target)?;
    Ok(Pending::new(source_is_host || target_is_host, async move {
        let report = reservo::store::copy_store(&*source, &*target).await?;
        Ok((report.records, report.events))
    }))
}
