//! The engine: one async operation per user action, over the ports.
//!
//! Owns orchestration — read what a decision needs from [`Storage`], let the
//! domain modules decide, commit the change with its events in one
//! [`crate::ports::CommitBatch`] pinned to what was read, retry on conflict.
//! Must never hold business rules of its own (they live in the domain
//! modules) and never write to storage except through one commit per
//! operation. The key layout is in [`keys`] and the reasoning behind it in
//! `docs/adr/001-ledger-records-and-catalog-cache.md`.
//!
//! ```
//! use std::sync::Arc;
//! use reservo::engine::Engine;
//! use reservo::store::MemoryStore;
//!
//! let engine = Engine::builder(Arc::new(MemoryStore::new())).build();
//! # let _ = engine;
//! ```

mod availability;
mod catalog_cache;
mod checkin;
mod confirm;
mod hold;
mod idempotency;
mod item;
mod keys;
mod ledger;
mod quote;
mod revocation;
mod search;
mod setup;
mod tickets;
mod txn;

use std::sync::{Arc, RwLock};

use crate::ports::{Clock, Storage};
use crate::time::SystemClock;
use crate::token::IssuerKeySet;

pub use availability::{MAX_RANGE_DAYS, NightAvailability, SessionAvailability};
pub use checkin::{CheckInOutcome, CheckInRequest, MAIN_ZONE, ScanMergeReport, VenueCheckIn};
pub use confirm::{Booking, ConfirmRequest, StatusChange};
pub use hold::{HeldItem, Hold, HoldRequest, HoldState, LedgerUse, MAX_HOLD_ITEMS};
pub use item::{Item, Span};
pub use quote::{QuoteRequest, Quoted};
pub use revocation::ReissueRequest;
pub use search::{SearchFor, SearchHit, SearchRequest};
pub use tickets::{IssuedTicket, TicketSettings};

use catalog_cache::CatalogView;
use tickets::TicketIssuer;

/// Tunables of an [`Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// How many times an operation re-reads and retries after a storage
    /// conflict before it reports [`crate::Error::Contention`].
    pub max_attempts: u32,
    /// The longest time to live a hold may ask for.
    pub max_hold_ttl: chrono::Duration,
    /// How long a hold may live in all, extensions included.
    pub max_hold_lifetime: chrono::Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_attempts: 64,
            max_hold_ttl: chrono::Duration::hours(1),
            max_hold_lifetime: chrono::Duration::hours(2),
        }
    }
}

/// Builds an [`Engine`] from its ports.
pub struct EngineBuilder {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    tickets: Option<Arc<TicketIssuer>>,
}

impl EngineBuilder {
    /// Uses `clock` instead of the system clock (tests, simulations).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Overrides the defaults of [`EngineConfig`].
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Issues signed entry tickets when bookings are confirmed, and lets
    /// the engine check them in (see [`TicketSettings`]). `keys` signs new
    /// tickets with its current key and verifies tickets signed by any key
    /// in it, so rotate by building the engine with a set that still holds
    /// the former key. Without this, bookings get no tickets.
    pub fn tickets(mut self, keys: IssuerKeySet, settings: TicketSettings) -> Self {
        self.tickets = Some(Arc::new(TicketIssuer::new(keys, settings)));
        self
    }

    /// The engine.
    pub fn build(self) -> Engine {
        Engine {
            storage: self.storage,
            clock: self.clock,
            config: self.config,
            catalog: RwLock::new(None),
            tickets: self.tickets,
        }
    }
}

/// The booking engine. Cheap to share (`Arc<Engine>`); every method takes
/// `&self` and is safe to call from many tasks at once. Several engines —
/// in one process or in many — may share one store.
pub struct Engine {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    catalog: RwLock<Option<Arc<CatalogView>>>,
    tickets: Option<Arc<TicketIssuer>>,
}

impl Engine {
    /// Starts building an engine over `storage`, with the system clock.
    pub fn builder(storage: Arc<dyn Storage>) -> EngineBuilder {
        EngineBuilder {
            storage,
            clock: Arc::new(SystemClock),
            config: EngineConfig::default(),
            tickets: None,
        }
    }

    /// The storage port this engine writes to.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The clock this engine reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
