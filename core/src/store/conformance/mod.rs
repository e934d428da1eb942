//! The storage conformance kit: the contract of
//! [`Storage`], as tests that run against any
//! implementation — Reservo's own stores and a host's (a Python, Node or
//! Kotlin object behind a binding).
//!
//! It owns the cases and the runner. It must never depend on how a store
//! works inside: every case talks to the store through the port only, on a
//! fresh empty store, and reports instead of panicking.
//!
//! Available with the cargo feature `conformance`. It needs **a
//! multi-thread tokio runtime with timers enabled** (`#[tokio::test(flavor =
//! "multi_thread")]`, or a runtime built with `enable_all`): the
//! concurrency cases spawn tasks that run on several threads at once. [`run`]
//! panics if called outside one.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use reservo::ports::Storage;
//! use reservo::store::{conformance, MemoryStore};
//!
//! # fn main() {
//! let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
//! let report = runtime.block_on(conformance::run(|| async {
//!     Arc::new(MemoryStore::new()) as Arc<dyn Storage>
//! }));
//! report.assert_all_passed();
//! assert_eq!(report.cases.len(), conformance::case_names().len());
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::ports::Storage;

mod check;
mod commits;
mod races;
mod reads;

/// How long one case may take before it is reported as hung. A guard
/// against a store that deadlocks, not a performance requirement.
const CASE_TIME_LIMIT: Duration = Duration::from_secs(120);

/// A boxed case: takes a fresh store, reports what it found.
type CaseFuture = Pin<Box<dyn Future<Output = Result<(), check::Failure>> + Send>>;

/// One named contract test.
struct Case {
    name: &'static str,
    run: fn(Arc<dyn Storage>) -> CaseFuture,
}

macro_rules! cases {
    ($($module:ident::$case:ident),* $(,)?) => {
        &[$(Case { name: stringify!($case), run: |store| Box::pin($module::$case(store)) }),*]
    };
}

/// Every case, in the order [`run`] runs them.
const CASES: &[Case] = cases![
    reads::get_returns_records_and_absences_in_request_order,
    reads::values_round_trip_byte_for_byte,
    reads::scan_returns_records_in_ascending_byte_order,
    reads::scan_includes_start_and_excludes_end,
    reads::scan_of_a_prefix_returns_exactly_that_prefix,
    reads::scan_returns_at_most_limit_records,
    commits::every_write_gives_put_keys_the_commit_version,
    commits::conditional_commit_applies_when_every_expectation_holds,
    commits::stale_version_is_a_conflict_that_changes_nothing,
    commits::stale_version_of_a_key_only_read_or_deleted_is_a_conflict_that_changes_nothing,
    commits::expected_absent_but_present_is_a_conflict_that_changes_nothing,
    commits::expected_present_but_absent_is_a_conflict_that_changes_nothing,
    commits::deleted_then_recreated_key_never_reuses_a_version,
    commits::deleting_an_absent_key_is_not_an_error,
    commits::failed_batch_applies_no_write_and_appends_no_event,
    commits::events_are_numbered_from_one_in_commit_order,
    commits::events_are_appended_only_with_their_writes,
    commits::read_events_pages_after_a_sequence_up_to_a_limit,
    races::racing_commits_on_one_version_have_exactly_one_winner,
    races::racing_increments_with_retries_lose_no_update,
    races::a_reader_following_the_outbox_during_commits_misses_nothing,
];

/// The names of every case, in the order [`run`] runs them: one test per
/// name is how a binding's test suite (pytest, node:test, JUnit) can list
/// them, calling [`run_case`] for each.
pub fn case_names() -> Vec<&'static str> {
    CASES.iter().map(|case| case.name).collect()
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutcome {
    /// The case's name, one of [`case_names`].
    pub name: &'static str,
    /// `None` if the store behaved as the contract says; otherwise what it
    /// did wrong (a failed check, an unexpected error, a panic, a hang).
    pub failure: Option<String>,
}

impl CaseOutcome {
    /// Whether the store passed this case.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// What [`run`] found: one [`CaseOutcome`] per case, in run order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConformanceReport {
    /// Every case that ran.
    pub cases: Vec<CaseOutcome>,
}

impl ConformanceReport {
    /// Whether every case passed.
    pub fn all_passed(&self) -> bool {
        self.cases.iter().all(CaseOutcome::passed)
    }

    /// The cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CaseOutcome> {
        self.cases.iter().filter(|case| !case.passed())
    }

    /// Panics, listing every failed case and why, unless all passed.
    #[track_caller]
    pub fn assert_all_passed(&self) {
        assert!(self.all_passed(), "storage conformance failed:\n{self}");
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for case in &self.cases {
            match &case.failure {
                None => writeln!(f, "ok   {}", case.name)?,
                Some(why) => writeln!(f, "FAIL {}: {why}", case.name)?,
            }
        }
        let failed = self.failures().count();
        write!(f, "{} passed, {failed} failed", self.cases.len() - failed)
    }
}

/// Runs every case against stores made by `factory`, one case at a time,
/// each on a fresh empty store, and reports them all.
///
/// `factory` is called once per case and must return a new, empty store
/// (for a durable store: a new file or database). A panic inside a case or
/// the store is reported as that case's failure, as is a case that has not
/// finished after two minutes.
///
/// # Panics
///
/// If not called inside a multi-thread tokio runtime.
pub async fn run<F, Fut>(factory: F) -> ConformanceReport
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Arc<dyn Storage>> + Send + 'static,
{
    let factory = Arc::new(factory);
    let mut cases = Vec::with_capacity(CASES.len());
    for case in CASES {
        let factory = Arc::clone(&factory);
        cases.push(run_one(case, move || factory()).await);
    }
    ConformanceReport { cases }
}

/// Runs the case called `name` (one of [`case_names`]) on a fresh store
/// from `factory`; `None` if there is no such case.
///
/// # Panics
///
/// If not called inside a multi-thread tokio runtime.
pub async fn run_case<F, Fut>(name: &str, factory: F) -> Option<CaseOutcome>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Arc<dyn Storage>> + Send + 'static,
{
    let case = CASES.iter().find(|case| case.name == name)?;
    Some(run_one(case, factory).await)
}

async fn run_one<F, Fut>(case: &'static Case, factory: F) -> CaseOutcome
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Arc<dyn Storage>> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::try_current()
        .expect("the storage conformance kit must run inside a tokio runtime");
    assert!(
        matches!(
            runtime.runtime_flavor(),
            tokio::runtime::RuntimeFlavor::MultiThread
        ),
        "the storage conformance kit needs a multi-thread tokio runtime, \
         e.g. #[tokio::test(flavor = \"multi_thread\")]"
    );
    let mut task = tokio::spawn(async move { (case.run)(factory().await).await });
    let failure = match tokio::time::timeout(CASE_TIME_LIMIT, &mut task).await {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(failure))) => Some(failure.to_string()),
        Ok(Err(join_error)) => Some(match join_error.try_into_panic() {
            Ok(panic) => format!("panicked: {}", panic_message(panic.as_ref())),
            Err(join_error) => format!("did not finish: {join_error}"),
        }),
        Err(_) => Some({
            task.abort();
            format!(
                "did not finish within {}s: a commit or read never returned",
                CASE_TIME_LIMIT.as_secs()
            )
        }),
    };
    CaseOutcome {
        name: case.name,
        failure,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
