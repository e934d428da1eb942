//! A hold's changes before it resolves on its own: release, extend and
//! update.
//!
//! Owns giving a hold's inventory back ([`Engine::release`]), moving its
//! expiry within its maximum lifetime ([`Engine::extend`]) and naming its
//! customer or replacing its metadata ([`Engine::update_hold`]). Each is one
//! commit pinned to the hold record's version, with the command's
//! idempotency record and its event, so a retried call with the same key
//! answers with the hold instead of acting twice. Must never let a hold
//! outlive its `max_until`. Taking a hold and the expiry sweep live in
//! [`super::hold`], confirmation in [`super::confirm`].

use chrono::{Duration, SubsecRound};
use serde::{Deserialize, Serialize};

use crate::booking::{Customer, Metadata};
use crate::error::{Error, Result};
use crate::ids::HoldId;

use super::Engine;
use super::events::HoldEvent;
use super::hold::{Hold, HoldState};
use super::idempotency::{self, Fingerprint, remember};
use super::keys;
use super::txn::{ReadAhead, Txn, retry_on_conflict};

/// A request to give a hold's inventory back before it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRequest {
    /// The host's key for this command: a replay answers with the hold
    /// instead of failing with `HOLD_ALREADY_RESOLVED`.
    pub idempotency_key: String,
    /// The hold.
    pub hold: HoldId,
}

impl ReleaseRequest {
    /// Releases `hold`.
    pub fn new(idempotency_key: impl Into<String>, hold: HoldId) -> Self {
        ReleaseRequest {
            idempotency_key: idempotency_key.into(),
            hold,
        }
    }
}

/// A request to move a hold's expiry to `ttl_seconds` from now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendRequest {
    /// The host's key for this command: a replay answers with the hold and
    /// does not move its expiry again.
    pub idempotency_key: String,
    /// The hold.
    pub hold: HoldId,
    /// Seconds from now to the new expiry (at least 1).
    pub ttl_seconds: u32,
}

impl ExtendRequest {
    /// Extends `hold` to `ttl_seconds` from now.
    pub fn new(idempotency_key: impl Into<String>, hold: HoldId, ttl_seconds: u32) -> Self {
        ExtendRequest {
            idempotency_key: idempotency_key.into(),
            hold,
            ttl_seconds,
        }
    }
}

/// A request to name the customer checking out on an active hold, or to
/// replace its metadata: for a checkout that learns who the guest is
/// after taking the hold (an abandoned-cart reminder needs their phone,
/// and a confirmation without a customer books for them). It can also
/// take the customer off again ([`UpdateHoldRequest::without_customer`]):
/// a guest who asks not to be contacted about the cart, or a phone given
/// by mistake.
///
/// ```
/// # use reservo::booking::{Customer, Metadata};
/// # use reservo::engine::UpdateHoldRequest;
/// # use reservo::ids::HoldId;
/// let request = UpdateHoldRequest::new("checkout-7-guest", HoldId::new("h1").unwrap())
///     .with_customer(Customer::new("Ana Lima", "+351912345678", None).unwrap())
///     .with_metadata(Metadata::from_pairs([("cart_id", "c-7")]).unwrap());
/// assert!(request.customer.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateHoldRequest {
    /// The host's key for this command: a replay answers with the hold.
    pub idempotency_key: String,
    /// The hold.
    pub hold: HoldId,
    /// The customer checking out, replacing the hold's; `None` keeps it
    /// (unless `remove_customer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Takes the hold's customer off: its confirmation must then name one.
    /// Refused together with `customer`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove_customer: bool,
    /// The hold's new metadata, replacing all of the old (empty clears
    /// it); `None` keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

impl UpdateHoldRequest {
    /// Changes nothing yet: name a customer, metadata or both.
    pub fn new(idempotency_key: impl Into<String>, hold: HoldId) -> Self {
        UpdateHoldRequest {
            idempotency_key: idempotency_key.into(),
            hold,
            customer: None,
            remove_customer: false,
            metadata: None,
        }
    }

    /// This request with `customer` on the hold.
    pub fn with_customer(mut self, customer: Customer) -> Self {
        self.customer = Some(customer);
        self.remove_customer = false;
        self
    }

    /// This request taking the hold's customer off (a hold without one
    /// is left as it is).
    ///
    /// ```
    /// # use reservo::engine::UpdateHoldRequest;
    /// # use reservo::ids::HoldId;
    /// let request = UpdateHoldRequest::new("cart-7-forget", HoldId::new("h1").unwrap())
    ///     .without_customer();
    /// assert!(request.remove_customer && request.customer.is_none());
    /// ```
    pub fn without_customer(mut self) -> Self {
        self.customer = None;
        self.remove_customer = true;
        self
    }

    /// This request with `metadata` replacing the hold's.
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

impl Engine {
    /// Names the customer of an active hold (or takes it off) or replaces
    /// its metadata (or both), and appends `hold.updated`, whose payload
    /// carries both like every `hold.*` event. An update to what the hold
    /// already has changes nothing and appends no event. A replay of the
    /// key answers with the hold as stored now. Its inventory, expiry and
    /// price do not change.
    ///
    /// Errors: `NOT_FOUND`, `INVALID_INPUT` (a bad customer, metadata or
    /// key, a request that changes neither, or one that both names and
    /// removes a customer), `HOLD_EXPIRED`,
    /// `HOLD_ALREADY_RESOLVED`, `IDEMPOTENCY_CONFLICT`.
    pub async fn update_hold(&self, request: &UpdateHoldRequest) -> Result<Hold> {
        const COMMAND: &str = "update_hold";
        let key = &request.idempotency_key;
        idempotency::validate_key(key)?;
        if request.customer.is_none() && !request.remove_customer && request.metadata.is_none() {
            return Err(Error::invalid(
                "customer",
                "an update must name or remove a customer, replace metadata, or both",
            ));
        }
        if request.customer.is_some() && request.remove_customer {
            return Err(Error::invalid(
                "remove_customer",
                "an update cannot both name a customer and remove it",
            ));
        }
        if let Some(customer) = &request.customer {
            customer.validate()?;
        }
        if let Some(metadata) = &request.metadata {
            metadata.validate()?;
        }
        let fingerprint = Fingerprint::of(request);
        let id = &request.hold;
        retry_on_conflict(self.config.max_attempts, || async {
            if self.replay_of(key, COMMAND, &fingerprint).await?.is_some() {
                return self.hold_by_id(id).await;
            }
            let (hold, record) = self.read_hold(id).await?;
            hold.ensure_active(self.clock.now())?;
            let mut updated = hold.clone();
            if let Some(customer) = &request.customer {
                updated.customer = Some(customer.clone());
            }
            if request.remove_customer {
                updated.customer = None;
            }
            if let Some(metadata) = &request.metadata {
                updated.metadata = metadata.clone();
            }
            let mut txn = Txn::default();
            // Pinned even when nothing changes, so a hold resolved meanwhile
            // is retried and reported, not answered as active.
            txn.expect_read(&record.key, Some(&record));
            if updated == hold {
                remember(
                    &mut txn,
                    &keys::idempotency(key),
                    COMMAND,
                    &fingerprint,
                    hold.id.as_str(),
                );
                self.commit(txn).await?;
                return Ok(hold);
            }
            txn.put_json(keys::hold(&updated.id), &updated);
            self.commit_change(txn, key, (COMMAND, "hold.updated"), &fingerprint, &updated)
                .await?;
            Ok(updated)
        })
        .await
    }

    /// Gives a hold's inventory back and appends `hold.released`. A replay
    /// of the same request answers with the hold as stored now.
    ///
    /// Errors: `NOT_FOUND`, `HOLD_EXPIRED`, `HOLD_ALREADY_RESOLVED`,
    /// `INVALID_INPUT` (a bad key), `IDEMPOTENCY_CONFLICT`.
    pub async fn release(&self, request: &ReleaseRequest) -> Result<Hold> {
        let key = &request.idempotency_key;
        idempotency::validate_key(key)?;
        let fingerprint = Fingerprint::of(request);
        let id = &request.hold;
        retry_on_conflict(self.config.max_attempts, || async {
            if self
                .replay_of(key, "release", &fingerprint)
                .await?
                .is_some()
            {
                return self.hold_by_id(id).await;
            }
            let (mut hold, record) = self.read_hold(id).await?;
            let now = self.clock.now();
            hold.ensure_active(now)?;
            let mut txn = Txn::default();
            self.give_back(&mut txn, &hold, now).await?;
            hold.state = HoldState::Released { at: now };
            self.write_resolved_hold(&mut txn, &hold, &record);
            self.commit_change(txn, key, ("release", "hold.released"), &fingerprint, &hold)
                .await?;
            Ok(hold)
        })
        .await
    }

    /// Moves a hold's expiry to `ttl_seconds` from now, but never past its
    /// `max_until`, and appends `hold.extended`. A replay of the same
    /// request answers with the hold as stored now: the expiry moves once
    /// per key.
    ///
    /// Errors: `NOT_FOUND`, `INVALID_INPUT` (a zero TTL or a bad key),
    /// `HOLD_EXPIRED`, `HOLD_ALREADY_RESOLVED`, `HOLD_EXTENSION_LIMIT`,
    /// `IDEMPOTENCY_CONFLICT`.
    pub async fn extend(&self, request: &ExtendRequest) -> Result<Hold> {
        let key = &request.idempotency_key;
        idempotency::validate_key(key)?;
        if request.ttl_seconds == 0 {
            return Err(Error::invalid(
                "ttl_seconds",
                "must be greater than zero, got 0",
            ));
        }
        let fingerprint = Fingerprint::of(request);
        let id = &request.hold;
        retry_on_conflict(self.config.max_attempts, || async {
            if self.replay_of(key, "extend", &fingerprint).await?.is_some() {
                return self.hold_by_id(id).await;
            }
            let (mut hold, record) = self.read_hold(id).await?;
            let now = self.clock.now();
            hold.ensure_active(now)?;
            let ttl = Duration::seconds(i64::from(request.ttl_seconds));
            let expires_at = (now + ttl).trunc_subsecs(3);
            if expires_at > hold.max_until {
                return Err(Error::HoldExtensionLimit {
                    hold: hold.id.to_string(),
                    max_until: hold.max_until,
                });
            }
            let mut txn = Txn::default();
            let expires_ms = expires_at.timestamp_millis();
            self.rewrite_ledgers(&mut txn, &hold, now, &ReadAhead::default(), |_, ledger| {
                for entry in ledger
                    .holds
                    .iter_mut()
                    .filter(|h| h.hold == hold.id.as_str())
                {
                    entry.expires_at_ms = expires_ms;
                }
            })
            .await?;
            txn.expect_read(&record.key, Some(&record));
            txn.delete(keys::hold_expiry(hold.expires_at, &hold.id));
            hold.expires_at = expires_at;
            txn.put_json(keys::hold(&hold.id), &hold);
            txn.put_json(keys::hold_expiry(hold.expires_at, &hold.id), &hold.id);
            self.commit_change(txn, key, ("extend", "hold.extended"), &fingerprint, &hold)
                .await?;
            Ok(hold)
        })
        .await
    }

    /// Commits a change of `hold` by `command` with the key's record and
    /// the event of that `kind`.
    async fn commit_change(
        &self,
        mut txn: Txn,
        key: &str,
        (command, kind): (&str, &str),
        fingerprint: &Fingerprint,
        hold: &Hold,
    ) -> Result<()> {
        let storage_key = keys::idempotency(key);
        remember(
            &mut txn,
            &storage_key,
            command,
            fingerprint,
            hold.id.as_str(),
        );
        let view = self.catalog().await?;
        txn.event(kind, &HoldEvent::of(&view, hold));
        self.commit(txn).await?;
        Ok(())
    }
}
