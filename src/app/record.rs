//! Recording a live room: which source a room URL means (the registry), and where its session goes.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::sync::watch;

use crate::captions::{CaptionSetup, Captions};
use crate::library::{self, Access, Catalog};
use crate::live::janus::{Credentials, JanusForwardSource, JanusUrl, JanusWebrtcSource};
use crate::live::{RtpSource, parse_rtp_url};
use crate::record::{self, RecordObserver, RecordOptions, RecordReport, RoomOutput, RoomSource, SessionPlace};
use crate::rtp::ReceiverConfig;
use crate::session::names;
use crate::transcript::models::{self, ModelError};
use crate::transcript::vad::Vad;
use crate::transcript::whisper::Engine;

/// How Janus audio reaches roomcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JanusMedia {
    /// Janus forwards each publisher's audio to a local UDP port (needs the admin key or secret).
    RtpForward,
    /// A WebRTC subscriber, as a browser in the room would be (needs no admin rights).
    Webrtc,
}

/// A room to record, as the user named it.
#[derive(Debug, Clone)]
pub struct RoomSpec {
    /// rtp://ADDRESS:PORT or janus://HOST:PORT/ROOM.
    pub url: String,
    pub media: JanusMedia,
    /// The local address for media: the WebRTC candidate's IP, or where Janus forwards to.
    pub listen: Option<SocketAddr>,
    pub credentials: Credentials,
}

/// The room systems roomcast can join, by URL scheme.
pub fn source_for(room: &RoomSpec) -> Result<Box<dyn RoomSource>> {
    if room.url.starts_with("rtp://") {
        let addr = parse_rtp_url(&room.url).map_err(anyhow::Error::msg)?;
        return Ok(Box::new(RtpSource { addr }));
    }
    if room.url.starts_with("janus://") {
        let url = JanusUrl::parse(&room.url).map_err(anyhow::Error::msg)?;
        let creds = room.credentials.clone();
        if room.media == JanusMedia::Webrtc {
            let ip: Option<IpAddr> = room.listen.map(|l| l.ip());
            return Ok(Box::new(JanusWebrtcSource { url, creds, ip }));
        }
        return Ok(Box::new(JanusForwardSource { url, creds, listen: room.listen }));
    }
    bail!("'{}': the room must be rtp://ADDRESS:PORT or janus://HOST:PORT/ROOM", room.url)
}

#[derive(Debug, Clone)]
pub struct RecordRequest {
    pub room: RoomSpec,
    /// The session folder; `None` records into the library's rooms/, in a folder named by the
    /// room's id.
    pub out: Option<PathBuf>,
    pub title: String,
    pub max_duration: Option<Duration>,
    pub until_empty: bool,
    pub reorder: Duration,
    /// SSRC -> speaker name, for plain RTP senders that do not say their names.
    pub names: Vec<(u32, String)>,
    /// Live captions: on, off, or on when a model is installed.
    pub captions: Captioning,
    /// The whisper model for captions (a name or a path); the default model when `None`.
    pub model: Option<String>,
    /// A live mix for listeners (HLS and a continuous stream through `serve`): `None` makes one
    /// when the room is recorded into the library.
    pub live_mix: Option<bool>,
    /// A room planned with `roomcast schedule`: recorded under its id (the guid the feed
    /// announced), taken off the planned list.
    pub scheduled: Option<String>,
    /// The title is the default one (nobody gave it): a planned room's title is used instead.
    pub title_is_default: bool,
}

/// Whether a recording captions the room as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Captioning {
    /// When a whisper model is installed (the default): said in the log when none is.
    #[default]
    IfInstalled,
    /// Asked for: without a usable model, said in a line at the start (the room is still recorded).
    On,
    Off,
}

/// The shortest encoder context a live caption gets (seconds): an utterance is often only a few
/// seconds long, and whisper repeats itself on those with a context cut to match.
const LIVE_MIN_CONTEXT: f64 = 10.0;

/// Loads what live captions need, or says in a line why they are off. `None`: no captions.
fn caption_setup(request: &RecordRequest, observer: &dyn RecordObserver) -> Option<CaptionSetup> {
    if request.captions == Captioning::Off {
        return None;
    }
    let model = request.model.clone().unwrap_or_else(models::default_model);
    let load = || -> Result<CaptionSetup> {
        let whisper = models::locate(&model)?;
        let vad = models::locate(models::DEFAULT_VAD)?;
        let engine = Engine::load(&whisper.path, crate::parallel::cores() as i32)?.with_min_context(LIVE_MIN_CONTEXT);
        let vad = Vad::load(&vad.path)?;
        Ok(CaptionSetup { engine, vad, language: None })
    };
    match load() {
        Ok(setup) => Some(setup),
        Err(e) => {
            let missing = e.downcast_ref::<ModelError>().is_some_and(|m| matches!(m, ModelError::Missing { .. }));
            let line = format!("captions off: {e:#}; the room is still recorded");
            if request.captions == Captioning::On || !missing {
                observer.warning(&line);
            } else {
                tracing::info!("{line}");
            }
            None
        }
    }
}

/// Where a recording's session goes: the folder asked for, or the library's rooms/ folder (after
/// checking the library can be written, so that is said before the room is joined).
pub fn session_place(out: Option<&Path>, library_dir: &Path) -> Result<SessionPlace> {
    match out {
        Some(dir) => Ok(SessionPlace::At(dir.to_path_buf())),
        None => {
            let lib = library::open(library_dir, Access::Write)?;
            Ok(SessionPlace::NamedByRoom(lib.rooms_dir()))
        }
    }
}

/// Records the room until it ends, the time limit, `until_empty`, or `stop`. Run inside the
/// runtime (`app::runtime`).
pub async fn record(
    request: RecordRequest,
    library_dir: &Path,
    stop: watch::Receiver<bool>,
    observer: &(dyn RecordObserver + Sync),
) -> Result<RecordReport> {
    let source = source_for(&request.room)?;
    // Names and the title the user gave go into every file of the room: checked before joining.
    let title = names::title(&request.title, "the room's title")?;
    let named = request
        .names
        .iter()
        .map(|(ssrc, name)| Ok((*ssrc, names::speaker_name(name)?)))
        .collect::<Result<Vec<_>, names::NameError>>()?;
    super::runtime::raise_open_file_limit();
    // Off the async threads: a PostgreSQL catalog's client blocks on a runtime of its own.
    let (out, dir) = (request.out.clone(), library_dir.to_path_buf());
    let place = tokio::task::spawn_blocking(move || session_place(out.as_deref(), &dir)).await??;
    let planned = match &request.scheduled {
        Some(_) if request.out.is_some() => {
            anyhow::bail!("--scheduled records into the library (where the feed announced it): leave out --out")
        }
        Some(id) => {
            let (id, dir) = (id.clone(), library_dir.to_path_buf());
            Some(tokio::task::spawn_blocking(move || super::schedule::take(&dir, &id)).await??)
        }
        None => None,
    };
    // A planned room keeps the title it was announced with unless another is given.
    let title = match &planned {
        Some(p) if request.title_is_default => p.title.clone(),
        _ => title,
    };
    let options = RecordOptions {
        out: place,
        title,
        max_duration: request.max_duration,
        until_empty: request.until_empty,
        empty_grace: Duration::from_secs(3),
        receiver: ReceiverConfig { reorder_window: request.reorder, ..Default::default() },
        names: named,
        id: planned.map(|p| p.id),
    };
    let mut outputs: Vec<Box<dyn RoomOutput>> = Vec::new();
    if let Some(setup) = caption_setup(&request, observer) {
        outputs.push(Box::new(Captions::new(setup)));
    }
    // A room recorded into the library is listed there while it is on, its captions searchable,
    // and (unless asked not to) mixed live for listeners.
    let into_library = request.out.is_none();
    if request.live_mix.unwrap_or(into_library) {
        outputs.push(Box::new(crate::livemix::LiveMix::new()));
    }
    let indexer = into_library.then(|| LiveIndexer::start(library_dir));
    let watched = Watched { inner: observer, indexer: indexer.as_ref() };
    let recorded = record::record(source, options, outputs, stop, &watched).await;
    if let Some(indexer) = indexer {
        let done = tokio::task::spawn_blocking(move || indexer.stop()).await;
        if let Ok(Err(e)) = done {
            observer.warning(&format!("the library could not list the room: {e:#}"));
        }
    }
    Ok(recorded?)
}

/// The caller's observer, and the library's live listing told where the session is.
struct Watched<'a> {
    inner: &'a (dyn RecordObserver + Sync),
    indexer: Option<&'a LiveIndexer>,
}

impl RecordObserver for Watched<'_> {
    fn ready(&self, at: &str) {
        self.inner.ready(at)
    }
    fn status(&self, status: &record::LiveStatus) {
        self.inner.status(status)
    }
    fn joined(&self, name: &str, at: f64) {
        self.inner.joined(name, at)
    }
    fn left(&self, name: &str, at: f64) {
        self.inner.left(name, at)
    }
    fn warning(&self, message: &str) {
        self.inner.warning(message)
    }
    fn session(&self, dir: &Path) {
        if let Some(i) = self.indexer {
            i.watch(dir);
        }
        self.inner.session(dir)
    }
}

/// Keeps a room being recorded into the library listed there, as live, with its final captions
/// indexed as they come (every few seconds), on a thread of its own: the recorder never waits for
/// the database. The library reads only the session's files, so a recorder on another machine
/// sharing the storage would be listed the same way.
struct LiveIndexer {
    dir: std::sync::mpsc::Sender<PathBuf>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Result<()>>,
}

/// How often a live room's captions are indexed again.
const LIVE_INDEX_EVERY: Duration = Duration::from_secs(3);

impl LiveIndexer {
    fn start(library_dir: &Path) -> LiveIndexer {
        let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (library, stopping) = (library_dir.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || -> Result<()> {
            use std::sync::atomic::Ordering;
            // Until the recorder has made the folder (or stopped before it could).
            let session_dir = loop {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(dir) => break dir,
                    Err(_) if stopping.load(Ordering::SeqCst) => return Ok(()),
                    Err(_) => {}
                }
            };
            let mut lib = library::open(&library, Access::Write)?;
            let mut indexed = None;
            loop {
                let last = stopping.load(Ordering::SeqCst);
                indexed = index_live(&mut *lib, &session_dir, indexed, last)?;
                if last {
                    return Ok(());
                }
                let until = std::time::Instant::now() + LIVE_INDEX_EVERY;
                while std::time::Instant::now() < until && !stopping.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        LiveIndexer { dir: tx, stop, thread }
    }

    fn watch(&self, dir: &Path) {
        let _ = self.dir.send(dir.to_path_buf());
    }

    /// Indexes the room once more as it ended, and stops.
    fn stop(self) -> Result<()> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().map_err(|_| anyhow::anyhow!("the live listing stopped"))?
    }
}

/// Indexes the session as it stands (room.json, final captions) when anything changed since the
/// last time (`indexed`: the captions' size and the room's status then), or always when `last`.
fn index_live(
    lib: &mut dyn Catalog,
    session_dir: &Path,
    indexed: Option<(u64, String)>,
    last: bool,
) -> Result<Option<(u64, String)>> {
    let session = crate::session::Session::open(session_dir)?;
    let size = std::fs::metadata(session.captions_path()).map(|m| m.len()).unwrap_or(0);
    let now = (size, format!("{:?}:{}", session.room.status, session.room.speakers.len()));
    if !last && indexed.as_ref() == Some(&now) {
        return Ok(indexed);
    }
    let doc = session.caption_transcript()?;
    lib.index_room(&session, doc.as_ref(), &session.outputs())?;
    Ok(Some(now))
}

/// One line per live output of a finished recording (its live mix, its captions), for people.
pub fn output_summaries(report: &RecordReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(m) = report.outputs.get("live_mix") {
        lines.push(format!(
            "live mix: {} segment(s), {:.0} s, {} s behind the room; {}",
            m["segments"].as_u64().unwrap_or(0),
            m["seconds"].as_f64().unwrap_or(0.0),
            m["delay_seconds"].as_f64().unwrap_or(0.0),
            report.session.join(crate::session::live::LIVE_DIR).display()
        ));
    }
    if let Some(c) = report.outputs.get("captions") {
        let n = |k: &str| c[k].as_u64().unwrap_or(0);
        lines.push(format!(
            "captions: {} final, {} partial ({} skipped), latency median {} ms, p90 {} ms; {}",
            n("finals"),
            n("partials"),
            n("skipped_partials"),
            c["latency_ms"]["median"].as_u64().unwrap_or(0),
            c["latency_ms"]["p90"].as_u64().unwrap_or(0),
            report.session.join(crate::session::CAPTIONS_FILE).display()
        ));
        for note in c["notes"].as_array().into_iter().flatten() {
            lines.push(format!("captions: {}", note.as_str().unwrap_or_default()));
        }
    }
    lines
}
