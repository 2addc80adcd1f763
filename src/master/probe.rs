//! The codec-loss probe: how much loudness a lossy encoder takes off this room's audio.
//!
//! LAME at 128 kbps, for one, removes about 0.5 LU from synthetic voices (ffmpeg's libmp3lame does
//! the same). Encoding the first stretch of speech in memory, decoding it and comparing loudness
//! gives a trim that makes the encoded file land on target in a single pass; the decoded file is
//! still measured afterwards, and re-mastered in the rare case the probe was not representative.

use super::loudness::Meter;

use super::sink::{lame, lame_encode, lame_flush};
use super::{Format, MasterError, STEREO_OFFSET, verify};
use crate::audio::encode::{FrameEncoder, Framer};
use crate::track::FRAME_20MS;

/// Loudness shift in dB (decoded minus original, mono measure) the codec applies to `pcm`;
/// 0 for WAV, and for excerpts too quiet to measure.
pub fn codec_loss(format: Format, stereo: bool, kbps: u32, pcm: &[f32]) -> Result<f64, MasterError> {
    let Some(original) = loudness(pcm, 1) else { return Ok(0.0) };
    let decoded = match format {
        Format::Wav => return Ok(0.0),
        Format::Mp3 => {
            let mut enc = lame(stereo, kbps)?;
            let mut bytes = Vec::new();
            for chunk in pcm.chunks(48_000) {
                lame_encode(&mut enc, stereo, chunk, &mut bytes)?;
            }
            lame_flush(&mut enc, &mut bytes)?;
            verify::measure_mp3_bytes(bytes)?.integrated_lufs
        }
        Format::Opus => opus_round_trip(pcm, stereo, kbps)?,
    };
    let decoded_mono = if stereo { decoded - STEREO_OFFSET } else { decoded };
    Ok(if decoded_mono.is_finite() { decoded_mono - original } else { 0.0 })
}

fn loudness(interleaved: &[f32], channels: u32) -> Option<f64> {
    let mut m = Meter::new(channels as usize);
    m.add(interleaved);
    Some(m.integrated()).filter(|l| l.is_finite())
}

fn opus_round_trip(pcm: &[f32], stereo: bool, kbps: u32) -> Result<f64, MasterError> {
    let err = |e: opus::Error| MasterError::Encoder { format: "opus", reason: e.to_string() };
    let mut enc = FrameEncoder::new(stereo, opus::Application::Audio, kbps * 1000).map_err(err)?;
    let n = enc.channels() as usize;
    let ch = if stereo { opus::Channels::Stereo } else { opus::Channels::Mono };
    let mut dec = opus::Decoder::new(48_000, ch).map_err(err)?;
    let (mut out, mut decoded) = (vec![0f32; 5760 * 2], Vec::new());
    let mut round_trip = |frame: &[f32]| -> Result<(), opus::Error> {
        let packet = enc.encode(frame)?;
        let got = dec.decode_float(packet, &mut out, false)?;
        decoded.extend_from_slice(&out[..got * n]);
        Ok(())
    };
    let mut framer = Framer::default();
    framer.push(pcm, &mut round_trip).map_err(err)?;
    if !pcm.len().is_multiple_of(FRAME_20MS as usize) {
        framer.pad(&mut round_trip).map_err(err)?;
    }
    Ok(loudness(&decoded, n as u32).unwrap_or(f64::NAN))
}
