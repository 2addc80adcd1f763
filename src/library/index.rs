//! What goes into the library with a room: its published files, and what indexing it did.

use serde::Serialize;

use crate::session::RoomStatus;

pub use crate::session::{Output, outputs_of};

#[derive(Debug, Clone, Serialize)]
pub struct IndexReport {
    pub room: String,
    pub title: String,
    pub speakers: usize,
    pub segments: usize,
    pub words: usize,
    pub outputs: usize,
    /// The room was in the library before: its rows were replaced.
    pub replaced: bool,
}

/// A segment's words as the database keeps them: `[[start, end, probability, "text"], ...]`, times
/// to the millisecond. `None` when the transcript has no word timings.
pub(crate) fn pack_words(words: &[crate::transcript::Word]) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let ms = |t: f64| (t * 1000.0).round() / 1000.0;
    let rows: Vec<serde_json::Value> = words
        .iter()
        .map(|w| {
            serde_json::json!([ms(w.start), ms(w.end), ((w.probability as f64) * 1000.0).round() / 1000.0, w.text])
        })
        .collect();
    Some(serde_json::Value::Array(rows).to_string())
}

/// The words of `pack_words`, as (position, start, text).
pub(crate) fn unpack_words(json: Option<&str>) -> Vec<(i64, f64, String)> {
    let Some(rows) = json.and_then(|j| serde_json::from_str::<Vec<(f64, f64, f64, String)>>(j).ok()) else {
        return Vec::new();
    };
    rows.into_iter().enumerate().map(|(n, (start, _, _, text))| (n as i64, start, text)).collect()
}

/// RFC 3339 UTC to the second: the form every catalog stores and compares as text.
pub(crate) fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A room's status as every catalog stores it.
pub(crate) fn status_name(status: RoomStatus) -> &'static str {
    match status {
        RoomStatus::Recording => "recording",
        RoomStatus::Complete => "complete",
        RoomStatus::Interrupted => "interrupted",
    }
}
