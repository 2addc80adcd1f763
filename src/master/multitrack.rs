//! Multitrack export: one WAV per speaker, all the room's length and starting at room time 0, so a
//! DAW imports them in sync. The audio is the speaker's as recorded (no leveling, no limiting).

use std::fs;
use std::path::Path;

use serde::Serialize;

use super::sink::{OutputFile, Sink, WavSink};
use super::source::TrackSource;
use super::{BLOCK, MasterError, parallel_map};
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
    let paths: Vec<_> = speakers.iter().map(|s| session.track_path(s)).collect();
    progress.begin("multitrack", length * 1000 / SAMPLE_RATE as u64 * paths.len() as u64);
    let outputs = parallel_map(&paths, |track| {
        let id = speakers.iter().find(|s| session.track_path(s) == track).map(|s| s.id.as_str()).unwrap_or("speaker");
        let mut sink = Box::new(WavSink::create(&dir.join(format!("{id}.wav")), false, false)?);
        let mut src = TrackSource::open(track)?;
        let mut block = vec![0.0f32; BLOCK];
        let mut pos = 0u64;
        while pos < length {
            let n = (BLOCK as u64).min(length - pos) as usize;
            src.next_block(&mut block[..n])?;
            sink.write(&block[..n])?;
            pos += n as u64;
            progress.advance(n as u64 * 1000 / SAMPLE_RATE as u64);
        }
        sink.finish().map(|(file, _)| file)
    });
    progress.end();
    outputs
}
