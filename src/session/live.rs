//! live/: the room's live mix while it is recorded, as short MP3 segments a web server (another
//! process, or another machine on the same storage) turns into HLS and a continuous stream.
//!
//! ```text
//! SESSION/live/
//!   live.json          what the segments are (format, length, delay), and `ended` once the room is
//!   seg-000000.mp3     whole MPEG-1 Layer III frames of one continuous encoding, each segment
//!   seg-000001.mp3     starting with an ID3 PRIV timestamp (HLS packed audio); written under a
//!   ...                temporary name and renamed, so a crash leaves only whole segments
//!   listeners.json     how many listen, written by the server(s) for the recorder's status line
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Result, io_err, write_atomic};

/// The folder of the live mix, inside the session.
pub const LIVE_DIR: &str = "live";
pub const LIVE_INFO: &str = "live.json";
pub const LISTENERS_FILE: &str = "listeners.json";
const SEGMENT_PREFIX: &str = "seg-";
const SEGMENT_EXT: &str = ".mp3";

/// What the recorder says about its live mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveInfo {
    /// `mp3` (MPEG-1 Layer III, 48 kHz mono).
    pub format: String,
    pub bitrate_kbps: u32,
    /// Seconds of audio per segment (the last one may be shorter).
    pub segment_seconds: f64,
    /// The playout delay behind the room clock the mix runs at.
    pub delay_seconds: f64,
    /// The room ended (the recorder finished): no segment comes after the last one.
    #[serde(default)]
    pub ended: bool,
}

/// How many listen, as a server last said (or several, each under its own name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Listeners {
    /// Continuous-stream clients connected now.
    pub stream: u64,
    /// HLS clients heard in the last few seconds.
    pub hls: u64,
    /// Bytes of live audio served so far.
    pub bytes: u64,
    /// When (RFC 3339).
    pub at: String,
}

/// The name of segment `n`.
pub fn segment_name(n: u64) -> String {
    format!("{SEGMENT_PREFIX}{n:06}{SEGMENT_EXT}")
}

/// The number of a segment's file name, if it is one (`seg-000012.mp3` is 12).
pub fn segment_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(SEGMENT_PREFIX)?.strip_suffix(SEGMENT_EXT)?;
    (digits.len() >= 6 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

/// A session's live folder.
pub fn live_dir(session: &Path) -> PathBuf {
    session.join(LIVE_DIR)
}

pub fn read_info(session: &Path) -> Option<LiveInfo> {
    let text = std::fs::read_to_string(live_dir(session).join(LIVE_INFO)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write_info(session: &Path, info: &LiveInfo) -> Result<()> {
    let dir = live_dir(session);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    write_atomic(&dir.join(LIVE_INFO), serde_json::to_string_pretty(info).expect("live info serializes").as_bytes())
}

/// The segments on disk, in order (only whole ones: a temporary file is not a segment).
pub fn segments(session: &Path) -> Vec<u64> {
    let mut found: Vec<u64> = std::fs::read_dir(live_dir(session))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| segment_number(&e.file_name().to_string_lossy()))
        .collect();
    found.sort_unstable();
    found
}

/// Writes segment `n` whole, or not at all.
pub fn write_segment(session: &Path, n: u64, bytes: &[u8]) -> Result<PathBuf> {
    let path = live_dir(session).join(segment_name(n));
    write_atomic(&path, bytes)?;
    Ok(path)
}

pub fn read_listeners(session: &Path) -> Option<Listeners> {
    serde_json::from_str(&std::fs::read_to_string(live_dir(session).join(LISTENERS_FILE)).ok()?).ok()
}

pub fn write_listeners(session: &Path, listeners: &Listeners) -> Result<()> {
    write_atomic(
        &live_dir(session).join(LISTENERS_FILE),
        serde_json::to_string(listeners).expect("listeners serialize").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_read_back_and_nothing_else_is_a_segment() {
        assert_eq!(segment_name(12), "seg-000012.mp3");
        assert_eq!(segment_number("seg-000012.mp3"), Some(12));
        assert_eq!(segment_number("seg-1234567.mp3"), Some(1_234_567));
        for other in ["seg-000012.mp3.tmp", "seg-12.mp3", "seg-00001x.mp3", "live.json", "../seg-000001.mp3"] {
            assert_eq!(segment_number(other), None, "{other}");
        }
    }
}
