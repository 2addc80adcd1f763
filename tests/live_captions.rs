//! Live captions, as a listener of a room relies on them: while a real room is recorded (three
//! speakers played by `roomcast speak` in real time, from the shared speech, talking over each
//! other), every speaker's words arrive as captions under their exact name, read the way a
//! browser reads them (Server-Sent Events from `roomcast serve`, by tests/tools/sse.py), with the
//! real whisper tiny.en; final text never changes; the library lists the room as live with its
//! captions searchable; and once the room is published its transcript replaces the captions
//! everywhere. Scored by tests/tools/score.py (jiwer, whisper's normalizer), not by roomcast.

mod common;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::http::{get, serve};
use common::live::{fake_live_room, finish, free_udp_port, in_library, rc, session_in, spawn};
use common::*;

fn python(script: &str, args: &[&str]) -> Command {
    let mut c = tool("python3");
    c.arg(repo().join("tests/tools").join(script)).args(args);
    c
}

/// A room of three speakers with known truth (tests/tools/rooms.py), `seconds` long.
fn build_room(dir: &Path, seconds: f64, seed: u32) -> Value {
    let out = python(
        "rooms.py",
        &[
            "overlap",
            "--shared",
            shared().to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--speakers",
            "3",
            "--minutes",
            &(seconds / 60.0).to_string(),
            "--overlap",
            "0.12",
            "--seed",
            &seed.to_string(),
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "rooms.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap()
}

/// Each speaker of `truth` played into `url` at once; their `--json` reports.
fn speak_all(truth: &Value, url: &str) -> Vec<Child> {
    truth["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            spawn(&["--json", "speak", s["file"].as_str().unwrap(), "--to", url, "--name", s["name"].as_str().unwrap()])
        })
        .collect()
}

fn unix(rfc3339: &str) -> f64 {
    let t: chrono::DateTime<chrono::Utc> = rfc3339.parse().unwrap();
    t.timestamp_micros() as f64 / 1e6
}

/// The SSE client, reading from the start of the stream; its events come on the channel.
fn sse_client(base: &str, room: &str) -> (Child, std::sync::mpsc::Receiver<Value>) {
    let mut child = python("sse.py", &[&format!("{base}/rooms/{room}/live"), "--timeout", "180"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    (child, rx)
}

/// Final captions as a transcript on the truth's clock (`offset`: room time minus file time), for
/// score.py.
fn finals_as_transcript(events: &[Value], offset: f64) -> Value {
    let shift = |t: &Value| t.as_f64().unwrap() - offset;
    let segments: Vec<Value> = events
        .iter()
        .filter(|e| e["event"] == "final" && !e["data"]["text"].as_str().unwrap_or("").trim().is_empty())
        .map(|e| {
            let c = &e["data"];
            let words: Vec<Value> = c["words"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| serde_json::json!({"start": shift(&w["start"]), "end": shift(&w["end"]), "text": w["text"]}))
                .collect();
            serde_json::json!({"name": c["name"], "start": shift(&c["start"]), "end": shift(&c["end"]), "text": c["text"], "words": words})
        })
        .collect();
    serde_json::json!({"segments": segments})
}

fn score(dir: &Path, truth: &Path, transcript: &Value) -> Value {
    let file = dir.join("scored.json");
    std::fs::write(&file, transcript.to_string()).unwrap();
    let out = python("score.py", &[truth.to_str().unwrap(), file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "score.py: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_live_room_is_captioned_per_speaker_as_it_happens_then_its_transcript_replaces_the_captions() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let room_dir = dir.path().join("room");
    let truth = build_room(&room_dir, 26.0, 11);
    let server = serve(&lib, &[]);
    let port = free_udp_port();
    let url = format!("rtp://127.0.0.1:{port}");
    let mut record = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    in_library(&mut record, &lib);
    let recorder = record
        .args([
            "--json",
            "record",
            &url,
            "--captions",
            "--until-empty",
            "--max-duration",
            "60",
            "--title",
            "Live Notes",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let session = session_in(&lib);
    let room_id = session.file_name().unwrap().to_string_lossy().into_owned();
    let (mut client, events) = sse_client(&server.base, &room_id);
    let speakers = speak_all(&truth, &url);

    // While the room is on: listed as live, and its final captions searchable, marked as such.
    let mut seen: Vec<Value> = Vec::new();
    let mut searched_live = None;
    let mut listed_live = None;
    let mut final_words: Vec<String> = Vec::new();
    let halfway = Instant::now() + Duration::from_secs(14);
    while Instant::now() < halfway || searched_live.is_none() && Instant::now() < halfway + Duration::from_secs(8) {
        while let Ok(e) = events.recv_timeout(Duration::from_millis(200)) {
            if e["event"] == "final" {
                let text = e["data"]["text"].as_str().unwrap_or("").to_lowercase();
                final_words.extend(
                    text.split_whitespace()
                        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
                        .filter(|w| w.len() >= 6),
                );
            }
            seen.push(e);
        }
        if Instant::now() >= halfway {
            let rooms: Value = serde_json::from_slice(&rc(&lib, &["--json", "rooms"]).stdout).unwrap();
            listed_live.get_or_insert(rooms[0].clone());
            for word in &final_words {
                let hits: Value = serde_json::from_slice(&rc(&lib, &["--json", "search", word]).stdout).unwrap();
                if let Some(h) = hits.as_array().and_then(|h| h.first()) {
                    searched_live = Some(h.clone());
                    break;
                }
            }
        }
    }
    let spoken: Vec<Value> = speakers.into_iter().map(|s| serde_json::from_str(&finish(s)).unwrap()).collect();
    let report: Value = serde_json::from_str(&finish(recorder)).unwrap();
    let (status, _) = (client.wait(), ());
    assert!(status.unwrap().success());
    for e in events.try_iter() {
        seen.push(e);
    }
    let rooms_after: Value = serde_json::from_slice(&rc(&lib, &["--json", "rooms"]).stdout).unwrap();

    // Captions came during the room, from every speaker, under their exact names.
    let started = unix(room_json(&session)["started_at"].as_str().unwrap());
    let sent = spoken.iter().map(|s| s["started_at_unix"].as_f64().unwrap()).fold(f64::INFINITY, f64::min);
    let offset = sent - started;
    let finals: Vec<&Value> = seen.iter().filter(|e| e["event"] == "final").collect();
    let names: Vec<&str> = truth["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for name in &names {
        let during: Vec<&&Value> = finals
            .iter()
            .filter(|e| {
                e["data"]["name"] == *name
                    && e["arrived"].as_f64().unwrap() < sent + truth["duration"].as_f64().unwrap()
            })
            .collect();
        assert!(!during.is_empty(), "{name}: no final caption arrived while the room was on: {seen:?}");
    }
    assert!(finals.iter().all(|e| names.contains(&e["data"]["name"].as_str().unwrap())), "names: {finals:?}");
    // In order, each utterance final once, and nothing of an utterance after its final.
    let mut last = -1i64;
    let mut finished = std::collections::HashSet::new();
    for e in &seen {
        let seq: i64 = e["id"].as_str().map_or(-1, |s| s.parse().unwrap());
        if seq >= 0 {
            assert!(seq > last, "events in order: {seq} after {last}");
            last = seq;
        }
        if let Some(u) = e["data"]["utterance"].as_u64() {
            assert!(!finished.contains(&u), "utterance {u} changed after its final: {e}");
            if e["event"] == "final" {
                finished.insert(u);
            }
        }
    }
    assert_eq!(seen.last().unwrap()["event"], "end", "the stream ends with the room");
    // Close to the script, never on the wrong speaker.
    let scored = score(dir.path(), &room_dir.join("truth.json"), &finals_as_transcript(&seen, offset));
    let wer = scored["per_speaker"]["all"]["wer"].as_f64().unwrap();
    assert!(wer <= 0.25, "live captions' WER {wer:.3}: {scored}");
    assert_eq!(scored["wrong_speaker"], 0, "{scored}");
    let captions = &report["outputs"]["captions"];
    assert!(captions["finals"].as_u64().unwrap() >= finals.len() as u64, "{report}");
    let listed = listed_live.expect("the room was listed");
    assert_eq!(listed["status"], "recording", "the library listed the room as live while it was on: {listed}");
    let hit = searched_live.expect("a final caption's word is found while the room is live");
    assert_eq!(hit["live_caption"], true, "{hit}");
    assert_eq!(rooms_after[0]["status"], "complete");
    assert_eq!(rooms_after[0]["live_captions"], true, "until it is published: {rooms_after}");

    // Published: the transcript replaces the captions in search and on the page, nothing twice.
    ok(rc(&lib, &["publish", session.to_str().unwrap(), "--format", "mp3", "--model", "tiny.en", "--language", "en"]));
    let rooms: Value = serde_json::from_slice(&rc(&lib, &["--json", "rooms"]).stdout).unwrap();
    assert_eq!(rooms[0]["live_captions"], false, "{rooms}");
    let word = final_words.first().cloned().expect("a final caption's word");
    let hits: Value = serde_json::from_slice(&rc(&lib, &["--json", "search", &word]).stdout).unwrap();
    assert!(hits.as_array().unwrap().iter().all(|h| h["live_caption"] == false), "{hits}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(session.join("transcript.json")).unwrap()).unwrap();
    let page = get(&server.base, &format!("/rooms/{room_id}")).text();
    assert!(!page.contains("live-captions-note") && page.contains("id=\"player\""), "the normal player");
    assert_eq!(page.matches("class=\"seg").count(), doc["segments"].as_array().unwrap().len(), "each segment once");
    assert!(session.join("captions.jsonl").is_file(), "the live captions are kept with the session");
}

#[test]
fn a_recorder_killed_mid_room_leaves_captions_readable_to_the_kill_and_the_room_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let session = dir.path().join("room");
    let voice = shared().join("samples/jfk/jfk.wav");
    let port = free_udp_port();
    let url = format!("rtp://127.0.0.1:{port}");
    let mut record = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    in_library(&mut record, &lib);
    let mut recorder = record
        .args(["record", &url, "--captions", "--out", session.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let speaker = spawn(&["speak", voice.to_str().unwrap(), "--to", &url, "--name", "JFK"]);
    // Killed once the first final caption is written, with JFK still talking.
    let captions = session.join("captions.jsonl");
    let deadline = Instant::now() + Duration::from_secs(40);
    while !std::fs::read_to_string(&captions).unwrap_or_default().contains("\"final\"") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    recorder.kill().unwrap();
    recorder.wait().unwrap();
    let _ = speaker.wait_with_output();
    // Every whole line reads; a line the kill tore, if any, is skipped by the reader.
    let text = std::fs::read_to_string(&captions).unwrap();
    let whole: Vec<&str> = text.split_inclusive('\n').filter(|l| l.ends_with('\n')).collect();
    assert!(!whole.is_empty(), "captions up to the kill: {text}");
    for line in &whole {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["kind"] == "partial" || v["kind"] == "final", "{v}");
    }
    assert!(!text.contains("\"kind\":\"end\""), "no end line: the recorder never got to it");
    // recover and publish work as before; the transcript replaces the captions.
    ok(rc(&lib, &["recover", session.to_str().unwrap()]));
    ok(rc(&lib, &["publish", session.to_str().unwrap(), "--format", "mp3", "--model", "tiny.en", "--language", "en"]));
    let rooms: Value = serde_json::from_slice(&rc(&lib, &["--json", "rooms"]).stdout).unwrap();
    assert_eq!((rooms[0]["status"].as_str(), rooms[0]["live_captions"].as_bool()), (Some("interrupted"), Some(false)));
    let hits: Value = serde_json::from_slice(&rc(&lib, &["--json", "search", "americans"]).stdout).unwrap();
    assert!(!hits.as_array().unwrap().is_empty(), "the transcript is searchable");
}

#[test]
fn without_a_usable_model_captions_are_off_in_one_line_and_the_room_is_still_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let tone = common::live::tone(dir.path(), 440, 2.0);
    // No model at all, then a damaged one (cut short).
    let empty = dir.path().join("no-models");
    std::fs::create_dir(&empty).unwrap();
    let damaged = dir.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    let model = std::fs::read(shared().join("models/ggml-tiny.en.bin")).unwrap();
    std::fs::write(damaged.join("ggml-tiny.en.bin"), &model[..model.len() / 3]).unwrap();
    std::fs::copy(shared().join("models/ggml-silero-v6.2.0.bin"), damaged.join("ggml-silero-v6.2.0.bin")).unwrap();
    for (models, says) in [(&empty, "run: roomcast models download tiny.en"), (&damaged, "ggml-tiny.en.bin")] {
        let session = dir.path().join(models.file_name().unwrap()).with_extension("room");
        let port = free_udp_port();
        let url = format!("rtp://127.0.0.1:{port}");
        let recorder = Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .env("ROOMCAST_MODELS", models)
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .args(["--json", "record", &url, "--captions", "--max-duration", "3", "--out", session.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        finish(spawn(&["speak", tone.to_str().unwrap(), "--to", &url, "--name", "Ana"]));
        let out = recorder.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("captions off")).collect();
        assert_eq!(lines.len(), 1, "said once: {err}");
        assert!(lines[0].contains(says) && lines[0].contains("the room is still recorded"), "{}", lines[0]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(report["network"]["packets"].as_u64().unwrap() > 50, "{report}");
        assert!(report["outputs"].get("captions").is_none(), "{report}");
        assert!(!session.join("captions.jsonl").exists());
    }
}

#[test]
fn the_caption_stream_skips_bad_lines_resumes_from_last_event_id_and_refuses_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let line = |seq: u64, u: u64, kind: &str, text: &str| {
        serde_json::json!({"kind": kind, "seq": seq, "utterance": u, "speaker": "maya", "name": "Maya",
            "start": 1.0 + u as f64, "end": 2.0 + u as f64, "text": text, "at": 3.0 + u as f64})
        .to_string()
    };
    let captions = format!(
        "{}\nnot a caption\n{}\n{{\"kind\":\"final\",\"se\n{}\n",
        line(0, 0, "partial", "hello"),
        line(1, 0, "final", "hello there"),
        line(2, 1, "final", "second thought")
    );
    let (_session, id, mut holder) = fake_live_room(dir.path(), &lib, &captions);
    let server = serve(&lib, &["-v"]);
    let read = |extra: &[&str]| -> Vec<Value> {
        let url = format!("{}/rooms/{id}/live", server.base);
        let mut args = vec![url.as_str(), "--timeout", "4"];
        args.extend_from_slice(extra);
        let out = python("sse.py", &args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let all = read(&[]);
    let ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["0", "1", "2"], "the good lines, the bad ones skipped: {all:?}");
    let resumed = read(&["--last-event-id", "1"]);
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(resumed[0]["data"]["text"], "second thought");
    // The page shows each utterance once, as its final says.
    let page = get(&server.base, &format!("/rooms/{id}")).text();
    assert!(page.contains("LIVE") && page.contains("hello there") && !page.contains(">hello<"), "{page}");
    // Bad requests: a Last-Event-ID that is no number, a room not live.
    let bad = common::http::request(
        &server.base,
        &format!("/rooms/{id}/live"),
        &[("Accept", "text/event-stream"), ("Last-Event-ID", "abc")],
    );
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("Last-Event-ID 'abc'"), "{}", bad.text());
    holder.kill().unwrap();
    holder.wait().unwrap();
    let gone = common::http::request(&server.base, &format!("/rooms/{id}/live"), &[("Accept", "text/event-stream")]);
    assert_eq!(gone.status, 404, "a room whose recorder is gone is not live");
    assert!(gone.text().contains("is not live"), "{}", gone.text());
    let unknown = get(&server.base, "/rooms/no-such-room/live");
    assert_eq!(unknown.status, 404);
}

#[test]
fn in_a_real_browser_captions_appear_live_survive_a_reload_and_give_way_to_the_player() {
    assert!(
        repo().join("tests/browser/node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").is_file(),
        "the browser test needs chromium and playwright-core: run scripts/test.sh (it installs both)"
    );
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let room_dir = dir.path().join("room");
    let truth = build_room(&room_dir, 22.0, 12);
    let server = serve(&lib, &[]);
    let port = free_udp_port();
    let url = format!("rtp://127.0.0.1:{port}");
    let mut record = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    in_library(&mut record, &lib);
    let recorder = record
        .args(["record", &url, "--captions", "--until-empty", "--max-duration", "60", "--title", "Live Page"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let session = session_in(&lib);
    let room_id = session.file_name().unwrap().to_string_lossy().into_owned();
    let artifacts = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let (live_shot, shot) = (artifacts.join("room-live.png"), artifacts.join("room-live-published.png"));
    let browser = Command::new("node")
        .current_dir(repo().join("tests/browser"))
        .args(["live.mjs", &server.base, &room_id, live_shot.to_str().unwrap(), shot.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for s in speak_all(&truth, &url) {
        finish(s);
    }
    finish(recorder);
    ok(rc(&lib, &["publish", session.to_str().unwrap(), "--format", "mp3", "--model", "tiny.en", "--language", "en"]));
    let out = browser.wait_with_output().unwrap();
    let seen: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    assert!(seen["failure"].is_null(), "{seen}");
    assert_eq!(seen["errors"], serde_json::json!([]), "no script errors: {seen}");
    assert_eq!(seen["badge"], "LIVE");
    assert_eq!(seen["ended_before_reload"], false, "captions came while the room was on: {seen}");
    let names: Vec<&str> = truth["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for lane in seen["lanes"].as_array().unwrap() {
        assert!(names.contains(&lane["who"].as_str().unwrap()), "{lane}");
    }
    // The reload lost nothing and repeated nothing.
    let utterances = |key: &str| -> Vec<String> {
        seen[key].as_array().unwrap().iter().map(|f| f["u"].as_str().unwrap().to_string()).collect()
    };
    let (before, after, at_end) = (utterances("before_reload"), utterances("after_reload"), utterances("at_end"));
    for u in &before {
        assert!(after.contains(u), "utterance {u} lost in the reload: {seen}");
    }
    for list in [&after, &at_end] {
        let mut unique = list.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), list.len(), "an utterance shown twice: {list:?}");
    }
    assert!(seen["ended_text"].as_str().unwrap().contains("has ended"), "{seen}");
    assert_eq!(seen["player"], format!("/rooms/{room_id}/audio"), "the page turned into the player: {seen}");
    assert!(seen["transcript_segments"].as_u64().unwrap() > 0, "{seen}");
}
