//! The feed as a static site for any web host: feed.xml, cover.png (when the show names no image of
//! its own), and under rooms/ID/ every public room's master, transcripts and chapters, with links
//! under the site's base URL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{
    CHAPTERS_FILE, COVER_FILE, CoverError, FeedUrls, Show, chapters_json, cover_png, episodes, master_of, rss,
    session_chapters,
};
use crate::library::RoomSummary;
use crate::markup::url_value;
use crate::session::{self, SessionError};

pub const FEED_FILE: &str = "feed.xml";

/// What was written, and what was left out (and why).
#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    pub feed: PathBuf,
    pub episodes: usize,
    pub files: Vec<PathBuf>,
    /// Rooms left out, each with the reason, in a line.
    pub left_out: Vec<String>,
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
/// file.
pub fn write(rooms: &[RoomSummary], show: &Show, out: &Path, base_url: &str) -> Result<SiteReport, SiteError> {
    let base = base_url.trim_end_matches('/').to_string();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SessionError::Io { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
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
        let dir = out.join("rooms").join(&r.id);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let name = master.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        lengths.insert(r.id.clone(), place(&master, &dir.join(&name))?);
        files.push(dir.join(&name));
        for file in [
            session::TRANSCRIPT_VTT,
            session::TRANSCRIPT_SRT,
            session::TRANSCRIPT_PODCAST_JSON,
            session::TRANSCRIPT_JSON,
        ] {
            let from = r.session.join(file);
            if from.is_file() {
                place(&from, &dir.join(file))?;
                files.push(dir.join(file));
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
    let xml = rss(show, &urls, &episodes);
    let feed = out.join(FEED_FILE);
    session::write_atomic(&feed, xml.as_bytes())?;
    Ok(SiteReport { feed, episodes: episodes.len(), files, left_out })
}

/// Copies `from` to `to` through a temporary name (a hard link when on the same file system).
fn place(from: &Path, to: &Path) -> Result<u64, SessionError> {
    let tmp = to.with_extension(format!("{}.tmp", to.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp).map_err(|source| SessionError::Io {
            path: tmp.clone(),
            source: std::io::Error::new(source.kind(), format!("copying {}: {source}", from.display())),
        })?;
    }
    std::fs::rename(&tmp, to).map_err(|source| SessionError::Io { path: to.to_path_buf(), source })?;
    std::fs::metadata(to).map(|m| m.len()).map_err(|source| SessionError::Io { path: to.to_path_buf(), source })
}
