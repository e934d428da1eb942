//! Pricing: rate plans, and quotes computed from them.
//!
//! Owns how a stay or a timed slot is priced: base prices, seasons, weekday
//! rates, length-of-stay discounts, occupancy, fees, taxes and promo codes,
//! and the [`Quote`] that names, line by line, the rule behind every
//! amount. Pure and synchronous. Must never do I/O, read a clock, check
//! availability or restrictions (closed dates are a restriction, not a
//! missing price), or count promo uses: the engine does those and passes
//! what pricing needs in a [`QuoteRequest`].
//!
//! Entry points: [`RatePlan::new`] validates a [`RatePlanSpec`] (or
//! deserialize a [`RatePlan`] from JSON, which validates the same way);
//! [`RatePlan::quote`] prices a request line by line; [`RatePlan::total`]
//! gives the same total without building lines, for searches.
//!
//! # How a quote is built
//!
//! 1. **Rates.** Each night (or the slot's local date) gets one price:
//!    a season's, beating a weekday rate's, beating the base price. Among
//!    overlapping seasons the narrowest wins, then the highest priority;
//!    an overlap those cannot break is refused when the plan is built, so
//!    the order of the lists never decides a price ([`rates`]). Nights
//!    priced by the same rule form one line.
//! 2. **Occupancy.** Guests beyond the included ones pay per night (or per
//!    slot): extra adults, or children by age band ([`occupancy`]).
//! 3. **Length of stay.** The tier taking the most off applies, to the
//!    accommodation (steps 1-2) ([`length_of_stay`]).
//! 4. **Promo.** Off the accommodation left after step 3 ([`promo`]).
//! 5. **Fees**, per booking, night, guest or guest-night; never discounted.
//! 6. **Taxes**, exclusive (added) or inclusive (contained, shown), on the
//!    accommodation, the taxable fees or both, after discounts ([`tax`]).
//!
//! # Rounding
//!
//! Every line amount is in whole minor units of the plan's currency, so
//! the quote's totals are exact sums of its lines:
//!
//! * prices are whole minor units by construction ([`Price`]), and a
//!   quantity times a price needs no rounding;
//! * a percentage discount is rounded once, with the plan's
//!   [`RoundingMode`](crate::money::RoundingMode) (half-even by default);
//! * taxes are rounded with the same mode, per line or on their total
//!   ([`TaxRounding`]; the [`tax`] docs show a case where the two differ by
//!   a cent).
//!
//! Discounts are clamped so the accommodation never goes below zero, and a
//! tax never rounds below zero, so a total is never negative. Lines of
//! zero amount are left out, except rate lines, which account for every
//! night.
//!
//! A stay's quote also splits the accommodation (steps 1-4) by night
//! ([`Quote::nights`]): each night weighs its rate plus its occupancy
//! charges, and the discounted accommodation is shared in those
//! proportions by the largest-remainder method, so the nights sum to it
//! exactly. A "first night" cancellation penalty keeps the first night's
//! own share: on the plan below, a Thursday at 100.00 before a weekend at
//! 120.00 keeps 100.00, not a third of the stay.
//!
//! # Worked example
//!
//! Seven nights from Friday 26 June 2026 for three adults, a baby of 1 and
//! a child of 7, with the code SPRING (5 %), on this plan: base 100.00 EUR;
//! weekend (Friday and Saturday nights) 120.00; season "Summer" from
//! 1 July, 150.00; 7+ nights 10 % off; two guests included, extra adult
//! 25.00, children 0-2 free and 3-11 15.00 per night; cleaning 60.00 per
//! booking, taxable; VAT 10 % inclusive on everything; city tax 5 %
//! exclusive on the accommodation; taxes rounded on the total, half-even.
//!
//! | line | quantity × unit | amount |
//! |---|---|---|
//! | Weekend (26, 27 June) | 2 × 120.00 | 240.00 |
//! | Base rate (28-30 June) | 3 × 100.00 | 300.00 |
//! | Summer (1, 2 July) | 2 × 150.00 | 300.00 |
//! | Extra adult (the two most expensive guests are included: 2 adults) | 7 × 25.00 | 175.00 |
//! | Child aged 3-11 (the baby is free) | 7 × 15.00 | 105.00 |
//! | 7+ nights: 10% off 1120.00 | 1 × -112.00 | -112.00 |
//! | Promo SPRING: 5% off 1008.00 | 1 × -50.40 | -50.40 |
//! | Cleaning | 1 × 60.00 | 60.00 |
//! | **subtotal** | | **1017.60** |
//! | VAT 10% (included): 1017.60 × 10 / 110 = 92.509… | | (92.51) |
//! | City tax 5%: 957.60 × 5 % | | 47.88 |
//! | **total** | | **1065.48** |
//!
//! ```
//! use chrono::NaiveDate;
//! use reservo::party::Party;
//! use reservo::pricing::{
//!     Percentage, Promo, PromoCode, PromoDiscount, PromoRedemption, QuoteRequest, RatePlan,
//!     UsageLimit,
//! };
//! use reservo::time::Stay;
//!
//! let plan = RatePlan::from_json(r#"{
//!   "id": "flex", "name": "Flexible", "unit": "night",
//!   "base_price": {"amount": "100.00", "currency": "EUR"},
//!   "weekday_rates": [{"id": "weekend", "name": "Weekend", "weekdays": ["Fri", "Sat"],
//!                      "price": {"amount": "120.00", "currency": "EUR"}}],
//!   "seasons": [{"id": "summer", "name": "Summer",
//!                "dates": {"first": "2026-07-01", "last": "2026-08-31"},
//!                "price": {"amount": "150.00", "currency": "EUR"}}],
//!   "length_of_stay": [{"id": "weekly", "min_nights": 7, "discount": {"percent": "10"}}],
//!   "occupancy": {"included_guests": 2,
//!                 "extra_adult": {"amount": "25.00", "currency": "EUR"},
//!                 "child_bands": [
//!                   {"id": "infant", "min_age": 0, "max_age": 2, "price": {"amount": "0", "currency": "EUR"}},
//!                   {"id": "child", "min_age": 3, "max_age": 11, "price": {"amount": "15.00", "currency": "EUR"}}]},
//!   "fees": [{"id": "cleaning", "name": "Cleaning", "amount": {"amount": "60.00", "currency": "EUR"},
//!             "basis": "per_booking", "taxable": true}],
//!   "taxes": [{"id": "vat", "name": "VAT", "rate": "10", "inclusion": "inclusive", "base": "accommodation_and_fees"},
//!             {"id": "city", "name": "City tax", "rate": "5", "inclusion": "exclusive", "base": "accommodation"}]
//! }"#).unwrap();
//!
//! let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
//! let request = QuoteRequest::stay(
//!     Stay::new(d(6, 26), d(7, 3)).unwrap(),
//!     Party::new(3, vec![1, 7]).unwrap(),
//!     d(3, 15),
//! )
//! .with_promo(PromoRedemption {
//!     code: "spring".into(),
//!     promo: Promo {
//!         code: PromoCode::new("SPRING").unwrap(),
//!         discount: PromoDiscount::Percent(Percentage::parse("5").unwrap()),
//!         booking_window: None,
//!         stay_window: None,
//!         usage_limit: UsageLimit::Unlimited,
//!         min_nights: None,
//!     },
//!     uses: 0,
//! });
//!
//! let quote = plan.quote(&request).unwrap();
//! let shown: Vec<String> = quote
//!     .lines()
//!     .iter()
//!     .map(|l| format!("{} | {} x {} | {}", l.description, l.quantity, l.unit_amount.amount(), l.amount.amount()))
//!     .collect();
//! assert_eq!(shown, [
//!     "Weekend | 2 x 120.00 | 240.00",
//!     "Base rate | 3 x 100.00 | 300.00",
//!     "Summer | 2 x 150.00 | 300.00",
//!     "Extra adult | 7 x 25.00 | 175.00",
//!     "Child aged 3-11 | 7 x 15.00 | 105.00",
//!     "7+ nights: 10% off | 1 x -112.00 | -112.00",
//!     "Promo SPRING: 5% off | 1 x -50.40 | -50.40",
//!     "Cleaning | 1 x 60.00 | 60.00",
//!     "VAT 10% (included) | 1 x 92.51 | 92.51",
//!     "City tax 5% | 1 x 47.88 | 47.88",
//! ]);
//! assert_eq!(quote.subtotal().to_string(), "1017.60 EUR");
//! assert_eq!(quote.included_taxes().to_string(), "92.51 EUR");
//! assert_eq!(quote.taxes().to_string(), "47.88 EUR");
//! assert_eq!(quote.total().to_string(), "1065.48 EUR");
//! assert_eq!(plan.total(&request).unwrap(), quote.total());
//! ```

mod calc;
pub mod fee;
pub mod length_of_stay;
pub mod occupancy;
pub mod promo;
pub mod quote;
pub mod rate_plan;
pub mod rates;
pub mod request;
pub mod tax;
pub mod values;

pub use crate::money::Percentage;
pub use fee::{Fee, FeeBasis};
pub use length_of_stay::{LengthOfStayDiscount, StayDiscount};
pub use occupancy::{ChildBand, EXTRA_ADULT_RULE, Occupancy};
pub use promo::{Promo, PromoCode, PromoDiscount, PromoRedemption, UsageLimit};
pub use quote::{Quote, QuoteLine, RuleKind, RuleRef};
pub use rate_plan::{PriceUnit, RatePlan, RatePlanSpec};
pub use rates::{Season, WeekdayRate};
pub use request::{PricedItem, QuoteRequest, SlotStart};
pub use tax::{MAX_TAXES, Tax, TaxBase, TaxInclusion, TaxRounding};
pub use values::{DateRange, Price, RuleId};
