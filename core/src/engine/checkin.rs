//! Check-in at gates: a scanned ticket decided against its stored scan
//! history, and the logs of offline gates merged in.
//!
//! Owns the engine side of [`crate::checkin`]: the venue's check-in set-up
//! as a catalog record per property ([`VenueCheckIn`]), the
//! [`VenueRules`] built from it, [`Engine::check_in`] (verify the token
//! with the engine's keys, clock and revocation list, decide with
//! [`ScanLog::check_in`], record the scan and move the booking to
//! `checked_in` on its first entry, all in one commit pinned to the ticket's
//! scan log, the booking and the revocation list) and
//! [`Engine::merge_offline_scans`]. Must never decide entry itself (the
//! rules are [`crate::checkin::evaluate`]'s) and never admit on a scan log
//! other than the one it commits against.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::BookingStatus;
use crate::checkin::{
    Direction, DoubleAdmission, EntryHours, MergeReport, Passage, Refusal, Scan, ScanId, ScanLog,
    ScanRecord, VenueRules,
};
use crate::error::{Error, Result};
use crate::ids::{BookingId, PropertyId, ResourceId};
use crate::ports::Record;
use crate::token::{GateId, Scope, TicketClaims, TokenId, ZoneId};

use super::Engine;
use super::catalog_cache::CatalogView;
use super::confirm::Booking;
use super::events::booking_event;
use super::keys;
use super::revocation::RevocationRecord;
use super::tickets::{TicketRecord, carried_as};
use super::txn::{Txn, decode_json, retry_on_conflict};

/// The zone a scan enters when the request names none: venues with one
/// zone need not name it.
pub const MAIN_ZONE: &str = "main";

/// A property's check-in set-up, stored in the catalog
/// ([`Engine::set_venue_check_in`]). Without one, a property admits at
/// any time, at any gate, without anti-passback.
///
/// Scopes are written into tickets when they are issued: changing them
/// affects tickets issued (or re-issued) afterwards. Entry hours and
/// anti-passback apply to every scan from the change on.
///
/// ```
/// use reservo::engine::VenueCheckIn;
/// use reservo::token::GateId;
/// let mut venue = VenueCheckIn { anti_passback: true, ..VenueCheckIn::default() };
/// venue.scope.gates.insert(GateId::new("beach-gate").unwrap());
/// assert!(!venue.scope_for(&"surf-lesson".parse().unwrap()).admits_gate(&GateId::new("car-park").unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VenueCheckIn {
    /// When entries are admitted each day, in the property's time zone;
    /// `None` for any time.
    pub entry_hours: Option<EntryHours>,
    /// No second entry into a zone without an exit from it in between.
    pub anti_passback: bool,
    /// Where tickets of the property's resources admit, unless
    /// `resources` names the resource.
    pub scope: Scope,
    /// Where tickets of particular resources admit, instead of `scope`.
    pub resources: BTreeMap<ResourceId, Scope>,
}

impl VenueCheckIn {
    /// The scope written into tickets for `resource`.
    pub fn scope_for(&self, resource: &ResourceId) -> Scope {
        self.resources.get(resource).unwrap_or(&self.scope).clone()
    }
}

/// A ticket presented at a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInRequest {
    /// The token text as scanned (`RV1:...`).
    pub token: String,
    /// The gate that scanned it.
    pub gate: GateId,
    /// The zone the gate leads into; `None` for [`MAIN_ZONE`].
    #[serde(default)]
    pub zone: Option<ZoneId>,
    /// In or out.
    pub direction: Direction,
    /// The gate's unique id for this scan. Sending the same scan again
    /// (after a timeout, say) returns the first decision, even once the
    /// ticket has expired or been revoked since.
    pub scan_id: ScanId,
}

/// A scan the engine let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInOutcome {
    /// Entry, re-entry or exit.
    pub passage: Passage,
    /// The ticket's booking.
    pub booking: BookingId,
    /// The booking's status after the scan.
    pub status: BookingStatus,
    /// The claims of the ticket scanned.
    pub claims: TicketClaims,
    /// The scan as recorded, at the engine clock's time.
    pub scan: Scan,
}

/// What [`Engine::merge_offline_scans`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanMergeReport {
    /// Scan records new to the engine, and scan ids recorded twice with
    /// different contents (the smaller record is kept).
    pub merged: MergeReport,
    /// Admissions beyond what a ticket allows, in the merged history of
    /// each ticket the merge touched (two offline gates each admitting a
    /// single-entry ticket, say). Reported by every merge that touches the
    /// ticket, since they stay in its history.
    pub double_admissions: Vec<DoubleAdmission>,
    /// Bookings that the merged entries moved to `checked_in`.
    pub checked_in: Vec<BookingId>,
    /// Tokens of the merged log that this engine never issued; their
    /// records are left out.
    pub unknown_tokens: Vec<TokenId>,
}

/// The body of a `ticket.scanned` event.
#[derive(Serialize)]
struct TicketScanned<'a> {
    token: &'a TokenId,
    booking: &'a BookingId,
    resource: &'a ResourceId,
    scan: &'a Scan,
    passage: Option<Passage>,
    refusal: Option<&'a Refusal>,
    offline: bool,
}

fn scanned_event(txn: &mut Txn, ticket: &TicketRecord, record: &ScanRecord, offline: bool) {
    txn.event(
        "ticket.scanned",
        &TicketScanned {
            token: &record.token,
            booking: &ticket.booking,
            resource: ticket.claims.resource(),
            scan: &record.scan,
            passage: record.passage(),
            refusal: record.outcome.as_ref().err(),
            offline,
        },
    );
}

/// The rules of the venue selling `resource`: its property's time zone,
/// resources and check-in set-up.
fn rules_for(view: &CatalogView, resource: &ResourceId) -> Result<VenueRules> {
    rules_of(view, &view.resource(resource)?.resource.property)
}

fn rules_of(view: &CatalogView, property: &PropertyId) -> Result<VenueRules> {
    let time_zone = view.property(property)?.time_zone;
    let venue = view.venues.get(property).cloned().unwrap_or_default();
    Ok(VenueRules {
        time_zone,
        resources: view
            .resources
            .values()
            .filter(|e| &e.resource.property == property)
            .map(|e| e.resource.id.clone())
            .collect(),
        entry_hours: venue.entry_hours,
        anti_passback: venue.anti_passback,
    })
}

fn log_of(records: &[ScanRecord]) -> ScanLog {
    let mut log = ScanLog::new();
    for record in records {
        log.insert(record.clone());
    }
    log
}

/// Moves `booking` to `checked_in` at `at` (never before its last status
/// change) in `txn`, pinned to the record it was read from.
fn check_in_booking(
    txn: &mut Txn,
    view: &CatalogView,
    booking: &mut Booking,
    record: &Record,
    at: DateTime<Utc>,
) -> Result<()> {
    let status = booking
        .status
        .transition(booking.id.as_str(), BookingStatus::CheckedIn)?;
    booking.enter(status, at);
    txn.expect_read(&record.key, Some(record));
    txn.put_json(&record.key, booking);
    txn.event("booking.checked_in", &booking_event(view, booking));
    Ok(())
}

impl Engine {
    /// The check-in rules of a property, as the engine applies them: for
    /// offline scanners, with [`ScanLog::check_in`]. Errors: `NOT_FOUND`.
    pub async fn venue_rules(&self, property: &PropertyId) -> Result<VenueRules> {
        rules_of(&*self.catalog().await?, property)
    }

    /// Decides a scan of a ticket at a gate and records it.
    ///
    /// The token is verified with the issuer's keys, the engine's clock
    /// and its revocation list; the venue's rules then decide against the
    /// ticket's stored scan log. The scan is recorded (admitted or refused
    /// by the rules) in one commit that expects the scan log, the booking
    /// and the revocation list as read, so two gates scanning one ticket at
    /// once cannot both use its last entry. The first entry of any of a
    /// booking's tickets moves it from `confirmed` to `checked_in` in the
    /// same commit. Events: `ticket.scanned`, `booking.checked_in`.
    ///
    /// An exit needs only a genuine token: it is let through (and
    /// recorded) even after the ticket expired or was revoked.
    ///
    /// Errors: the token errors (`TOKEN_MALFORMED`, `TOKEN_UNKNOWN_KEY`,
    /// `TOKEN_BAD_SIGNATURE`, and for entries `TOKEN_NOT_YET_VALID`,
    /// `TOKEN_EXPIRED`, `TOKEN_REVOKED`), the rules' refusals (`TOKEN_WRONG_GATE`,
    /// `TOKEN_ALREADY_USED` with when and where, `ENTRY_REFUSED`),
    /// `ILLEGAL_TRANSITION` for an entry on a booking that is neither
    /// confirmed nor checked in, `IDEMPOTENCY_CONFLICT` for a scan id
    /// reused for another scan, `NOT_FOUND`, `INVALID_INPUT` without a
    /// ticket issuer.
    pub async fn check_in(&self, request: &CheckInRequest) -> Result<CheckInOutcome> {
        self.issuer()?;
        let zone = match &request.zone {
            Some(zone) => zone.clone(),
            None => ZoneId::new(MAIN_ZONE)?,
        };
        retry_on_conflict(self.config.max_attempts, || {
            self.try_check_in(request, &zone)
        })
        .await
    }

    async fn try_check_in(
        &self,
        request: &CheckInRequest,
        zone: &ZoneId,
    ) -> Result<CheckInOutcome> {
        let now = self.clock.now();
        let verifier = &self.issuer()?.verifier;
        let claims = verifier.open(&request.token)?;
        let ticket_key = keys::ticket(&claims.token_id);
        let mut got = self
            .storage
            .get(&[ticket_key.clone(), keys::REVOCATIONS.to_owned()])
            .await?;
        let (revocations, ticket_record) = (got.pop().flatten(), got.pop().flatten());
        let stored = ticket_record
            .as_ref()
            .map(decode_json::<TicketRecord>)
            .transpose()?;
        // A scan sent again gets its first decision, even if the ticket
        // expired or was revoked in between. An exit is let through
        // whatever the ticket's validity window or revocation: nobody is
        // kept inside because their ticket ran out while they were in.
        let retried = stored
            .as_ref()
            .is_some_and(|t| t.scans.iter().any(|r| r.scan.id == request.scan_id));
        if !retried && request.direction == Direction::In {
            verifier.check_at(&claims, now)?;
            RevocationRecord::read(revocations.as_ref())?.check(&claims)?;
        }
        let (Some(ticket_record), Some(mut ticket)) = (ticket_record, stored) else {
            return Err(Error::not_found("ticket", claims.token_id.to_string()));
        };
        let (mut booking, booking_record) = self.read_booking(&ticket.booking).await?;
        let scan = Scan {
            id: request.scan_id.clone(),
            gate: request.gate.clone(),
            zone: zone.clone(),
            direction: request.direction,
            at: now,
        };
        let outcome = |passage, booking: &Booking, scan| CheckInOutcome {
            passage,
            booking: booking.id.clone(),
            status: booking.status,
            claims: claims.clone(),
            scan,
        };
        let mut log = log_of(&ticket.scans);
        if let Some(done) = log.retried(&claims.token_id, &scan)? {
            let passage = done.outcome.clone().map_err(Refusal::into_error)?;
            return Ok(outcome(passage, &booking, done.scan.clone()));
        }
        let view = self.catalog().await?;
        let rules = rules_for(&view, &claims.resource)?;
        let decided = log.check_in(&rules, &claims, scan.clone());
        let mut txn = Txn::default();
        if matches!(decided, Ok(Passage::Entry)) && booking.status != BookingStatus::CheckedIn {
            check_in_booking(&mut txn, &view, &mut booking, &booking_record, now)?;
        }
        ticket.scans = log.records().cloned().collect();
        let recorded = ticket
            .scans
            .iter()
            .find(|r| r.scan.id == scan.id)
            .expect("the log records every scan it decides");
        scanned_event(&mut txn, &ticket, recorded, false);
        txn.expect_read(&ticket_key, Some(&ticket_record));
        txn.put_json(&ticket_key, &ticket);
        txn.expect_read(keys::REVOCATIONS, revocations.as_ref());
        txn.expect_read(&booking_record.key, Some(&booking_record));
        self.commit(txn).await?;
        Ok(outcome(decided?, &booking, scan))
    }

    /// Merges the scan logs of gates that were offline into the engine's,
    /// ticket by ticket, without double counting: a scan id already
    /// recorded is not recorded again, so merging the same log twice
    /// changes nothing. Merged entries move confirmed bookings to
    /// `checked_in` (at the first entry's time), and the report lists the
    /// admissions that went beyond what a ticket allows once every gate's
    /// scans are known. Events: `ticket.scanned` (with `offline: true`)
    /// per new record, `booking.checked_in`.
    ///
    /// Each ticket is merged in a commit of its own, so a gate's log of a
    /// whole day never becomes one huge transaction. If an error stops the
    /// merge part of the way, the tickets merged before it stay merged;
    /// merging the same log again completes it without recording anything
    /// twice.
    ///
    /// Scans of a ticket that was reissued (a gate that had not yet synced
    /// the revocation list admitted it) are also merged into the history of
    /// the ticket that replaced it, and of that one's successor in turn, as
    /// the reissue carried the scans made before it: so an old ticket and
    /// its replacement both admitted is reported as a double admission of
    /// the current ticket. Those carried records publish no events and do
    /// not count in [`MergeReport::added`].
    ///
    /// Errors: `NOT_FOUND` for a ticket's resource or booking missing from
    /// the store; storage errors.
    pub async fn merge_offline_scans(&self, log: &ScanLog) -> Result<ScanMergeReport> {
        let tokens: BTreeSet<&TokenId> = log.records().map(|r| &r.token).collect();
        let mut report = ScanMergeReport::default();
        for token in tokens {
            let records: Vec<ScanRecord> = log.for_token(token).into_iter().cloned().collect();
            let offline = log_of(&records);
            let merged = retry_on_conflict(self.config.max_attempts, || {
                self.merge_ticket_scans(token, &offline, true)
            })
            .await?;
            let Some(mut merged) = merged else {
                report.unknown_tokens.push(token.clone());
                continue;
            };
            report.merged.added += merged.merge.added;
            report.merged.conflicts.extend(merged.merge.conflicts);
            report.checked_in.extend(merged.checked_in);
            let mut seen = BTreeSet::from([token.clone()]);
            while let Some(successor) = merged.replaced_by.take() {
                if !seen.insert(successor.clone()) {
                    break;
                }
                let carried = log_of(&carried_as(&records, &successor));
                let next = retry_on_conflict(self.config.max_attempts, || {
                    self.merge_ticket_scans(&successor, &carried, false)
                })
                .await?;
                let Some(mut next) = next else { break };
                report.checked_in.extend(next.checked_in.take());
                merged = next;
            }
            report.double_admissions.extend(merged.doubles);
        }
        Ok(report)
    }

    /// Merges `offline` into the scan log of one ticket, with a
    /// `ticket.scanned` event per new record if `publish`; `None` if the
    /// engine has no such ticket.
    async fn merge_ticket_scans(
        &self,
        token: &TokenId,
        offline: &ScanLog,
        publish: bool,
    ) -> Result<Option<TicketMerge>> {
        let key = keys::ticket(token);
        let Some(record) = self.read_record(&key).await? else {
            return Ok(None);
        };
        let mut ticket: TicketRecord = decode_json(&record)?;
        let claims = ticket.claims.to_claims()?;
        let view = self.catalog().await?;
        let rules = rules_for(&view, &claims.resource)?;
        let mut log = log_of(&ticket.scans);
        let merge = log.merge(offline);
        let doubles = log.double_admissions(&rules, &claims);
        let merged: Vec<ScanRecord> = log.records().cloned().collect();
        let replaced_by = ticket.replaced_by.clone();
        if merged == ticket.scans {
            return Ok(Some(TicketMerge {
                merge,
                doubles,
                checked_in: None,
                replaced_by,
            }));
        }
        let mut txn = Txn::default();
        let known: BTreeSet<&ScanId> = ticket.scans.iter().map(|r| &r.scan.id).collect();
        let added: Vec<&ScanRecord> = merged
            .iter()
            .filter(|r| publish && !known.contains(&r.scan.id))
            .collect();
        for record in &added {
            scanned_event(&mut txn, &ticket, record, true);
        }
        let first_entry = log
            .for_token(token)
            .into_iter()
            .find(|r| r.passage() == Some(Passage::Entry))
            .map(|r| r.scan.at);
        let mut checked_in = None;
        if let Some(at) = first_entry {
            let (mut booking, booking_record) = self.read_booking(&ticket.booking).await?;
            if booking.status == BookingStatus::Confirmed {
                check_in_booking(&mut txn, &view, &mut booking, &booking_record, at)?;
                checked_in = Some(booking.id);
            }
        }
        ticket.scans = merged;
        txn.expect_read(&key, Some(&record));
        txn.put_json(&key, &ticket);
        self.commit(txn).await?;
        Ok(Some(TicketMerge {
            merge,
            doubles,
            checked_in,
            replaced_by,
        }))
    }
}

/// What merging scans into one ticket's history did.
struct TicketMerge {
    merge: MergeReport,
    doubles: Vec<DoubleAdmission>,
    checked_in: Option<BookingId>,
    /// The ticket's successor, if it was reissued.
    replaced_by: Option<TokenId>,
}
