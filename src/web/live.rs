//! A room while it is on: its captions as the recorder decides them, read from the session's
//! captions.jsonl (so the recorder and this server can be different processes, or machines on
//! the same storage) and pushed to browsers as Server-Sent Events, or given as JSON.
//!
//! Each event's id is the caption line's `seq`: a browser that reconnects sends `Last-Event-ID`
//! and gets what came after it, nothing twice and nothing missed. Every client reads the file from
//! where it left off, so a slow or new client never holds up another.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::library::RoomSummary;
use crate::session::captions::{self, CaptionLine};
use crate::session::{self, RoomStatus, Session};

/// How often a client's copy of the file is looked at for new lines.
const POLL: Duration = Duration::from_millis(100);
/// How often a room that says it is recording is checked for a recorder that died.
const CHECK_RECORDER: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize, Default)]
pub struct LiveParams {
    /// Lines after this seq (a page that already shows those), like `Last-Event-ID`.
    since: Option<String>,
    /// `json` for one answer instead of a stream.
    format: Option<String>,
}

/// Whether the room is being recorded now: room.json says so and a recorder holds the session.
pub fn is_live(session_dir: &std::path::Path) -> bool {
    Session::open(session_dir).is_ok_and(|s| s.room.status == RoomStatus::Recording)
        && session::being_recorded(session_dir)
}

pub(super) fn bad(status: StatusCode, message: &str) -> Response {
    (status, [(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

/// `/rooms/ID/live`: the room's captions from `since` (or `Last-Event-ID`) on, as SSE when the
/// client accepts `text/event-stream`, else JSON.
pub async fn live(room: RoomSummary, headers: HeaderMap, params: LiveParams) -> Response {
    let resume =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_string).or(params.since.clone());
    let after: Option<u64> = match resume.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return bad(
                    StatusCode::BAD_REQUEST,
                    &format!("Last-Event-ID '{v}': not a caption number (0, 1, 2, ...)"),
                );
            }
        },
    };
    let dir = room.session.clone();
    let live = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || is_live(&dir)
    })
    .await
    .unwrap_or(false);
    let wants_stream = params.format.as_deref() != Some("json")
        && headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/event-stream"));
    if !live && wants_stream {
        return bad(StatusCode::NOT_FOUND, &format!("room '{}' is not live (it is {})", room.id, room.status));
    }
    // The same answer for a JSON client.
    let path = dir.join(session::CAPTIONS_FILE);
    if !wants_stream {
        let read = tokio::task::spawn_blocking(move || captions::read_from(&path, 0)).await;
        let Ok(Ok(read)) = read else {
            return bad(StatusCode::INTERNAL_SERVER_ERROR, "the room's captions cannot be read");
        };
        if read.bad > 0 {
            tracing::warn!(room = %room.id, "captions.jsonl: {} line(s) are not captions; skipped", read.bad);
        }
        if !live {
            return bad(StatusCode::NOT_FOUND, &format!("room '{}' is not live (it is {})", room.id, room.status));
        }
        let lines: Vec<CaptionLine> = read.lines.into_iter().filter(|l| after.is_none_or(|a| l.seq() > a)).collect();
        return axum::Json(
            serde_json::json!({"room": room.id, "live": live, "status": room.status, "captions": lines}),
        )
        .into_response();
    }
    let stream = futures_util::stream::unfold(Tail::new(path, dir, room.id.clone(), after), |mut tail| async move {
        let event = tail.next().await?;
        Some((Ok::<Event, Infallible>(event), tail))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

/// One client's reading of captions.jsonl.
struct Tail {
    path: PathBuf,
    dir: PathBuf,
    room: String,
    offset: u64,
    /// Lines with a seq at or below this were sent.
    after: Option<u64>,
    queue: std::collections::VecDeque<CaptionLine>,
    done: bool,
    told_bad: bool,
    checked: tokio::time::Instant,
}

impl Tail {
    fn new(path: PathBuf, dir: PathBuf, room: String, after: Option<u64>) -> Tail {
        Tail {
            path,
            dir,
            room,
            offset: 0,
            after,
            queue: Default::default(),
            done: false,
            told_bad: false,
            checked: tokio::time::Instant::now(),
        }
    }

    /// The next event: a caption line, or the room's end (also when its recorder died without
    /// saying so). `None`: the stream is over.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(line) = self.queue.pop_front() {
                self.after = Some(line.seq());
                if matches!(line, CaptionLine::End { .. }) {
                    self.done = true;
                }
                return Some(Event::default().id(line.seq().to_string()).event(line.kind()).data(line.to_json()));
            }
            if self.done {
                return None;
            }
            let (path, offset) = (self.path.clone(), self.offset);
            match tokio::task::spawn_blocking(move || captions::read_from(&path, offset)).await {
                Ok(Ok(read)) => {
                    self.offset = read.offset;
                    if read.bad > 0 && !self.told_bad {
                        self.told_bad = true;
                        tracing::warn!(room = %self.room, "captions.jsonl: {} line(s) are not captions; skipped", read.bad);
                    }
                    let after = self.after;
                    self.queue.extend(read.lines.into_iter().filter(|l| after.is_none_or(|a| l.seq() > a)));
                }
                _ => tracing::warn!(room = %self.room, "captions.jsonl cannot be read"),
            }
            if !self.queue.is_empty() {
                continue;
            }
            if self.checked.elapsed() >= CHECK_RECORDER {
                self.checked = tokio::time::Instant::now();
                let dir = self.dir.clone();
                if !tokio::task::spawn_blocking(move || is_live(&dir)).await.unwrap_or(false) {
                    // One more read first: the recorder's last lines may have come meanwhile.
                    let (path, offset) = (self.path.clone(), self.offset);
                    if let Ok(Ok(read)) = tokio::task::spawn_blocking(move || captions::read_from(&path, offset)).await
                        && !read.lines.is_empty()
                    {
                        self.offset = read.offset;
                        let after = self.after;
                        self.queue.extend(read.lines.into_iter().filter(|l| after.is_none_or(|a| l.seq() > a)));
                        continue;
                    }
                    self.done = true;
                    let data = serde_json::json!({"kind": "end", "recorder": "stopped without ending the room"});
                    return Some(Event::default().event("end").data(data.to_string()));
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
