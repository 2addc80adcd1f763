//! The sans-I/O RTP/RTCP receiver: any sequence of datagrams at any times, never a panic or an
//! unbounded buffer. Input: records of [2-byte length][2-byte milliseconds since the last][bytes].
use std::time::Duration;

use roomcast::rtp::{Receiver, ReceiverConfig};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let mut receiver = Receiver::new(ReceiverConfig::default(), 1);
        let (mut rest, mut now) = (data, Duration::ZERO);
        while rest.len() >= 4 {
            let len = u16::from_le_bytes([rest[0], rest[1]]) as usize % 1500;
            now += Duration::from_millis(u16::from_le_bytes([rest[2], rest[3]]) as u64 % 2000);
            rest = &rest[4..];
            let datagram = &rest[..len.min(rest.len())];
            rest = &rest[datagram.len()..];
            receiver.handle_datagram(datagram, now);
            receiver.handle_timeout(now);
            while receiver.poll_output().is_some() {}
            let _ = receiver.receiver_report(now);
        }
        receiver.finish(now + Duration::from_secs(120));
        while receiver.poll_output().is_some() {}
        assert!(receiver.source_count() <= roomcast::rtp::receiver::MAX_SOURCES);
    });
}
