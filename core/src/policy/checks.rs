//! Checks on amounts shared by policies, quotes and commission splits.
//!
//! Owns the rule for an amount that is a price or a share of one
//! (non-negative, whole minor units, the expected currency) and for a set of
//! configured amounts that must share a currency. Must never round or
//! change an amount.

use crate::error::{Error, Result};
use crate::money::{Currency, Money};

/// Refuses `amount` unless it is in `currency`, non-negative and in whole
/// minor units; the error names `field`.
pub(crate) fn check_amount(field: &str, amount: &Money, currency: Currency) -> Result<()> {
    if amount.currency() != currency {
        return Err(Error::CurrencyMismatch {
            left: currency.code().to_owned(),
            right: amount.currency().code().to_owned(),
        });
    }
    if amount.is_negative() || !amount.is_rounded() {
        return Err(Error::invalid(
            field,
            format!("{amount} must be non-negative and in whole minor units"),
        ));
    }
    Ok(())
}

/// The one currency of `amounts`, `None` if there are none, or
/// [`Error::CurrencyMismatch`] naming the first two that differ.
pub(crate) fn one_currency<'a>(
    amounts: impl IntoIterator<Item = &'a Money>,
) -> Result<Option<Currency>> {
    let mut currency: Option<Currency> = None;
    for amount in amounts {
        match currency {
            Some(seen) if seen != amount.currency() => {
                return Err(Error::CurrencyMismatch {
                    left: seen.code().to_owned(),
                    right: amount.currency().code().to_owned(),
                });
            }
            _ => currency = Some(amount.currency()),
        }
    }
    Ok(currency)
}

/// Refuses a list of `len` items longer than `max`; the error names `field`.
pub(crate) fn check_at_most(field: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(Error::invalid(
            field,
            format!("{len} {field} is more than the maximum of {max}"),
        ));
    }
    Ok(())
}
