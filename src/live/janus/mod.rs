//! Janus VideoRoom (janus://HOST:PORT/ROOM): the HTTP client, and the three ways roomcast takes part
//! in a room: the WebRTC subscriber and the rtp_forward source the recorder listens through, and the
//! remote publisher `speak` talks through.
//!
//! Facts this relies on were measured against Janus 1.1.2 (tests/janus/NOTES.md): replies to
//! synchronous requests come back in the POST as `success` with `plugindata.data` (which may hold an
//! `error_code`); `join` is acknowledged and answered on the long poll; forwarded RTP keeps the
//! publisher's sequence numbers and header extensions, and Janus sends no sender reports.

pub mod client;
pub mod forward;
pub mod publisher;
pub mod subscriber;

pub use client::{Credentials, JanusClient, JanusError, JanusUrl};
pub use forward::JanusForwardSource;
pub use publisher::{REMOTE_PUBLISHER_SSRC, RemotePublisher};
pub use subscriber::JanusWebrtcSource;
