//! Searching the SQLite catalog: FTS5 over segment text (case and diacritics folded, English
//! stems), ranked by bm25. The user's query is parsed into roomcast's query tree and compiled to an
//! FTS5 expression with every word quoted, so nothing the user types is FTS5 syntax; that
//! expression is bound as a parameter, never spliced into SQL.

use std::path::PathBuf;

use rusqlite::params;

use super::SqliteCatalog;
use crate::library::index::timestamp;
use crate::library::query::{Phrase, Query};
use crate::library::search::{MATCH_END, MATCH_START, first_match_time};
use crate::library::{Hit, LibraryError, Result, SearchQuery};

/// Beyond this many matches, only the newest this many are ranked: a word said in most segments
/// (a "the") would otherwise cost a bm25 score for every one of them, hundreds of milliseconds in a
/// big library, to order hits that all score alike.
pub const RANKED_MATCHES: i64 = 5_000;

impl SqliteCatalog {
    pub(super) fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let text = query.text.trim();
        let expression = fts5(&crate::library::parse_query(text)?);
        // One snapshot for ranking and details: a room re-indexed in between must not make a
        // ranked segment vanish before its details are read.
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.db_err(e))?;
        let room = match &query.room {
            Some(key) => Some(self.find_room(key, query.include_private)?.id),
            None => None,
        };
        // The compiled expression is valid FTS5 by construction; should FTS5 still refuse it (a
        // limit of its own), that is said as the user's query being refused, not as a failing
        // database.
        let bad = |e: rusqlite::Error| match &e {
            rusqlite::Error::SqliteFailure(f, msg) if f.code == rusqlite::ErrorCode::Unknown => {
                LibraryError::BadQuery {
                    query: text.to_string(),
                    reason: msg.as_deref().unwrap_or("syntax error").trim_start_matches("fts5: ").to_string(),
                }
            }
            _ => self.db_err(e),
        };
        let filtered = query.speaker.is_some()
            || room.is_some()
            || query.since.is_some()
            || query.until.is_some()
            || !query.include_private;
        // The filters, on a segment `s` joined to its room `r` and speaker `sp`.
        const FILTERS: &str = "(?2 IS NULL OR sp.name = ?2 COLLATE NOCASE OR s.speaker_id = ?2)
                   AND (?3 IS NULL OR r.id = ?3)
                   AND (?4 IS NULL OR r.started_at >= ?4)
                   AND (?5 IS NULL OR r.started_at < ?5)
                   AND (r.private = 0 OR ?6)";
        let args = params![
            expression,
            query.speaker,
            room,
            query.since.map(timestamp),
            query.until.map(timestamp),
            query.include_private,
            query.limit.max(1) as i64,
            RANKED_MATCHES
        ];
        // The newest RANKED_MATCHES matches (all of them when fewer), in one pass down the index
        // from the newest segment, and the best of those by bm25.
        let sql = if filtered {
            format!(
                "SELECT id, score FROM (
                     SELECT f.rowid AS id, bm25(segments_fts) AS score FROM segments_fts f
                     JOIN segments s ON s.id = f.rowid JOIN rooms r ON r.id = s.room_id
                     LEFT JOIN speakers sp ON sp.room_id = s.room_id AND sp.id = s.speaker_id
                     WHERE segments_fts MATCH ?1 AND {FILTERS}
                     ORDER BY f.rowid DESC LIMIT ?8)
                 ORDER BY score, id LIMIT ?7"
            )
        } else {
            "SELECT id, score FROM (
                 SELECT rowid AS id, bm25(segments_fts) AS score FROM segments_fts
                 WHERE segments_fts MATCH ?1 AND ?2 IS NULL AND ?3 IS NULL AND ?4 IS NULL AND ?5 IS NULL
                 AND ?6 = ?6 ORDER BY rowid DESC LIMIT ?8)
             ORDER BY score, id LIMIT ?7"
                .to_string()
        };
        let ranked: Vec<(i64, f64)> = {
            let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.db_err(e))?;
            let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?))).map_err(bad)?;
            rows.collect::<std::result::Result<_, _>>().map_err(bad)?
        };
        // 3. Details, snippets and word times for the hits shown only.
        let mut detail = self
            .conn
            .prepare_cached(
                "SELECT s.room_id, r.title, r.started_at, s.speaker_id, COALESCE(sp.name, s.speaker_id), s.start, s.end,
                        r.captions
                 FROM segments s JOIN rooms r ON r.id = s.room_id
                 LEFT JOIN speakers sp ON sp.room_id = s.room_id AND sp.id = s.speaker_id
                 WHERE s.id = ?1",
            )
            .map_err(|e| self.db_err(e))?;
        let mut marks = self
            .conn
            .prepare_cached(&format!(
                "SELECT snippet(segments_fts, 0, '{MATCH_START}', '{MATCH_END}', '…', 16),
                        highlight(segments_fts, 0, '{MATCH_START}', '{MATCH_END}')
                 FROM segments_fts WHERE segments_fts MATCH ?1 AND rowid = ?2"
            ))
            .map_err(|e| self.db_err(e))?;
        let mut words =
            self.conn.prepare_cached("SELECT words FROM segments WHERE id = ?1").map_err(|e| self.db_err(e))?;
        let mut masters = self
            .conn
            .prepare_cached("SELECT path FROM outputs WHERE room_id = ?1 AND kind = 'master'")
            .map_err(|e| self.db_err(e))?;
        let mut replay_cache: std::collections::HashMap<String, Option<PathBuf>> = Default::default();
        let mut hits = Vec::with_capacity(ranked.len());
        for (id, score) in ranked {
            let mut hit = detail
                .query_row([id], |r| {
                    Ok(Hit {
                        room: r.get(0)?,
                        title: r.get(1)?,
                        started_at: r.get(2)?,
                        speaker: r.get(3)?,
                        name: r.get(4)?,
                        segment_start: r.get(5)?,
                        segment_end: r.get(6)?,
                        at: r.get(5)?,
                        score,
                        snippet: String::new(),
                        replay: None,
                        live_caption: r.get(7)?,
                    })
                })
                .map_err(|e| self.db_err(e))?;
            let (snippet, highlighted): (String, String) =
                marks.query_row(params![expression, id], |r| Ok((r.get(0)?, r.get(1)?))).map_err(bad)?;
            hit.snippet = snippet;
            let packed: Option<String> = words.query_row([id], |r| r.get(0)).map_err(|e| self.db_err(e))?;
            let timed = crate::library::index::unpack_words(packed.as_deref());
            if let Some(at) = first_match_time(&highlighted, &timed) {
                hit.at = at;
            }
            if !replay_cache.contains_key(&hit.room) {
                let paths: Vec<String> = masters
                    .query_map([&hit.room], |r| r.get(0))
                    .map_err(|e| self.db_err(e))?
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| self.db_err(e))?;
                let best = ["mp3", "opus", "wav"]
                    .iter()
                    .find_map(|ext| paths.iter().find(|p| p.ends_with(&format!(".{ext}"))))
                    .map(PathBuf::from);
                let replay = match best {
                    Some(p) => Some(p),
                    None => self.room(&hit.room)?.replay_file(None),
                };
                replay_cache.insert(hit.room.clone(), replay);
            }
            hit.replay = replay_cache.get(&hit.room).cloned().flatten();
            hits.push(hit);
        }
        drop(snapshot);
        Ok(hits)
    }
}

/// The query as an FTS5 expression. Every word is quoted (a quote inside doubled), so no text of
/// the user's is read as FTS5 syntax; groups are parenthesised, so precedence is the tree's.
fn fts5(query: &Query) -> String {
    let list = |parts: &[Query], op: &str| {
        format!("({})", parts.iter().map(fts5).collect::<Vec<_>>().join(&format!(" {op} ")))
    };
    match query {
        Query::Phrase(p) => phrase(p),
        Query::And(parts) => list(parts, "AND"),
        Query::Or(parts) => list(parts, "OR"),
        Query::Not(a, b) => format!("({} NOT {})", fts5(a), fts5(b)),
        Query::Near { phrases, distance } => {
            format!("NEAR({}, {distance})", phrases.iter().map(phrase).collect::<Vec<_>>().join(" "))
        }
    }
}

fn phrase(p: &Phrase) -> String {
    format!("\"{}\"{}", p.words.join(" ").replace('"', "\"\""), if p.prefix { "*" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::query::parse;

    fn compiled(text: &str) -> String {
        fts5(&parse(text).unwrap())
    }

    #[test]
    fn queries_compile_to_fts5_with_every_word_quoted() {
        assert_eq!(compiled("podcast"), r#""podcast""#);
        assert_eq!(compiled("pod*"), r#""pod"*"#);
        assert_eq!(compiled("\"quiet guest\""), r#""quiet guest""#);
        assert_eq!(compiled("\"quiet gue\"*"), r#""quiet gue"*"#);
        assert_eq!(compiled("guest host"), r#"("guest" AND "host")"#);
        assert_eq!(compiled("guest AND host"), r#"("guest" AND "host")"#);
        assert_eq!(compiled("track OR music"), r#"("track" OR "music")"#);
        assert_eq!(compiled("guest NOT host"), r#"("guest" NOT "host")"#);
        assert_eq!(compiled("a NOT b c OR d"), r#"(("a" NOT ("b" AND "c")) OR "d")"#);
        assert_eq!(compiled("NEAR(speaker own, 5)"), r#"NEAR("speaker" "own", 5)"#);
        assert_eq!(compiled("NEAR(\"quiet guest\" loud*)"), r#"NEAR("quiet guest" "loud"*, 10)"#);
        // What would be FTS5 syntax arrives as words.
        assert_eq!(compiled("\"'; DROP TABLE rooms; --\""), r#""DROP TABLE rooms""#);
        assert_eq!(compiled("don't"), r#""don t""#);
        assert_eq!(compiled("text:NEAR"), r#""NEAR""#);
        assert_eq!(compiled("\"OR\" \"NOT\""), r#"("OR" AND "NOT")"#);
    }

    #[test]
    fn a_quote_inside_a_word_cannot_end_its_string() {
        // The parser never makes such a word; the compiler is safe without relying on that.
        let q = Query::Phrase(Phrase { words: vec!["a\" OR \"b".into()], prefix: false });
        assert_eq!(fts5(&q), r#""a"" OR ""b""#);
    }
}
