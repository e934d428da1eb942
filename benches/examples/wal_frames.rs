//! Counts the SQLite write-ahead-log frames (pages) each commit of a
//! durable hold + confirm writes: the bytes a `synchronous=FULL` commit
//! writes and syncs, and so much of its cost (ADRs 016 and 017).
//!
//! ```text
//! cargo run --release -p reservo-benches --example wal_frames
//! ```
//!
//! Books 300 warm-up stays of the `durable` bench's shape (one resource,
//! two nights) so that the file's B-tree has its working shape, empties
//! the log, books 20 more, then reads the log: frames and bytes of each
//! hold and each confirmation, and the kinds of page the last booking
//! wrote.

use std::collections::BTreeMap;
use std::sync::Arc;

use reservo::engine::Engine;
use reservo::store::SqliteStore;
use reservo_benches::{durable_confirm, durable_hold, durable_hotel};

const WARM_UP: u64 = 300;
const MEASURED: u64 = 20;

async fn book(engine: &Engine, n: u64) {
    let hold = durable_hold("room", format!("wal-{n}-hold"));
    let hold = engine.hold(&hold).await.unwrap();
    let confirm = durable_confirm(hold.id, format!("wal-{n}-confirm"));
    engine.confirm(&confirm).await.unwrap();
}

/// The kind of a page as its first byte (after the file header on page 1)
/// says; overflow and free-list pages have no such byte.
fn kind(page: u32, body: &[u8]) -> &'static str {
    let header = if page == 1 { &body[100..] } else { body };
    match header[0] {
        0x0a => "index leaf (record keys)",
        0x02 => "index interior (record keys)",
        0x0d => "table leaf (records, outbox, counter, schema)",
        0x05 => "table interior (records, outbox)",
        _ => "overflow or free list",
    }
}

/// Each commit in the log at `wal`: every page it wrote, with its kind.
fn commits(wal: &[u8], page_size: usize) -> Vec<Vec<(u32, &'static str)>> {
    let (mut all, mut current) = (Vec::new(), Vec::new());
    let mut at = 32; // the log's header
    while at + 24 + page_size <= wal.len() {
        let page = u32::from_be_bytes(wal[at..at + 4].try_into().unwrap());
        let size_after_commit = u32::from_be_bytes(wal[at + 4..at + 8].try_into().unwrap());
        current.push((page, kind(page, &wal[at + 24..at + 24 + page_size])));
        if size_after_commit != 0 {
            all.push(std::mem::take(&mut current));
        }
        at += 24 + page_size;
    }
    all
}

fn main() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("frames.sqlite");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(&path).expect("a new store"));
        let engine = durable_hotel(store, ["room".to_owned()], 10_000_000).await;
        for n in 0..WARM_UP {
            book(&engine, n).await;
        }
        let probe = rusqlite::Connection::open(&path).unwrap();
        let page_size: usize = probe
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        probe
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        for n in WARM_UP..WARM_UP + MEASURED {
            book(&engine, n).await;
        }
        let wal = std::fs::read(path.with_extension("sqlite-wal")).unwrap();
        let commits = commits(&wal, page_size);
        assert_eq!(
            commits.len() as u64,
            2 * MEASURED,
            "a hold and a confirmation a booking"
        );
        let frames = |first: usize| -> f64 {
            let n: usize = commits.iter().skip(first).step_by(2).map(Vec::len).sum();
            n as f64 / MEASURED as f64
        };
        let (hold, confirm) = (frames(0), frames(1));
        println!("page size {page_size} bytes");
        println!("hold commit:         {hold:5.1} frames");
        println!("confirmation commit: {confirm:5.1} frames");
        let kib = (hold + confirm) * (page_size + 24) as f64 / 1024.0;
        println!(
            "a booking:           {:5.1} frames, {kib:.0} KiB of log",
            hold + confirm
        );
        let mut last = BTreeMap::<&str, usize>::new();
        for (_, kind) in commits[commits.len() - 2..].iter().flatten() {
            *last.entry(kind).or_default() += 1;
        }
        println!("the last booking's pages: {last:?}");
        // Which table or index each page of the last booking belongs to
        // now (the `dbstat` table of SQLite's bundled build).
        let owners: BTreeMap<u32, String> = probe
            .prepare("SELECT pageno, name || ' ' || pagetype FROM dbstat")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (label, commit) in ["hold", "confirmation"]
            .iter()
            .zip(&commits[commits.len() - 2..])
        {
            let pages: Vec<String> = commit
                .iter()
                .map(|(page, _)| format!("{page} {}", owners.get(page).map_or("?", String::as_str)))
                .collect();
            println!("last {label}: {}", pages.join(", "));
        }
    });
}
