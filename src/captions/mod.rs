//! Live captions: every speaker's words while the room is on. An output of the recording (a
//! [`RoomOutput`]): the recorder hands it each packet as it writes it, and a thread of its own
//! decodes, finds each speaker's utterances (`endpoint`), runs whisper on what is most urgent
//! (`schedule`) and appends the captions to the session's captions.jsonl (`session::captions`),
//! where the web server, the library and anyone else read them.
//!
//! The recording never depends on captions: the hand-over is a bounded queue the recorder never
//! waits on (what does not fit is counted, and only the captions miss it), the captioning thread
//! runs at a lower CPU priority than the recorder, and a caption that cannot be made is said in
//! the status line and the stream, never by holding up a packet.

pub mod endpoint;
pub mod schedule;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::record::{Heard, RoomOutput};
use crate::session::Session;
use crate::transcript::vad::Vad;
use crate::transcript::whisper::Engine;
pub use worker::CaptionReport;

/// What the recorder sends the captioning thread.
#[derive(Debug)]
enum Message {
    Joined { speaker: String, name: String },
    Renamed { speaker: String, name: String },
    Packet { speaker: String, pos: u64, payload: Vec<u8> },
    Left { speaker: String, at: u64 },
    Tick { now: u64 },
    Finish { end: u64 },
}

/// How many messages wait for the captioning thread: about five minutes of packets of one
/// speaker, or half a minute of ten. Past it packets skip captions (counted), never the recording.
const QUEUE: usize = 16_384;

/// How long captions may go on after the room is over to catch up (on a machine too busy to
/// caption live, the recorder would otherwise wait for all of it): then what is left is given up,
/// said in the stream and the report, and the transcript after the room has it.
const CATCH_UP: Duration = Duration::from_secs(30);

/// Where captions stand, for the recorder's status line.
#[derive(Debug, Clone, Default)]
struct Status {
    newest: Option<String>,
    behind: f64,
    finals: u64,
    skipped_partials: u64,
    off: Option<String>,
}

/// What captioning needs: a whisper model loaded, Silero VAD loaded, and the language if known.
pub struct CaptionSetup {
    pub engine: Engine,
    pub vad: Vad,
    pub language: Option<String>,
}

/// Live captions of a recording.
pub struct Captions {
    setup: Option<CaptionSetup>,
    queue: Option<SyncSender<Message>>,
    thread: Option<JoinHandle<CaptionReport>>,
    status: Arc<Mutex<Status>>,
    dropped_packets: u64,
    log_path: PathBuf,
    give_up: Arc<AtomicBool>,
}

impl Captions {
    pub fn new(setup: CaptionSetup) -> Captions {
        Captions {
            setup: Some(setup),
            queue: None,
            thread: None,
            status: Arc::default(),
            dropped_packets: 0,
            log_path: PathBuf::new(),
            give_up: Arc::default(),
        }
    }

    fn send(&mut self, message: Message) {
        let Some(queue) = &self.queue else { return };
        match queue.try_send(message) {
            Ok(()) => {}
            Err(TrySendError::Full(Message::Packet { .. })) => self.dropped_packets += 1,
            // A tick can wait for the next one; a roster change is small and rare: dropped, it
            // only leaves a name stale in the captions.
            Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => self.queue = None,
        }
    }
}

/// Makes the calling thread yield to the recorder: whisper's worker threads, started from it,
/// inherit the priority.
fn lower_priority() {
    // SAFETY: setpriority on this thread's own id (Linux: a thread's nice value is its own).
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::id_t;
    // SAFETY: as above; failing only leaves the priority as it was.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, 10) };
}

impl RoomOutput for Captions {
    fn name(&self) -> &'static str {
        "captions"
    }

    fn start(&mut self, session: &Session) -> Result<(), String> {
        let setup = self.setup.take().ok_or("started twice")?;
        self.log_path = session.captions_path();
        let (tx, rx) = sync_channel(QUEUE);
        let worker = worker::Worker {
            engine: setup.engine,
            vad: setup.vad,
            language: setup.language,
            log_path: self.log_path.clone(),
            status: self.status.clone(),
            config: endpoint::EndpointConfig::default(),
            give_up: self.give_up.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("captions".into())
            .spawn(move || {
                lower_priority();
                worker.run(rx)
            })
            .map_err(|e| format!("cannot start the captioning thread: {e}"))?;
        self.queue = Some(tx);
        self.thread = Some(thread);
        Ok(())
    }

    fn hear(&mut self, heard: Heard) {
        let message = match heard {
            Heard::Joined { speaker, name, .. } => Message::Joined { speaker: speaker.into(), name: name.into() },
            Heard::Renamed { speaker, name } => Message::Renamed { speaker: speaker.into(), name: name.into() },
            Heard::Packet { speaker, pos, payload } => {
                Message::Packet { speaker: speaker.into(), pos, payload: payload.to_vec() }
            }
            Heard::Left { speaker, at } => Message::Left { speaker: speaker.into(), at },
            Heard::Tick { now } => Message::Tick { now },
        };
        self.send(message);
    }

    fn status(&self) -> Option<String> {
        let s = self.status.lock().ok()?;
        if let Some(off) = &s.off {
            return Some(format!("captions off ({off})"));
        }
        let newest = s.newest.as_deref().map(|t| {
            let short: String = t.chars().take(48).collect();
            if short.len() < t.len() { format!("\"{short}…\"") } else { format!("\"{short}\"") }
        });
        let behind = if s.behind >= 0.5 { format!(", {:.1} s behind", s.behind) } else { String::new() };
        Some(format!("captions {}{behind}{}", s.finals, newest.map(|n| format!(": {n}")).unwrap_or_default()))
    }

    fn finish(mut self: Box<Self>, end: u64) -> serde_json::Value {
        self.send(Message::Finish { end });
        // The queue must stay open until the thread has the Finish: it is in it now.
        self.queue = None;
        if let Some(thread) = &self.thread {
            let deadline = Instant::now() + CATCH_UP;
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if !thread.is_finished() {
                tracing::warn!("captions are behind the room at its end: giving up on the rest");
                self.give_up.store(true, Ordering::Relaxed);
            }
        }
        let mut report = self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default();
        report.dropped_packets = self.dropped_packets;
        if self.dropped_packets > 0 {
            report.notes.push(format!(
                "{} packets reached the recording but not the captions (the captions' queue was full)",
                self.dropped_packets
            ));
        }
        serde_json::to_value(&report).unwrap_or_default()
    }
}
