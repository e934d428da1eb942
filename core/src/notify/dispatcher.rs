//! The [`Notifier`]: turns outbox events into deliveries and sends them.
//!
//! Owns the dispatch loop a host drives from its own scheduler: advance
//! the durable cursor over the outbox, claim due deliveries under a lease,
//! send them through the [`SmsSender`], and record each outcome. Every step
//! is one commit that expects what it read, so any number of notifiers may
//! share one store. Must never write anything but its own `sms/` records:
//! it only reads the outbox, so a failing SMS can never affect a booking.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::notify::records::{self, CURSOR, FAILED, QUEUED};
use crate::notify::{Audience, Delivery, DeliveryState, NotifierConfig, SmsTemplates};
use crate::ports::{
    Clock, CommitBatch, KeyRange, Record, SmsSender, Storage, StorageError, StoredEvent, Version,
};
use crate::time::SystemClock;

/// What one [`Notifier::run_once`] did; serializes as its counts (for a
/// host's logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DispatchReport {
    /// Outbox events this notifier moved its cursor over.
    pub events: usize,
    /// Deliveries created from those events, ready to send.
    pub queued: usize,
    /// Deliveries the sender accepted, recorded as delivered.
    pub sent: usize,
    /// Sends that failed and were scheduled again after a backoff.
    pub retried: usize,
    /// Deliveries given up: not renderable, or out of attempts.
    pub failed: usize,
    /// Deliveries another notifier claimed first, or took over after this
    /// one's lease ran out; they are the other notifier's to finish.
    pub lost: usize,
    /// Due deliveries whose records this notifier cannot read — written by
    /// a newer Reservo (a rolling upgrade), or damaged. They are left where
    /// they are, for a notifier that can read them, and the run goes on
    /// with the others; [`Notifier::pending_deliveries`] fails naming such
    /// a record's key.
    pub unreadable: usize,
}

impl DispatchReport {
    /// Whether the run found nothing to do: no new events, nothing due
    /// that it could read. Records it cannot read are passed over again by
    /// every run, so they do not count: a host calling
    /// [`Notifier::run_once`] until idle is not kept looping by them.
    ///
    /// ```
    /// use reservo::notify::DispatchReport;
    /// assert!(DispatchReport::default().is_idle());
    /// assert!(DispatchReport { unreadable: 1, ..Default::default() }.is_idle());
    /// assert!(!DispatchReport { retried: 1, ..Default::default() }.is_idle());
    /// ```
    pub fn is_idle(&self) -> bool {
        let DispatchReport {
            events,
            queued,
            sent,
            retried,
            failed,
            lost,
            unreadable: _,
        } = *self;
        events + queued + sent + retried + failed + lost == 0
    }
}

/// Builds a [`Notifier`]; start with [`Notifier::builder`].
pub struct NotifierBuilder {
    notifier: Notifier,
}

impl NotifierBuilder {
    /// Uses `templates` instead of [`SmsTemplates::defaults`]. Every
    /// audience they have a template for needs a recipient path
    /// ([`SmsTemplates::set_recipient`]), or [`NotifierBuilder::build`]
    /// refuses them.
    pub fn templates(mut self, templates: SmsTemplates) -> Self {
        self.notifier.templates = templates;
        self
    }

    /// Uses `clock` instead of the system clock (tests, simulations).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.notifier.clock = clock;
        self
    }

    /// Overrides the defaults of [`NotifierConfig`].
    pub fn config(mut self, config: NotifierConfig) -> Self {
        self.notifier.config = config;
        self
    }

    /// Puts `namespace` into every dedupe key this notifier creates
    /// (`reservo-sms-<namespace>-<seq>-<audience>`), for stores that share
    /// one SMS provider account: each store numbers its events from 1, so
    /// without a namespace two stores' deliveries would carry the same keys
    /// and a provider that drops repeats would drop one of them. Use a
    /// stable id of the store or tenant (1–64 ASCII letters, digits, `.`,
    /// `_` or `-`; checked by [`NotifierBuilder::build`]). Deliveries
    /// already queued keep their keys.
    pub fn dedupe_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.notifier.namespace = Some(namespace.into());
        self
    }

    /// The notifier, once the config is checked
    /// ([`NotifierConfig::validate`]), every template has a recipient
    /// path and the dedupe namespace, if any, is well formed; any failing
    /// is an [`Error::InvalidInput`].
    pub fn build(self) -> Result<Notifier> {
        self.notifier.config.validate()?;
        if let Some(namespace) = &self.notifier.namespace {
            check_namespace(namespace)?;
        }
        self.notifier.templates.check_recipients()?;
        Ok(self.notifier)
    }
}

/// Sends an SMS for every outbox event that has a template, at least once.
///
/// A host calls [`Notifier::run_once`] from its own scheduler (the core has
/// no runtime) and reads [`Notifier::failed_deliveries`]. Several notifiers,
/// in one process or many, may share one store: the cursor and every claim
/// are committed with expectations, so no event is queued twice and no
/// delivery is sent by two notifiers within one lease. A notifier that dies
/// mid-send leaves a claim that runs out; the delivery is then sent again
/// under the same [dedupe key](crate::ports::SmsMessage::dedupe_key), so
/// senders must drop repeats.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use reservo::notify::Notifier;
/// use reservo::ports::{CommitBatch, NewEvent, PortError, SmsMessage, SmsSender, Storage};
/// use reservo::store::MemoryStore;
///
/// struct Print;
/// #[async_trait]
/// impl SmsSender for Print {
///     async fn send(&self, message: &SmsMessage) -> Result<String, PortError> {
///         println!("to {}: {}", message.to, message.body);
///         Ok(format!("id-{}", message.dedupe_key))
///     }
/// }
///
/// let store = Arc::new(MemoryStore::new());
/// let payload = serde_json::json!({
///     "booking": {"id": "bk_1"},
///     "property": {"name": "Villa Sol"},
///     "period": {"start": "2026-07-10", "end": "2026-07-13"},
///     "customer": {"name": "Ana", "phone": "+351912345678"},
/// });
/// let event = NewEvent { kind: "booking.confirmed".into(), payload: payload.to_string().into_bytes() };
/// store.commit(CommitBatch { events: vec![event], ..Default::default() }).await.unwrap();
///
/// let notifier = Notifier::builder(store, Arc::new(Print)).build().unwrap();
/// let report = notifier.run_once(100).await.unwrap();
/// assert_eq!((report.events, report.queued, report.sent), (1, 1, 1));
/// assert!(notifier.run_once(100).await.unwrap().is_idle());
/// # });
/// ```
pub struct Notifier {
    storage: Arc<dyn Storage>,
    sender: Arc<dyn SmsSender>,
    clock: Arc<dyn Clock>,
    templates: SmsTemplates,
    config: NotifierConfig,
    namespace: Option<String>,
}

/// Refuses a dedupe namespace that is empty, longer than 64 characters or
/// has characters other than ASCII letters, digits, `.`, `_` and `-`.
fn check_namespace(namespace: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if namespace.is_empty() || namespace.len() > 64 || !namespace.chars().all(allowed) {
        return Err(Error::invalid(
            "dedupe_namespace",
            format!("{namespace:?} must be 1-64 ASCII letters, digits, '.', '_' or '-'"),
        ));
    }
    Ok(())
}

impl Notifier {
    /// Starts building a notifier over `storage` (the store the engine
    /// writes its outbox to) and `sender`, with [`SmsTemplates::defaults`],
    /// the system clock and [`NotifierConfig::default`].
    pub fn builder(storage: Arc<dyn Storage>, sender: Arc<dyn SmsSender>) -> NotifierBuilder {
        NotifierBuilder {
            notifier: Notifier {
                storage,
                sender,
                clock: Arc::new(SystemClock),
                templates: SmsTemplates::defaults(),
                config: NotifierConfig::default(),
                namespace: None,
            },
        }
    }

    /// One round of work, bounded by `max`: turns up to `max` new outbox
    /// events into deliveries, then attempts up to `max` deliveries that
    /// are due. Call it again while the report is not
    /// [idle](DispatchReport::is_idle) to catch up on a backlog.
    ///
    /// Errors only when storage fails or its cursor record cannot be
    /// read; a failing sender is recorded, never returned, and a delivery
    /// record it cannot read is counted as
    /// [`unreadable`](DispatchReport::unreadable) and passed over.
    /// `max == 0` is an [`Error::InvalidInput`].
    pub async fn run_once(&self, max: usize) -> Result<DispatchReport> {
        if max == 0 {
            return Err(Error::invalid("max", "must be at least 1, got 0"));
        }
        let mut report = DispatchReport::default();
        self.ingest(max, &mut report).await?;
        let mut range = records::due_by(self.clock.now());
        let mut attempted = 0;
        // Unreadable records stay at the front of the queue: scan past
        // them, so that they never hold up the deliveries due after them.
        while attempted < max {
            let due = self.storage.scan(&range, max - attempted).await?;
            let exhausted = due.len() < max - attempted;
            let Some(last) = due.last() else { break };
            range.start = crate::store::key_after(&last.key);
            for record in due {
                match records::decode_delivery(&record) {
                    Ok(delivery) => {
                        attempted += 1;
                        self.attempt(record, delivery, &mut report).await?;
                    }
                    Err(_) => report.unreadable += 1,
                }
            }
            if exhausted {
                break;
            }
        }
        Ok(report)
    }

    /// Deliveries given up, oldest event first, at most `limit`.
    pub async fn failed_deliveries(&self, limit: usize) -> Result<Vec<Delivery>> {
        self.list(&KeyRange::prefix(FAILED), limit).await
    }

    /// Deliveries not yet delivered nor given up, earliest due first, at
    /// most `limit`.
    pub async fn pending_deliveries(&self, limit: usize) -> Result<Vec<Delivery>> {
        self.list(&KeyRange::prefix(QUEUED), limit).await
    }

    /// The last outbox sequence number turned into deliveries (0: none).
    pub async fn cursor(&self) -> Result<u64> {
        Ok(self.read_cursor().await?.1)
    }

    /// The cursor record (absent before the first events) and its position.
    async fn read_cursor(&self) -> Result<(Option<Record>, u64)> {
        let keys = [CURSOR.to_owned()];
        let record = self.storage.get(&keys).await?.pop().flatten();
        let after = records::decode_cursor(record.as_ref())?;
        Ok((record, after))
    }

    async fn list(&self, range: &KeyRange, limit: usize) -> Result<Vec<Delivery>> {
        let found = self.storage.scan(range, limit).await?;
        found.iter().map(records::decode_delivery).collect()
    }

    /// Moves the cursor over up to `max` events, creating their deliveries
    /// in the same commit. If another notifier moved it first, leaves the
    /// events to it.
    async fn ingest(&self, max: usize, report: &mut DispatchReport) -> Result<()> {
        let (cursor, after) = self.read_cursor().await?;
        let events = self.storage.read_events(after, max).await?;
        let Some(last) = events.last() else {
            return Ok(());
        };
        let now = self.clock.now();
        let deliveries: Vec<Delivery> = events
            .iter()
            .flat_map(|event| self.deliveries_of(event, now))
            .collect();
        let batch = records::ingest(cursor.as_ref(), last.seq, &deliveries);
        if self.commit(batch).await?.is_none() {
            return Ok(());
        }
        report.events = events.len();
        for delivery in &deliveries {
            if delivery.is_failed() {
                report.failed += 1;
            } else {
                report.queued += 1;
            }
        }
        Ok(())
    }

    /// One delivery per audience with a template and a phone number: due
    /// now, or failed if it cannot be rendered.
    fn deliveries_of(&self, event: &StoredEvent, now: DateTime<Utc>) -> Vec<Delivery> {
        let payload = serde_json::from_slice::<Value>(&event.payload).map_err(|e| {
            format!(
                "event {} ({}) has a payload that is not JSON: {e}",
                event.seq, event.kind
            )
        });
        let mut out = Vec::new();
        for audience in Audience::ALL {
            let rendered = match &payload {
                Ok(payload) => self.templates.render(&event.kind, audience, payload),
                Err(message) => self
                    .templates
                    .get(&event.kind, audience)
                    .map(|_| Err(Error::invalid("event payload", message.clone()))),
            };
            if let Some(rendered) = rendered {
                let key = Delivery::dedupe_key_in(self.namespace.as_deref(), event.seq, audience);
                out.push(Delivery::from_rendered(event, audience, key, rendered, now));
            }
        }
        out
    }

    /// Claims a due delivery (`delivery`, decoded from `record`), sends
    /// it, and records the outcome.
    async fn attempt(
        &self,
        record: Record,
        mut delivery: Delivery,
        report: &mut DispatchReport,
    ) -> Result<()> {
        let (DeliveryState::Pending { claimed, .. }, Some(message)) =
            (&delivery.state, delivery.message.clone())
        else {
            // Decodes, but is not what a queued delivery must be.
            report.unreadable += 1;
            return Ok(());
        };
        let now = self.clock.now();
        if *claimed {
            delivery.last_error = Some(format!(
                "attempt {} was claimed but not reported back before its lease ran out",
                delivery.attempts
            ));
        }
        // Out of attempts: its last claim died, or the limit was lowered
        // since it was scheduled.
        if delivery.attempts >= self.config.retry.max_attempts {
            delivery.state = DeliveryState::Failed { at: now };
            let batch = records::replace(&record.key, record.version, &delivery);
            let applied = self.commit(batch).await?.is_some();
            report.count(Outcome::Failed, applied);
            return Ok(());
        }
        delivery.attempts += 1;
        delivery.state = DeliveryState::Pending {
            next_attempt_at: now + self.config.lease,
            claimed: true,
        };
        let claim = records::replace(&record.key, record.version, &delivery);
        let Some(claimed_at) = self.commit(claim).await? else {
            report.lost += 1;
            return Ok(());
        };
        let claimed_key = records::key_of(&delivery);

        let sent = self.sender.send(&message).await;
        let now = self.clock.now();
        let retry = &self.config.retry;
        let outcome = match sent {
            Ok(provider_message_id) => {
                delivery.state = DeliveryState::Delivered {
                    at: now,
                    provider_message_id,
                };
                Outcome::Sent
            }
            Err(e) => {
                delivery.last_error = Some(e.message);
                if delivery.attempts >= retry.max_attempts {
                    delivery.state = DeliveryState::Failed { at: now };
                    Outcome::Failed
                } else {
                    delivery.state = DeliveryState::Pending {
                        next_attempt_at: now + retry.delay_after(delivery.attempts),
                        claimed: false,
                    };
                    Outcome::Retried
                }
            }
        };
        let batch = records::replace(&claimed_key, claimed_at, &delivery);
        let applied = self.commit(batch).await?.is_some();
        report.count(outcome, applied);
        Ok(())
    }

    /// Commits `batch`: `Some(version)` if applied, `None` on a conflict
    /// (another notifier got there first).
    async fn commit(&self, batch: CommitBatch) -> Result<Option<Version>> {
        match self.storage.commit(batch).await {
            Ok(committed) => Ok(Some(committed.version)),
            Err(StorageError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// How an attempt ended, for the report.
enum Outcome {
    Sent,
    Retried,
    Failed,
}

impl DispatchReport {
    /// Counts an outcome whose commit was `applied`; one that was not
    /// belongs to whichever notifier took the delivery over.
    fn count(&mut self, outcome: Outcome, applied: bool) {
        let counter = match outcome {
            _ if !applied => &mut self.lost,
            Outcome::Sent => &mut self.sent,
            Outcome::Retried => &mut self.retried,
            Outcome::Failed => &mut self.failed,
        };
        *counter += 1;
    }
}
