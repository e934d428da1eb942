//! # Reservo
//!
//! An embeddable booking engine: pricing, availability and inventory, holds
//! with a time to live, bookings and their lifecycle, cancellations and
//! refunds, commissions and payouts, and signed QR tokens for check-in.
//!
//! ## Layers
//!
//! * **Domain** — [`money`], [`time`], [`ids`], [`policy`], [`commission`]
//!   and the catalog, availability and pricing modules: plain synchronous
//!   Rust, no I/O, values in and values or a typed [`Error`] out.
//! * **Ports** — [`ports`]: the traits the host implements or picks from
//!   the ones shipped here (storage, clock, payment gateway, SMS sender).
//! * **Engine** — the only code that talks to ports: one `async` call per
//!   user action.
//! * **Stores** — adapters of the storage port.
//!
//! Every error has a stable [`Error::code`]; bad input changes nothing.

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
pub mod time;
pub mod token;

pub use error::{Error, Result};
