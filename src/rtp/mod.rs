//! Live audio over RTP: packet and RTCP codecs, the sans-I/O receiver that turns datagrams into
//! per-speaker packets on the room clock, and the sender used by `speak` and the load generator.

pub mod packet;
pub mod peers;
pub mod receiver;
pub mod rtcp;
pub mod sender;

pub use receiver::{Output, Receiver, ReceiverConfig, ReceiverStats, SourceStats, SpeakerKey};

/// An SSRC for our own receiver reports: random enough not to collide with the senders'.
pub fn rand_ssrc() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (nanos as u32) ^ (std::process::id().rotate_left(16)) | 1
}
