//! `record janus://... --media rtp-forward`: Janus forwards every publisher's audio to a local UDP
//! port (rtp_forward, which needs the admin key or the room secret), one SSRC per publisher.

use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::client::{
    Credentials, JanusClient, JanusError, JanusUrl, Publisher, departed, join_room, media_ip, publishers_of,
};
use crate::record::{RecordError, RoomSource, SourceEvent, SourceFuture, SourceIo};

/// `record janus://... --media rtp-forward`: Janus forwards each publisher's audio to one local UDP
/// port, each with an SSRC we choose, so the receiver tells speakers apart and names them from the
/// roster.
pub struct JanusForwardSource {
    pub url: JanusUrl,
    pub creds: Credentials,
    /// Address Janus sends to; default: our address on the route to Janus, port chosen by the OS.
    pub listen: Option<SocketAddr>,
}

impl RoomSource for JanusForwardSource {
    fn url(&self) -> String {
        self.url.to_string()
    }

    fn run(self: Box<Self>, io: SourceIo) -> SourceFuture {
        Box::pin(self.listen(io))
    }
}

impl JanusForwardSource {
    async fn listen(self: Box<Self>, io: SourceIo) -> Result<(), RecordError> {
        let SourceIo { events, mut stop, .. } = io;
        let listen = self.listen.unwrap_or_else(|| SocketAddr::new(media_ip(None, &self.url), 0));
        let socket = StdUdpSocket::bind(listen)
            .map_err(|e| RecordError::Source(format!("cannot listen on {listen} for forwarded RTP: {e}")))?;
        let local = socket.local_addr().map_err(|e| RecordError::Source(e.to_string()))?;
        crate::live::recv::enlarge_receive_buffer(&socket);
        let state: Shared = Arc::new(Mutex::new(None));
        let control_events = events.clone();
        let (url, creds) = (self.url.clone(), self.creds.clone());
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let control_state = state.clone();
        // Detached: a long poll can hold it for 30 s; stopping goes through the shared state.
        std::thread::spawn(move || control_loop(url, creds, local, control_events, control_state, ready_tx));
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RecordError::Source(e.to_string())),
            Err(_) => return Err(RecordError::Source("Janus control thread ended".into())),
        }
        let _ = events.send(SourceEvent::Ready(format!("{} (forwarded to {local})", self.url))).await;
        let stop_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = crate::live::recv::spawn(vec![socket], events, stop_flag.clone());
        let _ = stop.changed().await;
        stop_flag.store(true, Ordering::Relaxed);
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        let (url, creds) = (self.url.clone(), self.creds.clone());
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(f) = state.lock().unwrap_or_else(|e| e.into_inner()).take() {
                teardown(&f, &url, &creds);
            }
        })
        .await;
        Ok(())
    }
}

/// SSRC we ask Janus to use for a publisher's forwarded audio: stable per publisher and mid.
fn forward_ssrc(publisher: u64, mid_index: usize) -> u32 {
    ((publisher.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32 & !0xF) | mid_index as u32 & 0xF
}

type Shared = Arc<Mutex<Option<Forwarding>>>;

struct Forwarding {
    client: JanusClient,
    handle: u64,
    /// (publisher id, stream id) of every forward we set up, for stop_rtp_forward.
    forwards: Vec<(u64, u64)>,
    known: Vec<u64>,
    /// SSRCs we asked Janus to use, per publisher, to tell the receiver who left.
    ssrcs: Vec<(u64, u32)>,
}

fn setup(
    url: &JanusUrl,
    creds: &Credentials,
    local: SocketAddr,
    events: &mpsc::Sender<SourceEvent>,
) -> Result<Forwarding, JanusError> {
    let (client, handle, joined) = join_room(url, creds)?;
    // The secret and admin key are only checked when a forward is asked for, which may be long
    // after joining (an empty room): check them now, with a request that needs the same rights.
    let mut check = json!({"request": "listforwarders", "room": url.room});
    creds.authorize(&mut check);
    if let Err(e) = client.request(handle, check) {
        let _ = client.request(handle, json!({"request": "leave"}));
        client.destroy();
        return Err(e);
    }
    let mut f = Forwarding { client, handle, forwards: Vec::new(), known: Vec::new(), ssrcs: Vec::new() };
    for p in publishers_of(&joined) {
        forward(&mut f, url, creds, local, &p, events)?;
    }
    Ok(f)
}

fn forward(
    f: &mut Forwarding,
    url: &JanusUrl,
    creds: &Credentials,
    local: SocketAddr,
    p: &Publisher,
    events: &mpsc::Sender<SourceEvent>,
) -> Result<(), JanusError> {
    if f.known.contains(&p.id) {
        return Ok(());
    }
    f.known.push(p.id);
    for (i, mid) in p.audio_mids.iter().enumerate() {
        let ssrc = forward_ssrc(p.id, i);
        f.ssrcs.push((p.id, ssrc));
        let name = if p.display.is_empty() { format!("publisher-{}", p.id) } else { p.display.clone() };
        let _ = events.blocking_send(SourceEvent::Name { ssrc, name });
        let mut body = json!({
            "request": "rtp_forward", "room": url.room, "publisher_id": p.id,
            "host": local.ip().to_string(), "host_family": if local.is_ipv4() { "ipv4" } else { "ipv6" },
            "streams": [{"mid": mid, "port": local.port(), "ssrc": ssrc}],
        });
        creds.authorize(&mut body);
        let data = f.client.request(f.handle, body)?.unwrap_or(Value::Null);
        let forwarders = data.get("forwarders").and_then(Value::as_array).cloned().unwrap_or_default();
        if forwarders.is_empty() {
            let _ = events.blocking_send(SourceEvent::Warning(format!(
                "Janus set up no forward for {} (stream {mid}); their audio is not recorded",
                p.display
            )));
        }
        for fw in forwarders {
            if let Some(stream) = fw.get("stream_id").and_then(Value::as_u64) {
                f.forwards.push((p.id, stream));
            }
        }
    }
    Ok(())
}

fn teardown(f: &Forwarding, url: &JanusUrl, creds: &Credentials) {
    for (publisher, stream) in &f.forwards {
        let mut body =
            json!({"request": "stop_rtp_forward", "room": url.room, "publisher_id": publisher, "stream_id": stream});
        creds.authorize(&mut body);
        let _ = f.client.request(f.handle, body);
    }
    let _ = f.client.request(f.handle, json!({"request": "leave"}));
    f.client.destroy();
}

/// The control side, on its own thread: join, forward every publisher (now and as they come),
/// follow departures, keep the session alive, and rejoin if Janus restarts. Ends when the shared
/// state is emptied (the recorder stopped and tore the forwards down).
fn control_loop(
    url: JanusUrl,
    creds: Credentials,
    local: SocketAddr,
    events: mpsc::Sender<SourceEvent>,
    state: Shared,
    ready: tokio::sync::oneshot::Sender<Result<(), JanusError>>,
) {
    match setup(&url, &creds, local, &events) {
        Ok(f) => {
            *state.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
            let _ = ready.send(Ok(()));
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    }
    let mut last_keepalive = Instant::now();
    loop {
        let Some(poller) = state.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|f| f.client.clone()) else {
            return;
        };
        let polled = poller.poll();
        let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = guard.as_mut() else { return };
        match polled {
            Ok(list) => {
                for event in list {
                    if event["sender"].as_u64() != Some(f.handle) {
                        continue;
                    }
                    let data = event.pointer("/plugindata/data").cloned().unwrap_or(Value::Null);
                    if data["videoroom"] == "destroyed" {
                        let _ = events.blocking_send(SourceEvent::Ended("the room was destroyed".into()));
                        return;
                    }
                    if let Some(id) = departed(&data) {
                        for (_, ssrc) in f.ssrcs.iter().filter(|(p, _)| *p == id) {
                            let _ = events.blocking_send(SourceEvent::Gone { ssrc: *ssrc });
                        }
                        f.known.retain(|k| *k != id);
                        f.ssrcs.retain(|(p, _)| *p != id);
                    }
                    for p in publishers_of(&data) {
                        if let Err(e) = forward(f, &url, &creds, local, &p, &events) {
                            let _ = events.blocking_send(SourceEvent::Warning(format!("{}: {e}", p.display)));
                        }
                    }
                }
            }
            Err(e) => {
                // Janus went away (restart, network): keep what we have, and rejoin when it is back.
                drop(guard);
                let _ = events.blocking_send(SourceEvent::Warning(format!("lost Janus ({e}); rejoining")));
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    if state.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
                        return;
                    }
                    if let Ok(new) = setup(&url, &creds, local, &events) {
                        let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
                        if guard.is_none() {
                            teardown(&new, &url, &creds);
                            return;
                        }
                        *guard = Some(new);
                        let _ = events.blocking_send(SourceEvent::Warning("rejoined the room".into()));
                        break;
                    }
                }
                continue;
            }
        }
        if last_keepalive.elapsed() > Duration::from_secs(20) {
            last_keepalive = Instant::now();
            let _ = f.client.keepalive();
        }
    }
}
