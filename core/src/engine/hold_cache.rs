//! Holds this engine wrote, decoded, keyed by (hold, record version).
//!
//! Owns sparing a confirmation the decoding of the hold it confirms: the
//! engine that made a hold keeps it as written, and hands it out only for
//! the exact version it was written at. The record is still read (and its
//! version pinned in the commit) by every operation, so a hold changed by
//! anyone else — another engine, another process — is decoded afresh.
//! Must never serve a hold for any version but the one it was cached at.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::ids::{HoldId, ResourceId};
use crate::ports::Version;

use super::hold::Hold;

/// Holds kept at most; past that the cache starts over (holds that are
/// never confirmed would otherwise pile up).
const CAPACITY: usize = 4096;

/// Decoded holds by id, each with the version of the record it equals.
#[derive(Debug, Default)]
pub(crate) struct HoldCache {
    holds: Mutex<HashMap<HoldId, (Version, Hold)>>,
}

impl HoldCache {
    /// Remembers `hold` as the content of its record at `version`.
    pub fn put(&self, hold: &Hold, version: Version) {
        let mut holds = self.holds.lock().unwrap_or_else(PoisonError::into_inner);
        if holds.len() >= CAPACITY {
            holds.clear();
        }
        holds.insert(hold.id.clone(), (version, hold.clone()));
    }

    /// The resource of the first item of the cached hold `id`, if any:
    /// what confirming it will contend on.
    pub fn resource_of(&self, id: &HoldId) -> Option<ResourceId> {
        let holds = self.holds.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, hold) = holds.get(id)?;
        hold.items.first().map(|item| item.resource().clone())
    }

    /// The keys of the ledgers the cached hold `id` uses (none if it is
    /// not cached): what confirming it will read with the hold.
    pub fn ledger_keys_of(&self, id: &HoldId) -> Vec<String> {
        let holds = self.holds.lock().unwrap_or_else(PoisonError::into_inner);
        holds
            .get(id)
            .map(|(_, hold)| hold.ledger_keys())
            .unwrap_or_default()
    }

    /// Takes out the hold `id` if it was cached at exactly `version`.
    pub fn take(&self, id: &HoldId, version: Version) -> Option<Hold> {
        let mut holds = self.holds.lock().unwrap_or_else(PoisonError::into_inner);
        match holds.remove(id) {
            Some((cached, hold)) if cached == version => Some(hold),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HoldState;
    use crate::money::Money;
    use chrono::{TimeZone, Utc};

    fn hold(id: &str) -> Hold {
        let at = Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap();
        Hold {
            id: HoldId::new(id).unwrap(),
            items: Vec::new(),
            total: Money::parse("10.00", "EUR").unwrap(),
            created_at: at,
            expires_at: at,
            max_until: at,
            customer: None,
            metadata: crate::booking::Metadata::new(),
            state: HoldState::Active,
        }
    }

    #[test]
    fn a_hold_is_served_once_and_only_at_its_version() {
        let cache = HoldCache::default();
        let h = hold("h1");
        cache.put(&h, Version(7));
        assert_eq!(cache.take(&h.id, Version(8)), None);
        cache.put(&h, Version(7));
        assert_eq!(cache.take(&h.id, Version(7)), Some(h.clone()));
        assert_eq!(cache.take(&h.id, Version(7)), None);
    }

    /// Many holds are kept at once (each engine has many open), up to
    /// the capacity, where the cache starts over.
    #[test]
    fn the_cache_keeps_many_holds_and_starts_over_at_its_capacity() {
        let cache = HoldCache::default();
        let (a, b) = (hold("a"), hold("b"));
        cache.put(&a, Version(1));
        cache.put(&b, Version(1));
        assert_eq!(cache.take(&a.id, Version(1)), Some(a));
        let others: Vec<Hold> = (0..CAPACITY).map(|n| hold(&format!("h{n}"))).collect();
        for (n, other) in others.iter().enumerate() {
            cache.put(other, Version(1));
            let kept = cache.holds.lock().unwrap().len();
            // `b` and the first 4,095 fill it; the next put starts over.
            assert_eq!(kept, if n < CAPACITY - 1 { n + 2 } else { 1 });
        }
        assert_eq!(cache.take(&b.id, Version(1)), None);
        let last = &others[CAPACITY - 1];
        assert_eq!(cache.take(&last.id, Version(1)), Some(last.clone()));
    }
}
