//! Engine calls awaited from asyncio: run on the shared tokio runtime,
//! settled on the awaiting loop, and finished before the interpreter goes.
//!
//! Owns the bridge from a tokio task to an asyncio future, and the rule
//! that no task of the runtime touches Python once the interpreter has
//! begun to shut down. A task that takes the GIL to settle its future can
//! lose it again inside that call (`call_soon_threadsafe` wakes the loop
//! with a write that releases the GIL); if the program ends meanwhile
//! (`asyncio.run` returned, the interpreter finalizes), the task cannot
//! take the GIL back and the process dies with SIGSEGV or SIGABRT. So
//! every call is counted until its task has let go of Python for good, and
//! [`finish_calls`], which `reservo` registers with `atexit`, cancels the
//! calls still running (as a cancelled asyncio task would be) and waits for
//! them to end. Must never hold the GIL while it waits.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::task::AbortHandle;

use crate::runtime::{Call, outcome, runtime, watched};

/// The calls in flight, by number, with their task once spawned.
struct Calls {
    next: u64,
    running: BTreeMap<u64, Option<AbortHandle>>,
}

static CALLS: Mutex<Calls> = Mutex::new(Calls {
    next: 0,
    running: BTreeMap::new(),
});
static ENDED: Condvar = Condvar::new();

/// How long [`finish_calls`] waits for cancelled calls to end.
const FINISH_WAIT: Duration = Duration::from_secs(10);

fn calls() -> MutexGuard<'static, Calls> {
    CALLS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One call in flight, counted until dropped: at the end of its task,
/// after the task's last use of Python, or when the task is cancelled.
struct Ticket(u64);

impl Ticket {
    fn issue() -> Ticket {
        let mut calls = calls();
        let number = calls.next;
        calls.next += 1;
        calls.running.insert(number, None);
        Ticket(number)
    }

    /// Records the task that runs the call, unless it has already ended.
    fn attach_task(number: u64, task: AbortHandle) {
        if let Some(slot) = calls().running.get_mut(&number) {
            *slot = Some(task);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        calls().running.remove(&self.0);
        ENDED.notify_all();
    }
}

static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Runs `call` on the shared runtime and returns an asyncio future of the
/// running loop that settles with its result. Cancelling that future
/// cancels the call.
pub fn spawn(py: Python<'_>, call: Call) -> PyResult<Bound<'_, PyAny>> {
    let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
    let future = locals
        .event_loop(py)
        .call_method0(intern!(py, "create_future"))?;
    let resolve = RESOLVE
        .get_or_try_init(py, || {
            py.import("reservo._loop")?
                .getattr("resolve")
                .map(Bound::unbind)
        })?
        .clone_ref(py);
    let target = future.clone().unbind();
    let ticket = Ticket::issue();
    let number = ticket.0;
    let task = runtime().spawn(async move {
        let finished = pyo3_async_runtimes::tokio::scope(locals.clone(), watched(call)).await;
        Python::attach(move |py| {
            let (error, value) = match outcome(py, finished).and_then(|convert| convert(py)) {
                Ok(value) => (py.None(), value),
                Err(err) => (err.into_value(py).into_any(), py.None()),
            };
            // A loop closed meanwhile refuses the callback: nobody awaits.
            let _closed = locals.event_loop(py).call_method1(
                intern!(py, "call_soon_threadsafe"),
                (resolve, target, error, value),
            );
        });
        drop(ticket);
    });
    let cancel = CancelOnDone {
        task: task.abort_handle(),
    };
    Ticket::attach_task(number, task.abort_handle());
    future.call_method1(intern!(py, "add_done_callback"), (cancel,))?;
    Ok(future)
}

/// The done callback of an awaited call's future: a cancelled future
/// cancels its task.
#[pyclass(module = "reservo._reservo")]
struct CancelOnDone {
    task: AbortHandle,
}

#[pymethods]
impl CancelOnDone {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future
            .call_method0(intern!(future.py(), "cancelled"))?
            .is_truthy()?
        {
            self.task.abort();
        }
        Ok(())
    }
}

/// Cancels the awaited calls still running and waits, without the GIL,
/// up to ten seconds for their tasks to end. `reservo` registers it with
/// `atexit`, so no task touches Python while the interpreter finalizes.
/// Returns how many calls were still running when it gave up (0: all
/// ended).
#[pyfunction]
pub fn finish_calls(py: Python<'_>) -> usize {
    py.detach(|| {
        let deadline = Instant::now() + FINISH_WAIT;
        let mut calls = calls();
        for task in calls.running.values().flatten() {
            task.abort();
        }
        while !calls.running.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            calls = ENDED
                .wait_timeout(calls, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        calls.running.len()
    })
}
