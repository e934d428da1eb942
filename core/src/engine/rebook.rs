//! Moving a booking's booked units: release on cancellation, swap on
//! modification.
//!
//! Owns one pass over the ledgers a change touches, releasing some booked
//! units and booking others, with every ledger pinned at the version read,
//! so the old inventory goes and the new arrives in one commit or not at
//! all. Must never book past what is available: units released on a ledger
//! by the same change count as available to it (moving a stay by a night
//! keeps the shared nights).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::error::Result;

use super::Engine;
use super::availability::ledger_of;
use super::hold::ItemNeeds;
use super::txn::Txn;

impl Engine {
    /// Writes into `txn` the ledgers with `release` booked units (per
    /// ledger key) given back and the units of `take` booked.
    ///
    /// Errors: `UNAVAILABLE` if a ledger cannot take what is asked.
    pub(crate) async fn move_booked(
        &self,
        txn: &mut Txn,
        release: &BTreeMap<String, u32>,
        take: &ItemNeeds<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let keys: Vec<String> = release
            .keys()
            .chain(take.keys())
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let records = self.storage.get(&keys).await?;
        for (key, record) in keys.iter().zip(&records) {
            let mut ledger = ledger_of(record.as_ref(), key)?;
            let released = release.get(key).copied().unwrap_or(0).min(ledger.booked);
            if let Some((need, resource)) = take.get(key) {
                need.ensure_fits(resource, need.left(&ledger, now) + released)?;
                ledger.booked += need.units;
            }
            ledger.booked -= released;
            ledger.prune(now);
            txn.expect_read(key, record.as_ref());
            txn.put_raw(key, ledger.encode());
        }
        Ok(())
    }
}
