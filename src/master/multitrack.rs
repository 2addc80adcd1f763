//! Multitrack export: one WAV per speaker, all the room's length and starting at room time 0, so a
//! DAW imports them in sync. The audio is the speaker's as recorded (no leveling, no limiting).

use std::fs;
use std::path::Path;

use serde::Serialize;

use super::MasterError;
use super::sink::{OutputFile, Sink, WavSink};
use super::source::TrackSource;
use crate::progress::Progress;
use crate::session::Session;
use crate::track::SAMPLE_RATE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MultitrackFormat {
    Wav,
}

pub fn write(
    session: &Session,
    _format: MultitrackFormat,
    length: u64,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Vec<OutputFile>, MasterError> {
    fs::create_dir_all(dir).map_err(|source| MasterError::Write { path: dir.to_path_buf(), source })?;
    let speakers = &session.room.speakers;
    // Redacted spans leave the multitrack export as they leave the master.
    let events = session.events()?;
    progress.begin("multitrack", length * 1000 / SAMPLE_RATE as u64 * speakers.len() as u64);
    let outputs = crate::parallel::map(speakers.iter().collect(), |speaker: &crate::session::Speaker| {
        let mut sink = Box::new(WavSink::create(&dir.join(format!("{}.wav", speaker.id)), false, false)?);
        let muted = crate::session::edits::redactions(&events, &speaker.id);
        TrackSource::open(&session.track_path(speaker))?.muting(&muted).for_each_block(length, |block, _| {
            progress.advance(block.len() as u64 * 1000 / SAMPLE_RATE as u64);
            sink.write(block)
        })?;
        sink.finish().map(|(file, _)| file)
    });
    progress.end();
    outputs
}
