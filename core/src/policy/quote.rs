//! Refund quotes: what comes back if a booking is cancelled at an instant.
//!
//! Owns [`BookingFacts`] (the money and times of one booking that a policy
//! reads), [`CancellationEvent`] and [`RefundQuote`], and the one function
//! that applies a [`CancellationPolicy`] to them. Must never refund more
//! than was paid, never round a refund up (refunds round toward zero), and
//! never touch storage or payment gateways: the engine does that with the
//! quote.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::checks::check_amount;
use super::model::{CancellationPolicy, FreeCancellationWindow, Penalty};
use super::threshold::{BookingStart, Threshold};
use crate::error::{Error, Result};
use crate::money::{Currency, Money, RoundingMode};

/// The facts of one booking that a refund quote needs.
///
/// * `price` — the booking's total price, non-refundable fees included;
/// * `paid` — what the guest has paid so far, net of earlier refunds
///   (at most `price`);
/// * `non_refundable` — the part of the price never refunded (a service
///   fee, say), at most `price`. The engine gives the booking's change
///   fees plus its quote lines of fees marked non-refundable
///   ([`crate::pricing::Fee::refundable`]) and the exclusive taxes
///   charged on them ([`crate::pricing::Quote::non_refundable`]);
/// * `night_amounts` — the per-night amounts of the booking's quote, in
///   night order, for first-night penalties (the engine gives a session
///   as one night).
///
/// All amounts are non-negative, in whole minor units and in one currency.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use reservo::money::Money;
/// use reservo::policy::{BookingFacts, BookingStart};
/// let eur = |s| Money::parse(s, "EUR").unwrap();
/// let start = BookingStart::at_instant(
///     Utc.with_ymd_and_hms(2026, 8, 1, 13, 0, 0).unwrap(), "Europe/Paris".parse().unwrap());
/// let facts = BookingFacts::new(
///     Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(), start,
///     eur("330.00"), eur("330.00"), eur("30.00"), vec![eur("100.00"); 3],
/// ).unwrap();
/// assert_eq!(facts.refundable().to_string(), "300.00 EUR");
/// let overpaid = BookingFacts::new(
///     facts.booked_at(), start, eur("330.00"), eur("331.00"), eur("0"), vec![]);
/// assert_eq!(overpaid.unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingFacts {
    booked_at: DateTime<Utc>,
    start: BookingStart,
    price: Money,
    paid: Money,
    non_refundable: Money,
    night_amounts: Vec<Money>,
}

impl BookingFacts {
    /// Checks and gathers the facts (see the type's docs for the rules).
    pub fn new(
        booked_at: DateTime<Utc>,
        start: BookingStart,
        price: Money,
        paid: Money,
        non_refundable: Money,
        night_amounts: Vec<Money>,
    ) -> Result<BookingFacts> {
        let currency = price.currency();
        check_amount("price", &price, currency)?;
        check_amount("paid", &paid, currency)?;
        check_amount("non_refundable", &non_refundable, currency)?;
        for night in &night_amounts {
            check_amount("night_amounts", night, currency)?;
        }
        for (field, part) in [("paid", &paid), ("non_refundable", &non_refundable)] {
            if part.amount() > price.amount() {
                return Err(Error::invalid(
                    field,
                    format!("{part} is more than the price {price}"),
                ));
            }
        }
        Ok(BookingFacts {
            booked_at,
            start,
            price,
            paid,
            non_refundable,
            night_amounts,
        })
    }

    /// When the booking was made.
    pub fn booked_at(&self) -> DateTime<Utc> {
        self.booked_at
    }

    /// When the booking starts.
    pub fn start(&self) -> BookingStart {
        self.start
    }

    /// The total price.
    pub fn price(&self) -> Money {
        self.price
    }

    /// What has been paid, net of earlier refunds.
    pub fn paid(&self) -> Money {
        self.paid
    }

    /// The part of the price that is never refunded.
    pub fn non_refundable(&self) -> Money {
        self.non_refundable
    }

    /// The per-night amounts, in night order.
    pub fn night_amounts(&self) -> &[Money] {
        &self.night_amounts
    }

    /// The price minus its non-refundable part: what penalties are a share of.
    pub fn refundable(&self) -> Money {
        Money::new(
            self.price.amount() - self.non_refundable.amount(),
            self.price.currency(),
        )
    }

    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.price.currency()
    }
}

impl<'de> Deserialize<'de> for BookingFacts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            booked_at: DateTime<Utc>,
            start: BookingStart,
            price: Money,
            paid: Money,
            non_refundable: Money,
            #[serde(default)]
            night_amounts: Vec<Money>,
        }
        let r = Raw::deserialize(d)?;
        BookingFacts::new(
            r.booked_at,
            r.start,
            r.price,
            r.paid,
            r.non_refundable,
            r.night_amounts,
        )
        .map_err(serde::de::Error::custom)
    }
}

/// What happened to the booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CancellationEvent {
    /// The guest cancelled at instant `at` (before or after the start).
    Cancelled {
        /// When the cancellation was made.
        at: DateTime<Utc>,
    },
    /// The guest did not show up: judged as a cancellation after every
    /// deadline (the policy's late penalty).
    NoShow,
}

/// Which rule of the policy decided a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppliedRule {
    /// A free-cancellation window after booking; it closes at `closes_at`.
    FreeWindow {
        /// The window.
        window: FreeCancellationWindow,
        /// The instant the window closes for this booking.
        closes_at: DateTime<Utc>,
    },
    /// A tier, cancelled at or before its `deadline`.
    Tier {
        /// The tier's threshold.
        threshold: Threshold,
        /// The tier's deadline for this booking.
        deadline: DateTime<Utc>,
        /// The tier's penalty.
        penalty: Penalty,
    },
    /// Every deadline had passed: the late penalty.
    Late {
        /// The late penalty.
        penalty: Penalty,
    },
    /// The guest did not show up: the late penalty.
    NoShow {
        /// The late penalty.
        penalty: Penalty,
    },
}

impl AppliedRule {
    /// The penalty the rule imposes ([`Penalty::None`] for a free window).
    pub fn penalty(&self) -> Penalty {
        match self {
            AppliedRule::FreeWindow { .. } => Penalty::None,
            AppliedRule::Tier { penalty, .. }
            | AppliedRule::Late { penalty }
            | AppliedRule::NoShow { penalty } => *penalty,
        }
    }
}

impl fmt::Display for AppliedRule {
    /// Why the rule applied, for a person.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppliedRule::FreeWindow { window, closes_at } => write!(
                f,
                "cancelled within {} hours of booking (window closes {closes_at}): free cancellation",
                window.hours_after_booking
            ),
            AppliedRule::Tier {
                threshold,
                deadline,
                penalty,
            } => write!(
                f,
                "cancelled by the deadline {threshold} ({deadline}): {}",
                describe(penalty)
            ),
            AppliedRule::Late { penalty } => {
                write!(f, "cancelled after every deadline: {}", describe(penalty))
            }
            AppliedRule::NoShow { penalty } => {
                write!(
                    f,
                    "no-show, judged as a late cancellation: {}",
                    describe(penalty)
                )
            }
        }
    }
}

fn describe(penalty: &Penalty) -> String {
    match penalty {
        Penalty::None => "no penalty".to_owned(),
        Penalty::Percent { percent } => format!("penalty of {percent} of the refundable amount"),
        Penalty::Fixed { amount } => format!("fixed penalty of {amount}"),
        Penalty::FirstNights {
            nights,
            percent_of_rest,
        } if percent_of_rest.is_zero() => format!("penalty of the first {nights} night(s)"),
        Penalty::FirstNights {
            nights,
            percent_of_rest,
        } => format!("penalty of the first {nights} night(s) and {percent_of_rest} of the rest"),
    }
}

/// The answer to "what comes back if cancelled now".
///
/// `refund + penalty + non_refundable_kept == paid`, exactly; `refund` is
/// rounded toward zero from the exact value, so it is never a minor unit
/// higher than the policy allows, and never more than `paid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundQuote {
    refund: Money,
    penalty: Money,
    non_refundable_kept: Money,
    rule: AppliedRule,
    reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parts: Vec<RefundPart>,
}

/// The quote of some items of a booking, judged by their own policy: see
/// [`RefundQuote::combine`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPart {
    items: Vec<usize>,
    quote: RefundQuote,
}

impl RefundPart {
    /// The part of a booking made of its items at `items` (0-based
    /// positions in the booking), quoted `quote` by their policy.
    pub fn new(items: Vec<usize>, quote: RefundQuote) -> RefundPart {
        RefundPart { items, quote }
    }

    /// The positions, in the booking, of the items this part covers.
    pub fn items(&self) -> &[usize] {
        &self.items
    }

    /// Their quote.
    pub fn quote(&self) -> &RefundQuote {
        &self.quote
    }
}

impl RefundQuote {
    /// What goes back to the guest.
    pub fn refund(&self) -> Money {
        self.refund
    }

    /// What the policy's penalty keeps of the amount paid.
    pub fn penalty(&self) -> Money {
        self.penalty
    }

    /// What is kept because it is non-refundable (at most what was paid).
    pub fn non_refundable_kept(&self) -> Money {
        self.non_refundable_kept
    }

    /// Everything kept: `penalty + non_refundable_kept`.
    pub fn kept(&self) -> Money {
        Money::new(
            self.penalty.amount() + self.non_refundable_kept.amount(),
            self.penalty.currency(),
        )
    }

    /// The rule that decided the quote.
    pub fn rule(&self) -> AppliedRule {
        self.rule
    }

    /// Why, for a person: the rule, its deadline and its penalty.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The parts of a quote made by [`RefundQuote::combine`]; empty for a
    /// quote of one policy.
    pub fn parts(&self) -> &[RefundPart] {
        &self.parts
    }

    /// One quote for a booking whose items are judged by different
    /// policies, from each group's own quote (its facts being its share of
    /// the booking's price and payments). Its amounts are the parts' sums,
    /// so `refund + penalty + non_refundable_kept == paid` still holds
    /// exactly; its [`RefundQuote::rule`] is the first part's, its
    /// [`RefundQuote::reason`] names every part's items and reason, and
    /// [`RefundQuote::parts`] keeps the parts. One part is returned as is.
    ///
    /// Fails with [`Error::InvalidInput`] for no parts and with
    /// [`Error::CurrencyMismatch`] for parts in different currencies.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use reservo::money::Money;
    /// use reservo::policy::{
    ///     presets, BookingFacts, BookingStart, CancellationEvent, RefundPart, RefundQuote,
    /// };
    /// let eur = |s| Money::parse(s, "EUR").unwrap();
    /// let start = BookingStart::at_instant(
    ///     Utc.with_ymd_and_hms(2026, 8, 1, 13, 0, 0).unwrap(), "Europe/Paris".parse().unwrap());
    /// let room = |price| BookingFacts::new(
    ///     Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(), start,
    ///     eur(price), eur(price), eur("0"), vec![eur(price)],
    /// ).unwrap();
    /// let at = CancellationEvent::Cancelled { at: start.instant() - Duration::days(10) };
    /// let flexible = presets::airbnb::flexible().quote(&room("100.00"), at).unwrap();
    /// let strict = presets::airbnb::non_refundable().quote(&room("80.00"), at).unwrap();
    /// let both = RefundQuote::combine(vec![
    ///     RefundPart::new(vec![0], flexible),
    ///     RefundPart::new(vec![1], strict),
    /// ]).unwrap();
    /// assert_eq!(both.refund(), eur("100.00"));
    /// assert_eq!(both.penalty(), eur("80.00"));
    /// assert_eq!(both.parts().len(), 2);
    /// ```
    pub fn combine(mut parts: Vec<RefundPart>) -> Result<RefundQuote> {
        if parts.len() <= 1 {
            return parts
                .pop()
                .map(|part| part.quote)
                .ok_or_else(|| Error::invalid("parts", "a refund quote needs a part"));
        }
        let first = &parts[0].quote;
        let mut refund = Money::zero(first.refund.currency());
        let mut penalty = refund;
        let mut non_refundable_kept = refund;
        let mut reasons = Vec::with_capacity(parts.len());
        for part in &parts {
            refund = refund.checked_add(&part.quote.refund)?;
            penalty = penalty.checked_add(&part.quote.penalty)?;
            non_refundable_kept =
                non_refundable_kept.checked_add(&part.quote.non_refundable_kept)?;
            let items: Vec<String> = part.items.iter().map(usize::to_string).collect();
            let noun = if part.items.len() == 1 {
                "item"
            } else {
                "items"
            };
            reasons.push(format!(
                "{noun} {}: {}",
                items.join(", "),
                part.quote.reason
            ));
        }
        Ok(RefundQuote {
            refund,
            penalty,
            non_refundable_kept,
            rule: first.rule,
            reason: reasons.join("; "),
            parts,
        })
    }
}

impl<'de> Deserialize<'de> for RefundQuote {
    /// Reads a quote back as it was written, refusing one that could not
    /// have been computed: amounts of two currencies or below zero, or
    /// parts whose sums or reasons are not the quote's.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            refund: Money,
            penalty: Money,
            non_refundable_kept: Money,
            rule: AppliedRule,
            reason: String,
            #[serde(default)]
            parts: Vec<RefundPart>,
        }
        let raw = Raw::deserialize(d)?;
        let quote = RefundQuote {
            refund: raw.refund,
            penalty: raw.penalty,
            non_refundable_kept: raw.non_refundable_kept,
            rule: raw.rule,
            reason: raw.reason,
            parts: Vec::new(),
        };
        let amounts = [&quote.refund, &quote.penalty, &quote.non_refundable_kept];
        let currency = quote.refund.currency();
        if amounts
            .iter()
            .any(|m| m.currency() != currency || m.is_negative())
        {
            return Err(serde::de::Error::custom(
                "a refund quote's amounts share one currency and are never negative",
            ));
        }
        match raw.parts.len() {
            0 => Ok(quote),
            1 => Err(serde::de::Error::custom(
                "a refund quote has no parts or at least two",
            )),
            _ => {
                let combined = RefundQuote::combine(raw.parts).map_err(serde::de::Error::custom)?;
                let parts_agree = (
                    combined.refund,
                    combined.penalty,
                    combined.non_refundable_kept,
                ) == (quote.refund, quote.penalty, quote.non_refundable_kept)
                    && combined.rule == quote.rule
                    && combined.reason == quote.reason;
                if !parts_agree {
                    return Err(serde::de::Error::custom(
                        "a refund quote's parts do not add up to it",
                    ));
                }
                Ok(combined)
            }
        }
    }
}

impl CancellationPolicy {
    /// Quotes the refund for `event` on the booking described by `facts`.
    ///
    /// Fails with [`Error::InvalidInput`] if the cancellation is before the
    /// booking was made, and with [`Error::CurrencyMismatch`] if a fixed
    /// penalty is in another currency than the booking.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use reservo::money::Money;
    /// use reservo::policy::{presets, AppliedRule, BookingFacts, BookingStart, CancellationEvent};
    /// let eur = |s| Money::parse(s, "EUR").unwrap();
    /// let start = BookingStart::at_instant(
    ///     Utc.with_ymd_and_hms(2026, 8, 1, 13, 0, 0).unwrap(), "Europe/Paris".parse().unwrap());
    /// let facts = BookingFacts::new(
    ///     Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(), start,
    ///     eur("330.00"), eur("330.00"), eur("30.00"), vec![eur("100.00"); 3],
    /// ).unwrap();
    /// let at = start.instant() - Duration::days(10);
    /// let quote = presets::airbnb::firm().quote(&facts, CancellationEvent::Cancelled { at }).unwrap();
    /// assert_eq!(quote.refund().to_string(), "150.00 EUR");   // 50% of 300.00
    /// assert_eq!(quote.penalty().to_string(), "150.00 EUR");
    /// assert_eq!(quote.non_refundable_kept().to_string(), "30.00 EUR");
    /// assert!(matches!(quote.rule(), AppliedRule::Tier { .. }));
    /// ```
    pub fn quote(&self, facts: &BookingFacts, event: CancellationEvent) -> Result<RefundQuote> {
        let rule = self.rule_for(facts, event)?;
        let currency = facts.currency();
        if let Some(c) = self.currency().filter(|c| *c != currency) {
            return Err(Error::CurrencyMismatch {
                left: currency.code().to_owned(),
                right: c.code().to_owned(),
            });
        }
        let refundable = facts.refundable();
        let penalty = rule.penalty().amount(&refundable, facts.night_amounts())?;
        let non_refundable_kept = facts.non_refundable().checked_min(&facts.paid())?;
        let exact = facts.paid().amount() - non_refundable_kept.amount() - penalty.amount();
        let refund = Money::new(exact.max(rust_decimal::Decimal::ZERO), currency)
            .round(RoundingMode::TowardZero);
        let penalty_kept = Money::new(
            facts.paid().amount() - non_refundable_kept.amount() - refund.amount(),
            currency,
        );
        Ok(RefundQuote {
            refund,
            penalty: penalty_kept,
            non_refundable_kept,
            reason: rule.to_string(),
            rule,
            parts: Vec::new(),
        })
    }

    /// The rule that decides a quote of `facts` for `event` (what
    /// [`CancellationPolicy::quote`] applies).
    pub(crate) fn rule_for(
        &self,
        facts: &BookingFacts,
        event: CancellationEvent,
    ) -> Result<AppliedRule> {
        let at = match event {
            CancellationEvent::NoShow => {
                return Ok(AppliedRule::NoShow {
                    penalty: self.late_penalty(),
                });
            }
            CancellationEvent::Cancelled { at } => at,
        };
        if at < facts.booked_at() {
            return Err(Error::invalid(
                "cancelled_at",
                format!(
                    "{at} is before the booking was made at {}",
                    facts.booked_at()
                ),
            ));
        }
        for window in self.free_windows() {
            if window.covers(facts.booked_at(), &facts.start(), at)? {
                return Ok(AppliedRule::FreeWindow {
                    window: *window,
                    closes_at: window.closes_at(facts.booked_at()),
                });
            }
        }
        Ok(match self.tier_at(&facts.start(), at)? {
            Some((tier, deadline)) => AppliedRule::Tier {
                threshold: tier.threshold,
                deadline,
                penalty: tier.penalty,
            },
            None => AppliedRule::Late {
                penalty: self.late_penalty(),
            },
        })
    }
}
