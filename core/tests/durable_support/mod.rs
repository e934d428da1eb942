//! What the `durable_*` tests share: one nightly resource on a durable
//! store, a booking done the way a host does it (hold, then confirm, retried
//! on contention under the same idempotency keys), child processes that are
//! this test binary re-run on one ignored test, and the audit that compares
//! the night ledgers with the bookings.

#![allow(dead_code)] // each test file uses its own part of this

#[path = "../support/catalog.rs"]
mod catalog;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;

use chrono::NaiveDate;
use reservo::Error;
use reservo::booking::Customer;
use reservo::catalog::Property;
use reservo::engine::{Booking, ConfirmRequest, Engine, HoldRequest, Item, QuoteRequest};
use reservo::ids::{BookingId, ResourceId};
use reservo::party::Party;
use reservo::ports::Storage;
use reservo::time::{ManualClock, Stay};

#[allow(unused_imports)] // not every test file books on dates
pub use catalog::d;

/// The resource every durable test sells.
pub const RESOURCE: &str = "dorm";
/// What a child prints, then the booking id, once `confirm` has returned.
pub const BOOKED: &str = "booked ";
/// What a child prints once its store is open and it starts booking.
pub const READY: &str = "ready";

pub fn resource() -> ResourceId {
    catalog::rid(RESOURCE)
}

/// An engine on `store` whose clock stays at the fixture's start (1 June
/// 2026), so no hold expires while a test runs and July is in the future.
pub fn engine(store: Arc<dyn Storage>) -> Engine {
    let clock = Arc::new(ManualClock::new(catalog::start_of_tests()));
    Engine::builder(store).clock(clock).build()
}

/// A property with one nightly resource, [`RESOURCE`], of `units` units.
pub async fn set_up_catalog(engine: &Engine, units: u32) {
    let property = Property::new("hostel", "Hostel", "owner-ana", "Europe/Lisbon", "EUR")
        .expect("valid property");
    engine.put_property(property).await.expect("put property");
    engine
        .put_rate_plan(catalog::nightly_plan("flex", "40.00"))
        .await
        .expect("put rate plan");
    engine
        .put_resource(catalog::nightly(RESOURCE, "hostel", units, 2, "flex"))
        .await
        .expect("put resource");
}

/// The nights `[from, to)` as dates.
pub fn nights(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|n| *n < to).collect()
}

/// The runtime a child process books on: two worker threads, as many as
/// the machine has cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A small deterministic generator (xorshift64*), so a failing run can be
/// repeated from the seed it prints.
pub struct Rng(u64);

impl Rng {
    /// From `seed`; a zero seed is moved off zero.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// A seed from the clock and the process id.
    pub fn seed_from_entropy() -> u64 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_nanos() as u64);
        nanos ^ (u64::from(std::process::id()) << 32)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A stay of 1 to `max_nights` nights inside `[from, to)`.
    pub fn stay_within(&mut self, from: NaiveDate, to: NaiveDate, max_nights: u64) -> Stay {
        let span = (to - from).num_days() as u64;
        let length = 1 + self.below(max_nights.min(span));
        let start = from + chrono::Days::new(self.below(span - length + 1));
        Stay::new(start, start + chrono::Days::new(length)).expect("non-empty stay")
    }
}

/// How many times a host retries a command that reported `CONTENTION`.
const CONTENTION_RETRIES: u32 = 20;

/// Runs `command` again while it reports `CONTENTION` (the engine gave up
/// after many conflicts; nothing was applied, and the idempotency key makes
/// a retry safe).
async fn retrying_contention<T, F, Fut>(mut command: F) -> reservo::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reservo::Result<T>>,
{
    let mut tries = 0;
    loop {
        match command().await {
            Err(Error::Contention { .. }) if tries < CONTENTION_RETRIES => tries += 1,
            outcome => return outcome,
        }
    }
}

/// A valid customer, distinct per `n`.
pub fn customer(n: u64) -> Customer {
    Customer::new(
        &format!("Guest {n}"),
        &format!("+3519{:08}", n % 100_000_000),
        None,
    )
    .expect("valid customer")
}

/// A hold of one unit of [`RESOURCE`] for `stay`, under idempotency key
/// `{key}-hold`; `None` when a night is sold out.
pub async fn hold_one(engine: &Engine, key: &str, stay: Stay) -> Option<reservo::engine::Hold> {
    let request = HoldRequest::new(
        format!("{key}-hold"),
        vec![QuoteRequest::new(Item::stay(
            resource(),
            stay,
            Party::adults(1).expect("one adult"),
        ))],
        600,
    );
    match retrying_contention(|| engine.hold(&request)).await {
        Ok(hold) => Some(hold),
        Err(e) if e.code() == "UNAVAILABLE" => None,
        Err(e) => panic!("hold {key}: unexpected error {}: {e}", e.code()),
    }
}

/// Confirms `hold` for customer `guest` under idempotency key
/// `{key}-confirm`. Any error fails the caller: the hold is its own and live.
pub async fn confirm(
    engine: &Engine,
    key: &str,
    hold: &reservo::engine::Hold,
    guest: u64,
) -> Booking {
    let request = ConfirmRequest {
        idempotency_key: format!("{key}-confirm"),
        hold: hold.id.clone(),
        customer: Some(customer(guest)),
        items: None,
        attribution: Default::default(),
        metadata: Default::default(),
    };
    retrying_contention(|| engine.confirm(&request))
        .await
        .unwrap_or_else(|e| panic!("confirm {key}: unexpected error {}: {e}", e.code()))
}

/// Books one unit of `stay` (hold, then confirm) and acknowledges the
/// booking on stdout as [`BOOKED`]`<id>`; `false` when sold out.
pub async fn book_and_acknowledge(engine: &Engine, key: &str, stay: Stay, guest: u64) -> bool {
    let Some(hold) = hold_one(engine, key, stay).await else {
        return false;
    };
    let booking = confirm(engine, key, &hold, guest).await;
    say(&format!("{BOOKED}{}", booking.id));
    true
}

/// Prints one line to stdout and flushes it, so a parent reading the pipe
/// sees it even if this process is killed right after.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .expect("stdout");
}

/// A copy of this test binary running one ignored test as a child process,
/// with its stdout read line by line as it comes. The test harness prints
/// `test <name> ... ` before the test's first line, so markers are looked
/// for anywhere in a line, not only at its start.
pub struct ChildProcess {
    child: Child,
    lines: Receiver<String>,
    reader: JoinHandle<Vec<String>>,
}

impl ChildProcess {
    /// Starts `test` (an `#[ignore]`d test of this binary) with `env` set.
    pub fn spawn(test: &str, env: &[(&str, String)]) -> ChildProcess {
        let exe = std::env::current_exe().expect("test binary path");
        let mut child = Command::new(exe)
            .args([
                test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning a child process");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = send.send(line.clone());
                all.push(line);
            }
            all
        });
        ChildProcess {
            child,
            lines,
            reader,
        }
    }

    /// Waits up to `timeout` for the child to print [`READY`].
    pub fn wait_until_ready(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.ends_with(READY) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    }

    /// Kills the child with SIGKILL and returns every booking it had
    /// acknowledged. Fails if the child had already exited by itself: it
    /// is meant to work until killed, so that means it failed.
    pub fn kill(mut self) -> Vec<BookingId> {
        if let Some(status) = self.child.try_wait().expect("polling the child") {
            let mut stderr = String::new();
            if let Some(mut pipe) = self.child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            panic!("the child exited by itself before it was killed ({status}):\n{stderr}");
        }
        self.child.kill().expect("SIGKILL to the child");
        self.child.wait().expect("reaping the child");
        acknowledged(&self.reader.join().expect("stdout reader"))
    }

    /// Waits for the child to exit, fails unless it succeeded, and returns
    /// every booking it acknowledged.
    pub fn finish(mut self) -> Vec<BookingId> {
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            std::io::Read::read_to_string(&mut pipe, &mut stderr).expect("child stderr");
        }
        let status = self.child.wait().expect("waiting for the child");
        let lines = self.reader.join().expect("stdout reader");
        assert!(
            status.success(),
            "child failed ({status}):\n{}\n{stderr}",
            lines.join("\n")
        );
        acknowledged(&lines)
    }
}

fn acknowledged(lines: &[String]) -> Vec<BookingId> {
    lines
        .iter()
        .filter_map(|line| line.split_once(BOOKED).map(|(_, id)| id))
        .map(|id| BookingId::new(id).expect("a booking id"))
        .collect()
}

/// Units per night of [`RESOURCE`] as the night ledgers count them
/// (through `night_availability`) and as the bookings do (through
/// `bookings_for_resource`).
pub struct NightAudit {
    pub capacity: u32,
    /// Per night: (booked, held) from the ledgers.
    pub ledgers: BTreeMap<NaiveDate, (u32, u32)>,
    /// Per night: units taken by bookings.
    pub from_bookings: BTreeMap<NaiveDate, u32>,
    /// Every booking that takes a night of the range.
    pub bookings: Vec<Booking>,
}

impl NightAudit {
    /// Reads both views of `[from, to)`.
    pub async fn read(engine: &Engine, from: NaiveDate, to: NaiveDate) -> NightAudit {
        let nights = engine
            .night_availability(&resource(), from, to)
            .await
            .expect("night availability");
        let bookings = engine
            .bookings_for_resource(&resource(), from, to)
            .await
            .expect("bookings for resource");
        let mut from_bookings: BTreeMap<NaiveDate, u32> =
            nights.iter().map(|n| (n.date, 0)).collect();
        for booking in &bookings {
            for item in &booking.items {
                for used in &item.uses {
                    if let Some(units) = from_bookings.get_mut(&used.date) {
                        *units += used.units;
                    }
                }
            }
        }
        NightAudit {
            capacity: nights.first().map_or(0, |n| n.capacity),
            ledgers: nights
                .iter()
                .map(|n| (n.date, (n.booked, n.held)))
                .collect(),
            from_bookings,
            bookings,
        }
    }

    /// Fails unless no night is sold beyond capacity, by either count,
    /// and both counts agree night by night.
    pub fn assert_never_oversold(&self) {
        for (night, &(booked, held)) in &self.ledgers {
            assert!(
                booked + held <= self.capacity,
                "{night}: ledger has {booked} booked + {held} held > capacity {}",
                self.capacity
            );
            let by_bookings = self.from_bookings[night];
            assert!(
                by_bookings <= self.capacity,
                "{night}: bookings take {by_bookings} units > capacity {}",
                self.capacity
            );
            assert_eq!(
                booked, by_bookings,
                "{night}: the ledger's booked count disagrees with the bookings"
            );
        }
    }

    /// Fails unless every booking in `acknowledged` is stored and takes
    /// its nights.
    pub fn assert_has_every(&self, acknowledged: &[BookingId]) {
        let stored: BTreeSet<&BookingId> = self.bookings.iter().map(|b| &b.id).collect();
        let missing: Vec<&BookingId> = acknowledged
            .iter()
            .filter(|id| !stored.contains(id))
            .collect();
        assert!(
            missing.is_empty(),
            "{} acknowledged bookings are missing: {missing:?}",
            missing.len()
        );
    }
}

/// The PostgreSQL side: which server, fresh table prefixes, clean-up.
#[cfg(feature = "postgres")]
#[path = "../support/pg.rs"]
mod pg;

#[cfg(feature = "postgres")]
pub mod postgres {
    // Each test binary uses a part of them.
    #[allow(unused_imports)]
    pub use super::pg::{connect_with_pool as connect, drop_tables, fresh_prefix, inspect as raw};

    /// The server to test against, or `None` (after a notice) to skip;
    /// under `CI=true` a missing server fails the test.
    pub fn url() -> Option<String> {
        super::pg::pg_url(
            "cargo test -p reservo --all-features --test durable_multiprocess \
             --test durable_postgres_locks",
        )
    }
}
