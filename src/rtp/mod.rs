//! Live audio over RTP: packet and RTCP codecs, the sans-I/O receiver that turns datagrams into
//! per-speaker packets on the room clock, and the sender used by `speak` and the load generator.

pub mod packet;
pub mod peers;
pub mod receiver;
pub mod rtcp;
pub mod sender;

pub use receiver::{Output, Receiver, ReceiverConfig, ReceiverStats, SourceStats, SpeakerKey};
