//! Live listening, as someone outside a room relies on it: while a real room is recorded (two
//! speakers played by `roomcast speak` in real time), `roomcast serve` gives its live mix as HLS
//! and as one continuous MP3 stream, read by ffmpeg/ffprobe and played by the real Chromium; the
//! feed announces the room (Podcasting 2.0 `podcast:liveItem`, read by Python's feedparser and
//! ElementTree) from planned, to live, to ended, and then as an episode under the same guid. What
//! a listener heard is found in the final master (tests/tools/align.py) at the delay expected.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use common::http::{Server, get, request, serve};
use common::live::{fake_live_room, finish, free_udp_port, rc, session_in, spawn, spawn_in_library};
use common::*;

fn python(script: &str, args: &[&str]) -> Value {
    let out = tool("python3").arg(repo().join("tests/tools").join(script)).args(args).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap()
}

fn feed(server: &Server) -> Value {
    let feed = python("feed_live.py", &[&format!("{}/feed.xml", server.base)]);
    assert_eq!(feed["bozo"], 0, "the feed parses: {feed}");
    feed
}

fn live_item<'a>(feed: &'a Value, guid: &str) -> Option<&'a Value> {
    feed["live"].as_array().unwrap().iter().find(|i| i["guid"] == guid)
}

/// The live playlist once it lists at least `n` segments.
fn playlist_with(server: &Server, id: &str, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = get(&server.base, &format!("/rooms/{id}/live.m3u8"));
        if r.status == 200 && r.text().matches("#EXTINF").count() >= n {
            return r.text();
        }
        assert!(Instant::now() < deadline, "no live playlist of {n} segments: {} {}", r.status, r.text());
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn media_sequence(playlist: &str) -> u64 {
    playlist.lines().find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:")).unwrap().parse().unwrap()
}

fn ffprobe_codec(url_or_path: &str) -> String {
    let out = tool("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
        .arg(url_or_path)
        .output()
        .unwrap();
    // HLS is listed once per program and stream: every one must say the same.
    let text = String::from_utf8_lossy(&out.stdout);
    let mut codecs: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    codecs.dedup();
    codecs.join(",")
}

/// ffmpeg listening to the continuous stream, keeping what it hears (bit for bit) in `out`.
fn capture(url: &str, out: &Path, seconds: Option<u32>) -> Child {
    let mut c = tool("ffmpeg");
    c.args(["-v", "error", "-nostdin", "-y", "-i", url]);
    if let Some(s) = seconds {
        c.args(["-t", &s.to_string()]);
    }
    c.args(["-c", "copy", "-f", "mp3"]).arg(out).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64()
}

fn unix(rfc3339: &str) -> f64 {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap();
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_micros()) / 1e6
}

#[test]
fn a_live_room_is_heard_outside_it_announced_in_the_feed_and_becomes_an_episode_under_the_same_guid() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    // Planned ahead: in the feed as pending, under the id the room will keep. A time in the past or
    // one that is no time is refused in one line.
    let at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let planned: Value =
        serde_json::from_str(&ok(rc(&lib, &["--json", "schedule", "--title", "Listening party", "--at", &at])))
            .unwrap();
    let id = planned["id"].as_str().unwrap().to_string();
    for (bad, says) in [("2020-01-01T10:00:00Z", "in the past"), ("next friday", "not a time")] {
        let out = rc(&lib, &["schedule", "--title", "Too late", "--at", bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says) && err.trim().lines().count() == 1, "{bad}: {err}");
    }
    let server = serve(&lib, &["-v"]);
    let pending = feed(&server);
    let item = live_item(&pending, &id).unwrap_or_else(|| panic!("the planned room is announced: {pending}"));
    assert_eq!(item["status"], "pending");
    assert_eq!(unix(item["start"].as_str().unwrap()).round(), unix(&at).round());

    // The room: two speakers talking in turn, recorded into the library with its live mix.
    let port = free_udp_port();
    let url = format!("rtp://127.0.0.1:{port}");
    let recorder = spawn_in_library(
        &lib,
        &["--json", "record", &url, "--scheduled", &id, "--max-duration", "26", "--no-captions"],
    );
    std::thread::sleep(Duration::from_millis(800));
    let speakers = [
        spawn(&["speak", sample("maya.opus").to_str().unwrap(), "--to", &url, "--name", "Maya"]),
        spawn(&["speak", sample("theo.opus").to_str().unwrap(), "--to", &url, "--name", "Theo"]),
    ];
    let session = session_in(&lib);
    assert_eq!(session.file_name().unwrap().to_string_lossy(), id, "recorded under the planned id");
    let started_at = unix(room_json(&session)["started_at"].as_str().unwrap());

    // HLS: a sliding playlist of MP3 segments, growing.
    let first = playlist_with(&server, &id, 4);
    assert!(first.starts_with("#EXTM3U") && !first.contains("#EXT-X-ENDLIST"), "{first}");
    let hls = format!("{}/rooms/{id}/live.m3u8", server.base);
    assert_eq!(ffprobe_codec(&hls), "mp3", "ffprobe reads the HLS stream");
    // The continuous stream, as ffmpeg (a listener) hears it, and the page's player in Chromium.
    let captured = dir.path().join("heard.mp3");
    let capture_started = unix_now();
    let listener = capture(&format!("{}/rooms/{id}/live.mp3", server.base), &captured, Some(9));
    let browser = Command::new("node")
        .current_dir(repo().join("tests/browser"))
        .args(["listen.mjs", &server.base, &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let later = playlist_with(&server, &id, 4);
    assert!(media_sequence(&later) > media_sequence(&first) || later.len() > first.len(), "{first}\n---\n{later}");
    let during = feed(&server);
    let item = live_item(&during, &id).unwrap_or_else(|| panic!("the room is live in the feed: {during}"));
    assert_eq!(item["status"], "live");
    assert!(item["end"].is_null());
    assert_eq!(item["enclosure"]["type"], "audio/mpeg");
    assert_eq!(item["enclosure"]["url"], format!("{}/rooms/{id}/live.mp3", server.base));
    assert_eq!(item["alternate_type"], "application/x-mpegURL");
    assert_eq!(item["alternate_uri"], hls);
    assert_eq!(item["content_link"], format!("{}/rooms/{id}", server.base));
    assert!((unix(item["start"].as_str().unwrap()) - started_at).abs() < 1.0, "{item}");
    // Asking for what is not there.
    assert_eq!(get(&server.base, &format!("/rooms/{id}/live/seg-999999.mp3")).status, 404);
    assert_eq!(get(&server.base, &format!("/rooms/{id}/live/live.json")).status, 404);
    let range = request(&server.base, &format!("/rooms/{id}/live/seg-000000.mp3"), &[("Range", "bytes=999999-")]);
    assert_eq!(range.status, 416);
    assert_eq!(get(&server.base, "/rooms/no-such-room/live.mp3").status, 404);

    let heard = listener.wait_with_output().unwrap();
    assert!(heard.status.success(), "ffmpeg listened: {}", String::from_utf8_lossy(&heard.stderr));
    assert_eq!(ffprobe_codec(captured.to_str().unwrap()), "mp3");
    let seconds = ffmpeg_sample_count(&captured) as f64 / 48_000.0;
    assert!(seconds > 8.0, "9 s asked, {seconds:.1} s heard");
    let played = browser.wait_with_output().unwrap();
    let seen: Value = serde_json::from_str(String::from_utf8_lossy(&played.stdout).lines().last().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&played.stderr)));
    assert!(seen["failure"].is_null() && seen["errors"] == serde_json::json!([]), "{seen}");
    assert_eq!(seen["src"], format!("/rooms/{id}/live.mp3"));
    let (t0, t1) = (seen["t0"].as_f64().unwrap(), seen["t1"].as_f64().unwrap());
    assert!(t1 - t0 > 2.5 && seen["paused"] == false, "the player plays the live room: {seen}");

    let report: Value = serde_json::from_str(&finish(recorder)).unwrap();
    // The speakers' files are longer than the room.
    for mut s in speakers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let mix = &report["outputs"]["live_mix"];
    assert!(mix["segments"].as_u64().unwrap() >= 20, "{mix}");
    assert_eq!(mix["delay_seconds"], 1.0);
    assert_eq!(mix["dropped_packets"], 0);
    assert!(mix["listeners"]["bytes"].as_u64().unwrap() > 0, "bytes served are reported: {mix}");
    // Over: the playlist says so, the stream is no longer offered, the feed item has ended.
    let last = get(&server.base, &format!("/rooms/{id}/live.m3u8"));
    assert!(last.status == 200 && last.text().ends_with("#EXT-X-ENDLIST\n"), "{}", last.text());
    assert_eq!(get(&server.base, &format!("/rooms/{id}/live.mp3")).status, 404);
    let after = feed(&server);
    let item = live_item(&after, &id).unwrap_or_else(|| panic!("{after}"));
    assert_eq!(item["status"], "ended");
    assert!(unix(item["end"].as_str().unwrap()) > unix(item["start"].as_str().unwrap()) + 20.0, "{item}");

    // Published: an episode under the same guid, its enclosure the master's exact size.
    ok(rc(&lib, &["publish", session.to_str().unwrap(), "--format", "mp3", "--model", "tiny.en", "--language", "en"]));
    let published = feed(&server);
    assert!(live_item(&published, &id).is_none(), "no longer a live item: {published}");
    let episode = published["items"].as_array().unwrap().iter().find(|i| i["guid"] == id.as_str()).unwrap();
    let master = session.join("master.mp3");
    assert_eq!(episode["length"], std::fs::metadata(&master).unwrap().len());

    // What the listener heard is the room: found in the master where the live edge was.
    let found = python("align.py", &[captured.to_str().unwrap(), master.to_str().unwrap()]);
    let lag = found["lag"].as_f64().unwrap();
    let edge = capture_started - started_at;
    assert!(found["correlation"].as_f64().unwrap() > 0.6, "{found}");
    // The stream starts up to two segments and the 1 s playout delay behind the live edge.
    assert!(lag > edge - 5.0 && lag < edge, "heard from {lag:.2} s, live edge at {edge:.2} s: {found}");
    let (_, true_peak) = ebur128(&captured);
    assert!(true_peak <= -1.0, "true peak {true_peak} dBTP");
}

#[test]
fn a_recorder_killed_mid_room_ends_the_stream_for_listeners_and_leaves_only_whole_segments() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let server = serve(&lib, &[]);
    let port = free_udp_port();
    let url = format!("rtp://127.0.0.1:{port}");
    let mut recorder =
        spawn_in_library(&lib, &["record", &url, "--title", "Cut short", "--max-duration", "60", "--no-captions"]);
    std::thread::sleep(Duration::from_millis(800));
    let mut speaker = spawn(&["speak", sample("maya.opus").to_str().unwrap(), "--to", &url, "--name", "Maya"]);
    let session = session_in(&lib);
    let id = session.file_name().unwrap().to_string_lossy().into_owned();
    playlist_with(&server, &id, 3);
    let captured = dir.path().join("heard.mp3");
    let listener = capture(&format!("{}/rooms/{id}/live.mp3", server.base), &captured, None);
    std::thread::sleep(Duration::from_secs(3));
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    let killed = Instant::now();
    // The listener's stream ends by itself, cleanly, soon after.
    let heard = listener.wait_with_output().unwrap();
    assert!(heard.status.success(), "{}", String::from_utf8_lossy(&heard.stderr));
    assert!(killed.elapsed() < Duration::from_secs(10), "the stream ended {:?} after the kill", killed.elapsed());
    assert_eq!(ffprobe_codec(captured.to_str().unwrap()), "mp3");
    let _ = speaker.kill();
    let _ = speaker.wait();
    // Only whole segments: no temporary files, and each one decodes without an error.
    let live = session.join("live");
    let mut segments = 0;
    for entry in std::fs::read_dir(&live).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains("tmp"), "a half-written file was left: {name}");
        if name.starts_with("seg-") {
            segments += 1;
            let out = tool("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(live.join(&name))
                .args(["-f", "null", "-"])
                .output()
                .unwrap();
            assert!(out.status.success() && out.stderr.is_empty(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    assert!(segments >= 3, "{segments} segments");
    // The room is recovered: the feed says the live room ended.
    ok(rc(&lib, &["recover", session.to_str().unwrap()]));
    let item = feed(&server)["live"].as_array().unwrap().iter().find(|i| i["guid"] == id.as_str()).cloned();
    assert_eq!(item.as_ref().map(|i| i["status"].clone()), Some("ended".into()), "{item:?}");
}

/// MP3 frames to stand in for the recorder's segments: `seconds` of a tone, 48 kHz mono 64 kbps.
fn mp3_tone(dir: &Path, name: &str, seconds: f64) -> Vec<u8> {
    let path = dir.join(name);
    let out = tool("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &format!("sine=frequency=440:duration={seconds}")])
        .args(["-ar", "48000", "-ac", "1", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(path).unwrap()
}

#[test]
fn a_damaged_segment_is_skipped_and_the_stream_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    // A recorder "holding" the room (flock, as the recorder's own lock), and its live folder.
    let (session, id, mut holder) = fake_live_room(dir.path(), &lib, "");
    let live = session.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let info = |ended: bool| {
        serde_json::json!({"format": "mp3", "bitrate_kbps": 64, "segment_seconds": 1.008, "delay_seconds": 1.0, "ended": ended})
            .to_string()
    };
    std::fs::write(live.join("live.json"), info(false)).unwrap();
    let good: Vec<Vec<u8>> = (0..3).map(|i| mp3_tone(dir.path(), &format!("t{i}.mp3"), 1.0)).collect();
    std::fs::write(live.join("seg-000000.mp3"), &good[0]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let server = serve(&lib, &["-v"]);
    let base = server.base.clone();
    let path = format!("/rooms/{id}/live.mp3");
    let listener = std::thread::spawn(move || request(&base, &path, &[]));
    std::thread::sleep(Duration::from_millis(800));
    std::fs::write(live.join("seg-000001.mp3"), b"\x00\x01not an mp3 at all, a damaged segment").unwrap();
    std::fs::write(live.join("seg-000002.mp3"), &good[1]).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    std::fs::write(live.join("seg-000003.mp3"), &good[2]).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    std::fs::write(live.join("live.json"), info(true)).unwrap();
    let heard = listener.join().unwrap();
    assert_eq!(heard.status, 200);
    assert_eq!(heard.headers["content-type"], "audio/mpeg");
    let expected: Vec<u8> = good.concat();
    assert_eq!(heard.body, expected, "the good segments, in order, the damaged one left out");
    // The playlist still lists what is on disk, ending now.
    let playlist = get(&server.base, &format!("/rooms/{id}/live.m3u8")).text();
    assert!(playlist.ends_with("#EXT-X-ENDLIST\n") && playlist.contains("seg-000003.mp3"), "{playlist}");
    holder.kill().unwrap();
    holder.wait().unwrap();
}
