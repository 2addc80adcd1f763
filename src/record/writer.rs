//! Writing a session while the room goes on: tracks grow packet by packet and are flushed at least
//! once a second, events are appended as they happen, and room.json is rewritten atomically whenever
//! the roster changes. A `kill -9` at any moment leaves every track readable up to its last page.
//!
//! Plain and synchronous: the recorder's event loop hands it what the receiver produced.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::rtp::{Output, SpeakerKey};
use crate::session::events::EventLog;
use crate::session::{self, Event, EventKind, Interval, Room, RoomStatus, Session, Speaker};
use crate::track::{OpusHead, OpusTags, SAMPLE_RATE, TrackWriter};

/// Pre-skip written into live tracks: libopus' usual encoder lookahead at 48 kHz (312 samples). The
/// sender's real value is not on the wire; this one trims the same delay from the first packet.
pub const LIVE_PRE_SKIP: u16 = 312;

struct LiveTrack {
    speaker_id: String,
    path: PathBuf,
    writer: Option<TrackWriter<BufWriter<File>>>,
    /// Set once a write failed (disk full, say): the track keeps what it had; others go on.
    failed: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WriteStats {
    pub packets: u64,
    pub write_errors: u64,
}

pub struct LiveSession {
    pub session: Session,
    /// Says "being recorded" to whoever looks at the folder, until this is dropped.
    _recording: session::Recording,
    events: EventLog,
    /// room.json is rewritten (atomically, with fsync) at the next flush rather than per change: a
    /// thousand speakers joining at once must not mean a thousand rewrites of a growing file.
    room_changed: bool,
    tracks: HashMap<SpeakerKey, LiveTrack>,
    vendor: String,
    pub stats: WriteStats,
    /// Problems worth a line in the log (a track that could not be written), drained by the caller.
    pub problems: Vec<String>,
    /// Speaker ids taken: ten thousand sources sharing one SDES name get their ids in constant
    /// time each, not by rescanning the room.
    ids: session::UniqueIds,
    speakers_full: bool,
}

/// The most speakers (tracks, each an open file) one room records.
pub const MAX_SPEAKERS: usize = 1_000;

fn secs(samples: u64) -> f64 {
    samples as f64 / SAMPLE_RATE as f64
}

impl LiveSession {
    /// Creates the session folder with room.json marked `recording`.
    pub fn create(
        dir: &Path,
        id: String,
        title: String,
        source: String,
        started_at: DateTime<Utc>,
    ) -> session::Result<Self> {
        let room = Room::new(id, title, source, started_at);
        let session = Session::create(dir, room)?;
        let events = EventLog::open(&session.events_path())?;
        let recording = session::Recording::hold(dir)?;
        Ok(LiveSession {
            session,
            _recording: recording,
            events,
            room_changed: false,
            tracks: HashMap::new(),
            vendor: format!("roomcast {}", env!("CARGO_PKG_VERSION")),
            stats: WriteStats::default(),
            problems: Vec::new(),
            ids: Default::default(),
            speakers_full: false,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.session.dir
    }

    /// The session's id for the speaker behind `key`, once they have a track.
    pub fn speaker_id(&self, key: SpeakerKey) -> Option<&str> {
        self.tracks.get(&key).map(|t| t.speaker_id.as_str())
    }

    /// The id and display name of the speaker behind `key`.
    pub fn speaker(&self, key: SpeakerKey) -> Option<(&str, &str)> {
        let id = self.speaker_id(key)?;
        let s = self.session.room.speakers.iter().find(|s| s.id == id)?;
        Some((id, s.name.as_str()))
    }

    pub fn speaker_count(&self) -> usize {
        self.tracks.len()
    }

    /// Speakers in the room right now (joined, not left).
    pub fn present(&self) -> usize {
        self.session.room.speakers.iter().filter(|s| s.intervals.last().is_some_and(|i| i.end.is_none())).count()
    }

    /// Applies one receiver output. Errors here are about room.json and events.jsonl; a track that
    /// cannot be written is recorded in `problems` and the rest of the room goes on.
    pub fn apply(&mut self, output: Output) -> session::Result<()> {
        match output {
            Output::Joined { speaker, name, origin, at } => self.joined(speaker, &name, &origin, at),
            Output::Renamed { speaker, name } => {
                let Some(track) = self.tracks.get(&speaker) else { return Ok(()) };
                let id = track.speaker_id.clone();
                if let (Some(s), Some(name)) =
                    (self.session.room.speakers.iter_mut().find(|s| s.id == id), session::names::sent_name(&name))
                {
                    s.name = name;
                }
                self.room_changed = true;
                Ok(())
            }
            Output::Packet { speaker, pos, payload } => {
                self.packet(speaker, pos, &payload);
                Ok(())
            }
            Output::Talking { speaker, at } => self.event(speaker, at, |s| EventKind::Talking { speaker: s }),
            Output::StoppedTalking { speaker, at } => {
                self.event(speaker, at, |s| EventKind::StoppedTalking { speaker: s })
            }
            Output::Left { speaker, at } => self.left(speaker, at),
            Output::Warning(_) => Ok(()),
        }
    }

    fn joined(&mut self, key: SpeakerKey, name: &str, origin: &str, at: u64) -> session::Result<()> {
        let t = secs(at);
        // A name the room sent goes into every file of the room: one line, bounded, whatever the
        // peer chose.
        let sent = session::names::sent_name(name);
        let name = sent.as_deref().unwrap_or("speaker");
        if let Some(track) = self.tracks.get(&key) {
            // Back after leaving: a new presence interval on the same track.
            let id = track.speaker_id.clone();
            if let Some(s) = self.session.room.speakers.iter_mut().find(|s| s.id == id) {
                s.intervals.push(Interval { start: t, end: None });
            }
            self.room_changed = true;
            return self.append(Event { t, kind: EventKind::Joined { speaker: id } });
        }
        if self.tracks.len() >= MAX_SPEAKERS {
            // Each speaker holds an open track file: past the limit, newcomers are not recorded
            // (said once), rather than failing on the process's file limit one by one.
            if !self.speakers_full {
                self.speakers_full = true;
                self.problems.push(format!(
                    "{MAX_SPEAKERS} speakers are being recorded, the most a room holds: '{name}' and later newcomers are not"
                ));
            }
            return Ok(());
        }
        let id = self.ids.allocate(name);
        let track_rel = format!("{}/{id}.opus", session::TRACKS_DIR);
        let path = self.session.dir.join(&track_rel);
        let tags = OpusTags::new(&self.vendor).with("ARTIST", name).with("TITLE", &self.session.room.title);
        // WebRTC negotiates opus/48000/2 whatever the packets carry; stereo packets decode fine from
        // a stereo head, mono ones too.
        let head = OpusHead::new(2, LIVE_PRE_SKIP);
        let writer = File::create(&path).map_err(session::io_err(&path)).and_then(|f| {
            TrackWriter::new(BufWriter::new(f), &head, &tags, key as u32 + 1).map_err(session::io_err(&path))
        });
        let (writer, failed) = match writer {
            Ok(w) => (Some(w), false),
            Err(e) => {
                self.problems.push(format!("{name}: cannot create {}: {e}", path.display()));
                (None, true)
            }
        };
        self.tracks.insert(key, LiveTrack { speaker_id: id.clone(), path, writer, failed });
        self.session.room.speakers.push(Speaker {
            id: id.clone(),
            name: name.to_string(),
            track: track_rel,
            intervals: vec![Interval { start: t, end: None }],
            origin: Some(origin.to_string()),
        });
        self.room_changed = true;
        self.append(Event { t, kind: EventKind::Joined { speaker: id } })
    }

    fn packet(&mut self, key: SpeakerKey, pos: u64, payload: &[u8]) {
        let Some(track) = self.tracks.get_mut(&key) else { return };
        let Some(writer) = track.writer.as_mut() else { return };
        self.stats.packets += 1;
        if let Err(e) = writer.write_at(pos + LIVE_PRE_SKIP as u64, payload) {
            self.stats.write_errors += 1;
            if !track.failed {
                track.failed = true;
                self.problems.push(format!("{}: writing {} failed: {e}", track.speaker_id, track.path.display()));
            }
        }
    }

    fn event(&mut self, key: SpeakerKey, at: u64, kind: impl FnOnce(String) -> EventKind) -> session::Result<()> {
        let Some(track) = self.tracks.get(&key) else { return Ok(()) };
        let event = Event { t: secs(at), kind: kind(track.speaker_id.clone()) };
        self.append(event)
    }

    fn left(&mut self, key: SpeakerKey, at: u64) -> session::Result<()> {
        let Some(track) = self.tracks.get(&key) else { return Ok(()) };
        let id = track.speaker_id.clone();
        let t = secs(at);
        if let Some(s) = self.session.room.speakers.iter_mut().find(|s| s.id == id)
            && let Some(last) = s.intervals.last_mut()
            && last.end.is_none()
        {
            last.end = Some(t.max(last.start));
        }
        self.room_changed = true;
        self.append(Event { t, kind: EventKind::Left { speaker: id } })
    }

    /// A room event that did not come from RTP (Janus talking events, markers).
    pub fn room_event(&mut self, event: Event) -> session::Result<()> {
        self.append(event)
    }

    fn append(&mut self, event: Event) -> session::Result<()> {
        self.events.push(&event);
        Ok(())
    }

    /// Hands every track's complete pages and the pending events to the OS. Called at least once a
    /// second.
    pub fn flush(&mut self) {
        if let Err(e) = self.events.flush() {
            self.problems.push(e.to_string());
        }
        if std::mem::take(&mut self.room_changed)
            && let Err(e) = self.session.save()
        {
            self.problems.push(e.to_string());
        }
        for track in self.tracks.values_mut() {
            if let Some(writer) = track.writer.as_mut()
                && let Err(e) = writer.flush()
                && !track.failed
            {
                track.failed = true;
                self.stats.write_errors += 1;
                self.problems.push(format!("{}: writing {} failed: {e}", track.speaker_id, track.path.display()));
            }
        }
    }

    /// Ends the recording at `room_end` (48 kHz samples): every track is filled to that length and
    /// closed, open intervals end there, room.json says complete.
    pub fn finish(mut self, room_end: u64, ended_at: DateTime<Utc>) -> session::Result<Session> {
        let end = secs(room_end);
        self.events.flush()?;
        for track in self.tracks.values_mut() {
            if let Some(writer) = track.writer.take()
                && let Err(e) = writer.finish(Some(room_end))
            {
                self.problems.push(format!("{}: closing {} failed: {e}", track.speaker_id, track.path.display()));
            }
        }
        let room = &mut self.session.room;
        for s in &mut room.speakers {
            for interval in &mut s.intervals {
                if interval.end.is_none() {
                    interval.end = Some(end);
                }
            }
        }
        room.duration = end;
        room.ended_at = Some(ended_at);
        room.status =
            if self.tracks.values().any(|t| t.failed) { RoomStatus::Interrupted } else { RoomStatus::Complete };
        self.session.save()?;
        Ok(self.session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_records_at_most_max_speakers_and_says_so_once() {
        let dir = tempfile::tempdir().unwrap();
        let started = Utc::now();
        let mut live =
            LiveSession::create(&dir.path().join("room"), "r".into(), "Room".into(), "rtp://x".into(), started)
                .unwrap();
        for key in 0..MAX_SPEAKERS + 5 {
            let joined =
                Output::Joined { speaker: key, name: "Same Name".into(), origin: format!("ssrc {key}"), at: 0 };
            live.apply(joined).unwrap();
            live.apply(Output::Packet { speaker: key, pos: 0, payload: vec![0xF8, 0x01, 0x02] }).unwrap();
        }
        assert_eq!(live.session.room.speakers.len(), MAX_SPEAKERS);
        assert_eq!(live.problems.len(), 1, "{:?}", live.problems);
        assert!(live.problems[0].contains("1000 speakers"), "{:?}", live.problems);
        let session = live.finish(960, started).unwrap();
        let tracks = std::fs::read_dir(session.dir.join("tracks")).unwrap().count();
        assert_eq!(tracks, MAX_SPEAKERS);
        assert_eq!(session.room.speakers[999].id, "same-name-1000");
    }
}
