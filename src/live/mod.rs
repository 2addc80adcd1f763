//! Live rooms: the sources the recorder listens through (plain RTP, Janus by WebRTC or
//! rtp_forward), and `speak`, which talks into a room the way a live speaker would.
//!
//! Every source turns a room system into the recorder's input (`record::RoomSource`): RTP
//! datagrams, and where it knows them, speaker names per SSRC and the end of the room.

pub mod janus;
pub mod recv;
pub mod rtp;
pub mod speak;

pub use rtp::{RtpSource, parse_rtp_url};
