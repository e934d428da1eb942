//! What an entry token says: the ticket's claims and their CWT encoding.
//!
//! Owns the claim types ([`TicketClaims`] and its parts) and the one
//! mapping between them and a CWT claims set (RFC 8392): registered claims
//! where they exist, private-use keys (below -65536) for ours, as listed in
//! `docs/token-format.md`. Must never carry personal data (names, e-mail,
//! phone): a token is shown at gates and photographed.

use std::collections::BTreeSet;
use std::fmt;
use std::num::NonZeroU32;

use chrono::{DateTime, TimeZone, Utc};
use coset::cwt::{ClaimName, ClaimsSet, Timestamp};

use crate::error::{Error, Result};
use crate::ids::{BookingId, ResourceId};
use crate::token::keys::{hex, os_random, short_bytes};

/// Claim key of [`EntryPolicy::entries`]: uint ≥ 1 or null (unlimited).
pub const CLAIM_ENTRIES: i64 = -65537;
/// Claim key of [`EntryPolicy::per_day`]: uint ≥ 1.
pub const CLAIM_PER_DAY: i64 = -65538;
/// Claim key of [`EntryPolicy::reentry`]: true.
pub const CLAIM_REENTRY: i64 = -65539;
/// Claim key of [`Scope::gates`]: non-empty array of text, sorted.
pub const CLAIM_GATES: i64 = -65540;
/// Claim key of [`Scope::zones`]: non-empty array of text, sorted.
pub const CLAIM_ZONES: i64 = -65541;

/// The unique id of one token (`cti`): 1 to 16 bytes. Revocation lists name
/// tokens by it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(Vec<u8>);

impl TokenId {
    /// A new random 8-byte token id from the OS's secure random source.
    pub fn random() -> Result<TokenId> {
        let mut bytes = vec![0u8; 8];
        os_random(&mut bytes)?;
        Ok(TokenId(bytes))
    }

    /// A token id of 1 to 16 bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<TokenId> {
        short_bytes("token_id", bytes.into(), 16).map(TokenId)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for TokenId {
    /// Lower-case hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl std::str::FromStr for TokenId {
    type Err = Error;
    /// Parses the lower- or upper-case hex that [`TokenId`] displays as.
    fn from_str(s: &str) -> Result<TokenId> {
        let bad = || Error::invalid("token_id", format!("{s:?} is not 2 to 32 hex digits"));
        if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| bad()))
            .collect::<Result<Vec<u8>>>()?;
        TokenId::from_bytes(bytes).map_err(|_| bad())
    }
}

impl serde::Serialize for TokenId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TokenId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenId({self})")
    }
}

crate::ids::define_id!(
    /// A gate (a scanning point) of a venue, named like every Reservo id.
    GateId, "gate_id"
);
crate::ids::define_id!(
    /// A zone of a venue (an area behind gates), named like every Reservo id.
    ZoneId, "zone_id"
);

/// When a token is valid: `[not_before, expires)`, in whole seconds since
/// 1970 (sub-second parts are dropped).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use reservo::token::ValidityWindow;
/// let at = |h| Utc.with_ymd_and_hms(2026, 6, 1, h, 0, 0).unwrap();
/// assert!(ValidityWindow::new(at(9), at(18)).is_ok());
/// assert_eq!(ValidityWindow::new(at(18), at(9)).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValidityWindow {
    not_before: DateTime<Utc>,
    expires: DateTime<Utc>,
}

impl ValidityWindow {
    /// A window that starts at or after 1970 and ends after it starts.
    pub fn new(not_before: DateTime<Utc>, expires: DateTime<Utc>) -> Result<ValidityWindow> {
        let (nbf, exp) = (not_before.timestamp(), expires.timestamp());
        if nbf < 0 || exp <= nbf {
            return Err(Error::invalid(
                "validity",
                format!("need 1970 <= not_before < expires, got {not_before} .. {expires}"),
            ));
        }
        Ok(ValidityWindow {
            not_before: whole_seconds(not_before),
            expires: whole_seconds(expires),
        })
    }

    /// First instant the token is valid (`nbf`).
    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    /// First instant the token is no longer valid (`exp`).
    pub fn expires(&self) -> DateTime<Utc> {
        self.expires
    }
}

/// The instant `secs` seconds after 1970, if chrono can represent it.
pub(crate) fn seconds(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

/// `at` without its sub-second part.
pub(crate) fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    seconds(at.timestamp()).expect("whole seconds taken from a DateTime are in range")
}

/// How many times a token admits in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entries {
    /// At most this many admitted entries.
    Limited(NonZeroU32),
    /// No total limit (a daily limit may still apply).
    Unlimited,
}

/// The token's own entry rules; the venue's rules are in
/// [`crate::checkin::VenueRules`].
///
/// ```
/// use reservo::token::{Entries, EntryPolicy};
/// assert_eq!(EntryPolicy::default().entries, Entries::Limited(1.try_into().unwrap()));
/// let day_pass = EntryPolicy::once_per_day();
/// assert_eq!(day_pass.per_day.map(|n| n.get()), Some(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct EntryPolicy {
    /// Total admitted entries.
    pub entries: Entries,
    /// Most entries per calendar day in the venue's time zone.
    pub per_day: Option<NonZeroU32>,
    /// Whether an entry after an exit, on the same venue day as an earlier
    /// entry, is a re-entry that uses no allowance.
    pub reentry: bool,
}

impl Default for EntryPolicy {
    /// A single entry: the common ticket.
    fn default() -> Self {
        EntryPolicy {
            entries: Entries::Limited(NonZeroU32::MIN),
            per_day: None,
            reentry: false,
        }
    }
}

impl EntryPolicy {
    /// Up to `n` entries in total.
    pub fn entries(n: NonZeroU32) -> EntryPolicy {
        EntryPolicy {
            entries: Entries::Limited(n),
            ..EntryPolicy::default()
        }
    }

    /// One entry per venue day, any number of days, re-entry after exit.
    pub fn once_per_day() -> EntryPolicy {
        EntryPolicy {
            entries: Entries::Unlimited,
            per_day: Some(NonZeroU32::MIN),
            reentry: true,
        }
    }
}

/// Where a token admits: at these gates and into these zones. An empty set
/// means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Scope {
    /// Gates the token admits at; empty for every gate.
    pub gates: BTreeSet<GateId>,
    /// Zones the token admits into; empty for every zone.
    pub zones: BTreeSet<ZoneId>,
}

impl Scope {
    /// Whether the token may be scanned in at `gate`.
    pub fn admits_gate(&self, gate: &GateId) -> bool {
        self.gates.is_empty() || self.gates.contains(gate)
    }

    /// Whether the token may enter `zone`.
    pub fn admits_zone(&self, zone: &ZoneId) -> bool {
        self.zones.is_empty() || self.zones.contains(zone)
    }
}

/// Everything an entry token asserts. No personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketClaims {
    /// This token's id (`cti`, claim 7).
    pub token_id: TokenId,
    /// The booking the token admits for (`sub`, claim 2).
    pub booking: BookingId,
    /// The resource (venue entry, event, tour) it is for (`aud`, claim 3).
    pub resource: ResourceId,
    /// When it is valid (`nbf` claim 5, `exp` claim 4).
    pub validity: ValidityWindow,
    /// How many times it admits.
    pub entry: EntryPolicy,
    /// Where it admits.
    pub scope: Scope,
}

impl TicketClaims {
    /// The CWT claims set of these claims.
    pub(crate) fn to_claims_set(&self) -> ClaimsSet {
        let mut rest: Vec<(ClaimName, ciborium::Value)> = Vec::new();
        let mut private = |key: i64, value: ciborium::Value| {
            rest.push((ClaimName::PrivateUse(key), value));
        };
        match self.entry.entries {
            Entries::Limited(n) if n == NonZeroU32::MIN => {}
            Entries::Limited(n) => private(CLAIM_ENTRIES, n.get().into()),
            Entries::Unlimited => private(CLAIM_ENTRIES, ciborium::Value::Null),
        }
        if let Some(n) = self.entry.per_day {
            private(CLAIM_PER_DAY, n.get().into());
        }
        if self.entry.reentry {
            private(CLAIM_REENTRY, true.into());
        }
        let texts =
            |ids: Vec<&str>| ciborium::Value::Array(ids.into_iter().map(Into::into).collect());
        if !self.scope.gates.is_empty() {
            private(
                CLAIM_GATES,
                texts(self.scope.gates.iter().map(GateId::as_str).collect()),
            );
        }
        if !self.scope.zones.is_empty() {
            private(
                CLAIM_ZONES,
                texts(self.scope.zones.iter().map(ZoneId::as_str).collect()),
            );
        }
        ClaimsSet {
            subject: Some(self.booking.to_string()),
            audience: Some(self.resource.to_string()),
            expiration_time: Some(Timestamp::WholeSeconds(self.validity.expires.timestamp())),
            not_before: Some(Timestamp::WholeSeconds(
                self.validity.not_before.timestamp(),
            )),
            cwt_id: Some(self.token_id.0.clone()),
            rest,
            ..ClaimsSet::default()
        }
    }

    /// The claims in a CWT claims set, refusing anything this version of
    /// the format does not define.
    pub(crate) fn from_claims_set(set: ClaimsSet) -> Result<TicketClaims> {
        if set.issuer.is_some() || set.issued_at.is_some() {
            return Err(malformed("claims iss and iat are not part of an RV1 token"));
        }
        let time = |t: Option<Timestamp>, name: &str| match t {
            Some(Timestamp::WholeSeconds(s)) if s >= 0 => {
                seconds(s).ok_or_else(|| malformed(format!("claim {name} is out of range")))
            }
            _ => Err(malformed(format!(
                "claim {name} must be a non-negative integer"
            ))),
        };
        let validity = ValidityWindow::new(
            time(set.not_before, "nbf")?,
            time(set.expiration_time, "exp")?,
        )
        .map_err(|e| malformed(e.to_string()))?;
        let required = |v: Option<String>, name: &str| {
            v.ok_or_else(|| malformed(format!("claim {name} is missing")))
        };
        let booking =
            BookingId::new(required(set.subject, "sub")?).map_err(|e| malformed(e.to_string()))?;
        let resource = ResourceId::new(required(set.audience, "aud")?)
            .map_err(|e| malformed(e.to_string()))?;
        let token_id = TokenId::from_bytes(
            set.cwt_id
                .ok_or_else(|| malformed("claim cti is missing"))?,
        )
        .map_err(|e| malformed(e.to_string()))?;
        let mut entry = EntryPolicy::default();
        let mut scope = Scope::default();
        for (name, value) in set.rest {
            match name {
                ClaimName::PrivateUse(CLAIM_ENTRIES) => {
                    entry.entries = match value {
                        ciborium::Value::Null => Entries::Unlimited,
                        v => Entries::Limited(count(v, CLAIM_ENTRIES)?),
                    }
                }
                ClaimName::PrivateUse(CLAIM_PER_DAY) => {
                    entry.per_day = Some(count(value, CLAIM_PER_DAY)?)
                }
                ClaimName::PrivateUse(CLAIM_REENTRY) => {
                    if value != ciborium::Value::Bool(true) {
                        return Err(malformed(format!(
                            "claim {CLAIM_REENTRY} must be true when present"
                        )));
                    }
                    entry.reentry = true;
                }
                ClaimName::PrivateUse(CLAIM_GATES) => {
                    scope.gates = id_set(value, CLAIM_GATES, GateId::new)?
                }
                ClaimName::PrivateUse(CLAIM_ZONES) => {
                    scope.zones = id_set(value, CLAIM_ZONES, ZoneId::new)?
                }
                other => {
                    return Err(malformed(format!(
                        "claim {other:?} is not part of an RV1 token"
                    )));
                }
            }
        }
        Ok(TicketClaims {
            token_id,
            booking,
            resource,
            validity,
            entry,
            scope,
        })
    }
}

pub(crate) fn malformed(reason: impl Into<String>) -> Error {
    Error::TokenMalformed {
        reason: reason.into(),
    }
}

fn count(value: ciborium::Value, key: i64) -> Result<NonZeroU32> {
    value
        .as_integer()
        .and_then(|i| u32::try_from(i).ok())
        .and_then(NonZeroU32::new)
        .ok_or_else(|| malformed(format!("claim {key} must be an integer from 1 to 2^32-1")))
}

fn id_set<T: Ord>(
    value: ciborium::Value,
    key: i64,
    parse: impl Fn(String) -> Result<T>,
) -> Result<BTreeSet<T>> {
    let bad = || {
        malformed(format!(
            "claim {key} must be a non-empty, sorted array of distinct ids"
        ))
    };
    let ciborium::Value::Array(items) = value else {
        return Err(bad());
    };
    let mut set = BTreeSet::new();
    for item in items {
        let ciborium::Value::Text(text) = item else {
            return Err(bad());
        };
        let id = parse(text).map_err(|_| bad())?;
        if set.last().is_some_and(|last| *last >= id) {
            return Err(bad());
        }
        set.insert(id);
    }
    if set.is_empty() {
        return Err(bad());
    }
    Ok(set)
}
