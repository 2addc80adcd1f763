//! The live mix, sans I/O: every speaker's packets in (as the recorder hands them over, each at
//! its place on the room clock), one mono 48 kHz signal out, a fixed playout delay behind the
//! room. Each speaker is decoded (gaps up to 120 ms concealed by libopus, longer ones silent),
//! leveled on the fly toward the same loudness, summed, and kept under the ceiling by the
//! master's true-peak limiter.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::master::limiter::Limiter;
use crate::master::loudness::KWeighting;

pub const RATE: u32 = 48_000;
/// The mix is made in blocks of 20 ms, the common Opus frame.
pub const BLOCK: usize = 960;
/// A gap in a speaker's packets up to this long (samples) is filled by the decoder's concealment.
const CONCEAL_UP_TO: u64 = 5_760;
/// Packets that wait for their turn, per speaker: 10 s of 20 ms packets. A flood beyond it is
/// dropped (counted), never held.
const MAX_PENDING: usize = 512;

/// How the speakers are leveled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leveling {
    /// The loudness each speaker's speech is brought to (LUFS).
    pub target: f64,
    /// Gains stay within these (dB): a quiet guest is brought up, no one is pushed into noise.
    pub min_gain: f64,
    pub max_gain: f64,
    /// How fast a speaker's gain may move (dB per second of their speech): slow enough not to pump.
    pub slew: f64,
    /// 100 ms below this (LUFS) is not speech: the gain holds through pauses.
    pub speech_gate: f64,
    /// Seconds of speech the level is averaged over.
    pub window: f64,
}

impl Default for Leveling {
    fn default() -> Self {
        Leveling { target: -16.0, min_gain: -12.0, max_gain: 20.0, slew: 3.0, speech_gate: -45.0, window: 3.0 }
    }
}

/// One speaker's part of the mix.
struct Voice {
    decoder: Option<opus::Decoder>,
    /// Packets not yet mixed, by their room sample.
    pending: BTreeMap<u64, Vec<u8>>,
    /// Decoded audio from room sample `start` on.
    audio: VecDeque<f32>,
    start: u64,
    /// Where the last real (not concealed) audio ended.
    heard_to: u64,
    weighting: KWeighting,
    /// K-weighted energy gathered toward the next 100 ms step.
    step_energy: f64,
    step_len: usize,
    /// The speaker's speech loudness (mean square), once known.
    level: Option<f64>,
    /// 100 ms steps of speech heard so far.
    speech_steps: u64,
    gain_db: f64,
}

impl Voice {
    fn new(at: u64) -> Voice {
        Voice {
            decoder: None,
            pending: BTreeMap::new(),
            audio: VecDeque::new(),
            start: at,
            heard_to: 0,
            weighting: KWeighting::default(),
            step_energy: 0.0,
            step_len: 0,
            level: None,
            speech_steps: 0,
            gain_db: 0.0,
        }
    }

    fn end(&self) -> u64 {
        self.start + self.audio.len() as u64
    }

    /// Decodes until the voice's audio reaches `to`.
    fn fill(&mut self, to: u64, stats: &mut MixStats) {
        if self.decoder.is_none() {
            match opus::Decoder::new(RATE, opus::Channels::Mono) {
                Ok(d) => self.decoder = Some(d),
                Err(_) => return,
            }
        }
        let mut buf = vec![0.0f32; 5_760];
        while self.end() < to {
            let end = self.end();
            // Packets for audio already mixed came too late for the mix.
            while let Some((&pos, _)) = self.pending.first_key_value() {
                if pos + 240 <= end && pos < end {
                    self.pending.pop_first();
                    stats.late += 1;
                } else {
                    break;
                }
            }
            let Some(decoder) = self.decoder.as_mut() else { return };
            match self.pending.first_key_value().map(|(p, _)| *p) {
                Some(pos) if pos <= end + 240 => {
                    let Some((_, payload)) = self.pending.pop_first() else { break };
                    let n = decoder.decode_float(&payload, &mut buf, false).unwrap_or_else(|_| {
                        stats.undecodable += 1;
                        opus::packet::get_nb_samples(&payload, RATE).unwrap_or(BLOCK).min(buf.len())
                    });
                    // A packet overlapping what is there already (a sender a little ahead): its
                    // start is dropped, the room clock wins.
                    let skip = end.saturating_sub(pos).min(n as u64) as usize;
                    let gap = pos.saturating_sub(end) as usize;
                    self.audio.extend(std::iter::repeat_n(0.0, gap));
                    self.audio.extend(&buf[skip..n]);
                    self.heard_to = self.end();
                }
                next => {
                    // Nothing to play yet up to `next` (or `to`): concealment just after the last
                    // packet heard, then silence.
                    let until = next.unwrap_or(to).min(to).max(end + 1);
                    let conceal_end = self.heard_to + CONCEAL_UP_TO;
                    if end < conceal_end && self.heard_to > 0 {
                        let len = ((conceal_end.min(until) - end) as usize).clamp(120, BLOCK) / 120 * 120;
                        let n = decoder.decode_float(&[], &mut buf[..len], false).unwrap_or(0);
                        self.audio.extend(&buf[..n]);
                        if n == 0 {
                            self.audio.extend(std::iter::repeat_n(0.0, len));
                        }
                        stats.concealed += len as u64;
                    } else {
                        self.audio.extend(std::iter::repeat_n(0.0, (until - end) as usize));
                    }
                }
            }
        }
    }

    /// Takes the block `[from, from + BLOCK)` of this voice's audio (silence where it has none).
    fn take(&mut self, from: u64, out: &mut [f32]) {
        let skip = from.saturating_sub(self.start) as usize;
        let drop = skip.min(self.audio.len());
        self.audio.drain(..drop);
        self.start += drop as u64;
        for (i, s) in out.iter_mut().enumerate() {
            *s = self.audio.pop_front().unwrap_or(0.0);
            let _ = i;
        }
        self.start = from + out.len() as u64;
    }

    /// Updates the speaker's level and gain with a block of their audio.
    fn level(&mut self, block: &[f32], leveling: &Leveling) {
        self.step_energy += self.weighting.energy(block);
        self.step_len += block.len();
        if self.step_len < RATE as usize / 10 {
            return;
        }
        let mean = self.step_energy / self.step_len as f64;
        let seconds = self.step_len as f64 / RATE as f64;
        self.step_energy = 0.0;
        self.step_len = 0;
        let loudness = -0.691 + 10.0 * mean.max(1e-20).log10();
        if loudness < leveling.speech_gate {
            return;
        }
        // The level follows the speaker's speech over a few seconds (energy average), so a loud
        // word does not swing it: a plain mean of the speech heard until there is a window of it,
        // then a moving one. The gain then walks toward the target at a bounded rate.
        self.speech_steps += 1;
        let k = (seconds / leveling.window).max(1.0 / self.speech_steps as f64).min(1.0);
        let level = match self.level {
            None => mean,
            Some(l) => l + (mean - l) * k,
        };
        let first = self.level.is_none();
        self.level = Some(level);
        let level_lufs = -0.691 + 10.0 * level.log10();
        let want = (leveling.target - level_lufs).clamp(leveling.min_gain, leveling.max_gain);
        if first {
            self.gain_db = want;
        } else {
            // Faster while the level is still being learnt (the first window of speech).
            let learning = self.speech_steps as f64 * seconds < leveling.window;
            let step = leveling.slew * seconds * if learning { 4.0 } else { 1.0 };
            self.gain_db += (want - self.gain_db).clamp(-step, step);
        }
    }
}

/// What the mix did, for the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MixStats {
    pub packets: u64,
    /// Packets that came after their place in the mix was played.
    pub late: u64,
    /// Packets dropped because a speaker had too many waiting.
    pub flooded: u64,
    pub undecodable: u64,
    /// Samples filled by concealment.
    pub concealed: u64,
    /// Each speaker's gain now (dB), by id.
    pub gains_db: HashMap<String, f64>,
}

/// The live mix of a room.
pub struct Mixer {
    voices: HashMap<String, Voice>,
    leveling: Leveling,
    limiter: Limiter,
    /// The room sample the next block starts at.
    mixed_to: u64,
    pub stats: MixStats,
}

impl Mixer {
    /// `ceiling_db`: the limiter's ceiling (dBTP).
    pub fn new(leveling: Leveling, ceiling_db: f64) -> Mixer {
        Mixer {
            voices: HashMap::new(),
            leveling,
            limiter: Limiter::new(ceiling_db, RATE),
            mixed_to: 0,
            stats: MixStats::default(),
        }
    }

    /// A packet of `speaker`, starting at room sample `pos`.
    pub fn packet(&mut self, speaker: &str, pos: u64, payload: &[u8]) {
        self.stats.packets += 1;
        let mixed_to = self.mixed_to;
        let voice = self.voices.entry(speaker.to_string()).or_insert_with(|| Voice::new(mixed_to));
        if pos + 240 <= mixed_to {
            self.stats.late += 1;
            return;
        }
        if voice.pending.len() >= MAX_PENDING {
            self.stats.flooded += 1;
            return;
        }
        voice.pending.insert(pos, payload.to_vec());
    }

    /// Where the mix has got to (room samples).
    pub fn mixed_to(&self) -> u64 {
        self.mixed_to
    }

    /// Mixes every whole block up to room sample `until`, appending the limited signal to `out`
    /// (the limiter's few milliseconds of look-ahead come out with the next call, or `finish`).
    pub fn mix(&mut self, until: u64, out: &mut Vec<f32>) {
        let mut sum = vec![0.0f32; BLOCK];
        let mut block = vec![0.0f32; BLOCK];
        while self.mixed_to + BLOCK as u64 <= until {
            let (from, to) = (self.mixed_to, self.mixed_to + BLOCK as u64);
            sum.iter_mut().for_each(|s| *s = 0.0);
            for voice in self.voices.values_mut() {
                // A speaker with nothing waiting and nothing heard for long costs no decoding.
                if voice.pending.is_empty() && voice.heard_to + CONCEAL_UP_TO < from {
                    voice.audio.clear();
                    voice.start = to;
                    continue;
                }
                voice.fill(to, &mut self.stats);
                voice.take(from, &mut block);
                voice.level(&block, &self.leveling);
                let gain = 10f32.powf(voice.gain_db as f32 / 20.0);
                for (s, x) in sum.iter_mut().zip(&block) {
                    *s += gain * x;
                }
            }
            self.limiter.process(&sum, out);
            self.mixed_to = to;
        }
    }

    /// The room is over: mixes up to `end` and lets the limiter's look-ahead out.
    pub fn finish(&mut self, end: u64, out: &mut Vec<f32>) {
        let end = end.div_ceil(BLOCK as u64) * BLOCK as u64;
        self.mix(end, out);
        self.limiter.finish(out);
        self.report_gains();
    }

    pub fn report_gains(&mut self) {
        self.stats.gains_db =
            self.voices.iter().map(|(id, v)| (id.clone(), (v.gain_db * 10.0).round() / 10.0)).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20 ms Opus packets of a tone at `amplitude`, `seconds` long.
    fn tone_packets(freq: f32, amplitude: f32, seconds: f64) -> Vec<Vec<u8>> {
        let mut enc = opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip).unwrap();
        let n = (seconds * RATE as f64) as usize / BLOCK;
        (0..n)
            .map(|k| {
                let pcm: Vec<f32> = (0..BLOCK)
                    .map(|i| {
                        let t = (k * BLOCK + i) as f32 / RATE as f32;
                        amplitude * (2.0 * std::f32::consts::PI * freq * t).sin()
                    })
                    .collect();
                enc.encode_vec_float(&pcm, 4000).unwrap()
            })
            .collect()
    }

    fn loudness(samples: &[f32]) -> f64 {
        let mut w = KWeighting::default();
        let e = w.energy(samples) / samples.len() as f64;
        -0.691 + 10.0 * e.log10()
    }

    #[test]
    fn a_quiet_and_a_loud_speaker_end_up_near_the_same_loudness_under_the_ceiling() {
        let mut m = Mixer::new(Leveling::default(), -1.0);
        let (quiet, loud) = (tone_packets(300.0, 0.02, 8.0), tone_packets(500.0, 0.7, 8.0));
        let mut out = Vec::new();
        for (k, (q, l)) in quiet.iter().zip(&loud).enumerate() {
            let pos = (k * BLOCK) as u64;
            // The quiet one talks the first 4 s, the loud one the last 4.
            if k < 200 {
                m.packet("quiet", pos, q);
            } else {
                m.packet("loud", pos, l);
            }
            m.mix(pos.saturating_sub(RATE as u64 / 2), &mut out);
        }
        m.finish((quiet.len() * BLOCK) as u64, &mut out);
        assert_eq!(out.len(), quiet.len() * BLOCK, "the mix is as long as the room");
        let a = loudness(&out[RATE as usize..4 * RATE as usize]);
        let b = loudness(&out[5 * RATE as usize..8 * RATE as usize]);
        m.report_gains();
        assert!((a - b).abs() < 2.0 && (a + 16.0).abs() < 2.5, "quiet {a:.1} LUFS, loud {b:.1} LUFS, {:?}", m.stats);
        let peak = out.iter().fold(0.0f32, |p, x| p.max(x.abs()));
        assert!(peak <= 10f32.powf(-1.0 / 20.0) + 1e-3, "peak {peak}");
    }

    #[test]
    fn a_lost_packet_is_concealed_and_a_late_one_is_left_out_without_moving_anything() {
        let mut m = Mixer::new(Leveling::default(), -1.0);
        let packets = tone_packets(400.0, 0.3, 2.0);
        let mut out = Vec::new();
        for (k, p) in packets.iter().enumerate() {
            if k == 30 {
                continue; // lost
            }
            m.packet("ana", (k * BLOCK) as u64, p);
        }
        m.mix(RATE as u64, &mut out);
        // Packet 30 turns up after its place was mixed.
        m.packet("ana", (30 * BLOCK) as u64, &packets[30]);
        m.finish(2 * RATE as u64, &mut out);
        assert_eq!(out.len(), 2 * RATE as usize);
        assert_eq!(m.stats.late, 1);
        assert!(m.stats.concealed >= BLOCK as u64, "{:?}", m.stats);
        // Concealment keeps sound in the gap rather than a hole.
        let gap = &out[30 * BLOCK + 300..31 * BLOCK];
        assert!(gap.iter().any(|x| x.abs() > 0.01), "the lost packet was concealed");
    }
}
