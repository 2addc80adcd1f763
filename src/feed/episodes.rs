//! The feed's episodes: every published room with a master, and what the feed says about it.

use std::path::{Path, PathBuf};

use super::{Chapter, Episode, Transcript, chapters_of};
use crate::library::RoomSummary;
use crate::markup::url_value;
use crate::session::{self, Session};

/// The file a room's chapters are published as, beside its master.
pub const CHAPTERS_FILE: &str = "chapters.json";

/// The room's master file as the library recorded it (MP3 first: every browser plays it).
pub fn master_of(room: &RoomSummary) -> Option<PathBuf> {
    ["mp3", "opus", "wav"].iter().find_map(|ext| {
        room.outputs
            .iter()
            .find(|o| o.kind == "master" && o.path.extension().is_some_and(|e| e == *ext))
            .map(|o| o.path.clone())
    })
}

pub fn mime_of(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("mp3") => "audio/mpeg",
        Some("opus") => "audio/ogg; codecs=opus",
        Some("wav") => "audio/wav",
        _ => "application/octet-stream",
    }
}

pub fn session_chapters(room: &RoomSummary) -> Vec<Chapter> {
    Session::open(&room.session).and_then(|s| s.events()).map(|events| chapters_of(&events)).unwrap_or_default()
}

pub fn session_soundbites(room: &RoomSummary) -> Vec<super::Soundbite> {
    Session::open(&room.session)
        .and_then(|s| s.events())
        .map(|events| super::soundbites_of(&events))
        .unwrap_or_default()
}

/// The feed's episodes: every room with a master, newest first, with URLs under `base`.
pub fn episodes(rooms: &[RoomSummary], base: &str, url_of: &dyn Fn(&RoomSummary, &str) -> String) -> Vec<Episode> {
    rooms
        .iter()
        .filter_map(|r| {
            let master = master_of(r)?;
            let length = std::fs::metadata(&master).ok()?.len();
            let ext = master.extension().and_then(|e| e.to_str()).unwrap_or("mp3").to_string();
            let has = |name: &str| r.session.join(name).is_file();
            let mut transcripts = Vec::new();
            for (name, mime, rel) in [
                (session::TRANSCRIPT_VTT, "text/vtt", Some("captions")),
                (session::TRANSCRIPT_SRT, "application/x-subrip", None),
                (session::TRANSCRIPT_PODCAST_JSON, "application/json", None),
            ] {
                if has(name) {
                    transcripts.push(Transcript {
                        url: url_of(r, name),
                        mime: mime.into(),
                        rel: rel.map(str::to_string),
                    });
                }
            }
            // By display name, once each: speakers renamed to one name (one person on two
            // devices, merged) are one person to the listener.
            let mut people: Vec<String> = Vec::new();
            for s in &r.speakers {
                let name = s.name.trim();
                if !name.is_empty() && !people.iter().any(|p| p == name) {
                    people.push(name.to_string());
                }
            }
            Some(Episode {
                guid: r.id.clone(),
                title: r.title.clone(),
                description: format!("{} with {}", r.title, people.join(", ")),
                published: chrono::DateTime::parse_from_rfc3339(&r.started_at)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_else(|_| chrono::Utc::now()),
                duration: r.duration,
                link: format!("{base}/rooms/{}", url_value(&r.id)),
                enclosure_url: url_of(r, &session::master_file(&ext)),
                enclosure_length: length,
                enclosure_type: mime_of(&master).split(';').next().unwrap_or("audio/mpeg").to_string(),
                transcripts,
                chapters_url: Some(url_of(r, CHAPTERS_FILE)),
                people,
                soundbites: session_soundbites(r),
            })
        })
        .collect()
}
