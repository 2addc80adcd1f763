//! Rooms in the PostgreSQL catalog: putting one in (replacing its rows in one transaction), taking
//! it out, listing, and finding one by id or title, with the SQLite catalog's rules.

use std::path::{Path, PathBuf};

use postgres::{GenericClient, IsolationLevel};

use super::{PostgresCatalog, classify, search::lexemes};
use crate::library::index::{pack_words, status_name, timestamp};
use crate::library::{IndexReport, LibraryError, Output, Result, RoomSummary, SpeakerSummary};
use crate::session::Session;
use crate::transcript::TranscriptDoc;

impl PostgresCatalog {
    pub(super) fn index_room(
        &mut self,
        session: &Session,
        transcript: Option<&TranscriptDoc>,
        outputs: &[Output],
    ) -> Result<IndexReport> {
        let name = self.name.clone();
        let db = |e| classify(&name, e);
        let room = &session.room;
        let session_dir = std::fs::canonicalize(&session.dir).unwrap_or_else(|_| session.dir.clone());
        let client = self.client.get_mut();
        let mut tx = client.transaction().map_err(db)?;
        // Two processes indexing the same room wait for each other instead of colliding.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)", &[&room.id]).map_err(db)?;
        let private: Option<bool> =
            tx.query_opt("SELECT private FROM rooms WHERE id = $1", &[&room.id]).map_err(db)?.map(|r| r.get(0));
        tx.execute("DELETE FROM rooms WHERE id = $1", &[&room.id]).map_err(db)?;
        let status = status_name(room.status);
        tx.execute(
            "INSERT INTO rooms (id, title, started_at, duration, source, status, session, indexed_at, private, captions)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &room.id,
                &room.title,
                &timestamp(room.started_at),
                &room.duration,
                &room.source,
                &status,
                &session_dir.to_string_lossy().as_ref(),
                &timestamp(chrono::Utc::now()),
                &private.unwrap_or(false),
                &transcript.is_some_and(|t| t.live_captions),
            ],
        )
        .map_err(db)?;
        let insert_speaker = tx
            .prepare("INSERT INTO speakers (room_id, n, id, name, track, language) VALUES ($1, $2, $3, $4, $5, $6)")
            .map_err(db)?;
        let mut speakers = 0i32;
        for s in &room.speakers {
            let language =
                transcript.and_then(|t| t.speakers.iter().find(|ts| ts.id == s.id)).and_then(|ts| ts.language.clone());
            tx.execute(&insert_speaker, &[&room.id, &speakers, &s.id, &s.name, &Some(&s.track), &language])
                .map_err(db)?;
            speakers += 1;
        }
        // Speakers only an imported transcript knows (added with --add-speakers).
        for ts in transcript.map(|t| t.speakers.as_slice()).unwrap_or_default() {
            if room.speakers.iter().all(|s| s.id != ts.id) {
                tx.execute(&insert_speaker, &[&room.id, &speakers, &ts.id, &ts.name, &None::<String>, &ts.language])
                    .map_err(db)?;
                speakers += 1;
            }
        }
        let (mut segments, mut words) = (0, 0);
        if let Some(doc) = transcript {
            let insert = tx
                .prepare(
                    "INSERT INTO segments (room_id, speaker_id, start, \"end\", overlap, text, words, lexemes)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::tsvector)",
                )
                .map_err(db)?;
            for s in &doc.segments {
                let text = s.text.trim();
                tx.execute(
                    &insert,
                    &[&room.id, &s.speaker, &s.start, &s.end, &s.overlap, &text, &pack_words(&s.words), &lexemes(text)],
                )
                .map_err(db)?;
                segments += 1;
                words += s.words.len();
            }
        }
        let insert =
            tx.prepare("INSERT INTO outputs (room_id, kind, path, bytes) VALUES ($1, $2, $3, $4)").map_err(db)?;
        for o in outputs {
            tx.execute(&insert, &[&room.id, &o.kind, &o.path.to_string_lossy().as_ref(), &(o.bytes as i64)])
                .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(IndexReport {
            room: room.id.clone(),
            title: room.title.clone(),
            speakers: speakers as usize,
            segments,
            words,
            outputs: outputs.len(),
            replaced: private.is_some(),
        })
    }

    pub(super) fn remove_room(&mut self, id: &str) -> Result<PathBuf> {
        let name = self.name.clone();
        let db = |e| classify(&name, e);
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        let session: String = tx
            .query_opt("DELETE FROM rooms WHERE id = $1 RETURNING session", &[&id])
            .map_err(db)?
            .map(|r| r.get(0))
            .ok_or_else(|| LibraryError::UnknownRoom(id.to_string()))?;
        tx.commit().map_err(db)?;
        Ok(PathBuf::from(session))
    }

    pub(super) fn setting(&self, key: &str) -> Result<Option<String>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .map_err(|e| classify(&self.name, e))?;
        Ok(row.map(|r| r.get(0)))
    }

    pub(super) fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        let client = self.client.get_mut();
        let done = match value {
            Some(v) => client.execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &v],
            ),
            None => client.execute("DELETE FROM settings WHERE key = $1", &[&key]),
        };
        done.map(|_| ()).map_err(|e| classify(&self.name, e))
    }

    pub(super) fn set_private(&mut self, id: &str, private: bool) -> Result<()> {
        let n = self
            .client
            .get_mut()
            .execute("UPDATE rooms SET private = $2 WHERE id = $1", &[&id, &private])
            .map_err(|e| classify(&self.name, e))?;
        if n == 0 {
            return Err(LibraryError::UnknownRoom(id.to_string()));
        }
        Ok(())
    }

    pub(super) fn rooms(&self, include_private: bool) -> Result<Vec<RoomSummary>> {
        let db = |e| classify(&self.name, e);
        let mut client = self.client.borrow_mut();
        // One snapshot: a room removed meanwhile is either listed whole or not at all.
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db)?;
        let ids: Vec<String> = tx
            .query(
                "SELECT id FROM rooms WHERE NOT private OR $1 ORDER BY started_at DESC, title COLLATE \"C\"",
                &[&include_private],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let rooms = ids.iter().map(|id| room_in(&mut tx, &self.name, id)).collect();
        tx.commit().map_err(db)?;
        rooms
    }

    pub(super) fn room(&self, id: &str) -> Result<RoomSummary> {
        room_in(&mut *self.client.borrow_mut(), &self.name, id)
    }

    pub(super) fn find_room(&self, key: &str, include_private: bool) -> Result<RoomSummary> {
        find_room_in(&mut *self.client.borrow_mut(), &self.name, key, include_private)
    }
}

/// One room by its exact id, read through `c` (a client or a transaction's snapshot).
pub(super) fn room_in(c: &mut impl GenericClient, name: &Path, id: &str) -> Result<RoomSummary> {
    let db = |e| classify(name, e);
    let row = c
        .query_opt(
            "SELECT id, title, started_at, duration, status, session, private,
                    (SELECT count(*) FROM segments WHERE room_id = rooms.id), captions
             FROM rooms WHERE id = $1",
            &[&id],
        )
        .map_err(db)?
        .ok_or_else(|| LibraryError::UnknownRoom(id.to_string()))?;
    let mut room = RoomSummary {
        id: row.get(0),
        title: row.get(1),
        started_at: row.get(2),
        duration: row.get(3),
        status: row.get(4),
        session: PathBuf::from(row.get::<_, String>(5)),
        private: row.get(6),
        segments: row.get::<_, i64>(7) as u64,
        live_captions: row.get(8),
        speakers: Vec::new(),
        outputs: Vec::new(),
    };
    room.speakers = c
        .query("SELECT id, name, track, language FROM speakers WHERE room_id = $1 ORDER BY n", &[&id])
        .map_err(db)?
        .iter()
        .map(|r| SpeakerSummary { id: r.get(0), name: r.get(1), track: r.get(2), language: r.get(3) })
        .collect();
    room.outputs = c
        .query("SELECT kind, path, bytes FROM outputs WHERE room_id = $1 ORDER BY path COLLATE \"C\"", &[&id])
        .map_err(db)?
        .iter()
        .map(|r| Output {
            kind: r.get(0),
            path: PathBuf::from(r.get::<_, String>(1)),
            bytes: r.get::<_, i64>(2) as u64,
        })
        .collect();
    Ok(room)
}

/// A room by what a user types: its id, its title (any case), or the start of its id; the start is
/// compared as text (`starts_with`), so nothing the user types is a pattern.
pub(super) fn find_room_in(
    c: &mut impl GenericClient,
    name: &Path,
    key: &str,
    include_private: bool,
) -> Result<RoomSummary> {
    let db = |e| classify(name, e);
    let key = key.trim();
    let ids = |rows: Vec<postgres::Row>| -> Vec<String> { rows.iter().map(|r| r.get(0)).collect() };
    let mut found = ids(c
        .query(
            "(SELECT id FROM rooms WHERE (NOT private OR $2) AND id = $1)
             UNION ALL (SELECT id FROM rooms WHERE (NOT private OR $2) AND lower(title) = lower($1) AND id <> $1
                        ORDER BY id LIMIT 20)
             LIMIT 20",
            &[&key, &include_private],
        )
        .map_err(db)?);
    if found.is_empty() && !key.is_empty() {
        found = ids(c
            .query(
                "SELECT id FROM rooms WHERE (NOT private OR $2) AND starts_with(id, $1) ORDER BY id LIMIT 20",
                &[&key, &include_private],
            )
            .map_err(db)?);
    }
    match found.as_slice() {
        [] => Err(LibraryError::UnknownRoom(key.to_string())),
        [id] => room_in(c, name, id),
        [first, ..] if found.iter().all(|i| i == first) => room_in(c, name, &first.clone()),
        _ => Err(LibraryError::AmbiguousRoom { key: key.to_string(), ids: found.join(", ") }),
    }
}
