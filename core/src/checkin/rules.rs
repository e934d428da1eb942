//! The check-in rules: one function, [`evaluate`], that decides a scan.
//!
//! Owns the order and meaning of the checks: resource, gate and zone scope,
//! the venue's entry hours, anti-passback, re-entry, the daily limit and
//! the total allowance. Must never look at anything but its arguments, so
//! a server and an offline scanner given the same inputs decide the same.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::checkin::{Direction, Scan, ScanRecord};
use crate::error::{Error, Result};
use crate::ids::ResourceId;
use crate::time::local_date;
use crate::token::{Entries, GateId, TicketClaims, ZoneId};

/// The daily hours, in the venue's time zone, during which entries are
/// admitted: `[opens, closes)`. Exits are always allowed.
///
/// Hours that close at or before they open run past midnight: a club
/// open 20:00–03:00 admits from 20:00 to 02:59:59 the next morning, and
/// 18:00–00:00 admits until midnight. For such hours the venue day (what
/// daily limits and re-entry count in) runs from closing time to closing
/// time, so an entry at 01:00 belongs to the night that began the evening
/// before ([`EntryHours::venue_day`]). Hours within one day keep civil
/// days, midnight to midnight.
///
/// ```
/// use chrono::NaiveTime;
/// use reservo::checkin::EntryHours;
/// let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
/// let day = EntryHours::new(t(9), t(17)).unwrap();
/// assert!(day.contains(t(9)) && !day.contains(t(17)));
/// let night = EntryHours::new(t(20), t(3)).unwrap();
/// assert!(night.crosses_midnight());
/// assert!(night.contains(t(23)) && night.contains(t(2)) && !night.contains(t(3)));
/// assert_eq!(EntryHours::new(t(9), t(9)).unwrap_err().code(), "INVALID_INPUT");
/// ```
///
/// Deserializing checks the same: hours read from JSON or a store cannot
/// open and close at the same time. (Reservo before overnight hours
/// refused hours that close before they open: a scanner on an older
/// version cannot read them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "UncheckedHours")]
pub struct EntryHours {
    opens: NaiveTime,
    closes: NaiveTime,
}

/// [`EntryHours`] as serialized, before [`EntryHours::new`] checks them.
#[derive(Deserialize)]
struct UncheckedHours {
    opens: NaiveTime,
    closes: NaiveTime,
}

impl TryFrom<UncheckedHours> for EntryHours {
    type Error = Error;
    fn try_from(hours: UncheckedHours) -> Result<EntryHours> {
        EntryHours::new(hours.opens, hours.closes)
    }
}

impl EntryHours {
    /// Hours from `opens` to `closes`; closing at or before opening runs
    /// past midnight. Opening and closing at the same time is
    /// `INVALID_INPUT`: a venue open round the clock has no entry hours
    /// (`None`).
    pub fn new(opens: NaiveTime, closes: NaiveTime) -> Result<EntryHours> {
        if opens == closes {
            return Err(Error::invalid(
                "entry_hours",
                format!(
                    "opening and closing both at {opens}: for entries at any time, set no entry hours"
                ),
            ));
        }
        Ok(EntryHours { opens, closes })
    }

    /// When entries open.
    pub fn opens(&self) -> NaiveTime {
        self.opens
    }

    /// When entries close (the next day if [`EntryHours::crosses_midnight`]).
    pub fn closes(&self) -> NaiveTime {
        self.closes
    }

    /// Whether the hours run past midnight (closing at or before opening).
    pub fn crosses_midnight(&self) -> bool {
        self.closes < self.opens
    }

    /// Whether entries are admitted at the civil time `local`.
    pub fn contains(&self, local: NaiveTime) -> bool {
        if self.crosses_midnight() {
            self.opens <= local || local < self.closes
        } else {
            self.opens <= local && local < self.closes
        }
    }

    /// The venue day of the civil date and time `local`: its date, or for
    /// hours that cross midnight, the day before until closing time.
    ///
    /// ```
    /// use chrono::{NaiveDate, NaiveTime};
    /// use reservo::checkin::EntryHours;
    /// let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    /// let friday = NaiveDate::from_ymd_opt(2026, 10, 9).unwrap();
    /// let saturday = friday.succ_opt().unwrap();
    /// let night = EntryHours::new(t(20), t(3)).unwrap();
    /// assert_eq!(night.venue_day(saturday.and_time(t(1))), friday);
    /// assert_eq!(night.venue_day(saturday.and_time(t(3))), saturday);
    /// ```
    pub fn venue_day(&self, local: NaiveDateTime) -> NaiveDate {
        if self.crosses_midnight() && local.time() < self.closes {
            local.date().pred_opt().unwrap_or(local.date())
        } else {
            local.date()
        }
    }
}

/// The venue's own rules, the same on every gate of the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueRules {
    /// The venue's time zone: entry hours are civil times in it, and
    /// venue days (for daily limits and re-entry) are its civil days, or
    /// run from closing to closing time for entry hours that cross
    /// midnight ([`EntryHours::venue_day`]).
    pub time_zone: Tz,
    /// The resources whose tokens this venue admits.
    pub resources: BTreeSet<ResourceId>,
    /// When entries are admitted each day; `None` for any time.
    pub entry_hours: Option<EntryHours>,
    /// No second entry into a zone without an exit from it in between.
    pub anti_passback: bool,
}

/// How a person passed a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Passage {
    /// An entry that uses one of the token's entries.
    Entry,
    /// An entry after an exit on the same venue day, which uses none.
    ReEntry,
    /// An exit.
    Exit,
}

/// Why a scan was refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The token is for a resource this venue does not admit.
    WrongResource {
        /// The token's resource.
        resource: ResourceId,
        /// The gate scanned at.
        gate: GateId,
    },
    /// The token's scope does not include this gate.
    WrongGate {
        /// The gate scanned at.
        gate: GateId,
    },
    /// The token's scope does not include this zone.
    WrongZone {
        /// The zone the gate leads into.
        zone: ZoneId,
        /// The gate scanned at.
        gate: GateId,
    },
    /// The venue does not admit entries at this time of day.
    OutsideEntryHours {
        /// The civil time of the scan in the venue's time zone.
        local_time: NaiveTime,
        /// The venue's entry hours, so a gate can say when it opens; `None`
        /// only in refusals recorded by a Reservo before they were kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hours: Option<EntryHours>,
    },
    /// Anti-passback: the token entered this zone and has not left it.
    AlreadyInside {
        /// The zone.
        zone: ZoneId,
        /// When it entered.
        since: DateTime<Utc>,
    },
    /// The token's daily entries are used up for this venue day.
    UsedUpToday {
        /// The last entry of the day.
        at: DateTime<Utc>,
        /// Its gate.
        gate: GateId,
    },
    /// The token's entries are used up.
    AlreadyUsed {
        /// The last entry.
        at: DateTime<Utc>,
        /// Its gate.
        gate: GateId,
    },
}

impl Refusal {
    /// The crate error for this refusal: [`Error::TokenWrongGate`] for the
    /// scope refusals, [`Error::TokenAlreadyUsed`] (with when and where)
    /// for used-up entries, [`Error::EntryRefused`] for the venue's rules.
    pub fn into_error(self) -> Error {
        match self {
            Refusal::WrongResource { gate, .. }
            | Refusal::WrongGate { gate }
            | Refusal::WrongZone { gate, .. } => Error::TokenWrongGate {
                gate: gate.to_string(),
            },
            Refusal::UsedUpToday { at, gate } | Refusal::AlreadyUsed { at, gate } => {
                Error::TokenAlreadyUsed {
                    used_at: at,
                    gate: gate.to_string(),
                }
            }
            Refusal::OutsideEntryHours { local_time, hours } => {
                let scanned = local_time.format("%H:%M:%S");
                let reason = match hours {
                    Some(hours) => format!(
                        "outside entry hours: scanned at {scanned} venue time, entry from {} to {}{}",
                        hours.opens().format("%H:%M"),
                        hours.closes().format("%H:%M"),
                        if hours.crosses_midnight() {
                            " the next day"
                        } else {
                            ""
                        }
                    ),
                    None => format!("outside entry hours: scanned at {scanned} venue time"),
                };
                Error::EntryRefused { reason }
            }
            Refusal::AlreadyInside { zone, since } => Error::EntryRefused {
                reason: format!("anti-passback: inside zone {zone} since {since} without an exit"),
            },
        }
    }
}

/// Decides `scan` of the token with `claims`, given the token's earlier
/// scans in `history` (records of other tokens and refused scans are
/// ignored; order does not matter). Every admission in `history` counts,
/// even one stamped after `scan`: the scan is being decided now, so what
/// was recorded happened before it, at a gate whose clock runs ahead.
///
/// Exits are always let through. An entry is checked in this order:
/// resource, gate scope, zone scope, entry hours, anti-passback, re-entry
/// (which needs no allowance), daily limit, total allowance. Where the
/// token allows re-entry, earlier admissions count as the rules classify
/// them in scan order, not as each gate recorded them: a return through a
/// gate that was offline when the person went out uses no allowance.
pub fn evaluate<'a>(
    rules: &VenueRules,
    claims: &TicketClaims,
    history: impl IntoIterator<Item = &'a ScanRecord>,
    scan: &Scan,
) -> std::result::Result<Passage, Refusal> {
    if scan.direction == Direction::In {
        fits(rules, claims, scan)?;
    }
    against_history(rules, claims, history, scan)
}

/// The checks of an entry that look at the scan alone: resource, gate and
/// zone scope, entry hours.
fn fits(
    rules: &VenueRules,
    claims: &TicketClaims,
    scan: &Scan,
) -> std::result::Result<(), Refusal> {
    let gate = || scan.gate.clone();
    if !rules.resources.contains(&claims.resource) {
        return Err(Refusal::WrongResource {
            resource: claims.resource.clone(),
            gate: gate(),
        });
    }
    if !claims.scope.admits_gate(&scan.gate) {
        return Err(Refusal::WrongGate { gate: gate() });
    }
    if !claims.scope.admits_zone(&scan.zone) {
        return Err(Refusal::WrongZone {
            zone: scan.zone.clone(),
            gate: gate(),
        });
    }
    let local = scan.at.with_timezone(&rules.time_zone);
    if let Some(hours) = rules.entry_hours {
        if !hours.contains(local.time()) {
            return Err(Refusal::OutsideEntryHours {
                local_time: local.time(),
                hours: Some(hours),
            });
        }
    }
    Ok(())
}

/// The checks of an entry that look at the token's earlier admissions in
/// `history`: anti-passback, re-entry, daily limit, total allowance. What
/// [`ScanLog::double_admissions`](super::ScanLog::double_admissions)
/// replays: an admission's own fit was its gate's to judge, and a scan
/// carried over from a replaced ticket was judged against that ticket's
/// scope.
pub(super) fn against_history<'a>(
    rules: &VenueRules,
    claims: &TicketClaims,
    history: impl IntoIterator<Item = &'a ScanRecord>,
    scan: &Scan,
) -> std::result::Result<Passage, Refusal> {
    if scan.direction == Direction::Out {
        return Ok(Passage::Exit);
    }
    let mut passed: Vec<(&ScanRecord, Passage)> = history
        .into_iter()
        .filter(|r| r.token == claims.token_id && r.scan.id != scan.id)
        .filter_map(|r| r.passage().map(|p| (r, p)))
        .collect();
    passed.sort_by(|(a, _), (b, _)| (a.scan.at, &a.scan.id).cmp(&(b.scan.at, &b.scan.id)));
    if claims.entry.reentry {
        reclassify_returns(rules, &mut passed);
    }

    if rules.anti_passback {
        let last_here = passed.iter().rev().find(|(r, _)| r.scan.zone == scan.zone);
        if let Some((r, Passage::Entry | Passage::ReEntry)) = last_here {
            return Err(Refusal::AlreadyInside {
                zone: scan.zone.clone(),
                since: r.scan.at,
            });
        }
    }
    let today = venue_day(rules, scan.at);
    let on_today = |r: &ScanRecord| venue_day(rules, r.scan.at) == today;
    if claims.entry.reentry
        && matches!(passed.last(), Some((_, Passage::Exit)))
        && passed
            .iter()
            .any(|(r, p)| *p != Passage::Exit && on_today(r))
    {
        return Ok(Passage::ReEntry);
    }
    let counted: Vec<&ScanRecord> = passed
        .iter()
        .filter(|(_, p)| *p == Passage::Entry)
        .map(|(r, _)| *r)
        .collect();
    if let Some(per_day) = claims.entry.per_day {
        let today_entries: Vec<&ScanRecord> =
            counted.iter().copied().filter(|r| on_today(r)).collect();
        if let Some((at, gate)) = used_up(&today_entries, per_day.get()) {
            return Err(Refusal::UsedUpToday { at, gate });
        }
    }
    if let Entries::Limited(limit) = claims.entry.entries {
        if let Some((at, gate)) = used_up(&counted, limit.get()) {
            return Err(Refusal::AlreadyUsed { at, gate });
        }
    }
    Ok(Passage::Entry)
}

/// Gives each admission in `passed` (in scan order) the kind the rules
/// give it, for a token that allows re-entry: an entry after an exit on a
/// venue day with an earlier entry is a re-entry, whatever the gate that
/// admitted it recorded. An offline gate that never saw the exit records
/// the return as an entry; counted as one, it would use up an allowance
/// the person still has once the logs are merged.
fn reclassify_returns(rules: &VenueRules, passed: &mut [(&ScanRecord, Passage)]) {
    let mut entry_days = BTreeSet::new();
    let mut after_exit = false;
    for (record, passage) in passed.iter_mut() {
        if *passage == Passage::Exit {
            after_exit = true;
            continue;
        }
        let day = venue_day(rules, record.scan.at);
        *passage = if after_exit && entry_days.contains(&day) {
            Passage::ReEntry
        } else {
            Passage::Entry
        };
        entry_days.insert(day);
        after_exit = false;
    }
}

/// The venue day of the instant `at` under `rules`.
fn venue_day(rules: &VenueRules, at: DateTime<Utc>) -> NaiveDate {
    match rules.entry_hours {
        Some(hours) => hours.venue_day(at.with_timezone(&rules.time_zone).naive_local()),
        None => local_date(at, rules.time_zone),
    }
}

/// When and where the last of `entries` was, if they reach `limit`.
fn used_up(entries: &[&ScanRecord], limit: u32) -> Option<(DateTime<Utc>, GateId)> {
    let last = entries.last()?;
    (entries.len() as u64 >= u64::from(limit)).then(|| (last.scan.at, last.scan.gate.clone()))
}
