//! RTP packets (RFC 3550 §5.1) with header extensions (RFC 8285) and the client-to-mixer audio level
//! (RFC 6464): parsing what arrives and building what `speak` sends. No I/O.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RtpError {
    #[error("datagram of {0} bytes is too short for an RTP header")]
    TooShort(usize),
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    #[error("RTP header runs past the end of the datagram")]
    Truncated,
    #[error("RTP padding of {0} bytes is larger than the payload")]
    Padding(usize),
}

/// A parsed RTP packet borrowing the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub csrcs: Vec<u32>,
    /// RFC 8285 elements (id, data), from one-byte (0xBEDE) or two-byte (0x100x) extension blocks.
    pub extensions: Vec<(u8, &'a [u8])>,
    pub payload: &'a [u8],
}

/// The RFC 6464 client-to-mixer audio level: how loud the sender says this packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioLevel {
    /// Voice activity flag as set by the sender.
    pub voice: bool,
    /// Level in -dBov, 0 (loudest) to 127 (silence).
    pub level: u8,
}

impl<'a> RtpPacket<'a> {
    pub fn parse(b: &'a [u8]) -> Result<Self, RtpError> {
        if b.len() < 12 {
            return Err(RtpError::TooShort(b.len()));
        }
        let version = b[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let padding = b[0] & 0x20 != 0;
        let has_extension = b[0] & 0x10 != 0;
        let csrc_count = (b[0] & 0x0f) as usize;
        let mut at = 12 + 4 * csrc_count;
        if b.len() < at {
            return Err(RtpError::Truncated);
        }
        let csrcs = (0..csrc_count).map(|i| be32(&b[12 + 4 * i..])).collect();
        let mut extensions = Vec::new();
        if has_extension {
            if b.len() < at + 4 {
                return Err(RtpError::Truncated);
            }
            let profile = u16::from_be_bytes([b[at], b[at + 1]]);
            let words = u16::from_be_bytes([b[at + 2], b[at + 3]]) as usize;
            let data = b.get(at + 4..at + 4 + 4 * words).ok_or(RtpError::Truncated)?;
            extensions = parse_extensions(profile, data);
            at += 4 + 4 * words;
        }
        let mut end = b.len();
        if padding {
            let pad = b[end - 1] as usize;
            if pad == 0 || pad > end - at {
                return Err(RtpError::Padding(pad));
            }
            end -= pad;
        }
        Ok(RtpPacket {
            marker: b[1] & 0x80 != 0,
            payload_type: b[1] & 0x7f,
            sequence: u16::from_be_bytes([b[2], b[3]]),
            timestamp: be32(&b[4..]),
            ssrc: be32(&b[8..]),
            csrcs,
            extensions,
            payload: &b[at..end],
        })
    }

    pub fn extension(&self, id: u8) -> Option<&'a [u8]> {
        self.extensions.iter().find(|(i, _)| *i == id).map(|(_, d)| *d)
    }

    pub fn audio_level(&self, id: u8) -> Option<AudioLevel> {
        let data = self.extension(id)?;
        let byte = *data.first()?;
        Some(AudioLevel { voice: byte & 0x80 != 0, level: byte & 0x7f })
    }
}

/// Elements of an RFC 8285 extension block; unknown profiles yield nothing, malformed tails are cut.
fn parse_extensions(profile: u16, data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    if profile == 0xBEDE {
        while i < data.len() {
            let id = data[i] >> 4;
            if id == 0 {
                i += 1; // padding byte
                continue;
            }
            if id == 15 {
                break;
            }
            let len = (data[i] & 0x0f) as usize + 1;
            let Some(value) = data.get(i + 1..i + 1 + len) else { break };
            out.push((id, value));
            i += 1 + len;
        }
    } else if profile & 0xfff0 == 0x1000 {
        while i < data.len() {
            let id = data[i];
            if id == 0 {
                i += 1;
                continue;
            }
            let Some(&len) = data.get(i + 1) else { break };
            let Some(value) = data.get(i + 2..i + 2 + len as usize) else { break };
            out.push((id, value));
            i += 2 + len as usize;
        }
    }
    out
}

pub(crate) fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Builds an RTP packet; with `audio_level`, a one-byte extension block carries it under `level_id`.
pub fn build_rtp(
    payload_type: u8,
    marker: bool,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
    audio_level: Option<(u8, AudioLevel)>,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(20 + payload.len());
    b.push(0x80 | if audio_level.is_some() { 0x10 } else { 0 });
    b.push(payload_type & 0x7f | if marker { 0x80 } else { 0 });
    b.extend_from_slice(&sequence.to_be_bytes());
    b.extend_from_slice(&timestamp.to_be_bytes());
    b.extend_from_slice(&ssrc.to_be_bytes());
    if let Some((id, level)) = audio_level {
        b.extend_from_slice(&[0xBE, 0xDE, 0, 1]);
        b.push(id << 4);
        b.push(level.level.min(127) | if level.voice { 0x80 } else { 0 });
        b.extend_from_slice(&[0, 0]);
    }
    b.extend_from_slice(payload);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_header_fields_and_audio_level() {
        let level = AudioLevel { voice: true, level: 33 };
        let bytes = build_rtp(111, true, 65535, 0xdead_beef, 42, Some((1, level)), b"\xf8\xff\xfe");
        let p = RtpPacket::parse(&bytes).unwrap();
        assert!(p.marker);
        assert_eq!((p.payload_type, p.sequence, p.timestamp, p.ssrc), (111, 65535, 0xdead_beef, 42));
        assert_eq!(p.audio_level(1), Some(level));
        assert_eq!(p.audio_level(2), None);
        assert_eq!(p.payload, b"\xf8\xff\xfe");
    }

    #[test]
    fn reads_csrcs_padding_and_two_byte_extensions() {
        let mut b = vec![0xB1, 111, 0, 7, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 77];
        b.extend_from_slice(&[0x10, 0x00, 0, 1, 3, 1, 0x9e, 0]); // two-byte profile, id 3 len 1
        b.extend_from_slice(&[0xAA, 0xBB, 0, 0, 3]); // payload + 3 bytes padding
        let p = RtpPacket::parse(&b).unwrap();
        assert_eq!(p.csrcs, vec![77]);
        assert_eq!(p.audio_level(3), Some(AudioLevel { voice: true, level: 30 }));
        assert_eq!(p.payload, &[0xAA, 0xBB]);
    }

    #[test]
    fn rejects_malformed_datagrams_without_panicking() {
        assert_eq!(RtpPacket::parse(&[0x80; 5]), Err(RtpError::TooShort(5)));
        assert_eq!(RtpPacket::parse(&[0x40; 12]).unwrap_err(), RtpError::Version(1));
        assert_eq!(RtpPacket::parse(&[0x8F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap_err(), RtpError::Truncated);
        assert_eq!(RtpPacket::parse(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9]).unwrap_err(), RtpError::Padding(9));
        assert_eq!(
            RtpPacket::parse(&[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 9]),
            Err(RtpError::Truncated)
        );
        // Every prefix of a valid packet, and random bytes, parse or fail cleanly.
        let valid = build_rtp(111, false, 1, 2, 3, Some((1, AudioLevel { voice: false, level: 90 })), &[1, 2, 3]);
        for n in 0..valid.len() {
            let _ = RtpPacket::parse(&valid[..n]);
        }
        let mut x = 0x1234_5678u32;
        for _ in 0..10_000 {
            let junk: Vec<u8> = (0..(x % 40) as usize)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x & 0xff) as u8 | 0x80
                })
                .collect();
            let _ = RtpPacket::parse(&junk);
        }
    }
}
