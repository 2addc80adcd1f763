//! The session folder: the contract between stages. Every later stage reads only this.
//!
//! ```text
//! SESSION/
//!   room.json          what the room was: title, source, times, speakers (written atomically)
//!   events.jsonl       append-only room events on the room clock
//!   tracks/<id>.opus   one Ogg Opus file per speaker, all starting at room time 0
//!   master.mp3|opus|wav  the mastered mix (`mix`), described by master.json
//!   master.json        what the last mix measured and wrote
//!   multitrack/        aligned per-speaker WAVs for a DAW (`mix --multitrack`)
//!   redacted-tracks/<id>.opus  a redacted speaker's track as published (`roomcast redact`)
//!   transcript.json    the transcript (roomcast's own format), the source of every export:
//!   transcript.vtt|srt|podcast.json|txt|html
//!   captions.jsonl     live captions, appended while the room is recorded
//! ```
//!
//! Every name in that folder is spelled here, and only here.

pub mod captions;
pub mod edits;
pub mod events;
pub mod live;
pub mod names;
pub mod transcript;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use transcript::{TranscriptDoc, TranscriptSpeaker};

pub use events::{Event, EventKind};

/// The `format` field of room.json, so a stray JSON file is never taken for a session.
pub const FORMAT_NAME: &str = "roomcast-session";
/// Bumped whenever room.json or the folder layout changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;
pub const ROOM_FILE: &str = "room.json";
pub const EVENTS_FILE: &str = "events.jsonl";
pub const TRACKS_DIR: &str = "tracks";
pub const MASTER_JSON: &str = "master.json";
/// Every master file's name starts with this: `master.mp3`, `master.opus`, `master.wav`.
pub const MASTER_PREFIX: &str = "master.";
pub const MULTITRACK_DIR: &str = "multitrack";
/// Copies of the tracks of speakers with redacted spans, those spans silenced: what is published
/// (served, played) in place of their own tracks, which are kept as recorded.
pub const REDACTED_TRACKS_DIR: &str = "redacted-tracks";
pub const TRANSCRIPT_JSON: &str = "transcript.json";
pub const TRANSCRIPT_VTT: &str = "transcript.vtt";
pub const TRANSCRIPT_SRT: &str = "transcript.srt";
pub const TRANSCRIPT_PODCAST_JSON: &str = "transcript.podcast.json";
pub const TRANSCRIPT_TXT: &str = "transcript.txt";
pub const TRANSCRIPT_HTML: &str = "transcript.html";
/// The live captions, appended while the room is recorded.
pub const CAPTIONS_FILE: &str = "captions.jsonl";
/// Every transcript file's name starts with this.
pub const TRANSCRIPT_PREFIX: &str = "transcript.";

/// The master file of a format: `master.mp3` for `mp3`.
pub fn master_file(extension: &str) -> String {
    format!("{MASTER_PREFIX}{extension}")
}

/// A published file of a room: a master or a transcript export.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Output {
    /// `master` or `transcript`.
    pub kind: String,
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, Error)]
pub enum SessionError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}: not a roomcast session (no room.json)")]
    NotASession(PathBuf),
    #[error("{path}: not a valid room.json: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "{path}: session format version {found} is newer than this roomcast understands ({FORMAT_VERSION}); upgrade roomcast"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("{path}: {reason}")]
    Transcript { path: PathBuf, reason: String },
    #[error(
        "{path}: session format version {found} is older than {FORMAT_VERSION} and cannot be read by this roomcast"
    )]
    TooOld { path: PathBuf, found: u32 },
}

pub type Result<T> = std::result::Result<T, SessionError>;

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SessionError + '_ {
    move |source| SessionError::Io { path: path.to_path_buf(), source }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomStatus {
    /// Capture is still writing (or crashed while writing).
    Recording,
    Complete,
    /// Capture stopped without closing its tracks; finalized later.
    Interrupted,
}

/// A span of room time during which a speaker was present, in seconds on the room clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub start: f64,
    /// `None` while the speaker is still in the room.
    pub end: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Speaker {
    /// Stable id: file-name safe, unique in the room.
    pub id: String,
    /// Display name exactly as the room showed it.
    pub name: String,
    /// Track path relative to the session folder.
    pub track: String,
    pub intervals: Vec<Interval>,
    /// Where the audio came from (a file path, an SSRC, a Janus feed id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// room.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub format: String,
    pub version: u32,
    pub id: String,
    pub title: String,
    /// URL of the room, or `import:` for sessions built from files.
    pub source: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub status: RoomStatus,
    /// Room length in seconds (the length of every track).
    pub duration: f64,
    pub speakers: Vec<Speaker>,
}

impl Room {
    pub fn new(id: String, title: String, source: String, started_at: DateTime<Utc>) -> Self {
        Room {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            id,
            title,
            source,
            started_at,
            ended_at: None,
            status: RoomStatus::Recording,
            duration: 0.0,
            speakers: Vec::new(),
        }
    }

    pub fn speaker(&self, id: &str) -> Option<&Speaker> {
        self.speakers.iter().find(|s| s.id == id)
    }

    /// Parses room.json, checking the format name and version before anything else so that a
    /// session from another roomcast version gets a clear error rather than a field-level one.
    pub fn from_json(path: &Path, text: &str) -> Result<Room> {
        let invalid = |reason: String| SessionError::Invalid { path: path.to_path_buf(), reason };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(invalid(format!("\"format\" is not \"{FORMAT_NAME}\"")));
        }
        let found =
            value.get("version").and_then(|v| v.as_u64()).ok_or_else(|| invalid("no \"version\" number".into()))?
                as u32;
        if found > FORMAT_VERSION {
            return Err(SessionError::TooNew { path: path.to_path_buf(), found });
        }
        if found < FORMAT_VERSION {
            return Err(SessionError::TooOld { path: path.to_path_buf(), found });
        }
        let room: Room = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        // Times anyone can edit: out of range, they would overflow the date arithmetic later.
        if !plausible_start(&room.started_at) {
            return Err(invalid(format!("\"started_at\" {} is not between the years 1900 and 9999", room.started_at)));
        }
        if !(0.0..=MAX_ROOM_SECONDS).contains(&room.duration) {
            return Err(invalid(format!("\"duration\" {} is not between 0 and a week", room.duration)));
        }
        Ok(room)
    }
}

/// The longest room roomcast records or accepts: a week. Times on the room clock beyond it are
/// mistakes (or 1e300), refused before they size a file or a date.
pub const MAX_ROOM_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// A room start time that date arithmetic can work with.
pub fn plausible_start(t: &DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (1900..=9999).contains(&t.year())
}

/// Held by a recorder while it writes the session: a shared lock on the session folder, so
/// readers (the web, another machine on the same storage) can tell a room being recorded from one
/// whose recorder died (room.json still says `recording`). The kernel lets go when the process
/// ends, however it ends.
pub struct Recording(#[allow(dead_code)] File);

impl Recording {
    pub fn hold(dir: &Path) -> Result<Recording> {
        use std::os::fd::AsRawFd;
        let file = File::open(dir).map_err(io_err(dir))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
            return Err(io_err(dir)(io::Error::last_os_error()));
        }
        Ok(Recording(file))
    }
}

/// A recorder is writing the session in `dir` now (it holds [`Recording`]).
pub fn being_recorded(dir: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = File::open(dir) else { return false };
    // SAFETY: flock on a descriptor this function owns; an exclusive lock it gets is let go when
    // the file closes at the end of this function.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) != 0 }
}

/// Opens `path` for reading only if it is a regular file inside the session folder `dir` once
/// every link is followed: a session on shared storage is writable by whoever records into it,
/// and a link planted there (`tracks/theo.opus -> /etc/passwd`) must not hand out the server's
/// files. Returns the file and its real path. The check is made on the file actually opened
/// (`/proc/self/fd`), so a link swapped in between a check and the open cannot slip through.
pub fn open_inside(dir: &Path, path: &Path) -> Result<(File, PathBuf)> {
    let outside = || SessionError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::PermissionDenied, "not a regular file inside its session"),
    };
    use std::os::unix::fs::OpenOptionsExt;
    let root = dir.canonicalize().map_err(io_err(dir))?;
    // Looked at before opening too: opening a device or a pipe planted there can block or act.
    let resolved = path.canonicalize().map_err(io_err(path))?;
    if !resolved.starts_with(&root) || !fs::metadata(&resolved).map_err(io_err(path))?.is_file() {
        return Err(outside());
    }
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&resolved)
        .map_err(io_err(path))?;
    let real = opened_path(&file).or_else(|| path.canonicalize().ok()).ok_or_else(outside)?;
    let regular = file.metadata().map_err(io_err(path))?.is_file();
    if !regular || !real.starts_with(&root) {
        return Err(outside());
    }
    Ok((file, real))
}

/// Where an open file really is, as the kernel knows it.
fn opened_path(file: &File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so readers
/// see the old content or the new, never half of it, even across a crash.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

/// The temporary name an output is written under before it is renamed into place.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Removes temporary outputs (`.NAME.tmp-PID`, from [`temp_path`]) in `dir` whose NAME starts
/// with `prefix` and whose process is gone: what a `kill -9` mid-write left behind. Another
/// process's live temporary file is left alone. Returns the bytes freed.
pub fn remove_stale_temps(dir: &Path, prefix: &str) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let mut freed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((stem, pid)) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-")) else { continue };
        let Ok(pid) = pid.parse::<i32>() else { continue };
        if !stem.starts_with(prefix) || pid <= 0 || pid == std::process::id() as i32 || process_alive(pid) {
            continue;
        }
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let removed =
            if entry.path().is_dir() { fs::remove_dir_all(entry.path()) } else { fs::remove_file(entry.path()) };
        if removed.is_ok() {
            tracing::info!(file = %entry.path().display(), bytes, "removed a temporary file a killed process left");
            freed += bytes;
        }
    }
    freed
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only asks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Deletes a temporary output (file or folder) when dropped, so an error or a panic part-way leaves
/// nothing behind. Harmless after the output was renamed into place.
#[derive(Debug)]
pub struct TempGuard(pub PathBuf);

impl TempGuard {
    /// The output was renamed into place: nothing to delete.
    pub fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = fs::remove_dir_all(&self.0);
        } else {
            let _ = fs::remove_file(&self.0);
        }
    }
}

/// A session folder on disk.
#[derive(Debug, Clone)]
pub struct Session {
    pub dir: PathBuf,
    pub room: Room,
}

impl Session {
    pub fn open(dir: &Path) -> Result<Session> {
        let path = dir.join(ROOM_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SessionError::NotASession(dir.to_path_buf()));
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let room = Room::from_json(&path, &text)?;
        // The room id names folders and URLs later (the library, the static feed): a file anyone
        // can edit must not make it a path.
        if !is_safe_id(&room.id) {
            return Err(SessionError::Invalid {
                path,
                reason: format!("room id '{}' is not a plain name (letters, digits, - and _)", room.id),
            });
        }
        // Track paths come from a file anyone can edit: keep them inside the session folder.
        for (i, s) in room.speakers.iter().enumerate() {
            if room.speakers[..i].iter().any(|o| o.id == s.id) {
                return Err(SessionError::Invalid { path, reason: format!("speaker id '{}' appears twice", s.id) });
            }
            if !is_track_path(&s.track) || s.id.is_empty() || slug(&s.id) != s.id {
                return Err(SessionError::Invalid {
                    path,
                    reason: format!("speaker '{}' has an unsafe id or track path '{}'", s.id, s.track),
                });
            }
        }
        // Two speakers on one file would have one overwrite the other (recover rewrites tracks).
        if let Some((i, s)) =
            room.speakers.iter().enumerate().find(|(i, s)| room.speakers[..*i].iter().any(|o| o.track == s.track))
        {
            let first = room.speakers[..i].iter().find(|o| o.track == s.track).map_or("", |o| o.id.as_str());
            return Err(SessionError::Invalid {
                path,
                reason: format!("speakers '{first}' and '{}' share the track '{}'", s.id, s.track),
            });
        }
        Ok(Session { dir: dir.to_path_buf(), room })
    }

    /// Creates the folder layout for a new session and writes its room.json.
    pub fn create(dir: &Path, room: Room) -> Result<Session> {
        let tracks = dir.join(TRACKS_DIR);
        fs::create_dir_all(&tracks).map_err(io_err(&tracks))?;
        let session = Session { dir: dir.to_path_buf(), room };
        session.save()?;
        Ok(session)
    }

    pub fn save(&self) -> Result<()> {
        let path = self.dir.join(ROOM_FILE);
        let mut json = serde_json::to_vec_pretty(&self.room).expect("room serializes");
        json.push(b'\n');
        write_atomic(&path, &json)
    }

    pub fn track_path(&self, speaker: &Speaker) -> PathBuf {
        self.dir.join(&speaker.track)
    }

    pub fn events_path(&self) -> PathBuf {
        self.dir.join(EVENTS_FILE)
    }

    pub fn captions_path(&self) -> PathBuf {
        self.dir.join(CAPTIONS_FILE)
    }

    /// The room's live captions as far as they were written (torn and garbage lines skipped).
    pub fn captions(&self) -> Result<captions::CaptionRead> {
        captions::read_from(&self.captions_path(), 0)
    }

    /// The final live captions as a transcript document (marked as live captions), for a room
    /// no model has transcribed yet. `None` without any.
    pub fn caption_transcript(&self) -> Result<Option<TranscriptDoc>> {
        let read = self.captions()?;
        let segments = captions::final_segments(&read.lines);
        if segments.is_empty() {
            return Ok(None);
        }
        let mut speakers: Vec<TranscriptSpeaker> = Vec::new();
        for s in &segments {
            if !speakers.iter().any(|k| k.id == s.speaker) {
                let language = read.lines.iter().find_map(|l| match l {
                    captions::CaptionLine::Final(c) if c.speaker == s.speaker => c.language.clone(),
                    _ => None,
                });
                speakers.push(TranscriptSpeaker { id: s.speaker.clone(), name: s.name.clone(), language });
            }
        }
        let mut doc = TranscriptDoc {
            format: transcript::TRANSCRIPT_FORMAT.into(),
            version: transcript::TRANSCRIPT_VERSION,
            room: self.room.id.clone(),
            title: self.room.title.clone(),
            duration: self.room.duration,
            speakers,
            segments,
            live_captions: true,
        };
        // What was redacted or withdrawn after the room is out of its captions too, wherever
        // they are shown or indexed.
        edits::apply(&mut doc, &self.room, &self.events()?);
        Ok(Some(doc))
    }

    pub fn append_event(&self, event: &Event) -> Result<()> {
        events::append(&self.events_path(), event)
    }

    pub fn events(&self) -> Result<Vec<Event>> {
        events::read(&self.events_path())
    }

    /// The transcript the session holds (transcript.json), `None` when it has none yet. A file that
    /// is there but unreadable, or not a roomcast transcript, is an error, never taken for none.
    pub fn transcript(&self) -> Result<Option<transcript::TranscriptDoc>> {
        read_transcript(&self.dir.join(TRANSCRIPT_JSON))
    }

    /// Writes transcript.json (atomically), replacing the one there.
    pub fn write_transcript(&self, doc: &transcript::TranscriptDoc) -> Result<PathBuf> {
        let path = self.dir.join(TRANSCRIPT_JSON);
        write_atomic(&path, doc.to_json().as_bytes())?;
        Ok(path)
    }

    /// The master files of the last mix, as master.json lists them (those still on disk), or every
    /// master.* file when there is no master.json.
    pub fn master(&self) -> Vec<PathBuf> {
        self.outputs().into_iter().filter(|o| o.kind == "master").map(|o| o.path).collect()
    }

    /// What the session publishes: its masters (of the last mix) and transcript files, with
    /// absolute paths (the library is read from anywhere).
    pub fn outputs(&self) -> Vec<Output> {
        outputs_of(&self.dir)
    }
}

/// Reads a transcript.json: `None` when there is no such file.
pub fn read_transcript(path: &Path) -> Result<Option<transcript::TranscriptDoc>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SessionError::Transcript { path: path.to_path_buf(), reason: e.to_string() }),
    };
    transcript::TranscriptDoc::from_json(&text)
        .map(Some)
        .map_err(|reason| SessionError::Transcript { path: path.to_path_buf(), reason })
}

/// The outputs a session folder holds: masters and transcript exports.
pub fn outputs_of(session_dir: &Path) -> Vec<Output> {
    let mut out = Vec::new();
    let session_dir = &fs::canonicalize(session_dir).unwrap_or_else(|_| session_dir.to_path_buf());
    let Ok(entries) = fs::read_dir(session_dir) else { return out };
    let mut names: Vec<(String, u64)> = entries
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some((e.file_name().to_string_lossy().into_owned(), meta.len()))
        })
        .collect();
    names.sort();
    // master.json lists what the last mix wrote: a master.wav left from an earlier mix with more
    // formats is not this mix's, and is not published as it.
    let mixed: Option<Vec<String>> = fs::read(session_dir.join(MASTER_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("outputs")?.as_array().map(|outputs| {
                outputs
                    .iter()
                    .filter_map(|o| Path::new(o.get("path")?.as_str()?).file_name()?.to_str().map(str::to_string))
                    .collect()
            })
        });
    for (name, bytes) in names {
        let current = mixed.as_ref().is_none_or(|m| m.contains(&name));
        let kind = if name.starts_with(MASTER_PREFIX) && !name.ends_with(".json") && !name.contains(".tmp") && current {
            "master"
        } else if name.starts_with(TRANSCRIPT_PREFIX) && !name.contains(".tmp") {
            "transcript"
        } else {
            continue;
        };
        out.push(Output { kind: kind.into(), path: session_dir.join(&name), bytes });
    }
    out
}

/// A room's id: when it started (UTC, to the second) and its title, e.g. `20261124-180000-standup`.
/// Folders named after a room use the same id, so both always agree.
pub fn room_id(started_at: &DateTime<Utc>, title: &str) -> String {
    format!("{}-{}", started_at.format("%Y%m%d-%H%M%S"), slug(title))
}

/// A track lives in the session's tracks/ folder as an .opus file: a path from room.json that
/// names anything else (room.json, events.jsonl, a path outside the folder) is refused, since
/// `recover` rewrites tracks in place.
pub fn is_track_path(track: &str) -> bool {
    let path = Path::new(track);
    let mut parts = path.components();
    let in_tracks = parts.next().is_some_and(|c| c.as_os_str() == TRACKS_DIR);
    let file = parts.next();
    in_tracks
        && parts.next().is_none()
        && matches!(file, Some(std::path::Component::Normal(_)))
        && path.extension().is_some_and(|e| e == "opus")
        && !track.contains('\\')
}

/// Whether `id` is safe as a folder name and in a URL: 1-128 ASCII letters, digits, `-` and `_`.
pub fn is_safe_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A file-name-safe id made from a display name: lowercase ASCII letters, digits and dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(|c| c.to_lowercase()) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "speaker".into() } else { out }
}

/// Ids for display names, unique within the room (`ana`, `ana-2`, ...).
pub fn unique_ids<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut ids = UniqueIds::default();
    names.into_iter().map(|name| ids.allocate(name)).collect()
}

/// Hands out speaker ids unique within a room, in constant time each: the ids taken, and per
/// base id the next number to try (thousands of speakers sharing one name must not cost a
/// rescan of every id for every speaker).
#[derive(Debug, Default)]
pub struct UniqueIds {
    taken: std::collections::HashSet<String>,
    next: std::collections::HashMap<String, u64>,
}

impl UniqueIds {
    /// Marks an id as in use.
    pub fn take(&mut self, id: &str) {
        self.taken.insert(id.to_string());
    }

    /// The id for `name`: its slug, or the slug with the first free number (`-2`, `-3`, ...).
    pub fn allocate(&mut self, name: &str) -> String {
        let base = slug(name);
        let id = if self.taken.contains(&base) {
            let next = self.next.entry(base.clone()).or_insert(2);
            loop {
                let candidate = format!("{base}-{next}");
                *next += 1;
                if !self.taken.contains(&candidate) {
                    break candidate;
                }
            }
        } else {
            base
        };
        self.taken.insert(id.clone());
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_speakers_sharing_one_name_get_distinct_ids_in_order() {
        let mut ids = UniqueIds::default();
        ids.take("ana-3");
        let got: Vec<String> = (0..10_000).map(|_| ids.allocate("Ana")).collect();
        assert_eq!(&got[..4], ["ana", "ana-2", "ana-4", "ana-5"]);
        assert_eq!(got.iter().collect::<std::collections::HashSet<_>>().len(), 10_000);
    }

    fn room() -> Room {
        Room::new("r1".into(), "Room".into(), "import:".into(), "2026-01-02T03:04:05Z".parse().unwrap())
    }

    #[test]
    fn room_json_round_trips_and_rejects_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        let s = Session::create(dir.path(), room()).unwrap();
        assert_eq!(Session::open(dir.path()).unwrap().room, s.room);

        let path = dir.path().join(ROOM_FILE);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("\"version\": 1", "\"version\": 9")).unwrap();
        let err = Session::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("version 9 is newer") && err.contains("room.json"), "{err}");
        fs::write(&path, text.replace("\"version\": 1", "\"version\": 0")).unwrap();
        assert!(Session::open(dir.path()).unwrap_err().to_string().contains("older"));
        fs::write(&path, "{\"hello\": 1}").unwrap();
        assert!(Session::open(dir.path()).unwrap_err().to_string().contains("not a valid room.json"));
    }

    #[test]
    fn a_room_json_pointing_outside_the_session_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = room();
        r.speakers.push(Speaker {
            id: "eve".into(),
            name: "Eve".into(),
            track: "../../etc/passwd".into(),
            intervals: vec![],
            origin: None,
        });
        Session::create(dir.path(), r).unwrap();
        let err = Session::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unsafe id or track path"), "{err}");
    }

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(&dir.path().join("a.json"), b"{}").unwrap();
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec!["a.json"]);
    }

    #[test]
    fn speaker_ids_are_safe_and_unique() {
        assert_eq!(unique_ids(["Ana María", "ana maría", "../etc", "Zoë"]), ["ana-mar-a", "ana-mar-a-2", "etc", "zo"]);
    }
}
