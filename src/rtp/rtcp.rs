//! RTCP (RFC 3550 §6): sender reports for NTP <-> RTP mapping, SDES for names, BYE for departures,
//! receiver reports out. Compound packets are parsed leniently: what is well-formed is kept.

use super::packet::be32;

/// RTP and RTCP sharing one port (RFC 5761): RTCP packet types 192-223 sit where RTP's marker bit and
/// payload type would be.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 8 && datagram[0] >> 6 == 2 && (192..=223).contains(&datagram[1])
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rtcp {
    SenderReport(SenderReport),
    ReceiverReport { ssrc: u32, reports: Vec<ReportBlock> },
    Sdes(Vec<SdesChunk>),
    Bye(Vec<u32>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport {
    pub ssrc: u32,
    /// NTP timestamp, 32.32 fixed point seconds since 1900.
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    pub ssrc: u32,
    pub cname: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    pub fraction_lost: u8,
    /// 24-bit signed cumulative loss, clamped.
    pub cumulative_lost: i32,
    pub highest_sequence: u32,
    pub jitter: u32,
    pub last_sr: u32,
    pub delay_since_last_sr: u32,
}

/// Parses a compound RTCP packet. Returns `None` when not even the first header is valid.
pub fn parse(mut b: &[u8]) -> Option<Vec<Rtcp>> {
    let mut out = Vec::new();
    let mut first = true;
    while b.len() >= 4 {
        if b[0] >> 6 != 2 {
            break;
        }
        let count = (b[0] & 0x1f) as usize;
        let pt = b[1];
        let len = (u16::from_be_bytes([b[2], b[3]]) as usize + 1) * 4;
        let Some(body) = b.get(4..len) else { break };
        match pt {
            200 if body.len() >= 24 => out.push(Rtcp::SenderReport(SenderReport {
                ssrc: be32(body),
                ntp: (be32(&body[4..]) as u64) << 32 | be32(&body[8..]) as u64,
                rtp_timestamp: be32(&body[12..]),
                packets: be32(&body[16..]),
                octets: be32(&body[20..]),
            })),
            201 if body.len() >= 4 => {
                let reports = body[4..].chunks_exact(24).take(count).map(parse_block).collect();
                out.push(Rtcp::ReceiverReport { ssrc: be32(body), reports });
            }
            202 => out.push(Rtcp::Sdes(parse_sdes(body, count))),
            203 => out.push(Rtcp::Bye(body.chunks_exact(4).take(count).map(be32).collect())),
            _ => {}
        }
        first = false;
        b = &b[len..];
    }
    if first { None } else { Some(out) }
}

fn parse_block(b: &[u8]) -> ReportBlock {
    let lost = (be32(&b[4..]) & 0x00ff_ffff) as i32;
    ReportBlock {
        ssrc: be32(b),
        fraction_lost: b[4],
        cumulative_lost: if lost & 0x0080_0000 != 0 { lost - 0x0100_0000 } else { lost },
        highest_sequence: be32(&b[8..]),
        jitter: be32(&b[12..]),
        last_sr: be32(&b[16..]),
        delay_since_last_sr: be32(&b[20..]),
    }
}

fn parse_sdes(mut b: &[u8], count: usize) -> Vec<SdesChunk> {
    let mut chunks = Vec::new();
    while chunks.len() < count && b.len() >= 4 {
        let mut chunk = SdesChunk { ssrc: be32(b), ..Default::default() };
        let mut i = 4;
        while i < b.len() && b[i] != 0 {
            let Some(&len) = b.get(i + 1) else { break };
            let Some(text) = b.get(i + 2..i + 2 + len as usize) else { break };
            let text = String::from_utf8_lossy(text).trim().to_string();
            match b[i] {
                1 => chunk.cname = Some(text),
                2 => chunk.name = Some(text),
                _ => {}
            }
            i += 2 + len as usize;
        }
        // The item list ends with a zero byte, then pads to a 32-bit boundary.
        let next = (i + 4) & !3;
        chunks.push(chunk);
        b = b.get(next..).unwrap_or(&[]);
    }
    chunks
}

fn header(count: usize, pt: u8, body_len: usize) -> [u8; 4] {
    let words = (body_len / 4) as u16; // length field = total words - 1 = body words
    let w = words.to_be_bytes();
    [0x80 | count as u8, pt, w[0], w[1]]
}

pub fn build_sender_report(sr: &SenderReport) -> Vec<u8> {
    let mut body = Vec::with_capacity(24);
    body.extend_from_slice(&sr.ssrc.to_be_bytes());
    body.extend_from_slice(&sr.ntp.to_be_bytes());
    body.extend_from_slice(&sr.rtp_timestamp.to_be_bytes());
    body.extend_from_slice(&sr.packets.to_be_bytes());
    body.extend_from_slice(&sr.octets.to_be_bytes());
    let mut out = header(0, 200, body.len()).to_vec();
    out.extend(body);
    out
}

pub fn build_receiver_report(ssrc: u32, blocks: &[ReportBlock]) -> Vec<u8> {
    let blocks = &blocks[..blocks.len().min(31)];
    let mut body = ssrc.to_be_bytes().to_vec();
    for r in blocks {
        body.extend_from_slice(&r.ssrc.to_be_bytes());
        let lost = (r.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        body.extend_from_slice(&((r.fraction_lost as u32) << 24 | lost).to_be_bytes());
        body.extend_from_slice(&r.highest_sequence.to_be_bytes());
        body.extend_from_slice(&r.jitter.to_be_bytes());
        body.extend_from_slice(&r.last_sr.to_be_bytes());
        body.extend_from_slice(&r.delay_since_last_sr.to_be_bytes());
    }
    let mut out = header(blocks.len(), 201, body.len()).to_vec();
    out.extend(body);
    out
}

/// One SDES chunk with CNAME and, when given, NAME.
pub fn build_sdes(ssrc: u32, cname: &str, name: Option<&str>) -> Vec<u8> {
    let mut body = ssrc.to_be_bytes().to_vec();
    for (kind, text) in [(1u8, Some(cname)), (2, name)] {
        if let Some(text) = text {
            let text = &text.as_bytes()[..text.len().min(255)];
            body.push(kind);
            body.push(text.len() as u8);
            body.extend_from_slice(text);
        }
    }
    body.push(0);
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let mut out = header(1, 202, body.len()).to_vec();
    out.extend(body);
    out
}

pub fn build_bye(ssrc: u32) -> Vec<u8> {
    let mut out = header(1, 203, 4).to_vec();
    out.extend_from_slice(&ssrc.to_be_bytes());
    out
}

/// NTP seconds (since 1900) as 32.32 fixed point.
pub fn ntp_from_secs(secs: f64) -> u64 {
    (secs * 4_294_967_296.0) as u64
}

pub fn ntp_to_secs(ntp: u64) -> f64 {
    ntp as f64 / 4_294_967_296.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_sender_report_sdes_and_bye_round_trip() {
        let sr =
            SenderReport { ssrc: 9, ntp: ntp_from_secs(3_900_000_000.25), rtp_timestamp: 480, packets: 3, octets: 99 };
        let mut compound = build_sender_report(&sr);
        compound.extend(build_sdes(9, "maya@host", Some("Maya")));
        compound.extend(build_bye(9));
        assert!(is_rtcp(&compound));
        let parsed = parse(&compound).unwrap();
        assert_eq!(
            parsed,
            vec![
                Rtcp::SenderReport(sr),
                Rtcp::Sdes(vec![SdesChunk { ssrc: 9, cname: Some("maya@host".into()), name: Some("Maya".into()) }]),
                Rtcp::Bye(vec![9]),
            ]
        );
    }

    #[test]
    fn receiver_report_round_trips_negative_loss() {
        let block = ReportBlock {
            ssrc: 5,
            fraction_lost: 12,
            cumulative_lost: -3,
            highest_sequence: 70_000,
            jitter: 44,
            last_sr: 1,
            delay_since_last_sr: 2,
        };
        let rr = build_receiver_report(77, &[block]);
        assert_eq!(parse(&rr).unwrap(), vec![Rtcp::ReceiverReport { ssrc: 77, reports: vec![block] }]);
    }

    #[test]
    fn rtp_with_marker_is_not_mistaken_for_rtcp_and_junk_is_refused() {
        let rtp = super::super::packet::build_rtp(111, true, 1, 1, 1, None, &[0xf8]);
        assert!(!is_rtcp(&rtp));
        assert_eq!(parse(&[0x00, 200, 0, 6]), None);
        // A length field pointing past the end stops the walk without a panic.
        assert_eq!(parse(&[0x81, 202, 0xff, 0xff, 0, 0, 0, 1]), None);
        for n in 0..40 {
            let sdes = build_sdes(1, "a-long-cname-to-cut@example.org", Some("Name"));
            let _ = parse(&sdes[..n.min(sdes.len())]);
        }
    }
}
