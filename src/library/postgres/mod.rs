//! The PostgreSQL catalog: the library's rooms, speakers, segments, outputs and full-text index in a
//! PostgreSQL database, for when several machines share one library.
//!
//! `library::open` picks it when the library location is a `postgres://` or `postgresql://` URL
//! (the connection string libpq and `tokio-postgres` read: user, host or socket folder, database).
//! Files stay local: `dir()` is the user data folder (created when writing), and sessions recorded
//! into the library go to `$ROOMCAST_ROOMS_DIR`, else that folder's `rooms/`.
//!
//! This part is the catalog only: one plain connection (the sync `postgres` client, no pool) and
//! no TLS (`NoTls`: use a unix socket or a trusted network). The job queue and workers of the
//! design are not built yet.
//!
//! Every write is one transaction; searches and listings read one snapshot (repeatable read). The
//! schema is versioned (`schema`) and upgraded in place on opening.

mod rooms;
pub mod schema;
mod search;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use super::{Access, Catalog, Hit, IndexReport, LibraryError, Output, Result, RoomSummary, SearchQuery};
use crate::session::Session;
use crate::transcript::TranscriptDoc;

pub use search::{lexemes, tsquery};

/// Whether a library location names a PostgreSQL database rather than a folder.
pub fn is_url(location: &Path) -> bool {
    location.to_str().is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

pub struct PostgresCatalog {
    /// The URL with any password hidden: what errors name.
    name: PathBuf,
    dir: PathBuf,
    /// `Catalog`'s reads take `&self`; the client needs `&mut` for every statement. One caller at a
    /// time (the trait is `Send`, not `Sync`), so a `RefCell` is enough.
    client: RefCell<Client>,
}

/// How long connecting may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl PostgresCatalog {
    /// Opens the catalog in the database at `url`, creating its tables when the database is new
    /// (holds no tables). Local files go under the user data folder.
    pub fn open(url: &str, access: Access) -> Result<PostgresCatalog> {
        let dir = crate::dirs::user_data_dir().unwrap_or_else(|| PathBuf::from("roomcast-library"));
        Self::open_with_dir(url, dir, access)
    }

    /// As `open`, with `dir` as the local folder (`dir()`).
    pub fn open_with_dir(url: &str, dir: PathBuf, access: Access) -> Result<PostgresCatalog> {
        let name = PathBuf::from(redacted(url));
        let mut config = Config::from_str(url).map_err(|e| LibraryError::NotALibrary {
            path: name.clone(),
            reason: format!("not a PostgreSQL URL: {}", one_line(&e.to_string())),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("roomcast");
        }
        let client = config.connect(NoTls).map_err(|e| classify(&name, e))?;
        let mut catalog = PostgresCatalog { name, dir, client: RefCell::new(client) };
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

    /// The database's URL, any password hidden.
    pub fn name(&self) -> &Path {
        &self.name
    }
}

/// The URL with its password (if any) replaced, fit to show in messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "postgres://(unreadable URL)".to_string(),
    }
}

/// A message on one line: the server's details and hints come on lines of their own.
fn one_line(text: &str) -> String {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// The server's errors in the user's terms where there are some; the rest as storage failures,
/// on one line.
fn classify(name: &Path, e: postgres::Error) -> LibraryError {
    if let Some(code) = e.code()
        && (*code == SqlState::READ_ONLY_SQL_TRANSACTION || *code == SqlState::INSUFFICIENT_PRIVILEGE)
    {
        return LibraryError::ReadOnly(name.to_path_buf());
    }
    let text = match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {}", db.message()),
        None => e.to_string(),
    };
    LibraryError::Storage { path: name.to_path_buf(), source: one_line(&text).into() }
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
        PostgresCatalog::index_room(self, session, transcript, outputs)
    }

    fn remove_room(&mut self, id: &str) -> Result<PathBuf> {
        PostgresCatalog::remove_room(self, id)
    }

    fn set_private(&mut self, id: &str, private: bool) -> Result<()> {
        PostgresCatalog::set_private(self, id, private)
    }

    fn rooms(&self, include_private: bool) -> Result<Vec<RoomSummary>> {
        PostgresCatalog::rooms(self, include_private)
    }

    fn room(&self, id: &str) -> Result<RoomSummary> {
        PostgresCatalog::room(self, id)
    }

    fn find_room(&self, key: &str, include_private: bool) -> Result<RoomSummary> {
        PostgresCatalog::find_room(self, key, include_private)
    }

    fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        PostgresCatalog::search(self, query)
    }

    fn rooms_dir(&self) -> PathBuf {
        std::env::var_os("ROOMCAST_ROOMS_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.dir.join(super::ROOMS_DIR))
    }
}
