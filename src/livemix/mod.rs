//! The live mix: the room as listeners outside it hear it while it is on. An output of the
//! recording (a [`RoomOutput`]): the recorder hands it each packet, and a thread of its own mixes
//! the speakers a fixed delay behind the room (`mixer`), encodes the mix as MP3 and writes it as
//! short segments into the session (`segments`, `session::live`), where `roomcast serve` (here, or
//! on another machine sharing the storage) streams them as HLS and as one continuous stream.
//!
//! A listening copy: the tracks and the master made after the room are untouched by it.

pub mod mixer;
pub mod segments;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

use crate::record::{Heard, RoomOutput};
use crate::session::{Session, live};
use mixer::{Leveling, MixStats, Mixer};
use segments::Segmenter;

/// How far behind the room the mix runs. The recorder's reorder window has already put packets in
/// order (200 ms); one more second absorbs what a congested network or a busy machine delays
/// further, while the segments' own second and a player's buffer are what a listener waits for
/// anyway. Packets later than this are concealed, never waited for.
pub const PLAYOUT_DELAY: f64 = 1.0;
/// The live mix's bitrate: mono speech at 64 kbps MP3.
pub const BITRATE_KBPS: u32 = 64;
/// The limiter's ceiling: -1 dBTP, less what MP3 encoding adds to peaks at this bitrate.
const CEILING_DB: f64 = -1.5;
const QUEUE: usize = 16_384;

#[derive(Debug)]
enum Message {
    Packet { speaker: String, pos: u64, payload: Vec<u8> },
    Tick { now: u64 },
    Finish { end: u64 },
}

/// What the live mix came to: the `live_mix` part of `record --json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveMixReport {
    pub segments: u64,
    pub seconds: f64,
    pub delay_seconds: f64,
    pub format: String,
    pub mix: MixStats,
    /// Packets the live mix never heard (its queue was full; the recording has them).
    pub dropped_packets: u64,
    /// The listeners' figures as the server last wrote them.
    pub listeners: Option<live::Listeners>,
    pub problems: Vec<String>,
}

/// A room's live mix.
pub struct LiveMix {
    session: PathBuf,
    queue: Option<SyncSender<Message>>,
    thread: Option<JoinHandle<LiveMixReport>>,
    dropped: u64,
    written: Arc<Mutex<u64>>,
}

impl Default for LiveMix {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveMix {
    pub fn new() -> LiveMix {
        LiveMix { session: PathBuf::new(), queue: None, thread: None, dropped: 0, written: Arc::default() }
    }

    fn send(&mut self, m: Message) {
        let Some(q) = &self.queue else { return };
        match q.try_send(m) {
            Ok(()) => {}
            Err(TrySendError::Full(Message::Packet { .. })) => self.dropped += 1,
            Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => self.queue = None,
        }
    }
}

fn run(session: PathBuf, messages: Receiver<Message>, written: Arc<Mutex<u64>>) -> LiveMixReport {
    let mut report = LiveMixReport { delay_seconds: PLAYOUT_DELAY, format: "mp3".into(), ..Default::default() };
    let info = live::LiveInfo {
        format: "mp3".into(),
        bitrate_kbps: BITRATE_KBPS,
        segment_seconds: segments::segment_seconds(),
        delay_seconds: PLAYOUT_DELAY,
        ended: false,
    };
    let mut segmenter = match live::write_info(&session, &info)
        .map_err(|e| e.to_string())
        .and_then(|()| Segmenter::new(BITRATE_KBPS, 0).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            report.problems.push(format!("live mix off: {e}"));
            while messages.recv().is_ok() {}
            return report;
        }
    };
    let mut mixer = Mixer::new(Leveling::default(), CEILING_DB);
    let delay = (PLAYOUT_DELAY * mixer::RATE as f64) as u64;
    let mut pcm = Vec::new();
    let write = |segs: Vec<segments::Segment>, report: &mut LiveMixReport| {
        for s in segs {
            match live::write_segment(&session, s.number, &s.bytes) {
                Ok(_) => {
                    report.segments += 1;
                    if let Ok(mut w) = written.lock() {
                        *w = report.segments;
                    }
                }
                Err(e) => {
                    if report.problems.len() < 5 {
                        report.problems.push(format!("a live segment could not be written: {e}"));
                    }
                }
            }
        }
    };
    loop {
        match messages.recv_timeout(Duration::from_secs(1)) {
            Ok(Message::Packet { speaker, pos, payload }) => mixer.packet(&speaker, pos, &payload),
            Ok(Message::Tick { now }) => {
                pcm.clear();
                mixer.mix(now.saturating_sub(delay), &mut pcm);
                match segmenter.push(&pcm) {
                    Ok(segs) => write(segs, &mut report),
                    Err(e) => report.problems.push(e.to_string()),
                }
            }
            Ok(Message::Finish { end }) => {
                pcm.clear();
                mixer.finish(end, &mut pcm);
                let mut segs = segmenter.push(&pcm).unwrap_or_default();
                segs.extend(segmenter.finish().unwrap_or_default());
                write(segs, &mut report);
                break;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = live::write_info(&session, &live::LiveInfo { ended: true, ..info });
    report.seconds = (report.segments as f64 * segments::segment_seconds() * 1000.0).round() / 1000.0;
    mixer.report_gains();
    report.mix = mixer.stats.clone();
    report.listeners = live::read_listeners(&session);
    report
}

impl RoomOutput for LiveMix {
    fn name(&self) -> &'static str {
        "live_mix"
    }

    fn start(&mut self, session: &Session) -> Result<(), String> {
        self.session = session.dir.clone();
        let (tx, rx) = sync_channel(QUEUE);
        let (dir, written) = (self.session.clone(), self.written.clone());
        let thread = std::thread::Builder::new()
            .name("live mix".into())
            .spawn(move || run(dir, rx, written))
            .map_err(|e| format!("cannot start the live mix: {e}"))?;
        self.queue = Some(tx);
        self.thread = Some(thread);
        Ok(())
    }

    fn hear(&mut self, heard: Heard) {
        match heard {
            Heard::Packet { speaker, pos, payload } => {
                self.send(Message::Packet { speaker: speaker.into(), pos, payload: payload.to_vec() })
            }
            Heard::Tick { now } => self.send(Message::Tick { now }),
            Heard::Joined { .. } | Heard::Renamed { .. } | Heard::Left { .. } => {}
        }
    }

    fn status(&self) -> Option<String> {
        let listeners = live::read_listeners(&self.session).unwrap_or_default();
        Some(format!("live: {} listener(s)", listeners.stream + listeners.hls))
    }

    fn finish(mut self: Box<Self>, end: u64) -> serde_json::Value {
        self.send(Message::Finish { end });
        self.queue = None;
        let mut report = self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default();
        report.dropped_packets = self.dropped;
        serde_json::to_value(&report).unwrap_or_default()
    }
}
