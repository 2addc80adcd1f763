//! `roomcast recover`: finalizes a session whose recorder died (power loss, `kill -9`). Every track is
//! read as far as it is readable and rewritten, through a temporary file, with an end-of-stream page
//! and the room's common length; room.json gets its duration, end time and status `interrupted`.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use chrono::Duration as ChronoDuration;
use serde::Serialize;

use crate::session::{self, RoomStatus, Session, Speaker, TempGuard, temp_path};
use crate::track::{OpusHead, SAMPLE_RATE, TrackError, TrackReader, TrackWriter};

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
    /// The track file was missing or held nothing readable; an empty track was written.
    pub rebuilt_empty: bool,
    /// Headers that were damaged or missing and were rebuilt ("OpusHead", "OpusTags").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rebuilt_headers: Vec<&'static str>,
    /// Where the track as found was kept, because it had damage beyond a cut-off end: the
    /// rewritten track holds what could be read, the original stays for other tools to try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_kept: Option<PathBuf>,
    /// The track was in tracks/ but not in room.json (the recorder died before listing it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub found_unlisted: bool,
}

impl RecoveredTrack {
    /// What recovery did to the track, in words (empty: it was read as it was).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.found_unlisted {
            notes.push("found in tracks/, not in room.json: added".to_string());
        }
        if self.rebuilt_empty {
            notes.push("nothing readable: rebuilt empty".to_string());
        }
        if !self.rebuilt_headers.is_empty() {
            notes.push(format!("rebuilt {}", self.rebuilt_headers.join(" and ")));
        }
        if let Some(kept) = &self.original_kept {
            notes.push(format!("damaged: original kept as {}", kept.display()));
        }
        notes
    }
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
    rebuilt: Vec<&'static str>,
    /// Damage a rewrite cannot undo: the original is kept beside it.
    damaged: bool,
}

/// The header every live track is written with: what a lost or damaged one is rebuilt as.
fn live_head() -> OpusHead {
    OpusHead::new(2, super::writer::LIVE_PRE_SKIP)
}

/// Reads what can be read of a track. `None`: no Ogg pages at all (or no file).
fn salvage(path: &Path) -> Option<Salvaged> {
    let file = File::open(path).ok()?;
    let (mut reader, rebuilt) = TrackReader::new_salvaging(BufReader::new(file), &live_head()).ok()?;
    let mut packets = Vec::new();
    // Read up to the damage; whatever follows a hard error is lost, what precedes it is kept.
    while let Ok(Some(p)) = reader.next_packet() {
        packets.push(p);
    }
    let damage = reader.damage();
    let complete = reader.saw_eos && !damage.truncated;
    let damaged = !rebuilt.is_empty()
        || damage.bad_crc_pages + damage.lost_pages + damage.out_of_order_pages + damage.bad_granules > 0
        || reader.lost_packets() > 0;
    // A rebuilt head is the live one: stereo, which decodes mono and stereo packets alike.
    Some(Salvaged {
        end: reader.end(),
        head: reader.head.clone(),
        tags: reader.tags.clone(),
        packets,
        complete,
        rebuilt,
        damaged,
    })
}

/// Keeps the file as found under `<track>.orig` (the first one kept stays): a hard link where the
/// file system allows, so the original bytes survive the rename of the rewritten track over it.
fn keep_original(path: &Path) -> std::io::Result<PathBuf> {
    let mut kept = path.as_os_str().to_owned();
    kept.push(".orig");
    let kept = PathBuf::from(kept);
    if !kept.exists() && fs::hard_link(path, &kept).is_err() {
        fs::copy(path, &kept)?;
    }
    Ok(kept)
}

/// Tracks in tracks/ that room.json does not list: a recorder killed right after it opened a
/// speaker's track, before room.json was rewritten.
fn unlisted_tracks(session: &Session) -> Vec<Speaker> {
    let Ok(entries) = fs::read_dir(session.dir.join(session::TRACKS_DIR)) else {
        return Vec::new();
    };
    let mut found: Vec<Speaker> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let track = format!("{}/{name}", session::TRACKS_DIR);
            let id = name.strip_suffix(".opus")?.to_string();
            let listed = session.room.speakers.iter().any(|s| s.track == track || s.id == id);
            (session::is_track_path(&track) && session::is_safe_id(&id) && session::slug(&id) == id && !listed)
                .then(|| Speaker { name: id.clone(), id, track, intervals: Vec::new(), origin: None })
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

pub fn recover(dir: &Path) -> Result<RecoverReport, RecoverError> {
    let mut session = Session::open(dir)?;
    if session.room.status == RoomStatus::Complete {
        return Err(RecoverError::Complete(dir.to_path_buf()));
    }
    let unlisted = unlisted_tracks(&session);
    let first_unlisted = session.room.speakers.len();
    for mut speaker in unlisted {
        // The speaker's name is in the track's own tags (ARTIST), written with its first page.
        if let Ok(reader) = TrackReader::open(&session.track_path(&speaker))
            && let Some(title) =
                reader.tags.comments.iter().find(|(k, _)| k.eq_ignore_ascii_case("ARTIST")).map(|(_, v)| v.as_str())
            && !title.trim().is_empty()
        {
            speaker.name = title.trim().to_string();
        }
        tracing::warn!(track = %speaker.track, "a track room.json does not list: recovered as speaker '{}'", speaker.name);
        session.room.speakers.push(speaker);
    }
    let salvaged: Vec<Option<Salvaged>> =
        session.room.speakers.iter().map(|s| salvage(&session.track_path(s))).collect();
    // The room lasted as long as its longest readable track.
    let room_end = salvaged.iter().flatten().map(|s| s.end.saturating_sub(s.head.pre_skip as u64)).max().unwrap_or(0);
    let mut tracks = Vec::new();
    for (i, (speaker, salvaged)) in session.room.speakers.iter_mut().zip(salvaged).enumerate() {
        let path = dir.join(&speaker.track);
        let tmp = temp_path(&path);
        let guard = TempGuard(tmp.clone());
        let file = File::create(&tmp).map_err(|e| RecoverError::Track { path: tmp.clone(), source: e.into() })?;
        let track_err = |source| RecoverError::Track { path: path.clone(), source };
        // Nothing readable in a file that is there: it is kept as found, never replaced outright.
        let keep = match &salvaged {
            Some(s) => s.damaged,
            None => fs::metadata(&path).is_ok_and(|m| m.len() > 0),
        };
        let (head, tags, packets, complete, rebuilt_empty, rebuilt_headers) = match salvaged {
            Some(s) => (s.head, s.tags, s.packets, s.complete, false, s.rebuilt),
            None => (
                live_head(),
                crate::track::OpusTags::new(format!("roomcast {}", env!("CARGO_PKG_VERSION"))),
                Vec::new(),
                false,
                true,
                Vec::new(),
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
        let original_kept = if keep { Some(keep_original(&path).map_err(|e| track_err(e.into()))?) } else { None };
        if let Some(kept) = &original_kept {
            tracing::warn!(track = %path.display(), kept = %kept.display(), "damaged track: the original is kept");
        }
        fs::rename(&tmp, &path).map_err(|e| track_err(e.into()))?;
        guard.keep();
        let readable_to = readable_to.saturating_sub(pre_skip) as f64 / SAMPLE_RATE as f64;
        if i >= first_unlisted && packets.iter().any(|p| !crate::track::is_silence_frame(&p.data)) {
            speaker.intervals.push(session::Interval { start: 0.0, end: Some(readable_to) });
        }
        tracks.push(RecoveredTrack {
            speaker: speaker.id.clone(),
            packets: packets.len() as u64,
            readable_to,
            was_complete: complete,
            rebuilt_empty,
            rebuilt_headers,
            original_kept,
            found_unlisted: i >= first_unlisted,
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
