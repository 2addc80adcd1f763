//! The library: every published room in one catalog, searchable by what was said.
//!
//! ```text
//! LIBRARY/
//!   rooms/<id>/       sessions recorded or imported into the library
//!   ...               the catalog's own files (SQLite: library.db, see `sqlite`)
//! ```
//!
//! The catalog sits behind one trait, `Catalog`, in the library's own types; `open` is the one way
//! to get one. SQLite in the library folder is its first implementation; PostgreSQL (`postgres`,
//! when the library is given as a connection string, `postgres://...` or `host=... dbname=...`)
//! its second. Sessions kept elsewhere stay where they are; the catalog remembers their folder.
//! Every write is one transaction, so a failed publish or index leaves the library as it was, and
//! searches go on while a room is being indexed. What users type to search is roomcast's own
//! language (`query`), which each backend compiles, so a query means the same whatever holds the
//! library.

pub mod catalog;
pub mod index;
pub mod jobs;
pub mod pool;
pub mod postgres;
pub mod query;
pub mod rooms;
pub mod search;
pub mod sqlite;

use std::path::{Path, PathBuf};

pub use catalog::Catalog;
pub use index::{IndexReport, Output};
pub use jobs::{Claim, Job, JobState, NewJob, QueueCounts};
pub use pool::CatalogPool;
pub use postgres::PostgresCatalog;
pub use query::{Phrase, Query, QueryError};
pub use rooms::{RoomSummary, SpeakerSummary};
pub use search::{Hit, SearchQuery};
pub use sqlite::SqliteCatalog;

pub const ROOMS_DIR: &str = "rooms";

/// What went wrong, in the library's terms. Messages say what is wrong only: a front end (the CLI,
/// the web) adds how to go on in its own terms.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("{path}: not a roomcast library ({reason})")]
    NotALibrary { path: PathBuf, reason: String },
    #[error("{0}: not a roomcast library database")]
    ForeignDatabase(PathBuf),
    /// A PostgreSQL connection string that does not parse, or asks for what roomcast cannot do.
    /// `name` has its password hidden; `reason` never quotes a value.
    #[error("{name}: cannot use this PostgreSQL connection string: {reason}")]
    BadConnectionString { name: PathBuf, reason: String },
    #[error(
        "{path}: made by a newer roomcast (library schema {found}; this roomcast knows up to {known}); upgrade roomcast"
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("{0}: the library is read-only; nothing was changed")]
    ReadOnly(PathBuf),
    /// The catalog's storage failed; `source` is the backend's own error.
    #[error("{path}: {source}")]
    Storage { path: PathBuf, source: Box<dyn std::error::Error + Send + Sync> },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no room '{0}' in the library")]
    UnknownRoom(String),
    #[error("'{key}' matches several rooms ({ids}); give the room id")]
    AmbiguousRoom { key: String, ids: String },
    #[error("the search is empty: give words to look for")]
    EmptyQuery,
    #[error("'{query}' is not a valid search: {reason} (words, pod*, \"a phrase\", AND/OR/NOT, NEAR(a b, 5))")]
    BadQuery { query: String, reason: String },
    #[error("'{0}' is not a date: use YYYY-MM-DD or an RFC 3339 time")]
    BadDate(String),
}

pub type Result<T> = std::result::Result<T, LibraryError>;

/// What a command needs from the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Searching and listing: works on a read-only library too.
    Read,
    /// Publishing, indexing, removing.
    Write,
}

/// Opens the catalog of the library at `location`, creating it there when it is new or empty and
/// `access` allows: a folder (SQLite, in that folder), or a PostgreSQL connection string, as a
/// `postgres://` or `postgresql://` URI or `keyword=value` pairs (PostgreSQL, that database; local
/// files under the user data folder, see `postgres`).
pub fn open(location: &Path, access: Access) -> Result<Box<dyn Catalog>> {
    if postgres::is_connection_string(location) {
        let url = location.to_str().unwrap_or_default();
        return Ok(Box::new(PostgresCatalog::open(url, access)?));
    }
    Ok(Box::new(SqliteCatalog::open(location, access)?))
}

/// The user's search text as roomcast's query tree, for a backend to compile.
pub fn parse_query(text: &str) -> Result<Query> {
    query::parse(text).map_err(|e| match e {
        QueryError::Empty => LibraryError::EmptyQuery,
        QueryError::Invalid(reason) => LibraryError::BadQuery { query: text.trim().to_string(), reason },
    })
}

pub use crate::dirs::user_data_dir;

/// The library folder: the flag, else `$ROOMCAST_LIBRARY`, else the user data folder.
pub fn default_dir() -> PathBuf {
    crate::env::path(crate::env::LIBRARY).or_else(user_data_dir).unwrap_or_else(|| PathBuf::from("roomcast-library"))
}

/// A date from the user: YYYY-MM-DD (midnight UTC; with `end_of_day`, the next midnight, so
/// `--until 2026-11-24` includes that day) or an RFC 3339 time.
pub fn parse_date(text: &str, end_of_day: bool) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| LibraryError::BadDate(text.into()))?;
    let day = if end_of_day { day.succ_opt().ok_or_else(|| LibraryError::BadDate(text.into()))? } else { day };
    Ok(day.and_hms_opt(0, 0, 0).ok_or_else(|| LibraryError::BadDate(text.into()))?.and_utc())
}
