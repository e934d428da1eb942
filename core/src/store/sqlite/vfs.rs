//! `reservo-wal`: the platform's own SQLite VFS with one change — a
//! transaction's log frames reach the write-ahead log in one `write`
//! instead of two per page (ADR 019).
//!
//! SQLite writes each frame of the log as two calls: its 24-byte header,
//! then its page. A booking's two commits write ~24 frames, so ~48
//! `pwrite`s, ~45 µs of system calls on this project's 2-core VM — as much
//! as the rest of the plain-SQL booking it is compared with. This VFS
//! wraps every file the default VFS opens and delegates every call, except
//! that the log file gathers a run of consecutive frame writes in memory
//! and writes them as one.
//!
//! # Why nobody can see a frame before it is written
//!
//! A frame only counts once the log index (the `-shm` file) says so, and
//! SQLite updates the index after writing the frames. The gathered writes
//! are flushed:
//!
//! * when the **commit frame** (a frame header whose "database size after
//!   commit" field is not zero) has been gathered with its page: inside
//!   that `write`, so an error reaches SQLite as the commit's own error,
//!   before any sync and before the index is updated;
//! * before **any other call** on the log file (a read, sync, size,
//!   truncate, close, a write somewhere else such as a page overwritten in
//!   place or a checksum rewritten): the file never looks different from
//!   what SQLite wrote to anyone who asks through it;
//! * before the connection **releases the log's write lock** (a
//!   `xShmLock` unlocking lock 0 on the database file): the frames of a
//!   transaction that spilled pages and then rolled back are written (they
//!   lie past the committed end, where nobody looks) before another writer
//!   may reuse their place in the log.
//!
//! Only a run that starts with a header that is not a commit header is
//! gathered; anything else is written straight through. A run longer than
//! the default VFS writes in one call ([`MAX_WRITE`], under 128 KiB) goes
//! out in several consecutive writes.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr::{self, null_mut};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use rusqlite::ffi;

/// The name the VFS is registered under.
pub(super) const NAME: &CStr = c"reservo-wal";

/// Bytes of a log frame's header (`WAL_FRAME_HDRSIZE`).
const FRAME_HEADER: usize = 24;
/// Gathered bytes that are written even before a commit frame: a large
/// transaction's frames go out in runs of about this size.
const MAX_GATHERED: usize = 1 << 20;
/// The most bytes handed to the default VFS in one write. SQLite's unix
/// VFS never writes more than a page at once and cuts every write to its
/// low 17 bits (`nBuf &= 0x1ffff` in `seekAndWriteFd`): a longer write
/// comes back short and fails as `SQLITE_FULL`. So a gathered run goes out
/// in writes below 128 KiB.
const MAX_WRITE: usize = 120 << 10;

/// Registers the VFS with SQLite once per process and answers its name.
///
/// # Errors
///
/// SQLite's message if it has no default VFS or refuses the registration.
pub(super) fn register() -> Result<&'static CStr, String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    // SAFETY: runs once; `register_once` upholds SQLite's VFS contract.
    REGISTERED
        .get_or_init(|| unsafe { register_once() })
        .clone()
        .map(|()| NAME)
}

/// The default VFS every call is delegated to, as an address (`Send`).
static DEFAULT: OnceLock<usize> = OnceLock::new();

fn default_vfs() -> *mut ffi::sqlite3_vfs {
    *DEFAULT.get().expect("the VFS is registered before use") as *mut ffi::sqlite3_vfs
}

unsafe fn register_once() -> Result<(), String> {
    // SAFETY: SQLite initializes itself in `sqlite3_vfs_find`; the copy of
    // the default VFS keeps its `pAppData`, which its own methods read.
    unsafe {
        let default = ffi::sqlite3_vfs_find(ptr::null());
        if default.is_null() {
            return Err("SQLite has no default VFS".to_owned());
        }
        DEFAULT.get_or_init(|| default as usize);
        let mut vfs = *default;
        vfs.pNext = null_mut();
        vfs.zName = NAME.as_ptr();
        vfs.szOsFile = c_int::try_from(size_of::<File>()).expect("a small struct");
        vfs.xOpen = Some(x_open);
        let rc = ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 0);
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(format!("SQLite refused the {NAME:?} VFS (code {rc})"))
        }
    }
}

/// The file SQLite sees: its methods table, then the default VFS's file.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    inner: *mut ffi::sqlite3_file,
    kind: Kind,
}

enum Kind {
    /// A main database file: its write-lock release flushes its logs.
    Db(Arc<Group>),
    /// A write-ahead log; its `inner` is only used under this lock.
    Log(Arc<Mutex<Log>>, Arc<Group>),
    /// Anything else (journals, temporary files): delegated as is.
    Other,
}

/// The group of each log path with files open in this process; entries
/// whose files are all closed are dropped when a group is made.
static GROUPS: OnceLock<Mutex<HashMap<String, Weak<Group>>>> = OnceLock::new();

/// The log files open on one database path in this process.
#[derive(Default)]
struct Group {
    logs: Mutex<Vec<Arc<Mutex<Log>>>>,
}

impl Group {
    /// The group of the log at `log_path`, shared by every file on it.
    fn of(log_path: String) -> Arc<Group> {
        let mut groups = lock(GROUPS.get_or_init(Mutex::default));
        if let Some(group) = groups.get(&log_path).and_then(Weak::upgrade) {
            return group;
        }
        groups.retain(|_, group| group.strong_count() > 0);
        let group = Arc::new(Group::default());
        groups.insert(log_path, Arc::downgrade(&group));
        group
    }

    /// Writes whatever any log of the group has gathered. Errors are
    /// dropped: only frames of a transaction that did not commit can be
    /// gathered here, and they are not needed.
    fn flush_all(&self) {
        for log in lock(&self.logs).iter() {
            let _ = lock(log).flush();
        }
    }
}

/// A log file and the consecutive writes gathered for it.
struct Log {
    inner: *mut ffi::sqlite3_file,
    /// Bytes for the file from offset `start` on.
    gathered: Vec<u8>,
    start: i64,
    /// The last gathered write was a commit frame's header: its page is
    /// next, and then everything goes out.
    commit_next: bool,
}

// SAFETY: `inner` is only used while the `Mutex<Log>` is held.
unsafe impl Send for Log {}

impl Log {
    /// Writes `data` at `offset` through the default VFS, in calls of at
    /// most [`MAX_WRITE`] bytes.
    fn write_through(&self, data: &[u8], offset: i64) -> c_int {
        let mut at = offset;
        for chunk in data.chunks(MAX_WRITE) {
            #[cfg(test)]
            tests::LOG_WRITES.with(|writes| writes.set(writes.get() + 1));
            let amount = c_int::try_from(chunk.len()).expect("a chunk fits a c_int");
            // SAFETY: `inner` is an open file of the default VFS.
            let rc = unsafe {
                let write = (*(*self.inner).pMethods).xWrite.expect("every VFS writes");
                write(self.inner, chunk.as_ptr().cast(), amount, at)
            };
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            at += i64::try_from(chunk.len()).expect("a small chunk");
        }
        ffi::SQLITE_OK
    }

    /// Writes what was gathered, and forgets it even if the write fails.
    fn flush(&mut self) -> c_int {
        self.commit_next = false;
        if self.gathered.is_empty() || self.inner.is_null() {
            return ffi::SQLITE_OK;
        }
        let rc = self.write_through(&self.gathered, self.start);
        self.gathered.clear();
        rc
    }

    fn write(&mut self, data: &[u8], offset: i64) -> c_int {
        let end = self.start + i64::try_from(self.gathered.len()).expect("a small buffer");
        if !self.gathered.is_empty() && offset != end {
            let rc = self.flush();
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        let header = data.len() == FRAME_HEADER;
        let commit_header = header && data[4..8] != [0; 4];
        if self.gathered.is_empty() {
            if !header || commit_header {
                return self.write_through(data, offset);
            }
            self.start = offset;
        }
        self.gathered.extend_from_slice(data);
        if self.commit_next || self.gathered.len() >= MAX_GATHERED {
            return self.flush();
        }
        self.commit_next = commit_header;
        ffi::SQLITE_OK
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite hands over `szOsFile` bytes at `file`; on failure its
    // methods must stay null so that it never calls `xClose`.
    unsafe {
        let file = file.cast::<File>();
        (*file).base.pMethods = ptr::null();
        let default = default_vfs();
        let inner = alloc_zeroed(inner_layout()).cast::<ffi::sqlite3_file>();
        if inner.is_null() {
            return ffi::SQLITE_NOMEM;
        }
        let open = (*default).xOpen.expect("every VFS opens files");
        let rc = open(default, name, inner, flags, out_flags);
        if rc != ffi::SQLITE_OK || (*inner).pMethods.is_null() {
            dealloc(inner.cast(), inner_layout());
            return if rc == ffi::SQLITE_OK {
                ffi::SQLITE_CANTOPEN
            } else {
                rc
            };
        }
        let path = (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned());
        let kind = match path {
            Some(path) if flags & ffi::SQLITE_OPEN_WAL != 0 => {
                let group = Group::of(path);
                let log = Arc::new(Mutex::new(Log {
                    inner,
                    gathered: Vec::new(),
                    start: 0,
                    commit_next: false,
                }));
                lock(&group.logs).push(Arc::clone(&log));
                Kind::Log(log, group)
            }
            Some(path) if flags & ffi::SQLITE_OPEN_MAIN_DB != 0 => {
                Kind::Db(Group::of(format!("{path}-wal")))
            }
            _ => Kind::Other,
        };
        ptr::write(&raw mut (*file).inner, inner);
        ptr::write(&raw mut (*file).kind, kind);
        (*file).base.pMethods = &METHODS;
        ffi::SQLITE_OK
    }
}

/// The layout of the default VFS's file inside ours.
fn inner_layout() -> Layout {
    // SAFETY: the default VFS outlives the process.
    let size = unsafe { (*default_vfs()).szOsFile };
    let size = usize::try_from(size).expect("a positive size");
    Layout::from_size_align(size.max(1), 16).expect("a valid layout")
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

/// Runs `call` on the default VFS's file of `file` and its methods; for a
/// log, under its lock and after writing what it gathered.
unsafe fn delegate(
    file: *mut ffi::sqlite3_file,
    call: impl FnOnce(*mut ffi::sqlite3_file, &ffi::sqlite3_io_methods) -> c_int,
) -> c_int {
    // SAFETY: `file` was opened by `x_open`, so it is a `File` whose
    // `inner` is open.
    unsafe {
        let file = &*file.cast::<File>();
        let methods = &*(*file.inner).pMethods;
        match &file.kind {
            Kind::Log(log, _) => {
                let mut log = lock(log);
                let rc = log.flush();
                if rc != ffi::SQLITE_OK {
                    return rc;
                }
                call(log.inner, methods)
            }
            Kind::Db(_) | Kind::Other => call(file.inner, methods),
        }
    }
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes each file once and never uses it afterwards.
    unsafe {
        let this = file.cast::<File>();
        let methods = &*(*(*this).inner).pMethods;
        let close = methods.xClose.expect("every VFS closes");
        let rc = match &(*this).kind {
            Kind::Log(log, group) => {
                lock(&group.logs).retain(|other| !Arc::ptr_eq(other, log));
                let mut log = lock(log);
                let flushed = log.flush();
                let closed = close(log.inner);
                log.inner = null_mut();
                if flushed == ffi::SQLITE_OK {
                    closed
                } else {
                    flushed
                }
            }
            Kind::Db(_) | Kind::Other => close((*this).inner),
        };
        dealloc((*this).inner.cast(), inner_layout());
        ptr::drop_in_place(&raw mut (*this).kind);
        (*this).base.pMethods = ptr::null();
        rc
    }
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    n: c_int,
    at: i64,
) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xRead.expect("every VFS reads")(inner, buf, n, at)
        })
    }
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    n: c_int,
    at: i64,
) -> c_int {
    // SAFETY: SQLite passes `n` readable bytes at `buf`.
    unsafe {
        if let Kind::Log(log, _) = &(*file.cast::<File>()).kind {
            let data =
                std::slice::from_raw_parts(buf.cast::<u8>(), usize::try_from(n).unwrap_or(0));
            return lock(log).write(data, at);
        }
        delegate(file, |inner, m| {
            m.xWrite.expect("every VFS writes")(inner, buf, n, at)
        })
    }
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xTruncate.expect("every VFS truncates")(inner, size)
        })
    }
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xSync.expect("every VFS syncs")(inner, flags)
        })
    }
}

unsafe extern "C" fn x_file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xFileSize.expect("every VFS sizes")(inner, size)
        })
    }
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xLock.expect("every VFS locks")(inner, level)
        })
    }
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xUnlock.expect("every VFS unlocks")(inner, level)
        })
    }
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xCheckReservedLock.expect("every VFS checks locks")(inner, out)
        })
    }
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xFileControl.expect("every VFS has file controls")(inner, op, arg)
        })
    }
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    unsafe { delegate(file, |inner, m| m.xSectorSize.map_or(4096, |f| f(inner))) }
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        delegate(file, |inner, m| {
            m.xDeviceCharacteristics.map_or(0, |f| f(inner))
        })
    }
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    unsafe {
        delegate(file, |inner, m| match m.xShmMap {
            Some(f) if m.iVersion >= 2 => f(inner, page, size, extend, out),
            _ => ffi::SQLITE_IOERR_SHMMAP,
        })
    }
}

unsafe extern "C" fn x_shm_lock(
    file: *mut ffi::sqlite3_file,
    at: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: as in `delegate`.
    unsafe {
        if let Kind::Db(group) = &(*file.cast::<File>()).kind {
            // Lock 0 is the log's write lock: release it only once this
            // process has written every frame it gathered.
            if at == 0 && flags & ffi::SQLITE_SHM_UNLOCK != 0 {
                group.flush_all();
            }
        }
        delegate(file, |inner, m| match m.xShmLock {
            Some(f) if m.iVersion >= 2 => f(inner, at, n, flags),
            _ => ffi::SQLITE_IOERR_SHMLOCK,
        })
    }
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    unsafe {
        delegate(file, |inner, m| {
            if let Some(f) = m.xShmBarrier.filter(|_| m.iVersion >= 2) {
                f(inner);
            }
            ffi::SQLITE_OK
        });
    }
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    unsafe {
        delegate(file, |inner, m| match m.xShmUnmap {
            Some(f) if m.iVersion >= 2 => f(inner, delete),
            _ => ffi::SQLITE_OK,
        })
    }
}

unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    at: i64,
    n: c_int,
    out: *mut *mut c_void,
) -> c_int {
    unsafe {
        delegate(file, |inner, m| match m.xFetch {
            Some(f) if m.iVersion >= 3 => f(inner, at, n, out),
            _ => {
                *out = null_mut();
                ffi::SQLITE_OK
            }
        })
    }
}

unsafe extern "C" fn x_unfetch(file: *mut ffi::sqlite3_file, at: i64, p: *mut c_void) -> c_int {
    unsafe {
        delegate(file, |inner, m| match m.xUnfetch {
            Some(f) if m.iVersion >= 3 => f(inner, at, p),
            _ => ffi::SQLITE_OK,
        })
    }
}

#[cfg(test)]
mod tests;
