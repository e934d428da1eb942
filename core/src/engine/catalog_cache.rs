//! The in-process copy of the catalog, validated by the epoch record.
//!
//! Owns loading the catalog from storage and deciding when the copy is
//! stale: every catalog commit bumps `cat/epoch`, so one `get` of that record
//! tells whether the copy is current. Must never serve a copy older than the
//! epoch it read, and never be written to except by replacing it whole.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono_tz::Tz;

use crate::catalog::{Block, Property, Resource};
use crate::commission::CommissionPlan;
use crate::error::{Error, Result};
use crate::ids::{PropertyId, RatePlanId, ResourceId};
use crate::policy::CancellationPolicy;
use crate::ports::{KeyRange, Record, Version};
use crate::pricing::{Promo, RatePlan};
use crate::restriction::Restrictions;

use super::Engine;
use super::checkin::VenueCheckIn;
use super::keys;
use super::txn::{Txn, decode_json};

/// A resource with everything the catalog knows about it.
#[derive(Debug, Clone)]
pub(crate) struct ResourceEntry {
    pub resource: Resource,
    /// The resource's default rate plan, resolved when the view is built
    /// (a search prices thousands of resources: no look-up per resource).
    pub plan: Option<Arc<RatePlan>>,
    /// Its property's time zone, resolved with the plan (`None` only if
    /// the property is missing, which the search reports as not found).
    pub zone: Option<Tz>,
    pub restrictions: Option<Restrictions>,
    pub blocks: Vec<Block>,
}

/// The whole catalog as of one epoch.
#[derive(Debug, Default)]
pub(crate) struct CatalogView {
    /// The epoch record's version this view is at least as new as.
    pub epoch: Option<Version>,
    pub properties: HashMap<PropertyId, Property>,
    /// Sorted by id, so merge-joins with ledger scans need no hashing.
    pub resources: BTreeMap<ResourceId, ResourceEntry>,
    pub rate_plans: HashMap<RatePlanId, Arc<RatePlan>>,
    pub promos: HashMap<String, Promo>,
    /// Cancellation policies by rate plan (see [`super::terms`]).
    pub cancellation_policies: HashMap<RatePlanId, CancellationPolicy>,
    /// Commission plans by property (see [`super::terms`]).
    pub commission_plans: HashMap<PropertyId, CommissionPlan>,
    /// Check-in set-ups by property; a property without one has none.
    pub venues: HashMap<PropertyId, VenueCheckIn>,
}

impl CatalogView {
    pub fn property(&self, id: &PropertyId) -> Result<&Property> {
        self.properties
            .get(id)
            .ok_or_else(|| Error::not_found("property", id.as_str()))
    }

    pub fn resource(&self, id: &ResourceId) -> Result<&ResourceEntry> {
        self.resources
            .get(id)
            .ok_or_else(|| Error::not_found("resource", id.as_str()))
    }

    pub fn rate_plan(&self, id: &RatePlanId) -> Result<&RatePlan> {
        self.rate_plans
            .get(id)
            .map(|plan| &**plan)
            .ok_or_else(|| Error::not_found("rate plan", id.as_str()))
    }
}

/// Catalog records as read, before restrictions and blocks are attached to
/// their resources (they sort before `cat/r/..`, so they can come first).
#[derive(Default)]
struct CatalogParts {
    view: CatalogView,
    resources: Vec<Resource>,
    restrictions: HashMap<ResourceId, Restrictions>,
    blocks: HashMap<ResourceId, Vec<Block>>,
}

impl CatalogParts {
    fn absorb(&mut self, record: &Record) -> Result<()> {
        let key = record.key.as_str();
        if key == keys::CATALOG_EPOCH {
            return Ok(());
        }
        match key.split('/').nth(1).unwrap_or("") {
            "p" => {
                let p: Property = decode_json(record)?;
                self.view.properties.insert(p.id.clone(), p);
            }
            "r" => self.resources.push(decode_json(record)?),
            "rp" => {
                let plan: RatePlan = decode_json(record)?;
                self.view
                    .rate_plans
                    .insert(plan.id().clone(), Arc::new(plan));
            }
            "rs" => {
                let (id, restrictions): (ResourceId, Restrictions) = decode_json(record)?;
                self.restrictions.insert(id, restrictions);
            }
            "b" => {
                let block: Block = decode_json(record)?;
                self.blocks
                    .entry(block.resource.clone())
                    .or_default()
                    .push(block);
            }
            "vr" => {
                let (id, venue): (PropertyId, VenueCheckIn) = decode_json(record)?;
                self.view.venues.insert(id, venue);
            }
            "promo" => {
                let promo: Promo = decode_json(record)?;
                self.view
                    .promos
                    .insert(promo.code.as_str().to_owned(), promo);
            }
            "cp" => {
                let (id, policy): (RatePlanId, CancellationPolicy) = decode_json(record)?;
                self.view.cancellation_policies.insert(id, policy);
            }
            "cm" => {
                let (id, plan): (PropertyId, CommissionPlan) = decode_json(record)?;
                self.view.commission_plans.insert(id, plan);
            }
            _ => {
                return Err(Error::CorruptRecord {
                    key: record.key.clone(),
                    message: "unknown catalog record kind".into(),
                });
            }
        }
        Ok(())
    }

    fn finish(mut self) -> CatalogView {
        for resource in self.resources {
            let entry = ResourceEntry {
                plan: self.view.rate_plans.get(&resource.rate_plan).cloned(),
                zone: self
                    .view
                    .properties
                    .get(&resource.property)
                    .map(|p| p.time_zone),
                restrictions: self.restrictions.remove(&resource.id),
                blocks: self.blocks.remove(&resource.id).unwrap_or_default(),
                resource,
            };
            self.view.resources.insert(entry.resource.id.clone(), entry);
        }
        self.view
    }
}

const PAGE: usize = 1024;

impl Engine {
    /// The current catalog: the cached copy if the epoch has not moved,
    /// otherwise a fresh load.
    pub(crate) async fn catalog(&self) -> Result<Arc<CatalogView>> {
        let epoch = self.read_epoch().await?;
        self.catalog_at(epoch).await
    }

    /// The current catalog and the records at `keys`, read by one `get`
    /// (one snapshot, and one round trip on a networked store): for a
    /// command that needs both before it can decide anything.
    pub(crate) async fn catalog_and(
        &self,
        keys: &[String],
    ) -> Result<(Arc<CatalogView>, Vec<Option<Record>>)> {
        let mut wanted = Vec::with_capacity(keys.len() + 1);
        wanted.push(keys::CATALOG_EPOCH.to_owned());
        wanted.extend_from_slice(keys);
        let mut got = self.storage.get(&wanted).await?.into_iter();
        let epoch = got.next().flatten().map(|r| r.version);
        let view = self.catalog_at(epoch).await?;
        Ok((view, got.collect()))
    }

    /// The catalog as last loaded, without reading its epoch: for a command
    /// that pins [`keys::CATALOG_EPOCH`] at the view's epoch in its commit.
    pub(crate) fn last_catalog(&self) -> Option<Arc<CatalogView>> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(Arc::clone)
    }

    /// The catalog at `epoch`: the cached copy if it is that one,
    /// otherwise a fresh load.
    async fn catalog_at(&self, epoch: Option<Version>) -> Result<Arc<CatalogView>> {
        if let Some(view) = self
            .catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            if view.epoch == epoch {
                return Ok(Arc::clone(view));
            }
        }
        let view = Arc::new(self.load_catalog(epoch).await?);
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&view));
        Ok(view)
    }

    async fn read_epoch(&self) -> Result<Option<Version>> {
        let mut got = self.storage.get(&[keys::CATALOG_EPOCH.to_owned()]).await?;
        Ok(got.pop().flatten().map(|r| r.version))
    }

    /// Loads every catalog record. Scans are not snapshots, so the load is
    /// repeated until the epoch is the same before and after it: then no
    /// catalog commit landed in between.
    async fn load_catalog(&self, mut epoch: Option<Version>) -> Result<CatalogView> {
        for _ in 0..self.config.max_attempts {
            let mut parts = CatalogParts::default();
            parts.view.epoch = epoch;
            let mut range = KeyRange::prefix(keys::CATALOG_PREFIX);
            loop {
                let page = self.storage.scan(&range, PAGE).await?;
                for record in &page {
                    parts.absorb(record)?;
                }
                match page.last() {
                    Some(last) if page.len() == PAGE => range.start = format!("{}\u{21}", last.key),
                    _ => break,
                }
            }
            let after = self.read_epoch().await?;
            if after == epoch {
                return Ok(parts.finish());
            }
            epoch = after;
        }
        Err(Error::Contention {
            attempts: self.config.max_attempts,
            key: keys::CATALOG_EPOCH.to_owned(),
        })
    }

    /// Pins the catalog epoch and bumps it: every catalog change does this.
    pub(crate) fn bump_epoch(txn: &mut Txn, view: &CatalogView) {
        txn.expect(keys::CATALOG_EPOCH, view.epoch);
        let next = view.epoch.map_or(1, |v| v.0 + 1);
        txn.put_json(keys::CATALOG_EPOCH, &next);
    }
}
