//! `speak --to janus://...`: roomcast joins a Janus room as a remote publisher and sends it plain RTP.

use std::net::{SocketAddr, ToSocketAddrs};

use serde_json::{Value, json};

use super::client::{Credentials, JanusClient, JanusError, JanusUrl};

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
        let id = 1 + (crate::rtp::rand_ssrc() as u64 % 1_000_000_000);
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
