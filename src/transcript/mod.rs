//! Transcripts: per-speaker segments on the room clock, merged into one timeline that keeps
//! overlapping speech for both speakers, and the files people and players read.
//!
//! Speaker names come from the tracks (one per speaker), so they are exact. The speech recognition
//! itself (whisper) produces `Segment`s per speaker; everything here works on plain data.

pub mod align;
pub mod export;
pub mod import;
pub mod models;
pub mod pack;
pub mod run;
pub mod score;
pub mod speech;
pub mod vad;
pub mod whisper;

pub use crate::session::transcript::{
    Segment, TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION, TranscriptDoc, TranscriptSpeaker, Word, ms,
};

/// Orders all speakers' segments into one timeline and marks overlapping speech (both sides kept).
pub fn merge(mut segments: Vec<Segment>) -> Vec<Segment> {
    segments.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.end.total_cmp(&b.end)).then(a.speaker.cmp(&b.speaker)));
    for s in &mut segments {
        s.overlap = false;
    }
    for i in 0..segments.len() {
        let mut j = i + 1;
        while j < segments.len() && segments[j].start < segments[i].end {
            if segments[j].speaker != segments[i].speaker && segments[j].end > segments[i].start {
                segments[i].overlap = true;
                segments[j].overlap = true;
            }
            j += 1;
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn seg(speaker: &str, start: f64, end: f64, text: &str) -> Segment {
        Segment {
            speaker: speaker.to_lowercase(),
            name: speaker.to_string(),
            start,
            end,
            text: text.to_string(),
            words: Vec::new(),
            overlap: false,
        }
    }

    #[test]
    fn merging_orders_by_time_and_marks_both_sides_of_an_overlap() {
        let merged = merge(vec![
            seg("Theo", 19.0, 19.7, "Exactly!"),
            seg("Maya", 15.0, 21.8, "Right. When you record a room as one mixed file..."),
            seg("Maya", 1.0, 7.1, "Welcome to Room Notes."),
            seg("Theo", 8.5, 13.7, "Thanks Maya."),
        ]);
        let order: Vec<(&str, f64, bool)> = merged.iter().map(|s| (s.name.as_str(), s.start, s.overlap)).collect();
        assert_eq!(
            order,
            vec![("Maya", 1.0, false), ("Theo", 8.5, false), ("Maya", 15.0, true), ("Theo", 19.0, true)],
            "both overlapping segments are kept and marked; the others are not"
        );
    }

    #[test]
    fn touching_segments_and_one_speakers_own_segments_are_not_overlap() {
        let merged = merge(vec![seg("Ana", 0.0, 2.0, "a"), seg("Ben", 2.0, 3.0, "b"), seg("Ben", 2.5, 4.0, "c")]);
        assert!(merged.iter().all(|s| !s.overlap), "{merged:?}");
    }
}
