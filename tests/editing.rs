//! Fixing a room after the fact, as a host does: renaming and merging speakers, redacting a span
//! or a speaker, a speaker withdrawing consent, soundbites and chapters added later, and how long
//! rooms are kept. Every change must reach everything the room published (transcript and exports,
//! the master's audio and tags, the index, the feed), the tracks must stay as recorded, and bad
//! input must change nothing. The room is the shipped sample conversation, transcribed once by the
//! real whisper tiny.en; the master, its tags and the feed are read back by ffmpeg, ffprobe and
//! Python's XML parser.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use common::*;

/// The sample conversation, mastered and transcribed by whisper once; each test edits a copy.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let session = dir.join("room");
        import_sample(&session);
        let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .env("ROOMCAST_LIBRARY", dir.join("lib"))
            .env("ROOMCAST_MODELS", shared().join("models"))
            .args(["publish", session.to_str().unwrap(), "--format", "mp3", "--model", "tiny.en", "--language", "en"])
            .output()
            .unwrap();
        ok(out);
        session
    })
}

struct Room {
    _dir: tempfile::TempDir,
    session: PathBuf,
    lib: PathBuf,
    id: String,
}

impl Room {
    /// A copy of the published sample room in a library of its own.
    fn new() -> Room {
        let dir = tempfile::tempdir().unwrap();
        let session = dir.path().join("room");
        let copied = Command::new("cp").arg("-a").arg(template()).arg(&session).status().unwrap();
        assert!(copied.success());
        let room = Room {
            lib: dir.path().join("lib"),
            id: room_json(&session)["id"].as_str().unwrap().to_string(),
            session,
            _dir: dir,
        };
        ok(room.run(&["index", room.session.to_str().unwrap()]));
        room
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .env("ROOMCAST_LIBRARY", &self.lib)
            .env("ROOMCAST_MODELS", shared().join("models"))
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        ok(self.run(args))
    }

    /// Runs a command that must fail: its one-line error.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert!(!out.status.success(), "{args:?} should fail: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("roomcast: error: "), "{err}");
        err
    }

    fn transcript(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.session.join("transcript.json")).unwrap()).unwrap()
    }

    /// The hits for `query`: (speaker name, room time).
    fn search(&self, query: &str) -> Vec<(String, f64)> {
        let hits: Value = serde_json::from_str(&self.ok(&["--json", "search", query])).unwrap();
        hits.as_array()
            .unwrap()
            .iter()
            .map(|h| (h["name"].as_str().unwrap().to_string(), h["at"].as_f64().unwrap()))
            .collect()
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.session.join("events.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Every file of the session and its content's hash (the lock file aside).
    fn snapshot(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        snapshot_into(&self.session, &self.session, &mut out);
        out
    }

    /// Starts `roomcast serve` on the library and fetches two speakers' tracks (their bytes) and
    /// the room's page.
    fn serve_tracks(&self, a: &str, b: &str) -> (Vec<u8>, Vec<u8>, String) {
        use std::io::{BufRead, Read, Write};
        let mut child = Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .env("ROOMCAST_LIBRARY", &self.lib)
            .args(["--json", "serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let started: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("serve did not start: {line:?}"));
        let host = started["listening"].as_str().unwrap().trim_start_matches("http://").to_string();
        let fetch = |path: &str| {
            let mut s = std::net::TcpStream::connect(&host).unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
                .unwrap();
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).unwrap();
            raw
        };
        // The body of a 200 reply (the server sends files with a Content-Length, unchunked).
        let track = |speaker: &str| {
            let raw = fetch(&format!("/rooms/{}/tracks/{speaker}", self.id));
            assert!(raw.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&raw[..raw.len().min(300)]));
            let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            raw[split + 4..].to_vec()
        };
        let page = String::from_utf8_lossy(&fetch(&format!("/rooms/{}", self.id))).into_owned();
        let statuses = (track(a), track(b), page);
        let _ = child.kill();
        let _ = child.wait();
        statuses
    }

    /// A static feed of the library, parsed by Python's XML parser.
    fn feed(&self) -> Value {
        let site = self.session.parent().unwrap().join(format!("site-{}", std::process::id()));
        self.ok(&[
            "feed",
            "--out",
            site.to_str().unwrap(),
            "--base-url",
            "https://example.com/pod",
            "--title",
            "Notes",
        ]);
        let script = r#"
import json, sys, xml.etree.ElementTree as ET
pc = "{https://podcastindex.org/namespace/1.0}"
ch = ET.parse(sys.argv[1]).getroot().find("channel")
items = [{"people": [p.text for p in i.findall(pc + "person")],
          "soundbites": [dict(s.attrib, title=s.text) for s in i.findall(pc + "soundbite")],
          "chapters": i.find(pc + "chapters").attrib["url"]} for i in ch.findall("item")]
print(json.dumps(items))
"#;
        let out = Command::new("python3").arg("-c").arg(script).arg(site.join("feed.xml")).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut items: Value = serde_json::from_slice(&out.stdout).unwrap();
        let chapters =
            items[0]["chapters"].as_str().unwrap().replace("https://example.com/pod", site.to_str().unwrap());
        items[0]["chapters"] = serde_json::from_str(&std::fs::read_to_string(chapters).unwrap()).unwrap();
        items[0].take()
    }
}

fn snapshot_into(root: &Path, dir: &Path, out: &mut BTreeMap<String, u64>) {
    use std::hash::{Hash, Hasher};
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == ".edit.lock") {
            continue;
        }
        if p.is_dir() {
            snapshot_into(root, &p, out);
        } else {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(&p).unwrap().hash(&mut h);
            out.insert(p.strip_prefix(root).unwrap().display().to_string(), h.finish());
        }
    }
}

/// The master's loudest sample from `from` to `to` seconds, in dBFS, as ffmpeg decodes it.
fn max_volume(master: &Path, from: f64, to: f64) -> f64 {
    let out = tool("ffmpeg")
        .args(["-hide_banner", "-nostats", "-ss", &from.to_string(), "-t", &(to - from).to_string(), "-i"])
        .arg(master)
        .args(["-af", "volumedetect", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().find(|l| l.contains("max_volume:")).unwrap_or_else(|| panic!("{text}"));
    let v = line.split("max_volume:").nth(1).unwrap().trim().trim_end_matches(" dB");
    if v == "-inf" { -200.0 } else { v.parse().unwrap() }
}

/// The master's ID3 tags and chapters, as ffprobe reads them.
fn master_tags(master: &Path) -> Value {
    let out = tool("ffprobe")
        .args(["-v", "error", "-show_format", "-show_chapters", "-of", "json"])
        .arg(master)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The words of `speaker` (display name) in the transcript, with their times.
fn words_of(transcript: &Value, speaker: &str) -> Vec<(f64, f64, String)> {
    transcript["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == speaker)
        .flat_map(|s| s["words"].as_array().unwrap().clone())
        .map(|w| (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap(), w["text"].as_str().unwrap().to_string()))
        .collect()
}

fn tracks(room: &Room) -> BTreeMap<String, u64> {
    room.snapshot().into_iter().filter(|(k, _)| k.starts_with("tracks/")).collect()
}

#[test]
fn renaming_a_speaker_reaches_the_transcripts_the_master_tags_the_index_and_the_feed() {
    let room = Room::new();
    let before = tracks(&room);
    assert!(!room.search("track").is_empty());
    let out = room.ok(&["speakers", &room.id, "--rename", "theo=Theo Marsh"]);
    assert!(out.contains("renamed Theo to Theo Marsh"), "{out}");

    let room_file = room_json(&room.session);
    let names: Vec<&str> =
        room_file["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Maya", "Theo Marsh", "Priya"]);
    let doc = room.transcript();
    assert!(doc["segments"].as_array().unwrap().iter().all(|s| s["name"] != "Theo"));
    assert!(!words_of(&doc, "Theo Marsh").is_empty());
    let vtt = std::fs::read_to_string(room.session.join("transcript.vtt")).unwrap();
    assert!(vtt.contains("<v Theo Marsh>") && !vtt.contains("<v Theo>"), "{vtt}");
    for file in ["transcript.srt", "transcript.txt", "transcript.podcast.json", "transcript.html"] {
        let text = std::fs::read_to_string(room.session.join(file)).unwrap();
        assert!(text.contains("Theo Marsh"), "{file}");
    }
    let tags = master_tags(&room.session.join("master.mp3"));
    assert_eq!(tags["format"]["tags"]["artist"], "Maya, Theo Marsh, Priya", "{tags}");
    let hits: Value =
        serde_json::from_str(&room.ok(&["--json", "search", "track", "--speaker", "Theo Marsh"])).unwrap();
    assert!(!hits.as_array().unwrap().is_empty(), "the index knows the new name");
    assert_eq!(room.feed()["people"], serde_json::json!(["Maya", "Theo Marsh", "Priya"]));
    let audit = room.events().into_iter().find(|e| e["type"] == "renamed").unwrap();
    assert_eq!((audit["from"].as_str(), audit["to"].as_str()), (Some("Theo"), Some("Theo Marsh")));
    assert_eq!(tracks(&room), before, "the tracks are as recorded");
}

#[test]
fn merging_two_speakers_makes_them_one_person_everywhere() {
    let room = Room::new();
    let err = room.fails(&["speakers", &room.id, "--rename", "Theo=Maya"]);
    assert!(err.contains("already has a speaker named 'Maya'") && err.contains("--merge"), "{err}");
    room.ok(&["speakers", &room.id, "--merge", "Maya,Theo=Maya"]);
    let doc = room.transcript();
    let names: std::collections::BTreeSet<&str> =
        doc["segments"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["Maya", "Priya"]);
    assert_eq!(room.feed()["people"], serde_json::json!(["Maya", "Priya"]), "one person in the feed");
    let tags = master_tags(&room.session.join("master.mp3"));
    assert_eq!(tags["format"]["tags"]["artist"], "Maya, Priya");
    // Both tracks stay: one person, two recordings.
    assert!(room.session.join("tracks/theo.opus").is_file() && room.session.join("tracks/maya.opus").is_file());
    assert!(room.search("track").iter().all(|(name, _)| name == "Maya"));
}

#[test]
fn a_redacted_span_leaves_the_transcripts_the_index_and_the_masters_audio_and_stays_out_after_publishing_again() {
    let room = Room::new();
    let before = tracks(&room);
    let master = room.session.join("master.mp3");
    // Maya speaks from 15 s to 21.8 s ("...a noisy microphone afterwards"); Theo says "Exactly!" at 19.
    assert!(max_volume(&master, 15.5, 18.5) > -30.0, "speech there before");
    let doc = room.transcript();
    let gone: Vec<(f64, f64, String)> =
        words_of(&doc, "Maya").into_iter().filter(|(s, e, _)| *s < 22.0 && *e > 15.0).collect();
    assert!(gone.len() >= 10, "{gone:?}");
    assert!(!room.search("microphone").is_empty());
    let theo_before = words_of(&doc, "Theo");

    let out = room.ok(&["redact", &room.id, "--speaker", "Maya", "--from", "15", "--to", "22"]);
    assert!(out.contains("word(s) taken out") && out.contains("master mixed again"), "{out}");

    assert!(max_volume(&master, 15.5, 18.5) < -50.0, "Maya's audio is out of the master");
    assert!(max_volume(&master, 8.6, 13.5) > -30.0, "the rest of the room still plays");
    let doc = room.transcript();
    assert!(words_of(&doc, "Maya").iter().all(|(s, e, _)| !(*s < 22.0 && *e > 15.0)));
    assert_eq!(words_of(&doc, "Theo"), theo_before, "only Maya was redacted: Theo's 'Exactly' stays");
    for file in ["transcript.vtt", "transcript.srt", "transcript.txt", "transcript.podcast.json", "transcript.html"] {
        let text = std::fs::read_to_string(room.session.join(file)).unwrap().to_lowercase();
        assert!(!text.contains("microphone"), "{file} still has it");
    }
    assert!(room.search("microphone").is_empty(), "the index forgot it");
    let audit = room.events().into_iter().find(|e| e["type"] == "redacted").unwrap();
    assert_eq!(
        (audit["t"].as_f64(), audit["end"].as_f64(), audit["speaker"].as_str()),
        (Some(15.0), Some(22.0), Some("maya"))
    );
    assert!(audit["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(tracks(&room), before, "the tracks are as recorded");
    assert!(!room.session.join(".edit-staging").exists());
    // Maya's own track keeps the span; what the web serves and plays as her track is a copy with
    // it silenced, aligned like the original (same length), the rest of her speech intact.
    let copy = room.session.join("redacted-tracks/maya.opus");
    let (served, theo, page) = room.serve_tracks("maya", "theo");
    assert_eq!(
        (served, theo),
        (std::fs::read(&copy).unwrap(), std::fs::read(room.session.join("tracks/theo.opus")).unwrap())
    );
    assert!(page.contains("/tracks/maya") && page.contains("/tracks/theo"), "the page offers and plays both");
    assert!(opusinfo(&copy).0, "opusinfo reads the copy");
    let original = room.session.join("tracks/maya.opus");
    assert_eq!(ffmpeg_sample_count(&copy), ffmpeg_sample_count(&original));
    assert!(max_volume(&original, 15.5, 21.5) > -30.0 && max_volume(&copy, 15.1, 21.9) < -80.0, "the span is silent");
    assert!(max_volume(&copy, 1.5, 6.5) > -30.0 && max_volume(&copy, 35.0, 38.5) > -30.0, "the rest is there");

    // A transcript attached again from elsewhere (here the one from before) does not bring it back.
    let old_transcript = template().join("transcript.json");
    room.ok(&["import-transcript", room.session.to_str().unwrap(), old_transcript.to_str().unwrap(), "--replace"]);
    assert!(words_of(&room.transcript(), "Maya").iter().all(|(s, e, _)| !(*s < 22.0 && *e > 15.0)));
    assert!(room.search("microphone").is_empty());

    // Publishing again runs whisper on the tracks afresh: the span stays out.
    room.ok(&["publish", room.session.to_str().unwrap(), "--format", "mp3", "--model", "tiny.en", "--language", "en"]);
    assert!(words_of(&room.transcript(), "Maya").iter().all(|(s, e, _)| !(*s < 22.0 && *e > 15.0)));
    assert!(room.search("microphone").is_empty());
    assert!(max_volume(&master, 15.5, 18.5) < -50.0);
}

#[test]
fn a_speaker_who_withdraws_consent_loses_their_track_words_and_audio_in_one_command() {
    let room = Room::new();
    let master = room.session.join("master.mp3");
    // Priya speaks alone from 52 to 59.6 s.
    assert!(max_volume(&master, 53.0, 59.0) > -30.0);
    assert!(room.search("loudness").iter().any(|(name, _)| name == "Priya"));
    let out = room.ok(&["speakers", &room.id, "--withdraw", "Priya"]);
    assert!(out.contains("consent withdrawn") && out.contains("deleted"), "{out}");
    assert!(!room.session.join("tracks/priya.opus").exists());
    assert!(room_json(&room.session)["speakers"].as_array().unwrap().iter().all(|s| s["name"] != "Priya"));
    assert!(words_of(&room.transcript(), "Priya").is_empty());
    assert!(room.search("loudness").is_empty() || room.search("loudness").iter().all(|(name, _)| name != "Priya"));
    assert!(max_volume(&master, 53.0, 59.0) < -50.0, "Priya's audio is out of the master");
    assert_eq!(room.feed()["people"], serde_json::json!(["Maya", "Theo"]));
    assert!(room.events().iter().any(|e| e["type"] == "withdrawn" && e["speaker"] == "priya"));
    let err = room.fails(&["speakers", &room.id, "--withdraw", "Priya"]);
    assert!(err.contains("no speaker 'Priya'"), "{err}");
}

#[test]
fn soundbites_and_chapters_added_later_reach_the_feed_and_the_master() {
    let room = Room::new();
    // A recorder killed mid-line left half a line at the end of events.jsonl: edits still work,
    // and leave a log that reads whole.
    let log = room.session.join("events.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{\"t\":79.5,\"type\":\"lef");
    std::fs::write(&log, text).unwrap();
    room.ok(&["clip", &room.id, "--from", "24.5", "--to", "31", "--title", "Why per-speaker transcripts"]);
    assert!(room.events().iter().any(|e| e["type"] == "soundbite"), "events.jsonl reads whole");
    room.ok(&["chapter", &room.id, "--at", "1:01", "Levelling"]);
    let item = room.feed();
    assert_eq!(
        item["soundbites"],
        serde_json::json!([{"startTime": "24.5", "duration": "6.5", "title": "Why per-speaker transcripts"}])
    );
    let titles: Vec<&str> =
        item["chapters"]["chapters"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Welcome", "Our guest", "Levelling"]);
    let tags = master_tags(&room.session.join("master.mp3"));
    let id3: Vec<(&str, &str)> = tags["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["start_time"].as_str().unwrap(), c["tags"]["title"].as_str().unwrap()))
        .collect();
    assert_eq!(id3[2], ("61.000000", "Levelling"), "{id3:?}");
}

#[test]
fn bad_edits_get_one_line_and_change_nothing() {
    let room = Room::new();
    let before = room.snapshot();
    let id = room.id.as_str();
    for (args, says) in [
        (vec!["speakers", "no-such-room", "--rename", "Maya=M"], "no room 'no-such-room'"),
        (vec!["speakers", id, "--rename", "Zed=Z"], "has no speaker 'Zed' (its speakers: Maya, Theo, Priya)"),
        (vec!["speakers", id, "--rename", "Theo=Priya"], "already has a speaker named 'Priya'"),
        (vec!["speakers", id, "--rename", "Theo"], "is not OLD=NEW"),
        (vec!["speakers", id, "--merge", "Theo=Maya"], "is not A,B=NAME"),
        (vec!["redact", id, "--speaker", "Zed"], "has no speaker 'Zed'"),
        (vec!["redact", id, "--from", "30", "--to", "20"], "ends before it starts"),
        (vec!["redact", id, "--from", "70", "--to", "200"], "runs past the end of the room"),
        (vec!["redact", id, "--from", "abc", "--to", "20"], "'abc' is not a time"),
        (vec!["redact", id], "say what to redact"),
        (vec!["clip", id, "--from", "0", "--to", "61", "--title", "Too long"], "a soundbite is at most 60 s"),
        (vec!["clip", id, "--from", "75", "--to", "90", "--title", "Past"], "runs past the end"),
        (vec!["chapter", id, "--at", "2:00", "Late"], "not a moment of the room"),
        (vec!["retention", id, "--keep", "a month"], "'a month' is not a number of days"),
        (vec!["retention", "--keep=-3"], "is not a number of days"),
    ] {
        let err = room.fails(&args);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(room.snapshot(), before, "{args:?} changed the session");
    }
    assert!(!room.search("microphone").is_empty(), "the index is as it was");
    let rooms: Value = serde_json::from_str(&room.ok(&["--json", "rooms"])).unwrap();
    assert_eq!(rooms[0]["retention"]["keep_days"], Value::Null);
}

#[test]
fn an_interrupted_redact_leaves_the_room_as_it_was_or_fully_redacted() {
    let room = Room::new();
    let master = room.session.join("master.mp3");
    let before = room.snapshot();
    let bin = env!("CARGO_BIN_EXE_roomcast");
    let mut outcomes = Vec::new();
    // Killed at different moments of the edit (mixing takes most of it), then any later command on
    // the room (here `index`) finishes or undoes it.
    for delay_ms in [50u64, 300, 800, 1500, 2500, 4000] {
        let mut child = Command::new(bin)
            .env("ROOMCAST_LIBRARY", &room.lib)
            .args(["redact", &room.id, "--speaker", "Maya", "--from", "15", "--to", "22"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        room.ok(&["index", room.session.to_str().unwrap()]);
        assert!(!room.session.join(".edit-staging").exists());
        let redacted = room.events().iter().any(|e| e["type"] == "redacted");
        let words_gone = words_of(&room.transcript(), "Maya").iter().all(|(s, e, _)| !(*s < 22.0 && *e > 15.0));
        let unsearchable = room.search("microphone").is_empty();
        let silent = max_volume(&master, 15.5, 18.5) < -50.0;
        assert!(
            [words_gone, unsearchable, silent].iter().all(|x| *x == redacted),
            "half redacted after a kill at {delay_ms} ms: audit {redacted}, words gone {words_gone}, \
             index {unsearchable}, audio {silent}"
        );
        if !redacted {
            assert_eq!(room.snapshot(), before, "killed at {delay_ms} ms before it happened: the room is as it was");
        }
        outcomes.push((delay_ms, redacted, finished));
        if redacted {
            break;
        }
    }
    assert!(
        outcomes.iter().any(|(_, redacted, _)| !redacted),
        "at least one kill came before the commit: {outcomes:?}"
    );
    // However far the kills got, the redact can always be done in full afterwards.
    if !outcomes.last().unwrap().1 {
        room.ok(&["redact", &room.id, "--speaker", "Maya", "--from", "15", "--to", "22"]);
    }
    assert!(room.search("microphone").is_empty() && max_volume(&master, 15.5, 18.5) < -50.0, "{outcomes:?}");
}

#[test]
fn retention_shows_when_rooms_expire_and_expire_removes_them_everywhere() {
    let room = Room::new();
    // A second room, a year old, in the same library.
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    ok(roomcast(&[
        "import",
        "--speaker",
        &format!("Theo={}", sample("theo.opus").display()),
        "--title",
        "Old Standup",
        "--started-at",
        "2025-11-01T09:00:00Z",
        "--out",
        old.to_str().unwrap(),
    ]));
    let vtt = dir.path().join("old.vtt");
    std::fs::write(&vtt, "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Theo>the quarterly zeppelin budget\n").unwrap();
    room.ok(&["import-transcript", old.to_str().unwrap(), vtt.to_str().unwrap()]);
    assert_eq!(room.search("zeppelin").len(), 1);

    room.ok(&["retention", "--keep", "90"]);
    // A room's own retention, given when it is published, wins over the library's.
    room.ok(&["publish", room.session.to_str().unwrap(), "--skip-transcribe", "--format", "mp3", "--keep", "7"]);
    assert!(room.ok(&["rooms"]).contains("kept 7 day(s) (room): EXPIRED at 2026-11-27T18:01:"));
    room.ok(&["retention", &room.id, "--keep", "forever"]);
    let listed = room.ok(&["rooms"]);
    assert!(listed.contains("kept 90 day(s) (library): EXPIRED at 2026-01-30T09:0"), "{listed}");
    assert!(listed.contains("kept for ever (room)"), "{listed}");
    let rooms: Value = serde_json::from_str(&room.ok(&["--json", "rooms"])).unwrap();
    let old_room = rooms.as_array().unwrap().iter().find(|r| r["title"] == "Old Standup").unwrap();
    assert_eq!(old_room["retention"]["expired"], true);
    let expires = old_room["retention"]["expires_at"].as_str().unwrap();
    assert!(expires.starts_with("2026-01-30T09:0"), "90 days after the room ended: {expires}");

    let dry = room.ok(&["expire", "--dry-run"]);
    assert!(dry.contains("would remove") && old.is_dir(), "{dry}");
    let out = room.ok(&["expire"]);
    assert!(out.contains("removed"), "{out}");
    assert!(!old.exists(), "its session folder is gone");
    assert!(room.search("zeppelin").is_empty(), "and its words from the index");
    let rooms: Value = serde_json::from_str(&room.ok(&["--json", "rooms"])).unwrap();
    assert_eq!(rooms.as_array().unwrap().len(), 1, "the room kept for ever stays");
    assert!(room.session.join("master.mp3").is_file());
}
