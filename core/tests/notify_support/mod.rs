//! What the notify tests share: a scriptable SMS sender, a manual clock,
//! outbox events shaped like the payloads documented in `reservo::notify`,
//! and a way to crash a dispatcher mid-send.

#![allow(dead_code)] // each test file uses its own part of this

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reservo::notify::{Notifier, NotifierConfig, RetryPolicy};
use reservo::ports::{CommitBatch, NewEvent, PortError, SmsMessage, SmsSender, Storage};
use reservo::time::ManualClock;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// What a [`TestSender`] does with each send.
#[derive(Debug)]
pub enum Script {
    /// Accept every message.
    Accept,
    /// Fail this many sends, then accept.
    FailTimes(u32),
    /// Fail every send.
    FailForever,
    /// Never finish a send (a dispatcher stuck or dead mid-send).
    Hang,
    /// Wait for a permit from the gate, then accept.
    WaitFor(Arc<Semaphore>),
}

/// An [`SmsSender`] that follows a [`Script`] and records every call.
#[derive(Debug)]
pub struct TestSender {
    name: &'static str,
    script: Mutex<Script>,
    calls: Mutex<Vec<SmsMessage>>,
    accepted: Mutex<Vec<SmsMessage>>,
    entered: Semaphore,
}

impl TestSender {
    pub fn new(name: &'static str, script: Script) -> Arc<TestSender> {
        Arc::new(TestSender {
            name,
            script: Mutex::new(script),
            calls: Mutex::new(Vec::new()),
            accepted: Mutex::new(Vec::new()),
            entered: Semaphore::new(0),
        })
    }

    pub fn accepting() -> Arc<TestSender> {
        TestSender::new("sender", Script::Accept)
    }

    /// Every message it was asked to send, in order.
    pub fn calls(&self) -> Vec<SmsMessage> {
        self.calls.lock().unwrap().clone()
    }

    /// Every message it accepted, in order.
    pub fn accepted(&self) -> Vec<SmsMessage> {
        self.accepted.lock().unwrap().clone()
    }

    /// Waits until a send has started.
    pub async fn entered(&self) {
        self.entered.acquire().await.unwrap().forget();
    }
}

#[async_trait]
impl SmsSender for TestSender {
    async fn send(&self, message: &SmsMessage) -> Result<String, PortError> {
        self.calls.lock().unwrap().push(message.clone());
        self.entered.add_permits(1);
        // Let other tasks run between the claim and the outcome.
        tokio::task::yield_now().await;
        let gate = {
            let mut script = self.script.lock().unwrap();
            match &mut *script {
                Script::Accept => None,
                Script::FailTimes(0) => None,
                Script::FailTimes(n) => {
                    *n -= 1;
                    return Err(PortError::new("provider answered 503"));
                }
                Script::FailForever => return Err(PortError::new("provider answered 503")),
                Script::Hang => Some(Arc::new(Semaphore::new(0))),
                Script::WaitFor(gate) => Some(gate.clone()),
            }
        };
        if let Some(gate) = gate {
            gate.acquire().await.unwrap().forget();
        }
        let mut accepted = self.accepted.lock().unwrap();
        accepted.push(message.clone());
        Ok(format!("{}-{}", self.name, accepted.len()))
    }
}

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap()
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(start()))
}

/// Backoff 10 s, 30 s, 90 s, ... capped at 5 min; 4 attempts; 60 s lease.
pub fn config() -> NotifierConfig {
    NotifierConfig {
        retry: RetryPolicy {
            base: Duration::seconds(10),
            factor: 3,
            cap: Duration::minutes(5),
            max_attempts: 4,
        },
        lease: Duration::seconds(60),
    }
}

pub fn notifier(
    store: Arc<dyn Storage>,
    sender: Arc<TestSender>,
    clock: Arc<ManualClock>,
) -> Notifier {
    Notifier::builder(store, sender)
        .clock(clock)
        .config(config())
        .build()
        .unwrap()
}

/// A `booking.confirmed`-style payload with a guest and an owner, and no
/// broker.
pub fn booking(id: &str) -> Value {
    json!({
        "booking":  {"id": id, "status": "confirmed"},
        "property": {"id": "villa-sol", "name": "Villa Sol"},
        "period":   {"start": "2026-07-10", "end": "2026-07-13"},
        "customer": {"name": "Ana Lima", "phone": "+351912345678"},
        "owner":    {"name": "Rui Costa", "phone": "+351934567890"}
    })
}

/// A payload with only a guest to message.
pub fn guest_only(id: &str) -> Value {
    let mut payload = booking(id);
    payload.as_object_mut().unwrap().remove("owner");
    payload
}

/// Appends one event per payload to the outbox, in one commit.
pub async fn emit(store: &dyn Storage, kind: &str, payloads: &[Value]) {
    let events = payloads
        .iter()
        .map(|p| NewEvent {
            kind: kind.into(),
            payload: p.to_string().into_bytes(),
        })
        .collect();
    store
        .commit(CommitBatch {
            events,
            ..Default::default()
        })
        .await
        .unwrap();
}

/// Polls `work` once and drops it: whatever it committed before its first
/// wait stays, the rest never happens — a process dying mid-call.
pub fn crash_during<F: Future>(work: F) {
    let mut work = pin!(work);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        matches!(work.as_mut().poll(&mut cx), Poll::Pending),
        "the work finished before it could crash"
    );
}
