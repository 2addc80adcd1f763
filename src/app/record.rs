//! Recording a live room: which source a room URL means (the registry), and where its session goes.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::sync::watch;

use crate::library::{self, Access, Catalog};
use crate::live::janus::{Credentials, JanusForwardSource, JanusUrl, JanusWebrtcSource};
use crate::live::{RtpSource, parse_rtp_url};
use crate::record::{self, RecordObserver, RecordOptions, RecordReport, RoomSource, SessionPlace};
use crate::rtp::ReceiverConfig;
use crate::session::names;

/// How Janus audio reaches roomcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JanusMedia {
    /// Janus forwards each publisher's audio to a local UDP port (needs the admin key or secret).
    RtpForward,
    /// A WebRTC subscriber, as a browser in the room would be (needs no admin rights).
    Webrtc,
}

/// A room to record, as the user named it.
#[derive(Debug, Clone)]
pub struct RoomSpec {
    /// rtp://ADDRESS:PORT or janus://HOST:PORT/ROOM.
    pub url: String,
    pub media: JanusMedia,
    /// The local address for media: the WebRTC candidate's IP, or where Janus forwards to.
    pub listen: Option<SocketAddr>,
    pub credentials: Credentials,
}

/// The room systems roomcast can join, by URL scheme.
pub fn source_for(room: &RoomSpec) -> Result<Box<dyn RoomSource>> {
    if room.url.starts_with("rtp://") {
        let addr = parse_rtp_url(&room.url).map_err(anyhow::Error::msg)?;
        return Ok(Box::new(RtpSource { addr }));
    }
    if room.url.starts_with("janus://") {
        let url = JanusUrl::parse(&room.url).map_err(anyhow::Error::msg)?;
        let creds = room.credentials.clone();
        if room.media == JanusMedia::Webrtc {
            let ip: Option<IpAddr> = room.listen.map(|l| l.ip());
            return Ok(Box::new(JanusWebrtcSource { url, creds, ip }));
        }
        return Ok(Box::new(JanusForwardSource { url, creds, listen: room.listen }));
    }
    bail!("'{}': the room must be rtp://ADDRESS:PORT or janus://HOST:PORT/ROOM", room.url)
}

#[derive(Debug, Clone)]
pub struct RecordRequest {
    pub room: RoomSpec,
    /// The session folder; `None` records into the library's rooms/, in a folder named by the
    /// room's id.
    pub out: Option<PathBuf>,
    pub title: String,
    pub max_duration: Option<Duration>,
    pub until_empty: bool,
    pub reorder: Duration,
    /// SSRC -> speaker name, for plain RTP senders that do not say their names.
    pub names: Vec<(u32, String)>,
}

/// Where a recording's session goes: the folder asked for, or the library's rooms/ folder (after
/// checking the library can be written, so that is said before the room is joined).
pub fn session_place(out: Option<&Path>, library_dir: &Path) -> Result<SessionPlace> {
    match out {
        Some(dir) => Ok(SessionPlace::At(dir.to_path_buf())),
        None => {
            let lib = library::open(library_dir, Access::Write)?;
            Ok(SessionPlace::NamedByRoom(lib.rooms_dir()))
        }
    }
}

/// Records the room until it ends, the time limit, `until_empty`, or `stop`. Run inside the
/// runtime (`app::runtime`).
pub async fn record(
    request: RecordRequest,
    library_dir: &Path,
    stop: watch::Receiver<bool>,
    observer: &dyn RecordObserver,
) -> Result<RecordReport> {
    let source = source_for(&request.room)?;
    // Names and the title the user gave go into every file of the room: checked before joining.
    let title = names::title(&request.title, "the room's title")?;
    let named = request
        .names
        .iter()
        .map(|(ssrc, name)| Ok((*ssrc, names::speaker_name(name)?)))
        .collect::<Result<Vec<_>, names::NameError>>()?;
    super::runtime::raise_open_file_limit();
    // Off the async threads: a PostgreSQL catalog's client blocks on a runtime of its own.
    let (out, dir) = (request.out.clone(), library_dir.to_path_buf());
    let place = tokio::task::spawn_blocking(move || session_place(out.as_deref(), &dir)).await??;
    let options = RecordOptions {
        out: place,
        title,
        max_duration: request.max_duration,
        until_empty: request.until_empty,
        empty_grace: Duration::from_secs(3),
        receiver: ReceiverConfig { reorder_window: request.reorder, ..Default::default() },
        names: named,
    };
    Ok(record::record(source, options, stop, observer).await?)
}
