//! A session's state at a glance: its room, and each track's length and health.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::session::{Room, Session};
use crate::track;

#[derive(Debug, Clone, Serialize)]
pub struct TrackHealth {
    pub speaker: String,
    pub name: String,
    pub track: PathBuf,
    pub duration: f64,
    pub packets: u64,
    pub silence_frames: u64,
    /// Finalized (an end-of-stream page); a recording still running or killed is not.
    pub complete: bool,
    /// Pages lost, out of order, or with bad checksums or granules.
    pub damaged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub room: Room,
    pub tracks: Vec<TrackHealth>,
}

pub fn info(dir: &Path) -> Result<SessionInfo> {
    let session = Session::open(dir)?;
    let mut tracks = Vec::new();
    for s in &session.room.speakers {
        let path = session.track_path(s);
        let t = track::probe(&path).with_context(|| path.display().to_string())?;
        tracks.push(TrackHealth {
            speaker: s.id.clone(),
            name: s.name.clone(),
            track: path,
            duration: t.duration_secs(),
            packets: t.packets,
            silence_frames: t.silence_frames,
            complete: t.complete,
            damaged: t.damage != Default::default(),
        });
    }
    Ok(SessionInfo { room: session.room, tracks })
}
