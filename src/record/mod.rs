//! Live recording: a room source (plain RTP, Janus) feeds datagrams to the sans-I/O receiver, whose
//! packets and events the live session writer puts on disk as they come.
//!
//! Sources sit behind one trait, so another room system plugs in by producing RTP datagrams (and,
//! where it knows them, speaker names per SSRC and the end of the room). Outputs made while the
//! room is on (live captions, a live mix) sit behind another ([`RoomOutput`]): the recorder hands
//! each what it recorded, packet for packet, and they never hold it up.

pub mod recover;
pub mod writer;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::rtp::{Output, Receiver, ReceiverConfig, ReceiverStats};
use crate::session::{self, Event, EventKind, TempGuard};
use crate::track::SAMPLE_RATE;
pub use writer::LiveSession;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Session(#[from] session::SessionError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} already exists")]
    Exists(PathBuf),
}

/// One datagram as it arrived.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub bytes: Vec<u8>,
    pub at: Instant,
    pub from: SocketAddr,
}

/// What a room source tells the recorder.
#[derive(Debug, Clone)]
pub enum SourceEvent {
    /// RTP or RTCP datagrams in arrival order (batched: a source drains its socket per wake-up).
    Datagrams(Vec<Datagram>),
    /// The room says who is behind an SSRC.
    Name { ssrc: u32, name: String },
    /// The source is listening; `describe` says where (for the user and for tests).
    Ready(String),
    /// The speaker behind an SSRC has left the room (the room said so).
    Gone { ssrc: u32 },
    /// The room is over (closed by the server, or every speaker left and the source knows it).
    Ended(String),
    /// Something to tell the user; recording goes on.
    Warning(String),
}

/// What the recorder hands a [`RoomOutput`]: the session's speakers by their ids and names, and
/// every packet exactly as recorded, all on the room clock (48 kHz samples).
#[derive(Debug, Clone, Copy)]
pub enum Heard<'a> {
    Joined {
        speaker: &'a str,
        name: &'a str,
        at: u64,
    },
    Renamed {
        speaker: &'a str,
        name: &'a str,
    },
    /// An Opus packet as sent, starting at room sample `pos`.
    Packet {
        speaker: &'a str,
        pos: u64,
        payload: &'a [u8],
    },
    Left {
        speaker: &'a str,
        at: u64,
    },
    /// The room clock now (every 100 ms): a speaker who sends nothing is silent up to here.
    Tick {
        now: u64,
    },
}

/// Something made from the room while it is recorded (live captions, a live mix). `hear` runs on
/// the recorder's loop, so it must hand the work elsewhere and return at once: an output never
/// delays, drops or changes what the recorder writes.
pub trait RoomOutput: Send {
    /// Its name in reports (`captions`).
    fn name(&self) -> &'static str;
    /// The session folder exists (its files go there). An error turns this output off, said
    /// once; the recording goes on.
    fn start(&mut self, session: &session::Session) -> Result<(), String>;
    fn hear(&mut self, heard: Heard);
    /// A short line for the recorder's status line, if it has something to say.
    fn status(&self) -> Option<String> {
        None
    }
    /// The room ended at room sample `end`: finish, and say what was done (the `--json` report).
    fn finish(self: Box<Self>, end: u64) -> serde_json::Value;
}

/// Datagrams the recorder wants sent (RTCP receiver reports), and where.
pub type Outgoing = (Vec<u8>, SocketAddr);

pub type SourceFuture = Pin<Box<dyn Future<Output = Result<(), RecordError>> + Send>>;

/// What a source and the recorder exchange while it runs.
pub struct SourceIo {
    /// What the source hears, for the recorder.
    pub events: mpsc::Sender<SourceEvent>,
    /// Datagrams the recorder wants sent (receiver reports).
    pub outgoing: mpsc::UnboundedReceiver<Outgoing>,
    /// Turns true when the recording ends.
    pub stop: watch::Receiver<bool>,
}

/// A room system the recorder can join.
pub trait RoomSource: Send {
    /// The room's URL, recorded in room.json.
    fn url(&self) -> String;
    /// Joins the room and sends what it hears to `io.events` until `io.stop` turns true or the
    /// room ends. Returning an error before sending `Ready` means the room could not be joined.
    /// Sources implement it as `Box::pin(self.listen(io))` over an `async fn` of their own.
    fn run(self: Box<Self>, io: SourceIo) -> SourceFuture;
}

/// Where a recording's session folder goes.
#[derive(Debug, Clone)]
pub enum SessionPlace {
    /// This folder, which must not exist yet.
    At(PathBuf),
    /// A folder of its own in this folder of rooms, named by the room's id.
    NamedByRoom(PathBuf),
}

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub out: SessionPlace,
    pub title: String,
    pub max_duration: Option<Duration>,
    /// Stop once every speaker who joined has left (after `empty_grace`).
    pub until_empty: bool,
    pub empty_grace: Duration,
    pub receiver: ReceiverConfig,
    /// `SSRC -> name` given on the command line.
    pub names: Vec<(u32, String)>,
    /// The room's id when it was planned ahead (its feed guid is already announced); else it is
    /// made from the start time and title.
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordReport {
    pub session: PathBuf,
    pub url: String,
    pub duration: f64,
    pub speakers: Vec<String>,
    pub stopped_by: String,
    pub network: ReceiverStats,
    pub write_errors: u64,
    pub warnings: Vec<String>,
    /// What each live output did, by its name.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub outputs: serde_json::Map<String, serde_json::Value>,
}

/// Where a recording stands, reported about once a second.
#[derive(Debug, Clone, Serialize)]
pub struct LiveStatus {
    pub elapsed: f64,
    pub present: usize,
    pub speakers: usize,
    pub packets: u64,
    pub lost: u64,
    /// The live outputs' own lines (the newest caption, how far behind captions are).
    pub outputs: Vec<String>,
}

/// Things the recorder reports while it runs (for `-v` logs and the terminal).
pub trait RecordObserver: Send {
    fn ready(&self, _where: &str) {}
    fn status(&self, _status: &LiveStatus) {}
    fn joined(&self, _name: &str, _at: f64) {}
    fn left(&self, _name: &str, _at: f64) {}
    fn warning(&self, _message: &str) {}
    /// The session folder exists (the room is being recorded there).
    fn session(&self, _dir: &std::path::Path) {}
}

pub struct Quiet;
impl RecordObserver for Quiet {}

fn room_samples(since: Duration) -> u64 {
    (since.as_nanos() * SAMPLE_RATE as u128 / 1_000_000_000) as u64
}

/// Records a room until the source ends it, the time limit, `--until-empty`, or `stop` (Ctrl-C).
pub async fn record(
    source: Box<dyn RoomSource>,
    options: RecordOptions,
    mut outputs: Vec<Box<dyn RoomOutput>>,
    mut stop: watch::Receiver<bool>,
    observer: &dyn RecordObserver,
) -> Result<RecordReport, RecordError> {
    if let SessionPlace::At(out) = &options.out
        && out.exists()
    {
        return Err(RecordError::Exists(out.clone()));
    }
    let url = source.url();
    let (event_tx, mut events) = mpsc::channel(1024);
    let (outgoing_tx, outgoing_rx) = mpsc::unbounded_channel();
    let (stop_source_tx, stop_source) = watch::channel(false);
    let mut source_task =
        tokio::spawn(source.run(SourceIo { events: event_tx, outgoing: outgoing_rx, stop: stop_source }));

    // Wait until the source has joined: a room that cannot be joined leaves no session behind.
    let ready = loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(SourceEvent::Ready(at)) => break at,
                Some(SourceEvent::Warning(w)) => observer.warning(&w),
                Some(_) => {}
                None => {
                    let result = (&mut source_task).await.map_err(|e| RecordError::Source(e.to_string()))?;
                    result?;
                    return Err(RecordError::Source(format!("{url}: the source stopped before joining the room")));
                }
            },
            _ = stop.changed() => {
                let _ = stop_source_tx.send(true);
                return Err(RecordError::Source("stopped before the room was joined".into()));
            }
        }
    };
    observer.ready(&ready);

    let start = Instant::now();
    let started_at = Utc::now();
    let id = options.id.clone().unwrap_or_else(|| session::room_id(&started_at, &options.title));
    // A session recorded into a folder of rooms is named by its room id, known only now.
    let out = match &options.out {
        SessionPlace::At(dir) => dir.clone(),
        SessionPlace::NamedByRoom(rooms) => {
            let dir = rooms.join(&id);
            if dir.exists() {
                let _ = stop_source_tx.send(true);
                return Err(RecordError::Exists(dir));
            }
            dir
        }
    };
    let guard = TempGuard(out.clone());
    let mut live = LiveSession::create(&out, id, options.title.clone(), url.clone(), started_at)?;
    // From here on the folder is the recording: keep it whatever happens.
    guard.keep();
    observer.session(live.dir());
    let mut warnings = Vec::new();
    outputs.retain_mut(|o| match o.start(&live.session) {
        Ok(()) => true,
        Err(e) => {
            let w = format!("{}: off ({e}); the room is still recorded", o.name());
            observer.warning(&w);
            warnings.push(w);
            false
        }
    });
    let mut receiver = Receiver::new(options.receiver.clone(), crate::rtp::rand_ssrc());
    for (ssrc, name) in &options.names {
        receiver.set_name(*ssrc, name);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_flush = Instant::now();
    let mut last_report = Instant::now();
    let mut last_status = Instant::now();
    let mut rtcp_peers = crate::rtp::peers::RtcpPeers::default();
    let mut empty_since: Option<Instant> = None;
    let deadline = options.max_duration.map(|d| tokio::time::Instant::from_std(start + d));
    let max_duration = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(max_duration);

    let stopped_by = loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(SourceEvent::Datagrams(batch)) => {
                    for d in batch {
                        if crate::rtp::rtcp::is_rtcp(&d.bytes) {
                            let bye = crate::rtp::rtcp::parse(&d.bytes)
                                .is_some_and(|r| r.iter().any(|r| matches!(r, crate::rtp::rtcp::Rtcp::Bye(_))));
                            rtcp_peers.heard(d.from, d.at.saturating_duration_since(start), bye);
                        }
                        receiver.handle_datagram(&d.bytes, d.at.saturating_duration_since(start));
                    }
                }
                Some(SourceEvent::Name { ssrc, name }) => receiver.set_name(ssrc, &name),
                Some(SourceEvent::Gone { ssrc }) => receiver.close(ssrc, start.elapsed()),
                Some(SourceEvent::Warning(w)) => {
                    observer.warning(&w);
                    warnings.push(w);
                }
                Some(SourceEvent::Ready(_)) => {}
                Some(SourceEvent::Ended(why)) => break why,
                None => break "the source stopped".to_string(),
            },
            _ = tick.tick() => {
                let now = Instant::now();
                receiver.handle_timeout(now.saturating_duration_since(start));
                let room_now = room_samples(now.saturating_duration_since(start));
                for o in outputs.iter_mut() {
                    o.hear(Heard::Tick { now: room_now });
                }
                if now.duration_since(last_report) >= Duration::from_secs(5) {
                    last_report = now;
                    if let Some(rr) = receiver.receiver_report(now.saturating_duration_since(start)) {
                        for peer in rtcp_peers.live(now.saturating_duration_since(start)) {
                            let _ = outgoing_tx.send((rr.clone(), peer));
                        }
                    }
                }
                if now.duration_since(last_status) >= Duration::from_secs(1) {
                    last_status = now;
                    observer.status(&LiveStatus {
                        elapsed: now.duration_since(start).as_secs_f64(),
                        present: live.present(),
                        speakers: live.speaker_count(),
                        packets: receiver.stats.packets,
                        lost: receiver.stats.lost,
                        outputs: outputs.iter().filter_map(|o| o.status()).collect(),
                    });
                }
                if options.until_empty && live.speaker_count() > 0 && live.present() == 0 {
                    let since = *empty_since.get_or_insert(now);
                    if now.duration_since(since) >= options.empty_grace {
                        break "every speaker left".to_string();
                    }
                } else {
                    empty_since = None;
                }
            },
            _ = &mut max_duration => break "the time limit".to_string(),
            _ = stop.changed() => break "a stop signal".to_string(),
        }
        drain(&mut receiver, &mut live, &mut outputs, observer, &mut warnings)?;
        if last_flush.elapsed() >= Duration::from_millis(500) {
            last_flush = Instant::now();
            live.flush();
        }
    };
    let _ = stop_source_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), &mut source_task).await;
    let end = start.elapsed();
    receiver.finish(end);
    drain(&mut receiver, &mut live, &mut outputs, observer, &mut warnings)?;
    let outputs = outputs.into_iter().map(|o| (o.name().to_string(), o.finish(room_samples(end)))).collect();
    let write_errors = live.stats.write_errors;
    let speakers = live.session.room.speakers.iter().map(|s| s.name.clone()).collect();
    let session = live.finish(room_samples(end), Utc::now())?;
    Ok(RecordReport {
        session: session.dir,
        url,
        duration: session.room.duration,
        speakers,
        stopped_by,
        network: receiver.stats.clone(),
        write_errors,
        warnings,
        outputs,
    })
}

fn drain(
    receiver: &mut Receiver,
    live: &mut LiveSession,
    outputs: &mut [Box<dyn RoomOutput>],
    observer: &dyn RecordObserver,
    warnings: &mut Vec<String>,
) -> Result<(), RecordError> {
    while let Some(output) = receiver.poll_output() {
        // Packets go to the outputs as they are handed to the writer; roster changes once the
        // writer has given the speaker their id and (cleaned) name.
        let after = match &output {
            Output::Packet { speaker, pos, payload } => {
                if let Some(id) = live.speaker_id(*speaker) {
                    for o in outputs.iter_mut() {
                        o.hear(Heard::Packet { speaker: id, pos: *pos, payload });
                    }
                }
                None
            }
            Output::Joined { speaker, at, .. } => Some((*speaker, Some(*at), false)),
            Output::Renamed { speaker, .. } => Some((*speaker, None, false)),
            Output::Left { speaker, at } => Some((*speaker, Some(*at), true)),
            _ => None,
        };
        match &output {
            Output::Joined { name, at, .. } => observer.joined(name, *at as f64 / SAMPLE_RATE as f64),
            Output::Left { speaker, at } => {
                let name = receiver.speaker_name(*speaker).unwrap_or_default().to_string();
                observer.left(&name, *at as f64 / SAMPLE_RATE as f64);
            }
            Output::Warning(w) => {
                observer.warning(w);
                warnings.push(w.clone());
            }
            _ => {}
        }
        live.apply(output)?;
        if let Some((key, at, left)) = after
            && let Some((id, name)) = live.speaker(key)
        {
            let heard = match (at, left) {
                (Some(at), true) => Heard::Left { speaker: id, at },
                (Some(at), false) => Heard::Joined { speaker: id, name, at },
                (None, _) => Heard::Renamed { speaker: id, name },
            };
            for o in outputs.iter_mut() {
                o.hear(heard);
            }
        }
    }
    for problem in live.problems.drain(..) {
        observer.warning(&problem);
        warnings.push(problem);
    }
    Ok(())
}

/// A marker event (chapter) at the current room time.
pub fn marker_event(t: f64, title: &str) -> Event {
    Event { t, kind: EventKind::Marker { title: title.to_string() } }
}
