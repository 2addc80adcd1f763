//! Putting a room into the SQLite catalog, and taking it out. Indexing replaces all of a room's
//! rows in one transaction: publishing again never duplicates, and a failure changes nothing.

use std::path::PathBuf;

use rusqlite::{TransactionBehavior, params};

use super::{SqliteCatalog, classify};
use crate::library::index::{pack_words, status_name, timestamp};
use crate::library::{IndexReport, LibraryError, Output, Result};
use crate::session::Session;
use crate::transcript::TranscriptDoc;

impl SqliteCatalog {
    /// Indexes a session (and its transcript, if any) as one room, replacing whatever the library
    /// held for that room.
    pub(super) fn index_room(
        &mut self,
        session: &Session,
        transcript: Option<&TranscriptDoc>,
        outputs: &[Output],
    ) -> Result<IndexReport> {
        let path = self.db_path.clone();
        let db = |source| classify(&path, source);
        let room = &session.room;
        let session_dir = std::fs::canonicalize(&session.dir).unwrap_or_else(|_| session.dir.clone());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let private: Option<bool> =
            tx.query_row("SELECT private FROM rooms WHERE id = ?1", [&room.id], |r| r.get(0)).ok();
        tx.execute("DELETE FROM rooms WHERE id = ?1", [&room.id]).map_err(db)?;
        let status = status_name(room.status);
        tx.execute(
            "INSERT INTO rooms (id, title, started_at, duration, source, status, session, indexed_at, private, captions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                room.id,
                room.title,
                timestamp(room.started_at),
                room.duration,
                room.source,
                status,
                session_dir.to_string_lossy(),
                timestamp(chrono::Utc::now()),
                private.unwrap_or(false),
                transcript.is_some_and(|t| t.live_captions)
            ],
        )
        .map_err(db)?;
        let mut speakers = 0;
        {
            let mut insert = tx
                .prepare("INSERT INTO speakers (room_id, id, name, track, language) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(db)?;
            for s in &room.speakers {
                let language = transcript
                    .and_then(|t| t.speakers.iter().find(|ts| ts.id == s.id))
                    .and_then(|ts| ts.language.clone());
                insert.execute(params![room.id, s.id, s.name, s.track, language]).map_err(db)?;
                speakers += 1;
            }
            // Speakers only an imported transcript knows (added with --add-speakers).
            for ts in transcript.map(|t| t.speakers.as_slice()).unwrap_or_default() {
                if room.speakers.iter().all(|s| s.id != ts.id) {
                    insert.execute(params![room.id, ts.id, ts.name, None::<String>, ts.language]).map_err(db)?;
                    speakers += 1;
                }
            }
        }
        let (mut segments, mut words) = (0, 0);
        if let Some(doc) = transcript {
            let mut insert_segment = tx
                .prepare(
                    "INSERT INTO segments (room_id, speaker_id, start, end, overlap, text, words)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(db)?;
            for s in &doc.segments {
                insert_segment
                    .execute(params![
                        room.id,
                        s.speaker,
                        s.start,
                        s.end,
                        s.overlap,
                        s.text.trim(),
                        pack_words(&s.words)
                    ])
                    .map_err(db)?;
                segments += 1;
                words += s.words.len();
            }
        }
        {
            let mut insert =
                tx.prepare("INSERT INTO outputs (room_id, kind, path, bytes) VALUES (?1, ?2, ?3, ?4)").map_err(db)?;
            for o in outputs {
                insert.execute(params![room.id, o.kind, o.path.to_string_lossy(), o.bytes as i64]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
        Ok(IndexReport {
            room: room.id.clone(),
            title: room.title.clone(),
            speakers,
            segments,
            words,
            outputs: outputs.len(),
            replaced: private.is_some(),
        })
    }

    /// Takes a room out of the library: every row (the index included) goes. Returns the session
    /// folder the library knew, for the caller to delete.
    pub(super) fn remove_room(&mut self, id: &str) -> Result<PathBuf> {
        let path = self.db_path.clone();
        let db = |source| classify(&path, source);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let session: String = tx
            .query_row("SELECT session FROM rooms WHERE id = ?1", [id], |r| r.get(0))
            .map_err(|_| LibraryError::UnknownRoom(id.to_string()))?;
        tx.execute("DELETE FROM rooms WHERE id = ?1", [id]).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(PathBuf::from(session))
    }

    pub(super) fn setting(&self, key: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", params![key], |r| r.get(0))
            .optional()
            .map_err(|e| self.db_err(e))
    }

    pub(super) fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        let done = match value {
            Some(v) => self.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, v],
            ),
            None => self.conn.execute("DELETE FROM settings WHERE key = ?1", params![key]),
        };
        done.map(|_| ()).map_err(|e| self.db_err(e))
    }

    /// Marks a room private (not listed, searched or in the feed without the token) or public.
    pub(super) fn set_private(&mut self, id: &str, private: bool) -> Result<()> {
        let n = self
            .conn
            .execute("UPDATE rooms SET private = ?2 WHERE id = ?1", params![id, private])
            .map_err(|e| self.db_err(e))?;
        if n == 0 {
            return Err(LibraryError::UnknownRoom(id.to_string()));
        }
        Ok(())
    }
}
