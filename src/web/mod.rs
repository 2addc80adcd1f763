//! `roomcast serve`: the library as a small web app (room list, search, a room player with a live
//! transcript) and as a podcast feed. axum on tokio; pages are rendered on the server.
//!
//! Only the library's own room ids reach the file system: a request names a room id (looked up in
//! the database), and files are the ones the library recorded for that room (its outputs, its
//! speakers' tracks) or fixed names inside its session folder. With a token, every request must
//! carry it (header, cookie or `?token=`); private rooms are listed, searched and fed only then.

pub mod listen;
pub mod live;
pub mod pages;
pub mod range;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::feed::{self, Show};
use crate::library::{self, Access, Catalog, LibraryError, RoomSummary, SearchQuery};
use crate::session;
use crate::transcript::TranscriptDoc;

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub library: PathBuf,
    /// The public address of the site, for the feed's absolute URLs (default: http://ADDR).
    pub base_url: Option<String>,
    pub token: Option<String>,
    pub show: Show,
}

struct App {
    /// One connection for the server's life: opening the library per request would probe the
    /// folder and set up SQLite every time. WAL lets it see each commit others make meanwhile.
    /// Several catalogs: requests search side by side.
    library: library::CatalogPool,
    base_url: String,
    token: Option<String>,
    show: Show,
    /// The show's cover art, drawn from its title on the first request (the title does not change
    /// while the server runs).
    cover: tokio::sync::OnceCell<axum::body::Bytes>,
    /// Who listens to which live room.
    live_rooms: listen::LiveRooms,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{addr}: cannot listen: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(
        "{0}: serving beyond this machine needs a token (--token or --token-file): anyone who can reach it could read the library"
    )]
    NeedsToken(SocketAddr),
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Files of a session the web may serve, by the name in the URL.
const TRANSCRIPT_FILES: &[(&str, &str)] = &[
    (session::TRANSCRIPT_VTT, "text/vtt; charset=utf-8"),
    (session::TRANSCRIPT_SRT, "application/x-subrip; charset=utf-8"),
    (session::TRANSCRIPT_JSON, "application/json"),
    (session::TRANSCRIPT_PODCAST_JSON, "application/json"),
    (session::TRANSCRIPT_TXT, "text/plain; charset=utf-8"),
    (session::TRANSCRIPT_HTML, "text/html; charset=utf-8"),
];

/// Binds and serves until `shutdown` resolves. Returns the address bound (port 0 picks one).
pub async fn serve(
    options: ServeOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if !options.addr.ip().is_loopback() && options.token.is_none() {
        return Err(ServeError::NeedsToken(options.addr));
    }
    // Fail now, not on the first request, if the library cannot be read. Off the async threads:
    // the PostgreSQL client blocks on a runtime of its own, which cannot start inside this one.
    let location = options.library.clone();
    let library = tokio::task::spawn_blocking(move || library::CatalogPool::open(&location, Access::Read, POOL_SIZE))
        .await
        .map_err(std::io::Error::other)??;
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|source| ServeError::Bind { addr: options.addr, source })?;
    let addr = listener.local_addr()?;
    let base_url =
        options.base_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_string();
    let app = Arc::new(App {
        library,
        base_url,
        token: options.token,
        show: options.show,
        cover: tokio::sync::OnceCell::new(),
        live_rooms: listen::LiveRooms::default(),
    });
    ready(addr);
    let served = axum::serve(listener, router(app.clone()).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    // The catalogs are closed off the async threads too (a PostgreSQL client's runtime cannot be
    // dropped on them).
    let _ = tokio::task::spawn_blocking(move || drop(app)).await;
    served?;
    Ok(())
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(rooms_page))
        .route("/search", get(search_page))
        .route("/api/search", get(search_api))
        .route("/api/rooms", get(rooms_api))
        .route("/api/rooms/{id}", get(room_api))
        .route("/rooms/{id}/live", get(room_live))
        .route("/rooms/{id}/live.m3u8", get(live_playlist))
        .route("/rooms/{id}/live.mp3", get(live_stream))
        .route("/rooms/{id}/live/{segment}", get(live_segment))
        .route("/feed.xml", get(feed_xml))
        .route("/cover.png", get(cover_png))
        .route("/rooms/{id}", get(room_page))
        .route("/rooms/{id}/audio", get(room_audio))
        .route("/rooms/{id}/chapters.json", get(room_chapters))
        .route("/rooms/{id}/tracks/{speaker}", get(room_track))
        .route("/rooms/{id}/{file}", get(room_file))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page") })
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .with_state(app)
}

/// An error as a page (or plain text for files): a status and one clear sentence.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Html(pages::error_page(status.as_u16(), message))).into_response()
}

fn library_error(e: LibraryError) -> Response {
    match e {
        LibraryError::UnknownRoom(id) => error(StatusCode::NOT_FOUND, &format!("no room '{id}' in the library")),
        e @ (LibraryError::BadQuery { .. } | LibraryError::EmptyQuery | LibraryError::BadDate(_)) => {
            error(StatusCode::BAD_REQUEST, &e.to_string())
        }
        e @ LibraryError::AmbiguousRoom { .. } => error(StatusCode::BAD_REQUEST, &e.to_string()),
        e => {
            tracing::warn!("library: {e}");
            error(StatusCode::SERVICE_UNAVAILABLE, &format!("the library cannot be read right now: {e}"))
        }
    }
}

/// Whether a request carries the configured token. Without a token configured nobody does, so
/// private rooms stay hidden: marking a room private means "only for those with the token".
#[derive(Clone, Copy)]
struct Authorized(bool);

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where a request's token came from.
#[derive(Clone, Copy, PartialEq)]
enum Carrier {
    Header,
    Query,
    Cookie,
}

fn presented_token(headers: &HeaderMap, query: Option<&str>) -> Option<(String, Carrier)> {
    // The auth scheme is case-insensitive (RFC 9110 11.1): "bearer" is "Bearer".
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.trim_start().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token)
    });
    if let Some(t) = bearer {
        return Some((t.trim().to_string(), Carrier::Header));
    }
    if let Some((_, t)) = query.and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token")) {
        return Some((t.into_owned(), Carrier::Query));
    }
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(";");
    cookies.split(';').find_map(|c| {
        let value = c.trim().strip_prefix("roomcast_token=")?;
        Some((percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned(), Carrier::Cookie))
    })
}

/// With a token configured, every request must present it; a `?token=` in a link also sets a
/// cookie, so the audio element and later links carry it by themselves.
async fn authorize(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = check_token(&app, request, next).await;
    // The path only: a query may carry the token.
    tracing::info!("{method} {path} -> {}", response.status().as_u16());
    response
}

async fn check_token(app: &App, mut request: Request, next: Next) -> Response {
    let Some(expected) = &app.token else {
        request.extensions_mut().insert(Authorized(false));
        return next.run(request).await;
    };
    match presented_token(request.headers(), request.uri().query()) {
        Some((t, carrier)) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => {
            request.extensions_mut().insert(Authorized(true));
            let mut response = next.run(request).await;
            if carrier == Carrier::Query {
                let cookie =
                    format!("roomcast_token={}; Path=/; HttpOnly; SameSite=Strict", pages::url_value(expected));
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        _ => {
            let mut r = error(StatusCode::UNAUTHORIZED, "this roomcast needs a token: open the link with ?token=...");
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        }
    }
}

/// Catalogs the server keeps open at most: requests beyond that wait for one.
const POOL_SIZE: usize = 8;

/// Runs library work off the async threads (the catalogs are blocking).
async fn with_library<T: Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&dyn Catalog) -> Result<T, LibraryError> + Send + 'static,
) -> Result<T, Response> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let lib = app.library.get()?;
        f(&*lib)
    })
    .await
    .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, &format!("internal error: {e}")))?
    .map_err(library_error)
}

fn private_ok(request: &Authorized) -> bool {
    request.0
}

async fn rooms_page(State(app): State<Arc<App>>, axum::Extension(auth): axum::Extension<Authorized>) -> Response {
    match with_library(&app, move |lib| lib.rooms(private_ok(&auth))).await {
        Ok(rooms) => Html(pages::room_list(&rooms)).into_response(),
        Err(r) => r,
    }
}

/// A room as the web shows it: no server paths, only names and the room's own URLs.
fn room_json(r: &RoomSummary) -> serde_json::Value {
    let id = pages::url_value(&r.id);
    serde_json::json!({
        "id": r.id,
        "title": r.title,
        "started_at": r.started_at,
        "duration": r.duration,
        "private": r.private,
        "status": r.status,
        "live": r.status == "recording",
        "url": format!("/rooms/{id}"),
        "speakers": r.speakers.iter().map(|s| serde_json::json!({
            "id": s.id,
            "name": s.name,
            "language": s.language,
            "track": s.track.as_ref().map(|_| format!("/rooms/{id}/tracks/{}", pages::url_value(&s.id))),
        })).collect::<Vec<_>>(),
        "outputs": r.outputs.iter().filter_map(|o| o.path.file_name()).map(|n| n.to_string_lossy().into_owned()).collect::<Vec<_>>(),
    })
}

async fn rooms_api(State(app): State<Arc<App>>, axum::Extension(auth): axum::Extension<Authorized>) -> Response {
    match with_library(&app, move |lib| lib.rooms(private_ok(&auth))).await {
        Ok(rooms) => axum::Json(rooms.iter().map(room_json).collect::<Vec<_>>()).into_response(),
        Err(r) => r,
    }
}

async fn room_api(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    match find(&app, id, auth).await {
        Ok(room) => axum::Json(room_json(&room)).into_response(),
        Err(r) => r,
    }
}

async fn room_live(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    params: Result<Query<live::LiveParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return error(StatusCode::BAD_REQUEST, "not a query this address takes (since=N, format=json)");
    };
    match find(&app, id, auth).await {
        Ok(room) => live::live(room, headers, params).await,
        Err(r) => r,
    }
}

/// `/rooms/ID/live.m3u8`: the live mix as HLS.
async fn live_playlist(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath(id): UrlPath<String>,
    request: Request,
) -> Response {
    let room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    // An HLS client is one connection (players keep theirs open between fetches).
    let client = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    // Players fetch segments without cookies: with a token, the playlist's links carry it (the
    // client presented it to get here).
    let suffix = app.token.as_ref().map(|t| format!("?token={}", pages::url_value(t))).unwrap_or_default();
    listen::playlist(&app.live_rooms, &room.id, &room.status, room.session.clone(), client, &suffix).await
}

/// `/rooms/ID/live/seg-N.mp3`: one segment of the live mix.
async fn live_segment(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath((id, segment)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match listen::segment_path(&room.session, &segment) {
        Some(path) if path.is_file() => send_file(&room.session, &path, "audio/mpeg", &headers, None).await,
        _ => error(StatusCode::NOT_FOUND, &format!("room '{}' has no live segment '{segment}'", room.id)),
    }
}

/// `/rooms/ID/live.mp3`: the live mix as one continuous MP3 stream.
async fn live_stream(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    listen::stream(&app.live_rooms, &room.id, &room.status, room.session.clone()).await
}

#[derive(Debug, Deserialize, Default)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    speaker: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    limit: Option<usize>,
}

fn search_query(p: &SearchParams, auth: Authorized) -> Result<SearchQuery, LibraryError> {
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(SearchQuery {
        text: p.q.clone(),
        speaker: some(&p.speaker),
        room: some(&p.room),
        since: some(&p.since).map(|d| library::parse_date(&d, false)).transpose()?,
        until: some(&p.until).map(|d| library::parse_date(&d, true)).transpose()?,
        limit: p.limit.unwrap_or(20).clamp(1, 200),
        include_private: private_ok(&auth),
    })
}

async fn search_page(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(p)) = params else { return error(StatusCode::BAD_REQUEST, "malformed search parameters") };
    if p.q.trim().is_empty() {
        let filters = pages::Filters::default();
        return Html(pages::search_results("", &filters, &[])).into_response();
    }
    let filters = pages::Filters {
        speaker: p.speaker.clone(),
        room: p.room.clone(),
        since: p.since.clone(),
        until: p.until.clone(),
    };
    let text = p.q.clone();
    match with_library(&app, move |lib| lib.search(&search_query(&p, auth)?)).await {
        Ok(hits) => Html(pages::search_results(&text, &filters, &hits)).into_response(),
        Err(r) => r,
    }
}

async fn search_api(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(p)) = params else { return error(StatusCode::BAD_REQUEST, "malformed search parameters") };
    match with_library(&app, move |lib| lib.search(&search_query(&p, auth)?)).await {
        // The replay path is the server's file system: not for the web.
        Ok(mut hits) => {
            for h in &mut hits {
                h.replay = None;
            }
            axum::Json(hits).into_response()
        }
        Err(r) => r,
    }
}

/// A room by its exact id, honouring privacy: a private room is "not found" without the token.
async fn find(app: &Arc<App>, id: String, auth: Authorized) -> Result<RoomSummary, Response> {
    let room = with_library(app, move |lib| lib.room(&id)).await?;
    if room.private && !private_ok(&auth) {
        return Err(error(StatusCode::NOT_FOUND, &format!("no room '{}' in the library", room.id)));
    }
    Ok(room)
}

/// The room's transcript for its page. One that cannot be read is said in the log, and the page
/// still plays the room.
fn read_transcript(session: &Path) -> Option<TranscriptDoc> {
    let doc = session::read_transcript(&session.join(session::TRANSCRIPT_JSON))
        .inspect_err(|e| tracing::warn!("{e}; the room's page shows no transcript"))
        .ok()
        .flatten();
    // Until the room is transcribed, its live captions stand in (marked as such on the page).
    doc.or_else(|| session::Session::open(session).and_then(|s| s.caption_transcript()).ok().flatten())
}

#[derive(Debug, Deserialize)]
struct RoomParams {
    t: Option<String>,
    /// Where a quote link stops playing (seconds, after `t`).
    end: Option<String>,
}

async fn room_page(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath(id): UrlPath<String>,
    params: Result<Query<RoomParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let mut room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    // A room being recorded: its live page (captions as they come), until it is over.
    if room.status == "recording" {
        let dir = room.session.clone();
        let read = tokio::task::spawn_blocking(move || {
            live::is_live(&dir).then(|| {
                let listen = session::live::read_info(&dir).is_some_and(|i| !i.ended);
                (session::captions::read_from(&dir.join(session::CAPTIONS_FILE), 0), listen)
            })
        })
        .await;
        if let Ok(Some((read, listen))) = read {
            let lines = read.map(|r| r.lines).unwrap_or_default();
            return Html(pages::live_page(&room, &lines, listen)).into_response();
        }
    }
    // A redacted speaker's track is offered and played only as its redacted copy; without one
    // (an edit from before copies were made) the page neither offers nor plays it, and their lane
    // falls back to the master, which has the redaction.
    for s in &mut room.speakers {
        if s.track.is_some() && published_track(&room.session, &s.id, s.track.as_deref().unwrap_or_default()).is_none()
        {
            s.track = None;
        }
    }
    // A link that says two things (`?t=5&t=6`) is an error, not a silent start at 0.
    let (t, end) = match params {
        Ok(Query(p)) => (p.t, p.end),
        Err(e) => {
            let reason = e.body_text();
            let reason = reason.strip_prefix("Failed to deserialize query string: ").unwrap_or(&reason);
            return error(StatusCode::BAD_REQUEST, &format!("not a link to a moment of this room: {reason}"));
        }
    };
    let start = match t.as_deref().map(str::trim) {
        None | Some("") => 0.0,
        Some(v) => match v.parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 && s <= room.duration + 0.5 => s,
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("t={v}: not a time in this room (seconds from 0 to {:.0})", room.duration),
                );
            }
        },
    };
    let end = match end.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => match v.parse::<f64>() {
            Ok(e) if e.is_finite() && e > start && e <= room.duration + 0.5 => Some(e),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("end={v}: not a time after t={start} in this room (seconds up to {:.0})", room.duration),
                );
            }
        },
    };
    let has_master = feed::master_of(&room).is_some_and(|p| p.is_file());
    let transcript = read_transcript(&room.session);
    let (chapters, clips) = (feed::session_chapters(&room), feed::session_soundbites(&room));
    Html(pages::room_page(&room, transcript.as_ref(), start, end, has_master, &chapters, &clips)).into_response()
}

/// Sends a file of the session `session`, or the byte range the request asks for (browsers seek
/// with these). Only a regular file inside the session is sent, whatever links lead there.
async fn send_file(session: &Path, path: &Path, mime: &str, headers: &HeaderMap, download: Option<&str>) -> Response {
    let (session_dir, wanted) = (session.to_path_buf(), path.to_path_buf());
    let opened = tokio::task::spawn_blocking(move || session::open_inside(&session_dir, &wanted)).await;
    let mut file = match opened {
        Ok(Ok((f, _))) => tokio::fs::File::from_std(f),
        Ok(Err(session::SessionError::Io { source, .. })) if source.kind() == std::io::ErrorKind::PermissionDenied => {
            tracing::warn!(path = %path.display(), "refused: not a regular file inside its session");
            return error(StatusCode::NOT_FOUND, "no such file");
        }
        _ => {
            return error(StatusCode::NOT_FOUND, "the file is missing: it was moved or deleted since it was published");
        }
    };
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot read the file: {e}")),
    };
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match range::answer(range, len) {
        range::RangeAnswer::Full => (StatusCode::OK, 0, len.saturating_sub(1)),
        range::RangeAnswer::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        range::RangeAnswer::Unsatisfiable => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Body::empty())
                .unwrap_or_else(|_| StatusCode::RANGE_NOT_SATISFIABLE.into_response());
        }
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    if let Err(e) = file.seek(std::io::SeekFrom::Start(start)).await {
        return error(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot read the file: {e}"));
    }
    let stream = tokio_util::io::ReaderStream::new(file.take(count));
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_LENGTH, count)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        // A session's files are the session's, not this site's pages: a transcript.html with a
        // script in it runs in a sandbox, without the site's cookie or origin.
        .header(header::CONTENT_SECURITY_POLICY, "sandbox");
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
    }
    if let Some(name) = download {
        let safe: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
        builder = builder.header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{safe}\""));
    }
    builder.body(Body::from_stream(stream)).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn room_audio(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match feed::master_of(&room) {
        Some(path) => send_file(&room.session, &path, feed::mime_of(&path), &headers, None).await,
        None => error(StatusCode::NOT_FOUND, "this room has no master file; run roomcast publish on its session"),
    }
}

async fn room_track(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath((id, speaker)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(track) = room.speakers.iter().find(|s| s.id == speaker).and_then(|s| s.track.clone()) else {
        return error(StatusCode::NOT_FOUND, &format!("room '{}' has no track for speaker '{speaker}'", room.id));
    };
    // The track path was checked to stay inside the session when the session was opened for
    // indexing; checked again here, as the database is a file too.
    if !Path::new(&track).components().all(|c| matches!(c, std::path::Component::Normal(_))) {
        return error(StatusCode::NOT_FOUND, "no such track");
    }
    // A track is kept as recorded, redacted spans and all: a redacted speaker is served as the
    // copy with those spans silenced, or not at all.
    let Some(path) = published_track(&room.session, &speaker, &track) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!(
                "speaker '{speaker}' has redacted spans and no redacted copy of their track; run roomcast redact again"
            ),
        );
    };
    let name = format!("{}-{}.opus", room.id, speaker);
    send_file(&room.session, &path, "audio/ogg; codecs=opus", &headers, Some(&name)).await
}

/// The file published as a speaker's track: their own track, or, when `roomcast redact` took
/// anything of theirs out, the copy with those spans silenced (`None` when there is none, or when
/// they withdrew consent). An events.jsonl that cannot be read counts as both, so nothing is
/// served by mistake.
pub fn published_track(session_dir: &Path, speaker: &str, track: &str) -> Option<PathBuf> {
    let events = session::Session::open(session_dir).and_then(|s| s.events());
    let withdrawn = events.as_ref().map_or(true, |events| {
        events.iter().any(|e| matches!(&e.kind, session::EventKind::Withdrawn { speaker: w, .. } if w == speaker))
    });
    if withdrawn {
        return None;
    }
    let redacted = events.map_or(true, |events| !session::edits::redactions(&events, speaker).is_empty());
    if !redacted {
        return Some(session_dir.join(track));
    }
    let copy = session_dir.join(session::REDACTED_TRACKS_DIR).join(format!("{speaker}.opus"));
    copy.is_file().then_some(copy)
}

async fn room_file(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath((id, file)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let known = TRANSCRIPT_FILES.iter().find(|(n, _)| *n == file);
    if known.is_none() && !file.starts_with(session::MASTER_PREFIX) {
        return error(StatusCode::NOT_FOUND, "no such file");
    }
    let room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    match known {
        Some((name, mime)) => send_file(&room.session, &room.session.join(name), mime, &headers, None).await,
        // master.EXT: only the master the library recorded, under its own name.
        None => match feed::master_of(&room).filter(|m| m.file_name().is_some_and(|n| n == file.as_str())) {
            Some(path) => send_file(&room.session, &path, feed::mime_of(&path), &headers, None).await,
            None => error(StatusCode::NOT_FOUND, "this room has no such master file"),
        },
    }
}

async fn room_chapters(
    State(app): State<Arc<App>>,
    axum::Extension(auth): axum::Extension<Authorized>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let room = match find(&app, id, auth).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let json = feed::chapters_json(&room.title, &feed::session_chapters(&room));
    ([(header::CONTENT_TYPE, "application/json+chapters")], json).into_response()
}

async fn feed_xml(State(app): State<Arc<App>>, axum::Extension(auth): axum::Extension<Authorized>) -> Response {
    let listed =
        with_library(&app, move |lib| Ok((lib.rooms(private_ok(&auth))?, feed::live::scheduled_in(lib)))).await;
    let (rooms, scheduled) = match listed {
        Ok(r) => r,
        Err(r) => return r,
    };
    let base = app.base_url.clone();
    // Podcast apps cannot send headers: with a token, the feed's links carry it. Whoever can read
    // this feed presented the token already.
    let suffix = app.token.as_ref().map(|t| format!("?token={}", pages::url_value(t))).unwrap_or_default();
    let urls = feed::FeedUrls {
        link: format!("{base}/"),
        feed: format!("{base}/feed.xml"),
        cover: format!("{base}/{}{suffix}", feed::COVER_FILE),
    };
    // Off the async threads: live items look at session folders.
    let made = tokio::task::spawn_blocking(move || {
        let url = |id: &str, name: &str| format!("{base}/rooms/{}/{name}{suffix}", pages::url_value(id));
        let live = feed::live_items(&rooms, &scheduled, &base, &url);
        (live, feed::episodes(&rooms, &base, &|r: &RoomSummary, name: &str| url(&r.id, name)))
    })
    .await;
    let Ok((live, episodes)) = made else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "the feed could not be made");
    };
    let xml = feed::rss_with_live(&app.show, &urls, &live, &episodes);
    ([(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")], xml).into_response()
}

/// The cover art the feed names when the show has no image of its own. Drawn off the async
/// threads: a 3000 px image takes a moment.
async fn cover_png(State(app): State<Arc<App>>) -> Response {
    let drawn = app
        .cover
        .get_or_try_init(|| async {
            let title = app.show.title.clone();
            match tokio::task::spawn_blocking(move || feed::cover_png(&title)).await {
                Ok(Ok(png)) => Ok(axum::body::Bytes::from(png)),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(format!("cover art: {e}")),
            }
        })
        .await;
    match drawn {
        Ok(png) => ([(header::CONTENT_TYPE, "image/png")], png.clone()).into_response(),
        Err(e) => {
            tracing::warn!("{e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, &e)
        }
    }
}
