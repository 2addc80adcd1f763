//! Searching the PostgreSQL catalog, with the SQLite catalog's results.
//!
//! The full-text index is a tsvector with positions that roomcast computes (`lexemes`), not the
//! server: words are split where SQLite's unicode61 tokenizer splits them (`query::words`), case
//! and diacritics are folded (Unicode NFD, combining marks dropped), and each word is reduced to
//! its English Snowball stem (porter2; SQLite's index uses the original Porter stemmer, which
//! agrees on nearly every word). No stop words are dropped: "the" is searchable, as in SQLite.
//!
//! roomcast's query tree compiles to a tsquery (`tsquery`) in which every lexeme is quoted, and
//! that text is cast to `tsquery` (not parsed by `to_tsquery`) from a bound parameter, so nothing
//! the user types is tsquery or SQL syntax. Words next to each other compile to `<->`, a prefix to
//! `:*`, AND/OR/NOT to `&`, `|`, `& !`. Differences from SQLite, all at the edges:
//!
//! - `NEAR(a b, N)` compiles, for every pair of its phrases, to "one follows the other (either
//!   order) with at most N words between them" (`<1>` .. `<N+1>`); FTS5 asks for all phrases in
//!   one window, so with three or more phrases PostgreSQL can match where the pairs are close in
//!   different places of a segment. Beyond `NEAR_SPELLED_OUT` the pair is only "both in the
//!   segment" (segments are a sentence or two, so this rarely differs).
//! - A prefix (`pod*`) is matched against stems, unstemmed itself (FTS5 stems a prefix term).
//! - Ranking is `ts_rank` (higher is better) negated into `Hit::score`, so lower is better there
//!   as with bm25; the values differ from SQLite's.
//!
//! Snippets and highlights are made here, from the segment's text and the query's phrases, with the
//! marks and the 16-word window of the SQLite catalog's `snippet`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use postgres::IsolationLevel;
use postgres::error::SqlState;
use unicode_normalization::UnicodeNormalization;

use super::rooms::find_room_in;
use super::{PostgresCatalog, classify};
use crate::library::index::timestamp;
use crate::library::index::unpack_words;
use crate::library::query::{Phrase, Query, is_word_char};
use crate::library::search::{MATCH_END, MATCH_START, first_match_time};
use crate::library::sqlite::RANKED_MATCHES;
use crate::library::{Hit, LibraryError, Result, SearchQuery};

/// NEAR distances up to this are spelled out as `<1> | .. | <N+1>`; larger ones mean "both".
pub const NEAR_SPELLED_OUT: u32 = 50;

/// Words of the snippet around the first match (FTS5's `snippet(..., 16)`).
const SNIPPET_WORDS: usize = 16;

/// PostgreSQL's limits on a tsvector: positions, positions per lexeme, lexeme bytes.
const MAX_POSITION: usize = 16_383;
const MAX_POSITIONS_PER_LEXEME: usize = 255;
const MAX_LEXEME_BYTES: usize = 2_046;

/// A word in lower case without diacritics: what the index and the query compare.
fn fold(word: &str) -> String {
    let folded: String = word
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    // A "word" of accents alone keeps them rather than vanish.
    if folded.is_empty() { word.to_lowercase() } else { folded }
}

fn stem(folded: &str) -> String {
    thread_local! {
        static STEMMER: rust_stemmers::Stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
    }
    STEMMER.with(|s| s.stem(folded).into_owned())
}

/// The words of `text` as (byte start, byte end, lexeme).
fn tokens(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (is_word_char(c) && i < text.len(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i, stem(&fold(&text[s..i]))));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// A lexeme as tsvector and tsquery input quote it.
fn quote(lexeme: &str) -> String {
    format!("'{}'", lexeme.replace('\\', "\\\\").replace('\'', "''"))
}

/// The segment text's tsvector, as text for a `::tsvector` cast: each lexeme with its positions.
pub fn lexemes(text: &str) -> String {
    let mut at: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (n, (_, _, lexeme)) in tokens(text).into_iter().enumerate() {
        if lexeme.len() > MAX_LEXEME_BYTES {
            continue;
        }
        let positions = at.entry(lexeme).or_default();
        let position = (n + 1).min(MAX_POSITION);
        if positions.len() < MAX_POSITIONS_PER_LEXEME && positions.last() != Some(&position) {
            positions.push(position);
        }
    }
    at.iter()
        .map(|(l, p)| format!("{}:{}", quote(l), p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A phrase's words as lexemes: (lexeme, matches any lexeme it starts).
fn phrase_lexemes(p: &Phrase) -> Vec<(String, bool)> {
    let last = p.words.len().saturating_sub(1);
    p.words
        .iter()
        .enumerate()
        .map(|(i, w)| if i == last && p.prefix { (fold(w), true) } else { (stem(&fold(w)), false) })
        .collect()
}

fn phrase(p: &Phrase) -> String {
    let parts: Vec<String> = phrase_lexemes(p)
        .iter()
        .map(|(l, prefix)| format!("{}{}", quote(l), if *prefix { ":*" } else { "" }))
        .collect();
    format!("({})", parts.join(" <-> "))
}

/// The query as tsquery text (for a `::tsquery` cast), every lexeme quoted and every group
/// parenthesised, so precedence is the tree's.
pub fn tsquery(query: &Query) -> String {
    let list = |parts: &[Query], op: &str| {
        format!("({})", parts.iter().map(tsquery).collect::<Vec<_>>().join(&format!(" {op} ")))
    };
    match query {
        Query::Phrase(p) => phrase(p),
        Query::And(parts) => list(parts, "&"),
        Query::Or(parts) => list(parts, "|"),
        Query::Not(a, b) => format!("({} & !{})", tsquery(a), tsquery(b)),
        Query::Near { phrases, distance } => {
            let mut pairs = Vec::new();
            for (i, a) in phrases.iter().enumerate() {
                for b in &phrases[i + 1..] {
                    let (a, b) = (phrase(a), phrase(b));
                    if *distance > NEAR_SPELLED_OUT {
                        pairs.push(format!("({a} & {b})"));
                    } else {
                        let either: Vec<String> = (1..=distance + 1)
                            .flat_map(|d| [format!("{a} <{d}> {b}"), format!("{b} <{d}> {a}")])
                            .collect();
                        pairs.push(format!("({})", either.join(" | ")));
                    }
                }
            }
            format!("({})", pairs.join(" & "))
        }
    }
}

/// The phrases a match is marked for: all of the query's, except what a NOT excludes.
fn marked_phrases(query: &Query, out: &mut Vec<Vec<(String, bool)>>) {
    match query {
        Query::Phrase(p) => out.push(phrase_lexemes(p)),
        Query::And(parts) | Query::Or(parts) => parts.iter().for_each(|q| marked_phrases(q, out)),
        Query::Not(a, _) => marked_phrases(a, out),
        Query::Near { phrases, .. } => out.extend(phrases.iter().map(phrase_lexemes)),
    }
}

/// The text with every instance of the phrases marked (overlapping ones as one), and the snippet:
/// the same marks within at most `SNIPPET_WORDS` words from just before the first match, `…` where
/// text was cut.
fn highlight(text: &str, phrases: &[Vec<(String, bool)>]) -> (String, String) {
    let tokens = tokens(text);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in 0..tokens.len() {
        for p in phrases {
            let fits = !p.is_empty()
                && i + p.len() <= tokens.len()
                && p.iter()
                    .zip(&tokens[i..])
                    .all(|((l, prefix), t)| if *prefix { t.2.starts_with(l.as_str()) } else { t.2 == *l });
            if fits {
                spans.push((i, i + p.len() - 1));
            }
        }
    }
    spans.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let marked = |lo: usize, hi: usize, from: usize, to: usize| {
        let mut out = String::new();
        let mut at = from;
        for &(a, b) in &merged {
            let (a, b) = (a.max(lo), b.min(hi.saturating_sub(1)));
            if a > b || b < lo || a >= hi {
                continue;
            }
            out.push_str(&text[at..tokens[a].0]);
            out.push(MATCH_START);
            out.push_str(&text[tokens[a].0..tokens[b].1]);
            out.push(MATCH_END);
            at = tokens[b].1;
        }
        out.push_str(&text[at..to]);
        out
    };
    let full = marked(0, tokens.len(), 0, text.len());
    if tokens.len() <= SNIPPET_WORDS {
        return (full.clone(), full);
    }
    let first = merged.first().map_or(0, |m| m.0);
    let lo = first.saturating_sub(3).min(tokens.len() - SNIPPET_WORDS);
    let hi = lo + SNIPPET_WORDS;
    let from = if lo == 0 { 0 } else { tokens[lo].0 };
    let to = if hi == tokens.len() { text.len() } else { tokens[hi - 1].1 };
    let mut snippet = String::new();
    if lo > 0 {
        snippet.push('…');
    }
    snippet.push_str(&marked(lo, hi, from, to));
    if hi < tokens.len() {
        snippet.push('…');
    }
    (full, snippet)
}

impl PostgresCatalog {
    pub(super) fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let text = query.text.trim();
        let tree = crate::library::parse_query(text)?;
        let expression = tsquery(&tree);
        let mut phrases = Vec::new();
        marked_phrases(&tree, &mut phrases);
        let db = |e| classify(&self.name, e);
        // The compiled tsquery is valid by construction; should the server still refuse it (a limit
        // of its own), that is said as the user's query being refused, not as a failing database.
        let bad = |e: postgres::Error| match e.code() {
            Some(c) if *c == SqlState::SYNTAX_ERROR || *c == SqlState::PROGRAM_LIMIT_EXCEEDED => {
                LibraryError::BadQuery {
                    query: text.to_string(),
                    reason: e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()),
                }
            }
            _ => classify(&self.name, e),
        };
        let mut client = self.client.borrow_mut();
        // One snapshot for ranking and details: a room re-indexed in between must not make a
        // ranked segment vanish before its details are read.
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db)?;
        let room = match &query.room {
            Some(key) => Some(find_room_in(&mut tx, &self.name, key, query.include_private)?.id),
            None => None,
        };
        // The newest RANKED_MATCHES matches (all of them when fewer), and the best of those.
        let ranked: Vec<(i64, f64)> = tx
            .query(
                "SELECT id, score FROM (
                     SELECT s.id, (-ts_rank(s.lexemes, q.q))::float8 AS score
                     FROM (SELECT $1::text::tsquery AS q) q
                     JOIN segments s ON s.lexemes @@ q.q
                     JOIN rooms r ON r.id = s.room_id
                     LEFT JOIN speakers sp ON sp.room_id = s.room_id AND sp.id = s.speaker_id
                     WHERE ($2::text IS NULL OR lower(sp.name) = lower($2::text) OR s.speaker_id = $2::text)
                       AND ($3::text IS NULL OR r.id = $3::text)
                       AND ($4::text IS NULL OR r.started_at >= $4::text COLLATE \"C\")
                       AND ($5::text IS NULL OR r.started_at < $5::text COLLATE \"C\")
                       AND (NOT r.private OR $6::boolean)
                     ORDER BY s.id DESC LIMIT $8::bigint) m
                 ORDER BY score, id LIMIT $7::bigint",
                &[
                    &expression,
                    &query.speaker,
                    &room,
                    &query.since.map(timestamp),
                    &query.until.map(timestamp),
                    &query.include_private,
                    &(query.limit.max(1) as i64),
                    &RANKED_MATCHES,
                ],
            )
            .map_err(bad)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        // Every hit's details, and the masters of their rooms, in two round trips: a query per hit
        // cost about a millisecond each over the socket.
        let ids: Vec<i64> = ranked.iter().map(|(id, _)| *id).collect();
        let mut details: HashMap<i64, postgres::Row> = tx
            .query(
                "SELECT s.id, s.room_id, r.title, r.started_at, s.speaker_id, COALESCE(sp.name, s.speaker_id),
                        s.start, s.\"end\", s.text, s.words, r.captions
                 FROM segments s JOIN rooms r ON r.id = s.room_id
                 LEFT JOIN speakers sp ON sp.room_id = s.room_id AND sp.id = s.speaker_id
                 WHERE s.id = ANY($1)",
                &[&ids],
            )
            .map_err(db)?
            .into_iter()
            .map(|r| (r.get(0), r))
            .collect();
        let rooms: Vec<String> = details.values().map(|r| r.get(1)).collect();
        let mut masters: HashMap<String, Vec<String>> = HashMap::new();
        for r in tx
            .query("SELECT room_id, path FROM outputs WHERE room_id = ANY($1) AND kind = 'master'", &[&rooms])
            .map_err(db)?
        {
            masters.entry(r.get(0)).or_default().push(r.get(1));
        }
        // Without a master, a room replays from its first speaker's track (`RoomSummary::replay_file`).
        let mut first_tracks: HashMap<String, PathBuf> = HashMap::new();
        for r in tx
            .query(
                "SELECT r.id, r.session, (SELECT track FROM speakers sp WHERE sp.room_id = r.id AND sp.track IS NOT NULL
                                          ORDER BY sp.n LIMIT 1)
                 FROM rooms r WHERE r.id = ANY($1)",
                &[&rooms],
            )
            .map_err(db)?
        {
            if let Some(track) = r.get::<_, Option<String>>(2) {
                first_tracks.insert(r.get(0), PathBuf::from(r.get::<_, String>(1)).join(track));
            }
        }
        let mut hits = Vec::with_capacity(ranked.len());
        for (id, score) in ranked {
            // Read in the same snapshot as the ranking: every ranked segment is there.
            let Some(r) = details.remove(&id) else { continue };
            let (highlighted, snippet) = highlight(r.get(8), &phrases);
            let mut hit = Hit {
                room: r.get(1),
                title: r.get(2),
                started_at: r.get(3),
                speaker: r.get(4),
                name: r.get(5),
                segment_start: r.get(6),
                segment_end: r.get(7),
                at: r.get(6),
                score,
                snippet,
                replay: None,
                live_caption: r.get(10),
            };
            let timed = unpack_words(r.get::<_, Option<&str>>(9));
            if let Some(at) = first_match_time(&highlighted, &timed) {
                hit.at = at;
            }
            let paths = masters.get(&hit.room).map(Vec::as_slice).unwrap_or_default();
            hit.replay = ["mp3", "opus", "wav"]
                .iter()
                .find_map(|ext| paths.iter().find(|p| p.ends_with(&format!(".{ext}"))))
                .map(PathBuf::from)
                .or_else(|| first_tracks.get(&hit.room).cloned());
            hits.push(hit);
        }
        tx.commit().map_err(db)?;
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::query::parse;

    fn compiled(text: &str) -> String {
        tsquery(&parse(text).unwrap())
    }

    #[test]
    fn queries_compile_to_tsquery_with_every_lexeme_quoted() {
        assert_eq!(compiled("Podcasts"), "('podcast')");
        assert_eq!(compiled("pod*"), "('pod':*)");
        assert_eq!(compiled("\"quiet guest\""), "('quiet' <-> 'guest')");
        assert_eq!(compiled("\"quiet gue\"*"), "('quiet' <-> 'gue':*)");
        assert_eq!(compiled("guest host"), "(('guest') & ('host'))");
        assert_eq!(compiled("track OR music"), "(('track') | ('music'))");
        assert_eq!(compiled("guest NOT host"), "(('guest') & !('host'))");
        assert_eq!(compiled("a NOT b c OR d"), "((('a') & !(('b') & ('c'))) | ('d'))");
        assert_eq!(
            compiled("NEAR(speaker own, 1)"),
            "((('speaker') <1> ('own') | ('own') <1> ('speaker') | ('speaker') <2> ('own') | ('own') <2> ('speaker')))"
        );
        assert_eq!(compiled("NEAR(a b, 1000)"), "((('a') & ('b')))");
        // Diacritics and case folded; what would be tsquery or SQL syntax arrives as words.
        assert_eq!(compiled("Café"), "('cafe')");
        assert_eq!(compiled("\"'; DROP TABLE rooms; --\""), "('drop' <-> 'tabl' <-> 'room')");
        assert_eq!(compiled("\"a:* | b\""), "('a' <-> 'b')");
    }

    #[test]
    fn a_quote_or_backslash_inside_a_lexeme_cannot_end_it() {
        // The parser never makes such a word; the compiler is safe without relying on that.
        let q = Query::Phrase(Phrase { words: vec!["a' | 'b\\".into()], prefix: false });
        assert_eq!(tsquery(&q), r"('a'' | ''b\\')");
    }

    #[test]
    fn lexemes_have_positions_folded_and_stemmed() {
        assert_eq!(
            lexemes("Naïve recording of a café-conversation"),
            "'a':4 'cafe':5 'convers':6 'naiv':1 'of':3 'record':2"
        );
        assert_eq!(lexemes("podcast podcast, Podcasts!"), "'podcast':1,2,3");
        assert_eq!(lexemes("¡!"), "");
    }

    #[test]
    fn highlights_mark_phrases_and_snippets_cut_long_text() {
        let mut phrases = Vec::new();
        marked_phrases(&parse("\"quiet guest\" OR loud*").unwrap(), &mut phrases);
        let (full, snippet) = highlight("Loudness matters when a quiet guest speaks", &phrases);
        assert_eq!(full, "\u{2}Loudness\u{3} matters when a \u{2}quiet guest\u{3} speaks");
        assert_eq!(snippet, full);
        let long = format!("{} quiet guest {}", "x ".repeat(30).trim(), "y ".repeat(30).trim());
        let (_, snippet) = highlight(&long, &phrases);
        assert!(snippet.starts_with("…x x x \u{2}quiet guest\u{3} y"), "{snippet}");
        assert!(snippet.ends_with('…'), "{snippet}");
    }
}
