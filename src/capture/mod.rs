//! Capture: everything that brings a room's per-speaker audio into a session folder.
//!
//! Today that is `import` (existing per-speaker files). Live sources (RTP, Janus) plug in beside it
//! and write through the same [`crate::track::TrackWriter`].

pub mod decode;
pub mod encode;
pub mod import;
mod mp4;
pub mod resample;

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::session::SessionError;
use crate::track::TrackError;

pub use decode::FileDecoder;
pub use encode::{EncodeError, VoiceEncoder};
pub use import::{ImportReport, ImportRequest, SpeakerFile, import};
pub use resample::To48k;

#[derive(Debug, Error)]
pub enum ImportError {
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
    #[error("{path}: has {found} channel(s) but --channels names {named} speaker(s)")]
    ChannelCount { path: PathBuf, found: usize, named: usize },
    #[error("speaker name '{0}' is given twice; each speaker needs a distinct name")]
    DuplicateSpeaker(String),
    #[error("speaker name is empty in '{0}'; use NAME=FILE")]
    EmptyName(String),
    #[error("--offset names unknown speaker '{name}' (speakers: {known})")]
    UnknownOffsetSpeaker { name: String, known: String },
    #[error("--offset {name}={value}: the offset must be a number of seconds, 0 or more")]
    BadOffset { name: String, value: String },
    #[error("no speakers to import: give --speaker NAME=FILE (repeatable) or a multichannel FILE with --channels")]
    NoSpeakers,
    #[error("{0}: already holds a session (room.json); choose another --out")]
    OutHoldsSession(PathBuf),
    #[error("{0}: exists and is not an empty folder; choose another --out")]
    OutNotEmpty(PathBuf),
    #[error("{path}: cannot write the session there: {source}")]
    OutNotWritable { path: PathBuf, source: io::Error },
    #[error("{path}: {source}")]
    Track { path: PathBuf, source: TrackError },
    #[error("{path}: {source}")]
    Encode { path: PathBuf, source: encode::EncodeError },
    #[error(transparent)]
    Session(#[from] SessionError),
}

impl ImportError {
    pub(crate) fn read(path: &Path, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::NotFound {
            ImportError::NotFound(path.to_path_buf())
        } else {
            ImportError::Read { path: path.to_path_buf(), source }
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: &str) -> Self {
        ImportError::Corrupt { path: path.to_path_buf(), reason: reason.to_string() }
    }
}
