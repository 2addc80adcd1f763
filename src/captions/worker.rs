//! The captioning thread: decodes each speaker's Opus as it arrives (at 16 kHz, what whisper and
//! Silero hear), finds their utterances, runs whisper on what the scheduler says is most urgent,
//! and appends every caption to captions.jsonl.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::endpoint::{Decision, EndpointConfig, Endpointer};
use super::schedule::{FinalJob, Job, PartialJob, Scheduler};
use super::{Message, Status};
use crate::session::captions::{Caption, CaptionLine, CaptionLog};
use crate::session::transcript::ms;
use crate::transcript::align::{Envelope, to_room};
use crate::transcript::pack::{Piece, Window};
use crate::transcript::run::LEAD_IN;
use crate::transcript::vad::{VAD_FRAME, VAD_RATE, Vad};
use crate::transcript::whisper::Engine;

const RATE: f64 = VAD_RATE as f64;
/// Frames of audio before the new ones that Silero hears again each time (it starts afresh on
/// every call): enough for it to settle, 0.5 s.
const VAD_CONTEXT_FRAMES: usize = 16;
/// New frames gathered before Silero runs: 128 ms, so speech is noticed within about 0.1 s.
const VAD_BATCH_FRAMES: usize = 4;
/// A gap in a speaker's packets shorter than this is concealed by the decoder (a lost packet);
/// a longer one is silence (DTX, a pause).
const CONCEAL_UP_TO: u64 = 1920;
/// A speaker who sends nothing is taken as silent up to this far behind the room clock: the
/// receiver's reorder window (200 ms) and some.
const SILENT_BEHIND: f64 = 0.3;
/// Frames this quiet (peak under -60 dBFS) are silence without asking Silero: an idle speaker's
/// room costs next to nothing.
const QUIET_PEAK: f32 = 0.001;
/// An open microphone's room tone is not silence, but it is nothing either: while no utterance is
/// going on, frames that stay within 6 dB of the speaker's noise floor (and under -40 dBFS RMS)
/// are not shown to Silero. Speech, breath and keys rise above it and are. (Measured: 11 silent
/// speakers with -61 dBFS RMS room tone cost 20.7 % of a core with Silero on every frame.)
const ABOVE_FLOOR: f32 = 2.0;
const FLOOR_CAP: f32 = 0.01;
/// The floor follows a quieter frame at once and a louder room slowly: about 1 dB a second.
const FLOOR_RISE: f32 = 1.0037;
/// The floor never goes below -100 dBFS (so it can rise again after digital silence).
const FLOOR_MIN: f32 = 1e-5;

/// What the captions of a room came to: the `captions` part of `record --json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptionReport {
    pub finals: u64,
    pub partials: u64,
    /// Partial captions not made because a newer one of the same utterance replaced them.
    pub skipped_partials: u64,
    /// Utterances never captioned: the most final captions that wait was exceeded.
    pub dropped_finals: u64,
    /// Packets captions never heard: the recorder's hand-over queue was full (the recording has
    /// them all).
    pub dropped_packets: u64,
    /// Utterances left uncaptioned when the catch-up after the room ran out (`CATCH_UP`).
    pub unfinished_finals: u64,
    /// Packets still queued then, never listened to.
    pub unheard_packets: u64,
    /// From the end of an utterance to its final caption in the file (room clock), milliseconds.
    pub latency_ms: Latency,
    /// The furthest behind captions fell.
    pub max_behind_s: f64,
    /// Each speaker's language, as detected (or given).
    pub languages: HashMap<String, String>,
    /// Lines of captions.jsonl.
    pub lines: u64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub median: u64,
    pub p90: u64,
    pub max: u64,
}

impl Latency {
    fn of(mut values: Vec<f64>) -> Latency {
        if values.is_empty() {
            return Latency::default();
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| (values[((values.len() - 1) as f64 * q).round() as usize] * 1000.0).round() as u64;
        Latency { median: at(0.5), p90: at(0.9), max: at(1.0) }
    }
}

/// One speaker's audio as it arrives, and where their utterances are.
struct Voice {
    name: String,
    decoder: Option<opus::Decoder>,
    /// 16 kHz audio from sample `origin` of the room on.
    audio: Vec<f32>,
    origin: u64,
    /// The room sample (16 kHz) after the last one decoded or filled.
    decoded_to: u64,
    /// Frames up to here went through the endpointer.
    vad_to: u64,
    endpoint: Endpointer,
    utterance: Option<u64>,
    language: Option<String>,
    /// The speaker's noise floor: frame RMS, tracked (`FLOOR_RISE`).
    floor: Option<f32>,
}

impl Voice {
    fn new(name: &str, config: EndpointConfig) -> Voice {
        Voice {
            name: name.to_string(),
            decoder: None,
            audio: Vec::new(),
            origin: 0,
            decoded_to: 0,
            vad_to: 0,
            endpoint: Endpointer::new(config, VAD_FRAME as f64 / RATE),
            utterance: None,
            language: None,
            floor: None,
        }
    }

    /// Whether frames `from..to` of the held audio are only the speaker's room tone; the noise
    /// floor learns from them either way.
    fn only_room_tone(&mut self, from: usize, to: usize) -> bool {
        let floor = self.floor;
        let idle = self.endpoint.utterance_start().is_none();
        let mut within = true;
        for frame in self.audio[from..to].chunks(VAD_FRAME) {
            let rms = (frame.iter().map(|s| s * s).sum::<f32>() / frame.len().max(1) as f32).sqrt();
            within &= floor.is_some_and(|f| rms < (f * ABOVE_FLOOR).min(FLOOR_CAP));
            self.floor = Some(match self.floor {
                Some(f) if rms >= f => f * FLOOR_RISE,
                _ => rms.max(FLOOR_MIN),
            });
        }
        idle && within
    }

    /// The audio from room second `from` to `to`, as far as it is held.
    fn slice(&self, from: f64, to: f64) -> Vec<f32> {
        let index = |t: f64| ((t * RATE) as u64).saturating_sub(self.origin).min(self.audio.len() as u64) as usize;
        self.audio[index(from)..index(to).max(index(from))].to_vec()
    }

    fn push_silence(&mut self, until: u64) {
        if until > self.decoded_to {
            self.audio.resize(self.audio.len() + (until - self.decoded_to) as usize, 0.0);
            self.decoded_to = until;
        }
    }

    /// Forgets audio no utterance and no voice-activity context needs any more.
    fn trim(&mut self) {
        let keep_from = match self.endpoint.utterance_start() {
            Some(start) => (start * RATE) as u64,
            None => self.vad_to.saturating_sub((VAD_CONTEXT_FRAMES * VAD_FRAME) as u64),
        }
        .saturating_sub(VAD_RATE as u64 / 2);
        if keep_from > self.origin + VAD_RATE as u64 * 5 {
            let drop = (keep_from - self.origin).min(self.audio.len() as u64) as usize;
            self.audio.drain(..drop);
            self.origin += drop as u64;
        }
    }
}

pub(super) struct Worker {
    pub engine: Engine,
    pub vad: Vad,
    pub language: Option<String>,
    pub log_path: PathBuf,
    pub status: Arc<Mutex<Status>>,
    pub config: EndpointConfig,
    /// Set when the room is over and the captions have had their time to catch up: what is left
    /// is not captioned (the transcript after the room has it all).
    pub give_up: Arc<AtomicBool>,
}

/// The room clock, extrapolated from the recorder's last tick.
struct Clock {
    room: f64,
    at: Instant,
}

impl Clock {
    fn now(&self) -> f64 {
        self.room + self.at.elapsed().as_secs_f64()
    }
}

impl Worker {
    pub fn run(self, messages: Receiver<Message>) -> CaptionReport {
        let Worker { engine, vad, language, log_path, status, config, give_up } = self;
        let mut report = CaptionReport::default();
        let opened = CaptionLog::open(&log_path).map_err(|e| e.to_string()).and_then(|log| {
            let state = engine.state().map_err(|e| e.to_string())?;
            Ok((log, state))
        });
        let (mut log, mut state) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                report.notes.push(format!("captions off: {e}"));
                if let Ok(mut s) = status.lock() {
                    s.off = Some(e);
                }
                // Drain what the recorder sends, so it never waits on a full queue.
                while messages.recv().is_ok() {}
                return report;
            }
        };
        let mut run = Run {
            engine: &engine,
            vad,
            language,
            status: &status,
            config,
            voices: HashMap::new(),
            schedule: Scheduler::default(),
            next_utterance: 0,
            clock: Clock { room: 0.0, at: Instant::now() },
            latencies: Vec::new(),
            report: &mut report,
            told_behind: false,
            notes: Vec::new(),
            give_up: &give_up,
        };
        let mut ended: Option<u64> = None;
        loop {
            // Wait for the recorder only when there is nothing to run.
            let wait = if run.schedule.is_idle() { Duration::from_millis(100) } else { Duration::ZERO };
            match messages.recv_timeout(wait) {
                Ok(m) => {
                    if let Some(end) = run.handle(m) {
                        ended = Some(end);
                    }
                    while let Ok(m) = messages.try_recv() {
                        if let Some(end) = run.handle(m) {
                            ended = Some(end);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => ended = ended.or(Some((run.clock.now() * 48_000.0) as u64)),
            }
            if let Some(end) = ended {
                run.finish(end, &mut state, &mut log);
                break;
            }
            // Given up: what is queued is only drained (finish counts what was left).
            if !give_up.load(Ordering::Relaxed)
                && let Some(job) = run.schedule.next_job()
            {
                run.execute(job, &mut state, &mut log);
            }
            run.publish_status();
            for text in std::mem::take(&mut run.notes) {
                let at = ms(run.clock.now());
                if log.append(CaptionLine::Note { seq: 0, at, text }).is_err() {
                    break;
                }
            }
        }
        report.lines = log.next_seq();
        report
    }
}

/// A room being captioned.
struct Run<'a> {
    engine: &'a Engine,
    vad: Vad,
    /// The language asked for, if any (else each speaker's is detected).
    language: Option<String>,
    status: &'a Arc<Mutex<Status>>,
    config: EndpointConfig,
    voices: HashMap<String, Voice>,
    schedule: Scheduler,
    next_utterance: u64,
    clock: Clock,
    latencies: Vec<f64>,
    report: &'a mut CaptionReport,
    told_behind: bool,
    /// Notes for the caption stream, written by the loop.
    notes: Vec<String>,
    give_up: &'a AtomicBool,
}

impl Run<'_> {
    /// Takes one message; `Some(end)` when the room is over.
    fn handle(&mut self, message: Message) -> Option<u64> {
        let config = self.config;
        match message {
            Message::Joined { speaker, name } => {
                let voice = self.voices.entry(speaker).or_insert_with(|| Voice::new(&name, config));
                voice.name = name;
            }
            Message::Renamed { speaker, name } => {
                if let Some(v) = self.voices.get_mut(&speaker) {
                    v.name = name;
                }
            }
            Message::Packet { speaker, pos, payload } => {
                if self.give_up.load(Ordering::Relaxed) {
                    self.report.unheard_packets += 1;
                    return None;
                }
                let voice = self.voices.entry(speaker.clone()).or_insert_with(|| Voice::new(&speaker, config));
                decode(voice, pos / 3, &payload);
                self.listen(&speaker, false);
            }
            Message::Left { speaker, at } => {
                if let Some(v) = self.voices.get_mut(&speaker) {
                    let end = at as f64 / 48_000.0;
                    v.push_silence((end * RATE) as u64);
                    self.listen(&speaker, true);
                    if let Some(v) = self.voices.get_mut(&speaker)
                        && let Some(d) = v.endpoint.flush(end)
                    {
                        self.decided(&speaker, d);
                    }
                }
            }
            Message::Tick { now } => {
                self.clock = Clock { room: now as f64 / 48_000.0, at: Instant::now() };
                let silent_to = (((now as f64 / 48_000.0) - SILENT_BEHIND).max(0.0) * RATE) as u64;
                let speakers: Vec<String> = self.voices.keys().cloned().collect();
                for s in speakers {
                    if let Some(v) = self.voices.get_mut(&s)
                        && v.decoder.is_some()
                    {
                        v.push_silence(silent_to);
                        self.listen(&s, true);
                    }
                }
            }
            Message::Finish { end } => return Some(end),
        }
        None
    }

    /// Runs the speaker's new audio through voice activity and the endpointer (`all`: every
    /// whole frame, else only once a batch has gathered).
    fn listen(&mut self, speaker: &str, all: bool) {
        let Some(v) = self.voices.get_mut(speaker) else { return };
        if v.vad_to < v.origin {
            v.vad_to = v.origin;
        }
        let frame = VAD_FRAME as u64;
        let new_frames = ((v.decoded_to - v.vad_to) / frame) as usize;
        if new_frames == 0 || (!all && new_frames < VAD_BATCH_FRAMES) {
            return;
        }
        let new_from = (v.vad_to - v.origin) as usize;
        let new_to = new_from + new_frames * VAD_FRAME;
        let quiet =
            v.audio[new_from..new_to].iter().all(|s| s.abs() < QUIET_PEAK) || v.only_room_tone(new_from, new_to);
        let probs: Vec<f32> = if quiet {
            vec![0.0; new_frames]
        } else {
            let context_from = new_from.saturating_sub(VAD_CONTEXT_FRAMES * VAD_FRAME);
            let context_from = new_from - (new_from - context_from) / VAD_FRAME * VAD_FRAME;
            let skip = (new_from - context_from) / VAD_FRAME;
            match self.vad.probabilities(&v.audio[context_from..new_to]) {
                Ok(p) if p.len() >= skip + new_frames => p[skip..skip + new_frames].to_vec(),
                Ok(_) | Err(_) => vec![0.0; new_frames],
            }
        };
        let mut decisions = Vec::new();
        let v = self.voices.get_mut(speaker).expect("the speaker is there");
        for p in probs {
            let t = v.vad_to as f64 / RATE;
            v.vad_to += frame;
            if let Some(d) = v.endpoint.push(t, p) {
                decisions.push(d);
            }
        }
        for d in decisions {
            self.decided(speaker, d);
        }
        if let Some(v) = self.voices.get_mut(speaker) {
            v.trim();
        }
    }

    fn decided(&mut self, speaker: &str, d: Decision) {
        let next = &mut self.next_utterance;
        let Some(v) = self.voices.get_mut(speaker) else { return };
        let utterance = *v.utterance.get_or_insert_with(|| {
            *next += 1;
            *next - 1
        });
        match d {
            Decision::Partial { start, end } => {
                self.schedule.partial_due(PartialJob { speaker: speaker.to_string(), utterance, start, asked: end });
            }
            Decision::Final { start, end } => {
                v.utterance = None;
                let audio = v.slice(start, end);
                let job = FinalJob { speaker: speaker.to_string(), utterance, start, end, audio };
                if let Some(dropped) = self.schedule.final_due(job) {
                    let note = format!(
                        "captions fell too far behind: {}'s words from {:.1} s to {:.1} s were not captioned",
                        self.voices.get(&dropped.speaker).map_or(dropped.speaker.as_str(), |v| v.name.as_str()),
                        dropped.start,
                        dropped.end
                    );
                    self.report.notes.push(note);
                    self.report.dropped_finals += 1;
                }
            }
        }
    }

    /// Runs whisper for one job and appends its caption.
    fn execute(&mut self, job: Job, state: &mut whisper_rs::WhisperState, log: &mut CaptionLog) {
        let (speaker, utterance, start, audio, is_final) = match job {
            Job::Final(f) => (f.speaker, f.utterance, f.start, f.audio, true),
            Job::Partial(p) => {
                let Some(v) = self.voices.get(&p.speaker) else { return };
                // The utterance ended meanwhile: its final is on its way.
                if v.utterance != Some(p.utterance) {
                    return;
                }
                let audio = v.slice(p.start, v.decoded_to as f64 / RATE);
                (p.speaker, p.utterance, p.start, audio, false)
            }
        };
        let Some(voice) = self.voices.get(&speaker) else { return };
        let name = voice.name.clone();
        let language = self.language_of(&speaker, &audio);
        let mut input = vec![0.0f32; (LEAD_IN * RATE) as usize];
        input.extend_from_slice(&audio);
        let len = audio.len() as f64 / RATE;
        let window = Window { pieces: vec![Piece { room_start: start, len, at: 0.0, source: 0 }], duration: len };
        let result = match self.engine.run_in(state, &input, language.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(speaker = %name, "captions: whisper failed: {e}");
                return;
            }
        };
        let envelope = Envelope::new(&input, VAD_RATE);
        let segments = to_room(&window, LEAD_IN, &result.segments, &envelope, &(speaker.clone(), name.clone()));
        let text = segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
        let words: Vec<_> = segments.iter().flat_map(|s| s.words.clone()).collect();
        let now = self.clock.now();
        let end = start + len;
        if !is_final && text.trim().is_empty() {
            return;
        }
        let (first, last) = (words.first().map(|w| w.start), words.last().map(|w| w.end));
        let caption = Caption {
            seq: 0,
            utterance,
            speaker: speaker.clone(),
            name: name.clone(),
            start: ms(first.unwrap_or(start)),
            end: ms(last.unwrap_or(end)),
            text,
            words: if is_final { words } else { Vec::new() },
            language,
            at: ms(now),
        };
        let line = if is_final { CaptionLine::Final(caption) } else { CaptionLine::Partial(caption) };
        if is_final {
            self.report.finals += 1;
            self.latencies.push((now - end).max(0.0));
            tracing::info!(speaker = %name, start, end, latency = now - end, "caption: {}", caption_text(&line));
        } else {
            self.report.partials += 1;
            tracing::debug!(speaker = %name, "partial: {}", caption_text(&line));
        }
        if let Ok(mut s) = self.status.lock() {
            s.newest = Some(format!("{name}: {}", caption_text(&line)));
            s.finals = self.report.finals;
        }
        if let Err(e) = log.append(line) {
            self.note_once(format!("captions could not be written: {e}"));
        }
    }

    /// The speaker's language: given, else detected once on their first second of speech.
    fn language_of(&mut self, speaker: &str, audio: &[f32]) -> Option<String> {
        if let Some(l) = &self.language {
            return Some(l.clone());
        }
        let v = self.voices.get_mut(speaker)?;
        if v.language.is_none() && audio.len() as f64 >= RATE {
            let detected = self.engine.detect_language(&audio[..audio.len().min(30 * VAD_RATE as usize)]);
            if let Ok(code) = detected {
                tracing::info!(speaker = %v.name, "captions: language {code}");
                self.report.languages.insert(v.name.clone(), code.clone());
                v.language = Some(code);
            }
        }
        v.language.clone()
    }

    fn note_once(&mut self, note: String) {
        if !self.report.notes.contains(&note) {
            tracing::warn!("{note}");
            self.report.notes.push(note.clone());
            self.notes.push(note);
        }
    }

    fn publish_status(&mut self) {
        let now = self.clock.now();
        let behind = self.schedule.behind(now);
        self.report.max_behind_s = self.report.max_behind_s.max(ms(behind));
        if let Ok(mut s) = self.status.lock() {
            s.behind = behind;
            s.skipped_partials = self.schedule.skipped_partials;
        }
        // Falling well behind is said in the stream once, as it happens, and again after it
        // caught up and fell behind anew.
        if behind > 5.0 && !self.told_behind {
            self.told_behind = true;
            self.notes.push(format!(
                "captions are {behind:.0} s behind: the CPU cannot keep up; partial captions are skipped"
            ));
        } else if behind < 1.0 {
            self.told_behind = false;
        }
    }

    /// The room is over at room sample `end`: every utterance going on is final, and what waits
    /// is captioned (partials no more).
    fn finish(&mut self, end: u64, state: &mut whisper_rs::WhisperState, log: &mut CaptionLog) {
        let end_s = end as f64 / 48_000.0;
        let speakers: Vec<String> = self.voices.keys().cloned().collect();
        if !self.give_up.load(Ordering::Relaxed) {
            for s in speakers {
                if let Some(v) = self.voices.get_mut(&s)
                    && v.decoder.is_some()
                {
                    v.push_silence((end_s * RATE) as u64);
                }
                self.listen(&s, true);
                if let Some(d) = self.voices.get_mut(&s).and_then(|v| v.endpoint.flush(end_s)) {
                    self.decided(&s, d);
                }
            }
        }
        let mut left = 0;
        while let Some(job) = self.schedule.next_job() {
            if let Job::Final(_) = job {
                if self.give_up.load(Ordering::Relaxed) {
                    left += 1;
                } else {
                    self.execute(job, state, log);
                }
            }
        }
        if self.give_up.load(Ordering::Relaxed) {
            self.report.unfinished_finals = left;
            let text = format!(
                "captions stopped behind the room at its end ({left} utterances and {} packets not captioned); \
                 the transcript after the room has every word",
                self.report.unheard_packets
            );
            self.report.notes.push(text.clone());
            let _ = log.append(CaptionLine::Note { seq: 0, at: ms(end_s), text });
        }
        let _ = log.append(CaptionLine::End { seq: 0, at: ms(end_s) });
        self.report.skipped_partials = self.schedule.skipped_partials;
        self.report.latency_ms = Latency::of(std::mem::take(&mut self.latencies));
    }
}

fn caption_text(line: &CaptionLine) -> &str {
    match line {
        CaptionLine::Partial(c) | CaptionLine::Final(c) => &c.text,
        _ => "",
    }
}

/// Decodes one packet onto the speaker's audio at 16 kHz sample `pos`: a short gap before it is
/// concealed by the decoder, a longer one is silence; a packet for audio already there (late,
/// or filled as silence while the speaker sent nothing) is left out.
fn decode(v: &mut Voice, pos: u64, payload: &[u8]) {
    if v.decoder.is_none() {
        match opus::Decoder::new(VAD_RATE, opus::Channels::Mono) {
            Ok(d) => v.decoder = Some(d),
            Err(_) => return,
        }
        v.origin = pos;
        v.decoded_to = pos;
        v.vad_to = pos;
    }
    if pos < v.decoded_to {
        return;
    }
    let Some(decoder) = v.decoder.as_mut() else { return };
    let gap = pos - v.decoded_to;
    if gap > 0 {
        // Concealment comes in whole 2.5 ms steps (40 samples at 16 kHz).
        let conceal = if gap <= CONCEAL_UP_TO { gap / 40 * 40 } else { 0 };
        let mut buf = vec![0.0f32; conceal as usize];
        let made = if conceal > 0 { decoder.decode_float(&[], &mut buf, false).unwrap_or(0) } else { 0 };
        buf.truncate(made);
        v.audio.extend_from_slice(&buf);
        v.audio.resize(v.audio.len() + (gap as usize - made), 0.0);
        v.decoded_to = pos;
    }
    let mut buf = vec![0.0f32; 5760];
    match decoder.decode_float(payload, &mut buf, false) {
        Ok(n) => {
            v.audio.extend_from_slice(&buf[..n]);
            v.decoded_to += n as u64;
        }
        Err(_) => {
            // A packet libopus refuses: its length in silence, if its header says it.
            let n = opus::packet::get_nb_samples(payload, VAD_RATE).unwrap_or(320);
            v.audio.resize(v.audio.len() + n, 0.0);
            v.decoded_to += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A speaker whose track holds `seconds` of white noise at `level` (peak): an open microphone.
    fn voice_with(level: f32, seconds: f64) -> Voice {
        let mut v = Voice::new("Ana", EndpointConfig::default());
        let mut seed = 7u64;
        v.audio = (0..(seconds * RATE) as usize)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((seed >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 2.0 * level
            })
            .collect();
        v
    }

    #[test]
    fn an_open_microphones_room_tone_is_not_shown_to_the_vad_but_speech_over_it_is() {
        // Room tone at -46 dBFS peak: too loud for the digital-silence shortcut.
        let mut v = voice_with(0.005, 4.0);
        let batch = VAD_FRAME * VAD_BATCH_FRAMES;
        assert!(!v.only_room_tone(0, batch), "the floor is not known yet: Silero decides");
        let mut skipped = 0;
        for b in 1..(v.audio.len() / batch) {
            skipped += usize::from(v.only_room_tone(b * batch, (b + 1) * batch));
        }
        assert!(skipped >= 25, "most of 4 s of room tone skips the VAD: {skipped} of 30 batches");
        // A word over it, 20 dB louder: Silero hears it.
        let start = v.audio.len();
        v.audio.extend((0..batch).map(|i| 0.05 * (i as f32 * 0.07).sin()));
        assert!(!v.only_room_tone(start, start + batch));
    }
}
