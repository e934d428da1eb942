//! Confirmation: a hold becomes a booking.
//!
//! Owns the one commit that resolves a hold as confirmed (all items, or a
//! subset with the rest released), turns its held units into booked ones,
//! counts promo uses, writes the booking with its look-up indexes and
//! appends `booking.confirmed`. Must never confirm a hold that is expired
//! or already resolved, and never create a booking without taking its
//! inventory in the same commit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::{BookingStatus, Customer, Metadata};
use crate::error::{Error, Result};
use crate::ids::{BookingId, HoldId, ResourceId};
use crate::money::Money;
use crate::ports::Record;
use crate::pricing::UsageLimit;

use super::Engine;
use super::booking_record::{encode_booking, held_items_json};
use super::catalog_cache::CatalogView;
use super::events::booking_event;
use super::hold::{HeldItem, Hold, HoldState, booked_units};
use super::idempotency::{self, remember, replayed};
use super::keys;
use super::payment::{BookingMoney, Payment};
use super::terms::{Attribution, BookingTerms, booking_terms, commission_ledger, taxes_of};
use super::txn::{ReadAhead, Txn, decode_json, retry_contending};

/// A request to turn a hold into a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmRequest {
    /// The host's key for this command: a replay returns the same booking.
    pub idempotency_key: String,
    /// The hold to confirm.
    pub hold: HoldId,
    /// Who the booking is for; `None` takes the customer the hold carries
    /// (see [`super::HoldRequest::customer`]), and a hold without one is
    /// then `INVALID_INPUT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Indexes of the hold's items to confirm; the others are released.
    /// `None` confirms them all.
    #[serde(default)]
    pub items: Option<Vec<usize>>,
    /// Who sold it (channel, broker); direct if absent.
    #[serde(default)]
    pub attribution: Attribution,
    /// The host's own data, kept on the booking (see [`Metadata`]).
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

impl ConfirmRequest {
    /// Confirms every item of `hold` for `customer`, as a direct booking.
    pub fn new(idempotency_key: impl Into<String>, hold: HoldId, customer: Customer) -> Self {
        ConfirmRequest {
            customer: Some(customer),
            ..ConfirmRequest::for_hold_customer(idempotency_key, hold)
        }
    }

    /// Confirms every item of `hold`, as a direct booking, for the
    /// customer the hold was made with (`INVALID_INPUT` if it has none).
    ///
    /// ```
    /// # use reservo::engine::ConfirmRequest;
    /// # use reservo::ids::HoldId;
    /// let request = ConfirmRequest::for_hold_customer("confirm-1", HoldId::new("h1").unwrap());
    /// assert_eq!(request.customer, None);
    /// ```
    pub fn for_hold_customer(idempotency_key: impl Into<String>, hold: HoldId) -> Self {
        ConfirmRequest {
            idempotency_key: idempotency_key.into(),
            hold,
            customer: None,
            items: None,
            attribution: Attribution::default(),
            metadata: Metadata::new(),
        }
    }

    /// This request with `metadata` kept on the booking.
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }
}

/// One change of a booking's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The new status.
    pub status: BookingStatus,
    /// When.
    #[serde(serialize_with = "crate::text::serialize_instant")]
    pub at: DateTime<Utc>,
}

/// A booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The booking's id.
    pub id: BookingId,
    /// The hold it was confirmed from.
    pub hold: HoldId,
    /// Where it is in its life.
    pub status: BookingStatus,
    /// Who it is for.
    pub customer: Customer,
    /// What was booked, each with the quote snapshotted at the hold.
    pub items: Vec<HeldItem>,
    /// The sum of the items' totals.
    pub total: Money,
    /// When it was confirmed.
    #[serde(serialize_with = "crate::text::serialize_instant")]
    pub created_at: DateTime<Utc>,
    /// Every status it has had, oldest first.
    pub history: Vec<StatusChange>,
    /// The policy, commission plan and attribution snapshotted at creation.
    pub terms: BookingTerms,
    /// Its payments, refunds and commission ledger.
    pub money: BookingMoney,
    /// The host's own data (see [`Metadata`]); set at confirmation,
    /// replaced with [`Engine::set_booking_metadata`].
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

impl Engine {
    /// Confirms a hold (all of it, or the listed items with the rest
    /// released) as a booking, in one commit.
    ///
    /// The booking's metadata is the hold's with the request's on top (a
    /// key in both keeps the request's value).
    ///
    /// Without a customer in the request, the booking is for the hold's
    /// customer.
    ///
    /// Errors: `NOT_FOUND`, `INVALID_INPUT` (bad customer, metadata or
    /// item indexes, no customer in the request or on the hold, more than
    /// 50 metadata keys with the hold's),
    /// `HOLD_EXPIRED`, `HOLD_ALREADY_RESOLVED`,
    /// `PROMO_NOT_APPLICABLE` (its usage limit was reached meanwhile),
    /// `IDEMPOTENCY_CONFLICT`.
    pub async fn confirm(&self, request: &ConfirmRequest) -> Result<Booking> {
        idempotency::validate_key(&request.idempotency_key)?;
        if let Some(customer) = &request.customer {
            customer.validate()?;
        }
        request.metadata.validate()?;
        let fingerprint = idempotency::Fingerprint::of(request);
        // Known when this engine made the hold; otherwise no queueing.
        let contended = self.holds.resource_of(&request.hold);
        let contended = contended.as_ref().map(ResourceId::as_str);
        retry_contending(self.config.max_attempts, contended, || {
            self.known_first(contended, |known| {
                self.try_confirm(request, "confirm", &fingerprint, known)
            })
        })
        .await
    }

    /// One try, recorded under the request's key as `command` (`confirm`,
    /// or `pay_and_confirm` for a hold that costs nothing); with `known`
    /// (see [`Engine::known_first`]), on that view and the known hold and
    /// ledgers, if all are known, without reading.
    pub(crate) async fn try_confirm(
        &self,
        request: &ConfirmRequest,
        command: &str,
        fingerprint: &idempotency::Fingerprint,
        known: Option<Arc<CatalogView>>,
    ) -> Result<Booking> {
        let idem_key = keys::idempotency(&request.idempotency_key);
        // One read for everything a confirmation decides on: the catalog's
        // epoch, the command's idempotency record, the hold, and the
        // hold's ledgers when this engine made the hold (it knows them).
        let mut wanted = vec![idem_key.clone(), keys::hold(&request.hold)];
        wanted.extend(self.holds.ledger_keys_of(&request.hold));
        let known = known.and_then(|view| Some((view, self.known.all(&wanted[1..])?)));
        let mut txn = Txn::default();
        let (view, records) = match known {
            Some((view, known)) => {
                // Not read: pinned instead (the idempotency record absent).
                txn.expect(keys::CATALOG_EPOCH, view.epoch);
                (view, std::iter::once(None).chain(known).collect())
            }
            None => {
                let (view, records) = self.catalog_and(&wanted).await?;
                self.known.learn_read(&wanted, &records);
                (view, records)
            }
        };
        let mut ahead = ReadAhead::of(wanted, records);
        let idem = ahead.take(&idem_key).flatten();
        if let Some(id) = replayed(
            &request.idempotency_key,
            idem.as_ref(),
            command,
            fingerprint,
        )? {
            return self.booking(&BookingId::new(id)?).await;
        }
        // `pay_and_confirm` of a free hold: paid through the gateway, at 0.
        let through_gateway = command == "pay_and_confirm";
        let booking = self
            .confirm_into(&mut txn, request, None, through_gateway, Some(view), ahead)
            .await?;
        remember(
            &mut txn,
            &idem_key,
            command,
            fingerprint,
            booking.id.as_str(),
        );
        self.commit(txn).await?;
        Ok(booking)
    }

    /// Writes into `txn` the confirmation of `request`'s hold as a new
    /// booking, with its terms snapshotted and `payment` (if the engine
    /// took one) recorded; `through_gateway` when the command was
    /// [`Engine::pay_and_confirm`] (see [`BookingMoney::through_gateway`]).
    /// Without a payment, or with one covering the
    /// total, the booking is `confirmed` (event `booking.confirmed`);
    /// with a deposit it is `pending_payment` (event
    /// `booking.pending_payment`) until the balance is paid. The catalog
    /// `view` and the records `ahead` are used where given, read otherwise.
    pub(crate) async fn confirm_into(
        &self,
        txn: &mut Txn,
        request: &ConfirmRequest,
        payment: Option<Payment>,
        through_gateway: bool,
        view: Option<Arc<CatalogView>>,
        mut ahead: ReadAhead,
    ) -> Result<Booking> {
        let (mut hold, hold_record) = match ahead.take(&keys::hold(&request.hold)) {
            Some(record) => self.hold_of(&request.hold, record)?,
            None => self.read_hold(&request.hold).await?,
        };
        let now = self.clock.now();
        hold.ensure_active(now)?;
        let chosen = chosen_items(&hold, request.items.as_deref())?;
        let customer = booking_customer(request.customer.as_ref(), &hold)?;
        let metadata = hold.metadata.overlaid(&request.metadata)?;
        // All items, in order: the booking's items are the hold's, bytes and all.
        let items_json = (chosen.len() == hold.items.len())
            .then(|| held_items_json(&hold, &hold_record.value))
            .flatten();
        let items: Vec<HeldItem> = chosen.iter().map(|i| hold.items[*i].clone()).collect();
        let currency = items[0].quote.currency();
        let total = Money::sum(
            currency,
            items
                .iter()
                .map(|i| i.quote.total())
                .collect::<Vec<_>>()
                .iter(),
        )?;
        let booked = booked_units(&items);
        let view = match view {
            Some(view) => view,
            None => self.catalog().await?,
        };
        let terms = booking_terms(&view, &items, &request.attribution)?;
        self.count_promo_uses(txn, &view, &items, &[]).await?;
        self.drop_from_ledgers(txn, &hold, now, &booked, &ahead)
            .await?;
        let id = BookingId::generate();
        let owner = &view
            .property(&view.resource(items[0].resource())?.resource.property)?
            .owner;
        let commission = commission_ledger(&terms, &id, owner, total, taxes_of(&items, currency)?)?;
        let status = match &payment {
            Some(p) if p.amount != total => BookingStatus::PendingPayment,
            _ => BookingStatus::Confirmed,
        };
        let booking = Booking {
            id,
            hold: hold.id.clone(),
            status,
            customer,
            items,
            total,
            created_at: now,
            history: vec![StatusChange { status, at: now }],
            terms,
            money: BookingMoney::new(commission, payment, through_gateway),
            metadata,
        };
        hold.state = HoldState::Confirmed {
            booking: booking.id.clone(),
            at: now,
        };
        self.write_resolved_hold(txn, &hold, &hold_record);
        txn.expect(keys::booking(&booking.id), None);
        txn.put_raw(
            keys::booking(&booking.id),
            encode_booking(&booking, items_json),
        );
        write_indexes(txn, &booking);
        if status == BookingStatus::Confirmed {
            self.issue_tickets(txn, &view, &booking)?;
        }
        let kind = match status {
            BookingStatus::PendingPayment => "booking.pending_payment",
            _ => "booking.confirmed",
        };
        txn.event(kind, &booking_event(&view, &booking));
        Ok(booking)
    }

    /// Counts one use of every promo code the items carry but `redeemed`
    /// (codes a booking being modified already used), refusing codes whose
    /// limit was reached since the items were priced.
    pub(crate) async fn count_promo_uses(
        &self,
        txn: &mut Txn,
        view: &CatalogView,
        items: &[HeldItem],
        redeemed: &[&str],
    ) -> Result<()> {
        for (key, record, uses) in self.promo_uses_left(view, items, redeemed).await? {
            txn.expect_read(&key, record.as_ref());
            txn.put_json(&key, &(uses + 1));
        }
        Ok(())
    }

    /// The use counter of every promo the items' codes name but those of
    /// `redeemed` (its key, the record read and the count), once a promo,
    /// refusing promos whose limit is reached (`PROMO_NOT_APPLICABLE`).
    /// Changes nothing.
    pub(crate) async fn promo_uses_left(
        &self,
        view: &CatalogView,
        items: &[HeldItem],
        redeemed: &[&str],
    ) -> Result<Vec<(String, Option<Record>, u32)>> {
        let codes: BTreeSet<&str> = items
            .iter()
            .filter_map(|i| i.request.promo_code.as_deref())
            .collect();
        let mut counters: Vec<(String, Option<Record>, u32)> = Vec::with_capacity(codes.len());
        for code in codes {
            let (promo, record, uses) = self.promo_uses(view, code).await?;
            let key = keys::promo_uses(promo.code.as_str());
            // Typed in two cases on two items, a code is still one use.
            let counted = counters.iter().any(|(k, ..)| *k == key);
            if counted || redeemed.iter().any(|own| promo.code.matches(own)) {
                continue;
            }
            if let UsageLimit::MaxUses(max) = promo.usage_limit {
                if uses >= max.get() {
                    return Err(Error::PromoNotApplicable {
                        code: code.to_owned(),
                        reason: format!("its usage limit of {max} is reached"),
                    });
                }
            }
            counters.push((key, record, uses));
        }
        Ok(counters)
    }

    /// The promo codes the items of a booking carry, as typed.
    pub(crate) fn redeemed_codes(items: &[HeldItem]) -> Vec<&str> {
        items
            .iter()
            .filter_map(|i| i.request.promo_code.as_deref())
            .collect()
    }

    /// A booking by id.
    pub async fn booking(&self, id: &BookingId) -> Result<Booking> {
        Ok(self.read_booking(id).await?.0)
    }

    /// A booking with the record it was read from, to pin in a commit.
    pub(crate) async fn read_booking(&self, id: &BookingId) -> Result<(Booking, Record)> {
        let record = self
            .read_record(&keys::booking(id))
            .await?
            .ok_or_else(|| Error::not_found("booking", id.as_str()))?;
        Ok((decode_json(&record)?, record))
    }

    pub(crate) async fn bookings_from_index(
        &self,
        range: crate::ports::KeyRange,
    ) -> Result<Vec<Booking>> {
        let entries = self.storage.scan(&range, usize::MAX).await?;
        self.bookings_of_entries(&entries).await
    }

    /// The bookings whose ids end the keys of these index `entries`,
    /// oldest first, each once.
    async fn bookings_of_entries(&self, entries: &[Record]) -> Result<Vec<Booking>> {
        let ids: BTreeSet<String> = entries
            .iter()
            .filter_map(|r| r.key.rsplit('/').next().map(str::to_owned))
            .collect();
        let keys: Vec<String> = ids.iter().map(|id| format!("bk/{id}")).collect();
        let records = self.storage.get(&keys).await?;
        let mut bookings: Vec<Booking> = records
            .iter()
            .flatten()
            .map(decode_json)
            .collect::<Result<_>>()?;
        bookings.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(bookings)
    }

    /// Every booking of the customer with this phone number, oldest first.
    pub async fn bookings_by_customer(&self, phone: &str) -> Result<Vec<Booking>> {
        crate::booking::validate_e164(phone)?;
        self.bookings_from_index(keys::bookings_of_customer(phone))
            .await
    }

    /// Every booking that takes `resource` on a night or session date in
    /// `[from, to)`, oldest first, whatever its status.
    pub async fn bookings_for_resource(
        &self,
        resource: &crate::ids::ResourceId,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<Booking>> {
        super::availability::check_range(from, to)?;
        let mut entries = Vec::new();
        for range in keys::bookings_of_resource(resource, from, to) {
            entries.extend(self.storage.scan(&range, usize::MAX).await?);
        }
        // A month entry says which of the month's dates its booking uses
        // (entries written before it did say nothing: read those).
        entries.retain(|entry| match keys::parse_date_span(&entry.value) {
            Some((first, last)) => first < to && last >= from,
            None => true,
        });
        let mut bookings = self.bookings_of_entries(&entries).await?;
        // Spans and older entries may still list bookings with no date in
        // the range on this resource.
        bookings.retain(|booking| {
            booking.items.iter().any(|item| {
                item.resource() == resource
                    && item.uses.iter().any(|u| (from..to).contains(&u.date))
            })
        });
        Ok(bookings)
    }
}

/// Who a confirmation of `hold` books for: the request's customer, else
/// the one the hold was made with.
pub(crate) fn booking_customer(requested: Option<&Customer>, hold: &Hold) -> Result<Customer> {
    requested
        .or(hold.customer.as_ref())
        .cloned()
        .ok_or_else(|| {
            Error::invalid(
                "customer",
                format!(
                    "hold {} was made without a customer: the confirmation must name one",
                    hold.id
                ),
            )
        })
}

fn chosen_items(hold: &Hold, items: Option<&[usize]>) -> Result<Vec<usize>> {
    let Some(items) = items else {
        return Ok((0..hold.items.len()).collect());
    };
    let unique: BTreeSet<usize> = items.iter().copied().collect();
    if unique.is_empty() || unique.len() != items.len() {
        return Err(Error::invalid(
            "items",
            format!("{items:?} must list distinct item indexes, at least one"),
        ));
    }
    if let Some(bad) = unique.iter().find(|i| **i >= hold.items.len()) {
        return Err(Error::invalid(
            "items",
            format!(
                "index {bad} is out of range: the hold has {} items",
                hold.items.len()
            ),
        ));
    }
    Ok(unique.into_iter().collect())
}

impl Booking {
    /// Moves the booking to `status` (already checked as a legal
    /// transition) and records it in its history at `at`, never before its
    /// last change.
    pub(crate) fn enter(&mut self, status: BookingStatus, at: DateTime<Utc>) {
        let since = self.history.last().map_or(at, |h| h.at);
        self.status = status;
        self.history.push(StatusChange {
            status,
            at: at.max(since),
        });
    }
}

pub(crate) fn write_indexes(txn: &mut Txn, booking: &Booking) {
    txn.put_raw(
        keys::booking_by_customer(&booking.customer.phone, &booking.id),
        Vec::new(),
    );
    if let Some(ledger) = &booking.money.commission {
        txn.put_raw(
            keys::booking_by_owner(ledger.owner(), &booking.id),
            Vec::new(),
        );
    }
    for (key, (first, last)) in resource_month_entries(booking) {
        txn.put_raw(key, keys::date_span(first, last));
    }
}

/// The booking's index entries by resource and month, each once.
pub(crate) fn resource_month_keys(booking: &Booking) -> BTreeSet<String> {
    resource_month_entries(booking).into_keys().collect()
}

/// The booking's index entries by resource and month, each with the
/// first and last night or session date the booking uses on that
/// resource in that month.
fn resource_month_entries(booking: &Booking) -> BTreeMap<String, (NaiveDate, NaiveDate)> {
    let mut entries: BTreeMap<String, (NaiveDate, NaiveDate)> = BTreeMap::new();
    for item in &booking.items {
        for u in &item.uses {
            let key = keys::booking_by_resource_month(item.resource(), u.date, &booking.id);
            entries
                .entry(key)
                .and_modify(|(first, last)| {
                    *first = (*first).min(u.date);
                    *last = (*last).max(u.date);
                })
                .or_insert((u.date, u.date));
        }
    }
    entries
}
