//! The SQLite catalog: one database file in the library folder.
//!
//! ```text
//! LIBRARY/
//!   library.db        SQLite (WAL): rooms, speakers, segments (with their words' times), outputs,
//!                     FTS5 index
//!   rooms/<id>/       sessions recorded or imported into the library
//! ```
//!
//! Searches go on (WAL) while a room is being indexed; writers wait for each other (busy timeout)
//! instead of failing. The schema is versioned (`schema`) and upgraded in place on opening.

mod index;
mod jobs;
mod rooms;
pub mod schema;
mod search;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::jobs::{Claim, Job, JobState, NewJob, QueueCounts};
use super::{Access, Catalog, Hit, IndexReport, LibraryError, Output, Result, RoomSummary, SearchQuery};
use crate::library::ROOMS_DIR;
use crate::session::Session;
use crate::transcript::TranscriptDoc;

/// The packed word timings, shared with the PostgreSQL catalog (same JSON).
pub use search::RANKED_MATCHES;

pub const DB_FILE: &str = "library.db";

pub struct SqliteCatalog {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Connection,
}

/// Entries a folder may already hold and still become a library: the user data folder keeps the
/// models beside it.
const KNOWN_ENTRIES: &[&str] =
    &["models", ROOMS_DIR, DB_FILE, "library.db-wal", "library.db-shm", "library.db-journal"];

/// The file `is_writable` makes for a moment: another process may be probing the same folder.
const WRITE_PROBE: &str = ".roomcast-write-test-";

impl SqliteCatalog {
    pub fn open(dir: &Path, access: Access) -> Result<SqliteCatalog> {
        // Two processes opening a new library at once race to create it and switch it to WAL;
        // SQLite answers some of those races with "database is locked" without waiting (its busy
        // handler is skipped where waiting could deadlock). Opening again after a moment settles it.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match Self::open_once(dir, access) {
                Err(LibraryError::Storage { source, .. })
                    if source.downcast_ref().is_some_and(is_busy) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20 + u64::from(std::process::id() % 30)));
                }
                result => return result,
            }
        }
    }

    fn open_once(dir: &Path, access: Access) -> Result<SqliteCatalog> {
        let db_path = dir.join(DB_FILE);
        let io = |source| LibraryError::Io { path: dir.to_path_buf(), source };
        if !db_path.exists() {
            // One look at the path: another process may create the folder between two looks.
            match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => {
                    for entry in std::fs::read_dir(dir).map_err(io)? {
                        let name = entry.map_err(io)?.file_name();
                        let probe = name.to_string_lossy().starts_with(WRITE_PROBE);
                        if !probe && !KNOWN_ENTRIES.iter().any(|k| name == *k) {
                            return Err(not_a_library(dir, Some(&name.to_string_lossy())));
                        }
                    }
                }
                Ok(_) => return Err(not_a_library(dir, None)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
            std::fs::create_dir_all(dir).map_err(|e| {
                if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem
                    || e.kind() == std::io::ErrorKind::PermissionDenied
                {
                    LibraryError::ReadOnly(dir.to_path_buf())
                } else {
                    io(e)
                }
            })?;
        }
        let db = |source| storage(&db_path, source);
        let writable = is_writable(dir);
        if !writable && access == Access::Write {
            return Err(LibraryError::ReadOnly(dir.to_path_buf()));
        }
        let conn = if writable {
            Connection::open_with_flags(
                &db_path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| classify(&db_path, e))?
        } else {
            open_read_only(&db_path)?
        };
        // Two publishes at once wait for each other instead of failing with "database is locked".
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        // One statement, one snapshot: read separately, another process's first migration could
        // commit in between and make a new library look like someone else's database.
        let (app, version, tables): (i32, i64, i64) = conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id()),
                        (SELECT user_version FROM pragma_user_version()),
                        (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| classify(&db_path, e))?;
        if app != schema::APPLICATION_ID && !(app == 0 && version == 0 && tables == 0) {
            return Err(LibraryError::ForeignDatabase(db_path));
        }
        if version > schema::VERSION {
            return Err(LibraryError::TooNew { path: db_path, found: version, known: schema::VERSION });
        }
        let read_only = conn.is_readonly(rusqlite::MAIN_DB).map_err(db)?;
        if read_only && (access == Access::Write || version < schema::VERSION) {
            return Err(LibraryError::ReadOnly(dir.to_path_buf()));
        }
        conn.pragma_update(None, "foreign_keys", true).map_err(db)?;
        // Searches read the index's pages at random: map the file and keep a larger page cache.
        conn.pragma_update(None, "mmap_size", 1i64 << 30).map_err(db)?;
        conn.pragma_update(None, "cache_size", -65_536).map_err(db)?;
        let mut library = SqliteCatalog { dir: dir.to_path_buf(), db_path, conn };
        if !read_only {
            library.conn.pragma_update(None, "journal_mode", "wal").map_err(|e| classify(&library.db_path, e))?;
            library.migrate(version)?;
        }
        Ok(library)
    }

    /// Runs the migrations a database at `from` lacks, all in one transaction.
    fn migrate(&mut self, from: i64) -> Result<()> {
        if from >= schema::VERSION {
            return Ok(());
        }
        let path = self.db_path.clone();
        let db = |source| storage(&path, source);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db)?;
        // Another process may have upgraded it while this one waited for the lock.
        let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db)?;
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(now.max(0) as usize) {
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(db)?;
        }
        tx.pragma_update(None, "application_id", schema::APPLICATION_ID).map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| self.db_err(e))
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    fn db_err(&self, source: rusqlite::Error) -> LibraryError {
        classify(&self.db_path, source)
    }
}

/// How long a writer waits for another (two publishes at once) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// Whether files can be made in `dir` (permissions alone do not say: root ignores them, and a
/// read-only mount refuses everyone).
fn is_writable(dir: &Path) -> bool {
    let probe = dir.join(format!("{WRITE_PROBE}{}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(e) => e.kind() == std::io::ErrorKind::AlreadyExists,
    }
}

/// Opens a library this process cannot write. Another user may be writing it, so a plain read-only
/// open comes first (it sees their commits). Only when that fails, because WAL needs its -shm file
/// beside the database even to read and read-only media refuse to make one, is the file opened
/// immutable: on such media nobody can be writing it.
fn open_read_only(db_path: &Path) -> Result<Connection> {
    let plain =
        Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .and_then(|c| c.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)).map(|_| c));
    match plain {
        Ok(c) => Ok(c),
        Err(_) => Connection::open_with_flags(
            immutable_uri(db_path),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(db_path, e)),
    }
}

/// `file:` URI for SQLite with `immutable=1`; characters with a meaning in URIs are escaped.
fn immutable_uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("?immutable=1");
    out
}

/// SQLite's errors in the user's terms where there are some.
fn classify(path: &Path, source: rusqlite::Error) -> LibraryError {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => LibraryError::ForeignDatabase(path.to_path_buf()),
        Some(ErrorCode::ReadOnly) => {
            LibraryError::ReadOnly(path.parent().map_or_else(|| path.to_path_buf(), Path::to_path_buf))
        }
        _ => storage(path, source),
    }
}

fn storage(path: &Path, source: rusqlite::Error) -> LibraryError {
    LibraryError::Storage { path: path.to_path_buf(), source: Box::new(source) }
}

/// `found`: a file the folder holds that a library never does.
fn not_a_library(dir: &Path, found: Option<&str>) -> LibraryError {
    let reason = match found {
        Some(name) => format!("it holds other files ({name}) and no {DB_FILE}"),
        None => "it is not a folder".to_string(),
    };
    LibraryError::NotALibrary { path: dir.to_path_buf(), reason }
}

/// The trait's operations are the inherent ones of `index`, `rooms` and `search` (inherent
/// functions win over the trait's of the same name in these paths).
impl Catalog for SqliteCatalog {
    fn dir(&self) -> &Path {
        &self.dir
    }

    fn index_room(
        &mut self,
        session: &Session,
        transcript: Option<&TranscriptDoc>,
        outputs: &[Output],
    ) -> Result<IndexReport> {
        SqliteCatalog::index_room(self, session, transcript, outputs)
    }

    fn remove_room(&mut self, id: &str) -> Result<PathBuf> {
        SqliteCatalog::remove_room(self, id)
    }

    fn set_private(&mut self, id: &str, private: bool) -> Result<()> {
        SqliteCatalog::set_private(self, id, private)
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        SqliteCatalog::setting(self, key)
    }

    fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        SqliteCatalog::set_setting(self, key, value)
    }

    fn rooms(&self, include_private: bool) -> Result<Vec<RoomSummary>> {
        SqliteCatalog::rooms(self, include_private)
    }

    fn room(&self, id: &str) -> Result<RoomSummary> {
        SqliteCatalog::room(self, id)
    }

    fn find_room(&self, key: &str, include_private: bool) -> Result<RoomSummary> {
        SqliteCatalog::find_room(self, key, include_private)
    }

    fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        SqliteCatalog::search(self, query)
    }

    fn enqueue(&mut self, job: &NewJob) -> Result<(Job, bool)> {
        SqliteCatalog::enqueue(self, job)
    }

    fn claim(&mut self, worker: &str, lease: std::time::Duration) -> Result<Option<Claim>> {
        SqliteCatalog::claim(self, worker, lease)
    }

    fn renew(&mut self, claim: &Claim, step: Option<&str>) -> Result<bool> {
        SqliteCatalog::renew(self, claim, step)
    }

    fn finish(&mut self, claim: &Claim, error: Option<&str>) -> Result<Option<JobState>> {
        SqliteCatalog::finish(self, claim, error)
    }

    fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        SqliteCatalog::jobs(self, limit)
    }

    fn queue_counts(&self) -> Result<QueueCounts> {
        SqliteCatalog::queue_counts(self)
    }
}
