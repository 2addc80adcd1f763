//! A name or title people choose reaches every file everyone downloads: the feed podcast apps
//! read, VTT and SRT captions, the masters' tags, the HTML transcript. A hostile one must never
//! break them: a line break cannot open a caption cue, U+FFFE/U+FFFF cannot make the feed
//! unreadable, 100 KB of text is refused in one line where a user typed it and cut where a room
//! sent it. The same names go through every route a name takes (import, rename, merge, chapter,
//! clip, show metadata, an RTCP SDES name, a Janus display name), and every output is read back
//! by an independent parser (webvtt-py, srt, Python's XML and feedparser, ffprobe).

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use common::live::{Janus, finish, free_udp_port, spawn, tone};
use common::*;

/// A name that would open a caption cue of its own, were line breaks kept.
const CUE: &str = "Ev>il\n\n00:00:00.000 --> 00:00:09.000\nINJECTED";
const CUE_CLEAN: &str = "Ev>il 00:00:00.000 --> 00:00:09.000 INJECTED";
/// Characters XML 1.0 forbids: one of them makes a feed unreadable to every app.
const NONCHARS: &str = "Bad\u{FFFE}Na\u{FFFF}me";
const NONCHARS_CLEAN: &str = "Bad Na me";

fn huge() -> String {
    "x".repeat(100 * 1024)
}

fn run(lib: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roomcast")).env("ROOMCAST_LIBRARY", lib).args(args).output().unwrap()
}

/// A command refused in one line that says what is too long, and not the 100 KB itself.
fn refused(out: Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(!out.status.success(), "accepted: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.len() < 400, "the line does not repeat the name: {} bytes", err.len());
    assert!(err.contains(what) && err.contains("too long"), "says what is too long ({what}): {err}");
}

/// Every file of the session (and the feed, and the site's chapters) as independent parsers see it.
fn read_outputs(session: &Path, feed: &Path, chapters: &Path) -> Value {
    let out = tool("python3")
        .arg(repo().join("tests/tools/read_outputs.py"))
        .arg(session)
        .arg(feed)
        .arg(chapters)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn parsed<'a>(seen: &'a Value, key: &str) -> &'a Value {
    assert!(seen[key]["error"].is_null(), "{key} refused by its parser: {}", seen[key]["error"]);
    &seen[key]["ok"]
}

fn snapshot(session: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(session)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn hostile_names_and_titles_typed_by_users_make_valid_files_or_are_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (session, lib, site) = (dir.path().join("room"), dir.path().join("lib"), dir.path().join("site"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let speaker = |name: &str, file: &str| format!("{name}={}", sample(file).display());
    let title = "Room\u{FFFF}\n\n00:00:00.000 --> 00:00:09.000\nTITLE";
    let import = |speakers: [String; 3], title: &str, chapter: &str| {
        run(
            &lib,
            &[
                "import",
                "--speaker",
                &speakers[0],
                "--speaker",
                &speakers[1],
                "--speaker",
                &speakers[2],
                "--offset",
                "Priya=38",
                "--title",
                title,
                "--chapter",
                &format!("0={chapter}"),
                "--started-at",
                "2026-11-20T18:00:00Z",
                "--out",
                &s(&session),
            ],
        )
    };
    let speakers = || [speaker(CUE, "maya.opus"), speaker(NONCHARS, "theo.opus"), speaker("Priya", "priya.opus")];
    // 100 KB where a user types a name or a title: refused up front, nothing written.
    let mut too_long = speakers();
    too_long[0] = speaker(&huge(), "maya.opus");
    refused(import(too_long, "Room", "Intro"), "speaker's name");
    refused(import(speakers(), &huge(), "Intro"), "title");
    refused(import(speakers(), "Room", &huge()), "chapter title");
    assert!(!session.exists(), "a refused import leaves nothing");
    // The names with line breaks and forbidden characters are kept as one clean line each.
    ok(import(speakers(), title, "Intro\u{FFFE}\n-->\nCHAPTER"));
    let room = room_json(&session);
    let names: Vec<&str> = room["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, [CUE_CLEAN, NONCHARS_CLEAN, "Priya"]);
    assert_eq!(room["title"], "Room 00:00:00.000 --> 00:00:09.000 TITLE");
    let id = room["id"].as_str().unwrap().to_string();

    ok(run(&lib, &["publish", &s(&session), "--skip-transcribe", "--format", "mp3,opus"]));
    // A transcript from another tool, with the raw hostile names and text that would open cues.
    let transcript = serde_json::json!({"version": "1.0.0", "segments": [
        {"speaker": CUE, "startTime": 1.0, "endTime": 3.0, "body": "hello\n\n00:00:00.000 --> 00:00:09.000\nINJECTED text"},
        {"speaker": NONCHARS, "startTime": 5.0, "endTime": 7.5, "body": "a <b>bold</b> & --> claim\u{FFFF}"},
        {"speaker": "Priya", "startTime": 40.0, "endTime": 42.0, "body": "thanks\r\n\r\n2\r\n00:00:01,000 --> 00:00:02,000\r\nSRT"},
    ]});
    let file = dir.path().join("t.json");
    std::fs::write(&file, transcript.to_string()).unwrap();
    ok(run(&lib, &["import-transcript", &s(&session), &s(&file)]));

    // The edits take the same names, and refuse 100 KB without changing anything.
    let before = snapshot(&session);
    refused(run(&lib, &["speakers", &id, "--rename", &format!("Priya={}", huge())]), "name");
    refused(run(&lib, &["chapter", &id, "--at", "20", &huge()]), "chapter title");
    refused(run(&lib, &["clip", &id, "--from", "1", "--to", "5", "--title", &huge()]), "title");
    assert!(snapshot(&session) == before, "a refused edit changed the session");
    let renamed = "Th\u{FFFF}eo\n\n00:00:01.000 --> 00:00:02.000\nRENAMED";
    ok(run(&lib, &["speakers", &id, "--rename", &format!("{NONCHARS_CLEAN}={renamed}")]));
    let renamed_clean = "Th eo 00:00:01.000 --> 00:00:02.000 RENAMED";
    let merged = "Merged\u{FFFE} --> \n\nVOICE";
    ok(run(&lib, &["speakers", &id, "--merge", &format!("Priya,{renamed_clean}={merged}")]));
    let merged_clean = "Merged --> VOICE";
    ok(run(&lib, &["chapter", &id, "--at", "20", "Chap\u{FFFE}\n\n00:00:01.000 --> 00:00:02.000\nCHAPTER"]));
    ok(run(&lib, &["clip", &id, "--from", "1", "--to", "5", "--title", "Clip\u{FFFF}\n-->\nBITE"]));

    // Show metadata: from flags and from show.json.
    refused(run(&lib, &["feed", "--out", &s(&site), "--base-url", "http://example.com", "--title", &huge()]), "title");
    let show = dir.path().join("show.json");
    std::fs::write(
        &show,
        serde_json::json!({"title": "Show", "author": "Au\u{FFFF}thor\n& Co", "description": "One\u{FFFE}.\n\nTwo."})
            .to_string(),
    )
    .unwrap();
    ok(run(
        &lib,
        &[
            "feed",
            "--out",
            &s(&site),
            "--base-url",
            "http://example.com",
            "--show",
            &s(&show),
            "--title",
            "Sh\u{FFFF}ow\nTitle",
        ],
    ));

    let seen = read_outputs(&session, &site.join("feed.xml"), &site.join("rooms").join(&id).join("chapters.json"));
    let doc = parsed(&seen, "transcript.json");
    let segments = doc["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 3, "{doc}");
    // WebVTT: one cue per segment, each voice a clean name, no cue the text opened itself.
    let vtt = parsed(&seen, "vtt").as_array().unwrap();
    assert_eq!(vtt.len(), segments.len(), "webvtt-py's cues: {vtt:?}");
    let voices: Vec<&str> = vtt.iter().map(|c| c["voice"].as_str().unwrap_or("")).collect();
    assert_eq!(voices, [CUE_CLEAN, merged_clean, merged_clean], "{vtt:?}");
    assert!(vtt[0]["text"].as_str().unwrap().contains("INJECTED text"), "the words stay in their cue: {vtt:?}");
    assert!(vtt.iter().all(|c| c["start"].as_f64().unwrap() >= 1.0), "no cue at 0: {vtt:?}");
    // SubRip: as many cues, each one line.
    let srt = parsed(&seen, "srt").as_array().unwrap();
    assert_eq!(srt.len(), segments.len(), "srt's cues: {srt:?}");
    for c in srt {
        let text = c["text"].as_str().unwrap();
        assert_eq!(text.lines().count(), 1, "{text:?}");
        assert!(!text.contains("-->"), "{text:?}");
    }
    assert!(srt[0]["text"].as_str().unwrap().starts_with(&format!("{}: hello", CUE_CLEAN.replace("-->", "->"))));
    assert!(parsed(&seen, "html").as_u64().unwrap() >= 2);
    parsed(&seen, "transcript.podcast.json");
    // The feed: well-formed XML, read by feedparser without a complaint, the names as people.
    assert_eq!(parsed(&seen, "feed_xml"), "rss");
    let fp = &seen["feedparser"];
    assert_eq!(fp["bozo"], 0, "feedparser: {}", fp["bozo_exception"]);
    assert_eq!(fp["title"], "Sh ow Title");
    assert_eq!(fp["author"], "Au thor & Co");
    assert_eq!(fp["entries"][0]["title"], "Room 00:00:00.000 --> 00:00:09.000 TITLE");
    let mut people: Vec<&str> = seen["people"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    people.sort();
    assert_eq!(people, [CUE_CLEAN, merged_clean]);
    assert_eq!(seen["soundbites"][0], "Clip --> BITE");
    let chapters = parsed(&seen, site.join("rooms").join(&id).join("chapters.json").to_str().unwrap());
    let titles: Vec<&str> =
        chapters["chapters"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Intro --> CHAPTER", "Chap 00:00:01.000 --> 00:00:02.000 CHAPTER"]);
    // The masters' tags, as ffprobe reads them: one line each, the forbidden characters gone.
    for master in ["master.mp3", "master.opus"] {
        let tags = &seen[master];
        let artist = tags["artist"].as_str().unwrap_or_else(|| panic!("{master}: {tags}"));
        assert!(artist.contains(CUE_CLEAN) && artist.contains(merged_clean), "{master}: {artist}");
        for (k, v) in tags.as_object().unwrap() {
            let v = v.as_str().unwrap_or("");
            assert!(!v.contains('\u{FFFE}') && !v.contains('\u{FFFF}'), "{master} {k}: {v:?}");
        }
    }
}

#[test]
fn hostile_names_a_live_room_sends_are_kept_as_one_bounded_line() {
    let dir = tempfile::tempdir().unwrap();
    let voice = tone(dir.path(), 440, 3.0);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // Plain RTP: the names come in RTCP SDES (at most 255 bytes there).
    let port = free_udp_port();
    let session = dir.path().join("rtp");
    let url = format!("rtp://127.0.0.1:{port}");
    let recorder = spawn(&["record", &url, "--max-duration", "4", "--out", &s(&session)]);
    std::thread::sleep(Duration::from_millis(500));
    let long = "y".repeat(5000);
    let a = spawn(&["speak", &s(&voice), "--to", &url, "--name", CUE, "--limit", "2"]);
    let b = spawn(&["speak", &s(&voice), "--to", &url, "--name", &format!("{NONCHARS}{long}"), "--limit", "2"]);
    finish(a);
    finish(b);
    finish(recorder);
    // A Janus room: the names are the publishers' display names, of any length.
    let janus = Janus::start();
    let jsession = dir.path().join("janus");
    let jurl = janus.url(1234);
    let recorder = spawn(&[
        "record",
        &jurl,
        "--max-duration",
        "5",
        "--media",
        "rtp-forward",
        "--admin-key",
        "roomcast-admin",
        "--out",
        &s(&jsession),
    ]);
    std::thread::sleep(Duration::from_millis(800));
    let c = spawn(&[
        "speak",
        &s(&voice),
        "--to",
        &jurl,
        "--name",
        &format!("Ja\u{FFFF}nus\n\n{}", "x".repeat(10 * 1024)),
        "--limit",
        "2",
    ]);
    finish(c);
    finish(recorder);
    drop(janus);

    for (session, sdes) in [(&session, true), (&jsession, false)] {
        let room = room_json(session);
        let names: Vec<String> =
            room["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
        assert!(!names.is_empty(), "{room}");
        for name in &names {
            assert!(!name.chars().any(|c| c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}'), "{name:?}");
            assert!(name.chars().count() <= 100, "{} characters", name.chars().count());
        }
        if sdes {
            assert!(names.contains(&CUE_CLEAN.to_string()), "{names:?}");
            assert!(names.iter().any(|n| n.starts_with("Bad Na meyyy") && n.ends_with('…')), "{names:?}");
        } else {
            assert!(names[0].starts_with("Ja nus xxx") && names[0].ends_with('…'), "{names:?}");
        }
        // Its master's tags and its feed stay valid with those names.
        let lib = dir.path().join("lib");
        ok(run(&lib, &["publish", &s(session), "--skip-transcribe", "--format", "opus"]));
        let tags = tool("ffprobe")
            .args(["-v", "error", "-show_entries", "stream_tags=artist", "-of", "default=nw=1:nk=1"])
            .arg(session.join("master.opus"))
            .output()
            .unwrap();
        let artist = String::from_utf8_lossy(&tags.stdout);
        assert!(tags.status.success() && artist.trim().lines().count() == 1, "{artist:?}");
    }
}
