//! Plain RTP/Opus on a UDP port: one speaker per SSRC, names from RTCP SDES or `--speaker`. RTCP is
//! taken on the same port (RFC 5761 multiplexing) and on the next one up (RFC 3550's default), so
//! ffmpeg, GStreamer, Janus' rtp_forward and mediasoup's PlainTransport senders all work as they are.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use super::{Datagram, Outgoing, RecordError, RoomSource, SourceEvent, SourceFuture};

pub struct RtpSource {
    pub addr: SocketAddr,
}

/// Parses `rtp://HOST:PORT` (HOST an IP address; `0.0.0.0` listens on every interface).
pub fn parse_rtp_url(url: &str) -> Result<SocketAddr, String> {
    let rest = url.strip_prefix("rtp://").ok_or_else(|| format!("'{url}' is not an rtp:// URL"))?;
    let rest = rest.trim_end_matches('/');
    rest.parse().map_err(|_| format!("'{url}': expected rtp://ADDRESS:PORT, e.g. rtp://127.0.0.1:5004"))
}

const BATCH: usize = 1024;
pub(crate) const COALESCE: std::time::Duration = std::time::Duration::from_millis(20);

/// Reads every datagram that is ready without blocking, up to a batch.
fn drain(socket: &UdpSocket, buf: &mut [u8], batch: &mut Vec<Datagram>) {
    let at = Instant::now();
    while batch.len() < BATCH {
        match socket.try_recv_from(buf) {
            Ok((n, from)) => batch.push(Datagram { bytes: buf[..n].to_vec(), at, from }),
            Err(_) => break,
        }
    }
}

impl RoomSource for RtpSource {
    fn url(&self) -> String {
        format!("rtp://{}", self.addr)
    }

    fn run(
        self: Box<Self>,
        events: mpsc::Sender<SourceEvent>,
        mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
        mut stop: watch::Receiver<bool>,
    ) -> SourceFuture {
        Box::pin(async move {
            let bind_err =
                |addr: SocketAddr, e: std::io::Error| RecordError::Source(format!("cannot listen on {addr}: {e}"));
            let rtp = UdpSocket::bind(self.addr).await.map_err(|e| bind_err(self.addr, e))?;
            let local = rtp.local_addr().map_err(|e| bind_err(self.addr, e))?;
            super::enlarge_receive_buffer(&rtp);
            // The RTCP port is a courtesy: if it is taken, RTCP multiplexed on the RTP port still works.
            let rtcp_addr = SocketAddr::new(local.ip(), local.port().wrapping_add(1));
            let rtcp = UdpSocket::bind(rtcp_addr).await.ok();
            if rtcp.is_none() {
                let _ = events
                    .send(SourceEvent::Warning(format!("RTCP port {rtcp_addr} is taken; RTCP only on {local}")))
                    .await;
            }
            let _ = events.send(SourceEvent::Ready(format!("rtp://{local}"))).await;
            let mut buf = vec![0u8; 65_536];
            loop {
                let mut batch = Vec::new();
                tokio::select! {
                    ready = rtp.readable() => {
                        if ready.is_ok() {
                            drain(&rtp, &mut buf, &mut batch);
                        }
                    }
                    ready = async { match &rtcp { Some(s) => s.readable().await, None => std::future::pending().await } } => {
                        if let (Ok(()), Some(s)) = (ready, &rtcp) {
                            drain(s, &mut buf, &mut batch);
                        }
                    }
                    Some((bytes, to)) = outgoing.recv() => {
                        let socket = rtcp.as_ref().unwrap_or(&rtp);
                        let _ = socket.send_to(&bytes, to).await;
                    }
                    _ = stop.changed() => return Ok(()),
                }
                if !batch.is_empty() {
                    let drained = batch.len() < BATCH;
                    if events.send(SourceEvent::Datagrams(batch)).await.is_err() {
                        return Ok(());
                    }
                    if !drained {
                        continue;
                    }
                    // Coalesce: let a few milliseconds of datagrams gather in the socket buffer
                    // (times are taken on arrival in the batch; the reorder window is 200 ms), so a
                    // busy room costs one wake-up per 5 ms rather than one per packet.
                    tokio::time::sleep(COALESCE).await;
                }
            }
        })
    }
}
