//! Running the core's futures from Python, blocking or awaited.
//!
//! Every engine operation is prepared once, as a [`Pending`] call that has
//! not started. `Pending.wait()` runs it on the calling thread with the GIL
//! released (what the blocking `reservo.Engine` does); awaiting it runs it
//! on the shared tokio runtime and resolves an asyncio future on the
//! caller's event loop (what `reservo.AsyncEngine` does). Ports written in
//! Python with `async def` run on the caller's loop when awaited, and on a
//! background loop of the package when the call blocks (see
//! [`crate::ports`]). Must never run Rust work while holding the GIL.
//!
//! A port that raises a `BaseException` that is not an `Exception`
//! (`KeyboardInterrupt`, `SystemExit`, `GeneratorExit`) fails like any
//! port, and the core handles that failure as it does any other; but the
//! call then ends by raising that very exception, whatever the core made
//! of the failure (an error, a retry left for later, or success), so that
//! Ctrl-C interrupts. [`note_interrupt`] keeps it for the call running.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3_async_runtimes::TaskLocals;

use crate::errors::core_err;

type Convert = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Py<PyAny>> + Send>;
/// A prepared call: the core's future, whose result converts to Python.
pub type Call = Pin<Box<dyn Future<Output = reservo::Result<Convert>> + Send>>;

tokio::task_local! {
    /// The first interrupt a port raised during the call this task runs.
    static INTERRUPT: RefCell<Option<PyErr>>;
}

/// Whether `err` is a `BaseException` that is not an `Exception`: an
/// interrupt (`KeyboardInterrupt`, `SystemExit`, `GeneratorExit`) that must
/// reach the caller as itself.
pub fn is_interrupt(py: Python<'_>, err: &PyErr) -> bool {
    !err.is_instance_of::<PyException>(py)
}

/// Keeps `err`, if it is an interrupt, for the end of the call that runs
/// on this task (the first one wins). Outside a call, does nothing.
pub fn note_interrupt(py: Python<'_>, err: &PyErr) {
    if is_interrupt(py, err) {
        let _outside_a_call = INTERRUPT.try_with(|slot| {
            slot.borrow_mut().get_or_insert_with(|| err.clone_ref(py));
        });
    }
}

/// Runs `fut` and returns its result with the interrupt a port raised
/// meanwhile, if any.
pub async fn watched<F, T>(fut: F) -> (reservo::Result<T>, Option<PyErr>)
where
    F: Future<Output = reservo::Result<T>>,
{
    INTERRUPT
        .scope(RefCell::new(None), async move {
            let result = fut.await;
            let interrupt = INTERRUPT.with(|slot| slot.borrow_mut().take());
            (result, interrupt)
        })
        .await
}

/// The call's outcome as Python sees it: the interrupt a port raised, if
/// any, else the result with a core error mapped to its exception.
pub fn outcome<T>(
    py: Python<'_>,
    (result, interrupt): (reservo::Result<T>, Option<PyErr>),
) -> PyResult<T> {
    match interrupt {
        Some(interrupt) => Err(interrupt),
        None => result.map_err(|e| core_err(py, e)),
    }
}

/// The tokio runtime every binding call shares (multi-threaded, all
/// drivers enabled, as the conformance kit and PostgreSQL store need).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

static BACKGROUND: PyOnceLock<TaskLocals> = PyOnceLock::new();

/// The event loop that runs `async def` ports for blocking calls: a daemon
/// thread started on first use by `reservo._loop`.
pub fn background_locals(py: Python<'_>) -> PyResult<TaskLocals> {
    BACKGROUND
        .get_or_try_init(py, || -> PyResult<TaskLocals> {
            let event_loop = py
                .import("reservo._loop")?
                .call_method0("background_loop")?;
            TaskLocals::new(event_loop).copy_context(py)
        })
        .cloned()
}

/// Runs `fut` to completion on the calling thread with the GIL released.
/// With `host_ports`, `async def` ports run on the background loop.
///
/// Refuses, with a `RuntimeError`, to block where it never could finish:
/// on a thread of the shared runtime (a port that an engine call is
/// running calls the blocking engine: tokio would panic), or, with host
/// ports, on the background loop itself (an `async def` port calls the
/// blocking engine, whose `async def` ports would wait for that loop).
pub fn block_on<F, T>(py: Python<'_>, host_ports: bool, fut: F) -> PyResult<T>
where
    F: Future<Output = reservo::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PyRuntimeError::new_err(
            "a blocking reservo call was made from inside a port that a reservo call is running: \
             it cannot wait there. Use reservo.AsyncEngine (await it) in ports, or call the \
             blocking Engine from another thread",
        ));
    }
    if host_ports && on_background_loop(py) {
        return Err(PyRuntimeError::new_err(
            "a blocking reservo call was made from an async def port running on reservo's \
             background loop: its own async def ports would wait for that loop forever. Use \
             reservo.AsyncEngine (await it) in async def ports",
        ));
    }
    let finished = if host_ports {
        let locals = background_locals(py)?;
        py.detach(|| runtime().block_on(pyo3_async_runtimes::tokio::scope(locals, watched(fut))))
    } else {
        py.detach(|| runtime().block_on(watched(fut)))
    };
    outcome(py, finished)
}

/// Whether the calling thread is running the background loop.
fn on_background_loop(py: Python<'_>) -> bool {
    let Some(locals) = BACKGROUND.get(py) else {
        return false;
    };
    pyo3_async_runtimes::get_running_loop(py)
        .map(|running| running.is(locals.event_loop(py)))
        .unwrap_or(false)
}

/// A prepared engine call that has not started: `wait()` it, or `await` it.
#[pyclass(module = "reservo._reservo")]
pub struct Pending {
    call: Mutex<Option<Call>>,
    host_ports: bool,
}

impl Pending {
    /// A call of `fut`, whose result converts to Python with `IntoPyObject`.
    pub fn new<F, T>(host_ports: bool, fut: F) -> Pending
    where
        F: Future<Output = reservo::Result<T>> + Send + 'static,
        T: for<'py> IntoPyObject<'py> + Send + 'static,
    {
        let call: Call = Box::pin(async move {
            let value = fut.await?;
            let convert: Convert = Box::new(move |py| value.into_py_any(py));
            Ok(convert)
        });
        Pending {
            call: Mutex::new(Some(call)),
            host_ports,
        }
    }

    fn take(&self) -> PyResult<Call> {
        self.call
            .lock()
            .map_err(|_| PyRuntimeError::new_err("a previous run of this call panicked"))?
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this call has already been run"))
    }
}

#[pymethods]
impl Pending {
    /// Runs the call on this thread, with the GIL released, and returns
    /// its result. A call runs once.
    fn wait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let call = self.take()?;
        let convert = block_on(py, self.host_ports, call)?;
        convert(py)
    }

    /// Runs the call on the shared runtime and resolves on the running
    /// asyncio loop (see [`crate::awaited`]).
    fn __await__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let call = self.take()?;
        crate::awaited::spawn(py, call)?.call_method0("__await__")
    }
}
