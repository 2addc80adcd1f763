//! Fixing a room after the fact: renaming and merging speakers, redacting words and audio, a
//! speaker withdrawing consent, soundbites and chapters added later. Each change flows through
//! everything the room published: room.json and events.jsonl hold what was decided, then the
//! master is mixed again (tags, chapters, silenced spans), the transcript and every export are
//! brought up to date (`session::edits`), and the room is indexed again, so search, the web page
//! and the feed follow. The speakers' tracks are never changed, except that withdrawing consent
//! deletes that speaker's track, as asked.
//!
//! All or nothing: the new files are made in a staging folder inside the session, then a COMMIT
//! file is written, then they are renamed into place and the room indexed. A crash before COMMIT
//! leaves the room as it was (the staging folder is thrown away); after it, the next command that
//! edits, publishes or indexes the room finishes the job ([`settle`]).

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::library::{self, Access, Catalog, IndexReport, RoomSummary};
use crate::master::{self, Format, MixSettings};
use crate::progress::Progress;
use crate::session::{self, Event, EventKind, Output, Room, Session, names};
use crate::transcript::export::{self, ExportFormat};

/// The longest soundbite Podcasting 2.0 apps take (`podcast:soundbite` is "usually 15-120 s"; Apple
/// and most apps show at most a minute), and roomcast's limit.
pub const MAX_SOUNDBITE_SECONDS: f64 = 60.0;

/// A change to a published room.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Speakers named `from` (one, or several to merge into one) are called `to` from now on.
    Rename { from: Vec<String>, to: String, merge: bool },
    /// Words and audio from `from` to `to` (room seconds) out, for one speaker or everyone; a
    /// speaker's whole room when no span is given.
    Redact { speaker: Option<String>, from: Option<f64>, to: Option<f64> },
    /// A speaker withdrew consent: their track, words and audio go.
    Withdraw { speaker: String },
    /// A soundbite from `from` to `to`.
    Clip { from: f64, to: f64, title: String },
    /// A chapter starting at `at`.
    Chapter { at: f64, title: String },
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("room '{room}' has no speaker '{name}' (its speakers: {known})")]
    UnknownSpeaker { room: String, name: String, known: String },
    #[error(
        "room '{room}' already has a speaker named '{name}': to make them one person, use --merge \"{from},{name}={name}\""
    )]
    NameTaken { room: String, name: String, from: String },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{what} {from}-{to}: {reason} (the room runs from 0 to {duration:.1} s)",
        from = secs(*from),
        to = secs(*to)
    )]
    BadSpan { what: &'static str, from: f64, to: f64, reason: &'static str, duration: f64 },
    #[error("{path}: another roomcast is editing this room right now; try again when it is done")]
    Busy { path: PathBuf },
}

fn secs(t: f64) -> String {
    let t = (t * 1000.0).round() / 1000.0;
    format!("{t}s")
}

/// What an edit did.
#[derive(Debug, Clone, Serialize)]
pub struct EditReport {
    pub room: String,
    pub title: String,
    /// The change, in a line.
    pub change: String,
    /// Words taken out of the transcript.
    pub words_removed: usize,
    /// The master was mixed again.
    pub remixed: bool,
    /// Files deleted (a withdrawn speaker's track).
    pub deleted: Vec<PathBuf>,
    pub index: IndexReport,
    pub outputs: Vec<Output>,
    /// Static sites (`feed --out`) that still carry the room as it was.
    pub stale_sites: Vec<super::feed::StaticSite>,
}

/// The staging folder an edit makes its files in, inside the session.
const STAGING: &str = ".edit-staging";
/// Written into the staging folder when every new file is there: from then on the edit happens.
const COMMIT: &str = "COMMIT";

#[derive(Debug, Serialize, Deserialize)]
struct Commit {
    /// Paths relative to the session to delete once the new files are in place.
    delete: Vec<String>,
}

/// Makes one change to the room `key` names in the library, and republishes it.
pub fn edit(library_dir: &Path, key: &str, change: &Change, progress: &dyn Progress) -> Result<EditReport> {
    let mut lib = library::open(library_dir, Access::Write)?;
    let summary = lib.find_room(key, true)?;
    Session::open(&summary.session)?;
    let _lock = RoomLock::acquire(&summary.session, false)?;
    settle(&mut *lib, &summary.session)?;
    let session = Session::open(&summary.session)?;
    if session.room.status == session::RoomStatus::Recording {
        return Err(EditError::Invalid(format!(
            "room '{}' is still being recorded: edit it once it has ended (or after roomcast recover {})",
            session.room.id,
            session.dir.display()
        ))
        .into());
    }
    let events = session.events()?;
    // The room's whole extent: tracks may run a little past room.json's duration, and a speaker
    // redacted whole is redacted to their track's very end.
    let mut extent = session.room.duration;
    for s in &session.room.speakers {
        if let Ok(info) = crate::track::probe(&session.track_path(s)) {
            extent = extent.max(info.room_samples as f64 / crate::track::SAMPLE_RATE as f64);
        }
    }
    let plan = plan(&session.room, change, extent + 1.0)?;

    let dir = &session.dir;
    let staging = dir.join(STAGING);
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("{}: removing", staging.display()))?;
    }
    fs::create_dir(&staging).with_context(|| format!("{}: creating", staging.display()))?;
    let guard = session::TempGuard(staging.clone());
    // The staged folder is a session of its own (its tracks are the real ones, through a link),
    // so the mixer and the exports make the new files there exactly as they would in place.
    std::os::unix::fs::symlink(Path::new("..").join(session::TRACKS_DIR), staging.join(session::TRACKS_DIR))
        .with_context(|| format!("{}: linking the tracks", staging.display()))?;
    let mut new_events = events.clone();
    new_events.extend(plan.events.iter().cloned());
    let staged = Session { dir: staging.clone(), room: plan.room.clone() };
    staged.save()?;
    // Written from the events as read: a line a crash tore off the end is left behind, not
    // buried in the middle where it would make the log unreadable.
    let mut log = Vec::new();
    for e in &new_events {
        log.extend_from_slice(serde_json::to_string(e).context("event")?.as_bytes());
        log.push(b'\n');
    }
    session::write_atomic(&staged.events_path(), &log)?;

    let mut words_removed = 0;
    if let Some(mut doc) = session.transcript()? {
        words_removed = session::edits::apply(&mut doc, &plan.room, &new_events);
        export::write(&doc, &staging, &ExportFormat::ALL)?;
    }
    // Speakers with redacted spans get a published copy of their track with those spans silent;
    // the folder is made whole each time, so it always matches the edits.
    let copies = staging.join(session::REDACTED_TRACKS_DIR);
    // Made even when empty: it replaces the session's, so a withdrawn speaker's copy goes too.
    fs::create_dir_all(&copies).with_context(|| format!("{}: creating", copies.display()))?;
    for s in &plan.room.speakers {
        let spans: Vec<(u64, u64)> =
            session::edits::redactions(&new_events, &s.id).iter().map(|&(a, b)| (samples(a), samples(b))).collect();
        if spans.is_empty() {
            continue;
        }
        let to = copies.join(format!("{}.opus", s.id));
        let file = fs::File::create(&to).with_context(|| format!("{}: creating", to.display()))?;
        let (out, _) = crate::track::redacted_copy(&session.track_path(s), std::io::BufWriter::new(file), &spans)
            .with_context(|| format!("{}: making its redacted copy", session.track_path(s).display()))?;
        out.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .with_context(|| to.display().to_string())?;
    }
    let remixed = plan.remix && !session.master().is_empty();
    let mut delete = plan.delete.clone();
    if remixed {
        let settings = mix_settings(&session);
        master::mix(&staged, &settings, progress).context("mixing the master again")?;
        rebase_master_json(&staging, dir)?;
        // Files of an older mix that this one does not replace would keep the old audio.
        for old in fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = old.file_name().to_string_lossy().into_owned();
            let stale_master = name.starts_with(session::MASTER_PREFIX) && name != session::MASTER_JSON;
            let stale_multitrack = name == session::MULTITRACK_DIR;
            if (stale_master || stale_multitrack) && !staging.join(&name).exists() {
                delete.push(name);
            }
        }
    }
    // Everything is made: from here on the edit happens, even across a crash.
    let commit = Commit { delete };
    session::write_atomic(&staging.join(COMMIT), serde_json::to_string(&commit).context("commit")?.as_bytes())?;
    guard.keep();
    let (index, outputs, deleted) = roll_forward(&mut *lib, dir)?;
    let stale_sites = super::feed::stale_sites(&*lib, &[&session.room.id]);
    Ok(EditReport {
        room: session.room.id.clone(),
        title: plan.room.title.clone(),
        change: plan.summary,
        words_removed,
        remixed,
        deleted,
        index,
        outputs,
        stale_sites,
    })
}

/// What a COMMIT file asks to delete, relative to the session, keeping only what an edit may
/// delete: the file is read back from disk, where anyone who can write the session could have
/// written it, so nothing it says can reach outside the session or beyond these. A track (and
/// what `recover` kept of it), a stale multitrack export, a master of a format no longer mixed.
pub fn commit_deletes(bytes: &[u8]) -> Result<Vec<String>, serde_json::Error> {
    let commit: Commit = serde_json::from_slice(bytes)?;
    Ok(commit
        .delete
        .into_iter()
        .filter(|rel| {
            session::is_track_path(rel)
                || rel.strip_suffix(".orig").is_some_and(session::is_track_path)
                || rel == session::MULTITRACK_DIR
                || (rel.starts_with(session::MASTER_PREFIX)
                    && !rel.contains('/')
                    && !rel.contains('\\')
                    && rel != session::MASTER_JSON)
        })
        .collect())
}

/// Takes the room's edit lock (one edit, publish or index of a session at a time), then finishes
/// an edit a crash interrupted after its COMMIT, or throws away one interrupted before. Publishing,
/// indexing and attaching a transcript hold it too, so a room is never published half edited and
/// never mixed from events an edit is changing. Waits while another process holds it.
pub fn lock_room(lib: &mut dyn Catalog, session_dir: &Path) -> Result<RoomLock> {
    // Not a session: say so before anything else.
    Session::open(session_dir)?;
    // Publishing and indexing wait for an edit to finish; an edit says the room is busy.
    let lock = RoomLock::acquire(session_dir, true)?;
    settle(lib, session_dir)?;
    Ok(lock)
}

/// The room's lock, taken at once or not at all (`Busy`): for what must not wait behind an edit
/// or a publish of the room (removing it). Settles an interrupted edit as [`lock_room`] does.
pub fn try_lock_room(lib: &mut dyn Catalog, session_dir: &Path) -> Result<RoomLock> {
    let lock = RoomLock::acquire(session_dir, false)?;
    settle(lib, session_dir)?;
    Ok(lock)
}

fn settle(lib: &mut dyn Catalog, session_dir: &Path) -> Result<()> {
    let staging = session_dir.join(STAGING);
    if !staging.exists() {
        return Ok(());
    }
    if staging.join(COMMIT).is_file() {
        tracing::info!(session = %session_dir.display(), "finishing an edit that was interrupted");
        roll_forward(lib, session_dir)?;
    } else {
        tracing::info!(session = %session_dir.display(), "throwing away an edit that was interrupted");
        fs::remove_dir_all(&staging).with_context(|| format!("{}: removing", staging.display()))?;
    }
    Ok(())
}

/// Moves a committed edit's files into place, deletes what it deletes, indexes the room, and
/// removes the staging folder. Every step may be done again after a crash.
fn roll_forward(lib: &mut dyn Catalog, dir: &Path) -> Result<(IndexReport, Vec<Output>, Vec<PathBuf>)> {
    let staging = dir.join(STAGING);
    let deletes = commit_deletes(&fs::read(staging.join(COMMIT))?)
        .with_context(|| format!("{}: not a roomcast edit", staging.join(COMMIT).display()))?;
    let mut names: Vec<PathBuf> = fs::read_dir(&staging)
        .with_context(|| format!("{}: reading", staging.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name != COMMIT && name != session::TRACKS_DIR && !name.starts_with('.')
        })
        .collect();
    // room.json last: until it moves, readers see the room's old names with its old files.
    names.sort_by_key(|p| p.file_name().is_some_and(|n| n == session::ROOM_FILE));
    for from in names {
        let Some(name) = from.file_name() else { continue };
        let to = dir.join(name);
        if from.is_dir() && to.is_dir() {
            fs::remove_dir_all(&to).with_context(|| format!("{}: replacing", to.display()))?;
        }
        fs::rename(&from, &to).with_context(|| format!("{}: moving into place", to.display()))?;
    }
    // No redacted copies: no folder for them.
    let _ = fs::remove_dir(dir.join(session::REDACTED_TRACKS_DIR));
    let mut deleted = Vec::new();
    for rel in &deletes {
        let path = dir.join(rel);
        let removed = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
        match removed {
            Ok(()) => deleted.push(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}: deleting", path.display())),
        }
    }
    let session = Session::open(dir)?;
    let (index, outputs) = super::publish::index_session(lib, &session)?;
    fs::remove_dir_all(&staging).with_context(|| format!("{}: removing", staging.display()))?;
    Ok((index, outputs, deleted))
}

/// What a change does to the room: the new room.json, the lines events.jsonl gains, the files it
/// deletes, and whether the master must be mixed again.
#[derive(Debug)]
struct Plan {
    room: Room,
    events: Vec<Event>,
    delete: Vec<String>,
    remix: bool,
    summary: String,
}

fn samples(seconds: f64) -> u64 {
    (seconds.max(0.0) * crate::track::SAMPLE_RATE as f64).round() as u64
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The room's speakers a user's name stands for: every speaker with that display name (merged
/// speakers share one), else the one whose name matches in any case, else the one with that id.
fn speakers_named(room: &Room, name: &str) -> Result<Vec<usize>, EditError> {
    let name = name.trim();
    let by = |f: &dyn Fn(&session::Speaker) -> bool| -> Vec<usize> {
        room.speakers.iter().enumerate().filter(|(_, s)| f(s)).map(|(i, _)| i).collect()
    };
    for found in [by(&|s| s.name == name), by(&|s| names::same_name(&s.name, name)), by(&|s| s.id == name)] {
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Err(EditError::UnknownSpeaker { room: room.id.clone(), name: name.to_string(), known: known(room) })
}

fn known(room: &Room) -> String {
    let mut names: Vec<&str> = Vec::new();
    for s in &room.speakers {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

/// Checks a span of the room: `what` names it in the error.
fn span(room: &Room, what: &'static str, from: f64, to: f64) -> Result<(), EditError> {
    let bad = |reason| EditError::BadSpan { what, from, to, reason, duration: room.duration };
    if !from.is_finite() || !to.is_finite() || from < 0.0 {
        return Err(bad("not a span of the room"));
    }
    if to < from {
        return Err(bad("it ends before it starts"));
    }
    if to == from {
        return Err(bad("it is empty"));
    }
    // Half a second of slack: room lengths are rounded where people read them.
    if to > room.duration + 0.5 {
        return Err(bad("it runs past the end of the room"));
    }
    Ok(())
}

/// `extent`: where the room's audio ends at the latest (seconds), for a speaker redacted whole.
fn plan(room: &Room, change: &Change, extent: f64) -> Result<Plan, EditError> {
    let mut new = room.clone();
    let mut events = Vec::new();
    let mut delete = Vec::new();
    let summary;
    let remix;
    match change {
        Change::Rename { from, to, merge } => {
            let to = names::speaker_name(to).map_err(|e| match e {
                names::NameError::Empty { .. } => EditError::Invalid("a speaker's new name cannot be empty".into()),
                e => EditError::Invalid(e.to_string()),
            })?;
            let to = to.as_str();
            let mut chosen: Vec<usize> = Vec::new();
            for name in from {
                for i in speakers_named(room, name)? {
                    if !chosen.contains(&i) {
                        chosen.push(i);
                    }
                }
            }
            if *merge && from.len() < 2 {
                return Err(EditError::Invalid(format!(
                    "--merge needs two or more speakers, like --merge \"A,B={to}\""
                )));
            }
            // A name another speaker already has makes two people one: only when asked to.
            let taken =
                room.speakers.iter().enumerate().find(|(i, s)| !chosen.contains(i) && names::same_name(&s.name, to));
            if let Some((_, other)) = taken {
                if !*merge {
                    return Err(EditError::NameTaken {
                        room: room.id.clone(),
                        name: other.name.clone(),
                        from: from.join(","),
                    });
                }
                return Err(EditError::Invalid(format!(
                    "'{to}' is the name of another speaker in room '{}': list them in --merge too",
                    room.id
                )));
            }
            let at = now();
            for &i in &chosen {
                let s = &mut new.speakers[i];
                if s.name != to {
                    events.push(Event {
                        t: 0.0,
                        kind: EventKind::Renamed {
                            speaker: s.id.clone(),
                            from: s.name.clone(),
                            to: to.into(),
                            at: at.clone(),
                        },
                    });
                    s.name = to.to_string();
                }
            }
            if events.is_empty() {
                return Err(EditError::Invalid(format!("the speaker is already called '{to}': nothing to change")));
            }
            let was: Vec<String> = chosen.iter().map(|&i| room.speakers[i].name.clone()).collect();
            summary = if *merge {
                format!("merged {} into {to}", was.join(" and "))
            } else {
                format!("renamed {} to {to}", was.join(", "))
            };
            remix = true;
        }
        Change::Redact { speaker, from, to } => {
            let ids: Vec<Option<String>> = match speaker {
                Some(name) => {
                    speakers_named(room, name)?.into_iter().map(|i| Some(room.speakers[i].id.clone())).collect()
                }
                None => vec![None],
            };
            let (from, to) = match (from, to) {
                (Some(a), Some(b)) => {
                    span(room, "redact", *a, *b)?;
                    (*a, *b)
                }
                (None, None) if speaker.is_some() => (0.0, extent.max(room.duration) + 1.0),
                (None, None) => {
                    return Err(EditError::Invalid(
                        "say what to redact: --from T --to T, --speaker NAME, or both".into(),
                    ));
                }
                _ => return Err(EditError::Invalid("--from and --to go together".into())),
            };
            let at = now();
            for id in ids {
                events.push(Event { t: from, kind: EventKind::Redacted { end: to, speaker: id, at: at.clone() } });
            }
            summary = format!(
                "redacted {}{}",
                speaker.as_deref().map(|s| format!("{s}, ")).unwrap_or_else(|| "everyone, ".into()),
                format_args!("{}-{}", secs(from), secs(to))
            );
            remix = true;
        }
        Change::Withdraw { speaker } => {
            let gone = speakers_named(room, speaker)?;
            if gone.len() == room.speakers.len() {
                return Err(EditError::Invalid(format!(
                    "'{speaker}' is everyone in room '{}': remove the room instead (roomcast remove {})",
                    room.id, room.id
                )));
            }
            let at = now();
            for &i in &gone {
                let s = &room.speakers[i];
                events.push(Event { t: 0.0, kind: EventKind::Withdrawn { speaker: s.id.clone(), at: at.clone() } });
                delete.push(s.track.clone());
                // What `recover` kept of the track before it repaired it.
                delete.push(format!("{}.orig", s.track));
            }
            new.speakers =
                room.speakers.iter().enumerate().filter(|(i, _)| !gone.contains(i)).map(|(_, s)| s.clone()).collect();
            summary = format!("removed {} (consent withdrawn): track, words and audio", speaker.trim());
            remix = true;
        }
        Change::Clip { from, to, title } => {
            span(room, "clip", *from, *to)?;
            if to - from > MAX_SOUNDBITE_SECONDS {
                return Err(EditError::Invalid(format!(
                    "clip {}-{} is {:.1} s long: a soundbite is at most {MAX_SOUNDBITE_SECONDS:.0} s",
                    secs(*from),
                    secs(*to),
                    to - from
                )));
            }
            let title = names::title(title, "a soundbite's title").map_err(|e| EditError::Invalid(e.to_string()))?;
            events.push(Event { t: *from, kind: EventKind::Soundbite { end: *to, title: title.clone() } });
            summary = format!("soundbite \"{title}\" {}-{}", secs(*from), secs(*to));
            remix = false;
        }
        Change::Chapter { at, title } => {
            if !at.is_finite() || *at < 0.0 || *at > room.duration {
                return Err(EditError::Invalid(format!(
                    "chapter at {}: not a moment of the room (it runs from 0 to {:.1} s)",
                    secs(*at),
                    room.duration
                )));
            }
            let title = names::title(title, "the chapter title").map_err(|e| EditError::Invalid(e.to_string()))?;
            events.push(Event { t: *at, kind: EventKind::Marker { title: title.clone() } });
            summary = format!("chapter \"{title}\" at {}", secs(*at));
            remix = true;
        }
    }
    Ok(Plan { room: new, events, delete, remix, summary })
}

/// The settings the room's master was made with, as master.json tells them (formats, channels,
/// loudness target, ceiling), so the new master matches the old one but for the change.
fn mix_settings(session: &Session) -> MixSettings {
    let mut settings = MixSettings { formats: Vec::new(), ..Default::default() };
    let json: Option<serde_json::Value> =
        fs::read(session.dir.join(session::MASTER_JSON)).ok().and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(v) = &json {
        if let Some(c) = v.get("channels").and_then(|c| c.as_u64()) {
            settings.stereo = c == 2;
        }
        settings.lufs = v.get("target_lufs").and_then(|l| l.as_f64());
        // The ceiling asked for, not the limiter's (which sits a codec margin lower): reading
        // that back would lower the ceiling by the margin at every edit.
        if let Some(tp) = v.get("true_peak_dbtp").and_then(|l| l.as_f64()) {
            settings.true_peak = tp;
        }
        settings.artist = v.get("artist").and_then(|a| a.as_str()).map(str::to_string);
        let kbps = |key: &str| v.get(key).and_then(|k| k.as_u64()).and_then(|k| u32::try_from(k).ok());
        settings.mp3_kbps = kbps("mp3_kbps");
        settings.opus_kbps = kbps("opus_kbps");
        if v.get("multitrack").and_then(|m| m.as_array()).is_some_and(|m| !m.is_empty()) {
            settings.multitrack = Some(master::multitrack::MultitrackFormat::Wav);
        }
    }
    for path in session.master() {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("mp3") => Format::Mp3,
            Some("opus") => Format::Opus,
            Some("wav") => Format::Wav,
            _ => continue,
        };
        if !settings.formats.contains(&format) {
            settings.formats.push(format);
        }
    }
    if settings.formats.is_empty() {
        settings.formats.push(Format::Mp3);
    }
    settings
}

/// master.json made in the staging folder names files there: name them where they will be.
fn rebase_master_json(staging: &Path, dir: &Path) -> Result<()> {
    let path = staging.join(session::MASTER_JSON);
    let Ok(text) = fs::read_to_string(&path) else { return Ok(()) };
    let from = serde_json::to_string(&staging.display().to_string())?;
    let to = serde_json::to_string(&dir.display().to_string())?;
    let fixed = text.replace(from.trim_matches('"'), to.trim_matches('"'));
    session::write_atomic(&path, fixed.as_bytes())?;
    Ok(())
}

/// One edit (or publish, or index) of a session at a time: a lock on the session folder, let go
/// when dropped (or when the process dies).
pub struct RoomLock(#[allow(dead_code)] File);

impl RoomLock {
    /// `wait`: block until the lock is free, else fail with `Busy` at once.
    fn acquire(dir: &Path, wait: bool) -> Result<RoomLock> {
        use std::os::fd::AsRawFd;
        // The lock is on the session folder itself: no lock file is left among its files.
        let file = File::open(dir).with_context(|| format!("{}: opening", dir.display()))?;
        // SAFETY: flock on a descriptor this function owns; it only asks the kernel for a lock.
        let r =
            unsafe { libc::flock(file.as_raw_fd(), if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB }) };
        if r != 0 {
            return Err(EditError::Busy { path: dir.to_path_buf() }.into());
        }
        Ok(RoomLock(file))
    }
}

/// How long rooms are kept: `keep_days` for the library, `keep_days:ROOM` for one room.
pub const KEEP_SETTING: &str = "keep_days";

const FOREVER: &str = "forever";

/// The setting that holds how long one room is kept.
pub fn room_keep_key(id: &str) -> String {
    format!("{KEEP_SETTING}:{id}")
}

/// How long to keep rooms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    Days(u32),
    Forever,
}

/// Sets how long the room with this id is kept (it may not be in the library yet: `publish
/// --queue --keep`).
pub fn set_room_keep(library_dir: &Path, room_id: &str, keep: Keep) -> Result<()> {
    let mut lib = library::open(library_dir, Access::Write)?;
    let value = match keep {
        Keep::Days(d) => d.to_string(),
        Keep::Forever => FOREVER.to_string(),
    };
    lib.set_setting(&room_keep_key(room_id), Some(&value))?;
    Ok(())
}

/// A room's retention as `rooms` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Retention {
    pub room: String,
    /// Days the room is kept, `None` for ever.
    pub keep_days: Option<u32>,
    /// Where the figure comes from: `room` or `library`.
    pub from: Option<&'static str>,
    /// When it expires (RFC 3339), `None` when kept for ever.
    pub expires_at: Option<String>,
    pub expired: bool,
}

/// Sets how long a room (or, with no room, every room of the library) is kept.
pub fn set_keep(library_dir: &Path, room: Option<&str>, keep: Keep) -> Result<Vec<Retention>> {
    let mut lib = library::open(library_dir, Access::Write)?;
    let key = match room {
        Some(k) => room_keep_key(&lib.find_room(k, true)?.id),
        None => KEEP_SETTING.to_string(),
    };
    // A room kept for ever says so (it overrides the library's days); the library's "for ever"
    // is no setting at all.
    let value = match keep {
        Keep::Days(d) => Some(d.to_string()),
        Keep::Forever if room.is_some() => Some(FOREVER.to_string()),
        Keep::Forever => None,
    };
    lib.set_setting(&key, value.as_deref())?;
    let rooms = match room {
        Some(k) => vec![lib.find_room(k, true)?],
        None => lib.rooms(true)?,
    };
    rooms.iter().map(|r| retention(&*lib, r, chrono::Utc::now())).collect()
}

/// When `room` expires, by its own setting or the library's.
pub fn retention(lib: &dyn Catalog, room: &RoomSummary, now: chrono::DateTime<chrono::Utc>) -> Result<Retention> {
    let parse = |v: Option<String>| v.and_then(|v| v.parse::<u32>().ok());
    let own = lib.setting(&room_keep_key(&room.id))?;
    let (keep_days, from) = match own {
        Some(v) if v == FOREVER => (None, Some("room")),
        Some(v) if parse(Some(v.clone())).is_some() => (parse(Some(v)), Some("room")),
        _ => match parse(lib.setting(KEEP_SETTING)?) {
            Some(d) => (Some(d), Some("library")),
            None => (None, None),
        },
    };
    let ended = chrono::DateTime::parse_from_rfc3339(&room.started_at)
        .map(|t| t.with_timezone(&chrono::Utc) + chrono::Duration::milliseconds((room.duration * 1000.0) as i64))
        .ok();
    let expires =
        keep_days.zip(ended).and_then(|(d, end)| end.checked_add_signed(chrono::Duration::try_days(d as i64)?));
    Ok(Retention {
        room: room.id.clone(),
        keep_days,
        from,
        expires_at: expires.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        expired: expires.is_some_and(|t| t <= now),
    })
}

/// Every room's retention, newest room first.
pub fn retentions(library_dir: &Path) -> Result<Vec<Retention>> {
    let lib = library::open(library_dir, Access::Read)?;
    let now = chrono::Utc::now();
    lib.rooms(true)?.iter().map(|r| retention(&*lib, r, now)).collect()
}

/// An expired room, and what `expire` did with it.
#[derive(Debug, Serialize)]
pub struct Expired {
    #[serde(flatten)]
    pub retention: Retention,
    pub removed: bool,
    /// Why it was not removed (another room's session inside its folder, an edit in progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_removed: Option<String>,
}

/// What `expire` did: the expired rooms, and the static sites that still carry any of them.
#[derive(Debug, Serialize)]
pub struct ExpireReport {
    pub rooms: Vec<Expired>,
    pub stale_sites: Vec<super::feed::StaticSite>,
}

/// Removes every expired room from the library and deletes its session folder (as `remove`
/// does). `dry_run`: only says which. A room that cannot be removed safely is kept, with the
/// reason, and the others are removed.
pub fn expire(library_dir: &Path, dry_run: bool) -> Result<ExpireReport> {
    let expired: Vec<Retention> = retentions(library_dir)?.into_iter().filter(|r| r.expired).collect();
    let mut rooms = Vec::new();
    for retention in expired {
        let outcome =
            if dry_run { Ok(()) } else { super::library::remove(&retention.room, false, library_dir).map(|_| ()) };
        let not_removed = outcome.err().map(|e| format!("{e:#}"));
        rooms.push(Expired { removed: !dry_run && not_removed.is_none(), not_removed, retention });
    }
    let lib = library::open(library_dir, Access::Read)?;
    let ids: Vec<&str> = rooms.iter().filter(|r| r.removed).map(|r| r.retention.room.as_str()).collect();
    let stale_sites = super::feed::stale_sites(&*lib, &ids);
    Ok(ExpireReport { rooms, stale_sites })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Room {
        let mut r = Room::new("r".into(), "R".into(), "import:".into(), "2026-01-02T03:04:05Z".parse().unwrap());
        r.duration = 80.0;
        for (id, name) in [("ana", "Ana"), ("ben", "Ben"), ("ben-2", "Ben 2")] {
            r.speakers.push(session::Speaker {
                id: id.into(),
                name: name.into(),
                track: format!("tracks/{id}.opus"),
                intervals: vec![],
                origin: None,
            });
        }
        r
    }

    fn err(change: Change) -> String {
        plan(&room(), &change, 80.0).unwrap_err().to_string()
    }

    #[test]
    fn a_rename_onto_a_name_taken_needs_merge_and_a_merge_makes_one_name() {
        let e = err(Change::Rename { from: vec!["Ben 2".into()], to: "Ben".into(), merge: false });
        assert!(e.contains("already has a speaker named 'Ben'") && e.contains("--merge"), "{e}");
        let p = plan(
            &room(),
            &Change::Rename { from: vec!["Ben".into(), "ben 2".into()], to: "Ben".into(), merge: true },
            80.0,
        )
        .unwrap();
        assert_eq!(p.room.speakers.iter().filter(|s| s.name == "Ben").count(), 2);
        assert_eq!(p.events.len(), 1, "one speaker changed name");
        assert!(
            err(Change::Rename { from: vec!["Zed".into()], to: "Z".into(), merge: false })
                .contains("has no speaker 'Zed' (its speakers: Ana, Ben, Ben 2)")
        );
    }

    #[test]
    fn spans_must_lie_in_the_room_and_clips_are_at_most_a_minute() {
        let redact = |a, b| Change::Redact { speaker: None, from: Some(a), to: Some(b) };
        assert!(err(redact(10.0, 5.0)).contains("ends before it starts"));
        assert!(err(redact(70.0, 95.0)).contains("runs past the end of the room"));
        let clip = |a, b| Change::Clip { from: a, to: b, title: "t".into() };
        assert!(err(clip(0.0, 61.0)).contains("at most 60 s"));
        assert!(plan(&room(), &clip(10.0, 70.0), 80.0).is_ok());
        assert!(err(Change::Chapter { at: 81.0, title: "x".into() }).contains("not a moment of the room"));
        let p = plan(&room(), &Change::Redact { speaker: Some("ana".into()), from: None, to: None }, 81.0).unwrap();
        assert_eq!(p.events[0].t, 0.0);
        assert!(
            matches!(&p.events[0].kind, EventKind::Redacted { end, speaker: Some(s), .. } if *end == 82.0 && s == "ana"),
            "a speaker redacted whole is redacted past the end of their track"
        );
    }
}
