//! The sans-I/O RTP receiver: datagrams and their arrival instants in, per-speaker Opus packets placed
//! on the room clock and room events out. No sockets, no clocks: the caller passes time in, so loss,
//! jitter, reordering, duplicates, drift and timestamp jumps are tested with a simulated network.
//!
//! Placement: each SSRC's RTP timestamp (the sender's sample clock) is mapped onto the room clock by an
//! offset. The offset starts from the lowest-delay packet seen in the first reorder window, follows
//! slow clock drift by watching the lowest delay per block, and is re-anchored when arrival time and
//! RTP time disagree by far more than jitter (senders that pause without advancing the timestamp). When
//! a source sends RTCP sender reports, its timestamps are mapped through the sender's NTP clock instead,
//! which puts speakers with different network delays in sync.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use super::packet::RtpPacket;
use super::rtcp::{self, ReportBlock, Rtcp};
use crate::track::{SAMPLE_RATE, packet_samples};

/// Index of a speaker in the receiver's order of appearance.
pub type SpeakerKey = usize;

#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// How long a gap in sequence numbers is waited on before its packets are declared lost.
    pub reorder_window: Duration,
    /// Arrival time and RTP time disagreeing by more than this re-anchors the source.
    pub reanchor_after: Duration,
    /// Drift is measured as the lowest delay over blocks of this length ...
    pub drift_block: Duration,
    /// ... and corrected when it moves by more than this.
    pub drift_tolerance: Duration,
    /// RTP header extension id carrying the RFC 6464 audio level, if the senders use one.
    pub audio_level_id: Option<u8>,
    /// Average level (-dBov) at or below which a packet counts as speech for talking events.
    pub talking_level: u8,
    /// Accepted Opus payload type; `None` accepts the first dynamic type (96-127) a source uses.
    pub payload_type: Option<u8>,
    /// A source silent this long has left (DTX senders still send every 400 ms or so).
    pub timeout: Duration,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            reorder_window: Duration::from_millis(200),
            reanchor_after: Duration::from_millis(400),
            drift_block: Duration::from_secs(4),
            drift_tolerance: Duration::from_millis(3),
            audio_level_id: Some(1),
            talking_level: 50,
            payload_type: None,
            timeout: Duration::from_secs(60),
        }
    }
}

/// What the receiver tells its caller, in the order things happened on the room clock per speaker.
/// Positions and times are 48 kHz samples on the room clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Joined {
        speaker: SpeakerKey,
        name: String,
        origin: String,
        at: u64,
    },
    Renamed {
        speaker: SpeakerKey,
        name: String,
    },
    /// An Opus packet exactly as sent, and where it starts.
    Packet {
        speaker: SpeakerKey,
        pos: u64,
        payload: Vec<u8>,
    },
    Talking {
        speaker: SpeakerKey,
        at: u64,
    },
    StoppedTalking {
        speaker: SpeakerKey,
        at: u64,
    },
    Left {
        speaker: SpeakerKey,
        at: u64,
    },
    /// Something the user should hear about once (a non-Opus stream, say); recording goes on.
    Warning(String),
}

/// Counters over the whole receiver; `SourceStats` has them per SSRC.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReceiverStats {
    pub datagrams: u64,
    pub rtcp: u64,
    pub malformed: u64,
    pub unsupported: u64,
    pub packets: u64,
    pub lost: u64,
    pub late: u64,
    pub duplicates: u64,
    pub reanchors: u64,
    pub drift_corrections: u64,
    pub sources: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceStats {
    pub packets: u64,
    pub lost: u64,
    pub late: u64,
    pub duplicates: u64,
    pub reanchors: u64,
    pub drift_corrections: u64,
}

/// Sequence numbers remembered for telling duplicates from late packets.
const HISTORY: u64 = 4096;
/// A sequence jump larger than this is a restarted sender, not a loss burst (RFC 3550 A.1).
const MAX_DROPOUT: u64 = 3000;
/// Bound on buffered packets per source, whatever the window: a flood cannot grow memory.
const MAX_BUFFERED: usize = 512;
/// Bound on SSRCs tracked at once: a flood of random SSRCs cannot grow memory without limit.
pub const MAX_SOURCES: usize = 10_000;
/// Packets averaged for talking detection (200 ms of 20 ms frames), and quiet time that ends talking.
const LEVEL_PACKETS: usize = 10;
const QUIET_SAMPLES: u64 = SAMPLE_RATE as u64 / 2;

struct Buffered {
    ts: i64,
    arrival: i64,
    level: Option<u8>,
    payload: Vec<u8>,
}

impl Source {
    fn new(ssrc: u32) -> Self {
        // The sequence history is allocated with the first RTP packet: a source known only from
        // RTCP (a report or an SDES chunk, perhaps one of thousands) costs a few hundred bytes.
        Source { ssrc, ..Default::default() }
    }
}

#[derive(Default)]
struct Source {
    ssrc: u32,
    speaker: Option<SpeakerKey>,
    cname: Option<String>,
    sdes_name: Option<String>,
    payload_type: Option<u8>,
    warned: bool,
    max_seq: i64,
    max_ts: i64,
    started: bool,
    buffer: BTreeMap<i64, Buffered>,
    next_seq: Option<i64>,
    first_arrival: i64,
    last_arrival: i64,
    /// Received flags of recent sequence numbers, indexed by seq % HISTORY.
    history: Vec<bool>,
    /// Room position = RTP timestamp (unwrapped) + offset.
    offset: Option<i64>,
    /// Latest sender report: (sender NTP seconds, unwrapped RTP timestamp), and its arrival.
    sr: Option<(f64, i64)>,
    sr_arrival: i64,
    sr_middle: u32,
    early_sr: Option<(f64, u32, u32)>,
    bye: Option<i64>,
    unsupported_seq: Option<u16>,
    block_start: i64,
    block_min: i64,
    /// A lower delay than the shared NTP offset allows for, waiting to be applied to it.
    drift_pending: i64,
    end: u64,
    levels: VecDeque<(u64, bool)>,
    talking: bool,
    quiet_since: Option<u64>,
    jitter: f64,
    last_transit: Option<i64>,
    expected_prior: i64,
    received_prior: i64,
    first_seq: i64,
    stats: SourceStats,
    closed: bool,
}

struct Speaker {
    name: String,
    /// Named by the user or the room (not by SDES or a default): SDES never renames it.
    named: bool,
    cname: Option<String>,
    live_sources: usize,
    present: bool,
}

pub struct Receiver {
    config: ReceiverConfig,
    local_ssrc: u32,
    sources: HashMap<u32, Source>,
    speakers: Vec<Speaker>,
    names: HashMap<u32, String>,
    /// Room seconds minus sender NTP seconds, shared by every source with sender reports.
    ntp_offset: Option<f64>,
    /// Some source said BYE and is waiting out its window.
    byes_pending: bool,
    outputs: VecDeque<Output>,
    pub stats: ReceiverStats,
}

fn samples(t: Duration) -> i64 {
    (t.as_nanos() * SAMPLE_RATE as u128 / 1_000_000_000) as i64
}

/// Unwraps a `bits`-wide counter to the value nearest `reference`.
fn unwrap(reference: i64, value: u32, bits: u32) -> i64 {
    let span = 1i64 << bits;
    let base = reference - reference.rem_euclid(span) + value as i64;
    [base - span, base, base + span].into_iter().min_by_key(|c| (c - reference).abs()).unwrap_or(base)
}

impl Receiver {
    pub fn new(config: ReceiverConfig, local_ssrc: u32) -> Self {
        Receiver {
            config,
            local_ssrc,
            sources: HashMap::new(),
            speakers: Vec::new(),
            names: HashMap::new(),
            ntp_offset: None,
            byes_pending: false,
            outputs: VecDeque::new(),
            stats: ReceiverStats::default(),
        }
    }

    /// Names the speaker behind an SSRC (from `--speaker SSRC=NAME` or the room's own roster). Takes
    /// effect immediately for a source already heard.
    pub fn set_name(&mut self, ssrc: u32, name: &str) {
        self.names.insert(ssrc, name.to_string());
        if let Some(key) = self.sources.get(&ssrc).and_then(|s| s.speaker) {
            let speaker = &mut self.speakers[key];
            speaker.named = true;
            if speaker.name != name {
                speaker.name = name.to_string();
                self.outputs.push_back(Output::Renamed { speaker: key, name: name.to_string() });
            }
        }
    }

    pub fn speaker_name(&self, key: SpeakerKey) -> Option<&str> {
        self.speakers.get(key).map(|s| s.name.as_str())
    }

    /// SSRCs tracked now (at most [`MAX_SOURCES`]).
    pub fn source_count(&self) -> usize {
        self.sources.len()
    }

    pub fn source_stats(&self, ssrc: u32) -> Option<&SourceStats> {
        self.sources.get(&ssrc).map(|s| &s.stats)
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Takes one datagram as it arrived (`now` on the room clock). Never panics on its content.
    pub fn handle_datagram(&mut self, datagram: &[u8], now: Duration) {
        self.stats.datagrams += 1;
        let now = samples(now);
        if rtcp::is_rtcp(datagram) {
            match rtcp::parse(datagram) {
                Some(reports) => {
                    self.stats.rtcp += 1;
                    for report in reports {
                        self.handle_rtcp(report, now);
                    }
                }
                None => self.stats.malformed += 1,
            }
        } else {
            match RtpPacket::parse(datagram) {
                Ok(packet) => {
                    self.handle_rtp(&packet, now);
                    // Only this source can have something new to release; the others wait for
                    // `handle_timeout` (per datagram, a scan of every source would cost O(sources)).
                    self.release(packet.ssrc, now);
                }
                Err(_) => self.stats.malformed += 1,
            }
        }
    }

    /// Lets time pass: releases packets whose reorder window has run out and closes silent sources.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = samples(now);
        self.release_all(now);
        let timeout = samples(self.config.timeout);
        let stale: Vec<u32> =
            self.sources.values().filter(|s| !s.closed && now - s.last_arrival > timeout).map(|s| s.ssrc).collect();
        for ssrc in stale {
            self.close_source(ssrc, now);
        }
        // Forget SSRCs that never became speakers (stray datagrams, non-Opus streams) once silent.
        self.sources.retain(|_, s| s.speaker.is_some() || now - s.last_arrival <= timeout);
    }

    /// When `handle_timeout` should next be called, if anything is waiting.
    pub fn next_deadline(&self) -> Option<Duration> {
        let window = samples(self.config.reorder_window);
        self.sources
            .values()
            .filter_map(|s| s.buffer.values().next().map(|b| b.arrival.max(s.first_arrival) + window))
            .min()
            .map(|t| Duration::from_nanos((t.max(0) as u64) * 1_000_000_000 / SAMPLE_RATE as u64))
    }

    /// The room says this SSRC's speaker left: closed once its last packets are through the window.
    pub fn close(&mut self, ssrc: u32, now: Duration) {
        let now = samples(now);
        if let Some(source) = self.sources.get_mut(&ssrc) {
            source.bye = Some(now);
            self.byes_pending = true;
        }
    }

    /// The room is over: releases everything buffered and closes every source.
    pub fn finish(&mut self, now: Duration) {
        let now = samples(now);
        let mut ssrcs: Vec<(i64, u32)> = self.sources.values().map(|s| (s.first_arrival, s.ssrc)).collect();
        ssrcs.sort_unstable();
        for (_, ssrc) in ssrcs {
            self.close_source(ssrc, now);
        }
    }

    fn handle_rtp(&mut self, packet: &RtpPacket, now: i64) {
        let config = &self.config;
        let Some(source) = Self::admit(&mut self.sources, &mut self.stats, packet.ssrc) else { return };
        // Payload type: Opus is dynamic; a static type (PCMU, ...) or a second type is not ours.
        let accepted = match (config.payload_type, source.payload_type) {
            (Some(pt), _) => packet.payload_type == pt,
            (None, Some(pt)) => packet.payload_type == pt,
            (None, None) => (96..=127).contains(&packet.payload_type),
        };
        source.last_arrival = now;
        if !accepted {
            self.stats.unsupported += 1;
            // Warn about a stream, not a stray datagram: two in sequence from one SSRC.
            let in_sequence = source.unsupported_seq == Some(packet.sequence.wrapping_sub(1));
            source.unsupported_seq = Some(packet.sequence);
            if !source.warned && in_sequence {
                source.warned = true;
                self.outputs.push_back(Output::Warning(format!(
                    "SSRC {} sends payload type {}, which is not Opus: its packets are dropped",
                    packet.ssrc, packet.payload_type
                )));
            }
            return;
        }
        if packet.payload.is_empty() || packet_samples(packet.payload).is_err() {
            self.stats.malformed += 1;
            return;
        }
        source.payload_type = Some(packet.payload_type);
        if source.closed
            && source.next_seq.is_some_and(|next| unwrap(source.max_seq, packet.sequence as u32, 16) < next)
        {
            source.stats.late += 1;
            self.stats.late += 1;
            return;
        }
        if source.closed {
            // A source heard again after a BYE or a timeout rejoins with fresh sequence state.
            let (ssrc, history) = (source.ssrc, vec![false; HISTORY as usize]);
            let (cname, sdes_name) = (source.cname.take(), source.sdes_name.take());
            *source = Source { ssrc, history, cname, sdes_name, ..Default::default() };
        }
        if source.history.is_empty() {
            source.history = vec![false; HISTORY as usize];
        }
        let (seq, ts);
        if !source.started {
            source.started = true;
            seq = packet.sequence as i64 + (1 << 16);
            ts = packet.timestamp as i64 + (1 << 32);
            source.first_arrival = now;
            source.first_seq = seq;
            source.block_start = now;
            source.block_min = i64::MAX;
            if let Some((ntp, sr_ts, middle)) = source.early_sr.take() {
                source.sr = Some((ntp, unwrap(ts, sr_ts, 32)));
                source.sr_middle = middle;
            }
            self.stats.sources += 1;
        } else {
            seq = unwrap(source.max_seq, packet.sequence as u32, 16);
            ts = unwrap(source.max_ts, packet.timestamp, 32);
        }
        source.last_arrival = now;
        let jump = (seq - source.max_seq).abs();
        if source.next_seq.is_some() && jump as u64 > MAX_DROPOUT {
            // Restarted sender on the same SSRC: play out what we have, then start over.
            Placer::of(&self.config, &mut self.stats, &mut self.outputs, &mut self.speakers)
                .release_source(source, i64::MAX);
            source.next_seq = None;
            source.first_arrival = now;
            source.offset = None;
            source.max_seq = seq;
            source.max_ts = ts;
        } else if seq > source.max_seq || source.buffer.is_empty() && source.next_seq.is_none() {
            source.max_seq = source.max_seq.max(seq);
            source.max_ts = ts;
        }
        // RFC 3550 interarrival jitter, in timestamp units.
        let transit = now - ts;
        if let Some(last) = source.last_transit {
            source.jitter += ((transit - last).abs() as f64 - source.jitter) / 16.0;
        }
        source.last_transit = Some(transit);

        if let Some(next) = source.next_seq
            && seq < next
        {
            let received = next - seq < HISTORY as i64 && source.history[(seq as u64 % HISTORY) as usize];
            if received {
                source.stats.duplicates += 1;
                self.stats.duplicates += 1;
            } else {
                source.stats.late += 1;
                self.stats.late += 1;
                if next - seq < HISTORY as i64 {
                    // It was counted lost when its turn passed; it did arrive, just too late.
                    source.stats.lost = source.stats.lost.saturating_sub(1);
                    self.stats.lost = self.stats.lost.saturating_sub(1);
                    source.history[(seq as u64 % HISTORY) as usize] = true;
                }
            }
            return;
        }
        if source.buffer.contains_key(&seq) {
            source.stats.duplicates += 1;
            self.stats.duplicates += 1;
            return;
        }
        let level = self.config.audio_level_id.and_then(|id| packet.audio_level(id)).map(|l| l.level);
        source.buffer.insert(seq, Buffered { ts, arrival: now, level, payload: packet.payload.to_vec() });
    }

    fn handle_rtcp(&mut self, report: Rtcp, now: i64) {
        match report {
            Rtcp::SenderReport(sr) => {
                let Some(source) = Self::admit(&mut self.sources, &mut self.stats, sr.ssrc) else { return };
                if !source.started {
                    source.last_arrival = now;
                    // Senders often report before their first RTP packet: keep it for then.
                    source.early_sr = Some((rtcp::ntp_to_secs(sr.ntp), sr.rtp_timestamp, (sr.ntp >> 16) as u32));
                    source.sr_arrival = now;
                } else {
                    let ts = unwrap(source.max_ts, sr.rtp_timestamp, 32);
                    source.sr = Some((rtcp::ntp_to_secs(sr.ntp), ts));
                    source.sr_arrival = now;
                    source.sr_middle = (sr.ntp >> 16) as u32;
                    if let Some(offset) = source.offset {
                        // The first report fixes the shared room-to-NTP offset where this source is
                        // placed now, so nothing jumps; later sources are placed by their NTP time.
                        let ntp_offset = *self.ntp_offset.get_or_insert_with(|| {
                            (ts + offset) as f64 / SAMPLE_RATE as f64 - rtcp::ntp_to_secs(sr.ntp)
                        });
                        source.offset = sr_offset(source.sr, ntp_offset).or(Some(offset));
                    }
                }
            }
            Rtcp::Sdes(chunks) => {
                for chunk in chunks {
                    let Some(source) = Self::admit(&mut self.sources, &mut self.stats, chunk.ssrc) else { continue };
                    if !source.started {
                        source.last_arrival = now;
                    }
                    if chunk.cname.is_some() {
                        source.cname = chunk.cname;
                    }
                    if let Some(name) = chunk.name.filter(|n| !n.is_empty()) {
                        source.sdes_name = Some(name.clone());
                        if let Some(key) = source.speaker {
                            let speaker = &mut self.speakers[key];
                            if !speaker.named && speaker.name != name {
                                speaker.name = name.clone();
                                self.outputs.push_back(Output::Renamed { speaker: key, name });
                            }
                        }
                    }
                }
            }
            Rtcp::Bye(ssrcs) => {
                // Closed once the reorder window has passed: its last packets may still be on the way.
                for ssrc in ssrcs {
                    if let Some(source) = self.sources.get_mut(&ssrc) {
                        source.bye = Some(now);
                        self.byes_pending = true;
                    }
                }
            }
            Rtcp::ReceiverReport { .. } => {}
        }
    }

    /// The source a packet (RTP or RTCP) is about, created if the room has room for it
    /// ([`MAX_SOURCES`]): a flood of made-up SSRCs, in RTP, reports or SDES chunks, cannot grow
    /// memory.
    fn admit<'a>(
        sources: &'a mut HashMap<u32, Source>,
        stats: &mut ReceiverStats,
        ssrc: u32,
    ) -> Option<&'a mut Source> {
        if sources.len() >= MAX_SOURCES && !sources.contains_key(&ssrc) {
            stats.malformed += 1;
            return None;
        }
        Some(sources.entry(ssrc).or_insert_with(|| Source::new(ssrc)))
    }

    fn release_all(&mut self, now: i64) {
        // Only sources with packets waiting (in-order packets leave on arrival), in order of first
        // arrival, so speakers are numbered in the order they were heard.
        let mut ssrcs: Vec<(i64, u32)> =
            self.sources.values().filter(|s| !s.buffer.is_empty()).map(|s| (s.first_arrival, s.ssrc)).collect();
        ssrcs.sort_unstable();
        for (_, ssrc) in ssrcs {
            self.release(ssrc, now);
        }
        let window = samples(self.config.reorder_window);
        if !self.byes_pending {
            return;
        }
        let said_bye: Vec<u32> = self
            .sources
            .values()
            .filter(|s| !s.closed && s.bye.is_some_and(|at| now >= at + window))
            .map(|s| s.ssrc)
            .collect();
        for ssrc in said_bye {
            self.close_source(ssrc, now);
        }
        self.byes_pending = self.sources.values().any(|s| !s.closed && s.bye.is_some());
    }

    fn release(&mut self, ssrc: u32, now: i64) {
        let Some(source) = self.sources.get_mut(&ssrc) else { return };
        if source.speaker.is_none() && !source.buffer.is_empty() {
            let window = samples(self.config.reorder_window);
            if now < source.first_arrival + window && source.buffer.len() < MAX_BUFFERED {
                return;
            }
            if !self.on_probation_passed(ssrc) {
                return;
            }
            let key = self.resolve_speaker(ssrc);
            let source = self.sources.get_mut(&ssrc).expect("resolved source exists");
            source.speaker = Some(key);
        }
        let Some(source) = self.sources.get_mut(&ssrc) else { return };
        if source.offset.is_none() && !source.buffer.is_empty() {
            let window = samples(self.config.reorder_window);
            if now < source.first_arrival + window && source.buffer.len() < MAX_BUFFERED {
                return;
            }
            // The lowest-delay packet of the first window anchors the source.
            let min = source.buffer.values().map(|b| b.arrival - b.ts).min().unwrap_or(0);
            source.offset = Some(min);
            if let Some(sr) = source.sr {
                let ntp_offset = *self.ntp_offset.get_or_insert_with(|| {
                    source
                        .buffer
                        .values()
                        .map(|b| (b.arrival as f64 - ntp_at(sr, b.ts) * 48_000.0) / 48_000.0)
                        .fold(f64::INFINITY, f64::min)
                });
                source.offset = sr_offset(source.sr, ntp_offset).or(source.offset);
            }
        }
        Placer::of(&self.config, &mut self.stats, &mut self.outputs, &mut self.speakers).release_source(source, now);
        self.update_ntp_offset(ssrc);
    }

    /// Sources with sender reports share one NTP offset; when any of them shows a lower delay than
    /// it allows for, every SR-mapped source moves earlier together.
    fn update_ntp_offset(&mut self, ssrc: u32) {
        let Some(ntp_offset) = self.ntp_offset else { return };
        let Some(source) = self.sources.get_mut(&ssrc) else { return };
        if source.sr.is_none() || source.drift_pending == 0 {
            return;
        }
        let shift = source.drift_pending;
        source.drift_pending = 0;
        let new_offset = ntp_offset + shift as f64 / SAMPLE_RATE as f64;
        self.ntp_offset = Some(new_offset);
        for s in self.sources.values_mut() {
            if s.sr.is_some() && s.offset.is_some() {
                s.offset = sr_offset(s.sr, new_offset).or(s.offset);
            }
        }
    }

    /// A new SSRC becomes a speaker only once two of its packets have (nearly) consecutive sequence
    /// numbers (RFC 3550 A.1 probation): a stray datagram that happens to parse as RTP is dropped
    /// instead of appearing as a phantom speaker.
    fn on_probation_passed(&mut self, ssrc: u32) -> bool {
        let Some(source) = self.sources.get(&ssrc) else { return false };
        let keys: Vec<i64> = source.buffer.keys().copied().collect();
        if keys.windows(2).any(|w| w[1] - w[0] <= 2) {
            return true;
        }
        self.stats.malformed += keys.len() as u64;
        self.stats.sources = self.stats.sources.saturating_sub(1);
        self.sources.remove(&ssrc);
        false
    }

    /// Binds a source to a speaker: the name given for its SSRC, else the speaker with its CNAME
    /// (a sender that changed SSRC), else a new speaker named by SDES or by the SSRC.
    fn resolve_speaker(&mut self, ssrc: u32) -> SpeakerKey {
        let source = &self.sources[&ssrc];
        let (given, cname) = (self.names.get(&ssrc).cloned(), source.cname.clone());
        let existing = match (&given, &cname) {
            (Some(name), _) => self.speakers.iter().position(|s| s.named && &s.name == name),
            (None, Some(cname)) => self.speakers.iter().position(|s| s.cname.as_ref() == Some(cname)),
            _ => None,
        };
        let key = existing.unwrap_or_else(|| {
            let name = given
                .clone()
                .or_else(|| source.sdes_name.clone())
                .or_else(|| cname.clone())
                .unwrap_or_else(|| format!("ssrc-{ssrc}"));
            self.speakers.push(Speaker {
                name,
                named: given.is_some(),
                cname: cname.clone(),
                live_sources: 0,
                present: false,
            });
            self.speakers.len() - 1
        });
        self.speakers[key].live_sources += 1;
        key
    }

    fn close_source(&mut self, ssrc: u32, now: i64) {
        let Some(source) = self.sources.get_mut(&ssrc) else { return };
        if source.closed {
            return;
        }
        if source.speaker.is_none() && !source.buffer.is_empty() {
            if !self.on_probation_passed(ssrc) {
                return;
            }
            let key = self.resolve_speaker(ssrc);
            self.sources.get_mut(&ssrc).expect("source exists").speaker = Some(key);
        }
        let source = self.sources.get_mut(&ssrc).expect("source exists");
        if source.offset.is_none() {
            source.offset = source.buffer.values().map(|b| b.arrival - b.ts).min();
        }
        Placer::of(&self.config, &mut self.stats, &mut self.outputs, &mut self.speakers)
            .release_source(source, i64::MAX);
        source.closed = true;
        let Some(key) = source.speaker else { return };
        if source.talking {
            self.outputs.push_back(Output::StoppedTalking { speaker: key, at: source.end });
            source.talking = false;
        }
        let end = source.end.max(if source.stats.packets == 0 { now.max(0) as u64 } else { 0 });
        let speaker = &mut self.speakers[key];
        speaker.live_sources = speaker.live_sources.saturating_sub(1);
        if speaker.live_sources == 0 && speaker.present {
            speaker.present = false;
            self.outputs.push_back(Output::Left { speaker: key, at: end });
        }
    }

    /// An RTCP receiver report about every source heard since the last one (RFC 3550 §6.4.2).
    pub fn receiver_report(&mut self, now: Duration) -> Option<Vec<u8>> {
        let now = samples(now);
        let mut blocks = Vec::new();
        for source in self.sources.values_mut().filter(|s| s.started && !s.closed) {
            let expected = source.max_seq - source.first_seq + 1;
            let received = source.stats.packets as i64 + source.buffer.len() as i64;
            let (expected_interval, received_interval) =
                (expected - source.expected_prior, received - source.received_prior);
            source.expected_prior = expected;
            source.received_prior = received;
            let lost_interval = expected_interval - received_interval;
            let fraction_lost = if expected_interval > 0 && lost_interval > 0 {
                ((lost_interval << 8) / expected_interval).min(255) as u8
            } else {
                0
            };
            let dlsr = if source.sr.is_some() { ((now - source.sr_arrival).max(0) * 65536 / 48_000) as u32 } else { 0 };
            blocks.push(ReportBlock {
                ssrc: source.ssrc,
                fraction_lost,
                cumulative_lost: (expected - received).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                highest_sequence: (source.max_seq - (1 << 16)) as u32,
                jitter: source.jitter as u32,
                last_sr: if source.sr.is_some() { source.sr_middle } else { 0 },
                delay_since_last_sr: dlsr,
            });
        }
        if blocks.is_empty() { None } else { Some(rtcp::build_receiver_report(self.local_ssrc, &blocks)) }
    }
}

fn ntp_at(sr: (f64, i64), ts: i64) -> f64 {
    sr.0 + (ts - sr.1) as f64 / SAMPLE_RATE as f64
}

/// The offset that puts a source's timestamps where its sender reports say, given the room-to-NTP
/// offset shared by all sources.
fn sr_offset(sr: Option<(f64, i64)>, ntp_offset: f64) -> Option<i64> {
    let (ntp, ts) = sr?;
    Some(((ntp + ntp_offset) * SAMPLE_RATE as f64).round() as i64 - ts)
}

/// What placing packets on the room clock writes to: the receiver's fields apart from its sources,
/// borrowed together so one source can be released while they change.
struct Placer<'a> {
    config: &'a ReceiverConfig,
    stats: &'a mut ReceiverStats,
    outputs: &'a mut VecDeque<Output>,
    speakers: &'a mut [Speaker],
}

impl<'a> Placer<'a> {
    fn of(
        config: &'a ReceiverConfig,
        stats: &'a mut ReceiverStats,
        outputs: &'a mut VecDeque<Output>,
        speakers: &'a mut [Speaker],
    ) -> Self {
        Placer { config, stats, outputs, speakers }
    }

    fn release_source(&mut self, source: &mut Source, now: i64) {
        let Some(key) = source.speaker else { return };
        let window = samples(self.config.reorder_window);
        while let Some((&seq, head)) = source.buffer.first_key_value() {
            match source.next_seq {
                Some(next) if seq > next => {
                    if now < head.arrival + window && source.buffer.len() < MAX_BUFFERED {
                        break;
                    }
                    let gap = (seq - next) as u64;
                    if gap <= MAX_DROPOUT {
                        source.stats.lost += gap;
                        self.stats.lost += gap;
                    }
                    for s in next..seq.min(next + HISTORY as i64) {
                        source.history[(s as u64 % HISTORY) as usize] = false;
                    }
                }
                _ => {}
            }
            let Some((seq, packet)) = source.buffer.pop_first() else { break };
            source.next_seq = Some(seq + 1);
            source.history[(seq as u64 % HISTORY) as usize] = true;
            self.place(source, key, packet);
        }
    }

    /// Decides where a packet goes on the room clock and emits it with its talking events.
    fn place(&mut self, source: &mut Source, key: SpeakerKey, packet: Buffered) {
        let mut offset = source.offset.unwrap_or(packet.arrival - packet.ts);
        let delay = packet.arrival - (packet.ts + offset);
        if delay.abs() > samples(self.config.reanchor_after) {
            // Arrival and RTP time disagree by far more than jitter: the sender paused without
            // advancing its timestamp (or jumped it). Anchor again on the lowest delay in sight.
            let lowest = source.buffer.values().map(|b| b.arrival - b.ts).chain([packet.arrival - packet.ts]).min();
            offset = lowest.unwrap_or(packet.arrival - packet.ts);
            source.sr = None;
            source.stats.reanchors += 1;
            self.stats.reanchors += 1;
            source.block_start = packet.arrival;
            source.block_min = i64::MAX;
        } else {
            source.block_min = source.block_min.min(delay);
            if packet.arrival - source.block_start >= samples(self.config.drift_block) {
                let tolerance = samples(self.config.drift_tolerance);
                if source.block_min.abs() > tolerance && source.block_min != i64::MAX {
                    if source.sr.is_some() {
                        // SR-mapped: only a lower delay than assumed says the shared offset is off.
                        if source.block_min < 0 {
                            source.drift_pending = source.block_min;
                        }
                    } else {
                        offset += source.block_min;
                        source.stats.drift_corrections += 1;
                        self.stats.drift_corrections += 1;
                    }
                }
                source.block_start = packet.arrival;
                source.block_min = i64::MAX;
            }
        }
        source.offset = Some(offset);
        let pos = (packet.ts + offset).max(0) as u64;
        let duration = packet_samples(&packet.payload).unwrap_or(960) as u64;

        let speaker = &mut self.speakers[key];
        if !speaker.present {
            speaker.present = true;
            self.outputs.push_back(Output::Joined {
                speaker: key,
                name: speaker.name.clone(),
                origin: format!("ssrc:{}", source.ssrc),
                at: pos,
            });
        }
        // Talking: enough loud packets in the last 200 ms starts it; 500 ms of quiet, or a gap, ends it.
        if let Some(level) = packet.level {
            let loud = level <= self.config.talking_level;
            if source.talking && pos > source.end + QUIET_SAMPLES {
                self.outputs.push_back(Output::StoppedTalking { speaker: key, at: source.end });
                source.talking = false;
                source.levels.clear();
            }
            source.levels.push_back((pos, loud));
            if source.levels.len() > LEVEL_PACKETS {
                source.levels.pop_front();
            }
            if !source.talking {
                let loud_count = source.levels.iter().filter(|(_, l)| *l).count();
                if loud_count * 2 >= LEVEL_PACKETS {
                    let at = source.levels.iter().find(|(_, l)| *l).map(|(p, _)| *p).unwrap_or(pos);
                    self.outputs.push_back(Output::Talking { speaker: key, at });
                    source.talking = true;
                    source.quiet_since = None;
                }
            } else if loud {
                source.quiet_since = None;
            } else {
                let since = *source.quiet_since.get_or_insert(pos);
                // A packet placed before the quiet started (its sender's clock re-anchored) is
                // not quiet time.
                if (pos + duration).saturating_sub(since) >= QUIET_SAMPLES {
                    self.outputs.push_back(Output::StoppedTalking { speaker: key, at: since });
                    source.talking = false;
                    source.quiet_since = None;
                }
            }
        }
        source.end = source.end.max(pos + duration);
        source.stats.packets += 1;
        self.stats.packets += 1;
        self.outputs.push_back(Output::Packet { speaker: key, pos, payload: packet.payload });
    }
}
