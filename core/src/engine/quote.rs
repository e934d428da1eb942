//! Quotes: the price of one item, if it can be booked now.
//!
//! Owns assembling a pricing request from the catalog (rate plan, the
//! property's civil date for promo windows, the promo code and its uses)
//! and refusing what cannot be booked (restrictions, capacity). Must never
//! write: a quote reserves nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{RatePlanId, ResourceId};
use crate::ports::Record;
use crate::pricing::{self, Promo, PromoRedemption, Quote, SlotStart};
use crate::time::local_date;

use super::Engine;
use super::availability::ledger_of;
use super::catalog_cache::CatalogView;
use super::hold::{HeldItem, ItemNeeds, LedgerUse, one_property};
use super::import::check_plan;
use super::item::{Item, Need, Resolved, Span};
use super::keys;
use super::txn::decode_json;

/// What to price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRequest {
    /// The resource, nights or session, and party.
    pub item: Item,
    /// A rate plan other than the resource's default. It must price what
    /// the resource sells (nights or sessions) in its property's currency:
    /// `CURRENCY_MISMATCH` or `INVALID_INPUT` otherwise, as for a default
    /// plan given to [`Engine::put_resource`].
    #[serde(default)]
    pub rate_plan: Option<RatePlanId>,
    /// A promo code as the guest typed it.
    #[serde(default)]
    pub promo_code: Option<String>,
}

impl QuoteRequest {
    /// A quote of `item` on the resource's default plan, without a promo.
    pub fn new(item: Item) -> QuoteRequest {
        QuoteRequest {
            item,
            rate_plan: None,
            promo_code: None,
        }
    }

    /// The same request with a promo code.
    pub fn with_promo(mut self, code: impl Into<String>) -> QuoteRequest {
        self.promo_code = Some(code.into());
        self
    }
}

/// A quote and the inventory left for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quoted {
    /// The priced lines and totals.
    pub quote: Quote,
    /// Units (nightly: on the tightest night) or seats left right now.
    pub available: u32,
}

impl Engine {
    /// Prices an item that can be booked now: the resource exists, the
    /// party fits, the dates are not in the past, restrictions allow it and
    /// capacity is left. Reserves nothing.
    ///
    /// Errors: `NOT_FOUND`, `INVALID_INPUT`, `PARTY_TOO_LARGE`,
    /// `IN_THE_PAST`, `NO_SUCH_SLOT`, a restriction's code, `UNAVAILABLE`,
    /// `PROMO_NOT_APPLICABLE`.
    pub async fn quote(&self, request: &QuoteRequest) -> Result<Quoted> {
        let view = self.catalog().await?;
        let now = self.clock.now();
        let (resolved, quote) = self.price(&view, now, request, &[]).await?;
        let keys: Vec<String> = resolved.needs.iter().map(|n| n.key.clone()).collect();
        let records = self.storage.get(&keys).await?;
        let mut available = u32::MAX;
        for (need, record) in resolved.needs.iter().zip(&records) {
            let ledger = ledger_of(record.as_ref(), &need.key)?;
            let left = need.left(&ledger, now);
            need.ensure_fits(&request.item.resource, left)?;
            available = available.min(left);
        }
        Ok(Quoted { quote, available })
    }

    /// Checks `request` against the catalog and prices it; reads no
    /// inventory. `redeemed`: promo codes a booking being modified already
    /// used, whose use is its own (not counted against the code's limit).
    pub(crate) async fn price<'v>(
        &self,
        view: &'v CatalogView,
        now: DateTime<Utc>,
        request: &QuoteRequest,
        redeemed: &[&str],
    ) -> Result<(Resolved<'v>, Quote)> {
        let resolved = request.item.resolve(view, now)?;
        let resource = &resolved.entry.resource;
        let plan = match &request.rate_plan {
            Some(other) if *other != resource.rate_plan => {
                let plan = view.rate_plan(other)?;
                check_plan(resource, resolved.property, plan)?;
                plan
            }
            // The default plan was checked when the resource was put.
            _ => view.rate_plan(&resource.rate_plan)?,
        };
        let mut price_request = price_request(&request.item, &resolved, now)?;
        if let Some(code) = &request.promo_code {
            let mut redemption = self.redemption(view, code).await?;
            if redeemed
                .iter()
                .any(|own| redemption.promo.code.matches(own))
            {
                redemption.uses = redemption.uses.saturating_sub(1);
            }
            price_request = price_request.with_promo(redemption);
        }
        let quote = plan.quote(&price_request)?;
        Ok((resolved, quote))
    }

    /// The promo named by `code` with its current uses.
    pub(crate) async fn redemption(
        &self,
        view: &CatalogView,
        code: &str,
    ) -> Result<PromoRedemption> {
        let (promo, _, uses) = self.promo_uses(view, code).await?;
        Ok(PromoRedemption {
            code: code.to_owned(),
            promo: promo.clone(),
            uses,
        })
    }

    /// The promo a guest's `code` names, the record counting its uses (to
    /// pin in a commit that counts one more) and the count.
    pub(crate) async fn promo_uses<'v>(
        &self,
        view: &'v CatalogView,
        code: &str,
    ) -> Result<(&'v Promo, Option<Record>, u32)> {
        let promo = view
            .promos
            .values()
            .find(|p| p.code.matches(code))
            .ok_or_else(|| Error::PromoNotApplicable {
                code: code.to_owned(),
                reason: "no such code".into(),
            })?;
        let record = self
            .read_record(&keys::promo_uses(promo.code.as_str()))
            .await?;
        let uses = record
            .as_ref()
            .map(decode_json::<u32>)
            .transpose()?
            .unwrap_or(0);
        Ok((promo, record, uses))
    }

    /// Checks and prices each request as [`Engine::quote`] would, and sums
    /// the units they need per ledger key. Reads no inventory. `redeemed`
    /// as for [`Engine::price`].
    pub(crate) async fn price_items<'r>(
        &self,
        view: &CatalogView,
        now: DateTime<Utc>,
        requests: &'r [QuoteRequest],
        redeemed: &[&str],
    ) -> Result<(Vec<HeldItem>, ItemNeeds<'r>)> {
        one_property(view, requests)?;
        let mut items = Vec::with_capacity(requests.len());
        // Units per ledger over all items (two rooms of one type on one night).
        let mut needs: BTreeMap<String, (Need, &ResourceId)> = BTreeMap::new();
        for item_request in requests {
            let (resolved, quote) = self.price(view, now, item_request, redeemed).await?;
            let mut uses = Vec::with_capacity(resolved.needs.len());
            for need in resolved.needs {
                uses.push(LedgerUse {
                    key: need.key.clone(),
                    date: need.date,
                    units: need.units,
                });
                needs
                    .entry(need.key.clone())
                    .and_modify(|(total, _)| total.units += need.units)
                    .or_insert((need, &item_request.item.resource));
            }
            items.push(HeldItem {
                request: item_request.clone(),
                quote,
                uses,
            });
        }
        Ok((items, needs))
    }
}

/// The pricing request for a resolved item, dated in the property's zone.
pub(crate) fn price_request(
    item: &Item,
    resolved: &Resolved<'_>,
    now: DateTime<Utc>,
) -> Result<pricing::QuoteRequest> {
    let booking_date = local_date(now, resolved.property.time_zone);
    Ok(match (&item.span, &resolved.occurrence) {
        (Span::Stay(stay), _) => {
            pricing::QuoteRequest::stay(*stay, item.party.clone(), booking_date)
        }
        (Span::Session { start }, Some(o)) => pricing::QuoteRequest::slot(
            SlotStart::new(*start, o.date())?,
            item.party.clone(),
            booking_date,
        ),
        (Span::Session { .. }, None) => {
            return Err(Error::invalid(
                "span",
                "a session item resolved without its session",
            ));
        }
    })
}
