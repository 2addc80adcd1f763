//! Rooms in the SQLite catalog, and finding one by id or title.

use std::path::PathBuf;

use rusqlite::params;

use super::SqliteCatalog;
use crate::library::{LibraryError, Output, Result, RoomSummary, SpeakerSummary};

impl SqliteCatalog {
    /// Every room, newest first. `include_private`: also the rooms marked private.
    pub(super) fn rooms(&self, include_private: bool) -> Result<Vec<RoomSummary>> {
        // One snapshot: a room removed meanwhile is either listed whole or not at all.
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.db_err(e))?;
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM rooms WHERE private = 0 OR ?1 ORDER BY started_at DESC, title")
                .map_err(|e| self.db_err(e))?;
            let rows = stmt.query_map([include_private], |r| r.get(0)).map_err(|e| self.db_err(e))?;
            rows.collect::<std::result::Result<_, _>>().map_err(|e| self.db_err(e))?
        };
        let rooms = ids.iter().map(|id| self.room(id)).collect();
        drop(snapshot);
        rooms
    }

    /// One room by its exact id.
    pub(super) fn room(&self, id: &str) -> Result<RoomSummary> {
        let db = |e| self.db_err(e);
        let mut room = self
            .conn
            .query_row(
                "SELECT id, title, started_at, duration, status, session, private,
                        (SELECT count(*) FROM segments WHERE room_id = rooms.id), captions
                 FROM rooms WHERE id = ?1",
                [id],
                |r| {
                    Ok(RoomSummary {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        started_at: r.get(2)?,
                        duration: r.get(3)?,
                        status: r.get(4)?,
                        session: PathBuf::from(r.get::<_, String>(5)?),
                        private: r.get(6)?,
                        segments: r.get::<_, i64>(7)? as u64,
                        live_captions: r.get(8)?,
                        speakers: Vec::new(),
                        outputs: Vec::new(),
                    })
                },
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => LibraryError::UnknownRoom(id.to_string()),
                e => db(e),
            })?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, track, language FROM speakers WHERE room_id = ?1 ORDER BY rowid")
            .map_err(db)?;
        room.speakers = stmt
            .query_map([id], |r| {
                Ok(SpeakerSummary { id: r.get(0)?, name: r.get(1)?, track: r.get(2)?, language: r.get(3)? })
            })
            .map_err(db)?
            .collect::<std::result::Result<_, _>>()
            .map_err(db)?;
        let mut stmt =
            self.conn.prepare("SELECT kind, path, bytes FROM outputs WHERE room_id = ?1 ORDER BY path").map_err(db)?;
        room.outputs = stmt
            .query_map([id], |r| {
                Ok(Output {
                    kind: r.get(0)?,
                    path: PathBuf::from(r.get::<_, String>(1)?),
                    bytes: r.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(db)?
            .collect::<std::result::Result<_, _>>()
            .map_err(db)?;
        Ok(room)
    }

    /// A room by what a user types: its id, its title (any case), or the start of its id.
    pub(super) fn find_room(&self, key: &str, include_private: bool) -> Result<RoomSummary> {
        let db = |e| self.db_err(e);
        let key = key.trim();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id FROM rooms WHERE (private = 0 OR ?2) AND id = ?1
                 UNION ALL SELECT id FROM rooms WHERE (private = 0 OR ?2) AND title = ?1 COLLATE NOCASE AND id <> ?1
                 LIMIT 20",
            )
            .map_err(db)?;
        let mut ids: Vec<String> = stmt
            .query_map(params![key, include_private], |r| r.get(0))
            .map_err(db)?
            .collect::<std::result::Result<_, _>>()
            .map_err(db)?;
        if ids.is_empty() && !key.is_empty() {
            // The start of an id, as with git's short hashes. LIKE's wildcards in the key are
            // escaped: they are the user's text, not a pattern.
            let escaped = key.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM rooms WHERE (private = 0 OR ?2) AND id LIKE ?1 || '%' ESCAPE '\\' LIMIT 20")
                .map_err(db)?;
            ids = stmt
                .query_map(params![escaped, include_private], |r| r.get(0))
                .map_err(db)?
                .collect::<std::result::Result<_, _>>()
                .map_err(db)?;
        }
        match ids.as_slice() {
            [] => Err(LibraryError::UnknownRoom(key.to_string())),
            [id] => self.room(id),
            [first, ..] if ids.iter().all(|i| i == first) => self.room(first),
            _ => Err(LibraryError::AmbiguousRoom { key: key.to_string(), ids: ids.join(", ") }),
        }
    }
}
