//! Check-in: whether a verified token admits at a gate, and the scan logs
//! that offline gates keep and merge.
//!
//! One rules engine for servers and offline scanners alike. It takes a
//! token's verified claims ([`crate::token::TicketClaims`]), the venue's
//! rules ([`VenueRules`]), the token's scan history and a new [`Scan`], and
//! returns a [`Passage`] or a typed [`Refusal`] (which converts into the
//! crate's [`crate::Error`]). [`ScanLog`] keeps scan records by their unique
//! id; merging logs from gates that were offline is idempotent and
//! commutative, and [`ScanLog::double_admissions`] reports the admissions
//! that, once all logs are merged, went beyond what the token allows.
//!
//! This module is pure domain: it must never verify signatures (that is
//! [`crate::token::Verifier`]'s job, done before), read a clock (the scan
//! carries its instant) or do I/O.

mod log;
mod rules;

pub use log::{DoubleAdmission, MergeReport, ScanLog};
pub use rules::{EntryHours, Passage, Refusal, VenueRules, evaluate};

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::token::{GateId, TokenId, ZoneId};

crate::ids::define_id!(
    /// The unique id of one scan, given by the gate that made it. Merging
    /// logs relies on it: the same id is the same scan.
    ScanId, "scan_id"
);

/// Which way a person passes a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Into the gate's zone.
    In,
    /// Out of the gate's zone.
    Out,
}

/// What a gate saw: a token presented at a gate into (or out of) a zone,
/// at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scan {
    /// The scan's unique id.
    pub id: ScanId,
    /// The gate that scanned.
    pub gate: GateId,
    /// The zone the gate leads into.
    pub zone: ZoneId,
    /// In or out.
    pub direction: Direction,
    /// When, by the gate's clock.
    pub at: DateTime<Utc>,
}

/// A scan of one token and what the gate decided.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScanRecord {
    /// The token scanned.
    pub token: TokenId,
    /// The scan.
    pub scan: Scan,
    /// The gate's decision.
    pub outcome: std::result::Result<Passage, Refusal>,
}

impl ScanRecord {
    /// The passage, if the gate let the person through.
    pub fn passage(&self) -> Option<Passage> {
        self.outcome.as_ref().ok().copied()
    }
}

impl fmt::Display for ScanRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scan {} of token {} at gate {} at {}",
            self.scan.id, self.token, self.scan.gate, self.scan.at
        )
    }
}

/// A refusal as the crate's error, so callers can use `?`.
impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Error {
        refusal.into_error()
    }
}
