//! Holds: two-phase reservations of inventory with a time to live.
//!
//! Owns taking inventory for one or more items atomically (all or
//! nothing), expiry, the sweep that reports expiries, and the ledger
//! rewrites a hold's later changes share. A hold resolves exactly once
//! (confirmed, released or expired), enforced by commits that expect the
//! hold record's version. Release and extension live in
//! [`super::hold_change`], confirmation in [`super::confirm`]. Must never let an expired hold count: ledgers
//! compare each hold's expiry with the clock (see [`super::ledger`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::{Customer, Metadata};
use crate::error::{Error, Result};
use crate::ids::{BookingId, HoldId, ResourceId};
use crate::money::Money;
use crate::ports::Record;
use crate::pricing::Quote;

use super::Engine;
use super::availability::ledger_of;
use super::catalog_cache::CatalogView;
use super::events::HoldEvent;
use super::idempotency::{self, remember, replayed};
use super::item::Need;
use super::keys;
use super::ledger::{Ledger, LedgerHold};
use super::quote::QuoteRequest;
use super::txn::{ReadAhead, Txn, decode_json, retry_contending, retry_on_conflict};

/// Units needed per ledger key, with the resource that needs them.
pub(crate) type ItemNeeds<'r> = BTreeMap<String, (Need, &'r ResourceId)>;

/// Checks that every request is for a resource of one property: a
/// booking has one owner, one commission plan and one time zone, so items
/// of different properties are held (and booked) separately.
///
/// Errors: `NOT_FOUND` for an unknown resource, `INVALID_INPUT` for items
/// at different properties.
pub(crate) fn one_property(view: &CatalogView, requests: &[QuoteRequest]) -> Result<()> {
    let Some((first, rest)) = requests.split_first() else {
        return Ok(());
    };
    let property = &view.resource(&first.item.resource)?.resource.property;
    for request in rest {
        let other = &view.resource(&request.item.resource)?.resource.property;
        if other != property {
            return Err(Error::invalid(
                "items",
                format!(
                    "{} is at property {other} and {} at {property}: the items of one \
                     booking are at one property, so hold them separately",
                    request.item.resource, first.item.resource
                ),
            ));
        }
    }
    Ok(())
}

/// The most items one hold may take.
pub const MAX_HOLD_ITEMS: usize = 50;

/// A request to hold inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldRequest {
    /// The host's key for this command: a replay returns the same hold.
    pub idempotency_key: String,
    /// What to hold, each priced as a quote would be.
    pub items: Vec<QuoteRequest>,
    /// How long the hold lives, in seconds (1 to the engine's
    /// [`super::EngineConfig::max_hold_ttl`]).
    pub ttl_seconds: u32,
    /// Who is checking out, if the host knows already: kept on the hold
    /// and in its `hold.*` events, so a host template for `hold.expired`
    /// can remind them of an abandoned cart. A confirmation that names no
    /// customer of its own books for this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The host's own data on the hold (a cart or session id), in its
    /// `hold.*` events, and carried onto the booking at confirmation
    /// under the confirmation's own metadata (see [`Metadata`]).
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

impl HoldRequest {
    /// Holds `items` for `ttl_seconds`, with no customer or metadata.
    pub fn new(
        idempotency_key: impl Into<String>,
        items: Vec<QuoteRequest>,
        ttl_seconds: u32,
    ) -> Self {
        HoldRequest {
            idempotency_key: idempotency_key.into(),
            items,
            ttl_seconds,
            customer: None,
            metadata: Metadata::new(),
        }
    }

    /// This request with `customer` on the hold.
    pub fn with_customer(mut self, customer: Customer) -> Self {
        self.customer = Some(customer);
        self
    }

    /// This request with `metadata` on the hold.
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }
}

/// Units taken on one ledger by one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerUse {
    /// The ledger's storage key.
    pub key: String,
    /// The night, or the session's civil date.
    #[serde(serialize_with = "crate::text::serialize_date")]
    pub date: NaiveDate,
    /// Units or seats taken.
    pub units: u32,
}

/// One held item with its price at the time of the hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldItem {
    /// What was asked for.
    pub request: QuoteRequest,
    /// Its price, which confirmation keeps.
    pub quote: Quote,
    /// The inventory it takes.
    pub uses: Vec<LedgerUse>,
}

impl HeldItem {
    /// The resource held.
    pub fn resource(&self) -> &ResourceId {
        &self.request.item.resource
    }
}

/// Units per ledger key taken by `items` (two rooms of one type on one
/// night take two units of one ledger).
pub(crate) fn booked_units(items: &[HeldItem]) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for item in items {
        for u in &item.uses {
            *out.entry(u.key.clone()).or_insert(0) += u.units;
        }
    }
    out
}

/// How a hold ended, or that it has not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HoldState {
    /// Taking inventory until `expires_at`.
    Active,
    /// Turned into a booking.
    Confirmed {
        /// The booking.
        booking: BookingId,
        /// When.
        #[serde(serialize_with = "crate::text::serialize_instant")]
        at: DateTime<Utc>,
    },
    /// Given back by the host.
    Released {
        /// When.
        #[serde(serialize_with = "crate::text::serialize_instant")]
        at: DateTime<Utc>,
    },
    /// Its time ran out.
    Expired {
        /// When it expired.
        #[serde(serialize_with = "crate::text::serialize_instant")]
        at: DateTime<Utc>,
    },
}

impl HoldState {
    fn name(&self) -> &'static str {
        match self {
            HoldState::Active => "active",
            HoldState::Confirmed { .. } => "confirmed",
            HoldState::Released { .. } => "released",
            HoldState::Expired { .. } => "expired",
        }
    }
}

/// How an active hold's record ends: its state is the last field.
const ACTIVE_STATE_TAIL: &[u8] = br#","state":{"state":"active"}}"#;

/// A hold on inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The hold's id.
    pub id: HoldId,
    /// The held items, in request order.
    pub items: Vec<HeldItem>,
    /// The sum of the items' totals.
    pub total: Money,
    /// When it was made.
    #[serde(serialize_with = "crate::text::serialize_instant")]
    pub created_at: DateTime<Utc>,
    /// When it stops taking inventory, unless resolved first.
    #[serde(serialize_with = "crate::text::serialize_instant")]
    pub expires_at: DateTime<Utc>,
    /// The latest `expires_at` an extension may reach.
    #[serde(serialize_with = "crate::text::serialize_instant")]
    pub max_until: DateTime<Utc>,
    /// Who is checking out, if the hold request said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The host's own data on the hold; the booking confirmed from it
    /// starts with these entries.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// Its state as last written (always the record's last field). Use
    /// [`Hold::state_at`] for the truth at an instant: an active hold past
    /// its expiry is expired even before the sweep writes it.
    pub state: HoldState,
}

impl Hold {
    /// The hold's state at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> HoldState {
        match self.state {
            HoldState::Active if now >= self.expires_at => HoldState::Expired {
                at: self.expires_at,
            },
            ref state => state.clone(),
        }
    }

    /// `Ok` if the hold is active at `now`, else the typed error for why not.
    pub(crate) fn ensure_active(&self, now: DateTime<Utc>) -> Result<()> {
        match self.state_at(now) {
            HoldState::Active => Ok(()),
            HoldState::Expired { at } => Err(Error::HoldExpired {
                hold: self.id.to_string(),
                expired_at: at,
            }),
            state => Err(Error::HoldAlreadyResolved {
                hold: self.id.to_string(),
                state: state.name().to_owned(),
            }),
        }
    }

    /// The keys of the ledgers its items use, each once, in key order.
    pub(crate) fn ledger_keys(&self) -> Vec<String> {
        let keys: BTreeSet<&str> = self
            .items
            .iter()
            .flat_map(|item| item.uses.iter().map(|u| u.key.as_str()))
            .collect();
        keys.into_iter().map(str::to_owned).collect()
    }
}

impl Engine {
    /// Holds every item of the request, or none of them.
    ///
    /// Each item is checked and priced as [`Engine::quote`] would; the
    /// inventory of all items is taken in one commit. Replaying the same
    /// request with the same idempotency key returns the same hold.
    ///
    /// Errors: `INVALID_INPUT` (no items, too many, items at different
    /// properties, a TTL of zero or above the maximum, a bad key, customer
    /// or metadata), everything [`Engine::quote`] returns,
    /// `UNAVAILABLE`, `CURRENCY_MISMATCH` for items in different
    /// currencies, `IDEMPOTENCY_CONFLICT`.
    pub async fn hold(&self, request: &HoldRequest) -> Result<Hold> {
        idempotency::validate_key(&request.idempotency_key)?;
        if request.items.is_empty() || request.items.len() > MAX_HOLD_ITEMS {
            return Err(Error::invalid(
                "items",
                format!(
                    "a hold takes 1-{MAX_HOLD_ITEMS} items, got {}",
                    request.items.len()
                ),
            ));
        }
        let max_ttl = self.config.max_hold_ttl.min(self.config.max_hold_lifetime);
        if request.ttl_seconds == 0 || i64::from(request.ttl_seconds) > max_ttl.num_seconds() {
            return Err(Error::invalid(
                "ttl_seconds",
                format!(
                    "must be 1-{} seconds, got {}",
                    max_ttl.num_seconds(),
                    request.ttl_seconds
                ),
            ));
        }
        if let Some(customer) = &request.customer {
            customer.validate()?;
        }
        request.metadata.validate()?;
        let fingerprint = idempotency::Fingerprint::of(request);
        let contended = request.items[0].item.resource.as_str();
        retry_contending(self.config.max_attempts, Some(contended), || {
            self.known_first(Some(contended), |known| {
                self.try_hold(request, &fingerprint, known)
            })
        })
        .await
    }

    /// One try; with `known` (see [`Engine::known_first`]), on that view
    /// and the known ledgers, without reading the idempotency record.
    async fn try_hold(
        &self,
        request: &HoldRequest,
        fingerprint: &idempotency::Fingerprint,
        known: Option<Arc<CatalogView>>,
    ) -> Result<Hold> {
        let idem_key = keys::idempotency(&request.idempotency_key);
        let skips_reads = known.is_some();
        let (view, idem) = match known {
            Some(view) => (view, None),
            None => {
                let (view, idem) = self.catalog_and(std::slice::from_ref(&idem_key)).await?;
                (view, idem.into_iter().next().flatten())
            }
        };
        if let Some(id) = replayed(&request.idempotency_key, idem.as_ref(), "hold", fingerprint)? {
            return self.hold_by_id(&HoldId::new(id)?).await;
        }
        let now = self.clock.now();
        let id = HoldId::generate();
        // Expiries are whole milliseconds, as ledgers and `hx/` keys keep
        // them: a hold is active exactly while its ledger entries count.
        let expires_at = (now + Duration::seconds(i64::from(request.ttl_seconds))).trunc_subsecs(3);
        let (items, needs) = self.price_items(&view, now, &request.items, &[]).await?;
        let currency = items[0].quote.currency();
        let total = Money::sum(
            currency,
            items
                .iter()
                .map(|i| i.quote.total())
                .collect::<Vec<_>>()
                .iter(),
        )?;
        let keys: Vec<String> = needs.keys().cloned().collect();
        let records = self.known_or_read(&keys, skips_reads).await?;
        let mut txn = Txn::default();
        for ((key, (need, resource)), record) in needs.iter().zip(&records) {
            let mut ledger = ledger_of(record.as_ref(), key)?;
            need.ensure_fits(resource, need.left(&ledger, now))?;
            ledger.prune(now);
            ledger.holds.push(LedgerHold {
                hold: id.to_string(),
                units: need.units,
                expires_at_ms: expires_at.timestamp_millis(),
            });
            txn.expect_read(key, record.as_ref());
            txn.put_raw(key, ledger.encode());
        }
        let hold = Hold {
            id,
            items,
            total,
            created_at: now,
            expires_at,
            max_until: (now + self.config.max_hold_lifetime).trunc_subsecs(3),
            customer: request.customer.clone(),
            metadata: request.metadata.clone(),
            state: HoldState::Active,
        };
        txn.expect(keys::CATALOG_EPOCH, view.epoch);
        txn.expect(keys::hold(&hold.id), None);
        txn.put_json(keys::hold(&hold.id), &hold);
        txn.put_json(keys::hold_expiry(hold.expires_at, &hold.id), &hold.id);
        remember(&mut txn, &idem_key, "hold", fingerprint, hold.id.as_str());
        txn.event("hold.created", &HoldEvent::of(&view, &hold));
        // A hold lost to a power cut is a hold that expired early: the
        // confirm fails cleanly, and a payment through the engine commits
        // its attempt durably first, which makes this commit durable too.
        if !self.config.durable_holds {
            txn.defer_durability();
        }
        let committed = self.commit(txn).await?;
        self.holds.put(&hold, committed.version);
        Ok(hold)
    }

    /// A hold by id, with its state as stored (see [`Hold::state_at`]).
    pub async fn hold_by_id(&self, id: &HoldId) -> Result<Hold> {
        let (hold, _) = self.read_hold(id).await?;
        Ok(hold)
    }

    pub(crate) async fn read_hold(&self, id: &HoldId) -> Result<(Hold, Record)> {
        let record = self.read_record(&keys::hold(id)).await?;
        self.hold_of(id, record)
    }

    /// The hold `id` from its record as read (`NOT_FOUND` if absent).
    pub(crate) fn hold_of(&self, id: &HoldId, record: Option<Record>) -> Result<(Hold, Record)> {
        let record = record.ok_or_else(|| Error::not_found("hold", id.as_str()))?;
        let hold = match self.holds.take(id, record.version) {
            Some(hold) => hold,
            None => decode_json(&record)?,
        };
        Ok((hold, record))
    }

    /// Marks up to `limit` holds whose time ran out as expired, drops them
    /// from the ledgers and appends a `hold.expired` event for each. For
    /// hosts that want those events: availability never waits for it.
    /// Returns the holds expired by this call.
    pub async fn expire_due(&self, limit: usize) -> Result<Vec<HoldId>> {
        let now = self.clock.now();
        let due = self.storage.scan(&keys::holds_due(now), limit).await?;
        let mut expired = Vec::new();
        for entry in due {
            let id: HoldId = decode_json(&entry)?;
            let done = retry_on_conflict(self.config.max_attempts, || async {
                let (mut hold, record) = self.read_hold(&id).await?;
                let mut txn = Txn::default();
                let indexed = entry.key == keys::hold_expiry(hold.expires_at, &hold.id);
                if hold.state != HoldState::Active || !indexed {
                    // Resolved or extended since the scan: the entry is stale
                    // (resolving or extending usually deleted it already).
                    // Pinning the hold keeps it stale until the commit.
                    txn.expect_read(&record.key, Some(&record));
                    txn.delete(&entry.key);
                    self.commit(txn).await?;
                    return Ok(false);
                }
                if now < hold.expires_at {
                    // Due within the millisecond the key rounds down to
                    // (holds written before expiries were whole
                    // milliseconds).
                    return Ok(false);
                }
                self.give_back(&mut txn, &hold, now).await?;
                hold.state = HoldState::Expired {
                    at: hold.expires_at,
                };
                self.write_resolved_hold(&mut txn, &hold, &record);
                let view = self.catalog().await?;
                txn.event("hold.expired", &HoldEvent::of(&view, &hold));
                self.commit(txn).await?;
                Ok(true)
            })
            .await?;
            if done {
                expired.push(id);
            }
        }
        Ok(expired)
    }

    /// Removes the hold's entries from its ledgers, turning `booked` units
    /// per ledger key into booked units instead.
    pub(crate) async fn drop_from_ledgers(
        &self,
        txn: &mut Txn,
        hold: &Hold,
        now: DateTime<Utc>,
        booked: &BTreeMap<String, u32>,
        ahead: &ReadAhead,
    ) -> Result<()> {
        self.rewrite_ledgers(txn, hold, now, ahead, |key, ledger| {
            ledger.holds.retain(|h| h.hold != hold.id.as_str());
            ledger.booked += booked.get(key).copied().unwrap_or(0);
        })
        .await
    }

    /// Gives all of the hold's units back to its ledgers (released or
    /// expired: nothing booked).
    pub(crate) async fn give_back(
        &self,
        txn: &mut Txn,
        hold: &Hold,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.drop_from_ledgers(txn, hold, now, &BTreeMap::new(), &ReadAhead::default())
            .await
    }

    /// Reads every ledger the hold uses (unless all were read `ahead`),
    /// drops expired holds from it, applies `change`, and writes it back in
    /// `txn` pinned to the version read.
    pub(crate) async fn rewrite_ledgers(
        &self,
        txn: &mut Txn,
        hold: &Hold,
        now: DateTime<Utc>,
        ahead: &ReadAhead,
        change: impl Fn(&str, &mut Ledger),
    ) -> Result<()> {
        let keys = hold.ledger_keys();
        let records = match ahead.all(&keys) {
            Some(records) => records,
            None => self.storage.get(&keys).await?,
        };
        for (key, record) in keys.iter().zip(&records) {
            let mut ledger = ledger_of(record.as_ref(), key)?;
            ledger.prune(now);
            change(key, &mut ledger);
            txn.expect_read(key, record.as_ref());
            txn.put_raw(key, ledger.encode());
        }
        Ok(())
    }

    /// Writes a hold that has left the active state, pinned to the version
    /// it was read at, and removes its expiry index entry.
    ///
    /// Only the state changes (it is the record's last field, and was
    /// `active`), so the record read is kept up to its state and the new
    /// state appended: the priced items are not encoded again.
    pub(crate) fn write_resolved_hold(&self, txn: &mut Txn, hold: &Hold, read: &Record) {
        txn.expect_read(&read.key, Some(read));
        let value = match read.value.strip_suffix(ACTIVE_STATE_TAIL) {
            Some(head) => {
                let mut value = Vec::with_capacity(head.len() + 96);
                value.extend_from_slice(head);
                value.extend_from_slice(br#","state":"#);
                serde_json::to_writer(&mut value, &hold.state).expect("states serialize");
                value.push(b'}');
                debug_assert_eq!(
                    value,
                    super::txn::encode_json(hold),
                    "only the state changed"
                );
                value
            }
            None => super::txn::encode_json(hold),
        };
        txn.put_raw(&read.key, value);
        txn.delete(keys::hold_expiry(hold.expires_at, &hold.id));
    }
}
