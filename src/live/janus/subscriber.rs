//! `record janus://... --media webrtc`: roomcast subscribes to every publisher's audio as a WebRTC
//! peer, the way a browser in the room would, so no admin key or forwarding rights are needed.
//!
//! Two threads. The control thread speaks Janus' HTTP API: the passive participant follows the
//! roster; a subscriber handle asks for every publisher's audio and receives JSEP offers (one audio
//! m-line per feed, renegotiated as people come and go). The media thread runs str0m (sans-I/O
//! WebRTC: ICE, DTLS, SRTP) over one UDP socket, answers the offers, and in RTP mode hands every
//! decrypted RTP packet on, rebuilt byte for byte as a datagram for the same receiver core the
//! other sources feed. Speakers are named from the offer: each m-line's SSRC belongs to a feed, and
//! Janus says that feed's display name.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use str0m::change::SdpOffer;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::sync::mpsc;

use super::client::{Credentials, JanusClient, JanusError, JanusUrl, departed, join_room, media_ip, publishers_of};
use crate::record::{Datagram, RecordError, RoomSource, SourceEvent, SourceFuture, SourceIo};
use crate::rtp::packet::{AudioLevel, build_rtp};

pub struct JanusWebrtcSource {
    pub url: JanusUrl,
    pub creds: Credentials,
    /// Address for our ICE candidate; default: ours on the route to Janus.
    pub ip: Option<IpAddr>,
}

/// What the control thread asks of the media thread, and the answer it waits for.
enum ToMedia {
    Offer(String, std_mpsc::Sender<Result<String, String>>),
}

impl RoomSource for JanusWebrtcSource {
    fn url(&self) -> String {
        self.url.to_string()
    }

    fn run(self: Box<Self>, io: SourceIo) -> SourceFuture {
        Box::pin(self.listen(io))
    }
}

impl JanusWebrtcSource {
    async fn listen(self: Box<Self>, io: SourceIo) -> Result<(), RecordError> {
        let SourceIo { events, mut stop, .. } = io;
        let ip = media_ip(self.ip, &self.url);
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0))
            .map_err(|e| RecordError::Source(format!("cannot open a UDP socket on {ip} for WebRTC: {e}")))?;
        crate::live::recv::enlarge_receive_buffer(&socket);
        let local = socket.local_addr().map_err(|e| RecordError::Source(e.to_string()))?;
        let stop_flag = Arc::new(AtomicBool::new(false));
        let (to_media, from_control) = std_mpsc::channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let media = {
            let (events, stop_flag) = (events.clone(), stop_flag.clone());
            std::thread::spawn(move || media_loop(socket, local, from_control, events, stop_flag))
        };
        let control = {
            let (events, stop_flag, url, creds) =
                (events.clone(), stop_flag.clone(), self.url.clone(), self.creds.clone());
            std::thread::spawn(move || control_loop(url, creds, to_media, events, stop_flag, ready_tx))
        };
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                stop_flag.store(true, Ordering::Relaxed);
                return Err(RecordError::Source(e.to_string()));
            }
            Err(_) => return Err(RecordError::Source("the Janus control thread ended".into())),
        }
        let _ = events.send(SourceEvent::Ready(format!("{} (WebRTC subscriber on {local})", self.url))).await;
        let _ = stop.changed().await;
        stop_flag.store(true, Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || {
            let _ = media.join();
            // The control thread may sit in a 30 s long poll; it tears down on its own.
            drop(control);
        })
        .await;
        Ok(())
    }
}

/// str0m over one UDP socket. Batches RTP for the recorder every 20 ms.
fn media_loop(
    socket: UdpSocket,
    local: SocketAddr,
    offers: std_mpsc::Receiver<ToMedia>,
    events: mpsc::Sender<SourceEvent>,
    stop: Arc<AtomicBool>,
) {
    let mut rtc = Rtc::builder().set_rtp_mode(true).build(Instant::now());
    match Candidate::host(local, "udp") {
        Ok(c) => {
            rtc.add_local_candidate(c);
        }
        Err(e) => {
            let _ = events.blocking_send(SourceEvent::Warning(format!("WebRTC: bad local candidate {local}: {e}")));
            return;
        }
    }
    let mut buf = vec![0u8; 2048];
    let mut batch = Vec::new();
    let mut last_batch = Instant::now();
    let (mut connected, mut answered_at, mut warned) = (false, None::<Instant>, false);
    while !stop.load(Ordering::Relaxed) {
        if !connected && !warned && answered_at.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
            warned = true;
            let _ = events.blocking_send(SourceEvent::Warning(format!(
                "WebRTC: no ICE connection 10 s after answering Janus from {local}: Janus must offer a \
                 candidate this machine can reach (it never offers loopback ones); try --listen with \
                 another local address, or --media rtp-forward"
            )));
        }
        // Drain the engine until it says when it next needs us.
        let timeout = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::RtpPacket(p))) => {
                    let level = p
                        .header
                        .ext_vals
                        .audio_level
                        .map(|l| (1, AudioLevel { voice: true, level: l.unsigned_abs().min(127) }));
                    let bytes = build_rtp(
                        *p.header.payload_type,
                        p.header.marker,
                        p.header.sequence_number,
                        p.header.timestamp,
                        *p.header.ssrc,
                        level,
                        &p.payload,
                    );
                    batch.push(Datagram { bytes, at: p.timestamp, from: local });
                }
                Ok(Output::Event(Event::IceConnectionStateChange(state))) => match state {
                    IceConnectionState::Connected | IceConnectionState::Completed => connected = true,
                    IceConnectionState::Disconnected => {
                        connected = false;
                        let _ = events.blocking_send(SourceEvent::Warning("WebRTC: ICE disconnected".into()));
                    }
                    _ => {}
                },
                Ok(Output::Event(_)) => {}
                Err(e) => {
                    let _ = events.blocking_send(SourceEvent::Warning(format!("WebRTC: {e}")));
                    break Instant::now() + Duration::from_millis(20);
                }
            }
        };
        if !batch.is_empty() && last_batch.elapsed() >= crate::live::recv::COALESCE {
            last_batch = Instant::now();
            if events.blocking_send(SourceEvent::Datagrams(std::mem::take(&mut batch))).is_err() {
                return;
            }
        }
        // One mutation per turn: an offer to answer, a datagram, or the passage of time.
        if let Ok(ToMedia::Offer(sdp, reply)) = offers.try_recv() {
            let answer = SdpOffer::from_sdp_string(&sdp)
                .map_err(|e| e.to_string())
                .and_then(|offer| rtc.sdp_api().accept_offer(offer).map_err(|e| e.to_string()))
                .map(|answer| answer.to_sdp_string());
            answered_at.get_or_insert_with(Instant::now);
            let _ = reply.send(answer);
            continue;
        }
        let wait = timeout
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        let _ = socket.set_read_timeout(Some(wait));
        let input = match socket.recv_from(&mut buf) {
            Ok((n, source)) => match (&buf[..n]).try_into() {
                Ok(contents) => Input::Receive(
                    Instant::now(),
                    Receive { proto: Protocol::Udp, source, destination: local, contents },
                ),
                Err(_) => continue,
            },
            Err(_) => Input::Timeout(Instant::now()),
        };
        if let Err(e) = rtc.handle_input(input) {
            let _ = events.blocking_send(SourceEvent::Warning(format!("WebRTC: {e}")));
        }
    }
    rtc.disconnect();
}

/// Each m-section's (mid, SSRC) in an SDP.
fn ssrcs_by_mid(sdp: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut mid = None;
    for line in sdp.lines() {
        if line.starts_with("m=") {
            mid = None;
        } else if let Some(m) = line.strip_prefix("a=mid:") {
            mid = Some(m.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("a=ssrc:")
            && let (Some(m), Some(ssrc)) = (&mid, rest.split_whitespace().next().and_then(|s| s.parse().ok()))
            && !out.iter().any(|(_, s)| *s == ssrc)
        {
            out.push((m.clone(), ssrc));
        }
    }
    out
}

struct Subscription {
    handle: u64,
    joined: bool,
    /// feed id -> (mid, display)
    feeds: Vec<(u64, String, String)>,
    ssrcs: Vec<(String, u32)>,
}

fn control_loop(
    url: JanusUrl,
    creds: Credentials,
    to_media: std_mpsc::Sender<ToMedia>,
    events: mpsc::Sender<SourceEvent>,
    stop: Arc<AtomicBool>,
    ready: tokio::sync::oneshot::Sender<Result<(), JanusError>>,
) {
    let setup = || -> Result<(JanusClient, u64, u64, Value), JanusError> {
        let (client, passive, joined) = join_room(&url, &creds)?;
        let subscriber = client.attach_videoroom()?;
        Ok((client, passive, subscriber, joined))
    };
    let (client, passive, subscriber, joined) = match setup() {
        Ok(s) => {
            let _ = ready.send(Ok(()));
            s
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let private_id = joined.get("private_id").and_then(Value::as_u64);
    let mut sub = Subscription { handle: subscriber, joined: false, feeds: Vec::new(), ssrcs: Vec::new() };
    let warn = |m: String| {
        let _ = events.blocking_send(SourceEvent::Warning(m));
    };
    let mut wanted: Vec<u64> = Vec::new();
    let subscribe = |client: &JanusClient, sub: &mut Subscription, feeds: Vec<u64>| {
        let streams: Vec<Value> = feeds.iter().map(|f| json!({"feed": f})).collect();
        if streams.is_empty() {
            return;
        }
        let body = if sub.joined {
            json!({"request": "subscribe", "streams": streams})
        } else {
            let mut b = json!({"request": "join", "ptype": "subscriber", "room": url.room, "streams": streams});
            if let Some(p) = private_id {
                b["private_id"] = json!(p);
            }
            if let Some(pin) = &creds.pin {
                b["pin"] = json!(pin);
            }
            b
        };
        match client.request(sub.handle, body) {
            Ok(_) => sub.joined = true,
            Err(e) => warn(format!("subscribing to {feeds:?}: {e}")),
        }
    };
    let initial: Vec<u64> =
        publishers_of(&joined).into_iter().filter(|p| !p.audio_mids.is_empty()).map(|p| p.id).collect();
    wanted.extend(&initial);
    subscribe(&client, &mut sub, initial);
    let mut last_keepalive = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let list = match client.poll() {
            Ok(l) => l,
            Err(e) => {
                warn(format!("lost Janus ({e}); the WebRTC recording continues while the media flows"));
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        for event in list {
            let sender = event["sender"].as_u64();
            let data = event.pointer("/plugindata/data").cloned().unwrap_or(Value::Null);
            if sender == Some(passive) {
                if data["videoroom"] == "destroyed" {
                    let _ = events.blocking_send(SourceEvent::Ended("the room was destroyed".into()));
                    return;
                }
                let new: Vec<u64> = publishers_of(&data)
                    .into_iter()
                    .filter(|p| !p.audio_mids.is_empty() && !wanted.contains(&p.id))
                    .map(|p| p.id)
                    .collect();
                wanted.extend(&new);
                subscribe(&client, &mut sub, new);
                if let Some(id) = departed(&data) {
                    wanted.retain(|w| *w != id);
                    for (_, mid, _) in sub.feeds.iter().filter(|(f, _, _)| *f == id) {
                        for (_, ssrc) in sub.ssrcs.iter().filter(|(m, _)| m == mid) {
                            let _ = events.blocking_send(SourceEvent::Gone { ssrc: *ssrc });
                        }
                    }
                }
            } else if sender == Some(sub.handle)
                && let Some(sdp) = event.pointer("/jsep/sdp").and_then(Value::as_str)
            {
                // attached / updated: the streams say which feed each mid carries.
                if let Some(streams) = data.get("streams").and_then(Value::as_array) {
                    sub.feeds = streams
                        .iter()
                        .filter(|s| s["type"] == "audio" && s["active"] != false)
                        .filter_map(|s| {
                            let feed = s.get("feed_id").and_then(Value::as_u64)?;
                            let mid = s.get("mid").and_then(Value::as_str)?.to_string();
                            let display = s.get("feed_display").and_then(Value::as_str).unwrap_or_default().to_string();
                            Some((feed, mid, display))
                        })
                        .collect();
                }
                sub.ssrcs = ssrcs_by_mid(sdp);
                for (feed, mid, display) in &sub.feeds {
                    for (_, ssrc) in sub.ssrcs.iter().filter(|(m, _)| m == mid) {
                        let name = if display.is_empty() { format!("publisher-{feed}") } else { display.clone() };
                        let _ = events.blocking_send(SourceEvent::Name { ssrc: *ssrc, name });
                    }
                }
                let (reply_tx, reply_rx) = std_mpsc::channel();
                if to_media.send(ToMedia::Offer(sdp.to_string(), reply_tx)).is_err() {
                    return;
                }
                match reply_rx.recv_timeout(Duration::from_secs(5)) {
                    Ok(Ok(answer)) => {
                        let body = json!({"request": "start"});
                        if let Err(e) =
                            client.request_with_jsep(sub.handle, body, json!({"type": "answer", "sdp": answer}))
                        {
                            warn(format!("answering Janus' offer: {e}"));
                        }
                    }
                    Ok(Err(e)) => warn(format!("cannot answer Janus' offer: {e}")),
                    Err(_) => warn("the WebRTC engine did not answer Janus' offer".into()),
                }
            }
        }
        if last_keepalive.elapsed() > Duration::from_secs(20) {
            last_keepalive = Instant::now();
            let _ = client.keepalive();
        }
    }
    let _ = client.request(passive, json!({"request": "leave"}));
    client.destroy();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_m_lines_ssrc() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ssrc:2386018755 cname:janus\r\n\
                   m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=ssrc:77 cname:janus\r\na=ssrc:77 msid:x\r\n";
        assert_eq!(ssrcs_by_mid(sdp), vec![("0".to_string(), 2386018755), ("1".to_string(), 77)]);
    }
}
