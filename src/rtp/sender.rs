//! The sending side, sans I/O: turns a speaker's Opus packets (with their positions) into RTP with
//! the audio-level extension, plus RTCP sender reports, SDES and BYE. `speak` and the load generator
//! put the datagrams on the wire at the right times.

use super::packet::{AudioLevel, build_rtp};
use super::rtcp::{self, SenderReport};

/// Dynamic payload type used for Opus (what browsers and Janus use).
pub const OPUS_PT: u8 = 111;
/// Extension id of the RFC 6464 audio level in what we send (and expect by default).
pub const AUDIO_LEVEL_ID: u8 = 1;

pub struct RtpStream {
    pub ssrc: u32,
    sequence: u16,
    ts_base: u32,
    cname: String,
    name: String,
    packets: u32,
    octets: u32,
    /// Whether the previous packet was skipped as silence: the next one starts a talk spurt.
    after_gap: bool,
}

impl RtpStream {
    pub fn new(ssrc: u32, first_sequence: u16, ts_base: u32, cname: &str, name: &str) -> Self {
        RtpStream {
            ssrc,
            sequence: first_sequence,
            ts_base,
            cname: cname.to_string(),
            name: name.to_string(),
            packets: 0,
            octets: 0,
            after_gap: true,
        }
    }

    /// The RTP packet for a payload starting `pos` samples into the stream. The marker bit flags the
    /// first packet of a talk spurt (RFC 3551), as after a DTX gap.
    pub fn packet(&mut self, pos: u64, payload: &[u8], level: AudioLevel) -> Vec<u8> {
        let ts = self.ts_base.wrapping_add(pos as u32);
        let bytes =
            build_rtp(OPUS_PT, self.after_gap, self.sequence, ts, self.ssrc, Some((AUDIO_LEVEL_ID, level)), payload);
        self.after_gap = false;
        self.sequence = self.sequence.wrapping_add(1);
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload.len() as u32);
        bytes
    }

    /// A silent stretch not sent (DTX).
    pub fn skip(&mut self) {
        self.after_gap = true;
    }

    /// Compound RTCP: a sender report pairing `pos` with the wall clock (`unix_secs`), and SDES.
    pub fn report(&self, pos: u64, unix_secs: f64) -> Vec<u8> {
        let mut out = rtcp::build_sender_report(&SenderReport {
            ssrc: self.ssrc,
            ntp: rtcp::ntp_from_secs(unix_secs + 2_208_988_800.0),
            rtp_timestamp: self.ts_base.wrapping_add(pos as u32),
            packets: self.packets,
            octets: self.octets,
        });
        out.extend(rtcp::build_sdes(self.ssrc, &self.cname, Some(&self.name)));
        out
    }

    pub fn bye(&self) -> Vec<u8> {
        let mut out = rtcp::build_receiver_report(self.ssrc, &[]);
        out.extend(rtcp::build_bye(self.ssrc));
        out
    }
}

/// RFC 6464 level of 48 kHz samples: -dBov of their RMS, 0 (full scale) to 127 (silence).
pub fn level_of(samples: &[f32]) -> u8 {
    if samples.is_empty() {
        return 127;
    }
    let mean = samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32;
    if mean <= 0.0 {
        return 127;
    }
    (-10.0 * mean.log10()).round().clamp(0.0, 127.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::packet::RtpPacket;

    #[test]
    fn packets_carry_level_marker_and_advancing_numbers() {
        let mut s = RtpStream::new(7, 65535, u32::MAX - 100, "a@b", "A");
        let first = s.packet(0, &[0xF8, 1], AudioLevel { voice: true, level: 20 });
        let second = s.packet(960, &[0xF8, 2], AudioLevel { voice: true, level: 30 });
        let (a, b) = (RtpPacket::parse(&first).unwrap(), RtpPacket::parse(&second).unwrap());
        assert!(a.marker && !b.marker);
        assert_eq!((a.sequence, b.sequence), (65535, 0));
        assert_eq!(b.timestamp, (u32::MAX - 100).wrapping_add(960));
        assert_eq!(b.audio_level(AUDIO_LEVEL_ID).unwrap().level, 30);
    }

    #[test]
    fn level_is_minus_dbov() {
        assert_eq!(level_of(&[0.0; 960]), 127);
        assert_eq!(level_of(&[1.0; 960]), 0);
        assert_eq!(level_of(&[0.1; 960]), 20);
    }
}
