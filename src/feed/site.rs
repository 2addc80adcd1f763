//! The feed as a static site for any web host: feed.xml, cover.png (when the show names no image of
//! its own), and under rooms/ID/ every public room's master, transcripts and chapters, with links
//! under the site's base URL.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    CHAPTERS_FILE, COVER_FILE, CoverError, FeedUrls, Show, chapters_json, cover_png, episodes, master_of,
    session_chapters,
};
use crate::library::RoomSummary;
use crate::markup::url_value;
use crate::session::{self, SessionError};

pub const FEED_FILE: &str = "feed.xml";
/// The list of files the last `feed --out` wrote into the site, so the next one can take away
/// what left the feed without touching anything else in the folder.
pub const SITE_MANIFEST: &str = ".roomcast-site.json";
/// The folder of the rooms' files inside the site.
const ROOMS_DIR: &str = "rooms";

/// What was written, and what was left out (and why).
#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    pub feed: PathBuf,
    pub episodes: usize,
    pub files: Vec<PathBuf>,
    /// Rooms left out, each with the reason, in a line.
    pub left_out: Vec<String>,
    /// Files an earlier run wrote that are no longer in the feed, deleted from the site.
    pub removed: Vec<PathBuf>,
}

/// What a run wrote, relative to the site folder.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    files: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Cover(#[from] CoverError),
}

/// Writes the site into `out` for `rooms` (the caller decides which rooms are public). Every file
/// is written under a temporary name and renamed, so a host syncing the folder never sees half a
/// file. The folder ends up holding exactly the feed's content: files an earlier run wrote for
/// rooms no longer in the feed (made private, removed, expired, a withdrawn speaker's) are
/// deleted, and nothing else in the folder is touched.
pub fn write(rooms: &[RoomSummary], show: &Show, out: &Path, base_url: &str) -> Result<SiteReport, SiteError> {
    write_with_live(rooms, show, out, base_url, &[])
}

/// The site, with rooms that are not episodes yet announced as `podcast:liveItem` (their streams
/// are `roomcast serve`'s, under the same base URL: a static host passes `/rooms/ID/live*` on).
pub fn write_with_live(
    rooms: &[RoomSummary],
    show: &Show,
    out: &Path,
    base_url: &str,
    live: &[super::LiveItem],
) -> Result<SiteReport, SiteError> {
    let base = base_url.trim_end_matches('/').to_string();
    std::fs::create_dir_all(out).map_err(io(out))?;
    let before = read_manifest(out);
    let mut files = Vec::new();
    let mut published: Vec<RoomSummary> = Vec::new();
    let mut left_out = Vec::new();
    // The size of each master as copied into the site: what a podcast app downloads.
    let mut lengths: HashMap<String, u64> = HashMap::new();
    for r in rooms {
        let Some(master) = master_of(r) else { continue };
        if !master.is_file() {
            left_out.push(format!("{}: master missing; room '{}' left out of the feed", master.display(), r.id));
            continue;
        }
        let dir = out.join(ROOMS_DIR).join(&r.id);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let name = master.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        match place(&r.session, &master, &dir.join(&name)) {
            Ok(length) => lengths.insert(r.id.clone(), length),
            Err(Placed::Refused(e)) => {
                left_out.push(format!("{e}; room '{}' left out of the feed", r.id));
                continue;
            }
            Err(Placed::Failed(e)) => return Err(e.into()),
        };
        files.push(dir.join(&name));
        for file in [
            session::TRANSCRIPT_VTT,
            session::TRANSCRIPT_SRT,
            session::TRANSCRIPT_PODCAST_JSON,
            session::TRANSCRIPT_JSON,
        ] {
            let from = r.session.join(file);
            if !from.is_file() {
                continue;
            }
            match place(&r.session, &from, &dir.join(file)) {
                Ok(_) => files.push(dir.join(file)),
                Err(Placed::Refused(e)) => left_out.push(format!("{e}; left out of the site")),
                Err(Placed::Failed(e)) => return Err(e.into()),
            }
        }
        let chapters = dir.join(CHAPTERS_FILE);
        session::write_atomic(&chapters, chapters_json(&r.title, &session_chapters(r)).as_bytes())?;
        files.push(chapters);
        published.push(r.clone());
    }
    let url_of = |r: &RoomSummary, name: &str| format!("{base}/rooms/{}/{name}", url_value(&r.id));
    let mut episodes = episodes(&published, &base, &url_of);
    // The copy's size, not the session's: the master may be rewritten (a new publish) between the
    // copy and now, and the enclosure must announce the bytes the site serves.
    for ep in &mut episodes {
        if let Some(&length) = lengths.get(&ep.guid) {
            ep.enclosure_length = length;
        }
    }
    if show.image.is_none() {
        let cover = out.join(COVER_FILE);
        session::write_atomic(&cover, &cover_png(&show.title)?)?;
        files.push(cover);
    }
    let urls = FeedUrls {
        link: format!("{base}/"),
        feed: format!("{base}/{FEED_FILE}"),
        cover: format!("{base}/{COVER_FILE}"),
    };
    let xml = super::rss_with_live(show, &urls, live, &episodes);
    let feed = out.join(FEED_FILE);
    session::write_atomic(&feed, xml.as_bytes())?;
    let now: BTreeSet<String> =
        files.iter().chain([&feed]).filter_map(|f| f.strip_prefix(out).ok()).map(relative_name).collect();
    // Stale files go only once the new feed no longer names them.
    let removed = remove_stale(out, &before, &now)?;
    let manifest = serde_json::to_string_pretty(&Manifest { files: now }).unwrap_or_default();
    session::write_atomic(&out.join(SITE_MANIFEST), manifest.as_bytes())?;
    Ok(SiteReport { feed, episodes: episodes.len(), files, left_out, removed })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SessionError + '_ {
    move |source| SessionError::Io { path: path.to_path_buf(), source }
}

fn relative_name(path: &Path) -> String {
    path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// What an earlier run wrote: its manifest, or, for a site written before there were manifests,
/// the files roomcast gives fixed names inside `rooms/ID/` (nothing else is taken for ours).
fn read_manifest(out: &Path) -> BTreeSet<String> {
    if let Ok(text) = std::fs::read_to_string(out.join(SITE_MANIFEST)) {
        match serde_json::from_str::<Manifest>(&text) {
            Ok(m) => return m.files,
            Err(e) => {
                tracing::warn!("{}: not a roomcast site list ({e}); left as it is", out.join(SITE_MANIFEST).display())
            }
        }
        return BTreeSet::new();
    }
    let mut ours = BTreeSet::new();
    for room in std::fs::read_dir(out.join(ROOMS_DIR)).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(room.path()).into_iter().flatten().flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if is_room_file(&name) {
                ours.insert(format!("{ROOMS_DIR}/{}/{name}", room.file_name().to_string_lossy()));
            }
        }
    }
    ours
}

/// A file name the site gives a room's files.
fn is_room_file(name: &str) -> bool {
    name == CHAPTERS_FILE
        || (name.starts_with(session::TRANSCRIPT_PREFIX) || name.starts_with(session::MASTER_PREFIX))
            && !name.contains('/')
            && !name.ends_with(".tmp")
}

/// Deletes what `before` lists and `now` does not, if it has the shape of a file the site writes
/// (a manifest is a file in a folder others may write too: it cannot send a delete elsewhere),
/// then the room folders this emptied.
fn remove_stale(out: &Path, before: &BTreeSet<String>, now: &BTreeSet<String>) -> Result<Vec<PathBuf>, SessionError> {
    let mut removed = Vec::new();
    for rel in before.difference(now) {
        let parts: Vec<&str> = rel.split('/').collect();
        let ours = match parts.as_slice() {
            [name] => *name == FEED_FILE || *name == COVER_FILE,
            [rooms, id, name] => *rooms == ROOMS_DIR && is_plain(id) && is_room_file(name),
            _ => false,
        };
        if !ours || !parts.iter().all(|p| is_plain(p)) {
            continue;
        }
        let path = out.join(rel);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if !m.is_dir() => {
                std::fs::remove_file(&path).map_err(io(&path))?;
                removed.push(path.clone());
                if let [_, _, _] = parts.as_slice() {
                    // Only an empty folder goes: anything someone else put there stays.
                    let _ = std::fs::remove_dir(path.parent().unwrap_or(out));
                }
            }
            _ => {}
        }
    }
    Ok(removed)
}

/// One plain name: not empty, not `.` or `..`, no separator.
fn is_plain(name: &str) -> bool {
    let mut c = Path::new(name).components();
    matches!((c.next(), c.next()), (Some(Component::Normal(_)), None)) && !name.contains('/')
}

enum Placed {
    /// The file is not one a site may carry (a link out of its session): left out, said.
    Refused(SessionError),
    Failed(SessionError),
}

/// Copies `from`, a file of the session `session`, to `to` through a temporary name (a hard link
/// when on the same file system). Only a regular file inside the session is copied: a link
/// planted there to the server's files is refused.
fn place(session: &Path, from: &Path, to: &Path) -> Result<u64, Placed> {
    let (mut file, real) = session::open_inside(session, from).map_err(|e| match e {
        SessionError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
            Placed::Refused(e)
        }
        e => Placed::Failed(e),
    })?;
    let tmp = to.with_extension(format!("{}.tmp", to.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let _ = std::fs::remove_file(&tmp);
    // The real file, not the name asked for: a link is never carried into the site.
    if std::fs::hard_link(&real, &tmp).is_err() {
        let copied = std::fs::File::create(&tmp).and_then(|mut w| std::io::copy(&mut file, &mut w));
        copied.map_err(|source| {
            Placed::Failed(SessionError::Io {
                path: tmp.clone(),
                source: std::io::Error::new(source.kind(), format!("copying {}: {source}", from.display())),
            })
        })?;
    }
    std::fs::rename(&tmp, to).map_err(|source| Placed::Failed(SessionError::Io { path: to.to_path_buf(), source }))?;
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|source| Placed::Failed(SessionError::Io { path: to.to_path_buf(), source }))
}

/// The site in `dir` has files of room `id`.
pub fn carries_room(dir: &Path, id: &str) -> bool {
    is_plain(id) && dir.join(ROOMS_DIR).join(id).is_dir()
}
