//! Janus VideoRoom over its HTTP API: a small blocking client, the recorder's passive participant
//! (joins as a publisher that never publishes, so it hears the roster and is never heard), the
//! rtp-forward media path, and remote publishers for `speak`.
//!
//! Facts this relies on were measured against Janus 1.1.2 (tests/janus/NOTES.md): replies to
//! synchronous requests come back in the POST as `success` with `plugindata.data` (which may hold an
//! `error_code`); `join` is acknowledged and answered on the long poll; forwarded RTP keeps the
//! publisher's sequence numbers and header extensions, and Janus sends no sender reports.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::{Outgoing, RecordError, RoomSource, SourceEvent, SourceFuture};

#[derive(Debug, thiserror::Error)]
pub enum JanusError {
    #[error("cannot reach Janus at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Janus refused {request}: {reason} (error {code})")]
    Refused { request: String, code: i64, reason: String },
    #[error("unexpected reply from Janus to {request}: {reply}")]
    Protocol { request: String, reply: String },
}

/// `janus://HOST:PORT/ROOM`: the HTTP API at http://HOST:PORT/janus, VideoRoom ROOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JanusUrl {
    pub host: String,
    pub port: u16,
    pub room: u64,
}

impl JanusUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("janus://").ok_or_else(|| format!("'{url}' is not a janus:// URL"))?;
        let usage = || format!("'{url}': expected janus://HOST:PORT/ROOM (HTTP API port, numeric room id)");
        let (hostport, room) = rest.trim_end_matches('/').split_once('/').ok_or_else(usage)?;
        let room = room.parse().map_err(|_| format!("'{url}': room id '{room}' is not a number"))?;
        let (host, port) =
            hostport.rsplit_once(':').map(|(h, p)| (h, p.parse().ok())).unwrap_or((hostport, Some(8088)));
        let port = port.ok_or_else(usage)?;
        Ok(JanusUrl { host: host.trim_matches(['[', ']']).to_string(), port, room })
    }

    pub fn api(&self) -> String {
        format!(
            "http://{}:{}/janus",
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() },
            self.port
        )
    }
}

impl std::fmt::Display for JanusUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "janus://{}:{}/{}", self.host, self.port, self.room)
    }
}

/// Room credentials, as the room was configured.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub pin: Option<String>,
    pub secret: Option<String>,
    pub admin_key: Option<String>,
    /// Janus API token (when the server uses token auth).
    pub token: Option<String>,
}

/// A Janus session with the VideoRoom plugin attached, over HTTP. Blocking; used from its own thread.
/// Clones share the session: one can long-poll while another sends requests.
#[derive(Clone)]
pub struct JanusClient {
    api: String,
    agent: ureq::Agent,
    pub session: u64,
    token: Option<String>,
    next_transaction: Arc<AtomicU64>,
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

impl Credentials {
    /// Adds the rights a forwarding request needs: the admin key and the room secret, when given.
    fn authorize(&self, body: &mut Value) {
        if let Some(k) = &self.admin_key {
            body["admin_key"] = json!(k);
        }
        if let Some(s) = &self.secret {
            body["secret"] = json!(s);
        }
    }
}

impl JanusClient {
    pub fn connect(api: &str, token: Option<String>) -> Result<Self, JanusError> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout_read(Duration::from_secs(40))
            .build();
        let mut client = JanusClient {
            api: api.to_string(),
            agent,
            session: 0,
            token,
            next_transaction: Arc::new(AtomicU64::new(1)),
        };
        let reply = client.post(&client.api.clone(), json!({"janus": "create"}), "create")?;
        client.session = reply
            .pointer("/data/id")
            .and_then(Value::as_u64)
            .ok_or_else(|| JanusError::Protocol { request: "create".into(), reply: reply.to_string() })?;
        Ok(client)
    }

    fn post(&self, url: &str, mut body: Value, request: &str) -> Result<Value, JanusError> {
        let transaction = format!("rc{}", self.next_transaction.fetch_add(1, Ordering::Relaxed));
        body["transaction"] = json!(transaction);
        if let Some(token) = &self.token {
            body["token"] = json!(token);
        }
        let reply: Value = match self.agent.post(url).send_json(body) {
            Ok(r) => {
                r.into_json().map_err(|e| JanusError::Protocol { request: request.into(), reply: e.to_string() })?
            }
            Err(ureq::Error::Status(code, r)) => {
                return Err(JanusError::Refused {
                    request: request.into(),
                    code: code as i64,
                    reason: r.into_string().unwrap_or_default(),
                });
            }
            Err(e) => return Err(JanusError::Unreachable { url: self.api.clone(), reason: e.to_string() }),
        };
        if reply["janus"] == "error" {
            return Err(JanusError::Refused {
                request: request.into(),
                code: reply.pointer("/error/code").and_then(Value::as_i64).unwrap_or(0),
                reason: reply.pointer("/error/reason").and_then(Value::as_str).unwrap_or("unknown").to_string(),
            });
        }
        Ok(reply)
    }

    pub fn attach_videoroom(&self) -> Result<u64, JanusError> {
        let url = format!("{}/{}", self.api, self.session);
        let reply = self.post(&url, json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}), "attach")?;
        reply
            .pointer("/data/id")
            .and_then(Value::as_u64)
            .ok_or_else(|| JanusError::Protocol { request: "attach".into(), reply: reply.to_string() })
    }

    /// Sends a plugin request. Synchronous requests return their `plugindata.data`; asynchronous
    /// ones (join, leave) return `None` and answer on the long poll.
    pub fn request(&self, handle: u64, body: Value) -> Result<Option<Value>, JanusError> {
        self.message(handle, json!({"janus": "message", "body": body}))
    }

    /// A plugin request carrying a JSEP offer or answer (`start` with our answer, say).
    pub fn request_with_jsep(&self, handle: u64, body: Value, jsep: Value) -> Result<Option<Value>, JanusError> {
        self.message(handle, json!({"janus": "message", "body": body, "jsep": jsep}))
    }

    fn message(&self, handle: u64, message: Value) -> Result<Option<Value>, JanusError> {
        let name = str_of(&message["body"], "request");
        let url = format!("{}/{}/{}", self.api, self.session, handle);
        let reply = self.post(&url, message, &name)?;
        if reply["janus"] == "ack" {
            return Ok(None);
        }
        let data = reply
            .pointer("/plugindata/data")
            .cloned()
            .ok_or_else(|| JanusError::Protocol { request: name.clone(), reply: reply.to_string() })?;
        plugin_result(&name, data).map(Some)
    }

    /// Long-polls for events (up to 30 s); an empty list on keepalive.
    pub fn poll(&self) -> Result<Vec<Value>, JanusError> {
        let mut url = format!("{}/{}?maxev=10", self.api, self.session);
        if let Some(token) = &self.token {
            url.push_str(&format!("&token={token}"));
        }
        match self.agent.get(&url).call() {
            Ok(r) => {
                let v: Value =
                    r.into_json().map_err(|e| JanusError::Protocol { request: "poll".into(), reply: e.to_string() })?;
                let events = match v {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                if let Some(e) = events.iter().find(|e| e["janus"] == "timeout") {
                    return Err(JanusError::Refused {
                        request: "poll".into(),
                        code: 458,
                        reason: format!("session timed out: {e}"),
                    });
                }
                Ok(events.into_iter().filter(|e| e["janus"] != "keepalive").collect())
            }
            Err(ureq::Error::Status(404, _)) => {
                Err(JanusError::Refused { request: "poll".into(), code: 458, reason: "session is gone".into() })
            }
            Err(ureq::Error::Status(code, r)) => Err(JanusError::Refused {
                request: "poll".into(),
                code: code as i64,
                reason: r.into_string().unwrap_or_default(),
            }),
            Err(e) => Err(JanusError::Unreachable { url: self.api.clone(), reason: e.to_string() }),
        }
    }

    pub fn keepalive(&self) -> Result<(), JanusError> {
        let url = format!("{}/{}", self.api, self.session);
        self.post(&url, json!({"janus": "keepalive"}), "keepalive").map(|_| ())
    }

    pub fn destroy(&self) {
        let url = format!("{}/{}", self.api, self.session);
        let _ = self.post(&url, json!({"janus": "destroy"}), "destroy");
    }
}

/// VideoRoom answers errors inside a successful reply: `{"videoroom":"event","error_code":426,...}`.
fn plugin_result(request: &str, data: Value) -> Result<Value, JanusError> {
    if let Some(code) = data.get("error_code").and_then(Value::as_i64) {
        let reason = str_of(&data, "error");
        let reason = match code {
            426 => format!("{reason}: check the room id"),
            429 | 433 => format!("{reason}: check --pin / --secret / --admin-key"),
            _ => reason,
        };
        return Err(JanusError::Refused { request: request.into(), code, reason });
    }
    Ok(data)
}

/// A publisher in the room, as the passive participant sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Publisher {
    pub id: u64,
    pub display: String,
    /// mids of its audio streams.
    pub audio_mids: Vec<String>,
}

pub fn publishers_of(data: &Value) -> Vec<Publisher> {
    let Some(list) = data.get("publishers").and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|p| {
            let id = p.get("id").and_then(Value::as_u64)?;
            let streams = p.get("streams").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut audio_mids: Vec<String> = streams
                .iter()
                .filter(|s| s["type"] == "audio" && s.get("disabled").and_then(Value::as_bool) != Some(true))
                .map(|s| str_of(s, "mid"))
                .collect();
            if streams.is_empty() && p.get("audio_codec").is_some() {
                audio_mids.push("0".into());
            }
            Some(Publisher { id, display: str_of(p, "display"), audio_mids })
        })
        .collect()
}

/// Joins `room` as a publisher that never publishes: it receives the room's events and stays
/// invisible to the speakers (it has no feed). Returns the `joined` event.
pub fn join_passive(client: &JanusClient, handle: u64, room: u64, creds: &Credentials) -> Result<Value, JanusError> {
    let mut body = json!({"request": "join", "ptype": "publisher", "room": room, "display": "roomcast recorder"});
    if let Some(pin) = &creds.pin {
        body["pin"] = json!(pin);
    }
    if let Some(token) = &creds.token {
        body["token"] = json!(token);
    }
    if let Some(data) = client.request(handle, body)? {
        return Ok(data);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for event in client.poll()? {
            if event["sender"].as_u64() != Some(handle) {
                continue;
            }
            let data = event.pointer("/plugindata/data").cloned().unwrap_or(Value::Null);
            let data = plugin_result("join", data)?;
            if data["videoroom"] == "joined" {
                return Ok(data);
            }
        }
    }
    Err(JanusError::Protocol { request: "join".into(), reply: "no answer within 10 s".into() })
}

/// Connects, attaches the VideoRoom plugin and joins `url`'s room as the passive participant.
/// Returns the client, the passive handle and the `joined` event; a refused join leaves no session.
pub(crate) fn join_room(url: &JanusUrl, creds: &Credentials) -> Result<(JanusClient, u64, Value), JanusError> {
    let client = JanusClient::connect(&url.api(), creds.token.clone())?;
    let handle = client.attach_videoroom()?;
    match join_passive(&client, handle, url.room, creds) {
        Ok(joined) => Ok((client, handle, joined)),
        Err(e) => {
            client.destroy();
            Err(e)
        }
    }
}

/// The publisher a room event says left (`leaving`, or `unpublished` for a feed that stopped).
pub(crate) fn departed(data: &Value) -> Option<u64> {
    ["leaving", "unpublished"].into_iter().find_map(|key| data.get(key).and_then(Value::as_u64))
}

/// Our address for media from Janus: the one given, else ours on the route to Janus.
pub(crate) fn media_ip(given: Option<IpAddr>, url: &JanusUrl) -> IpAddr {
    given.or_else(|| local_ip_towards(&url.host, url.port)).unwrap_or([127, 0, 0, 1].into())
}

/// The local address Janus should send to: the one the OS would use to reach the Janus host.
fn local_ip_towards(host: &str, port: u16) -> Option<std::net::IpAddr> {
    let target = (host, port).to_socket_addrs().ok()?.next()?;
    let probe = StdUdpSocket::bind(if target.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).ok()?;
    probe.connect(target).ok()?;
    Some(probe.local_addr().ok()?.ip())
}

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

    fn run(
        self: Box<Self>,
        events: mpsc::Sender<SourceEvent>,
        _outgoing: mpsc::UnboundedReceiver<Outgoing>,
        mut stop: watch::Receiver<bool>,
    ) -> SourceFuture {
        Box::pin(async move {
            let listen = self.listen.unwrap_or_else(|| SocketAddr::new(media_ip(None, &self.url), 0));
            let socket = StdUdpSocket::bind(listen)
                .map_err(|e| RecordError::Source(format!("cannot listen on {listen} for forwarded RTP: {e}")))?;
            let local = socket.local_addr().map_err(|e| RecordError::Source(e.to_string()))?;
            super::enlarge_receive_buffer(&socket);
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
            let thread = super::recv::spawn(vec![socket], events, stop_flag.clone());
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
        })
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

/// A remote publisher for `speak --to janus://`: Janus takes plain RTP on the returned port.
pub struct RemotePublisher {
    pub client: JanusClient,
    pub handle: u64,
    pub id: u64,
    pub rtp: SocketAddr,
    pub room: u64,
    pub secret: Option<String>,
}

/// SSRC Janus expects from a remote publisher's only audio stream (1000 + 10 x mindex).
pub const REMOTE_PUBLISHER_SSRC: u32 = 1000;

impl RemotePublisher {
    pub fn add(url: &JanusUrl, name: &str, creds: &Credentials) -> Result<Self, JanusError> {
        let client = JanusClient::connect(&url.api(), creds.token.clone())?;
        let handle = client.attach_videoroom()?;
        let id = 1 + (super::rand_ssrc() as u64 % 1_000_000_000);
        let mut body = json!({
            "request": "add_remote_publisher", "room": url.room, "id": id, "display": name,
            "streams": [{"type": "audio", "mindex": 0, "mid": "0", "codec": "opus", "stereo": true, "audiolevel_ext_id": crate::rtp::sender::AUDIO_LEVEL_ID}],
        });
        if let Some(s) = &creds.secret {
            body["secret"] = json!(s);
        }
        let data = match client.request(handle, body) {
            Ok(d) => d.unwrap_or(Value::Null),
            Err(e) => {
                client.destroy();
                return Err(e);
            }
        };
        let port = data
            .get("port")
            .and_then(Value::as_u64)
            .ok_or_else(|| JanusError::Protocol { request: "add_remote_publisher".into(), reply: data.to_string() })?;
        let ip = data.get("ip").and_then(Value::as_str).unwrap_or(&url.host).to_string();
        let rtp = (ip.as_str(), port as u16).to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(|| {
            JanusError::Protocol {
                request: "add_remote_publisher".into(),
                reply: format!("unusable address {ip}:{port}"),
            }
        })?;
        Ok(RemotePublisher { client, handle, id, rtp, room: url.room, secret: creds.secret.clone() })
    }

    pub fn remove(&self) {
        let mut body = json!({"request": "remove_remote_publisher", "room": self.room, "id": self.id});
        if let Some(s) = &self.secret {
            body["secret"] = json!(s);
        }
        let _ = self.client.request(self.handle, body);
        self.client.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_janus_urls_and_refuses_bad_ones() {
        assert_eq!(
            JanusUrl::parse("janus://127.0.0.1:8088/1234").unwrap(),
            JanusUrl { host: "127.0.0.1".into(), port: 8088, room: 1234 }
        );
        assert_eq!(JanusUrl::parse("janus://example.org/7").unwrap().api(), "http://example.org:8088/janus");
        assert!(JanusUrl::parse("janus://h:1/room").unwrap_err().contains("'room' is not a number"));
        assert!(JanusUrl::parse("http://h:1/2").is_err());
    }

    #[test]
    fn reads_publishers_from_joined_and_event_messages() {
        let data = json!({"videoroom": "joined", "publishers": [
            {"id": 5, "display": "Ana", "streams": [{"type": "audio", "mid": "0"}, {"type": "video", "mid": "1"}]},
            {"id": 6, "display": "Ben", "streams": [{"type": "audio", "mid": "a", "disabled": true}]},
        ]});
        let p = publishers_of(&data);
        assert_eq!(p[0], Publisher { id: 5, display: "Ana".into(), audio_mids: vec!["0".into()] });
        assert!(p[1].audio_mids.is_empty());
    }

    #[test]
    fn plugin_errors_name_what_to_check() {
        let e = plugin_result("join", json!({"error_code": 433, "error": "Unauthorized (wrong pin)"})).unwrap_err();
        assert!(e.to_string().contains("wrong pin") && e.to_string().contains("--pin"), "{e}");
    }
}
