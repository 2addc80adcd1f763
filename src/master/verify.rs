//! Measuring what a listener will actually hear: an encoded master decoded again.
//!
//! Lossy encoders change loudness (LAME at 128 kbps takes about 0.5 LU off synthetic voices) and
//! overshoot peaks, so every output is decoded and measured as it is written, and the master
//! corrects the ones that miss.

use std::path::Path;

use crate::audio::FileDecoder;

use super::MasterError;
use super::limiter::TruePeakMeter;
use super::loudness::Meter;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Measured {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    /// Samples per channel the file decodes to.
    pub samples: u64,
}

/// Meters decoded audio as it arrives: integrated loudness (EBU R128) and true peak per channel.
pub struct StreamMeter {
    meter: Meter,
    peaks: Vec<TruePeakMeter>,
    channels: u32,
    samples: u64,
}

impl StreamMeter {
    pub fn new(channels: u32) -> Self {
        StreamMeter {
            meter: Meter::new(channels as usize),
            peaks: (0..channels).map(|_| TruePeakMeter::default()).collect(),
            channels,
            samples: 0,
        }
    }

    pub fn add(&mut self, interleaved: &[f32]) {
        self.meter.add(interleaved);
        self.samples += (interleaved.len() / self.channels as usize) as u64;
        let stride = self.channels as usize;
        for (c, p) in self.peaks.iter_mut().enumerate() {
            p.add(interleaved, c, stride);
        }
    }

    pub fn finish(&self) -> Measured {
        let peak = self.peaks.iter().map(|p| p.peak()).fold(0.0f32, f32::max) as f64;
        Measured {
            integrated_lufs: self.meter.integrated(),
            true_peak_dbtp: 20.0 * peak.log10(),
            samples: self.samples,
        }
    }
}

/// A `Read` fed from a channel: MP3 bytes on their way to the file, decoded as they are encoded.
struct PipeReader {
    // symphonia wants its sources Sync; the mutex is never contended (one reader thread).
    rx: std::sync::Mutex<std::sync::mpsc::Receiver<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl std::io::Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.chunk.len() {
            let next = self.rx.lock().map_err(|_| std::io::Error::other("pipe poisoned"))?.recv();
            match next {
                Ok(c) => (self.chunk, self.pos) = (c, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl std::io::Seek for PipeReader {
    fn seek(&mut self, _: std::io::SeekFrom) -> std::io::Result<u64> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "a pipe cannot seek"))
    }
}

impl symphonia::core::io::MediaSource for PipeReader {
    fn is_seekable(&self) -> bool {
        false
    }
    fn byte_len(&self) -> Option<u64> {
        None
    }
}

/// Decodes and measures an MP3 on another thread while it is being written, so checking what a
/// listener hears costs no extra pass. The stream it sees lacks only the final LAME tag (written
/// last), so the encoder delay and padding, a few ms of near-silence, are measured too.
pub struct Mp3Verifier {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    handle: Option<std::thread::JoinHandle<Result<Measured, MasterError>>>,
}

impl Mp3Verifier {
    pub fn spawn(path: &Path) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        let path = path.to_path_buf();
        let handle = std::thread::spawn(move || {
            measure_encoded(Box::new(PipeReader { rx: std::sync::Mutex::new(rx), chunk: Vec::new(), pos: 0 }), &path)
        });
        Mp3Verifier { tx: Some(tx), handle: Some(handle) }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        // A verifier that stopped early reports why at `finish`.
        if let Some(tx) = &self.tx
            && tx.send(bytes.to_vec()).is_err()
        {
            self.tx = None;
        }
    }

    pub fn finish(mut self) -> Result<Measured, MasterError> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            _ => Err(MasterError::Settings("the MP3 check thread failed".into())),
        }
    }
}

fn codec_err(path: &Path, reason: impl ToString) -> MasterError {
    MasterError::Codec { path: path.to_path_buf(), reason: reason.to_string() }
}

/// Decodes MP3 bytes held in memory and measures them (the codec-loss probe).
pub fn measure_mp3_bytes(bytes: Vec<u8>) -> Result<Measured, MasterError> {
    measure_encoded(Box::new(std::io::Cursor::new(bytes)), Path::new("(probe).mp3"))
}

fn measure_encoded(source: Box<dyn symphonia::core::io::MediaSource>, path: &Path) -> Result<Measured, MasterError> {
    // Not gapless: a stream checked while it is written has only a placeholder LAME tag.
    let decoder = FileDecoder::from_source(source, path, false).map_err(|e| codec_err(path, e))?;
    if decoder.info.sample_rate != 48_000 {
        return Err(codec_err(path, format!("decoded at {} Hz, expected 48000", decoder.info.sample_rate)));
    }
    let channels = decoder.info.channels;
    let mut meter = StreamMeter::new(channels as u32);
    let mut interleaved = Vec::new();
    decoder
        .run(|planes| {
            match planes {
                [mono] => meter.add(mono),
                [left, right] => {
                    interleaved.clear();
                    interleaved.extend(left.iter().zip(right).flat_map(|(l, r)| [*l, *r]));
                    meter.add(&interleaved);
                }
                _ => {
                    interleaved.clear();
                    let n = planes.first().map(|p| p.len()).unwrap_or(0);
                    for i in 0..n {
                        interleaved.extend(planes.iter().map(|p| p[i]));
                    }
                    meter.add(&interleaved);
                }
            }
            Ok::<(), crate::audio::AudioError>(())
        })
        .map_err(|e| codec_err(path, e))?;
    Ok(meter.finish())
}
