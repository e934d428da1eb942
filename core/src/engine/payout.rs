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
use crate::money::Currency;

use super::Engine;
use super::keys;

impl Engine {
    /// `owner`'s statement for `period`: one line per booking with money
    /// movements in the period, and totals, in the currency of the owner's
    /// bookings (of its properties if it has none yet). Reads every booking
    /// of the owner. An owner with bookings in several currencies gets one
    /// statement per currency from [`Engine::owner_statement_in`]. A
    /// former owner (whose properties passed to another) still gets the
    /// statements of the bookings made while it owned them.
    ///
    /// Errors: `NOT_FOUND` if no property has this owner and no booking
    /// was ever made for it, `CURRENCY_MISMATCH` if the owner's bookings
    /// are in several currencies.
    pub async fn owner_statement(
        &self,
        owner: &OwnerId,
        period: StatementPeriod,
    ) -> Result<OwnerStatement> {
        let (owned, ledgers) = self.owner_ledgers(owner).await?;
        let mut booked: Vec<Currency> = ledgers.iter().map(currency_of).collect();
        booked.sort_by(|a, b| a.code().cmp(b.code()));
        booked.dedup();
        let currency = match booked.as_slice() {
            [] => owned[0],
            [one] => *one,
            [first, second, ..] => {
                return Err(Error::CurrencyMismatch {
                    left: first.code().to_owned(),
                    right: second.code().to_owned(),
                });
            }
        };
        owner_statement(owner, period, currency, &ledgers)
    }

    /// `owner`'s statement for `period` over its bookings in `currency`
    /// only (an owner with properties in several currencies gets one
    /// statement per currency). See [`Engine::owner_statement`].
    ///
    /// Errors: `NOT_FOUND` if no property has this owner and no booking
    /// was ever made for it.
    pub async fn owner_statement_in(
        &self,
        owner: &OwnerId,
        period: StatementPeriod,
        currency: Currency,
    ) -> Result<OwnerStatement> {
        let (_, mut ledgers) = self.owner_ledgers(owner).await?;
        ledgers.retain(|ledger| currency_of(ledger) == currency);
        owner_statement(owner, period, currency, &ledgers)
    }

    /// The currencies of `owner`'s properties, or of its bookings if it
    /// owns none now (sorted by code, at least one), and the commission
    /// ledgers of its bookings.
    async fn owner_ledgers(&self, owner: &OwnerId) -> Result<(Vec<Currency>, Vec<BookingLedger>)> {
        let view = self.catalog().await?;
        let bookings = self
            .bookings_from_index(keys::bookings_of_owner(owner))
            .await?;
        let mut currencies: Vec<Currency> = view
            .properties
            .values()
            .filter(|p| &p.owner == owner)
            .map(|p| p.currency)
            .collect();
        if currencies.is_empty() {
            currencies = bookings.iter().map(|b| b.total.currency()).collect();
        }
        if currencies.is_empty() {
            return Err(Error::not_found("owner", owner.as_str()));
        }
        currencies.sort_by(|a, b| a.code().cmp(b.code()));
        currencies.dedup();
        let ledgers = bookings
            .into_iter()
            .filter_map(|b| b.money.commission)
            .collect();
        Ok((currencies, ledgers))
    }
}

fn currency_of(ledger: &BookingLedger) -> Currency {
    ledger.split().gross().currency()
}
