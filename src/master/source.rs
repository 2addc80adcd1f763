//! A speaker track decoded onto the room clock, block by block, without decoding its silence.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use opus::{Channels, Decoder};

use super::{BLOCK, MasterError};
use crate::track::{TrackReader, is_silence_frame};

/// Reads a track as mono 48 kHz blocks. Silence frames after the first are not decoded: they are
/// known to be zeros, which is what makes mixing a long room with few speakers talking cheap.
pub struct TrackSource {
    reader: TrackReader<BufReader<File>>,
    decoder: Decoder,
    channels: usize,
    /// Decoded samples still to drop at the start (pre-skip).
    skip: u64,
    decoded: Vec<f32>,
    decoded_pos: usize,
    silence_left: u64,
    previous_silent: bool,
    /// Stream position where the next packet is expected.
    expected: u64,
    pcm: Vec<f32>,
    path: std::path::PathBuf,
    /// A packet read past a gap, decoded once the gap's silence has been served.
    pending: Option<crate::track::TrackPacket>,
    /// Spans of the room, in samples (start, end), heard as silence: what `roomcast redact` took
    /// out. The track itself is never changed; every mix leaves these spans out.
    muted: Vec<(u64, u64)>,
}

impl TrackSource {
    pub fn open(path: &Path) -> Result<Self, MasterError> {
        let reader = TrackReader::open(path).map_err(|e| MasterError::track(path, e))?;
        let channels = reader.head.channels as usize;
        let mut decoder = Decoder::new(48_000, if channels == 2 { Channels::Stereo } else { Channels::Mono })
            .map_err(|e| MasterError::Codec { path: path.to_path_buf(), reason: e.to_string() })?;
        // The header's output gain is part of the track's level (RFC 7845 §5.1).
        decoder
            .set_gain(reader.head.output_gain as i32)
            .map_err(|e| MasterError::Codec { path: path.to_path_buf(), reason: e.to_string() })?;
        Ok(TrackSource {
            skip: reader.head.pre_skip as u64,
            reader,
            decoder,
            channels,
            decoded: Vec::new(),
            decoded_pos: 0,
            silence_left: 0,
            previous_silent: false,
            expected: 0,
            pcm: vec![0.0; 5760 * 2],
            path: path.to_path_buf(),
            pending: None,
            muted: Vec::new(),
        })
    }

    /// The same track with these spans of room time (seconds) silenced.
    pub fn muting(mut self, spans: &[(f64, f64)]) -> Self {
        let at = |t: f64| (t.max(0.0) * crate::track::SAMPLE_RATE as f64).round() as u64;
        self.muted = spans.iter().map(|&(a, b)| (at(a), at(b))).filter(|(a, b)| b > a).collect();
        self
    }

    /// Reads the first `length` samples of the room in 100 ms blocks: `f(block, has_audio)`.
    pub fn for_each_block(
        &mut self,
        length: u64,
        mut f: impl FnMut(&[f32], bool) -> Result<(), MasterError>,
    ) -> Result<(), MasterError> {
        let mut block = vec![0.0f32; BLOCK];
        let mut pos = 0u64;
        while pos < length {
            let n = (BLOCK as u64).min(length - pos) as usize;
            let mut audio = self.next_block(&mut block[..n])?;
            if audio && !self.muted.is_empty() {
                let end = pos + n as u64;
                for &(a, b) in &self.muted {
                    if a < end && b > pos {
                        let (from, to) = (a.max(pos) - pos, b.min(end) - pos);
                        block[from as usize..to as usize].fill(0.0);
                    }
                }
                // A block muted all through is silence: the mixer skips it like any other.
                audio = block[..n].iter().any(|x| *x != 0.0);
            }
            f(&block[..n], audio)?;
            pos += n as u64;
        }
        Ok(())
    }

    /// Fills `out` with the next samples; returns false when all of them are silence.
    pub fn next_block(&mut self, out: &mut [f32]) -> Result<bool, MasterError> {
        let mut filled = 0;
        let mut audio = false;
        while filled < out.len() {
            if self.decoded_pos < self.decoded.len() {
                let avail = self.decoded.len() - self.decoded_pos;
                let drop = (self.skip as usize).min(avail);
                self.skip -= drop as u64;
                self.decoded_pos += drop;
                let n = (self.decoded.len() - self.decoded_pos).min(out.len() - filled);
                out[filled..filled + n].copy_from_slice(&self.decoded[self.decoded_pos..self.decoded_pos + n]);
                self.decoded_pos += n;
                filled += n;
                audio |= n > 0;
                continue;
            }
            if self.silence_left > 0 {
                let drop = self.skip.min(self.silence_left);
                self.skip -= drop;
                self.silence_left -= drop;
                let n = (self.silence_left as usize).min(out.len() - filled);
                out[filled..filled + n].fill(0.0);
                self.silence_left -= n as u64;
                filled += n;
                continue;
            }
            let next = match self.pending.take() {
                Some(p) => Some(p),
                None => self.reader.next_packet().map_err(|e| MasterError::track(&self.path, e))?,
            };
            let Some(packet) = next else {
                // Past the end of the track: silence.
                out[filled..].fill(0.0);
                break;
            };
            if packet.start > self.expected {
                // Lost pages: their time is silence, served before this packet.
                self.silence_left += packet.start - self.expected;
                self.previous_silent = true;
                self.expected = packet.start;
                self.pending = Some(packet);
                continue;
            }
            self.expected = packet.start + packet.samples as u64;
            let silent = is_silence_frame(&packet.data);
            if silent && self.previous_silent {
                self.silence_left += packet.samples as u64;
            } else {
                let n = self
                    .decoder
                    .decode_float(&packet.data, &mut self.pcm, false)
                    .map_err(|e| MasterError::Codec { path: self.path.clone(), reason: e.to_string() })?;
                self.decoded.clear();
                self.decoded_pos = 0;
                if self.channels == 2 {
                    self.decoded.extend(self.pcm[..n * 2].chunks_exact(2).map(|lr| 0.5 * (lr[0] + lr[1])));
                } else {
                    self.decoded.extend_from_slice(&self.pcm[..n]);
                }
            }
            self.previous_silent = silent;
        }
        Ok(audio)
    }
}
