//! Searching what was said: FTS5 over segment text (case and diacritics folded, English stems),
//! ranked by bm25, with the match highlighted and the moment to jump to. The user's query is always
//! bound as a parameter, never spliced into SQL; FTS5's own syntax (words, `pod*`, `"a phrase"`,
//! AND/OR/NOT, NEAR) is what users type.

use std::path::PathBuf;

use rusqlite::params;
use serde::Serialize;

use super::{Library, LibraryError, Result, timestamp};

/// Marks the start and end of a match in `Hit::snippet` (control characters never found in text):
/// the terminal turns them into colour, a web page into `<mark>`.
pub const MATCH_START: char = '\u{2}';
pub const MATCH_END: char = '\u{3}';

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    /// A speaker's name (any case) or id.
    pub speaker: Option<String>,
    /// A room id, title or id prefix.
    pub room: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    pub limit: usize,
    pub include_private: bool,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub room: String,
    pub title: String,
    pub started_at: String,
    pub speaker: String,
    pub name: String,
    /// Where to jump: the first matching word's start on the room clock (the segment's start when
    /// the transcript has no word timings).
    pub at: f64,
    pub segment_start: f64,
    pub segment_end: f64,
    /// The text around the match, with matches between `MATCH_START` and `MATCH_END`.
    pub snippet: String,
    /// bm25: lower is better.
    pub score: f64,
    /// The file to replay the moment from, if the library knows one.
    pub replay: Option<PathBuf>,
}

/// The snippet as plain text and where its matches are, in characters (Unicode scalar values):
/// JSON consumers get no control bytes to strip.
pub fn split_snippet(marked: &str) -> (String, Vec<[usize; 2]>) {
    let (mut text, mut matches, mut chars, mut open) = (String::new(), Vec::new(), 0usize, None);
    for c in marked.chars() {
        match c {
            MATCH_START => open = Some(chars),
            MATCH_END => {
                if let Some(start) = open.take() {
                    matches.push([start, chars]);
                }
            }
            c => {
                text.push(c);
                chars += 1;
            }
        }
    }
    (text, matches)
}

impl Serialize for Hit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (snippet, matches) = split_snippet(&self.snippet);
        let mut h = serializer.serialize_struct("Hit", 12)?;
        h.serialize_field("room", &self.room)?;
        h.serialize_field("title", &self.title)?;
        h.serialize_field("started_at", &self.started_at)?;
        h.serialize_field("speaker", &self.speaker)?;
        h.serialize_field("name", &self.name)?;
        h.serialize_field("at", &self.at)?;
        h.serialize_field("segment_start", &self.segment_start)?;
        h.serialize_field("segment_end", &self.segment_end)?;
        h.serialize_field("snippet", &snippet)?;
        h.serialize_field("matches", &matches)?;
        h.serialize_field("score", &self.score)?;
        h.serialize_field("replay", &self.replay)?;
        h.end()
    }
}

/// Beyond this many matches, only the newest this many are ranked: a word said in most segments
/// (a "the") would otherwise cost a bm25 score for every one of them, hundreds of milliseconds in a
/// big library, to order hits that all score alike.
pub const RANKED_MATCHES: i64 = 5_000;

impl Library {
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let text = query.text.trim();
        if text.is_empty() {
            return Err(LibraryError::EmptyQuery);
        }
        // One snapshot for ranking and details: a room re-indexed in between must not make a
        // ranked segment vanish before its details are read.
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.db_err(e))?;
        let room = match &query.room {
            Some(key) => Some(self.find_room(key, query.include_private)?.id),
            None => None,
        };
        // The query text is the only thing from outside in these statements: a plain SQL error
        // while running them is FTS5 refusing the query ("fts5: syntax error near ...",
        // "unterminated string", "no such column" for `word:word`).
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
            text,
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
                "SELECT s.room_id, r.title, r.started_at, s.speaker_id, COALESCE(sp.name, s.speaker_id), s.start, s.end
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
                    })
                })
                .map_err(|e| self.db_err(e))?;
            let (snippet, highlighted): (String, String) =
                marks.query_row(params![text, id], |r| Ok((r.get(0)?, r.get(1)?))).map_err(bad)?;
            hit.snippet = snippet;
            let packed: Option<String> = words.query_row([id], |r| r.get(0)).map_err(|e| self.db_err(e))?;
            let timed = super::index::unpack_words(packed.as_deref());
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

/// Lower-case letters and digits only: how a highlighted token and a timed word are compared.
fn folded(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The start of the first highlighted word, found among the segment's timed words: by position
/// when the word there is the same word, else by the first word that is.
fn first_match_time(highlighted: &str, words: &[(i64, f64, String)]) -> Option<f64> {
    let at = highlighted.find(MATCH_START)?;
    let before = highlighted[..at].split_whitespace().count();
    // The match can start inside a word ("pod*" matches "podcast's" from its start, but a token
    // may also follow punctuation glued to it).
    let glued = !highlighted[..at].ends_with(char::is_whitespace) && at > 0;
    let index = if glued { before.saturating_sub(1) } else { before };
    let rest = &highlighted[at + MATCH_START.len_utf8()..];
    // A phrase is marked as one span: its first word is where it starts.
    let token = folded(rest.split(MATCH_END).next().unwrap_or("").split_whitespace().next().unwrap_or(""));
    if token.is_empty() {
        return None;
    }
    if let Some((_, start, text)) = words.iter().find(|(n, _, _)| *n == index as i64)
        && folded(text).contains(&token)
    {
        return Some(*start);
    }
    words.iter().find(|(_, _, text)| folded(text).contains(&token)).map(|(_, start, _)| *start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(n: i64, start: f64, text: &str) -> (i64, f64, String) {
        (n, start, text.to_string())
    }

    #[test]
    fn the_hit_time_is_the_first_matching_words_start() {
        let words = [w(0, 10.0, "We"), w(1, 10.3, "recorded"), w(2, 10.9, "the"), w(3, 11.1, "podcast.")];
        assert_eq!(first_match_time("We recorded the \u{2}podcast\u{3}.", &words), Some(11.1));
        assert_eq!(first_match_time("\u{2}We\u{3} recorded", &words), Some(10.0));
        assert_eq!(first_match_time("no match", &words), None);
        // Words that do not line up with the text (an edited transcript): found by the word itself.
        let shifted = [w(0, 5.0, "Um,"), w(1, 5.2, "we"), w(2, 5.5, "recorded")];
        assert_eq!(first_match_time("We \u{2}recorded\u{3}", &shifted), Some(5.5));
    }
}
