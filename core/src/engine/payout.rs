//! Owner statements over stored bookings.
//!
//! Owns gathering an owner's bookings (the `ob/<owner>/` index written at
//! confirmation) and handing their commission ledgers to
//! [`crate::commission::owner_statement`], which decides what counts in a
//! period: a booking's split on its recognized date (its start's civil
//! date, see [`super::terms`]), each refund or clawback on its own date.
//! Must never compute money itself.

use crate::commission::{BookingLedger, OwnerStatement, StatementPeriod, owner_statement};
use crate::error::{Error, Result};
use crate::ids::OwnerId;

use super::Engine;
use super::keys;

impl Engine {
    /// `owner`'s statement for `period`: one line per booking with money
    /// movements in the period, and totals, in the currency of the owner's
    /// properties. Reads every booking of the owner.
    ///
    /// Errors: `NOT_FOUND` if no property has this owner,
    /// `CURRENCY_MISMATCH` if the owner's bookings are in several
    /// currencies.
    pub async fn owner_statement(
        &self,
        owner: &OwnerId,
        period: StatementPeriod,
    ) -> Result<OwnerStatement> {
        let view = self.catalog().await?;
        let currency = view
            .properties
            .values()
            .filter(|p| &p.owner == owner)
            .map(|p| p.currency)
            .min_by_key(|c| c.code().to_owned())
            .ok_or_else(|| Error::not_found("owner", owner.as_str()))?;
        let bookings = self
            .bookings_from_index(keys::bookings_of_owner(owner))
            .await?;
        let ledgers: Vec<BookingLedger> = bookings
            .into_iter()
            .filter_map(|b| b.money.commission)
            .collect();
        owner_statement(owner, period, currency, &ledgers)
    }
}
