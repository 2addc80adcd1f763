//! Helpers for the live tests: free ports, tones, running roomcast, a fresh Janus, a veth.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{repo, tool};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_roomcast"))
}

pub fn free_udp_port() -> u16 {
    // An even port whose odd neighbour (RTCP) is free too.
    loop {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = s.local_addr().unwrap().port();
        if port.is_multiple_of(2) && port < 65_000 && std::net::UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Seconds into every `tone` file where a 200 ms silence ends: a landmark inside the audio for
/// alignment checks that must not depend on a track's very first packets (a WebRTC subscription
/// made while someone already talks starts with what is in flight once it connects).
pub const TONE_LANDMARK: f64 = 1.2;

pub fn tone(dir: &Path, freq: u32, secs: f64) -> PathBuf {
    let path = dir.join(format!("tone{freq}.wav"));
    let out = tool("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=f={freq}:d={secs}:sample_rate=48000"))
        .args(["-af", "volume=0.5,volume=enable='between(t,1,1.2)':volume=0", "-ac", "1"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

/// Which of `freqs` carries the most energy (Goertzel) in the loud part of `samples`.
pub fn dominant(samples: &[f32], freqs: &[f64]) -> f64 {
    let power = |f: f64| {
        let k = 2.0 * (2.0 * std::f64::consts::PI * f / 48_000.0).cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &x in samples {
            let s0 = x as f64 + k * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        s1 * s1 + s2 * s2 - k * s1 * s2
    };
    freqs.iter().copied().max_by(|a, b| power(*a).total_cmp(&power(*b))).unwrap()
}

pub fn events(session: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(session.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn has_event(events: &[serde_json::Value], kind: &str, speaker: &str) -> Option<f64> {
    events.iter().find(|e| e["type"] == kind && e["speaker"] == speaker).and_then(|e| e["t"].as_f64())
}

pub fn track_of(session: &Path, room: &serde_json::Value, name: &str) -> PathBuf {
    let s = room["speakers"].as_array().unwrap().iter().find(|s| s["name"] == name);
    let s = s.unwrap_or_else(|| panic!("no speaker {name} in {room}"));
    session.join(s["track"].as_str().unwrap())
}

/// A fresh Janus on ports of its own; killed on drop. One at a time: Janus 1.1 hands remote
/// publishers ports counting up from 10000 whatever its configuration, so two instances collide.
pub struct Janus {
    child: Child,
    pub http: u16,
    _turn: std::sync::MutexGuard<'static, ()>,
}

static ONE_JANUS: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Janus {
    pub fn start() -> Janus {
        Self::start_with(&[])
    }

    /// A Janus again on a given HTTP port (a restart).
    pub fn start_on(http: u16) -> Janus {
        Self::launch(http, &[])
    }

    pub fn start_with(extra: &[&str]) -> Janus {
        Self::launch(free_tcp_port(), extra)
    }

    fn launch(http: u16, extra: &[&str]) -> Janus {
        let turn = ONE_JANUS.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            Command::new("sh").args(["-c", "command -v janus"]).output().unwrap().status.success(),
            "janus is not installed: scripts/deps.sh test installs it (Debian package janus)"
        );
        let mut child = Command::new("sh")
            .arg(repo().join("tests/janus/run-janus.sh"))
            .arg(http.to_string())
            .args(["--", "-d", "3"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", http)).is_ok() {
                return Janus { child, http, _turn: turn };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("Janus did not start on port {http}");
    }

    pub fn url(&self, room: u64) -> String {
        format!("janus://127.0.0.1:{}/{room}", self.http)
    }
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn(args: &[&str]) -> Child {
    bin().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

pub fn finish(child: Child) -> String {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "roomcast failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A veth pair carrying 127.0.0.2, so Janus (which never offers loopback candidates) has an
/// interface to offer ICE candidates on; removed on drop.
pub struct Veth(pub String);

impl Veth {
    pub fn create() -> Option<Veth> {
        let name = format!("rc{}", std::process::id() % 100_000);
        let peer = format!("{name}p");
        let run = |args: &[&str]| Command::new("ip").args(args).status().map(|s| s.success()).unwrap_or(false);
        let veth = Veth(name.clone());
        let ok = run(&["link", "add", &name, "type", "veth", "peer", "name", &peer])
            && run(&["addr", "add", "127.0.0.2/32", "dev", &name])
            && run(&["link", "set", &name, "up"])
            && run(&["link", "set", &peer, "up"]);
        ok.then_some(veth)
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).status();
    }
}
