//! Encoding 48 kHz audio into 20 ms Opus frames: the framing and the encoder every writer of Opus
//! shares (speaker tracks here, the Opus master and its codec probe in `master`), and the speaker
//! track encoder itself, placed on the room clock.

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

/// Cuts a stream of samples into 20 ms frames (960 samples per channel at 48 kHz), the one frame
/// size roomcast encodes.
#[derive(Debug, Default)]
pub struct Framer {
    frame: Vec<f32>,
}

impl Framer {
    /// A framer whose first frame starts with `lead` zero samples (to land the input exactly on a
    /// room time that is not a frame boundary).
    pub fn with_lead(lead: usize) -> Self {
        Framer { frame: vec![0.0; lead] }
    }

    /// Adds samples, handing every completed frame to `on_frame`.
    pub fn push<E>(&mut self, samples: &[f32], mut on_frame: impl FnMut(&[f32]) -> Result<(), E>) -> Result<(), E> {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (FRAME_20MS as usize - self.frame.len()).min(rest.len());
            self.frame.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.frame.len() == FRAME_20MS as usize {
                on_frame(&self.frame)?;
                self.frame.clear();
            }
        }
        Ok(())
    }

    /// Completes the pending frame with zeros (a whole frame of them when none is pending) and
    /// hands it on: how encoders are flushed of their lookahead.
    pub fn pad<E>(&mut self, on_frame: impl FnOnce(&[f32]) -> Result<(), E>) -> Result<(), E> {
        self.frame.resize(FRAME_20MS as usize, 0.0);
        let result = on_frame(&self.frame);
        self.frame.clear();
        result
    }
}

/// libopus encoding 20 ms mono frames, as mono or as the same signal on both stereo channels.
pub struct FrameEncoder {
    encoder: Encoder,
    stereo: bool,
    interleaved: Vec<f32>,
    packet: Vec<u8>,
    /// Samples the encoder delays its output by (removed again by the Ogg pre-skip).
    pub lookahead: u64,
}

impl FrameEncoder {
    pub fn new(stereo: bool, application: Application, bits_per_second: u32) -> Result<Self, opus::Error> {
        let channels = if stereo { Channels::Stereo } else { Channels::Mono };
        let mut encoder = Encoder::new(48_000, channels, application)?;
        encoder.set_bitrate(Bitrate::Bits(bits_per_second as i32))?;
        let lookahead = encoder.get_lookahead()? as u64;
        Ok(FrameEncoder { encoder, stereo, interleaved: Vec::new(), packet: vec![0; 4000], lookahead })
    }

    pub fn channels(&self) -> u8 {
        if self.stereo { 2 } else { 1 }
    }

    /// Encodes one 20 ms mono frame into one packet.
    pub fn encode(&mut self, mono: &[f32]) -> Result<&[u8], opus::Error> {
        let pcm: &[f32] = if self.stereo {
            self.interleaved.clear();
            self.interleaved.extend(mono.iter().flat_map(|&s| [s, s]));
            &self.interleaved
        } else {
            mono
        };
        let n = self.encoder.encode_float(pcm, &mut self.packet)?;
        Ok(&self.packet[..n])
    }

    /// Forgets the signal so far, as if the encoder had just been made.
    pub fn reset(&mut self) -> Result<(), opus::Error> {
        self.encoder.reset_state()
    }
}

/// Encodes mono speech into 20 ms Opus packets. Input sample 0 lands at room time `offset`.
pub struct VoiceEncoder<W: Write> {
    encoder: FrameEncoder,
    writer: TrackWriter<W>,
    framer: Framer,
    previous_silent: bool,
    encoder_dirty: bool,
    /// Input samples received (after the alignment padding).
    pub samples: u64,
    /// Samples fed to the encoder or replaced by silence frames, alignment padding included.
    consumed: u64,
    pad: u64,
    pub speech_frames: u64,
}

impl<W: Write> VoiceEncoder<W> {
    pub fn new(out: W, bitrate: u32, offset_samples: u64, tags: OpusTags, serial: u32) -> Result<Self, EncodeError> {
        let encoder = FrameEncoder::new(false, Application::Voip, bitrate)?;
        let head = OpusHead::new(1, encoder.lookahead as u16);
        let mut writer = TrackWriter::new(out, &head, &tags, serial)?;
        // The encoder delays its input by `lookahead` samples, which pre-skip removes; whole silent
        // frames cover the offset and zero samples the remainder, so sample 0 lands exactly at `offset`.
        let frames = offset_samples / FRAME_20MS;
        writer.fill_silence_to(frames * FRAME_20MS)?;
        let pad = offset_samples % FRAME_20MS;
        Ok(VoiceEncoder {
            encoder,
            writer,
            framer: Framer::with_lead(pad as usize),
            previous_silent: true,
            encoder_dirty: false,
            samples: 0,
            consumed: 0,
            pad,
            speech_frames: 0,
        })
    }

    pub fn push(&mut self, samples: &[f32]) -> Result<(), EncodeError> {
        self.samples += samples.len() as u64;
        let mut framer = std::mem::take(&mut self.framer);
        let result = framer.push(samples, |frame| self.encode_frame(frame));
        self.framer = framer;
        result
    }

    fn encode_frame(&mut self, frame: &[f32]) -> Result<(), EncodeError> {
        let silent = frame.iter().all(|s| s.abs() < SILENCE_LEVEL);
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
                self.encoder.reset()?;
                self.encoder_dirty = false;
            }
            let packet = self.encoder.encode(frame)?;
            self.writer.append(packet)?;
            self.speech_frames += 1;
        }
        self.previous_silent = silent;
        self.consumed += FRAME_20MS;
        Ok(())
    }

    /// Encodes what is left, including the encoder's lookahead, and returns the open track so the
    /// caller can end it at the room's end.
    pub fn finish(mut self) -> Result<TrackWriter<W>, EncodeError> {
        // Encode until the look-ahead samples have come out of the encoder too.
        while self.consumed < self.pad + self.samples + self.encoder.lookahead {
            let mut framer = std::mem::take(&mut self.framer);
            framer.pad(|frame| self.encode_frame(frame))?;
        }
        Ok(self.writer)
    }
}
