//! # Reservo
//!
//! An embeddable booking engine: pricing, availability and inventory, holds
//! with a time to live, bookings and their lifecycle, cancellations and
//! refunds, commissions and payouts, and signed QR tokens for check-in. It
//! sells time-bound inventory — nights in rental units and hotel rooms,
//! seats in timed sessions (classes, tours, activities) — and never
//! overbooks on any store that can do a conditional multi-key commit.
//!
//! ## Layers
//!
//! * **Domain** (synchronous, no I/O; values in, values or a typed
//!   [`Error`] out): [`money`], [`time`], [`ids`], [`party`], [`catalog`],
//!   [`schedule`], [`restriction`], [`pricing`], [`policy`],
//!   [`commission`], [`booking`], [`token`], [`checkin`].
//! * **Ports** — [`ports`]: the traits the host implements or picks from
//!   what ships here: `Storage`, `Clock`, `PaymentGateway`, `SmsSender`.
//! * **Engine** — [`engine`]: the only code that talks to ports, one
//!   `async` call per user action (quote, hold, confirm, ...). [`notify`]
//!   turns the engine's outbox events into SMS.
//! * **Stores** — [`store`]: in memory (always), SQLite (feature `sqlite`,
//!   on by default) and PostgreSQL (feature `postgres`), plus the storage
//!   conformance kit (feature `conformance`).
//!
//! Every error has a stable [`Error::code`]; bad input changes nothing.
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use reservo::catalog::{Property, Resource, ResourceKind};
//! use reservo::engine::{ConfirmRequest, Engine, HoldRequest, Item, QuoteRequest};
//! use reservo::booking::{Customer, Metadata};
//! use reservo::party::Party;
//! use reservo::pricing::RatePlan;
//! use reservo::store::MemoryStore;
//! use reservo::time::{ManualClock, Stay};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap()));
//! let engine = Engine::builder(Arc::new(MemoryStore::new())).clock(clock).build();
//!
//! engine.put_property(Property::new("casa", "Casa Azul", "ana", "Europe/Lisbon", "EUR")?).await?;
//! engine.put_rate_plan(RatePlan::from_json(r#"{"id": "std", "name": "Standard", "unit": "night",
//!     "base_price": {"amount": "150.00", "currency": "EUR"}}"#)?).await?;
//! engine.put_resource(Resource {
//!     id: "villa".parse()?, property: "casa".parse()?, name: "Villa".into(),
//!     rate_plan: "std".parse()?, kind: ResourceKind::Nightly { units: 1, max_occupancy: 4 },
//! }).await?;
//!
//! let d = |day| NaiveDate::from_ymd_opt(2026, 7, day).unwrap();
//! let item = Item::stay("villa".parse()?, Stay::new(d(1), d(4))?, Party::adults(2)?);
//! let quoted = engine.quote(&QuoteRequest::new(item.clone())).await?;
//! assert_eq!(quoted.quote.total().to_string(), "450.00 EUR");
//!
//! let hold = engine
//!     .hold(&HoldRequest::new("cart-42", vec![QuoteRequest::new(item)], 900))
//!     .await?;
//! let customer = Customer::new("Ana Lima", "+351912345678", None)?;
//! // The host's own order id travels with the booking and its events.
//! let order = Metadata::from_pairs([("order_id", "A-1042")])?;
//! let confirm = ConfirmRequest::new("confirm-42", hold.id, customer).with_metadata(order);
//! let booking = engine.confirm(&confirm).await?;
//! assert_eq!(booking.status.as_str(), "confirmed");
//! assert_eq!(booking.metadata.get("order_id"), Some("A-1042"));
//! # Ok::<(), reservo::Error>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]

pub mod booking;
pub mod catalog;
pub mod checkin;
pub mod commission;
pub mod engine;
pub mod error;
pub mod ids;
pub mod money;
pub mod notify;
pub mod party;
pub mod policy;
pub mod ports;
pub mod pricing;
pub mod restriction;
pub mod schedule;
pub mod store;
pub(crate) mod text;
pub mod time;
pub mod token;

pub use error::{Error, Result};
