//! The engine: one async operation per user action, over the ports.
//!
//! Owns orchestration — read what a decision needs from [`Storage`], let the
//! domain modules decide, commit the change with its events in one
//! [`crate::ports::CommitBatch`] pinned to what was read, retry on conflict.
//! Must never hold business rules of its own (they live in the domain
//! modules) and never write to storage except through one commit per
//! operation. The key layout is in the private module `keys` and the
//! reasoning behind it in `docs/adr/001-ledger-records-and-catalog-cache.md`.
//!
//! ```
//! use std::sync::Arc;
//! use reservo::engine::Engine;
//! use reservo::store::MemoryStore;
//!
//! let engine = Engine::builder(Arc::new(MemoryStore::new())).build();
//! # let _ = engine;
//! ```

mod attempt;
mod availability;
mod booking_record;
mod cancel;
mod catalog_cache;
mod checkin;
mod confirm;
mod events;
mod hold;
mod hold_cache;
mod hold_change;
mod idempotency;
mod import;
mod item;
mod keys;
mod known;
mod ledger;
mod metadata;
mod modify;
mod payment;
mod payout;
mod quote;
mod rebook;
mod refund;
mod revocation;
mod search;
mod setup;
mod stay;
mod terms;
mod tickets;
mod txn;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::commission::FeeRate;
use crate::money::Currency;
use crate::ports::{Clock, PaymentGateway, Storage};
use crate::time::SystemClock;
use crate::token::IssuerKeySet;

pub use attempt::{AttemptState, PaymentAttempt, ReconcileReport};
pub use availability::{MAX_RANGE_DAYS, NightAvailability, SessionAvailability};
pub use cancel::{CancelRequest, NoShowRequest};
pub use checkin::{CheckInOutcome, CheckInRequest, MAIN_ZONE, ScanMergeReport, VenueCheckIn};
pub use confirm::{Booking, ConfirmRequest, StatusChange};
pub use hold::{HeldItem, Hold, HoldRequest, HoldState, LedgerUse, MAX_HOLD_ITEMS};
pub use hold_change::{ExtendRequest, ReleaseRequest, UpdateHoldRequest};
pub use import::CatalogImport;
pub use item::{Item, Span};
pub use metadata::SetMetadataRequest;
pub use modify::{ModificationQuote, ModifyRequest};
pub use payment::{BookingMoney, PayAmount, PayBalanceRequest, PayRequest, Payment};
pub use quote::{QuoteRequest, Quoted};
pub use refund::{Refund, RefundState};
pub use revocation::ReissueRequest;
pub use search::{SearchFor, SearchHit, SearchRequest};
pub use stay::{CompleteRequest, DeskCheckInRequest};
pub use terms::{Attribution, BookingTerms};
pub use tickets::{IssuedTicket, TicketSettings};

use catalog_cache::CatalogView;
use tickets::TicketIssuer;

/// Tunables of an [`Engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// How many times an operation re-reads and retries after a storage
    /// conflict before it reports [`crate::Error::Contention`].
    pub max_attempts: u32,
    /// The longest time to live a hold may ask for (and never more than
    /// `max_hold_lifetime`).
    pub max_hold_ttl: chrono::Duration,
    /// How long a hold may live in all, extensions included.
    pub max_hold_lifetime: chrono::Duration,
    /// Whether a new hold must be on stable storage before `hold` returns.
    /// `false` (the default) lets the store acknowledge it first
    /// ([`crate::ports::Durability::Deferred`]): a power cut may then lose
    /// the hold (never half of it), which looks like an early expiry, and
    /// the next durable commit (a payment attempt, a confirm) makes it
    /// durable. Set it when the host charges the guest outside the engine
    /// between `hold` and `confirm`. ADR 007.
    pub durable_holds: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_attempts: 64,
            max_hold_ttl: chrono::Duration::hours(1),
            max_hold_lifetime: chrono::Duration::hours(2),
            durable_holds: false,
        }
    }
}

impl EngineConfig {
    /// The longest `max_hold_ttl` or `max_hold_lifetime`: `u32::MAX`
    /// seconds, the longest TTL a hold request can carry.
    pub const LONGEST_HOLD: chrono::Duration = chrono::Duration::seconds(u32::MAX as i64);

    /// Checks every tunable: at least one attempt, and hold durations that
    /// are positive and at most [`EngineConfig::LONGEST_HOLD`]. Errors:
    /// `INVALID_INPUT` naming the first that is out of range.
    ///
    /// ```
    /// use reservo::engine::EngineConfig;
    /// assert!(EngineConfig::default().validate().is_ok());
    /// let none = EngineConfig { max_attempts: 0, ..EngineConfig::default() };
    /// assert_eq!(none.validate().unwrap_err().code(), "INVALID_INPUT");
    /// ```
    pub fn validate(&self) -> crate::Result<()> {
        if self.max_attempts == 0 {
            return Err(crate::Error::invalid(
                "max_attempts",
                "must be at least 1, got 0",
            ));
        }
        let longest = EngineConfig::LONGEST_HOLD;
        for (name, value) in [
            ("max_hold_ttl", self.max_hold_ttl),
            ("max_hold_lifetime", self.max_hold_lifetime),
        ] {
            if value <= chrono::Duration::zero() || value > longest {
                return Err(crate::Error::invalid(
                    name,
                    format!(
                        "must be positive and at most {} seconds, got {} seconds",
                        longest.num_seconds(),
                        value.num_seconds()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Builds an [`Engine`] from its ports.
pub struct EngineBuilder {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    gateway: Option<Arc<dyn PaymentGateway>>,
    change_fee: FeeRate,
    change_fees_by_currency: BTreeMap<Currency, FeeRate>,
    tickets: Option<Arc<TicketIssuer>>,
}

impl EngineBuilder {
    /// Takes payments and issues refunds through `gateway` (see
    /// [`Engine::pay_and_confirm`]). Without one, payment commands fail
    /// with `PAYMENT_UNSUPPORTED` and bookings are paid outside the engine.
    pub fn payment_gateway(mut self, gateway: Arc<dyn PaymentGateway>) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// The fee charged for each modification of a booking: a percentage
    /// of the modified booking's new item total plus an optional flat
    /// amount (see [`Engine::modify`]). None by default. A flat amount is
    /// in one currency: modifying a booking in another currency fails
    /// with `CURRENCY_MISMATCH` unless [`EngineBuilder::change_fee_in`]
    /// sets that currency's fee.
    pub fn change_fee(mut self, fee: FeeRate) -> Self {
        self.change_fee = fee;
        self
    }

    /// The fee for modifications of bookings in `currency`, instead of
    /// [`EngineBuilder::change_fee`]'s: for an engine that sells in
    /// several currencies with a flat part in each. Setting a currency
    /// again replaces its fee. A fee whose flat amount is in another
    /// currency fails [`EngineBuilder::try_build`] with `INVALID_INPUT`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use reservo::commission::FeeRate;
    /// use reservo::engine::Engine;
    /// use reservo::money::{Currency, Money, Percentage};
    /// use reservo::store::MemoryStore;
    /// let fee = |amount: &str, code: &str| {
    ///     let flat = Money::parse(amount, code).unwrap();
    ///     FeeRate::new(Percentage::parse("2").unwrap(), Some(flat)).unwrap()
    /// };
    /// let engine = Engine::builder(Arc::new(MemoryStore::new()))
    ///     .change_fee(fee("10.00", "EUR"))
    ///     .change_fee_in(Currency::from_code("JPY").unwrap(), fee("1500", "JPY"))
    ///     .try_build();
    /// assert!(engine.is_ok());
    /// let mixed_up = Engine::builder(Arc::new(MemoryStore::new()))
    ///     .change_fee_in(Currency::from_code("USD").unwrap(), fee("10.00", "EUR"))
    ///     .try_build();
    /// assert_eq!(mixed_up.err().unwrap().code(), "INVALID_INPUT");
    /// ```
    pub fn change_fee_in(mut self, currency: Currency, fee: FeeRate) -> Self {
        self.change_fees_by_currency.insert(currency, fee);
        self
    }

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
    ///
    /// # Panics
    ///
    /// If the config fails [`EngineConfig::validate`] (a program's own
    /// constant gone wrong); a config read from input goes through
    /// [`EngineBuilder::try_build`] instead.
    pub fn build(self) -> Engine {
        self.try_build()
            .unwrap_or_else(|e| panic!("invalid EngineConfig: {e}"))
    }

    /// The engine, once its config passes [`EngineConfig::validate`].
    /// Errors: `INVALID_INPUT`.
    pub fn try_build(self) -> crate::Result<Engine> {
        self.config.validate()?;
        for (currency, fee) in &self.change_fees_by_currency {
            if let Some(flat) = fee.flat().filter(|flat| flat.currency() != *currency) {
                return Err(crate::Error::invalid(
                    "change_fee",
                    format!(
                        "the change fee for {currency} has a flat amount in another currency: {flat}"
                    ),
                ));
            }
        }
        Ok(Engine {
            storage: self.storage,
            clock: self.clock,
            config: self.config,
            catalog: RwLock::new(None),
            gateway: self.gateway,
            change_fee: self.change_fee,
            change_fees_by_currency: self.change_fees_by_currency,
            tickets: self.tickets,
            holds: hold_cache::HoldCache::default(),
            known: known::KnownRecords::default(),
        })
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
    gateway: Option<Arc<dyn PaymentGateway>>,
    change_fee: FeeRate,
    change_fees_by_currency: BTreeMap<Currency, FeeRate>,
    tickets: Option<Arc<TicketIssuer>>,
    /// Holds this engine wrote, to confirm without decoding them.
    holds: hold_cache::HoldCache,
    /// Ledgers and holds as last written or read, to skip reads (ADR 012).
    known: known::KnownRecords,
}

impl Engine {
    /// Starts building an engine over `storage`, with the system clock.
    pub fn builder(storage: Arc<dyn Storage>) -> EngineBuilder {
        EngineBuilder {
            storage,
            clock: Arc::new(SystemClock),
            config: EngineConfig::default(),
            gateway: None,
            change_fee: FeeRate::none(),
            change_fees_by_currency: BTreeMap::new(),
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

impl Engine {
    /// The record at `key`, if there is one.
    pub(crate) async fn read_record(
        &self,
        key: &str,
    ) -> crate::Result<Option<crate::ports::Record>> {
        let mut got = self.storage.get(&[key.to_owned()]).await?;
        Ok(got.pop().flatten())
    }
}
