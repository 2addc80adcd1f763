//! Looking after the library's rooms.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::library::{self, Access, Catalog};
use crate::session::Session;

#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    pub room: String,
    pub title: String,
    pub session: PathBuf,
    pub files_deleted: bool,
    /// The session folder holds the library itself, so its files were left alone.
    pub holds_library: bool,
    /// Static sites (`feed --out`) that still carry the room's files.
    pub stale_sites: Vec<super::feed::StaticSite>,
}

/// Why a room was not removed.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    /// Deleting the folder would delete another room's session with it.
    #[error("{folder}: holds another room's session ({other}); nothing removed")]
    HoldsAnotherSession { folder: PathBuf, other: PathBuf },
    #[error("room '{room}' is still being recorded; nothing removed")]
    Recording { room: String },
}

/// Takes a room out of the library and deletes its session folder, but only a folder that really
/// is that room's session (room.json with the room's id) and holds no other room's session: a
/// stale path, or a session recorded inside another room's folder, never costs other files. A
/// folder that would take another session with it is refused before anything changes.
pub fn remove(key: &str, keep_files: bool, library_dir: &Path) -> Result<Removed> {
    let mut lib = library::open(library_dir, Access::Write)?;
    let r = lib.find_room(key, true)?;
    let session = r.session.clone();
    let opened = Session::open(&session).ok().filter(|s| s.room.id == r.id);
    let is_that_session = opened.is_some();
    // The room's own lock: never removed under an edit or a publish of it.
    let _lock = match &opened {
        Some(s) => {
            let lock = super::edit::try_lock_room(&mut *lib, &session)?;
            if s.room.status == crate::session::RoomStatus::Recording {
                return Err(RemoveError::Recording { room: r.id.clone() }.into());
            }
            Some(lock)
        }
        None => None,
    };
    // A session folder that holds the library itself (a library made inside the room's folder)
    // is never deleted with the room: that would delete every other room's catalog too.
    let holds_library = match (session.canonicalize(), lib.dir().canonicalize()) {
        (Ok(session), Ok(library)) => library.starts_with(&session),
        _ => true,
    };
    let files_deleted = !keep_files && is_that_session && !holds_library;
    if files_deleted && let Some(other) = other_session_inside(&*lib, &r.id, &session)? {
        return Err(RemoveError::HoldsAnotherSession { folder: session, other }.into());
    }
    lib.remove_room(&r.id)?;
    // Its retention goes with it: a room published again under the same id starts afresh.
    lib.set_setting(&super::edit::room_keep_key(&r.id), None)?;
    if files_deleted {
        std::fs::remove_dir_all(&session).with_context(|| format!("{}: removing the session", session.display()))?;
    }
    let stale_sites = super::feed::stale_sites(&*lib, &[&r.id]);
    Ok(Removed {
        room: r.id,
        title: r.title,
        session,
        files_deleted,
        holds_library: holds_library && is_that_session,
        stale_sites,
    })
}

/// A session inside `folder` that is not the room `id`'s own: a room.json anywhere below it (the
/// folder's own aside), or a room of the library whose session lies below it.
fn other_session_inside(lib: &dyn Catalog, id: &str, folder: &Path) -> Result<Option<PathBuf>> {
    let top = folder.canonicalize().with_context(|| format!("{}: reading", folder.display()))?;
    for other in lib.rooms(true)? {
        if other.id != id && other.session.canonicalize().is_ok_and(|p| p.starts_with(&top)) {
            return Ok(Some(other.session));
        }
    }
    // Depth first, without following links (a link out of the session is not its content).
    let mut dirs = vec![top.clone()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).with_context(|| format!("{}: reading", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("{}: reading", dir.display()))?;
            let kind = entry.file_type().with_context(|| format!("{}: reading", entry.path().display()))?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if dir != top && entry.file_name() == crate::session::ROOM_FILE {
                return Ok(Some(dir));
            }
        }
    }
    Ok(None)
}

/// A moment of a room to play, and the command that plays it.
#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    #[serde(skip)]
    pub title: String,
    pub file: PathBuf,
    pub at: f64,
    /// The player found on PATH (mpv, ffplay or vlc), if any.
    pub player: Option<&'static str>,
    /// The command that plays `file` from `at` (with ffplay when no player was found).
    pub command: Vec<String>,
}

/// Where to replay a room from `at` seconds: its master, or one speaker's own track.
pub fn replay(key: &str, at: f64, speaker: Option<&str>, library_dir: &Path) -> Result<Replay> {
    let lib = library::open(library_dir, Access::Read)?;
    let r = lib.find_room(key, true)?;
    if at > r.duration + 0.5 {
        anyhow::bail!("--at {}: the room is only {} long", hms(at), hms(r.duration));
    }
    let file = r.replay_file(speaker).with_context(|| match speaker {
        Some(s) => format!("room '{}' has no track for speaker '{s}'", r.id),
        None => {
            format!("room '{}' has no master or track to play; run: roomcast publish {}", r.id, r.session.display())
        }
    })?;
    if !file.is_file() {
        anyhow::bail!("{}: missing (the room's files were moved or deleted)", file.display());
    }
    let player = ["mpv", "ffplay", "cvlc"].into_iter().find(|p| on_path(p));
    let command = player_command(player.unwrap_or("ffplay"), &file, at);
    Ok(Replay { title: r.title, file, at, player, command })
}

/// `h:mm:ss`, how room times are shown and typed.
fn hms(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The players roomcast knows, in order of preference, and how each starts at a time.
fn player_command(player: &str, file: &Path, at: f64) -> Vec<String> {
    let file = file.display().to_string();
    match player {
        "mpv" => vec!["mpv".into(), "--no-video".into(), format!("--start={at:.2}"), file],
        "ffplay" => vec!["ffplay".into(), "-nodisp".into(), "-autoexit".into(), "-ss".into(), format!("{at:.2}"), file],
        _ => vec!["cvlc".into(), "--play-and-exit".into(), format!("--start-time={at:.2}"), file],
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// A room as `roomcast rooms` lists it: the catalog's summary and how long it is kept.
#[derive(Debug, Clone, Serialize)]
pub struct ListedRoom {
    #[serde(flatten)]
    pub room: library::RoomSummary,
    pub retention: super::edit::Retention,
}

impl ListedRoom {
    /// The speakers' display names, each once (one person on two devices is one name).
    pub fn people(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for s in &self.room.speakers {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
        names
    }
}

/// Every room of the library (private ones too), with its retention; and the library's folder.
pub fn rooms(library_dir: &Path) -> Result<(PathBuf, Vec<ListedRoom>)> {
    let lib = library::open(library_dir, Access::Read)?;
    let now = chrono::Utc::now();
    let rooms = lib.rooms(true)?;
    let listed = rooms
        .into_iter()
        .map(|room| Ok(ListedRoom { retention: super::edit::retention(&*lib, &room, now)?, room }))
        .collect::<Result<Vec<_>>>()?;
    Ok((lib.dir().to_path_buf(), listed))
}

/// A word as a POSIX shell reads it back (quoted only when it needs to be).
pub fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
