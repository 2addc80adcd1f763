//! Plain RTP/Opus on a UDP port: one speaker per SSRC, names from RTCP SDES or `--speaker`. RTCP is
//! taken on the same port (RFC 5761 multiplexing) and on the next one up (RFC 3550's default), so
//! ffmpeg, GStreamer, Janus' rtp_forward and mediasoup's PlainTransport senders all work as they are.

use std::net::SocketAddr;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::recv;
use crate::record::{RecordError, RoomSource, SourceEvent, SourceFuture, SourceIo};

pub struct RtpSource {
    pub addr: SocketAddr,
}

/// Parses `rtp://HOST:PORT` (HOST an IP address; `0.0.0.0` listens on every interface).
pub fn parse_rtp_url(url: &str) -> Result<SocketAddr, String> {
    let rest = url.strip_prefix("rtp://").ok_or_else(|| format!("'{url}' is not an rtp:// URL"))?;
    let rest = rest.trim_end_matches('/');
    rest.parse().map_err(|_| format!("'{url}': expected rtp://ADDRESS:PORT, e.g. rtp://127.0.0.1:5004"))
}

impl RoomSource for RtpSource {
    fn url(&self) -> String {
        format!("rtp://{}", self.addr)
    }

    fn run(self: Box<Self>, io: SourceIo) -> SourceFuture {
        Box::pin(self.listen(io))
    }
}

impl RtpSource {
    async fn listen(self: Box<Self>, io: SourceIo) -> Result<(), RecordError> {
        let SourceIo { events, mut outgoing, mut stop } = io;
        let bind_err =
            |addr: SocketAddr, e: std::io::Error| RecordError::Source(format!("cannot listen on {addr}: {e}"));
        let rtp = UdpSocket::bind(self.addr).map_err(|e| bind_err(self.addr, e))?;
        let local = rtp.local_addr().map_err(|e| bind_err(self.addr, e))?;
        recv::enlarge_receive_buffer(&rtp);
        // The RTCP port is a courtesy: if it is taken, RTCP multiplexed on the RTP port still works.
        let rtcp_addr = SocketAddr::new(local.ip(), local.port().wrapping_add(1));
        let rtcp = UdpSocket::bind(rtcp_addr).ok();
        if rtcp.is_none() {
            let _ = events
                .send(SourceEvent::Warning(format!("RTCP port {rtcp_addr} is taken; RTCP only on {local}")))
                .await;
        }
        // Receiver reports leave from the socket RTCP arrives on.
        let sender = rtcp.as_ref().unwrap_or(&rtp).try_clone().map_err(|e| bind_err(local, e))?;
        let _ = events.send(SourceEvent::Ready(format!("rtp://{local}"))).await;
        let stop_flag = Arc::new(AtomicBool::new(false));
        let sockets = std::iter::once(rtp).chain(rtcp).collect();
        let thread = recv::spawn(sockets, events, stop_flag.clone());
        loop {
            tokio::select! {
                Some((bytes, to)) = outgoing.recv() => {
                    let _ = sender.send_to(&bytes, to);
                }
                _ = stop.changed() => break,
            }
        }
        stop_flag.store(true, Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        Ok(())
    }
}
