//! Records this engine last wrote or read, each with its version, so that a
//! hold or a confirmation can skip its reads (ADR 012).
//!
//! Owns the inventory ledgers and hold records a command would otherwise
//! read first, as this engine last saw them, and the decision whether a
//! command on a resource tries without reading. Correctness never rests on
//! them: a command that uses them pins every one at its version in its
//! commit, so one that changed since (written by another engine, another
//! process) makes the commit a conflict, and the command then reads and
//! runs again. A version once replaced never comes back (the storage
//! contract), so a matching version means matching bytes. Must never hand
//! out a record under any version but the one it was stored with.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::ports::{Committed, Key, Record, StorageError, Version};

use super::Engine;
use super::catalog_cache::CatalogView;
use super::keys;
use super::txn::{HOT_KEY_STRIPES, Txn, stripe_of};

/// Records kept at most; past that the cache starts over. Ledgers are a
/// few bytes and holds 1–2 KB, so this is ~16 MB at the very worst (every
/// record a hold) and well under 1 MB for ledgers.
const CAPACITY: usize = 8_192;

/// After a command that skipped its reads met a conflict on a resource,
/// how many later commands on it read first. Another engine is writing
/// that resource: what this one knows goes stale between its commands,
/// and every skipped read would cost a wasted commit.
const READ_FIRST_FOR: u32 = 64;

/// Ledgers and holds as this engine last wrote or read them.
#[derive(Debug)]
pub(crate) struct KnownRecords {
    /// `None`: known to be absent (as read, or deleted by this engine).
    records: Mutex<HashMap<Key, Option<Record>>>,
    /// Per stripe of resources (the hot-key queue's stripes): how many
    /// more commands read first.
    read_first: [AtomicU32; HOT_KEY_STRIPES],
}

impl Default for KnownRecords {
    fn default() -> Self {
        KnownRecords {
            records: Mutex::default(),
            read_first: [const { AtomicU32::new(0) }; HOT_KEY_STRIPES],
        }
    }
}

impl KnownRecords {
    /// The records at every one of `keys`, if all are known.
    pub fn all(&self, keys: &[Key]) -> Option<Vec<Option<Record>>> {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter().map(|key| records.get(key).cloned()).collect()
    }

    /// Remembers what a `get` of `keys` returned (the ledgers and holds
    /// among them).
    pub fn learn_read(&self, keys: &[Key], got: &[Option<Record>]) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, record) in keys.iter().zip(got) {
            if keys::is_ledger_or_hold(key) {
                insert(&mut records, key.clone(), record.clone());
            }
        }
    }

    /// Remembers what a successful commit at `version` wrote: for each
    /// ledger or hold key, its new value (`None`: deleted).
    pub fn learn_commit(&self, written: Vec<(Key, Option<Vec<u8>>)>, version: Version) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, value) in written {
            if !keys::is_ledger_or_hold(&key) {
                continue;
            }
            let record = value.map(|value| Record {
                key: key.clone(),
                value,
                version,
            });
            insert(&mut records, key, record);
        }
    }

    /// Whether a command on `resource` may try with what is known instead
    /// of reading first.
    pub fn may_skip_reads(&self, resource: &str) -> bool {
        // Counts down one command at a time; at zero, skipping is allowed.
        self.read_first[stripe_of(resource)]
            .fetch_update(Relaxed, Relaxed, |left| left.checked_sub(1))
            .is_err()
    }

    /// A command on `resource` that skipped its reads met a conflict: the
    /// next ones read first.
    pub fn stale_on(&self, resource: &str) {
        self.read_first[stripe_of(resource)].store(READ_FIRST_FOR, Relaxed);
    }
}

impl Engine {
    /// Commits `txn`, then knows what it wrote to ledgers and holds. Every
    /// commit of the engine goes through here, so a known record is never
    /// older than this engine's own last write of it.
    ///
    /// In an attempt that holds a hot-resource turn the commit is answered
    /// once applied, and the attempt's retry loop waits for it to be
    /// durable after giving the turn back (ADR 020).
    pub(crate) async fn commit(&self, txn: Txn) -> Result<Committed> {
        let written = txn.ledger_and_hold_writes();
        let committed = if super::txn::may_commit_applied() {
            let (committed, durable) = self.storage.commit_applied(txn.into_batch()).await?;
            if let Some(durable) = super::txn::wait_after_turn(durable) {
                durable.wait().await?;
            }
            committed
        } else {
            self.storage.commit(txn.into_batch()).await?
        };
        self.known.learn_commit(written, committed.version);
        Ok(committed)
    }

    /// Runs a command's `attempt` on what this engine knows first — given
    /// the catalog as last loaded, it reads neither the catalog's epoch
    /// nor the command's idempotency record, and takes ledgers and holds
    /// from [`KnownRecords`] — then, if that did not succeed, once more
    /// reading everything (given `None`).
    ///
    /// The first try must pin the view's epoch, expect the idempotency
    /// record absent, and pin every known record it used, so that it can
    /// only succeed where reading first would have decided the same. Any
    /// error of it but a storage error other than a conflict (a replayed
    /// key, a stale record that made a hold look unavailable or a hold
    /// look resolved) sends the command to the second try, which answers
    /// as before. Without a `resource` to judge staleness by, or while
    /// another engine writes it, only the second try runs.
    pub(crate) async fn known_first<T, F, Fut>(
        &self,
        resource: Option<&str>,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut(Option<Arc<CatalogView>>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let (Some(resource), Some(view)) = (resource, self.last_catalog())
            && self.known.may_skip_reads(resource)
        {
            match attempt(Some(view)).await {
                Err(Error::Storage(StorageError::Conflict { .. })) => {
                    self.known.stale_on(resource);
                }
                Err(Error::Storage(e)) => return Err(Error::Storage(e)),
                Err(_) => {}
                done => return done,
            }
        }
        attempt(None).await
    }

    /// The records at `keys`: the known ones if `known` and every one is
    /// known, otherwise read (and then known).
    pub(crate) async fn known_or_read(
        &self,
        keys: &[Key],
        known: bool,
    ) -> Result<Vec<Option<Record>>> {
        if known && let Some(records) = self.known.all(keys) {
            return Ok(records);
        }
        let records = self.storage.get(keys).await?;
        self.known.learn_read(keys, &records);
        Ok(records)
    }
}

fn insert(records: &mut HashMap<Key, Option<Record>>, key: Key, record: Option<Record>) {
    if records.len() >= CAPACITY && !records.contains_key(&key) {
        records.clear();
    }
    records.insert(key, record);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, value: &[u8], version: u64) -> Record {
        Record {
            key: key.into(),
            value: value.to_vec(),
            version: Version(version),
        }
    }

    #[test]
    fn only_ledgers_and_holds_are_kept_and_each_under_its_version() {
        let known = KnownRecords::default();
        let keys: Vec<Key> = vec!["nt/2026-07-02/double".into(), "idem/k".into()];
        known.learn_read(
            &keys,
            &[
                Some(record("nt/2026-07-02/double", b"1;0;", 4)),
                Some(record("idem/k", b"{}", 4)),
            ],
        );
        assert_eq!(known.all(&keys), None, "idempotency records are not kept");
        assert_eq!(
            known.all(&keys[..1]),
            Some(vec![Some(record("nt/2026-07-02/double", b"1;0;", 4))])
        );
        known.learn_commit(
            vec![
                ("nt/2026-07-02/double".into(), Some(b"2;0;".to_vec())),
                ("hold/h1".into(), None),
                ("idem/k".into(), Some(b"{}".to_vec())),
            ],
            Version(9),
        );
        let keys: Vec<Key> = vec!["hold/h1".into(), "nt/2026-07-02/double".into()];
        assert_eq!(
            known.all(&keys),
            Some(vec![None, Some(record("nt/2026-07-02/double", b"2;0;", 9))])
        );
        assert_eq!(known.all(&["idem/k".to_owned()]), None);
    }

    /// At capacity, a record already known is updated in place and a new
    /// one starts the map over: it never grows past its capacity.
    #[test]
    fn records_are_kept_up_to_the_capacity_then_started_over() {
        let mut records = HashMap::new();
        for n in 0..CAPACITY {
            insert(&mut records, format!("nt/{n}"), None);
        }
        let update = record("nt/7", b"1;0;", 2);
        insert(&mut records, "nt/7".into(), Some(update.clone()));
        assert_eq!(records.len(), CAPACITY);
        assert_eq!(records["nt/7"], Some(update));
        insert(&mut records, "nt/new".into(), None);
        assert_eq!(records.len(), 1);
        assert!(records.contains_key("nt/new"));
    }

    #[test]
    fn a_stale_resource_reads_first_for_a_while_then_skips_again() {
        let known = KnownRecords::default();
        assert!(known.may_skip_reads("double"));
        known.stale_on("double");
        for _ in 0..READ_FIRST_FOR {
            assert!(!known.may_skip_reads("double"));
        }
        assert!(known.may_skip_reads("double"));
    }
}
