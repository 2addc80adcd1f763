//! The Opus-specific parts of an Ogg Opus file (RFC 7845) and of Opus packets (RFC 6716 §3.1).

use thiserror::Error;

/// A 20 ms CELT frame that decodes to silence, mono (TOC 0xF8) and stereo (TOC 0xFC).
/// Used to fill gaps so that every track stays on the room clock; RFC 6716 forbids empty packets.
pub const SILENCE_MONO: [u8; 3] = [0xF8, 0xFF, 0xFE];
pub const SILENCE_STEREO: [u8; 3] = [0xFC, 0xFF, 0xFE];
/// Samples in a 20 ms frame at 48 kHz, the unit of silence filling.
pub const FRAME_20MS: u64 = 960;
pub const SAMPLE_RATE: u32 = 48_000;

pub fn silence_frame(channels: u8) -> &'static [u8] {
    if channels >= 2 { &SILENCE_STEREO } else { &SILENCE_MONO }
}

/// True for the 3-byte silence frames this crate writes (and Janus/WebRTC stacks send).
pub fn is_silence_frame(packet: &[u8]) -> bool {
    packet == SILENCE_MONO || packet == SILENCE_STEREO
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PacketError {
    #[error("empty Opus packet")]
    Empty,
    #[error("Opus packet with code 3 has no frame count byte")]
    MissingFrameCount,
    #[error("Opus packet declares {0} frames")]
    BadFrameCount(u8),
    #[error("Opus packet lasts {0} samples, over the 120 ms limit")]
    TooLong(u32),
}

/// Number of 48 kHz samples an Opus packet decodes to, from its TOC byte (RFC 6716 §3.1).
pub fn packet_samples(packet: &[u8]) -> Result<u32, PacketError> {
    let toc = *packet.first().ok_or(PacketError::Empty)?;
    let config = toc >> 3;
    let frame = match config {
        // SILK-only: 10, 20, 40, 60 ms
        0..=11 => [480, 960, 1920, 2880][(config % 4) as usize],
        // Hybrid: 10, 20 ms
        12..=15 => [480, 960][(config % 2) as usize],
        // CELT-only: 2.5, 5, 10, 20 ms
        _ => [120, 240, 480, 960][(config % 4) as usize],
    };
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => {
            let count = packet.get(1).ok_or(PacketError::MissingFrameCount)? & 0x3f;
            if count == 0 {
                return Err(PacketError::BadFrameCount(count));
            }
            count as u32
        }
    };
    let total = frame * frames;
    if total > 5760 {
        return Err(PacketError::TooLong(total));
    }
    Ok(total)
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("not an Opus stream (first packet is not an OpusHead)")]
    NotOpus,
    #[error("OpusHead is {0} bytes, shorter than 19")]
    ShortHead(usize),
    #[error("unsupported Ogg Opus version {0}")]
    Version(u8),
    #[error("Ogg Opus with {0} channels (mapping family {1}) is not supported: a speaker track is mono or stereo")]
    Channels(u8, u8),
    #[error("second packet is not OpusTags")]
    NoTags,
    #[error("OpusTags is malformed")]
    BadTags,
}

/// Identification header (RFC 7845 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    pub channels: u8,
    /// Decoded samples to discard at the start: the encoder's lookahead. Room time 0 is after them.
    pub pre_skip: u16,
    pub input_sample_rate: u32,
    /// Q7.8 dB gain the decoder applies.
    pub output_gain: i16,
}

impl OpusHead {
    pub fn new(channels: u8, pre_skip: u16) -> Self {
        OpusHead { channels, pre_skip, input_sample_rate: SAMPLE_RATE, output_gain: 0 }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(19);
        b.extend_from_slice(b"OpusHead");
        b.push(1);
        b.push(self.channels);
        b.extend_from_slice(&self.pre_skip.to_le_bytes());
        b.extend_from_slice(&self.input_sample_rate.to_le_bytes());
        b.extend_from_slice(&self.output_gain.to_le_bytes());
        b.push(0); // channel mapping family 0: mono or stereo, no table
        b
    }

    pub fn parse(b: &[u8]) -> Result<Self, HeaderError> {
        if !b.starts_with(b"OpusHead") {
            return Err(HeaderError::NotOpus);
        }
        if b.len() < 19 {
            return Err(HeaderError::ShortHead(b.len()));
        }
        // RFC 7845: the major version is the upper four bits; minor versions stay compatible.
        if b[8] >> 4 != 0 {
            return Err(HeaderError::Version(b[8]));
        }
        let (channels, family) = (b[9], b[18]);
        if channels == 0 || channels > 2 || family > 1 {
            return Err(HeaderError::Channels(channels, family));
        }
        Ok(OpusHead {
            channels,
            pre_skip: u16::from_le_bytes([b[10], b[11]]),
            input_sample_rate: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            output_gain: i16::from_le_bytes([b[16], b[17]]),
        })
    }
}

/// Comment header (RFC 7845 §5.2): vendor string and `KEY=value` comments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpusTags {
    pub vendor: String,
    pub comments: Vec<(String, String)>,
}

impl OpusTags {
    pub fn new(vendor: impl Into<String>) -> Self {
        OpusTags { vendor: vendor.into(), comments: Vec::new() }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.comments.push((key.to_ascii_uppercase(), value.into()));
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.comments.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }

    /// These tags in at most `max_bytes`: as they are when they fit, else with every value cut
    /// to the longest length that lets them fit (whole characters, marked with '…'), and as a
    /// last resort without the comments at the end. Names and titles are bounded, but a room can
    /// have many of them (a thousand speakers, chapters): a header that cannot be written would
    /// cost the whole file.
    pub fn fitted(&self, max_bytes: usize) -> OpusTags {
        if self.to_bytes().len() <= max_bytes {
            return self.clone();
        }
        let cut = |value: &str, limit: usize| -> String {
            if value.len() <= limit {
                return value.to_string();
            }
            let mut end = limit.saturating_sub('…'.len_utf8());
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…", &value[..end])
        };
        let mut limit = max_bytes;
        while limit > 16 {
            limit /= 2;
            let tags = OpusTags {
                vendor: cut(&self.vendor, limit.max(64)),
                comments: self.comments.iter().map(|(k, v)| (k.clone(), cut(v, limit))).collect(),
            };
            if tags.to_bytes().len() <= max_bytes {
                return tags;
            }
        }
        let mut tags = OpusTags {
            vendor: cut(&self.vendor, 64),
            comments: self.comments.iter().map(|(k, v)| (k.clone(), cut(v, 16))).collect(),
        };
        while tags.to_bytes().len() > max_bytes && tags.comments.pop().is_some() {}
        tags
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"OpusTags");
        b.extend_from_slice(&(self.vendor.len() as u32).to_le_bytes());
        b.extend_from_slice(self.vendor.as_bytes());
        b.extend_from_slice(&(self.comments.len() as u32).to_le_bytes());
        for (k, v) in &self.comments {
            let entry = format!("{k}={v}");
            b.extend_from_slice(&(entry.len() as u32).to_le_bytes());
            b.extend_from_slice(entry.as_bytes());
        }
        b
    }

    pub fn parse(b: &[u8]) -> Result<Self, HeaderError> {
        if !b.starts_with(b"OpusTags") {
            return Err(HeaderError::NoTags);
        }
        fn take_u32(b: &[u8], pos: &mut usize) -> Result<u32, HeaderError> {
            let bytes = b.get(*pos..*pos + 4).ok_or(HeaderError::BadTags)?;
            *pos += 4;
            Ok(u32::from_le_bytes(bytes.try_into().map_err(|_| HeaderError::BadTags)?))
        }
        fn take_str(b: &[u8], pos: &mut usize) -> Result<String, HeaderError> {
            let len = take_u32(b, pos)? as usize;
            let s = b.get(*pos..pos.saturating_add(len)).ok_or(HeaderError::BadTags)?;
            *pos += len;
            Ok(String::from_utf8_lossy(s).into_owned())
        }
        let mut pos = 8;
        let vendor = take_str(b, &mut pos)?;
        let count = take_u32(b, &mut pos)?;
        let mut comments = Vec::new();
        for _ in 0..count {
            let entry = take_str(b, &mut pos)?;
            if let Some((k, v)) = entry.split_once('=') {
                comments.push((k.to_string(), v.to_string()));
            }
        }
        Ok(OpusTags { vendor, comments })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_durations_follow_the_toc_byte() {
        assert_eq!(packet_samples(&SILENCE_MONO), Ok(960));
        assert_eq!(packet_samples(&[0x08 | 0x01, 0, 0]), Ok(1920)); // SILK 20 ms, two frames
        assert_eq!(packet_samples(&[0x18, 0]), Ok(2880)); // SILK 60 ms
        assert_eq!(packet_samples(&[0x80 | 0x03, 0x04]), Ok(480)); // CELT 2.5 ms x 4
        assert_eq!(packet_samples(&[]), Err(PacketError::Empty));
        assert_eq!(packet_samples(&[0x03]), Err(PacketError::MissingFrameCount));
        assert_eq!(packet_samples(&[0x1b, 0x03]), Err(PacketError::TooLong(8640)));
    }

    #[test]
    fn tags_always_fit_the_room_given_whatever_names_and_chapters() {
        let max = 255 * 255 - 1;
        let small = OpusTags::new("v").with("TITLE", "Room");
        assert_eq!(small.fitted(max), small);
        let mut many = OpusTags::new("roomcast").with("ARTIST", "é".repeat(60_000)).with("TITLE", "Room");
        for i in 0..2000 {
            many = many.with(&format!("CHAPTER{i:03}NAME"), "a chapter title ".repeat(20));
        }
        let fitted = many.fitted(max);
        assert!(fitted.to_bytes().len() <= max);
        assert_eq!(OpusTags::parse(&fitted.to_bytes()).unwrap(), fitted, "still valid comments");
        assert!(fitted.get("ARTIST").unwrap().ends_with('…'));
        assert_eq!(fitted.get("TITLE"), Some("Room"));
    }

    #[test]
    fn headers_round_trip() {
        let head = OpusHead::new(1, 312);
        assert_eq!(OpusHead::parse(&head.to_bytes()), Ok(head));
        let tags = OpusTags::new("roomcast").with("title", "Room").with("ARTIST", "Ada = Lovelace");
        let back = OpusTags::parse(&tags.to_bytes()).unwrap();
        assert_eq!(back.get("Title"), Some("Room"));
        assert_eq!(back.get("artist"), Some("Ada = Lovelace"));
        assert_eq!(OpusTags::parse(b"OpusTags\xff\xff\xff\xff"), Err(HeaderError::BadTags));
    }
}
