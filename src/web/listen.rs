//! Listening to a room while it is on: the live mix the recorder writes as MP3 segments in the
//! session (`session::live`), served as HLS (`/rooms/ID/live.m3u8` and its segments) and as one
//! continuous `audio/mpeg` stream (`/rooms/ID/live.mp3`, Icecast style).
//!
//! MP3 for both: every podcast app, browser and VLC plays it, HLS "packed audio" carries it as is
//! (each segment starts with the ID3 timestamp HLS asks for), and a continuous stream of whole MP3
//! frames can be joined at any segment boundary. AAC would need an encoder we do not ship; Opus in
//! fMP4 HLS is not played by Apple's players.
//!
//! One reader per room (a [`Broadcast`]) polls the session for new segments and hands their bytes
//! to every stream listener through a bounded channel: listeners share the bytes, and one that
//! falls behind by more than the channel holds skips ahead to the live edge (whole segments, so
//! whole frames) instead of slowing anyone or holding memory.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;

use crate::livemix::segments::id3_len;
use crate::session::live::{self, Listeners, LiveInfo};

/// Segments in the sliding HLS playlist: about 12 s, more than the three target durations HLS
/// wants a client to be able to hold back from the edge.
const PLAYLIST_SEGMENTS: usize = 12;
/// Segments a new stream listener gets at once: it starts this close to the live edge, with
/// enough in hand that its player does not stall on the first fetch.
const STREAM_START_SEGMENTS: usize = 2;
/// Segments the shared channel holds for listeners that are behind (about 16 s, 128 KB at 64
/// kbps). Beyond this a listener skips ahead.
const CHANNEL_SEGMENTS: usize = 16;
/// How often a room's folder is looked at for new segments.
const POLL: Duration = Duration::from_millis(100);
/// After a room ends (or its recorder dies) its playlist is still given, with its end marked,
/// this long: players fetching it then learn that it is over rather than get a 404.
const ENDED_GRACE: Duration = Duration::from_secs(120);
/// An HLS client counts as listening this long after it last fetched the playlist.
const HLS_ACTIVE: Duration = Duration::from_secs(10);

/// What the server knows of the rooms being listened to.
#[derive(Default)]
pub struct LiveRooms {
    rooms: Mutex<HashMap<PathBuf, Arc<Room>>>,
}

/// One room's listeners.
struct Room {
    session: PathBuf,
    broadcast: Mutex<Option<Arc<Broadcast>>>,
    stream_listeners: AtomicU64,
    bytes: AtomicU64,
    hls_clients: Mutex<HashMap<String, Instant>>,
    last_written: Mutex<Option<Listeners>>,
}

impl LiveRooms {
    fn room(&self, session: &Path) -> Arc<Room> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        rooms
            .entry(session.to_path_buf())
            .or_insert_with(|| {
                Arc::new(Room {
                    session: session.to_path_buf(),
                    broadcast: Mutex::new(None),
                    stream_listeners: AtomicU64::new(0),
                    bytes: AtomicU64::new(0),
                    hls_clients: Mutex::new(HashMap::new()),
                    last_written: Mutex::new(None),
                })
            })
            .clone()
    }
}

impl Room {
    /// Writes the listener figures into the session for the recorder's status line, when they
    /// changed (several servers on one session: the last one to write is shown).
    fn write_listeners(&self) {
        let hls = {
            let mut clients = self.hls_clients.lock().unwrap_or_else(|p| p.into_inner());
            clients.retain(|_, at| at.elapsed() < HLS_ACTIVE);
            clients.len() as u64
        };
        let now = Listeners {
            stream: self.stream_listeners.load(Ordering::Relaxed),
            hls,
            bytes: self.bytes.load(Ordering::Relaxed),
            at: String::new(),
        };
        let mut last = self.last_written.lock().unwrap_or_else(|p| p.into_inner());
        if last.as_ref() == Some(&now) {
            return;
        }
        let stamped = Listeners { at: chrono::Utc::now().to_rfc3339(), ..now.clone() };
        if live::live_dir(&self.session).is_dir() && live::write_listeners(&self.session, &stamped).is_ok() {
            *last = Some(now);
        }
    }
}

/// Whether a live mix can still be listened to: being recorded, or ended a short while ago.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Live,
    Ended,
}

fn state(session: &Path, recording: bool) -> Option<(LiveInfo, State)> {
    let info = live::read_info(session)?;
    if recording && !info.ended {
        return Some((info, State::Live));
    }
    // Ended (or its recorder died): still answered for a while after its last segment.
    let last = live::segments(session).last().copied()?;
    let modified = std::fs::metadata(live::live_dir(session).join(live::segment_name(last))).and_then(|m| m.modified());
    let recent = modified.is_ok_and(|m| SystemTime::now().duration_since(m).unwrap_or_default() < ENDED_GRACE);
    recent.then_some((info, State::Ended))
}

fn not_live(room: &str, status: &str) -> Response {
    super::live::bad(
        StatusCode::NOT_FOUND,
        &format!("room '{room}' is not live (it is {status}): nothing to listen to live"),
    )
}

/// Whether a room's live mix can be listened to now, off the async threads: the catalog's
/// `status` says whether it is meant to be recording, the session whether a recorder holds it.
async fn look(session: &Path, status: &str) -> Option<(LiveInfo, State)> {
    let (dir, recording) = (session.to_path_buf(), status == "recording");
    tokio::task::spawn_blocking(move || state(&dir, recording && super::live::is_live(&dir))).await.ok().flatten()
}

/// `/rooms/ID/live.m3u8`: the last segments as a sliding HLS playlist; `#EXT-X-ENDLIST` once the
/// room is over. `suffix` is appended to segment URLs (a token for clients without cookies).
pub async fn playlist(
    rooms: &LiveRooms,
    id: &str,
    status: &str,
    session: PathBuf,
    client: String,
    suffix: &str,
) -> Response {
    let Some((info, state)) = look(&session, status).await else { return not_live(id, status) };
    let dir = session.clone();
    let segments = tokio::task::spawn_blocking(move || live::segments(&dir)).await.unwrap_or_default();
    let room = rooms.room(&session);
    room.hls_clients.lock().unwrap_or_else(|p| p.into_inner()).insert(client, Instant::now());
    room.write_listeners();
    let body = playlist_text(&info, state == State::Ended, &segments, suffix);
    ([(header::CONTENT_TYPE, "application/vnd.apple.mpegurl"), (header::CACHE_CONTROL, "no-cache")], body)
        .into_response()
}

fn playlist_text(info: &LiveInfo, ended: bool, segments: &[u64], suffix: &str) -> String {
    let window = &segments[segments.len().saturating_sub(PLAYLIST_SEGMENTS)..];
    let target = info.segment_seconds.ceil().max(1.0) as u64;
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:{}\n",
        window.first().copied().unwrap_or(0)
    );
    let mut previous = None;
    for &n in window {
        // A segment missing from the run (damaged and removed, or never written): the next one
        // does not follow on from the last in time.
        if previous.is_some_and(|p: u64| p + 1 != n) {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        previous = Some(n);
        out.push_str(&format!("#EXTINF:{:.3},\nlive/{}{suffix}\n", info.segment_seconds, live::segment_name(n)));
    }
    if ended {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// `/rooms/ID/live/seg-N.mp3`: the segment's name checked first (only segment names reach the
/// file system).
pub fn segment_path(session: &Path, name: &str) -> Option<PathBuf> {
    live::segment_number(name).map(|_| live::live_dir(session).join(name))
}

/// A segment's frames, without its ID3 timestamp (which belongs to HLS, not to a continuous
/// stream). A segment that is not MP3 is skipped.
fn frames_of(bytes: &[u8]) -> Option<Bytes> {
    let rest = bytes.get(id3_len(bytes)..)?;
    crate::livemix::segments::frame_len(rest)?;
    Some(Bytes::copy_from_slice(rest))
}

/// One room's reader of new segments, shared by its stream listeners.
struct Broadcast {
    /// Taken when the room is over: listeners then get what was sent, and their streams end.
    sender: Mutex<Option<broadcast::Sender<Bytes>>>,
    /// The last segments read, for a listener that joins.
    recent: Mutex<VecDeque<Bytes>>,
}

impl Room {
    /// A listener's receiver and the segments to start with, or `None` once the room is over.
    fn subscribe(self: &Arc<Self>) -> Option<(broadcast::Receiver<Bytes>, VecDeque<Bytes>)> {
        let mut slot = self.broadcast.lock().unwrap_or_else(|p| p.into_inner());
        let b = match slot.as_ref() {
            Some(b) => b.clone(),
            None => {
                let (sender, _) = broadcast::channel(CHANNEL_SEGMENTS);
                let b = Arc::new(Broadcast { sender: Mutex::new(Some(sender)), recent: Mutex::default() });
                *slot = Some(b.clone());
                tokio::spawn(read_segments(self.clone(), b.clone()));
                b
            }
        };
        // Subscribed and given the recent segments under one lock, so a segment is in one or
        // the other, never both or neither.
        let recent = b.recent.lock().unwrap_or_else(|p| p.into_inner());
        let receiver = b.sender.lock().unwrap_or_else(|p| p.into_inner()).as_ref()?.subscribe();
        Some((receiver, recent.clone()))
    }
}

/// Reads each new segment once and hands it to every listener; ends when the room does or when
/// nobody has listened for a while.
async fn read_segments(room: Arc<Room>, b: Arc<Broadcast>) {
    let session = room.session.clone();
    let listing = |dir: PathBuf| async move {
        tokio::task::spawn_blocking(move || (live::segments(&dir), live::read_info(&dir))).await.unwrap_or_default()
    };
    // Start at the live edge: the last few segments go to listeners as they join.
    let (on_disk, _) = listing(session.clone()).await;
    let mut from = on_disk.get(on_disk.len().saturating_sub(STREAM_START_SEGMENTS)).copied().unwrap_or(0);
    let (mut told_bad, mut checked, mut alone_since) = (false, Instant::now(), None::<Instant>);
    loop {
        let (on_disk, info) = listing(session.clone()).await;
        let start = from;
        for n in on_disk.into_iter().filter(|&n| n >= start) {
            from = n + 1;
            let path = live::live_dir(&session).join(live::segment_name(n));
            match tokio::fs::read(&path).await.ok().as_deref().and_then(frames_of) {
                Some(frames) => {
                    let mut recent = b.recent.lock().unwrap_or_else(|p| p.into_inner());
                    recent.push_back(frames.clone());
                    while recent.len() > STREAM_START_SEGMENTS {
                        recent.pop_front();
                    }
                    if let Some(sender) = b.sender.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                        let _ = sender.send(frames);
                    }
                }
                None if !told_bad => {
                    told_bad = true;
                    tracing::warn!(path = %path.display(), "a live segment is damaged; skipped (said once per room)");
                }
                None => {}
            }
        }
        room.write_listeners();
        let mut over = info.is_none_or(|i| i.ended);
        if checked.elapsed() >= Duration::from_secs(2) {
            checked = Instant::now();
            let dir = session.clone();
            over |= !tokio::task::spawn_blocking(move || super::live::is_live(&dir)).await.unwrap_or(false);
        }
        let listening =
            b.sender.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|s| s.receiver_count() > 0);
        alone_since = if listening { None } else { alone_since.or(Some(Instant::now())) };
        if over || alone_since.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    // No new reader is attached to this one's channel; its listeners get what was sent, then end.
    {
        let mut slot = room.broadcast.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, &b)) {
            *slot = None;
        }
    }
    b.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
    room.write_listeners();
}

/// One listener's stream: counted while it is open.
struct Listener {
    room: Arc<Room>,
    receiver: broadcast::Receiver<Bytes>,
    first: VecDeque<Bytes>,
    skipped: u64,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.room.stream_listeners.fetch_sub(1, Ordering::Relaxed);
        self.room.write_listeners();
        if self.skipped > 0 {
            tracing::info!(room = %self.room.session.display(), "a slow listener skipped {} segment(s) to stay live", self.skipped);
        }
    }
}

/// `/rooms/ID/live.mp3`: the room as one endless MP3 stream from near the live edge; it ends when
/// the room does.
pub async fn stream(rooms: &LiveRooms, id: &str, status: &str, session: PathBuf) -> Response {
    if look(&session, status).await.map(|(_, s)| s) != Some(State::Live) {
        return not_live(id, status);
    }
    let room = rooms.room(&session);
    let Some((receiver, first)) = room.subscribe() else { return not_live(id, status) };
    room.stream_listeners.fetch_add(1, Ordering::Relaxed);
    room.write_listeners();
    let listener = Listener { room, receiver, first, skipped: 0 };
    let body = futures_util::stream::unfold(listener, |mut l| async move {
        let chunk = match l.first.pop_front() {
            Some(c) => c,
            None => loop {
                match l.receiver.recv().await {
                    Ok(c) => break c,
                    Err(broadcast::error::RecvError::Lagged(n)) => l.skipped += n,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            },
        };
        l.room.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        Some((Ok::<Bytes, std::io::Error>(chunk), l))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "audio/mpeg")
        .header(header::CACHE_CONTROL, "no-cache, no-store")
        .header("icy-name", id)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> LiveInfo {
        LiveInfo { format: "mp3".into(), bitrate_kbps: 64, segment_seconds: 1.008, delay_seconds: 1.0, ended: false }
    }

    #[test]
    fn the_playlist_slides_over_the_last_segments_and_marks_the_end() {
        let segments: Vec<u64> = (0..30).collect();
        let text = playlist_text(&info(), false, &segments, "");
        assert!(text.starts_with("#EXTM3U\n"));
        assert!(text.contains("#EXT-X-TARGETDURATION:2\n"));
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:18\n"), "{text}");
        assert_eq!(text.matches("#EXTINF:1.008,").count(), PLAYLIST_SEGMENTS);
        assert!(text.contains("live/seg-000029.mp3\n"));
        assert!(!text.contains("ENDLIST"));
        assert!(playlist_text(&info(), true, &segments, "").ends_with("#EXT-X-ENDLIST\n"));
    }

    #[test]
    fn a_missing_segment_is_a_discontinuity_and_the_token_follows_each_uri() {
        let text = playlist_text(&info(), false, &[4, 5, 7], "?token=t");
        assert!(text.contains("live/seg-000005.mp3?token=t\n#EXT-X-DISCONTINUITY\n#EXTINF"), "{text}");
    }

    #[test]
    fn only_segment_names_reach_the_file_system() {
        let s = Path::new("/lib/rooms/r");
        assert_eq!(segment_path(s, "seg-000003.mp3"), Some(PathBuf::from("/lib/rooms/r/live/seg-000003.mp3")));
        for bad in ["live.json", "listeners.json", "../room.json", "seg-3.mp3"] {
            assert_eq!(segment_path(s, bad), None, "{bad}");
        }
    }
}
