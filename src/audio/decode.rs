//! Decoding of ordinary audio files (WAV, FLAC, MP3, Ogg Vorbis) with symphonia, block by block.

use std::fs::File;
use std::io;
use std::path::Path;

use symphonia::core::audio::{AudioBuffer, Signal};
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::AudioError;

#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: usize,
    /// Frames the container promises, when it says.
    pub frames: Option<u64>,
}

/// Corrupt packets tolerated before the file is rejected: a glitch or two is skipped (as players do),
/// a damaged file is not silently turned into a gappy track.
const MAX_BAD_PACKETS: u64 = 3;

/// A readable name for codecs symphonia can identify but roomcast cannot decode from that container.
fn codec_name(codec: symphonia::core::codecs::CodecType) -> String {
    use symphonia::core::codecs::*;
    let known = [
        (CODEC_TYPE_OPUS, "opus (only Ogg Opus files are imported)"),
        (CODEC_TYPE_SPEEX, "speex"),
        (CODEC_TYPE_EAC3, "eac3"),
        (CODEC_TYPE_DCA, "dts"),
        (CODEC_TYPE_WAVPACK, "wavpack"),
        (CODEC_TYPE_MUSEPACK, "musepack"),
        (CODEC_TYPE_MP1, "mp1"),
        (CODEC_TYPE_MP2, "mp2"),
    ];
    known
        .iter()
        .find(|(c, _)| *c == codec)
        .map(|(_, n)| n.to_string())
        .or_else(|| symphonia::default::get_codecs().get_codec(codec).map(|d| d.short_name.to_string()))
        .unwrap_or_else(|| format!("{codec}"))
}

/// Opens `path` and returns its format; `on_block` then receives planar f32 blocks from `run`.
pub struct FileDecoder {
    path: std::path::PathBuf,
    format: Box<dyn symphonia::core::formats::FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track_id: u32,
    /// Leading decoded frames to drop: AAC priming that an MP4 edit list says to skip.
    skip: u64,
    pub info: AudioInfo,
}

impl FileDecoder {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let file = File::open(path).map_err(|e| AudioError::read(path, e))?;
        let len = file.metadata().map_err(|e| AudioError::read(path, e))?.len();
        if len == 0 {
            return Err(AudioError::EmptyFile(path.to_path_buf()));
        }
        // Gapless: trim MP3/AAC encoder delay and padding, so imported speech keeps its timing.
        Self::from_source(Box::new(file), path, true)
    }

    /// Decodes from any byte source; `path` names it in errors (and gives the format hint).
    pub fn from_source(
        source: Box<dyn symphonia::core::io::MediaSource>,
        path: &Path,
        gapless: bool,
    ) -> Result<Self, AudioError> {
        let mss = MediaSourceStream::new(source, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions { enable_gapless: gapless, ..Default::default() },
                &MetadataOptions::default(),
            )
            .map_err(|e| AudioError::Unrecognised { path: path.to_path_buf(), reason: e.to_string() })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| AudioError::NoAudio(path.to_path_buf()))?;
        let params = track.codec_params.clone();
        let decoder = symphonia::default::get_codecs().make(&params, &DecoderOptions::default()).map_err(|_| {
            let codec = codec_name(params.codec);
            AudioError::UnsupportedCodec { path: path.to_path_buf(), codec }
        })?;
        let sample_rate =
            params.sample_rate.ok_or_else(|| AudioError::corrupt(path, "no sample rate in the header"))?;
        let channels = params.channels.map(|c| c.count()).unwrap_or(1);
        let skip = if params.codec == symphonia::core::codecs::CODEC_TYPE_AAC {
            params.sample_rate.and_then(|r| super::mp4::priming_samples(path, r)).unwrap_or(0)
        } else {
            0
        };
        Ok(FileDecoder {
            skip,
            path: path.to_path_buf(),
            track_id: track.id,
            format,
            decoder,
            info: AudioInfo { sample_rate, channels, frames: params.n_frames },
        })
    }

    /// Decodes to the end, handing each block as one `Vec<f32>` per channel. Returns the count of
    /// corrupt packets that were skipped (a few are tolerated, as players do).
    pub fn run<E: From<AudioError>>(
        mut self,
        mut on_block: impl FnMut(&[Vec<f32>]) -> Result<(), E>,
    ) -> Result<u64, E> {
        let path = self.path.clone();
        let mut frames = 0u64;
        let mut primed = 0u64;
        let mut bad = 0u64;
        let mut planar: Vec<Vec<f32>> = vec![Vec::new(); self.info.channels];
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                // symphonia reports the end of the stream as an unexpected EOF.
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(SymError::ResetRequired) => {
                    return Err(E::from(AudioError::corrupt(
                        &path,
                        "the stream changes format part-way (chained or concatenated stream)",
                    )));
                }
                Err(e) => return Err(E::from(AudioError::corrupt(&path, &e.to_string()))),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(reason)) => {
                    bad += 1;
                    // Keep the lost packet's time as silence, so the rest stays on the room clock.
                    let lost = packet.dur as usize;
                    if lost > 0 && lost <= self.info.sample_rate as usize {
                        for plane in planar.iter_mut() {
                            plane.clear();
                            plane.resize(lost, 0.0);
                        }
                        frames += lost as u64;
                        on_block(&planar)?;
                    }
                    tracing::debug!(file = %path.display(), "skipping a corrupt packet: {reason}");
                    if bad > MAX_BAD_PACKETS {
                        return Err(E::from(AudioError::corrupt(
                            &path,
                            &format!("{bad} undecodable packets ({reason})"),
                        )));
                    }
                    continue;
                }
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(E::from(AudioError::corrupt(&path, &e.to_string()))),
            };
            let spec = *decoded.spec();
            let n = decoded.frames();
            if n == 0 {
                continue;
            }
            let mut buf = AudioBuffer::<f32>::new(decoded.capacity() as u64, spec);
            decoded.convert(&mut buf);
            let chans = spec.channels.count().min(planar.len());
            if chans < planar.len() {
                return Err(E::from(AudioError::corrupt(
                    &path,
                    &format!("a packet has {chans} channel(s), the header says {}", planar.len()),
                )));
            }
            let drop = (self.skip as usize).min(n);
            self.skip -= drop as u64;
            primed += drop as u64;
            if drop == n {
                continue;
            }
            for (c, plane) in planar.iter_mut().enumerate().take(chans) {
                plane.clear();
                plane.extend_from_slice(&buf.chan(c)[drop..n]);
            }
            let n = n - drop;
            frames += n as u64;
            on_block(&planar[..chans])?;
        }
        if frames == 0 {
            return Err(E::from(AudioError::NoAudio(path)));
        }
        if let Some(expected) = self.info.frames {
            // A tenth of a second of slack: containers round, encoders pad.
            if frames + primed + (self.info.sample_rate as u64 / 10) < expected {
                let rate = self.info.sample_rate as f64;
                return Err(E::from(AudioError::Truncated {
                    path,
                    expected: expected as f64 / rate,
                    got: frames as f64 / rate,
                }));
            }
        }
        Ok(bad)
    }
}
