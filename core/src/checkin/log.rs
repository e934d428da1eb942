//! Scan logs: what gates recorded, merged without double counting.
//!
//! Owns [`ScanLog`], keyed by scan id so that merging the logs of gates
//! that were offline is idempotent (merging twice changes nothing) and
//! commutative (order of merging does not matter), and the detection of
//! double admissions in a merged log. Must never drop or rewrite a record
//! that a gate made, except to pick, deterministically, one of two records
//! that claim the same scan id.

use std::collections::{BTreeMap, BTreeSet};

use crate::checkin::rules::{Passage, Refusal, VenueRules, against_history, evaluate};
use crate::checkin::{Scan, ScanId, ScanRecord};
use crate::error::{Error, Result};
use crate::token::{TicketClaims, TokenId};

/// The scan records of one gate, or of many merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanLog {
    records: BTreeMap<ScanId, ScanRecord>,
    by_token: BTreeMap<TokenId, BTreeSet<ScanId>>,
}

/// What a merge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Records that were new to this log.
    pub added: usize,
    /// Scan ids that two logs recorded with different contents. The log
    /// keeps a passage over a refusal (the person did pass), then the
    /// smaller record (by its ordering), whichever came first.
    pub conflicts: Vec<ScanId>,
}

/// Which of two records claiming one scan id a log keeps, whichever it saw
/// first: a passage over a refusal (the person did pass, and double
/// admissions are found among passages), then the smaller record.
fn preferred(a: &ScanRecord, b: &ScanRecord) -> bool {
    (a.outcome.is_err(), a) < (b.outcome.is_err(), b)
}

/// An admission that, in the merged log, went beyond what the token allows
/// (two offline gates each admitting the last entry, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoubleAdmission {
    /// The admission that should not have happened.
    pub record: ScanRecord,
    /// Why the rules refuse it once every gate's scans are known.
    pub refusal: Refusal,
}

impl ScanLog {
    /// An empty log.
    pub fn new() -> ScanLog {
        ScanLog::default()
    }

    /// Adds a record. Returns whether it was new; a record with the id of
    /// one already held but different contents is a conflict (see
    /// [`MergeReport::conflicts`]) and returns `false`.
    pub fn insert(&mut self, record: ScanRecord) -> bool {
        self.insert_reporting(record, &mut MergeReport::default())
    }

    fn insert_reporting(&mut self, record: ScanRecord, report: &mut MergeReport) -> bool {
        let Some(held) = self.records.get(&record.scan.id) else {
            self.by_token
                .entry(record.token.clone())
                .or_default()
                .insert(record.scan.id.clone());
            self.records.insert(record.scan.id.clone(), record);
            report.added += 1;
            return true;
        };
        if *held != record {
            report.conflicts.push(record.scan.id.clone());
            if preferred(&record, held) {
                let old = held.clone();
                self.reindex(&old, &record);
                self.records.insert(record.scan.id.clone(), record);
            }
        }
        false
    }

    fn reindex(&mut self, old: &ScanRecord, new: &ScanRecord) {
        if old.token != new.token {
            if let Some(ids) = self.by_token.get_mut(&old.token) {
                ids.remove(&old.scan.id);
            }
            self.by_token
                .entry(new.token.clone())
                .or_default()
                .insert(new.scan.id.clone());
        }
    }

    /// Merges every record of `other` into this log.
    pub fn merge(&mut self, other: &ScanLog) -> MergeReport {
        let mut report = MergeReport::default();
        for record in other.records.values() {
            self.insert_reporting(record.clone(), &mut report);
        }
        report
    }

    /// Every record, by scan id.
    pub fn records(&self) -> impl Iterator<Item = &ScanRecord> {
        self.records.values()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records of one token, in scan order (instant, then scan id).
    pub fn for_token(&self, token: &TokenId) -> Vec<&ScanRecord> {
        let mut records: Vec<&ScanRecord> = self
            .by_token
            .get(token)
            .into_iter()
            .flatten()
            .filter_map(|id| self.records.get(id))
            .collect();
        records.sort_by(|a, b| (a.scan.at, &a.scan.id).cmp(&(b.scan.at, &b.scan.id)));
        records
    }

    /// The record of a scan sent again: one with `scan`'s id, already
    /// decided for `token` at the same gate, zone and direction (its
    /// instant may differ: a gate's retry is stamped anew). `None` for a
    /// new scan id.
    ///
    /// Errors: `IDEMPOTENCY_CONFLICT` when the id was recorded for another
    /// token, gate, zone or direction.
    pub fn retried(&self, token: &TokenId, scan: &Scan) -> Result<Option<&ScanRecord>> {
        let Some(done) = self.records.get(&scan.id) else {
            return Ok(None);
        };
        let same = (
            &done.token,
            &done.scan.gate,
            &done.scan.zone,
            done.scan.direction,
        ) == (token, &scan.gate, &scan.zone, scan.direction);
        if !same {
            return Err(Error::IdempotencyConflict {
                key: scan.id.to_string(),
            });
        }
        Ok(Some(done))
    }

    /// Decides `scan` with [`evaluate`] against this log and records the
    /// outcome. A scan sent again (see [`ScanLog::retried`]) gets its first
    /// decision and is not recorded twice: a gate retrying an admission
    /// must not be told the ticket was already used, by itself.
    ///
    /// Errors: the rules' refusals; `IDEMPOTENCY_CONFLICT` for a scan id
    /// already recorded for another token, gate, zone or direction.
    pub fn check_in(
        &mut self,
        rules: &VenueRules,
        claims: &TicketClaims,
        scan: Scan,
    ) -> Result<Passage> {
        if let Some(done) = self.retried(&claims.token_id, &scan)? {
            return Ok(done.outcome.clone()?);
        }
        let outcome = evaluate(rules, claims, self.for_token(&claims.token_id), &scan);
        self.insert(ScanRecord {
            token: claims.token_id.clone(),
            scan,
            outcome: outcome.clone(),
        });
        Ok(outcome?)
    }

    /// Replays the admitted scans of the token with `claims` in scan order
    /// and reports each admission the rules refuse once all of them are
    /// known: anti-passback, daily limit, total allowance. Every admission
    /// stays in the replayed history, because the person did pass
    /// ([`evaluate`] gives each the kind the rules give it, whatever its
    /// gate recorded). An admission's own fit (resource, gate and zone
    /// scope, entry hours) is not judged again: its gate judged it, and a
    /// scan carried over from a replaced ticket was judged against that
    /// ticket's scope, not this one's.
    pub fn double_admissions(
        &self,
        rules: &VenueRules,
        claims: &TicketClaims,
    ) -> Vec<DoubleAdmission> {
        let mut replayed: Vec<&ScanRecord> = Vec::new();
        let mut doubles = Vec::new();
        for record in self.for_token(&claims.token_id) {
            if record.passage().is_none() {
                continue;
            }
            let replay = against_history(rules, claims, replayed.iter().copied(), &record.scan);
            if let Err(refusal) = replay {
                doubles.push(DoubleAdmission {
                    record: record.clone(),
                    refusal,
                });
            }
            replayed.push(record);
        }
        doubles
    }
}
