//! `roomcast recover`: finalizes a session whose recorder died (power loss, `kill -9`). Every track is
//! read as far as it is readable and rewritten, through a temporary file, with an end-of-stream page
//! and the room's common length; room.json gets its duration, end time and status `interrupted`.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::Duration as ChronoDuration;
use serde::Serialize;

use crate::session::{self, RoomStatus, Session, TempGuard, temp_path};
use crate::track::{SAMPLE_RATE, TrackError, TrackReader, TrackWriter};

#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    #[error(transparent)]
    Session(#[from] session::SessionError),
    #[error("{path}: {source}")]
    Track { path: PathBuf, source: TrackError },
    #[error("{0}: the session is complete; nothing to recover")]
    Complete(PathBuf),
}

#[derive(Debug, Clone, Serialize)]
pub struct RecoveredTrack {
    pub speaker: String,
    pub packets: u64,
    /// Room time the track was readable to, in seconds.
    pub readable_to: f64,
    pub was_complete: bool,
    /// The track file was missing or had no readable header; an empty track was written.
    pub rebuilt_empty: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecoverReport {
    pub session: PathBuf,
    pub duration: f64,
    pub tracks: Vec<RecoveredTrack>,
}

struct Salvaged {
    head: crate::track::OpusHead,
    tags: crate::track::OpusTags,
    packets: Vec<crate::track::TrackPacket>,
    end: u64,
    complete: bool,
}

fn salvage(path: &Path) -> Option<Salvaged> {
    let mut reader = TrackReader::open(path).ok()?;
    let mut packets = Vec::new();
    // Read up to the damage; whatever follows a hard error is lost, what precedes it is kept.
    while let Ok(Some(p)) = reader.next_packet() {
        packets.push(p);
    }
    let complete = reader.saw_eos && !reader.damage().truncated;
    Some(Salvaged { end: reader.end(), head: reader.head.clone(), tags: reader.tags.clone(), packets, complete })
}

pub fn recover(dir: &Path) -> Result<RecoverReport, RecoverError> {
    let mut session = Session::open(dir)?;
    if session.room.status == RoomStatus::Complete {
        return Err(RecoverError::Complete(dir.to_path_buf()));
    }
    let salvaged: Vec<Option<Salvaged>> =
        session.room.speakers.iter().map(|s| salvage(&session.track_path(s))).collect();
    // The room lasted as long as its longest readable track.
    let room_end = salvaged.iter().flatten().map(|s| s.end.saturating_sub(s.head.pre_skip as u64)).max().unwrap_or(0);
    let mut tracks = Vec::new();
    for (speaker, salvaged) in session.room.speakers.iter().zip(salvaged) {
        let path = session.track_path(speaker);
        let tmp = temp_path(&path);
        let guard = TempGuard(tmp.clone());
        let file = File::create(&tmp).map_err(|e| RecoverError::Track { path: tmp.clone(), source: e.into() })?;
        let track_err = |source| RecoverError::Track { path: path.clone(), source };
        let (head, tags, packets, complete, rebuilt) = match salvaged {
            Some(s) => (s.head, s.tags, s.packets, s.complete, false),
            None => (
                crate::track::OpusHead::new(2, super::writer::LIVE_PRE_SKIP),
                crate::track::OpusTags::new(format!("roomcast {}", env!("CARGO_PKG_VERSION"))),
                Vec::new(),
                false,
                true,
            ),
        };
        let pre_skip = head.pre_skip as u64;
        let mut writer = TrackWriter::new(BufWriter::new(file), &head, &tags, 1).map_err(|e| track_err(e.into()))?;
        let mut readable_to = 0;
        for p in &packets {
            writer.write_at(p.start, &p.data).map_err(track_err)?;
            readable_to = p.start + p.samples as u64;
        }
        let out = writer.finish(Some(room_end)).map_err(track_err)?;
        out.into_inner().map_err(|e| track_err(e.into_error().into()))?.sync_all().map_err(|e| track_err(e.into()))?;
        fs::rename(&tmp, &path).map_err(|e| track_err(e.into()))?;
        guard.keep();
        tracks.push(RecoveredTrack {
            speaker: speaker.id.clone(),
            packets: packets.len() as u64,
            readable_to: readable_to.saturating_sub(pre_skip) as f64 / SAMPLE_RATE as f64,
            was_complete: complete,
            rebuilt_empty: rebuilt,
        });
    }
    let duration = room_end as f64 / SAMPLE_RATE as f64;
    let room = &mut session.room;
    for s in &mut room.speakers {
        for interval in &mut s.intervals {
            if interval.end.is_none_or(|e| e > duration) {
                interval.end = Some(duration.max(interval.start));
            }
        }
    }
    room.duration = duration;
    room.ended_at = Some(room.started_at + ChronoDuration::milliseconds((duration * 1000.0) as i64));
    room.status = RoomStatus::Interrupted;
    session.save()?;
    Ok(RecoverReport { session: dir.to_path_buf(), duration, tracks })
}
