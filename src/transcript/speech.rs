//! A speaker's speech, found and kept without holding their whole track: the track is decoded at
//! 16 kHz in chunks of a few minutes, Silero VAD runs on each chunk, and only the audio around the
//! speech it finds is kept, as 16-bit samples. An hour of one speaker decoded whole is 230 MB of
//! f32; kept this way it is 115 MB if they talk all the time and a fraction of that otherwise.

use std::path::Path;

use super::pack::Region;
use super::run::TranscribeError;
use super::vad::{VAD_RATE, Vad};
use crate::track::TrackReader;

/// Five minutes at 16 kHz: 19 MB of f32 at a time per speaker.
pub const CHUNK: usize = 5 * 60 * VAD_RATE as usize;

/// Regions that meet across a chunk boundary (within this many seconds) are one region.
const JOIN: f64 = 0.05;

/// Stretches of one speaker's audio at 16 kHz, by room sample; silence everywhere else.
#[derive(Debug, Default)]
pub struct SpeechAudio {
    /// (first room sample, samples), sorted by start.
    spans: Vec<(usize, Vec<i16>)>,
}

impl SpeechAudio {
    /// Appends room samples `from..to` to `out` (zeros where nothing was kept).
    pub fn read(&self, from: usize, to: usize, out: &mut Vec<f32>) {
        let base = out.len();
        out.resize(base + to.saturating_sub(from), 0.0);
        let last = self.spans.partition_point(|(start, _)| *start < to);
        for (start, data) in &self.spans[..last] {
            let (a, b) = ((*start).max(from), (start + data.len()).min(to));
            for i in a..b {
                out[base + i - from] = data[i - start] as f32 / 32768.0;
            }
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.spans.iter().map(|(_, d)| d.len() * 2).sum()
    }

    fn keep(&mut self, start: usize, samples: &[f32]) {
        let data = samples.iter().map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16).collect();
        let at = self.spans.partition_point(|(s, _)| *s <= start);
        self.spans.insert(at, (start, data));
    }
}

/// Finds the speech in a track (Ogg Opus on the room clock) and keeps the audio within `keep`
/// seconds of it. Returns the regions (seconds on the room clock) and the kept audio.
pub fn find(
    path: &Path,
    vad: &mut Vad,
    keep: f64,
    chunk: usize,
) -> Result<(Vec<Region>, SpeechAudio), TranscribeError> {
    let track_err = |source| TranscribeError::Track { path: path.to_path_buf(), source };
    let decode_err = |e: opus::Error| TranscribeError::Decode { path: path.to_path_buf(), reason: e.to_string() };
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
        audio: SpeechAudio::default(),
    };
    let mut skip = (reader.head.pre_skip as u64 / ratio) as usize;
    let mut decoded = 0usize;
    let mut pcm = vec![0f32; 5760 / ratio as usize];
    let silence = vec![0f32; VAD_RATE as usize];
    while let Some(p) = reader.next_packet().map_err(track_err)? {
        // A gap left by lost pages is silence, so later audio stays in place.
        let at = (p.start / ratio) as usize;
        while decoded < at {
            let n = (at - decoded).min(silence.len());
            finder.push_decoded(&silence[..n], &mut skip)?;
            decoded += n;
        }
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
}

impl<'a> Finder<'a> {
    /// Decoded samples: the first `skip` of the stream are the codec's pre-skip, not room time.
    fn push_decoded(&mut self, samples: &[f32], skip: &mut usize) -> Result<(), TranscribeError> {
        let dropped = (*skip).min(samples.len());
        *skip -= dropped;
        self.push(&samples[dropped..])
    }

    fn push(&mut self, samples: &[f32]) -> Result<(), TranscribeError> {
        self.pending.extend_from_slice(samples);
        while self.pending.len() >= self.chunk {
            let rest = self.pending.split_off(self.chunk);
            let chunk = std::mem::replace(&mut self.pending, rest);
            self.examine(&chunk)?;
            self.start += chunk.len();
        }
        Ok(())
    }

    fn finish(mut self, end: usize) -> Result<(Vec<Region>, SpeechAudio), TranscribeError> {
        let keep_len = end.saturating_sub(self.start).min(self.pending.len());
        let last = std::mem::take(&mut self.pending);
        self.examine(&last[..keep_len])?;
        Ok((self.regions, self.audio))
    }

    fn examine(&mut self, chunk: &[f32]) -> Result<(), TranscribeError> {
        let rate = VAD_RATE as f64;
        let offset = self.start as f64 / rate;
        for r in self.vad.speech(chunk)? {
            let region = Region { start: r.start + offset, end: r.end + offset };
            // Kept with a margin, clipped to this chunk (what lies past it is silence or the
            // next chunk's to keep).
            let a = ((r.start - self.keep).max(0.0) * rate) as usize;
            let b = (((r.end + self.keep) * rate) as usize).min(chunk.len());
            if a < b {
                self.audio.keep(self.start + a, &chunk[a..b]);
            }
            match self.regions.last_mut() {
                // Speech running over the chunk boundary: VAD saw it end and start again there.
                Some(prev) if prev.end >= offset - JOIN && region.start <= offset + JOIN => prev.end = region.end,
                _ => self.regions.push(region),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_audio_reads_back_in_place_with_silence_between() {
        let mut audio = SpeechAudio::default();
        audio.keep(100, &[0.5; 10]);
        audio.keep(10, &[-0.25; 5]);
        let mut out = vec![9.0];
        audio.read(8, 112, &mut out);
        assert_eq!(out.len(), 1 + 104);
        assert_eq!(out[0], 9.0, "appended after what was there");
        assert_eq!(out[1 + 1], 0.0);
        assert!((out[1 + 2] + 0.25).abs() < 1e-4, "{:?}", &out[..10]);
        assert!((out[1 + 6] + 0.25).abs() < 1e-4);
        assert_eq!(out[1 + 7], 0.0);
        assert!((out[1 + 92] - 0.5).abs() < 1e-4);
        assert_eq!(out[1 + 102], 0.0);
        assert_eq!(audio.bytes(), 30);
    }
}
