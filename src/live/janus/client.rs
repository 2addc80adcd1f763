//! Janus VideoRoom over its HTTP API: a small blocking client, and the recorder's passive
//! participant (joins as a publisher that never publishes, so it hears the roster and is never
//! heard).
//!
//! Facts this relies on were measured against Janus 1.1.2 (tests/janus/NOTES.md): replies to
//! synchronous requests come back in the POST as `success` with `plugindata.data` (which may hold an
//! `error_code`); `join` is acknowledged and answered on the long poll; forwarded RTP keeps the
//! publisher's sequence numbers and header extensions, and Janus sends no sender reports.

use std::net::{IpAddr, ToSocketAddrs, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

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
    pub(crate) fn authorize(&self, body: &mut Value) {
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
