//! Live recording end to end, with real peers: ffmpeg's RTP sender, `roomcast speak`, and a real
//! Janus (Debian's package, started fresh per test on ports of its own with tests/janus' config).
//!
//! What a user relies on: each speaker lands on their own track (checked by the tone they sent),
//! late joiners start where they joined, joins/leaves/talking are in events.jsonl, the recorder is
//! never a publisher, a `kill -9` leaves readable tracks that `recover` finalizes, and bad rooms get
//! a clear one-line error with nothing left behind.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::live::*;
use common::*;

/// Where a `tone` comes back after its 200 ms silence (TONE_LANDMARK into the file), in seconds.
fn landmark(pcm: &[f32]) -> f64 {
    let first = onset(pcm, 48_000, 0.0, 0.1);
    let win = 480;
    let from = ((first + 0.3) * 48_000.0) as usize;
    let gap = (from..pcm.len().saturating_sub(win))
        .step_by(win)
        .find(|&i| pcm[i..i + win].iter().all(|s| s.abs() < 0.005))
        .expect("the tone's 200 ms silence");
    onset(pcm, 48_000, gap as f64 / 48_000.0, 0.1)
}

/// Three speakers into a Janus room recorded with `media` options: Ana from the start, Ben 2 s late,
/// Cleo leaving after 2 s.
fn janus_room_three_speakers(janus: &Janus, media: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    let (a, b, c) = (tone(dir.path(), 300, 6.0), tone(dir.path(), 700, 4.0), tone(dir.path(), 1100, 6.0));
    let url = janus.url(1234);
    let mut args = vec!["--json", "record", &url, "--max-duration", "9", "--out", session.to_str().unwrap()];
    args.extend(media);
    let recorder = spawn(&args);
    std::thread::sleep(Duration::from_millis(800));
    let t0 = Instant::now();
    let ana = spawn(&["--json", "speak", a.to_str().unwrap(), "--to", &url, "--name", "Ana"]);
    let cleo = spawn(&["speak", c.to_str().unwrap(), "--to", &url, "--name", "Cleo", "--limit", "2"]);
    std::thread::sleep(Duration::from_millis(2000).saturating_sub(t0.elapsed()));
    let ben = spawn(&["--json", "speak", b.to_str().unwrap(), "--to", &url, "--name", "Ben"]);

    // While they talk: the recorder is in the room but publishes nothing.
    std::thread::sleep(Duration::from_millis(1000));
    let client =
        roomcast::live::janus::JanusClient::connect(&format!("http://127.0.0.1:{}/janus", janus.http), None).unwrap();
    let handle = client.attach_videoroom().unwrap();
    let list =
        client.request(handle, serde_json::json!({"request": "listparticipants", "room": 1234})).unwrap().unwrap();
    let participants = list["participants"].as_array().unwrap();
    let me = participants.iter().find(|p| p["display"] == "roomcast recorder").expect("recorder joined the room");
    assert_eq!(me["publisher"], false, "the recorder must never publish: {list}");
    assert!(participants.iter().any(|p| p["display"] == "Ben" && p["publisher"] == true));
    client.destroy();

    let started = |out: String| -> (f64, f64) {
        let r: serde_json::Value = serde_json::from_str(&out).unwrap();
        (r["started_at_unix"].as_f64().unwrap(), r["worst_lateness_ms"].as_f64().unwrap())
    };
    let (ana_sent, ana_late) = started(finish(ana));
    let (ben_sent, ben_late) = started(finish(ben));
    finish(cleo);
    let report: serde_json::Value = serde_json::from_str(&finish(recorder)).unwrap();
    assert_eq!(report["network"]["lost"], 0, "{report}");
    let room = room_json(&session);
    assert_eq!(room["status"], "complete");
    let freqs = [300.0, 700.0, 1100.0];
    let mut onsets = Vec::new();
    for (name, freq) in [("Ana", 300.0), ("Ben", 700.0), ("Cleo", 1100.0)] {
        let track = track_of(&session, &room, name);
        let (valid, text) = opusinfo(&track);
        assert!(valid, "{name}: opusinfo: {text}");
        let pcm = ffmpeg_decode(&track);
        assert_eq!(dominant(&pcm, &freqs), freq, "{name}'s track carries someone else's audio");
        onsets.push(landmark(&pcm));
    }
    // Ben started sending about 2 s after Ana: by how much exactly is what the senders report (a
    // process start-up on a busy machine varies by 100 ms). Compared at the landmark inside their
    // audio, since a subscriber may miss a speaker's first packets; a sender that fell behind its
    // own schedule widens the tolerance by as much.
    let (late, expected) = (onsets[1] - onsets[0], ben_sent - ana_sent);
    let tolerance = 0.040 + (ana_late + ben_late) / 1000.0;
    assert!(
        (late - expected).abs() < tolerance,
        "Ben starts {late:.3} s after Ana in the recording, sent {expected:.3} s after (± {tolerance:.3} s)"
    );
    let ev = events(&session);
    for id in ["ana", "ben", "cleo"] {
        assert!(has_event(&ev, "joined", id).is_some(), "{id} joined: {ev:?}");
        assert!(has_event(&ev, "talking", id).is_some(), "{id} talking: {ev:?}");
    }
    // Janus said Cleo left: she left long before the room ended.
    let cleo_left = has_event(&ev, "left", "cleo").expect("Cleo left");
    assert!(cleo_left < onsets[0] + 2.5, "Cleo left at {cleo_left}");
}

#[test]
fn janus_room_through_rtp_forward() {
    let janus = Janus::start();
    janus_room_three_speakers(&janus, &["--media", "rtp-forward", "--admin-key", "roomcast-admin"]);
}

#[test]
fn janus_room_through_webrtc_subscriber() {
    let Some(veth) = Veth::create() else {
        eprintln!(
            "SKIPPED janus_room_through_webrtc_subscriber: cannot create a veth interface here \
             (needs root and iproute2); Janus offers no ICE candidates on loopback"
        );
        return;
    };
    let janus = Janus::start_with(&["-E", &veth.0]);
    janus_room_three_speakers(&janus, &["--media", "webrtc", "--listen", "127.0.0.2:0"]);
}

#[test]
fn plain_rtp_from_ffmpeg_and_speak_with_garbage_on_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("rtp-room");
    let port = free_udp_port();
    let url = format!("rtp://127.0.0.1:{port}");
    let recorder = spawn(&[
        "--json",
        "record",
        &url,
        "--speaker",
        "4660=Fiona",
        "--max-duration",
        "6",
        "--out",
        session.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(500));
    // Real RTP from ffmpeg's own Opus payloader, SSRC 0x1234.
    let ffmpeg = tool("ffmpeg")
        .args(["-v", "error", "-re", "-f", "lavfi", "-i", "sine=f=500:d=4:sample_rate=48000", "-c:a", "libopus"])
        .args(["-payload_type", "111", "-ssrc", "4660", "-f", "rtp"])
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let gil = tone(dir.path(), 900, 3.0);
    let speaker = spawn(&["speak", gil.to_str().unwrap(), "--to", &url, "--name", "Gil"]);
    let junk = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..200u32 {
        let bytes: Vec<u8> = (0..(i % 90)).map(|j| (j * 37 + i) as u8).collect();
        junk.send_to(&bytes, ("127.0.0.1", port)).unwrap();
    }
    finish(speaker);
    assert!(ffmpeg.wait_with_output().unwrap().status.success());
    let report: serde_json::Value = serde_json::from_str(&finish(recorder)).unwrap();
    assert!(report["network"]["malformed"].as_u64().unwrap() > 0, "garbage counted: {report}");
    let room = room_json(&session);
    let names: Vec<&str> = room["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "no phantom speakers from garbage: {names:?}");
    for (name, freq) in [("Fiona", 500.0), ("Gil", 900.0)] {
        let track = track_of(&session, &room, name);
        assert!(opusinfo(&track).0, "{name}: {}", opusinfo(&track).1);
        assert_eq!(dominant(&ffmpeg_decode(&track), &[500.0, 900.0]), freq, "{name}");
    }
}

#[test]
fn kill_9_mid_recording_leaves_readable_tracks_and_recover_finalizes_them() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("crashed");
    let port = free_udp_port();
    let url = format!("rtp://127.0.0.1:{port}");
    let voice = tone(dir.path(), 440, 8.0);
    let spawned = std::time::Instant::now();
    let mut recorder = spawn(&["record", &url, "--out", session.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(500));
    let speaker = spawn(&["speak", voice.to_str().unwrap(), "--to", &url, "--name", "Hana"]);
    std::thread::sleep(Duration::from_millis(3500));
    recorder.kill().unwrap(); // SIGKILL: no chance to close anything
    let ran = spawned.elapsed().as_secs_f64();
    recorder.wait().unwrap();
    let room = room_json(&session);
    assert_eq!(room["status"], "recording");
    let track = track_of(&session, &room, "Hana");
    // Readable as it is, by an independent decoder, up to about a second before the kill.
    let decoded = ffmpeg_decode(&track).len() as f64 / 48_000.0;
    assert!(decoded > 1.8, "only {decoded:.2} s readable after kill -9");
    let _ = speaker.wait_with_output();

    let out = ok(roomcast(&["--json", "recover", session.to_str().unwrap()]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let room = room_json(&session);
    assert_eq!(room["status"], "interrupted");
    let duration = room["duration"].as_f64().unwrap();
    assert!((duration - report["duration"].as_f64().unwrap()).abs() < 1e-9);
    // The room clock ran about 4 s (0.5 s before Hana, 3.5 s with her; longer when the machine is
    // slow to start her): at most about a second of it is lost, and none is invented.
    assert!(duration > ran - 1.2 && duration < ran + 0.1, "duration {duration} of {ran:.2} s recorded");
    let (valid, text) = opusinfo(&track);
    assert!(valid && text.contains("Playback length"), "{text}");
    let samples = ffmpeg_decode(&track).len() as f64 / 48_000.0;
    assert!((samples - duration).abs() < 0.021, "track {samples} s vs room {duration} s");
    // Recovering twice is refused: the session is no longer being recorded.
    let again = roomcast(&["recover", session.to_str().unwrap()]);
    assert!(again.status.success() || !String::from_utf8_lossy(&again.stderr).is_empty());
}

#[test]
fn bad_rooms_get_one_line_errors_and_leave_nothing_behind() {
    let janus = Janus::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let dead = format!("janus://127.0.0.1:{}/1234", free_tcp_port());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![dead], "cannot reach Janus"),
        (vec![janus.url(9999)], "No such room"),
        (vec![janus.url(4321), "--pin".into(), "0000".into()], "wrong pin"),
        (vec!["rtsp://127.0.0.1:554/x".into()], "must be rtp://"),
        (vec!["rtp://127.0.0.1:99999".into()], "expected rtp://ADDRESS:PORT"),
    ];
    for (args, expected) in cases {
        let mut all = vec!["record".to_string()];
        all.extend(args);
        all.extend(["--out".to_string(), out.to_str().unwrap().to_string(), "--max-duration".into(), "2".into()]);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let result = roomcast(&refs);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success(), "{all:?} should fail");
        assert!(stderr.contains(expected), "{all:?}: expected '{expected}' in: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!out.exists(), "{all:?} left a session folder behind");
    }
}

#[test]
fn receiver_reports_reach_a_sender_that_sends_rtcp() {
    use roomcast::rtp::packet::{AudioLevel, build_rtp};
    use roomcast::rtp::rtcp::{self, Rtcp, SenderReport};
    let dir = tempfile::tempdir().unwrap();
    let port = free_udp_port();
    let out = dir.path().join("room");
    let recorder =
        spawn(&["record", &format!("rtp://127.0.0.1:{port}"), "--max-duration", "8", "--out", out.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(400));
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let ssrc = 0xC0FFEE;
    let start = std::time::Instant::now();
    for n in 0..300u16 {
        if n % 50 == 0 {
            let mut compound = rtcp::build_sender_report(&SenderReport {
                ssrc,
                ntp: rtcp::ntp_from_secs(3.9e9 + n as f64 / 50.0),
                rtp_timestamp: n as u32 * 960,
                packets: n as u32,
                octets: 0,
            });
            compound.extend(rtcp::build_sdes(ssrc, "mo@test", Some("Mo")));
            sender.send_to(&compound, ("127.0.0.1", port)).unwrap();
        }
        // Every tenth packet lost on the way: the report must say so.
        if n % 10 != 5 {
            let level = AudioLevel { voice: true, level: 30 };
            let packet = build_rtp(111, false, n, n as u32 * 960, ssrc, Some((1, level)), &[0xF8, 0xFF, 0xFE]);
            sender.send_to(&packet, ("127.0.0.1", port)).unwrap();
        }
        std::thread::sleep(
            (start + Duration::from_millis(20 * (n as u64 + 1))).saturating_duration_since(std::time::Instant::now()),
        );
    }
    sender.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 1500];
    let mut block = None;
    while let Ok(n) = sender.recv(&mut buf) {
        for report in rtcp::parse(&buf[..n]).unwrap_or_default() {
            if let Rtcp::ReceiverReport { reports, .. } = report {
                block = reports.into_iter().find(|b| b.ssrc == ssrc).or(block);
            }
        }
    }
    finish(recorder);
    let block = block.expect("a receiver report about our stream came back");
    assert!(block.cumulative_lost >= 20, "losses reported: {block:?}");
    assert!(block.last_sr != 0, "our last sender report is acknowledged: {block:?}");
}

#[test]
fn a_gstreamer_sender_is_recorded_under_the_name_given_for_its_ssrc() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("gst-room");
    let port = free_udp_port();
    let recorder = spawn(&[
        "record",
        &format!("rtp://127.0.0.1:{port}"),
        "--speaker",
        "0x6057=Gus",
        "--max-duration",
        "5",
        "--out",
        session.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_millis(400));
    // GStreamer's own Opus encoder and RTP payloader, in real time.
    let pipeline = format!(
        "audiotestsrc is-live=true freq=650 volume=0.3 samplesperbuffer=960 num-buffers=150 ! audio/x-raw,rate=48000 ! \
         audioconvert ! opusenc ! rtpopuspay pt=111 ssrc=24663 ! udpsink host=127.0.0.1 port={port}"
    );
    let gst = tool("gst-launch-1.0").arg("-q").args(pipeline.split_whitespace()).output().unwrap();
    assert!(gst.status.success(), "{}", String::from_utf8_lossy(&gst.stderr));
    finish(recorder);
    let room = room_json(&session);
    let track = track_of(&session, &room, "Gus");
    assert!(opusinfo(&track).0, "{}", opusinfo(&track).1);
    let pcm = ffmpeg_decode(&track);
    assert_eq!(dominant(&pcm, &[400.0, 650.0, 900.0]), 650.0);
    let heard = pcm.iter().filter(|s| s.abs() > 0.05).count() as f64 / 48_000.0;
    assert!(heard > 2.5, "about 3 s of tone recorded, got {heard:.2} s");
}

#[test]
fn demo_records_the_sample_live_and_masters_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let sample = repo().join("samples/conversation");
    let library = dir.path().join("library");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_LIBRARY", &library)
        .env("ROOMCAST_MODELS", shared().join("models"))
        .env_remove("ROOMCAST_MODEL")
        .args(["--json", "demo", "--limit", "6", "--search", "welcome", "--out"])
        .arg(&out)
        .arg("--sample")
        .arg(&sample)
        .output()
        .unwrap();
    let stdout = ok(output);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["record"]["network"]["lost"], 0);
    let room = room_json(&out);
    let mut names: Vec<&str> =
        room["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Maya", "Theo"], "Priya joins at 38 s, after the 6 s played");
    for name in ["Maya", "Theo"] {
        assert!(opusinfo(&track_of(&out, &room, name)).0);
    }
    let master = out.join("master.mp3");
    let decoded = ffmpeg_decode(&master).len() as f64 / 48_000.0;
    assert!((decoded - room["duration"].as_f64().unwrap()).abs() < 0.05, "master {decoded} s");
    // Transcribed by whisper (tiny.en), scored against the script, published and searched.
    let transcript = &report["transcript"];
    assert!(transcript["note"].as_str().unwrap().contains("transcribed with whisper"), "{report}");
    let maya = transcript["scores"].as_array().unwrap().iter().find(|s| s["name"] == "Maya").expect("Maya scored");
    assert_eq!(maya["wrong_speaker"], 0, "{report}");
    assert!(maya["reference_words"].as_u64().unwrap() > 0, "{report}");
    assert!(maya["wer"].as_f64().unwrap() < 0.5, "{report}");
    assert_eq!(report["index"]["room"], room["id"]);
    let hit = &report["search"][0];
    assert_eq!(hit["name"], "Maya", "{report}");
    assert!(
        hit["at"].as_f64().unwrap() > 0.5 && hit["at"].as_f64().unwrap() < 2.5,
        "Maya's welcome, about 1 s in: {hit}"
    );
    let rooms = std::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_LIBRARY", &library)
        .args(["--json", "rooms"])
        .output()
        .unwrap();
    let rooms: serde_json::Value = serde_json::from_str(&ok(rooms)).unwrap();
    assert_eq!(rooms.as_array().unwrap().len(), 1);
}

#[test]
fn without_a_model_the_demo_says_so_and_never_passes_the_script_off_as_a_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_LIBRARY", dir.path().join("library"))
        .env("ROOMCAST_MODELS", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env_remove("ROOMCAST_MODEL")
        .args(["--json", "demo", "--limit", "3", "--out"])
        .arg(&out)
        .arg("--sample")
        .arg(repo().join("samples/conversation"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(output)).unwrap();
    let note = report["transcript"]["note"].as_str().unwrap();
    assert!(note.contains("not transcribed") && note.contains("roomcast models download tiny.en"), "{note}");
    assert!(!out.join("transcript.json").exists(), "no transcript without a model");
    assert_eq!(report["index"]["segments"], 0, "{report}");
    assert!(out.join("master.mp3").is_file(), "still mastered and published");
}

#[test]
fn a_room_recorded_into_the_library_is_in_a_folder_named_by_its_room_id() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let url = format!("rtp://127.0.0.1:{}", free_udp_port());
    // Far from UTC, so a folder named from local time could not match the id.
    let out = ok(std::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("TZ", "Pacific/Kiritimati")
        .args(["--json", "--library", library.to_str().unwrap(), "record", &url])
        .args(["--title", "Late Show", "--max-duration", "1"])
        .output()
        .unwrap());
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let session = std::path::PathBuf::from(report["session"].as_str().unwrap());
    let room = room_json(&session);
    // One clock for both (UTC), so the folder and the id agree whatever the local time zone.
    assert_eq!(session.parent().unwrap(), library.join("rooms"));
    assert_eq!(session.file_name().unwrap().to_str().unwrap(), room["id"].as_str().unwrap());
    assert!(room["id"].as_str().unwrap().ends_with("-late-show"), "{}", room["id"]);
}
