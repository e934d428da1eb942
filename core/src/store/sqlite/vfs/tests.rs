//! The log-gathering VFS against SQLite itself: fewer writes, and nothing
//! visible or overwritten that SQLite did not mean.

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, OpenFlags};

use super::{GROUPS, Group, MAX_WRITE, lock, register};
use crate::store::sqlite::tests::temp_file;

thread_local! {
    /// Writes this thread made to log files through the default VFS.
    pub(super) static LOG_WRITES: Cell<u64> = const { Cell::new(0) };
}

fn log_writes() -> u64 {
    LOG_WRITES.with(Cell::get)
}

/// A connection through the gathering VFS, in WAL mode with 2 KiB pages.
fn gathering(path: &Path) -> Connection {
    let conn = Connection::open_with_flags_and_vfs(
        path,
        OpenFlags::default(),
        register().expect("the VFS registers"),
    )
    .expect("open through the VFS");
    conn.execute_batch(
        "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
    )
    .unwrap();
    conn
}

fn log_size(path: &Path) -> u64 {
    let mut log = path.as_os_str().to_owned();
    log.push("-wal");
    std::fs::metadata(log).map_or(0, |m| m.len())
}

/// `n` bytes that tell which version wrote them and whether they are whole.
fn blob(version: u32, n: usize) -> Vec<u8> {
    (0..n).map(|i| (version as usize * 31 + i) as u8).collect()
}

fn is_blob(bytes: &[u8]) -> Option<u32> {
    let first = u32::from(*bytes.first()?);
    let version = (0..256).find(|v| (v * 31) % 256 == first)?;
    (bytes == blob(version, bytes.len()).as_slice()).then_some(version)
}

#[test]
fn a_commit_of_many_pages_reaches_the_log_in_one_write() {
    let (_dir, path) = temp_file();
    let conn = gathering(&path);
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
        .unwrap();
    let (size, writes) = (log_size(&path), log_writes());
    let tx = conn.unchecked_transaction().unwrap();
    for id in 0..40 {
        tx.execute("INSERT INTO t VALUES (?1, ?2)", (id, blob(1, 1000)))
            .unwrap();
    }
    tx.commit().unwrap();
    let frames = (log_size(&path) - size) / (2048 + 24);
    assert!(frames >= 20, "the commit wrote {frames} frames");
    // SQLite alone writes each frame's header and page apart: 2 a frame.
    assert_eq!(log_writes() - writes, 1, "{frames} frames");
}

#[test]
fn another_connection_reads_every_commit_whole() {
    let (_dir, path) = temp_file();
    let writer = gathering(&path);
    writer
        .execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB); INSERT INTO t VALUES (1, x'00');",
        )
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    // Through the default VFS, as another program reading the file would.
    let reader = {
        let (path, done) = (path.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            let conn = Connection::open(&path).unwrap();
            let mut seen = 0;
            while !done.load(Ordering::Relaxed) {
                let v: Vec<u8> = conn
                    .query_row("SELECT v FROM t WHERE id = 1", [], |row| row.get(0))
                    .expect("the reader reads a sound file");
                if v.len() > 1 {
                    let version = is_blob(&v).expect("a whole value, never a torn one");
                    assert!(version >= seen, "versions only move forward");
                    seen = version;
                }
            }
            seen
        })
    };
    for version in 1..=200 {
        writer
            .execute(
                "UPDATE t SET v = ?1 WHERE id = 1",
                [blob(version % 256, 6000)],
            )
            .unwrap();
        let v: Vec<u8> = Connection::open(&path)
            .unwrap()
            .query_row("SELECT v FROM t WHERE id = 1", [], |row| row.get(0))
            .unwrap();
        assert_eq!(
            is_blob(&v),
            Some(version % 256),
            "a fresh connection sees commit {version}"
        );
    }
    done.store(true, Ordering::Relaxed);
    reader.join().expect("the reader saw only whole values");
}

#[test]
fn a_rolled_back_transaction_that_spilled_overwrites_no_later_commit() {
    let (_dir, path) = temp_file();
    let first = gathering(&path);
    first
        .execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);
             PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size = 10;",
        )
        .unwrap();
    // New pages, more than the cache holds: SQLite writes (spills) frames
    // to the log before the end of the transaction, which then rolls back.
    // Nothing it reads back is in the log, so only the release of the
    // write lock makes the gathered frames go out.
    let tx = first.unchecked_transaction().unwrap();
    for id in 0..300 {
        tx.execute("INSERT INTO t VALUES (?1, ?2)", (id, blob(7, 500)))
            .unwrap();
    }
    let writes = log_writes();
    tx.rollback().unwrap();
    // Past the log's 32-byte header lie only the spilled frames: one run,
    // more than one write of the default VFS takes, so written whole in
    // as few writes as it allows.
    let run = log_size(&path) - 32;
    assert!(run > MAX_WRITE as u64, "the run is {run} bytes");
    assert_eq!(
        log_writes() - writes,
        run.div_ceil(MAX_WRITE as u64),
        "the spilled frames were gathered, and written before the write lock was released"
    );

    // Another writer reuses the place in the log the spilled frames took.
    let second = gathering(&path);
    second
        .execute("INSERT INTO t VALUES (1, ?1)", [blob(9, 3000)])
        .unwrap();
    // The first connection reads the log again and writes once more.
    let count: i64 = first
        .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 1);
    first
        .execute("INSERT INTO t VALUES (2, ?1)", [blob(11, 3000)])
        .unwrap();
    drop((first, second));

    let check = Connection::open(&path).unwrap();
    let integrity: String = check
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    for (id, version) in [(1, 9), (2, 11)] {
        let v: Vec<u8> = check
            .query_row("SELECT v FROM t WHERE id = ?1", [id], |row| row.get(0))
            .unwrap();
        assert_eq!(is_blob(&v), Some(version), "row {id}");
    }
}

/// A file of the default VFS's shape that records the writes it gets.
#[repr(C)]
struct Recorder {
    base: rusqlite::ffi::sqlite3_file,
    writes: Vec<(i64, Vec<u8>)>,
}

unsafe extern "C" fn record(
    file: *mut rusqlite::ffi::sqlite3_file,
    data: *const std::ffi::c_void,
    n: std::ffi::c_int,
    at: i64,
) -> std::ffi::c_int {
    // SAFETY: only `gathered_writes` passes this function a `Recorder`.
    unsafe {
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), n as usize);
        (*file.cast::<Recorder>()).writes.push((at, bytes.to_vec()));
    }
    rusqlite::ffi::SQLITE_OK
}

static RECORDING: rusqlite::ffi::sqlite3_io_methods = rusqlite::ffi::sqlite3_io_methods {
    iVersion: 1,
    xWrite: Some(record),
    xClose: None,
    xRead: None,
    xTruncate: None,
    xSync: None,
    xFileSize: None,
    xLock: None,
    xUnlock: None,
    xCheckReservedLock: None,
    xFileControl: None,
    xSectorSize: None,
    xDeviceCharacteristics: None,
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// What reaches the file for `calls` (offset, bytes) written to a log.
fn gathered_writes(calls: &[(i64, Vec<u8>)]) -> Vec<(i64, Vec<u8>)> {
    let mut recorder = Box::new(Recorder {
        base: rusqlite::ffi::sqlite3_file {
            pMethods: &raw const RECORDING,
        },
        writes: Vec::new(),
    });
    let mut log = super::Log {
        inner: (&raw mut *recorder).cast(),
        gathered: Vec::new(),
        start: 0,
        commit_next: false,
    };
    for (at, data) in calls {
        assert_eq!(log.write(data, *at), rusqlite::ffi::SQLITE_OK);
    }
    std::mem::take(&mut recorder.writes)
}

/// A frame header for page `page`; `commit` is the database size after a
/// commit frame, 0 in the others.
fn header(page: u8, commit: u8) -> Vec<u8> {
    let mut header = vec![0; 24];
    header[3] = page;
    header[7] = commit;
    header
}

#[test]
fn frames_are_gathered_up_to_the_commit_frame_and_written_with_it() {
    let page = |fill: u8| vec![fill; 2048];
    let frame = 24 + 2048_i64;
    let calls = vec![
        (32, header(2, 0)),
        (32 + 24, page(2)),
        (32 + frame, header(3, 0)),
        (32 + frame + 24, page(3)),
        (32 + 2 * frame, header(4, 9)),
        (32 + 2 * frame + 24, page(4)),
        // The next transaction's first frame waits for more.
        (32 + 3 * frame, header(5, 0)),
    ];
    let writes = gathered_writes(&calls);
    assert_eq!(writes.len(), 1, "one write for the whole commit");
    assert_eq!(writes[0].0, 32);
    let expected: Vec<u8> = calls[..6].iter().flat_map(|(_, d)| d.clone()).collect();
    assert_eq!(writes[0].1, expected);
}

#[test]
fn writes_that_start_no_run_go_straight_through() {
    let frame = 24 + 2048_i64;
    let writes = gathered_writes(&[
        // The log's own header, then a one-frame commit.
        (0, vec![1; 32]),
        (32, header(2, 1)),
        (56, vec![2; 2048]),
        // A gathered frame, then a page overwritten in place: the run is
        // written first, then the page.
        (32 + frame, header(3, 0)),
        (32 + frame + 24, vec![3; 2048]),
        (56, vec![4; 2048]),
    ]);
    let offsets: Vec<i64> = writes.iter().map(|(at, _)| *at).collect();
    assert_eq!(offsets, [0, 32, 56, 32 + frame, 56]);
    assert_eq!(writes[3].1.len(), 24 + 2048);
}

/// Every file on one log path shares its group while any is open, however
/// many other paths open in between; a path whose files all closed leaves
/// the table when the next group is made.
#[test]
fn files_on_one_path_share_a_group_and_closed_paths_leave_the_table() {
    let path = |name: &str| format!("/nonexistent/reservo-vfs-group-test/{name}-wal");
    let a = Group::of(path("a"));
    let b = Group::of(path("b"));
    assert!(
        Arc::ptr_eq(&a, &Group::of(path("a"))),
        "a's group, after b's"
    );
    assert!(!Arc::ptr_eq(&a, &b));
    drop(a);
    let _c = Group::of(path("c"));
    let groups = lock(GROUPS.get().expect("made above"));
    assert!(!groups.contains_key(&path("a")), "a has no file open");
    assert!(groups.contains_key(&path("b")) && groups.contains_key(&path("c")));
}
