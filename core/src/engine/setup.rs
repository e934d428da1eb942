//! Catalog set-up: properties, resources, rate plans, restrictions, blocks
//! and promo codes.
//!
//! Owns checking each catalog change against the rest of the catalog (a
//! resource's property and rate plan exist, currencies agree, a block fits
//! the capacity that is not sold) and committing it with the epoch bump
//! and a `catalog.changed` event. Must never change inventory ledgers.

use serde::Serialize;

use crate::catalog::{Block, BlockSpan, Property, Resource, ResourceKind};
use crate::error::{Error, Result};
use crate::ids::{BlockId, PropertyId, ResourceId};
use crate::ports::Key;
use crate::pricing::{Promo, RatePlan};
use crate::restriction::Restrictions;
use crate::time::local_date;

use super::Engine;
use super::availability::{blocked_in, blocked_on_night, ledger_of};
use super::catalog_cache::CatalogView;
use super::checkin::VenueCheckIn;
use super::import::CatalogImport;
use super::item::Need;
use super::keys;
use super::txn::{Txn, retry_on_conflict};

/// The body of a `catalog.changed` event.
#[derive(Serialize)]
pub(super) struct CatalogChanged<'a> {
    pub record: &'a str,
    pub id: &'a str,
    pub change: &'a str,
}

impl Engine {
    pub(super) async fn commit_catalog_change(
        &self,
        view: &CatalogView,
        mut txn: Txn,
        record: &str,
        id: &str,
        change: &str,
    ) -> Result<()> {
        Engine::bump_epoch(&mut txn, view);
        txn.event("catalog.changed", &CatalogChanged { record, id, change });
        self.commit(txn).await?;
        Ok(())
    }

    /// Creates or replaces a property.
    ///
    /// Errors: `INVALID_INPUT` for a bad name; `CURRENCY_MISMATCH` when
    /// replacing a property would change the currency of resources whose
    /// rate plans are in the old one.
    pub async fn put_property(&self, property: Property) -> Result<()> {
        self.import_catalog(&CatalogImport {
            properties: vec![property],
            ..CatalogImport::default()
        })
        .await
    }

    /// Creates or replaces a rate plan.
    ///
    /// Errors: `CURRENCY_MISMATCH` when resources on the plan belong to a
    /// property in another currency.
    pub async fn put_rate_plan(&self, plan: RatePlan) -> Result<()> {
        self.import_catalog(&CatalogImport {
            rate_plans: vec![plan],
            ..CatalogImport::default()
        })
        .await
    }

    /// Creates or replaces a resource. Its property and default rate plan
    /// must exist, and the plan must price in the property's currency.
    /// Each call reloads the catalog; to load many resources, use
    /// [`Engine::import_catalog`].
    ///
    /// Replacing a resource never touches what is sold. Units or seats cut
    /// below what is booked, or a booked session dropped from the
    /// schedule, leave those bookings in place: availability shows the
    /// shortfall (`booked` above `capacity`, nothing `available`), nothing
    /// more is sold, and the host finds them with
    /// [`Engine::bookings_for_resource`] to move or cancel.
    ///
    /// Errors: `INVALID_INPUT` (a bad resource, one changing between
    /// nightly and timed, or one on a plan of the other unit),
    /// `NOT_FOUND`, `CURRENCY_MISMATCH`.
    pub async fn put_resource(&self, resource: Resource) -> Result<()> {
        self.import_catalog(&CatalogImport {
            resources: vec![resource],
            ..CatalogImport::default()
        })
        .await
    }

    /// Replaces the restrictions of a resource.
    pub async fn set_restrictions(
        &self,
        resource: &ResourceId,
        restrictions: Restrictions,
    ) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            view.resource(resource)?;
            let mut txn = Txn::default();
            txn.put_json(keys::restrictions(resource), &(resource, &restrictions));
            self.commit_catalog_change(&view, txn, "restrictions", resource.as_str(), "put")
                .await
        })
        .await
    }

    /// Replaces the check-in set-up of a property (entry hours,
    /// anti-passback, where its tickets admit). Errors: `NOT_FOUND` for the
    /// property, `INVALID_INPUT` for a resource scope naming a resource of
    /// another property.
    pub async fn set_venue_check_in(
        &self,
        property: &PropertyId,
        venue: VenueCheckIn,
    ) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            view.property(property)?;
            for resource in venue.resources.keys() {
                if &view.resource(resource)?.resource.property != property {
                    return Err(Error::invalid(
                        "resources",
                        format!("{resource} is not a resource of {property}"),
                    ));
                }
            }
            let mut txn = Txn::default();
            txn.put_json(keys::venue(property), &(property, &venue));
            self.commit_catalog_change(&view, txn, "venue_check_in", property.as_str(), "put")
                .await
        })
        .await
    }

    /// Creates or replaces a promo code.
    pub async fn put_promo(&self, promo: Promo) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            let mut txn = Txn::default();
            txn.put_json(keys::promo(promo.code.as_str()), &promo);
            self.commit_catalog_change(&view, txn, "promo", promo.code.as_str(), "put")
                .await
        })
        .await
    }

    /// Blocks capacity. The block must fit what is not sold or held: a
    /// block over booked units is refused with `UNAVAILABLE`, changing
    /// nothing. A block id is used once per resource (`ALREADY_EXISTS`).
    pub async fn add_block(&self, block: Block) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            let entry = view.resource(&block.resource)?;
            block.validate(&entry.resource)?;
            if entry.blocks.iter().any(|b| b.id == block.id) {
                return Err(Error::AlreadyExists {
                    kind: "block",
                    id: block.id.to_string(),
                });
            }
            let mut txn = Txn::default();
            let needs = self.block_footprint(&view, &block)?;
            let keys: Vec<Key> = needs.iter().map(|n| n.key.clone()).collect();
            let records = self.storage.get(&keys).await?;
            let now = self.clock.now();
            for (need, record) in needs.iter().zip(&records) {
                let ledger = ledger_of(record.as_ref(), &need.key)?;
                need.ensure_fits(&block.resource, need.left(&ledger, now))?;
                txn.expect_read(&need.key, record.as_ref());
            }
            txn.put_json(keys::block(&block.resource, &block.id), &block);
            self.commit_catalog_change(&view, txn, "block", block.id.as_str(), "put")
                .await
        })
        .await
    }

    /// The ledgers a block covers and the units it needs on each.
    fn block_footprint(&self, view: &CatalogView, block: &Block) -> Result<Vec<Need>> {
        let entry = view.resource(&block.resource)?;
        let mut needs = Vec::new();
        match (&entry.resource.kind, block.span) {
            (ResourceKind::Nightly { units, .. }, BlockSpan::Nights { from, to }) => {
                for night in from.iter_days().take_while(|d| *d < to) {
                    needs.push(Need {
                        key: keys::night(night, &block.resource),
                        date: night,
                        units: block.units.unwrap_or(*units),
                        blocked: blocked_on_night(&entry.blocks, night, *units),
                        capacity: *units,
                    });
                }
            }
            (ResourceKind::Timed { seats, schedule }, BlockSpan::Period { start, end }) => {
                let tz = view.property(&entry.resource.property)?.time_zone;
                // Sessions whose occupied time (with buffers) touches the
                // period start at most a day before it in civil time.
                let from = local_date(start, tz)
                    .pred_opt()
                    .unwrap_or(local_date(start, tz));
                let to = local_date(end, tz)
                    .succ_opt()
                    .unwrap_or(local_date(end, tz));
                let period = crate::time::Slot::new(start, end)?;
                for o in schedule.occurrences(tz, from, to)? {
                    if o.occupied().overlaps(&period) {
                        needs.push(Need {
                            key: keys::session(&block.resource, o.slot().start()),
                            date: o.date(),
                            units: block.units.unwrap_or(*seats),
                            blocked: blocked_in(&entry.blocks, &o.occupied(), *seats),
                            capacity: *seats,
                        });
                    }
                }
            }
            _ => {
                return Err(Error::invalid(
                    "span",
                    "block span does not match the resource",
                ));
            }
        }
        Ok(needs)
    }

    /// Removes a block, freeing its capacity. Errors: `NOT_FOUND`.
    pub async fn remove_block(&self, resource: &ResourceId, block: &BlockId) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            let entry = view.resource(resource)?;
            if !entry.blocks.iter().any(|b| &b.id == block) {
                return Err(Error::not_found("block", block.as_str()));
            }
            let mut txn = Txn::default();
            txn.delete(keys::block(resource, block));
            self.commit_catalog_change(&view, txn, "block", block.as_str(), "delete")
                .await
        })
        .await
    }

    /// A property by id.
    pub async fn property(&self, id: &PropertyId) -> Result<Property> {
        Ok(self.catalog().await?.property(id)?.clone())
    }

    /// A resource by id.
    pub async fn resource(&self, id: &ResourceId) -> Result<Resource> {
        Ok(self.catalog().await?.resource(id)?.resource.clone())
    }

    /// Every resource, or those of one property, in id order.
    pub async fn resources(&self, property: Option<&PropertyId>) -> Result<Vec<Resource>> {
        let view = self.catalog().await?;
        if let Some(p) = property {
            view.property(p)?;
        }
        Ok(view
            .resources
            .values()
            .filter(|e| property.is_none_or(|p| &e.resource.property == p))
            .map(|e| e.resource.clone())
            .collect())
    }
}
