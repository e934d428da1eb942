//! The one error type of Reservo.
//!
//! Every fallible operation in the core returns [`Error`]. Each variant has a
//! stable machine-readable [`Error::code`] in SCREAMING_SNAKE case that the
//! bindings map to their own idiom (a Python exception class, `err.code` in
//! Node, a uniffi error enum in Kotlin/Swift). Messages are for people: they
//! name the offending value. Tests and hosts match on codes, never on
//! messages.
//!
//! This module must never grow a second error type for a subsystem: add a
//! variant here instead, with a code that is new and never reused.

use chrono::{DateTime, NaiveDate, Utc};

use crate::ports::StorageError;

/// A convenient alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A booking restriction that a stay or slot broke, named in
/// [`Error::RestrictionViolated`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestrictionRule {
    /// Fewer nights than the minimum stay that applies on the arrival date.
    MinStayOnArrival,
    /// More nights than the maximum stay that applies on the arrival date.
    MaxStayOnArrival,
    /// A night of the stay carries a minimum stay the whole stay does not reach.
    MinStayThrough,
    /// A night of the stay carries a maximum stay the whole stay exceeds.
    MaxStayThrough,
    /// Arrival is not allowed on this date.
    ClosedToArrival,
    /// Departure is not allowed on this date.
    ClosedToDeparture,
    /// The booking is made too close to its start.
    MinAdvance,
    /// The booking is made too far ahead of its start.
    MaxAdvance,
    /// Sales are stopped for this date.
    StopSell,
}

impl RestrictionRule {
    /// The stable error code of a violation of this rule.
    pub fn code(self) -> &'static str {
        match self {
            RestrictionRule::MinStayOnArrival => "MIN_STAY_ON_ARRIVAL",
            RestrictionRule::MaxStayOnArrival => "MAX_STAY_ON_ARRIVAL",
            RestrictionRule::MinStayThrough => "MIN_STAY_THROUGH",
            RestrictionRule::MaxStayThrough => "MAX_STAY_THROUGH",
            RestrictionRule::ClosedToArrival => "CLOSED_TO_ARRIVAL",
            RestrictionRule::ClosedToDeparture => "CLOSED_TO_DEPARTURE",
            RestrictionRule::MinAdvance => "MIN_ADVANCE_NOT_MET",
            RestrictionRule::MaxAdvance => "MAX_ADVANCE_EXCEEDED",
            RestrictionRule::StopSell => "STOP_SELL",
        }
    }
}

/// Every error Reservo returns.
///
/// ```
/// use reservo::Error;
/// let err = Error::invalid("ttl", "must be greater than zero, got 0s");
/// assert_eq!(err.code(), "INVALID_INPUT");
/// assert!(err.to_string().contains("ttl"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- input -------------------------------------------------------
    /// A value given by the caller is malformed or out of range.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The field or argument that was wrong.
        field: String,
        /// What was wrong with it, naming the value.
        message: String,
    },
    /// A currency code that is not an ISO 4217 currency Reservo knows.
    #[error("unknown currency {code:?}: expected an ISO 4217 code such as EUR or USD")]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: String,
        /// Currency of the right operand.
        right: String,
    },
    /// An id that names nothing in the store.
    #[error("{kind} {id:?} not found")]
    NotFound {
        /// What kind of thing was looked up (`property`, `resource`, ...).
        kind: &'static str,
        /// The id as given.
        id: String,
    },
    /// Something with this id exists already.
    #[error("{kind} {id:?} already exists")]
    AlreadyExists {
        /// What kind of thing was created.
        kind: &'static str,
        /// The id as given.
        id: String,
    },

    // ----- availability and restrictions -------------------------------
    /// The party does not fit the capacity that is left.
    #[error(
        "not enough capacity on {resource} for {date}: {requested} requested, {available} left"
    )]
    Unavailable {
        /// The resource asked for.
        resource: String,
        /// The night (for stays) or local date of the slot that is short.
        date: NaiveDate,
        /// Units or seats requested.
        requested: u32,
        /// Units or seats left.
        available: u32,
    },
    /// The party is larger than one unit or session can ever take.
    #[error("party of {party} exceeds the maximum of {max} on {resource}")]
    PartyTooLarge {
        /// The resource asked for.
        resource: String,
        /// Guests in the party.
        party: u32,
        /// The most the resource takes.
        max: u32,
    },
    /// No session of the resource starts at the requested instant.
    #[error("no slot of {resource} starts at {start}")]
    NoSuchSlot {
        /// The resource asked for.
        resource: String,
        /// The start that was asked for.
        start: DateTime<Utc>,
    },
    /// The requested slot or stay starts in the past.
    #[error("{what} starts at {start}, which is in the past (now is {now})")]
    InThePast {
        /// What was requested (`slot`, `stay`).
        what: &'static str,
        /// Its start.
        start: DateTime<Utc>,
        /// The clock's now.
        now: DateTime<Utc>,
    },
    /// A booking restriction forbids the request.
    #[error("{} on {resource} for {date}: {detail}", rule.code())]
    RestrictionViolated {
        /// Which restriction.
        rule: RestrictionRule,
        /// The resource it is set on.
        resource: String,
        /// The date it applies to.
        date: NaiveDate,
        /// The limit and the requested value.
        detail: String,
    },

    // ----- pricing -------------------------------------------------------
    /// No rate plan gives a price for the requested date.
    #[error("no price for {resource} on {date} in rate plan {rate_plan}")]
    NoRate {
        /// The resource priced.
        resource: String,
        /// The rate plan used.
        rate_plan: String,
        /// The date without a price.
        date: NaiveDate,
    },
    /// A promo code that does not exist, has expired or is used up.
    #[error("promo code {code:?} cannot be used: {reason}")]
    PromoNotApplicable {
        /// The code as given.
        code: String,
        /// Why it does not apply.
        reason: String,
    },

    // ----- holds, bookings, payments -----------------------------------
    /// The hold's time to live has run out.
    #[error("hold {hold} expired at {expired_at}")]
    HoldExpired {
        /// The hold.
        hold: String,
        /// When it expired.
        expired_at: DateTime<Utc>,
    },
    /// The hold has already been confirmed, released or expired.
    #[error("hold {hold} is already {state}")]
    HoldAlreadyResolved {
        /// The hold.
        hold: String,
        /// How it was resolved.
        state: String,
    },
    /// Extending the hold would pass its maximum lifetime.
    #[error("hold {hold} cannot be extended past {max_until}")]
    HoldExtensionLimit {
        /// The hold.
        hold: String,
        /// The latest instant it may live to.
        max_until: DateTime<Utc>,
    },
    /// An idempotency key was reused with a different request.
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyConflict {
        /// The key.
        key: String,
    },
    /// A booking cannot move from its status to the requested one.
    #[error("booking {booking} cannot go from {from} to {to}")]
    IllegalTransition {
        /// The booking.
        booking: String,
        /// Its status now.
        from: String,
        /// The status asked for.
        to: String,
    },
    /// The payment gateway declined the payment.
    #[error("payment declined: {reason}")]
    PaymentDeclined {
        /// The gateway's reason.
        reason: String,
    },
    /// The gateway failed in a way that leaves the outcome unknown; the
    /// attempt is recorded for reconciliation.
    #[error("payment outcome unknown for {reference}: {message}")]
    PaymentOutcomeUnknown {
        /// The idempotency reference of the attempt.
        reference: String,
        /// What the gateway reported.
        message: String,
        /// The host's own error, kept so bindings can chain it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The gateway cannot do what was asked (for example a partial refund).
    #[error("payment gateway does not support {operation}")]
    PaymentUnsupported {
        /// The operation.
        operation: String,
    },
    /// The price of a change is not the one the caller agreed to (it was
    /// quoted, then rates, fees or the booking changed): quote it again.
    #[error("{subject} now costs {actual}, not the {expected} expected: quote it again")]
    PriceChanged {
        /// What was priced (for example the modification of a booking).
        subject: String,
        /// The total the caller expected.
        expected: String,
        /// The total it costs now.
        actual: String,
    },
    /// A refund larger than what is left to refund.
    #[error("refund of {requested} exceeds the {refundable} that can still be refunded")]
    RefundExceedsPaid {
        /// Amount asked for.
        requested: String,
        /// Amount that can still be refunded.
        refundable: String,
    },

    // ----- tokens and check-in -------------------------------------------
    /// The token is not a well-formed Reservo token.
    #[error("malformed token: {reason}")]
    TokenMalformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The token names a key id the verifier does not know.
    #[error("token signed with unknown key {kid:?}")]
    TokenUnknownKey {
        /// The key id from the token.
        kid: String,
    },
    /// The token's signature does not verify.
    #[error("token signature is not valid")]
    TokenBadSignature,
    /// The token's validity window has ended.
    #[error("token expired at {expired_at}")]
    TokenExpired {
        /// Its `exp`.
        expired_at: DateTime<Utc>,
    },
    /// The token's validity window has not begun.
    #[error("token is not valid before {not_before}")]
    TokenNotYetValid {
        /// Its `nbf`.
        not_before: DateTime<Utc>,
    },
    /// The token or its booking is on the revocation list.
    #[error("token {token} is revoked")]
    TokenRevoked {
        /// The token id.
        token: String,
    },
    /// The token does not admit at this gate or zone.
    #[error("token does not admit at gate {gate:?}")]
    TokenWrongGate {
        /// The gate scanned at.
        gate: String,
    },
    /// The token's entries are used up.
    #[error("token already used at {used_at} at gate {gate:?}")]
    TokenAlreadyUsed {
        /// When it was last admitted.
        used_at: DateTime<Utc>,
        /// Where it was last admitted.
        gate: String,
    },
    /// A check-in rule refused the entry (outside the entry window,
    /// anti-passback, ...).
    #[error("entry refused: {reason}")]
    EntryRefused {
        /// Which rule and why.
        reason: String,
    },

    // ----- storage and ports ---------------------------------------------
    /// The storage port failed.
    #[error("storage error: {0}")]
    Storage(#[from] StorageError),
    /// Too many concurrent changes to the same records; nothing was changed.
    #[error("gave up after {attempts} conflicting attempts on {key}")]
    Contention {
        /// Attempts made.
        attempts: u32,
        /// A key that kept conflicting.
        key: String,
    },
    /// A stored record could not be decoded: the store holds data this
    /// version of Reservo does not understand.
    #[error("corrupt record {key}: {message}")]
    CorruptRecord {
        /// The record's key.
        key: String,
        /// What failed.
        message: String,
    },
    /// A host-implemented port (payment gateway, SMS sender) failed.
    #[error("{port} failed: {message}")]
    Port {
        /// Which port.
        port: &'static str,
        /// What it reported.
        message: String,
        /// The host's own error, kept so bindings can chain it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// The stable, machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "INVALID_INPUT",
            Error::UnknownCurrency { .. } => "UNKNOWN_CURRENCY",
            Error::CurrencyMismatch { .. } => "CURRENCY_MISMATCH",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::AlreadyExists { .. } => "ALREADY_EXISTS",
            Error::Unavailable { .. } => "UNAVAILABLE",
            Error::PartyTooLarge { .. } => "PARTY_TOO_LARGE",
            Error::NoSuchSlot { .. } => "NO_SUCH_SLOT",
            Error::InThePast { .. } => "IN_THE_PAST",
            Error::RestrictionViolated { rule, .. } => rule.code(),
            Error::NoRate { .. } => "NO_RATE",
            Error::PromoNotApplicable { .. } => "PROMO_NOT_APPLICABLE",
            Error::HoldExpired { .. } => "HOLD_EXPIRED",
            Error::HoldAlreadyResolved { .. } => "HOLD_ALREADY_RESOLVED",
            Error::HoldExtensionLimit { .. } => "HOLD_EXTENSION_LIMIT",
            Error::IdempotencyConflict { .. } => "IDEMPOTENCY_CONFLICT",
            Error::IllegalTransition { .. } => "ILLEGAL_TRANSITION",
            Error::PaymentDeclined { .. } => "PAYMENT_DECLINED",
            Error::PaymentOutcomeUnknown { .. } => "PAYMENT_OUTCOME_UNKNOWN",
            Error::PaymentUnsupported { .. } => "PAYMENT_UNSUPPORTED",
            Error::PriceChanged { .. } => "PRICE_CHANGED",
            Error::RefundExceedsPaid { .. } => "REFUND_EXCEEDS_PAID",
            Error::TokenMalformed { .. } => "TOKEN_MALFORMED",
            Error::TokenUnknownKey { .. } => "TOKEN_UNKNOWN_KEY",
            Error::TokenBadSignature => "TOKEN_BAD_SIGNATURE",
            Error::TokenExpired { .. } => "TOKEN_EXPIRED",
            Error::TokenNotYetValid { .. } => "TOKEN_NOT_YET_VALID",
            Error::TokenRevoked { .. } => "TOKEN_REVOKED",
            Error::TokenWrongGate { .. } => "TOKEN_WRONG_GATE",
            Error::TokenAlreadyUsed { .. } => "TOKEN_ALREADY_USED",
            Error::EntryRefused { .. } => "ENTRY_REFUSED",
            Error::Storage(StorageError::SchemaTooNew { .. }) => "SCHEMA_TOO_NEW",
            Error::Storage(_) => "STORAGE_ERROR",
            Error::Contention { .. } => "CONTENTION",
            Error::CorruptRecord { .. } => "CORRUPT_RECORD",
            Error::Port { .. } => "PORT_ERROR",
        }
    }

    /// Whether this error reports bad input from the caller (as opposed to
    /// the state of the world or a failing port). Bindings use it to make
    /// such errors also subclass their language's "invalid value" error.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidInput { .. }
                | Error::UnknownCurrency { .. }
                | Error::CurrencyMismatch { .. }
                | Error::TokenMalformed { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_screaming_snake() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let errors = vec![
            Error::invalid("f", "m"),
            Error::UnknownCurrency { code: "X".into() },
            Error::CurrencyMismatch {
                left: "EUR".into(),
                right: "USD".into(),
            },
            Error::not_found("property", "p"),
            Error::AlreadyExists {
                kind: "property",
                id: "p".into(),
            },
            Error::Unavailable {
                resource: "r".into(),
                date: d,
                requested: 1,
                available: 0,
            },
            Error::PartyTooLarge {
                resource: "r".into(),
                party: 9,
                max: 4,
            },
            Error::NoSuchSlot {
                resource: "r".into(),
                start: t,
            },
            Error::InThePast {
                what: "slot",
                start: t,
                now: t,
            },
            Error::NoRate {
                resource: "r".into(),
                rate_plan: "p".into(),
                date: d,
            },
            Error::PromoNotApplicable {
                code: "X".into(),
                reason: "r".into(),
            },
            Error::HoldExpired {
                hold: "h".into(),
                expired_at: t,
            },
            Error::HoldAlreadyResolved {
                hold: "h".into(),
                state: "released".into(),
            },
            Error::HoldExtensionLimit {
                hold: "h".into(),
                max_until: t,
            },
            Error::IdempotencyConflict { key: "k".into() },
            Error::IllegalTransition {
                booking: "b".into(),
                from: "a".into(),
                to: "b".into(),
            },
            Error::PaymentDeclined { reason: "r".into() },
            Error::PaymentOutcomeUnknown {
                reference: "r".into(),
                message: "m".into(),
                source: None,
            },
            Error::PaymentUnsupported {
                operation: "o".into(),
            },
            Error::PriceChanged {
                subject: "s".into(),
                expected: "1".into(),
                actual: "2".into(),
            },
            Error::RefundExceedsPaid {
                requested: "1".into(),
                refundable: "0".into(),
            },
            Error::TokenMalformed { reason: "r".into() },
            Error::TokenUnknownKey { kid: "k".into() },
            Error::TokenBadSignature,
            Error::TokenExpired { expired_at: t },
            Error::TokenNotYetValid { not_before: t },
            Error::TokenRevoked { token: "t".into() },
            Error::TokenWrongGate { gate: "g".into() },
            Error::TokenAlreadyUsed {
                used_at: t,
                gate: "g".into(),
            },
            Error::EntryRefused { reason: "r".into() },
            Error::Storage(StorageError::Conflict { key: "k".into() }),
            Error::Contention {
                attempts: 3,
                key: "k".into(),
            },
            Error::CorruptRecord {
                key: "k".into(),
                message: "m".into(),
            },
            Error::Port {
                port: "sms",
                message: "m".into(),
                source: None,
            },
        ];
        // Bindings raise these as their language's "invalid value" error too.
        let mut bad_input: Vec<&str> = errors
            .iter()
            .filter(|e| e.is_invalid_input())
            .map(Error::code)
            .collect();
        bad_input.sort();
        let expected = [
            "CURRENCY_MISMATCH",
            "INVALID_INPUT",
            "TOKEN_MALFORMED",
            "UNKNOWN_CURRENCY",
        ];
        assert_eq!(bad_input, expected);
        let mut codes: Vec<&str> = errors.iter().map(Error::code).collect();
        for rule in [
            RestrictionRule::MinStayOnArrival,
            RestrictionRule::MaxStayOnArrival,
            RestrictionRule::MinStayThrough,
            RestrictionRule::MaxStayThrough,
            RestrictionRule::ClosedToArrival,
            RestrictionRule::ClosedToDeparture,
            RestrictionRule::MinAdvance,
            RestrictionRule::MaxAdvance,
            RestrictionRule::StopSell,
        ] {
            codes.push(rule.code());
        }
        for code in &codes {
            assert!(
                code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{code} is not SCREAMING_SNAKE"
            );
        }
        let total = codes.len();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), total, "error codes must be unique");
    }
}
