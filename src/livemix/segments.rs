//! The live mix as MP3 segments: one continuous LAME encoding (so segments join without a gap or
//! a click), cut into segments of whole frames. Each segment starts with the ID3 PRIV timestamp
//! HLS packed audio asks for; the continuous stream leaves that tag out.
//!
//! Why MP3: every podcast app, browser and VLC plays it, as one continuous stream (Icecast style)
//! and in HLS (packed audio, RFC 8216 section 3.4); AAC needs an encoder roomcast does not carry,
//! and fMP4 Opus is not played by Apple's apps.

use crate::master::MasterError;
use crate::master::sink::{lame_encode, lame_flush, lame_stream};

/// Samples per MPEG-1 Layer III frame.
pub const FRAME_SAMPLES: u64 = 1_152;
/// Frames per segment: 42 frames, 1.008 s at 48 kHz. Short segments keep the continuous stream
/// close to the room (it is read from finished segments) at a few thousand small files an hour.
pub const FRAMES_PER_SEGMENT: usize = 42;

/// Seconds of audio in a segment.
pub fn segment_seconds() -> f64 {
    (FRAME_SAMPLES * FRAMES_PER_SEGMENT as u64) as f64 / 48_000.0
}

/// The length of the MPEG-1/2 Layer III frame that starts `bytes`, if one does.
pub fn frame_len(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (bytes[1] >> 3) & 0b11; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    let layer = (bytes[1] >> 1) & 0b11; // 1: Layer III
    let bitrate_index = (bytes[2] >> 4) as usize;
    let rate_index = ((bytes[2] >> 2) & 0b11) as usize;
    let padding = ((bytes[2] >> 1) & 1) as usize;
    if layer != 1 || version == 1 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const MPEG1: [usize; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const MPEG2: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let (kbps, rate, per_frame) = match version {
        3 => (MPEG1[bitrate_index], [44_100, 48_000, 32_000][rate_index], 144),
        2 => (MPEG2[bitrate_index], [22_050, 24_000, 16_000][rate_index], 72),
        _ => (MPEG2[bitrate_index], [11_025, 12_000, 8_000][rate_index], 72),
    };
    Some(per_frame * kbps * 1000 / rate + padding)
}

/// The ID3v2.4 tag HLS packed audio starts each segment with: a PRIV frame
/// `com.apple.streaming.transportStreamTimestamp` holding the segment's first sample as a 33-bit
/// 90 kHz timestamp.
pub fn timestamp_tag(room_sample: u64) -> Vec<u8> {
    let ts = (room_sample * 90_000 / 48_000) & ((1u64 << 33) - 1);
    let mut frame = b"com.apple.streaming.transportStreamTimestamp\0".to_vec();
    frame.extend_from_slice(&ts.to_be_bytes());
    let syncsafe = |n: usize| [(n >> 21) as u8 & 0x7F, (n >> 14) as u8 & 0x7F, (n >> 7) as u8 & 0x7F, n as u8 & 0x7F];
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe(10 + frame.len()));
    tag.extend_from_slice(b"PRIV");
    tag.extend_from_slice(&syncsafe(frame.len()));
    tag.extend_from_slice(&[0, 0]);
    tag.extend_from_slice(&frame);
    tag
}

/// The length of the ID3v2 tag `bytes` starts with (0 without one).
pub fn id3_len(bytes: &[u8]) -> usize {
    if bytes.len() < 10 || &bytes[..3] != b"ID3" {
        return 0;
    }
    let size = bytes[6..10].iter().fold(0usize, |n, &b| (n << 7) | (b & 0x7F) as usize);
    (10 + size).min(bytes.len())
}

/// A finished segment: its number and bytes (the tag and its frames).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub number: u64,
    pub bytes: Vec<u8>,
}

/// Encodes the mix and cuts it into segments.
pub struct Segmenter {
    encoder: mp3lame_encoder::Encoder,
    /// Encoded bytes not yet cut into frames.
    pending: Vec<u8>,
    /// Frames of the segment being filled.
    frames: Vec<u8>,
    frame_count: usize,
    next: u64,
    /// Room sample where the mix (and so segment 0) starts.
    origin: u64,
}

impl Segmenter {
    pub fn new(kbps: u32, origin: u64) -> Result<Segmenter, MasterError> {
        Ok(Segmenter {
            encoder: lame_stream(false, kbps)?,
            pending: Vec::new(),
            frames: Vec::new(),
            frame_count: 0,
            next: 0,
            origin,
        })
    }

    /// Encodes mono 48 kHz samples; returns the segments they completed.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<Segment>, MasterError> {
        if !samples.is_empty() {
            lame_encode(&mut self.encoder, false, samples, &mut self.pending)?;
        }
        Ok(self.cut(false))
    }

    /// The end: the encoder's last frames, and the last (shorter) segment.
    pub fn finish(&mut self) -> Result<Vec<Segment>, MasterError> {
        lame_flush(&mut self.encoder, &mut self.pending)?;
        Ok(self.cut(true))
    }

    fn cut(&mut self, last: bool) -> Vec<Segment> {
        let mut done = Vec::new();
        let mut at = 0;
        while let Some(len) = self.pending.get(at..).and_then(frame_len) {
            if at + len > self.pending.len() {
                break;
            }
            self.frames.extend_from_slice(&self.pending[at..at + len]);
            self.frame_count += 1;
            at += len;
            if self.frame_count == FRAMES_PER_SEGMENT {
                done.push(self.close());
            }
        }
        // Bytes that are not a frame start (there should be none): skipped to the next sync.
        if at < self.pending.len() && self.pending.get(at..).and_then(frame_len).is_none() {
            let skip =
                self.pending[at + 1..].iter().position(|&b| b == 0xFF).map_or(self.pending.len(), |p| at + 1 + p);
            if last || skip < self.pending.len() {
                at = skip;
            }
        }
        self.pending.drain(..at);
        if last && self.frame_count > 0 {
            done.push(self.close());
        }
        done
    }

    fn close(&mut self) -> Segment {
        let first_sample = self.origin + self.next * FRAME_SAMPLES * FRAMES_PER_SEGMENT as u64;
        let mut bytes = timestamp_tag(first_sample);
        bytes.append(&mut self.frames);
        self.frame_count = 0;
        let segment = Segment { number: self.next, bytes };
        self.next += 1;
        segment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_is_cut_into_whole_frames_a_second_each_behind_a_timestamp_tag() {
        let mut s = Segmenter::new(64, 0).unwrap();
        let tone: Vec<f32> = (0..48_000 * 3).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect();
        let mut segments = s.push(&tone).unwrap();
        segments.extend(s.finish().unwrap());
        assert!(segments.len() >= 3, "{}", segments.len());
        for (n, seg) in segments.iter().enumerate() {
            assert_eq!(seg.number, n as u64);
            let tag = id3_len(&seg.bytes);
            assert!(tag > 0 && seg.bytes[tag..].len() > 100);
            // Every byte after the tag is whole frames.
            let mut at = tag;
            let mut frames = 0;
            while at < seg.bytes.len() {
                at += frame_len(&seg.bytes[at..]).expect("a frame");
                frames += 1;
            }
            assert_eq!(at, seg.bytes.len());
            if n + 1 < segments.len() {
                assert_eq!(frames, FRAMES_PER_SEGMENT);
            }
        }
        // Segment 2's timestamp: 2 x 42 x 1152 samples, at 90 kHz.
        let tag = &segments[2].bytes;
        let ts = u64::from_be_bytes(tag[tag.len().min(id3_len(tag)) - 8..id3_len(tag)].try_into().unwrap());
        assert_eq!(ts, 2 * 42 * 1152 * 90_000 / 48_000);
    }
}
