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

/// `roomcast` with the library `lib` and the shared models (for captions and transcripts).
pub fn in_library(c: &mut Command, lib: &Path) {
    c.env("ROOMCAST_MODELS", super::shared().join("models")).env("ROOMCAST_LIBRARY", lib);
}

/// Runs `roomcast` on the library `lib`.
pub fn rc(lib: &Path, args: &[&str]) -> std::process::Output {
    let mut c = bin();
    in_library(&mut c, lib);
    c.args(args).output().unwrap()
}

/// Starts `roomcast` on the library `lib`, its output piped.
pub fn spawn_in_library(lib: &Path, args: &[&str]) -> Child {
    let mut c = bin();
    in_library(&mut c, lib);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// The session folder the recorder made in the library, once it is there.
pub fn session_in(lib: &Path) -> PathBuf {
    let rooms = lib.join("rooms");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let first = std::fs::read_dir(&rooms).ok().and_then(|mut d| d.next()).and_then(|e| e.ok());
        if let Some(dir) = first.filter(|d| d.path().join("room.json").is_file()) {
            return dir.path();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no session appeared in {}", rooms.display());
}

/// A session that says it is being recorded, with a recorder "holding" it (flock(1), as the
/// recorder's own lock), indexed into a library: what `serve` sees of a live room.
pub fn fake_live_room(dir: &Path, lib: &Path, captions: &str) -> (PathBuf, String, Child) {
    let session = dir.join("live");
    super::ok(super::roomcast(&[
        "import",
        "--speaker",
        &format!("Maya={}", super::sample("maya.opus").display()),
        "--out",
        session.to_str().unwrap(),
    ]));
    let mut room = super::room_json(&session);
    room["status"] = "recording".into();
    std::fs::write(session.join("room.json"), room.to_string()).unwrap();
    std::fs::write(session.join("captions.jsonl"), captions).unwrap();
    super::ok(rc(lib, &["index", session.to_str().unwrap()]));
    let holder = Command::new("flock").args(["-s", "-o"]).arg(&session).args(["sleep", "60"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    (session, room["id"].as_str().unwrap().to_string(), holder)
}
