//! A speaker's speech, found and kept without holding their whole track: the track is decoded at
//! 16 kHz in chunks, Silero VAD runs on each chunk (digital silence, most of a speaker's track, is
//! neither decoded nor examined), and only the Opus packets around the speech it finds are kept, to
//! be decoded again when whisper needs them. An hour of one speaker decoded whole is 230 MB of f32;
//! their speech kept as Opus is about 4 KB a second of speech (an hour of a four-speaker room: 15 MB,
//! where 16-bit samples took 122 MB).

use std::collections::VecDeque;
use std::path::Path;

use super::pack::Region;
use super::vad::{VAD_RATE, Vad};
use crate::track::TrackReader;

/// Why a speaker's track could not be turned into speech for whisper.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("{path}: {source}")]
    Track { path: std::path::PathBuf, source: crate::track::TrackError },
    #[error("{path}: cannot decode: {reason}")]
    Decode { path: std::path::PathBuf, reason: String },
    #[error(transparent)]
    Vad(#[from] super::vad::VadError),
}

/// One minute at 16 kHz: 4 MB of f32 at a time per speaker.
pub const CHUNK: usize = 60 * VAD_RATE as usize;

/// Regions that meet across a chunk boundary (within this many seconds) are one region.
const JOIN: f64 = 0.05;

/// Audio decoded before a kept stretch and dropped, so the decoder has settled (Opus' SILK layer
/// needs a few frames of history) by the stretch's first sample.
const PREROLL: i64 = VAD_RATE as i64 / 10;

/// An Opus packet at its place on the room clock (16 kHz samples; negative inside the codec's
/// pre-skip).
type Packet = (i64, Vec<u8>);

/// Stretches of one speaker's audio, as the Opus packets that hold them; silence everywhere else.
#[derive(Debug, Default)]
pub struct SpeechAudio {
    /// (first room sample, samples, packets from a little before it), sorted by start.
    spans: Vec<(usize, usize, Vec<Packet>)>,
    /// The track's output gain (Q7.8 dB), applied when decoding.
    gain: i32,
}

impl SpeechAudio {
    /// Appends room samples `from..to` to `out` (zeros where nothing was kept).
    pub fn read(&self, from: usize, to: usize, out: &mut Vec<f32>) {
        let base = out.len();
        out.resize(base + to.saturating_sub(from), 0.0);
        let last = self.spans.partition_point(|(start, _, _)| *start < to);
        for (start, len, packets) in &self.spans[..last] {
            let (a, b) = ((*start).max(from), (start + len).min(to));
            if a >= b {
                continue;
            }
            let decoded = decode(packets, self.gain);
            let origin = packets.first().map_or(0, |p| p.0);
            for i in a..b {
                let at = (i as i64 - origin) as usize;
                out[base + i - from] = decoded.get(at).copied().unwrap_or(0.0);
            }
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.spans.iter().flat_map(|(_, _, p)| p).map(|(_, d)| d.len() + 8).sum()
    }

    fn keep(&mut self, start: usize, len: usize, packets: Vec<Packet>) {
        let at = self.spans.partition_point(|(s, _, _)| *s <= start);
        self.spans.insert(at, (start, len, packets));
    }
}

/// Decodes packets from the first one's place on: samples from `packets[0].0` on, with the room's
/// silences between packets (a gap left by lost pages) as zeros.
fn decode(packets: &[Packet], gain: i32) -> Vec<f32> {
    let Ok(mut decoder) = opus::Decoder::new(VAD_RATE, opus::Channels::Mono) else { return Vec::new() };
    let _ = decoder.set_gain(gain);
    let origin = packets.first().map_or(0, |p| p.0);
    let mut out: Vec<f32> = Vec::new();
    let mut pcm = vec![0f32; 5760 / 3];
    for (at, data) in packets {
        let offset = (at - origin).max(0) as usize;
        if out.len() < offset {
            out.resize(offset, 0.0);
        }
        // A damaged packet decodes as nothing: the span keeps its place.
        let n = decoder.decode_float(data, &mut pcm, false).unwrap_or(0);
        out.extend_from_slice(&pcm[..n]);
    }
    out
}

/// Finds the speech in a track (Ogg Opus on the room clock) and keeps the audio within `keep`
/// seconds of it. Returns the regions (seconds on the room clock) and the kept audio.
pub fn find(path: &Path, vad: &mut Vad, keep: f64, chunk: usize) -> Result<(Vec<Region>, SpeechAudio), SpeechError> {
    let track_err = |source| SpeechError::Track { path: path.to_path_buf(), source };
    let decode_err = |e: opus::Error| SpeechError::Decode { path: path.to_path_buf(), reason: e.to_string() };
    let mut reader = TrackReader::open(path).map_err(track_err)?;
    // libopus decodes at 16 kHz natively: no resampler.
    let mut decoder = opus::Decoder::new(VAD_RATE, opus::Channels::Mono).map_err(decode_err)?;
    decoder.set_gain(reader.head.output_gain as i32).map_err(decode_err)?;
    let ratio = (crate::track::SAMPLE_RATE / VAD_RATE) as u64;
    let mut finder = Finder {
        vad,
        keep,
        chunk: chunk.max(VAD_RATE as usize),
        pending: Vec::new(),
        start: 0,
        regions: Vec::new(),
        audio: SpeechAudio { spans: Vec::new(), gain: reader.head.output_gain as i32 },
        quiet: 0,
        packets: VecDeque::new(),
        // Before the track starts there is nothing: silence.
        context: vec![0.0; VAD_CONTEXT],
    };
    let pre_skip = (reader.head.pre_skip as u64 / ratio) as usize;
    let mut skip = pre_skip;
    let mut decoded = 0usize;
    let mut pcm = vec![0f32; 5760 / ratio as usize];
    // Whether the decoder has heard the silence that ends a stretch of audio (once is enough).
    let mut decoder_quiet = false;
    while let Some(p) = reader.next_packet().map_err(track_err)? {
        // A gap left by lost pages is silence, so later audio stays in place.
        let at = (p.start / ratio) as usize;
        if decoded < at {
            finder.push_silence(at - decoded, &mut skip)?;
            decoded = at;
        }
        finder.packets.push_back((at as i64 - pre_skip as i64, p.data.clone()));
        // Silence frames (most of a speaker's track: everyone else's turns) are digital silence:
        // neither decoded nor shown to the VAD, beyond the first of a run.
        if crate::track::is_silence_frame(&p.data) && decoder_quiet {
            let n = crate::track::packet_samples(&p.data).map_or(crate::track::FRAME_20MS, u64::from) as usize
                / ratio as usize;
            finder.push_silence(n, &mut skip)?;
            decoded += n;
            continue;
        }
        decoder_quiet = crate::track::is_silence_frame(&p.data);
        let n = decoder.decode_float(&p.data, &mut pcm, false).map_err(decode_err)?;
        decoded += n;
        finder.push_decoded(&pcm[..n], &mut skip)?;
    }
    // The track's end trims the last packet's padding.
    let end = ((reader.end() / ratio) as usize).saturating_sub((reader.head.pre_skip as u64 / ratio) as usize);
    finder.finish(end)
}

struct Finder<'a> {
    vad: &'a mut Vad,
    keep: f64,
    chunk: usize,
    /// Room samples not yet examined, starting at room sample `start`.
    pending: Vec<f32>,
    start: usize,
    regions: Vec<Region>,
    audio: SpeechAudio,
    /// Samples of digital silence in a row, at the end of `pending` or skipped.
    quiet: usize,
    /// The track's packets from a little before `start` on, at their room samples.
    packets: VecDeque<Packet>,
    /// The last `VAD_CONTEXT` room samples before `start` (zeros where the track was digital
    /// silence or had not started): what the VAD hears before each chunk.
    context: Vec<f32>,
}

/// Audio the VAD hears before each chunk it examines. whisper.cpp's Silero starts every call with
/// its LSTM state cleared, and a cold Silero hears speech late: speech right at the start of a
/// call (a track's first sample, the first sound after skipped silence, a chunk boundary) was
/// found 0.2-0.4 s after it began, and padding did not reach back to the first word ("It must be
/// remembered" came out as "Must be remembered"). Half a second of what came before warms it up:
/// the same speech is then found within 30 ms of its start, as in the middle of a chunk.
const VAD_CONTEXT: usize = VAD_RATE as usize / 2;

/// Packets kept before `start`: the context's, and the decoder's preroll before that.
const PACKETS_BEFORE: i64 = VAD_CONTEXT as i64 + PREROLL + 960;

/// Digital silence the VAD still sees after a stretch of audio (so speech ends naturally for it);
/// past this, silence is skipped over without running the VAD on it.
const QUIET_SHOWN: usize = VAD_RATE as usize / 2;

impl<'a> Finder<'a> {
    /// `n` samples of digital silence: the first half second of a run goes to the VAD like any
    /// audio, the rest only moves the room clock on (what was pending is examined first).
    fn push_silence(&mut self, mut n: usize, skip: &mut usize) -> Result<(), SpeechError> {
        let dropped = (*skip).min(n);
        *skip -= dropped;
        n -= dropped;
        let shown = QUIET_SHOWN.saturating_sub(self.quiet).min(n);
        if shown > 0 {
            self.push(&vec![0.0; shown])?;
        }
        self.quiet += n;
        let skipped = n - shown;
        if skipped > 0 {
            if !self.pending.is_empty() {
                let chunk = std::mem::take(&mut self.pending);
                self.examine(&chunk)?;
                self.start += chunk.len();
            }
            self.start += skipped;
            self.remember(&vec![0.0; skipped.min(VAD_CONTEXT)]);
            let done = self.start as i64 - PACKETS_BEFORE;
            while self.packets.front().is_some_and(|(at, _)| *at < done) {
                self.packets.pop_front();
            }
        }
        Ok(())
    }

    /// Decoded samples: the first `skip` of the stream are the codec's pre-skip, not room time.
    fn push_decoded(&mut self, samples: &[f32], skip: &mut usize) -> Result<(), SpeechError> {
        let dropped = (*skip).min(samples.len());
        *skip -= dropped;
        if samples.len() > dropped {
            self.quiet = 0;
        }
        self.push(&samples[dropped..])
    }

    fn push(&mut self, samples: &[f32]) -> Result<(), SpeechError> {
        self.pending.extend_from_slice(samples);
        while self.pending.len() >= self.chunk {
            let rest = self.pending.split_off(self.chunk);
            let chunk = std::mem::replace(&mut self.pending, rest);
            self.examine(&chunk)?;
            self.start += chunk.len();
        }
        Ok(())
    }

    fn finish(mut self, end: usize) -> Result<(Vec<Region>, SpeechAudio), SpeechError> {
        if end < self.start {
            // The end trims into skipped silence: nothing pending belongs to the track.
            self.pending.clear();
        }
        let keep_len = end.saturating_sub(self.start).min(self.pending.len());
        let last = std::mem::take(&mut self.pending);
        self.examine(&last[..keep_len])?;
        Ok((self.regions, self.audio))
    }

    /// Keeps the last `VAD_CONTEXT` samples of what was heard, `samples` being the newest.
    fn remember(&mut self, samples: &[f32]) {
        let keep = VAD_CONTEXT.saturating_sub(samples.len()).min(self.context.len());
        self.context.drain(..self.context.len() - keep);
        self.context.extend_from_slice(&samples[samples.len().saturating_sub(VAD_CONTEXT)..]);
    }

    fn examine(&mut self, chunk: &[f32]) -> Result<(), SpeechError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let rate = VAD_RATE as f64;
        let offset = self.start as f64 / rate;
        // The VAD hears the context first; its times are shifted back to the chunk's.
        let lead = self.context.len() as f64 / rate;
        let mut heard = Vec::with_capacity(self.context.len() + chunk.len());
        heard.extend_from_slice(&self.context);
        heard.extend_from_slice(chunk);
        for r in self.vad.speech(&heard)? {
            let (start, end) = (r.start - lead, (r.end - lead).min(chunk.len() as f64 / rate));
            // Speech that ended before this chunk was the previous chunk's to find.
            if end <= 0.0 {
                continue;
            }
            // Speech may start in the context (it ran over from the previous chunk, or that
            // chunk's VAD saw too little of it), never before the track.
            let region = Region { start: (start + offset).max(0.0), end: end + offset };
            // Kept with a margin: back into the context, not past this chunk's end (what lies
            // past it is silence or the next chunk's to keep).
            let a = (((start - self.keep) * rate) as i64).max(-(self.context.len() as i64));
            let b = (((end + self.keep) * rate) as i64).min(chunk.len() as i64);
            let (from, to) = ((self.start as i64 + a).max(0), self.start as i64 + b);
            if from < to {
                let packets: Vec<Packet> =
                    self.packets.iter().filter(|(at, _)| *at >= from - PREROLL - 960 && *at < to).cloned().collect();
                self.audio.keep(from as usize, (to - from) as usize, packets);
            }
            match self.regions.last_mut() {
                // Speech running over the chunk boundary: the previous chunk's VAD saw it end
                // there, and this one heard it from the context on.
                Some(prev) if prev.end >= region.start - JOIN && region.start <= offset + JOIN => {
                    prev.end = prev.end.max(region.end)
                }
                _ => self.regions.push(region),
            }
        }
        self.remember(chunk);
        // Packets before this chunk's end are done with, but for the next chunk's context and
        // the next stretch's preroll.
        let done = (self.start + chunk.len()) as i64 - PACKETS_BEFORE;
        while self.packets.front().is_some_and(|(at, _)| *at < done) {
            self.packets.pop_front();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20 ms Opus packets of a 440 Hz tone at 16 kHz, placed from room sample `at`.
    fn tone_packets(at: i64, frames: usize) -> Vec<Packet> {
        let mut enc = opus::Encoder::new(VAD_RATE, opus::Channels::Mono, opus::Application::Voip).unwrap();
        (0..frames)
            .map(|f| {
                let pcm: Vec<f32> = (0..320)
                    .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * (f * 320 + i) as f32 / 16_000.0).sin())
                    .collect();
                (at + f as i64 * 320, enc.encode_vec_float(&pcm, 4000).unwrap())
            })
            .collect()
    }

    #[test]
    fn kept_speech_reads_back_in_place_with_silence_around() {
        let mut audio = SpeechAudio::default();
        // Kept: room samples 16,000-24,000, decoded from packets starting a preroll earlier.
        audio.keep(16_000, 8_000, tone_packets(16_000 - 1_600, 35));
        let mut out = vec![9.0];
        audio.read(14_000, 26_000, &mut out);
        assert_eq!(out.len(), 1 + 12_000);
        assert_eq!(out[0], 9.0, "appended after what was there");
        let rms = |s: &[f32]| (s.iter().map(|x| x * x).sum::<f32>() / s.len() as f32).sqrt();
        assert_eq!(rms(&out[1..1 + 2_000]), 0.0, "nothing kept before the span");
        assert!((rms(&out[1 + 2_500..1 + 9_500]) - 0.35).abs() < 0.08, "the tone, settled");
        assert_eq!(rms(&out[1 + 10_000..]), 0.0, "nothing kept after it");
        assert!(audio.bytes() < 8_000, "kept compressed: {} bytes", audio.bytes());
    }
}
