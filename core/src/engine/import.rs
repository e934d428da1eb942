//! Bulk catalog import: many properties, rate plans and resources in one
//! commit.
//!
//! Owns checking a whole import against the catalog it lands on (each
//! record valid, no id twice, every resource's property and rate plan
//! present in the import or the catalog and in one currency, no resource
//! changing between nightly and timed) and committing it with one epoch
//! bump and a `catalog.changed` event per record. Putting records one at a
//! time reloads the catalog after each (every catalog commit bumps the
//! epoch), so importing n resources that way reads O(n²) records; an
//! import reads the catalog once. [`Engine::put_property`],
//! [`Engine::put_rate_plan`] and [`Engine::put_resource`] are imports of
//! one record, so a record is checked the same way whichever path it
//! takes. Must never commit part of an import.

use std::collections::{HashMap, HashSet};

use crate::catalog::{Property, Resource};
use crate::error::{Error, Result};
use crate::ids::{PropertyId, RatePlanId};
use crate::pricing::{PriceUnit, RatePlan};

use super::Engine;
use super::catalog_cache::CatalogView;
use super::keys;
use super::setup::CatalogChanged;
use super::txn::{Txn, retry_on_conflict};

/// Catalog records to create or replace together (see
/// [`Engine::import_catalog`]). A record whose id is already in the
/// catalog replaces it, as its `put_*` would.
#[derive(Debug, Clone, Default)]
pub struct CatalogImport {
    /// Properties.
    pub properties: Vec<Property>,
    /// Rate plans.
    pub rate_plans: Vec<RatePlan>,
    /// Resources; each names a property and a rate plan of the import or
    /// of the catalog.
    pub resources: Vec<Resource>,
}

impl CatalogImport {
    /// How many records the import holds.
    pub fn len(&self) -> usize {
        self.properties.len() + self.rate_plans.len() + self.resources.len()
    }

    /// Whether it holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Engine {
    /// Creates or replaces every property, rate plan and resource of
    /// `import` in one commit, each checked against the catalog as it
    /// will be after the import (the `put_*` calls are imports of one
    /// record). Use it to load
    /// a large catalog: it reads the catalog once, where one `put_*` call
    /// per record reads it once per record. An empty import changes
    /// nothing.
    ///
    /// Errors, with nothing written: `INVALID_INPUT` (a record fails its
    /// checks, an id appears twice in the import, a resource would change
    /// between nightly and timed, or its rate plan prices sessions for a
    /// nightly resource or nights for a timed one), `NOT_FOUND` (a resource's property or
    /// rate plan is neither in the import nor in the catalog),
    /// `CURRENCY_MISMATCH` (a resource's rate plan prices in another
    /// currency than its property, including resources already in the
    /// catalog whose property or plan the import replaces).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use reservo::catalog::{Property, Resource, ResourceKind};
    /// use reservo::engine::{CatalogImport, Engine};
    /// use reservo::ids::{PropertyId, RatePlanId, ResourceId};
    /// use reservo::pricing::RatePlan;
    /// use reservo::store::MemoryStore;
    ///
    /// let engine = Engine::builder(Arc::new(MemoryStore::new())).build();
    /// let plan = RatePlan::from_json(r#"{"id": "standard", "name": "Standard", "unit": "night",
    ///     "base_price": {"amount": "90.00", "currency": "EUR"}}"#).unwrap();
    /// let cabin = |n: u32| Resource {
    ///     id: ResourceId::new(&format!("cabin-{n}")).unwrap(),
    ///     property: PropertyId::new("pines").unwrap(),
    ///     name: format!("Cabin {n}"),
    ///     rate_plan: RatePlanId::new("standard").unwrap(),
    ///     kind: ResourceKind::Nightly { units: 1, max_occupancy: 4 },
    /// };
    /// engine.import_catalog(&CatalogImport {
    ///     properties: vec![Property::new("pines", "The Pines", "owner-1", "Europe/Lisbon", "EUR").unwrap()],
    ///     rate_plans: vec![plan],
    ///     resources: (1..=100).map(cabin).collect(),
    /// }).await.unwrap();
    /// let pines = PropertyId::new("pines").unwrap();
    /// assert_eq!(engine.resources(Some(&pines)).await.unwrap().len(), 100);
    /// # });
    /// ```
    pub async fn import_catalog(&self, import: &CatalogImport) -> Result<()> {
        if import.is_empty() {
            return Ok(());
        }
        check_records(import)?;
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            check_against(&view, import)?;
            let mut txn = Txn::default();
            Engine::bump_epoch(&mut txn, &view);
            let change = |txn: &mut Txn, record: &str, id: &str| {
                let change = "put";
                txn.event("catalog.changed", &CatalogChanged { record, id, change });
            };
            for property in &import.properties {
                txn.put_json(keys::property(&property.id), property);
                change(&mut txn, "property", property.id.as_str());
            }
            for plan in &import.rate_plans {
                txn.put_json(keys::rate_plan(plan.id()), plan);
                change(&mut txn, "rate_plan", plan.id().as_str());
            }
            for resource in &import.resources {
                txn.put_json(keys::resource(&resource.id), resource);
                change(&mut txn, "resource", resource.id.as_str());
            }
            self.commit(txn).await?;
            Ok(())
        })
        .await
    }
}

/// Each record on its own, and no id twice.
fn check_records(import: &CatalogImport) -> Result<()> {
    let mut seen = HashSet::new();
    for property in &import.properties {
        property.validate()?;
        once(&mut seen, "property", property.id.as_str())?;
    }
    for plan in &import.rate_plans {
        once(&mut seen, "rate_plan", plan.id().as_str())?;
    }
    for resource in &import.resources {
        resource.validate()?;
        once(&mut seen, "resource", resource.id.as_str())?;
    }
    Ok(())
}

fn once<'a>(seen: &mut HashSet<(&'a str, &'a str)>, kind: &'a str, id: &'a str) -> Result<()> {
    if !seen.insert((kind, id)) {
        return Err(Error::invalid(
            "import",
            format!("{kind} {id} appears twice in the import"),
        ));
    }
    Ok(())
}

/// The import against the catalog it lands on: every resource it puts, and
/// every resource of the catalog whose property or plan it replaces, has
/// its property and a plan of its unit, in one currency.
fn check_against(view: &CatalogView, import: &CatalogImport) -> Result<()> {
    let properties: HashMap<&PropertyId, &Property> =
        import.properties.iter().map(|p| (&p.id, p)).collect();
    let plans: HashMap<&RatePlanId, &RatePlan> =
        import.rate_plans.iter().map(|p| (p.id(), p)).collect();
    let property = |id: &PropertyId| match properties.get(id) {
        Some(p) => Ok(*p),
        None => view.property(id),
    };
    let plan = |id: &RatePlanId| match plans.get(id) {
        Some(p) => Ok(*p),
        None => view.rate_plan(id),
    };
    for resource in &import.resources {
        check_plan(
            resource,
            property(&resource.property)?,
            plan(&resource.rate_plan)?,
        )?;
        if let Some(existing) = view.resources.get(&resource.id) {
            if existing.resource.is_nightly() != resource.is_nightly() {
                return Err(Error::invalid(
                    "kind",
                    format!("{} cannot change between nightly and timed", resource.id),
                ));
            }
        }
    }
    let imported: HashSet<&str> = import.resources.iter().map(|r| r.id.as_str()).collect();
    for entry in view.resources.values() {
        let resource = &entry.resource;
        let touched =
            properties.contains_key(&resource.property) || plans.contains_key(&resource.rate_plan);
        if touched && !imported.contains(resource.id.as_str()) {
            check_plan(
                resource,
                property(&resource.property)?,
                plan(&resource.rate_plan)?,
            )?;
        }
    }
    Ok(())
}

/// Whether `plan` can price `resource` of `property`. Errors:
/// `CURRENCY_MISMATCH` if it prices in another currency than `property`;
/// `INVALID_INPUT` if it prices nights for a timed resource or sessions
/// for a nightly one (no quote of the resource could succeed).
pub(crate) fn check_plan(resource: &Resource, property: &Property, plan: &RatePlan) -> Result<()> {
    let sold_by = |unit| match unit {
        PriceUnit::Night => "night",
        PriceUnit::Slot => "session",
    };
    let needed = if resource.is_nightly() {
        PriceUnit::Night
    } else {
        PriceUnit::Slot
    };
    if plan.spec().unit != needed {
        return Err(Error::invalid(
            "rate_plan",
            format!(
                "rate plan {} prices by the {}, and resource {} is sold by the {}",
                plan.id(),
                sold_by(plan.spec().unit),
                resource.id,
                sold_by(needed)
            ),
        ));
    }
    if property.currency != plan.currency() {
        return Err(Error::CurrencyMismatch {
            left: property.currency.code().to_owned(),
            right: plan.currency().code().to_owned(),
        });
    }
    Ok(())
}
