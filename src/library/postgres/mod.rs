//! The PostgreSQL catalog: the library's rooms, speakers, segments, outputs and full-text index in a
//! PostgreSQL database, for when several machines share one library.
//!
//! `library::open` picks it when the library location is a PostgreSQL connection string, in either
//! form libpq reads (`conninfo`): a `postgres://` or `postgresql://` URI, or `keyword=value` pairs.
//! Files stay local: `dir()` is the user data folder (created when writing), and sessions recorded
//! into the library go to `$ROOMCAST_ROOMS_DIR`, else that folder's `rooms/`.
//!
//! One connection per catalog (the sync `postgres` client; `library::pool` keeps several for a
//! server), with TLS as the URL's `sslmode` asks (`connect`). A connection lost mid-way (the
//! server restarted or failed over, an administrator ended the session, a proxy dropped it) is
//! sought again for about 15 s and the operation redone once: every operation is a transaction, so
//! one that failed left nothing behind. The job queue lives here too (`jobs`).
//!
//! Every write is one transaction; searches and listings read one snapshot (repeatable read). The
//! schema is versioned (`schema`) and upgraded in place on opening.

mod connect;
pub mod conninfo;
mod jobs;
mod rooms;
pub mod schema;
mod search;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use postgres::Client;
use postgres::error::SqlState;

use super::jobs::{Claim, Job, JobState, NewJob, QueueCounts};
use super::{Access, Catalog, Hit, IndexReport, LibraryError, Output, Result, RoomSummary, SearchQuery};
use crate::session::Session;
use crate::transcript::TranscriptDoc;

pub use conninfo::{ConnInfo, ConnInfoError};
pub use search::{lexemes, tsquery};

/// Whether a library location names a PostgreSQL database rather than a folder (see
/// `conninfo::is_connection_string`).
pub fn is_connection_string(location: &Path) -> bool {
    location.to_str().is_some_and(conninfo::is_connection_string)
}

pub struct PostgresCatalog {
    /// The connection string with any password hidden: what errors name.
    name: PathBuf,
    dir: PathBuf,
    connector: connect::Connector,
    /// `Catalog`'s reads take `&self`; the client needs `&mut` for every statement. One caller at a
    /// time (the trait is `Send`, not `Sync`), so a `RefCell` is enough.
    client: RefCell<Client>,
}

impl PostgresCatalog {
    /// Opens the catalog in the database that connection string `conn` names, creating its tables
    /// when the database is new (holds no tables). Local files go under the user data folder.
    pub fn open(conn: &str, access: Access) -> Result<PostgresCatalog> {
        let dir = crate::dirs::user_data_dir().unwrap_or_else(|| PathBuf::from("roomcast-library"));
        Self::open_with_dir(conn, dir, access)
    }

    /// As `open`, with `dir` as the local folder (`dir()`).
    pub fn open_with_dir(conn: &str, dir: PathBuf, access: Access) -> Result<PostgresCatalog> {
        let name = PathBuf::from(conninfo::redact(conn));
        let unusable = |reason: String| LibraryError::BadConnectionString { name: name.clone(), reason };
        let info = ConnInfo::parse(conn).map_err(|e| unusable(e.to_string()))?;
        let connector = connect::Connector::new(&info).map_err(unusable)?;
        let client = match connector.connect() {
            // A server starting up or shutting down (a failover) answers "not now": wait for it as
            // for a lost connection. A server that is not there is said at once.
            Err(e) if is_lost(&e) => connect_again(&connector, &name, &classify(&name, e))?,
            result => result.map_err(|e| classify(&name, e))?,
        };
        let mut catalog = PostgresCatalog { name, dir, connector, client: RefCell::new(client) };
        catalog.migrate()?;
        if access == Access::Write {
            std::fs::create_dir_all(&catalog.dir)
                .map_err(|source| LibraryError::Io { path: catalog.dir.clone(), source })?;
        }
        Ok(catalog)
    }

    /// Checks that the database is a roomcast library (or empty) and not newer than this roomcast,
    /// then runs the migrations it lacks, all in one transaction.
    fn migrate(&mut self) -> Result<()> {
        let name = self.name.clone();
        let db = |e| classify(&name, e);
        let client = self.client.get_mut();
        // The common case, a library at this version, needs no lock: searches and listings open
        // the catalog often, and the lock would make them wait behind each other.
        let current = client
            .query_opt("SELECT version::bigint FROM schema_version WHERE application = $1", &[&schema::APPLICATION])
            // No such table (a new database): the locked path below finds out what it is.
            .ok()
            .flatten()
            .map(|r| r.get::<_, i64>(0));
        if current == Some(schema::VERSION) {
            return Ok(());
        }
        let mut tx = client.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::MIGRATION_LOCK]).map_err(db)?;
        let row = tx
            .query_one(
                "SELECT to_regclass('schema_version') IS NOT NULL,
                        (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
                           AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                           AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%')",
                &[],
            )
            .map_err(db)?;
        let (has_version, tables): (bool, i64) = (row.get(0), row.get(1));
        let version = if has_version {
            // Another application's table of the same name reads as not ours.
            let found = tx
                .query_opt("SELECT application::text, version::bigint FROM schema_version LIMIT 1", &[])
                .ok()
                .flatten()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)));
            match found {
                Some((app, version)) if app == schema::APPLICATION => version,
                _ => return Err(LibraryError::ForeignDatabase(self.name.clone())),
            }
        } else if tables > 0 {
            return Err(LibraryError::ForeignDatabase(self.name.clone()));
        } else {
            0
        };
        if version > schema::VERSION {
            return Err(LibraryError::TooNew { path: self.name.clone(), found: version, known: schema::VERSION });
        }
        if version == schema::VERSION {
            return tx.commit().map_err(db);
        }
        for sql in schema::MIGRATIONS.iter().skip(version.max(0) as usize) {
            tx.batch_execute(sql).map_err(db)?;
        }
        tx.execute("DELETE FROM schema_version", &[]).map_err(db)?;
        tx.execute(
            "INSERT INTO schema_version (application, version) VALUES ($1, $2)",
            &[&schema::APPLICATION, &(schema::VERSION as i32)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        let row = self
            .client
            .borrow_mut()
            .query_one("SELECT version::bigint FROM schema_version", &[])
            .map_err(|e| classify(&self.name, e))?;
        Ok(row.get(0))
    }

    /// The database's connection string, any password hidden.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Runs `op`; when it failed because the connection was lost, connects again and runs it once
    /// more. Every operation is one transaction, so the failed run left nothing behind.
    fn retrying<T>(&self, mut op: impl FnMut(&Self) -> Result<T>) -> Result<T> {
        match op(self) {
            Err(e) if was_lost(&e) || self.client.borrow().is_closed() => {
                self.reconnect(&e)?;
                op(self)
            }
            result => result,
        }
    }

    fn retrying_mut<T>(&mut self, mut op: impl FnMut(&mut Self) -> Result<T>) -> Result<T> {
        match op(self) {
            Err(e) if was_lost(&e) || self.client.get_mut().is_closed() => {
                self.reconnect(&e)?;
                op(self)
            }
            result => result,
        }
    }

    /// Connects again after `lost`, in place of the lost connection.
    fn reconnect(&self, lost: &LibraryError) -> Result<()> {
        *self.client.borrow_mut() = connect_again(&self.connector, &self.name, lost)?;
        Ok(())
    }
}

/// Connects again after `lost`, waiting a little longer before each try. When every try fails:
/// one line saying so, with the last reason.
fn connect_again(connector: &connect::Connector, name: &Path, lost: &LibraryError) -> Result<Client> {
    let mut last = String::new();
    for wait in connect::RECONNECT_WAITS_MS {
        std::thread::sleep(Duration::from_millis(*wait));
        match connector.connect() {
            Ok(client) => {
                tracing::warn!("{}: connection lost ({lost}); connected again", name.display());
                return Ok(client);
            }
            Err(e) => last = one_line(&describe(&e)),
        }
    }
    let secs = connect::RECONNECT_WAITS_MS.iter().sum::<u64>() as f64 / 1000.0;
    Err(LibraryError::Storage {
        path: name.to_path_buf(),
        source: format!(
            "lost the connection to PostgreSQL and could not connect again ({} tries over {secs:.0} s): {last}",
            connect::RECONNECT_WAITS_MS.len()
        )
        .into(),
    })
}

/// Whether `e` means the connection is gone, so that connecting again and redoing the operation
/// is the cure: the server ended the session (`pg_terminate_backend`, a shutdown: 57P01), crashed
/// (57P02) or cannot take connections yet (57P03, a standby being promoted); or the socket broke
/// or closed (the client then counts itself closed: `retrying` asks it too). The server's error
/// often arrives as the answer to the next statement, before the client has read that the socket
/// closed, so the code is what tells.
fn is_lost(e: &postgres::Error) -> bool {
    let ended = e.code().is_some_and(|c| {
        *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN || *c == SqlState::CANNOT_CONNECT_NOW
    });
    ended || e.is_closed()
}

/// Why a connection was lost: what `classify` puts in a `Storage` error for `retrying` to find.
#[derive(Debug)]
struct ConnectionLost(String);

impl std::fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectionLost {}

fn was_lost(e: &LibraryError) -> bool {
    matches!(e, LibraryError::Storage { source, .. } if source.is::<ConnectionLost>())
}

/// A message on one line: the server's details and hints come on lines of their own.
fn one_line(text: &str) -> String {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// An error and what caused it, each said once ("error performing TLS handshake: invalid peer
/// certificate: UnknownIssuer").
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// The server's errors in the user's terms where there are some; the rest as storage failures,
/// on one line.
fn classify(name: &Path, e: postgres::Error) -> LibraryError {
    if let Some(code) = e.code()
        && (*code == SqlState::READ_ONLY_SQL_TRANSACTION || *code == SqlState::INSUFFICIENT_PRIVILEGE)
    {
        return LibraryError::ReadOnly(name.to_path_buf());
    }
    let text = one_line(&describe(&e));
    let source: Box<dyn std::error::Error + Send + Sync> =
        if is_lost(&e) { Box::new(ConnectionLost(text)) } else { text.into() };
    LibraryError::Storage { path: name.to_path_buf(), source }
}

/// The server's own message where there is one, else the client's error and its causes.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {}", db.message()),
        None => with_causes(e),
    }
}

impl Catalog for PostgresCatalog {
    fn dir(&self) -> &Path {
        &self.dir
    }

    fn index_room(
        &mut self,
        session: &Session,
        transcript: Option<&TranscriptDoc>,
        outputs: &[Output],
    ) -> Result<IndexReport> {
        self.retrying_mut(|c| PostgresCatalog::index_room(c, session, transcript, outputs))
    }

    fn remove_room(&mut self, id: &str) -> Result<PathBuf> {
        self.retrying_mut(|c| PostgresCatalog::remove_room(c, id))
    }

    fn set_private(&mut self, id: &str, private: bool) -> Result<()> {
        self.retrying_mut(|c| PostgresCatalog::set_private(c, id, private))
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        self.retrying(|c| PostgresCatalog::setting(c, key))
    }

    fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        self.retrying_mut(|c| PostgresCatalog::set_setting(c, key, value))
    }

    fn rooms(&self, include_private: bool) -> Result<Vec<RoomSummary>> {
        self.retrying(|c| PostgresCatalog::rooms(c, include_private))
    }

    fn room(&self, id: &str) -> Result<RoomSummary> {
        self.retrying(|c| PostgresCatalog::room(c, id))
    }

    fn find_room(&self, key: &str, include_private: bool) -> Result<RoomSummary> {
        self.retrying(|c| PostgresCatalog::find_room(c, key, include_private))
    }

    fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        self.retrying(|c| PostgresCatalog::search(c, query))
    }

    fn enqueue(&mut self, job: &NewJob) -> Result<(Job, bool)> {
        self.retrying_mut(|c| PostgresCatalog::enqueue(c, job))
    }

    fn claim(&mut self, worker: &str, lease: Duration) -> Result<Option<Claim>> {
        self.retrying_mut(|c| PostgresCatalog::claim(c, worker, lease))
    }

    fn renew(&mut self, claim: &Claim, step: Option<&str>) -> Result<bool> {
        self.retrying_mut(|c| PostgresCatalog::renew(c, claim, step))
    }

    fn finish(&mut self, claim: &Claim, error: Option<&str>) -> Result<Option<JobState>> {
        self.retrying_mut(|c| PostgresCatalog::finish(c, claim, error))
    }

    fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        self.retrying(|c| PostgresCatalog::jobs(c, limit))
    }

    fn queue_counts(&self) -> Result<QueueCounts> {
        self.retrying(PostgresCatalog::queue_counts)
    }

    fn rooms_dir(&self) -> PathBuf {
        crate::env::path(crate::env::ROOMS_DIR).unwrap_or_else(|| self.dir.join(super::ROOMS_DIR))
    }
}
