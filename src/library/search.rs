//! Searching what was said: the query, and hits with the match highlighted and the moment to jump
//! to. What users type is roomcast's query language (`super::query`).

use std::path::PathBuf;

use serde::Serialize;

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
    /// The words are a live caption (the room was not transcribed after it yet).
    pub live_caption: bool,
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
        let mut h = serializer.serialize_struct("Hit", 13)?;
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
        h.serialize_field("live_caption", &self.live_caption)?;
        h.end()
    }
}

/// Lower-case letters and digits only: how a highlighted token and a timed word are compared.
fn folded(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The start of the first highlighted word, found among the segment's timed words: by position
/// when the word there is the same word, else by the first word that is.
pub(crate) fn first_match_time(highlighted: &str, words: &[(i64, f64, String)]) -> Option<f64> {
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
