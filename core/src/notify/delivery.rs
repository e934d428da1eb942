//! A delivery: one SMS for one audience about one outbox event, and where
//! it stands.
//!
//! Owns the lifecycle `pending → delivered | failed` and what a host can
//! read about it (attempts, last error, next attempt). Must never decide
//! when to retry (that is [`super::RetryPolicy`]) nor touch storage (that
//! is the dispatcher, through [`super::records`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::notify::{Audience, Rendered};
use crate::ports::{SmsMessage, StoredEvent};

/// Where a delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for an attempt at or after `next_attempt_at`.
    Pending {
        /// When it may next be attempted. While `claimed`, the end of the
        /// claiming dispatcher's lease.
        next_attempt_at: DateTime<Utc>,
        /// Whether a dispatcher has claimed it and not yet reported back.
        claimed: bool,
    },
    /// The sender accepted it.
    Delivered {
        /// When the sender accepted it.
        at: DateTime<Utc>,
        /// The provider's message id, as the sender returned it.
        provider_message_id: String,
    },
    /// Given up: it could not be rendered, or every attempt failed.
    Failed {
        /// When it was given up.
        at: DateTime<Utc>,
    },
}

/// One SMS for one audience about one outbox event.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use reservo::notify::{Audience, Delivery, DeliveryState};
/// let at = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
/// let failed = Delivery {
///     seq: 7,
///     event_kind: "booking.confirmed".into(),
///     audience: Audience::Guest,
///     dedupe_key: Delivery::dedupe_key_for(7, Audience::Guest),
///     message: None,
///     state: DeliveryState::Failed { at },
///     attempts: 0,
///     last_error: Some("invalid placeholder {customer.name}: has no value".into()),
///     created_at: at,
/// };
/// assert!(failed.is_failed());
/// assert_eq!(failed.dedupe_key, "reservo-sms-7-guest");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The outbox event's sequence number.
    pub seq: u64,
    /// The event's kind, such as `booking.confirmed`.
    pub event_kind: String,
    /// Who it is for.
    pub audience: Audience,
    /// Stable across every attempt, retry and restart:
    /// [`Delivery::dedupe_key_in`] the notifier's namespace, of `seq` and
    /// `audience`.
    pub dedupe_key: String,
    /// The rendered message; `None` when rendering failed (the error is in
    /// `last_error`).
    pub message: Option<SmsMessage>,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made to send it (claims included: a dispatcher that claims
    /// it and dies has used an attempt).
    pub attempts: u32,
    /// The last failure: the rendering error, the sender's message, or a
    /// lease that ran out.
    pub last_error: Option<String>,
    /// When the event was turned into this delivery.
    pub created_at: DateTime<Utc>,
}

impl Delivery {
    /// The dedupe key of the delivery of event `seq` to `audience`. An
    /// [`SmsSender`](crate::ports::SmsSender) that sees it twice must send
    /// at most once.
    ///
    /// ```
    /// use reservo::notify::{Audience, Delivery};
    /// assert_eq!(Delivery::dedupe_key_for(42, Audience::Owner), "reservo-sms-42-owner");
    /// ```
    pub fn dedupe_key_for(seq: u64, audience: Audience) -> String {
        Delivery::dedupe_key_in(None, seq, audience)
    }

    /// The dedupe key of the delivery of event `seq` to `audience` by a
    /// notifier with dedupe `namespace`
    /// ([`NotifierBuilder::dedupe_namespace`](super::NotifierBuilder::dedupe_namespace)).
    ///
    /// ```
    /// use reservo::notify::{Audience, Delivery};
    /// assert_eq!(Delivery::dedupe_key_in(Some("tenant-7"), 42, Audience::Guest),
    ///            "reservo-sms-tenant-7-42-guest");
    /// assert_eq!(Delivery::dedupe_key_in(None, 42, Audience::Guest), "reservo-sms-42-guest");
    /// ```
    pub fn dedupe_key_in(namespace: Option<&str>, seq: u64, audience: Audience) -> String {
        match namespace {
            Some(namespace) => format!("reservo-sms-{namespace}-{seq}-{}", audience.as_str()),
            None => format!("reservo-sms-{seq}-{}", audience.as_str()),
        }
    }

    /// The delivery of `event` to `audience` under `dedupe_key`, created
    /// at `now`: due at once if it rendered, failed with the rendering
    /// error if not.
    pub(super) fn from_rendered(
        event: &StoredEvent,
        audience: Audience,
        dedupe_key: String,
        rendered: Result<Rendered>,
        now: DateTime<Utc>,
    ) -> Delivery {
        let (message, state, last_error) = match rendered {
            Ok(Rendered { to, body }) => (
                Some(SmsMessage {
                    to: to.to_string(),
                    body,
                    dedupe_key: dedupe_key.clone(),
                }),
                DeliveryState::Pending {
                    next_attempt_at: now,
                    claimed: false,
                },
                None,
            ),
            Err(e) => (None, DeliveryState::Failed { at: now }, Some(e.to_string())),
        };
        Delivery {
            seq: event.seq,
            event_kind: event.kind.clone(),
            audience,
            dedupe_key,
            message,
            state,
            attempts: 0,
            last_error,
            created_at: now,
        }
    }

    /// Whether it was given up.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, DeliveryState::Failed { .. })
    }

    /// Whether the sender accepted it.
    pub fn is_delivered(&self) -> bool {
        matches!(self.state, DeliveryState::Delivered { .. })
    }

    /// When it may next be attempted, if it is pending.
    pub fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            DeliveryState::Pending {
                next_attempt_at, ..
            } => Some(next_attempt_at),
            _ => None,
        }
    }
}
