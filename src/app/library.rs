//! Looking after the library's rooms.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::library::{Access, Library};
use crate::session::Session;

#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub room: String,
    pub title: String,
    pub session: PathBuf,
    pub files_deleted: bool,
    /// The session folder holds the library itself, so its files were left alone.
    pub holds_library: bool,
}

/// Takes a room out of the library and deletes its session folder, but only a folder that really
/// is that room's session (room.json with the room's id): a stale path never costs other files.
pub fn remove(key: &str, keep_files: bool, library_dir: &Path) -> Result<Removed> {
    let mut lib = Library::open(library_dir, Access::Write)?;
    let r = lib.find_room(key, true)?;
    let session = lib.remove_room(&r.id)?;
    let is_that_session = Session::open(&session).is_ok_and(|s| s.room.id == r.id);
    // A session folder that holds the library itself (a library made inside the room's folder)
    // is never deleted with the room: that would delete every other room's catalog too.
    let holds_library = match (session.canonicalize(), library_dir.canonicalize()) {
        (Ok(session), Ok(library)) => library.starts_with(&session),
        _ => true,
    };
    let files_deleted = !keep_files && is_that_session && !holds_library;
    if files_deleted {
        std::fs::remove_dir_all(&session).with_context(|| format!("{}: removing the session", session.display()))?;
    }
    Ok(Removed { room: r.id, title: r.title, session, files_deleted, holds_library: holds_library && is_that_session })
}
