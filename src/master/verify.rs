//! Measuring what a listener will actually hear: an encoded master decoded again.
//!
//! Lossy encoders change loudness (LAME at 128 kbps takes about 0.5 LU off synthetic voices) and
//! overshoot peaks, so the master checks each lossy file it wrote and corrects the ones that miss.

use std::fs::File;
use std::path::Path;

use ebur128::{EbuR128, Mode};
use symphonia::core::audio::{AudioBuffer, Signal};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{Format, MasterError};
use crate::track::TrackReader;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Measured {
    pub integrated_lufs: f64,
    pub true_peak_dbtp: f64,
    /// Samples per channel the file decodes to.
    pub samples: u64,
}

fn meter_result(meter: &EbuR128, channels: u32, samples: u64) -> Measured {
    let peak = (0..channels).map(|c| meter.true_peak(c).unwrap_or(0.0)).fold(0.0, f64::max);
    Measured {
        integrated_lufs: meter.loudness_global().unwrap_or(f64::NEG_INFINITY),
        true_peak_dbtp: 20.0 * peak.log10(),
        samples,
    }
}

pub fn measure(path: &Path, format: Format) -> Result<Measured, MasterError> {
    match format {
        Format::Opus => measure_opus(path),
        Format::Mp3 | Format::Wav => measure_symphonia(path),
    }
}

fn codec_err(path: &Path, reason: impl ToString) -> MasterError {
    MasterError::Codec { path: path.to_path_buf(), reason: reason.to_string() }
}

fn measure_opus(path: &Path) -> Result<Measured, MasterError> {
    let mut reader = TrackReader::open(path).map_err(|e| MasterError::track(path, e))?;
    let channels = reader.head.channels as usize;
    let mut decoder =
        opus::Decoder::new(48_000, if channels == 2 { opus::Channels::Stereo } else { opus::Channels::Mono })
            .map_err(|e| codec_err(path, e))?;
    let mut meter = EbuR128::new(channels as u32, 48_000, Mode::I | Mode::TRUE_PEAK).expect("valid meter");
    let mut pcm = vec![0.0f32; 5760 * channels];
    let mut skip = reader.head.pre_skip as u64;
    let mut decoded = 0u64;
    while let Some(p) = reader.next_packet().map_err(|e| MasterError::track(path, e))? {
        let n = decoder.decode_float(&p.data, &mut pcm, false).map_err(|e| codec_err(path, e))? as u64;
        // Honour pre-skip at the start and end trimming at the end, as a player does.
        let start = skip.min(n);
        skip -= start;
        let end_limit = reader.end().saturating_sub(p.start).min(n);
        let end = if reader.end() > 0 && p.start + n > reader.end() { end_limit } else { n };
        if end > start {
            meter.add_frames_f32(&pcm[start as usize * channels..end as usize * channels]).expect("interleaved frames");
            decoded += end - start;
        }
    }
    Ok(meter_result(&meter, channels as u32, decoded))
}

fn measure_symphonia(path: &Path) -> Result<Measured, MasterError> {
    let file = File::open(path).map_err(|e| MasterError::Write { path: path.to_path_buf(), source: e })?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    // Gapless: honour the LAME tag's encoder delay and padding.
    let opts = FormatOptions { enable_gapless: true, ..Default::default() };
    let mut format = symphonia::default::get_probe()
        .format(&hint, mss, &opts, &MetadataOptions::default())
        .map_err(|e| codec_err(path, e))?
        .format;
    let track = format.default_track().ok_or_else(|| codec_err(path, "no audio track"))?;
    let (id, params) = (track.id, track.codec_params.clone());
    let channels = params.channels.map(|c| c.count()).unwrap_or(1);
    let rate = params.sample_rate.unwrap_or(48_000);
    let mut decoder =
        symphonia::default::get_codecs().make(&params, &Default::default()).map_err(|e| codec_err(path, e))?;
    let mut meter = EbuR128::new(channels as u32, rate, Mode::I | Mode::TRUE_PEAK).expect("valid meter");
    let mut samples = 0u64;
    let mut interleaved = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(codec_err(path, e)),
        };
        if packet.track_id() != id {
            continue;
        }
        let decoded = decoder.decode(&packet).map_err(|e| codec_err(path, e))?;
        let spec = *decoded.spec();
        let mut buf = AudioBuffer::<f32>::new(decoded.capacity() as u64, spec);
        decoded.convert(&mut buf);
        let n = buf.frames();
        interleaved.clear();
        for i in 0..n {
            for c in 0..channels {
                interleaved.push(buf.chan(c)[i]);
            }
        }
        meter.add_frames_f32(&interleaved).expect("interleaved frames");
        samples += n as u64;
    }
    Ok(meter_result(&meter, channels as u32, samples))
}
