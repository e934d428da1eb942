//! Search: what can be booked for a stay or on some days, with its price.
//!
//! Owns scanning inventory across many resources at once: one range scan
//! per night (ledgers are keyed date first), merged with the catalog's
//! resources in id order, then restrictions and the price of each
//! candidate. Must never write, and never price a resource that has no
//! capacity left or that a restriction closes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::catalog::ResourceKind;
use crate::error::{Error, Result};
use crate::ids::{PropertyId, RatePlanId, ResourceId};
use crate::money::Money;
use crate::party::Party;
use crate::ports::Key;
use crate::pricing::{self, PriceUnit, SlotStart};
use crate::restriction::BookedAt;
use crate::time::{Slot, Stay, local_date};

use super::Engine;
use super::availability::{Counts, blocked_in, blocked_on_night, check_range, ledger_of};
use super::catalog_cache::{CatalogView, ResourceEntry};
use super::keys;
use super::ledger::Ledger;

/// What a search looks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchFor {
    /// One unit of a nightly resource for these nights.
    Stay(Stay),
    /// Sessions of timed resources whose civil date is in `[from, to)`.
    Sessions {
        /// First day.
        from: NaiveDate,
        /// First day not included.
        to: NaiveDate,
    },
}

/// A search across resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// A stay or a range of days with sessions.
    pub what: SearchFor,
    /// Who is coming: a nightly unit must take them all; a session needs a
    /// seat for each.
    pub party: Party,
    /// Only this property's resources; `None` searches every property.
    #[serde(default)]
    pub property: Option<PropertyId>,
}

/// One bookable result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// The resource.
    pub resource: ResourceId,
    /// Its property.
    pub property: PropertyId,
    /// The session, for timed resources.
    pub slot: Option<Slot>,
    /// Units left on the tightest night, or seats left in the session.
    pub available: u32,
    /// The price on the resource's default rate plan, without promo.
    pub total: Money,
}

const SCAN_PAGE: usize = 4096;

impl Engine {
    /// Everything bookable for the request, with its price, in resource id
    /// (then session start) order. Resources with no capacity left, closed
    /// by a restriction, too small for the party, or on a default rate
    /// plan that prices the other unit (nights for a timed resource, slots
    /// for a nightly one: [`Engine::quote`] refuses those) are left out.
    ///
    /// Errors: `INVALID_INPUT` for a bad range, `NOT_FOUND` for an unknown
    /// property, `IN_THE_PAST` for a stay that has begun.
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        let view = self.catalog().await?;
        if let Some(p) = &request.property {
            view.property(p)?;
        }
        let now = self.clock.now();
        match &request.what {
            SearchFor::Stay(stay) => self.search_stays(&view, request, stay, now).await,
            SearchFor::Sessions { from, to } => {
                check_range(*from, *to)?;
                self.search_sessions(&view, request, *from, *to, now).await
            }
        }
    }

    async fn search_stays(
        &self,
        view: &CatalogView,
        request: &SearchRequest,
        stay: &Stay,
        now: DateTime<Utc>,
    ) -> Result<Vec<SearchHit>> {
        // Refuse a stay that has begun everywhere (or in the one property
        // asked for); elsewhere it depends on each property's time zone.
        let latest_zone = request
            .property
            .as_ref()
            .map_or(Ok(chrono_tz::Etc::GMTPlus12), |p| {
                view.property(p).map(|p| p.time_zone)
            })?;
        if stay.check_in() < local_date(now, latest_zone) {
            return Err(Error::InThePast {
                what: "stay",
                start: stay.check_in().and_time(chrono::NaiveTime::MIN).and_utc(),
                now,
            });
        }
        let size = request.party.size();
        // One pass over the catalog (10,000 entries do not stay in cache
        // between passes) collects each candidate, its units left on the
        // tightest night before ledgers (capacity less blocks), and its id
        // copied side by side with the others': the merge with the ledgers
        // compares ids, and reading each from its own allocation was a
        // cache miss per comparison.
        let mut candidates: Vec<&ResourceEntry> = Vec::new();
        let mut left: Vec<u32> = Vec::new();
        let mut arena = String::new();
        let mut ends: Vec<usize> = Vec::new();
        for entry in view.resources.values() {
            let ResourceKind::Nightly { max_occupancy, .. } = entry.resource.kind else {
                continue;
            };
            if max_occupancy < size
                || !prices_by(entry, PriceUnit::Night)
                || request
                    .property
                    .as_ref()
                    .is_some_and(|p| &entry.resource.property != p)
            {
                continue;
            }
            let capacity = entry.resource.capacity();
            let mut free = capacity;
            if !entry.blocks.is_empty() {
                for night in stay.night_dates() {
                    let blocked = blocked_on_night(&entry.blocks, night, capacity);
                    free = free.min(capacity.saturating_sub(blocked));
                }
            }
            candidates.push(entry);
            left.push(free);
            arena.push_str(entry.resource.id.as_str());
            ends.push(arena.len());
        }
        let mut start = 0;
        let ids: Vec<&str> = ends
            .iter()
            .map(|&end| {
                let id = &arena[start..end];
                start = end;
                id
            })
            .collect();
        for night in stay.night_dates() {
            self.apply_night(&candidates, &ids, &mut left, night, now)
                .await?;
        }
        let mut prices = PriceMemo::new(
            request.party.clone(),
            now,
            view.rate_plans.len().min(candidates.len()),
        );
        let mut hits = Vec::with_capacity(candidates.len());
        // The booking moment read in the last zone seen: most resources of
        // a search share a zone, and reading it is a zone-table search.
        let mut booked = BookedAt::new(now, chrono_tz::UTC);
        let mut booked_zone = chrono_tz::UTC;
        for (entry, left) in candidates.iter().zip(left) {
            if left == 0 {
                continue;
            }
            let tz = entry
                .zone
                .ok_or_else(|| Error::not_found("property", entry.resource.property.as_str()))?;
            if tz != booked_zone {
                booked = BookedAt::new(now, tz);
                booked_zone = tz;
            }
            if stay.check_in() < booked.local_date() {
                // Already begun in this property's time zone.
                continue;
            }
            if let Some(restrictions) = &entry.restrictions {
                if restrictions
                    .check_stay(&entry.resource.id, stay, &booked)
                    .is_err()
                {
                    continue;
                }
            }
            let total = prices.stay_total(entry, stay, tz, booked.local_date())?;
            hits.push(SearchHit {
                resource: entry.resource.id.clone(),
                property: entry.resource.property.clone(),
                slot: None,
                available: left,
                total,
            });
        }
        Ok(hits)
    }

    /// Lowers each candidate's units left to what `night`'s ledgers leave
    /// free (`left` already accounts for capacity and blocks). Ledgers are
    /// lent by the store ([`crate::ports::Storage::scan_each`]) and merged
    /// with the candidates, both in resource id order (`ids[i]` is
    /// `candidates[i]`'s id, kept apart so the merge reads one compact
    /// array).
    async fn apply_night(
        &self,
        candidates: &[&ResourceEntry],
        ids: &[&str],
        left: &mut [u32],
        night: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut range = keys::nights_of(night);
        let mut next = 0;
        let mut failed = None;
        let mut last_key = String::new();
        loop {
            let mut seen = 0;
            let mut visit = |key: &str, value: &[u8]| {
                seen += 1;
                if seen == SCAN_PAGE {
                    // The page is full: the next one starts after this key.
                    key.clone_into(&mut last_key);
                }
                if failed.is_some() {
                    return;
                }
                let id = keys::resource_of_night(key);
                while ids.get(next).is_some_and(|candidate| *candidate < id) {
                    next += 1;
                }
                if ids.get(next) != Some(&id) {
                    return;
                }
                let entry = candidates[next];
                match Ledger::decode(key, value) {
                    Ok(ledger) => {
                        let capacity = entry.resource.capacity();
                        let blocked = blocked_on_night(&entry.blocks, night, capacity);
                        let free = Counts::from_ledger(capacity, blocked, &ledger, now).available();
                        left[next] = left[next].min(free);
                    }
                    Err(e) => failed = Some(e),
                }
            };
            let visited = self
                .storage
                .scan_each(&range, SCAN_PAGE, &mut visit)
                .await?;
            if visited < SCAN_PAGE {
                break;
            }
            range.start = format!("{last_key}\u{21}");
        }
        failed.map_or(Ok(()), Err)
    }

    async fn search_sessions(
        &self,
        view: &CatalogView,
        request: &SearchRequest,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<SearchHit>> {
        let size = request.party.size();
        let mut sessions = Vec::new();
        let mut keys: Vec<Key> = Vec::new();
        for entry in view.resources.values() {
            if request
                .property
                .as_ref()
                .is_some_and(|p| &entry.resource.property != p)
            {
                continue;
            }
            let ResourceKind::Timed { seats, schedule } = &entry.resource.kind else {
                continue;
            };
            if *seats < size || !prices_by(entry, PriceUnit::Slot) {
                continue;
            }
            let tz = view.property(&entry.resource.property)?.time_zone;
            let booked = BookedAt::new(now, tz);
            for o in schedule.occurrences(tz, from, to)? {
                if o.slot().start() <= now {
                    continue;
                }
                if let Some(restrictions) = &entry.restrictions {
                    if restrictions
                        .check_slot(&entry.resource.id, o.date(), o.slot().start(), &booked)
                        .is_err()
                    {
                        continue;
                    }
                }
                keys.push(keys::session(&entry.resource.id, o.slot().start()));
                sessions.push((entry, o, tz));
            }
        }
        let records = self.storage.get(&keys).await?;
        let mut prices = PriceMemo::new(request.party.clone(), now, 0);
        let mut hits = Vec::new();
        for (((entry, o, tz), key), record) in sessions.into_iter().zip(&keys).zip(&records) {
            let seats = entry.resource.capacity();
            let ledger = ledger_of(record.as_ref(), key)?;
            let blocked = blocked_in(&entry.blocks, &o.occupied(), seats);
            let left = Counts::from_ledger(seats, blocked, &ledger, now).available();
            if left < size {
                continue;
            }
            let slot_start = SlotStart::new(o.slot().start(), o.date())?;
            let total = prices.slot_total(view, &entry.resource.rate_plan, slot_start, tz)?;
            hits.push(SearchHit {
                resource: entry.resource.id.clone(),
                property: entry.resource.property.clone(),
                slot: Some(o.slot()),
                available: left,
                total,
            });
        }
        Ok(hits)
    }
}

/// Whether the resource's default plan prices by `unit`, as its kind
/// needs. A resource whose plan prices the other unit cannot be quoted
/// (its quote is `INVALID_INPUT`), so a search leaves it out rather than
/// failing for every other resource. A missing plan is left to pricing,
/// which reports it.
fn prices_by(entry: &ResourceEntry, unit: PriceUnit) -> bool {
    entry
        .plan
        .as_ref()
        .is_none_or(|plan| plan.spec().unit == unit)
}

/// Prices for one search, computed once per rate plan and time zone (many
/// resources share a plan, and the price depends only on the plan, the
/// span, the party and the booking's civil date). Keyed by the address of
/// the plan in the catalog view the search holds, hashed by [`MixHasher`]:
/// a search may price 10,000 plans, and hashing their ids cost a fifth of
/// it.
struct PriceMemo {
    party: Party,
    now: DateTime<Utc>,
    stays: HashMap<(usize, Tz), Money, BuildHasherDefault<MixHasher>>,
}

impl PriceMemo {
    /// A memo sized for `plans` distinct plans.
    fn new(party: Party, now: DateTime<Utc>, plans: usize) -> PriceMemo {
        PriceMemo {
            party,
            now,
            stays: HashMap::with_capacity_and_hasher(plans, BuildHasherDefault::default()),
        }
    }

    /// The stay's total on the resource's default plan, booked on
    /// `booking_date` (today in `tz`).
    fn stay_total(
        &mut self,
        entry: &ResourceEntry,
        stay: &Stay,
        tz: Tz,
        booking_date: NaiveDate,
    ) -> Result<Money> {
        let plan = entry
            .plan
            .as_ref()
            .ok_or_else(|| Error::not_found("rate plan", entry.resource.rate_plan.as_str()))?;
        // The view outlives the memo, so a plan's address names it.
        let key = (Arc::as_ptr(plan) as usize, tz);
        if let Some(total) = self.stays.get(&key) {
            return Ok(*total);
        }
        let request = pricing::QuoteRequest::stay(*stay, self.party.clone(), booking_date);
        let total = plan.total(&request)?;
        self.stays.insert(key, total);
        Ok(total)
    }

    fn slot_total(
        &mut self,
        view: &CatalogView,
        plan: &RatePlanId,
        slot: SlotStart,
        tz: Tz,
    ) -> Result<Money> {
        let request =
            pricing::QuoteRequest::slot(slot, self.party.clone(), local_date(self.now, tz));
        view.rate_plan(plan)?.total(&request)
    }
}

/// A multiply-rotate hasher (the rustc "Fx" scheme) for the price memo's
/// keys: an address and a zone, both trusted, so no flooding resistance is
/// needed and SipHash's cost is not worth paying.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
