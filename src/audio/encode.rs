//! Turning 48 kHz speech into a speaker track with libopus, placed on the room clock.

use std::io::Write;

use opus::{Application, Bitrate, Channels, Encoder};

use crate::track::{FRAME_20MS, OpusHead, OpusTags, TrackError, TrackWriter, opus::silence_frame};

/// Below this a frame counts as digital silence (under half a 16-bit step): it is stored as a 3-byte
/// silence frame, so pauses cost nothing to store or to mix.
const SILENCE_LEVEL: f32 = 1.0 / 65_536.0;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("Opus encoder: {0}")]
    Opus(#[from] opus::Error),
    #[error(transparent)]
    Track(#[from] TrackError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Encodes mono speech into 20 ms Opus packets. Input sample 0 lands at room time `offset`.
pub struct VoiceEncoder<W: Write> {
    encoder: Encoder,
    writer: TrackWriter<W>,
    frame: Vec<f32>,
    previous_silent: bool,
    encoder_dirty: bool,
    out: Vec<u8>,
    /// Input samples received (after the alignment padding).
    pub samples: u64,
    /// Samples fed to the encoder or replaced by silence frames, alignment padding included.
    consumed: u64,
    pad: u64,
    lookahead: u64,
    pub speech_frames: u64,
}

impl<W: Write> VoiceEncoder<W> {
    pub fn new(out: W, bitrate: u32, offset_samples: u64, tags: OpusTags, serial: u32) -> Result<Self, EncodeError> {
        let mut encoder = Encoder::new(48_000, Channels::Mono, Application::Voip)?;
        encoder.set_bitrate(Bitrate::Bits(bitrate as i32))?;
        let lookahead = encoder.get_lookahead()? as u64;
        let head = OpusHead::new(1, lookahead as u16);
        let mut writer = TrackWriter::new(out, &head, &tags, serial)?;
        // The encoder delays its input by `lookahead` samples, which pre-skip removes; whole silent
        // frames cover the offset and zero samples the remainder, so sample 0 lands exactly at `offset`.
        let frames = offset_samples / FRAME_20MS;
        writer.fill_silence_to(frames * FRAME_20MS)?;
        let pad = (offset_samples % FRAME_20MS) as usize;
        Ok(VoiceEncoder {
            encoder,
            writer,
            frame: vec![0.0; pad],
            previous_silent: true,
            encoder_dirty: false,
            out: vec![0u8; 4000],
            samples: 0,
            consumed: 0,
            pad: pad as u64,
            lookahead,
            speech_frames: 0,
        })
    }

    pub fn push(&mut self, samples: &[f32]) -> Result<(), EncodeError> {
        self.samples += samples.len() as u64;
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (FRAME_20MS as usize - self.frame.len()).min(rest.len());
            self.frame.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.frame.len() == FRAME_20MS as usize {
                self.encode_frame()?;
            }
        }
        Ok(())
    }

    fn encode_frame(&mut self) -> Result<(), EncodeError> {
        let silent = self.frame.iter().all(|s| s.abs() < SILENCE_LEVEL);
        // A packet also carries the tail of the previous frame (the encoder's lookahead), so it may
        // only be replaced by silence when both frames are silent.
        if silent && self.previous_silent {
            self.writer.append(silence_frame(1))?;
            self.writer.stats.silence_frames += 1;
            self.encoder_dirty = true;
        } else {
            if self.encoder_dirty {
                // The encoder did not see the silent stretch; a fresh state holds exactly the zeros
                // it would have seen, and decoders reset their SILK state on leaving CELT silence.
                self.encoder.reset_state()?;
                self.encoder_dirty = false;
            }
            let n = self.encoder.encode_float(&self.frame, &mut self.out)?;
            self.writer.append(&self.out[..n])?;
            self.speech_frames += 1;
        }
        self.previous_silent = silent;
        self.consumed += FRAME_20MS;
        self.frame.clear();
        Ok(())
    }

    /// Encodes what is left, including the encoder's lookahead, and returns the open track so the
    /// caller can end it at the room's end.
    pub fn finish(mut self) -> Result<TrackWriter<W>, EncodeError> {
        // Encode until the look-ahead samples have come out of the encoder too.
        while self.consumed < self.pad + self.samples + self.lookahead {
            self.frame.resize(FRAME_20MS as usize, 0.0);
            self.encode_frame()?;
        }
        Ok(self.writer)
    }
}
