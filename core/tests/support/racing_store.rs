//! A storage double that makes two commits race: once armed, the first two
//! commits that write a key with a given prefix wait for each other, so both
//! were decided on the same reads and one of them must conflict.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use reservo::ports::CommitBatch;

use crate::spy_store::{Hooks, Spy};

/// Hooks making the commits touching `prefix` race once armed.
pub struct Racing {
    prefix: &'static str,
    armed: AtomicBool,
    commits: AtomicUsize,
    barrier: tokio::sync::Barrier,
}

/// A [`reservo::store::MemoryStore`] whose commits touching a prefix race
/// once armed.
pub type RacingStore = Spy<Racing>;

impl Racing {
    /// Racing hooks for commits writing under `prefix`, not armed yet.
    pub fn on(prefix: &'static str) -> Racing {
        Racing {
            prefix,
            armed: AtomicBool::new(false),
            commits: AtomicUsize::new(0),
            barrier: tokio::sync::Barrier::new(2),
        }
    }

    /// From now on, the next two commits writing under the prefix wait for
    /// each other.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Commits writing under the prefix since the store was armed.
    pub fn raced_commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Hooks for Racing {
    async fn on_commit(&self, batch: &CommitBatch) {
        let touches = batch
            .mutations
            .iter()
            .any(|m| m.key().starts_with(self.prefix));
        if self.armed.load(Ordering::SeqCst)
            && touches
            && self.commits.fetch_add(1, Ordering::SeqCst) < 2
        {
            self.barrier.wait().await;
        }
    }
}
