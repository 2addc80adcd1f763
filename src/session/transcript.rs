//! transcript.json: the session's transcript, in roomcast's own versioned format, from which every
//! export is made. The document is plain data; whisper (transcript::run) and imported files
//! (transcript::import) make it, the library indexes it, the web page shows it.

use serde::{Deserialize, Serialize};

/// Seconds rounded to the millisecond: every time roomcast writes.
pub fn ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

fn serialize_ms<S: serde::Serializer>(seconds: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(ms(*seconds))
}

/// Probabilities to three places: more is noise in a file people read.
fn serialize_probability<S: serde::Serializer>(p: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((*p as f64 * 1000.0).round() / 1000.0)
}

/// A word with its room-clock times, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    #[serde(serialize_with = "serialize_ms")]
    pub start: f64,
    #[serde(serialize_with = "serialize_ms")]
    pub end: f64,
    pub text: String,
    #[serde(serialize_with = "serialize_probability")]
    pub probability: f32,
}

/// One stretch of one speaker's speech, on the room clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Speaker id (the session's, file-name safe).
    pub speaker: String,
    /// Display name, exactly as the room showed it.
    pub name: String,
    #[serde(serialize_with = "serialize_ms")]
    pub start: f64,
    #[serde(serialize_with = "serialize_ms")]
    pub end: f64,
    pub text: String,
    #[serde(default)]
    pub words: Vec<Word>,
    /// Someone else was speaking at the same time.
    #[serde(default)]
    pub overlap: bool,
}

/// The session's transcript file (transcript.json): our own versioned format, from which every
/// export is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptDoc {
    pub format: String,
    pub version: u32,
    pub room: String,
    pub title: String,
    #[serde(serialize_with = "serialize_ms")]
    pub duration: f64,
    pub speakers: Vec<TranscriptSpeaker>,
    pub segments: Vec<Segment>,
    /// The segments are the live captions of the room, not a transcript made after it (no model
    /// has transcribed the room yet): the library marks them so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub live_captions: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptSpeaker {
    pub id: String,
    pub name: String,
    pub language: Option<String>,
}

pub const TRANSCRIPT_FORMAT: &str = "roomcast-transcript";
pub const TRANSCRIPT_VERSION: u32 = 1;

impl TranscriptDoc {
    /// transcript.json's text: pretty JSON, every time in milliseconds.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("transcript serializes") + "\n"
    }

    /// Reads transcript.json's text; the error says what is wrong with it.
    pub fn from_json(text: &str) -> Result<TranscriptDoc, String> {
        let doc: TranscriptDoc = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if doc.format != TRANSCRIPT_FORMAT {
            return Err("not a roomcast transcript".into());
        }
        Ok(doc)
    }
}
