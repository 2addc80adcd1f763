//! Audio helpers shared by file import, `speak` and anything else that turns audio files into Opus:
//! decoding any supported file, resampling to 48 kHz, and encoding speech into 20 ms Opus frames.

pub mod decode;
pub mod encode;
mod mp4;
pub mod resample;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;

pub use decode::FileDecoder;
pub use encode::{EncodeError, VoiceEncoder};
pub use resample::To48k;

/// Why an audio file could not be read.
#[derive(Debug, Error)]
pub enum AudioError {
    #[error("{0}: file not found")]
    NotFound(PathBuf),
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{0}: file is empty (0 bytes)")]
    EmptyFile(PathBuf),
    #[error("{path}: not a recognised audio file ({reason})")]
    Unrecognised { path: PathBuf, reason: String },
    #[error(
        "{path}: unsupported codec '{codec}'; roomcast imports WAV, FLAC, MP3, AAC/ALAC (M4A), Ogg Vorbis, Matroska and Ogg Opus"
    )]
    UnsupportedCodec { path: PathBuf, codec: String },
    #[error("{path}: audio is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path}: audio is truncated or corrupt: the header promises {expected:.2} s but only {got:.2} s could be decoded"
    )]
    Truncated { path: PathBuf, expected: f64, got: f64 },
    #[error("{0}: contains no audio (0 samples)")]
    NoAudio(PathBuf),
}

impl AudioError {
    pub(crate) fn read(path: &Path, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::NotFound {
            AudioError::NotFound(path.to_path_buf())
        } else {
            AudioError::Read { path: path.to_path_buf(), source }
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: &str) -> Self {
        AudioError::Corrupt { path: path.to_path_buf(), reason: reason.to_string() }
    }
}

/// Whether the file is Ogg Opus (copied packet for packet rather than decoded), from its first page.
pub fn is_ogg_opus(path: &Path) -> Result<bool, AudioError> {
    let mut f = File::open(path).map_err(|e| AudioError::read(path, e))?;
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < head.len() {
        match f.read(&mut head[got..]).map_err(|e| AudioError::read(path, e))? {
            0 => break,
            n => got += n,
        }
    }
    let head = &head[..got];
    Ok(head.starts_with(b"OggS")
        && head.len() > 27
        && head.get(27 + head[26] as usize..).is_some_and(|h| h.starts_with(b"OpusHead")))
}

/// The average of the channels, into `out`.
pub fn downmix(planes: &[Vec<f32>], out: &mut Vec<f32>) {
    out.clear();
    let n = planes.first().map(|p| p.len()).unwrap_or(0);
    let scale = 1.0 / planes.len().max(1) as f32;
    out.extend((0..n).map(|i| planes.iter().map(|p| p[i]).sum::<f32>() * scale));
}
