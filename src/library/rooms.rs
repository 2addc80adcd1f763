//! Rooms as the library knows them.

use std::path::PathBuf;

use serde::Serialize;

use super::Output;

#[derive(Debug, Clone, Serialize)]
pub struct SpeakerSummary {
    pub id: String,
    pub name: String,
    /// The track, relative to the session folder (none for a transcript-only speaker).
    pub track: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoomSummary {
    pub id: String,
    pub title: String,
    pub started_at: String,
    pub duration: f64,
    pub status: String,
    pub session: PathBuf,
    pub private: bool,
    pub speakers: Vec<SpeakerSummary>,
    pub segments: u64,
    pub outputs: Vec<Output>,
    /// Its words are the live captions made while it was recorded (no transcript yet).
    pub live_captions: bool,
}

impl RoomSummary {
    /// The file to replay: the master if there is one (MP3 first: every player has it), else the
    /// first speaker's track.
    pub fn replay_file(&self, speaker: Option<&str>) -> Option<PathBuf> {
        if let Some(name) = speaker {
            let s = self.speakers.iter().find(|s| s.name.eq_ignore_ascii_case(name) || s.id == name)?;
            return s.track.as_ref().map(|t| self.session.join(t));
        }
        for ext in ["mp3", "opus", "wav"] {
            if let Some(o) =
                self.outputs.iter().find(|o| o.kind == "master" && o.path.extension().is_some_and(|e| e == ext))
            {
                return Some(o.path.clone());
            }
        }
        self.speakers.iter().find_map(|s| s.track.as_ref()).map(|t| self.session.join(t))
    }
}
