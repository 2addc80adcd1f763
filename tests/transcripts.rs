//! `roomcast transcribe` and `roomcast export` end to end. The real whisper path runs on
//! whisper.cpp's stand-in model (its text is meaningless; the plumbing, windows and files are
//! checked), and the export formats are checked by independent parsers on a constructed transcript
//! with known speakers, times and awkward text.

mod common;

use std::process::Command;

use common::*;

fn transcribe(session: &std::path::Path) -> serde_json::Value {
    transcribe_with(session, "ggml-tiny.en.bin", "en")
}

fn transcribe_with(session: &std::path::Path, model: &str, language: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_MODELS", shared().join("models"))
        .args(["--json", "transcribe"])
        .arg(session)
        .arg("--model")
        .arg(shared().join("models").join(model))
        .args(["--language", language])
        .output()
        .unwrap();
    serde_json::from_str(&ok(out)).unwrap()
}

#[test]
fn transcribing_the_sample_room_sends_whisper_speech_only_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let result = transcribe(&session);
    let report = &result["report"];
    let duration = report["room_duration"].as_f64().unwrap();
    assert!((duration - 80.0).abs() < 2.0, "{report}");
    let speakers = report["speakers"].as_array().unwrap();
    assert_eq!(speakers.len(), 3);
    for s in speakers {
        let (speech, sent) = (s["speech_seconds"].as_f64().unwrap(), s["seconds_sent_to_whisper"].as_f64().unwrap());
        // Each speaker talks for a part of the room; whisper gets that (padded), not the room.
        assert!(speech > 3.0 && speech < duration * 0.7, "{s}");
        assert!(sent >= speech && sent < speech * 1.6 + 2.0, "sent {sent} s for {speech} s of speech: {s}");
        assert!(s["windows"].as_u64().unwrap() >= 1, "{s}");
        assert_eq!(s["language"], "en");
    }
    // Every window is one speaker's own speech, so every word is that speaker's; packed densely,
    // the room needs at most one window per speaker more than one pass over the mixed room.
    let own: u64 = speakers.iter().map(|s| s["windows"].as_u64().unwrap()).sum();
    assert_eq!(report["windows"].as_u64().unwrap(), own, "{report}");
    assert!(own <= report["one_pass_windows"].as_u64().unwrap() + speakers.len() as u64, "{report}");
    // The report agrees with itself: the room's seconds sent are its speakers' seconds sent.
    let sent: f64 = speakers.iter().map(|s| s["seconds_sent_to_whisper"].as_f64().unwrap()).sum();
    assert!((report["seconds_sent_to_whisper"].as_f64().unwrap() - sent).abs() < 0.002, "{report}");
    for file in [
        "transcript.json",
        "transcript.vtt",
        "transcript.srt",
        "transcript.podcast.json",
        "transcript.txt",
        "transcript.html",
    ] {
        assert!(session.join(file).is_file(), "{file} written");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("transcript.json")).unwrap()).unwrap();
    assert_eq!(doc["format"], "roomcast-transcript");
    let names: Vec<&str> = doc["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Maya", "Theo", "Priya"]);
    // The real model heard what the script says, under the right names.
    let said = |name: &str| -> String {
        doc["segments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["name"] == name)
            .map(|s| s["text"].as_str().unwrap().to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(said("Maya").contains("welcome to room notes"), "{}", said("Maya"));
    assert!(said("Theo").contains("level each speaker before the mix"), "{}", said("Theo"));
    assert!(said("Priya").contains("thanks for having me"), "{}", said("Priya"));
    // Every time in the file is a whole millisecond.
    let text = std::fs::read_to_string(session.join("transcript.json")).unwrap();
    for number in text.split(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|n| n.contains('.')) {
        let decimals = number.split('.').nth(1).unwrap_or("");
        assert!(decimals.len() <= 3, "{number} is not rounded to milliseconds");
    }
}

#[test]
fn language_auto_detects_each_speakers_language_once_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    // The multilingual stand-in: detection runs for real, though with no weights what it hears is
    // arbitrary; what is asserted is that each speaker gets one recorded language and keeps
    // windows of their own.
    let report = transcribe_with(&session, "for-tests-ggml-tiny.bin", "auto")["report"].clone();
    let speakers = report["speakers"].as_array().unwrap();
    let languages: Vec<&str> = speakers.iter().map(|s| s["language"].as_str().expect("language recorded")).collect();
    for code in &languages {
        assert!((2..=5).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase()), "{code}");
    }
    let own_windows: u64 = speakers.iter().map(|s| s["windows"].as_u64().unwrap()).sum();
    assert_eq!(report["windows"].as_u64().unwrap(), own_windows, "every window is one speaker's: {report}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("transcript.json")).unwrap()).unwrap();
    for (s, r) in doc["speakers"].as_array().unwrap().iter().zip(speakers) {
        assert_eq!(s["language"], r["language"], "the transcript keeps what was detected");
    }
}

#[test]
fn a_missing_model_names_the_command_that_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_MODELS", dir.path())
        .env("HOME", dir.path())
        .args(["transcribe"])
        .arg(&session)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("roomcast models download tiny.en"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1);
    assert!(!session.join("transcript.json").exists());
}

const PARSE_VTT_SRT: &str = r#"
import html, json, sys, webvtt, srt
def secs(t):
    h, m, s = t.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)
vtt = [{"voice": c.voice, "start": secs(c.start), "end": secs(c.end), "text": html.unescape(c.text), "raw": c.text}
       for c in webvtt.read(sys.argv[1])]
subs = [{"start": s.start.total_seconds(), "end": s.end.total_seconds(), "text": s.content}
        for s in srt.parse(open(sys.argv[2], encoding="utf-8").read())]
print(json.dumps({"vtt": vtt, "srt": subs}))
"#;

#[test]
fn exports_read_back_with_independent_parsers() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let long: Vec<String> = (0..30).map(|i| format!("word{i}")).collect();
    let doc = serde_json::json!({
        "format": "roomcast-transcript", "version": 1, "room": "r", "title": "Room <Notes> & friends", "duration": 80.0,
        "speakers": [{"id": "maya", "name": "Maya", "language": "en"}, {"id": "theo", "name": "Théo", "language": "fr"}],
        "segments": [
            {"speaker": "maya", "name": "Maya", "start": 1.0, "end": 7.0, "text": long.join(" "), "words": [], "overlap": false},
            {"speaker": "theo", "name": "Théo", "start": 6.5, "end": 8.0, "text": "Tom & <Jerry> --> yes", "words": [], "overlap": true}
        ]
    });
    std::fs::write(session.join("transcript.json"), serde_json::to_string(&doc).unwrap()).unwrap();
    let out_dir = dir.path().join("exports");
    ok(roomcast(&["export", session.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]));

    // WebVTT and SRT through webvtt-py and srt (PyPI).
    let parsed = tool("python3")
        .args(["-c", PARSE_VTT_SRT])
        .arg(out_dir.join("transcript.vtt"))
        .arg(out_dir.join("transcript.srt"))
        .output()
        .unwrap();
    assert!(parsed.status.success(), "python parsers: {}", String::from_utf8_lossy(&parsed.stderr));
    let parsed: serde_json::Value = serde_json::from_slice(&parsed.stdout).unwrap();
    let vtt = parsed["vtt"].as_array().unwrap();
    assert!(vtt.len() >= 4, "30 words are more than one readable cue: {vtt:?}");
    assert!(vtt.iter().take_while(|c| c["voice"] == "Maya").count() >= 3);
    assert_eq!(vtt[0]["start"], 1.0);
    for c in vtt {
        assert!(c["text"].as_str().unwrap().chars().count() <= 65, "{c}");
    }
    let theo = vtt.iter().find(|c| c["voice"] == "Théo").expect("Théo's cue");
    assert_eq!(theo["start"], 6.5);
    // WebVTT cue text escapes '&', '<' and '>' (so "-->" cannot appear); a player shows it unescaped.
    assert_eq!(theo["raw"], "Tom &amp; &lt;Jerry&gt; --&gt; yes");
    assert_eq!(theo["text"], "Tom & <Jerry> --> yes");
    let subs = parsed["srt"].as_array().unwrap();
    assert_eq!(subs.len(), vtt.len());
    // SubRip has no escapes: "-->" would read as a timing line, so it is written "->".
    assert!(subs.iter().any(|s| s["text"] == "Théo: Tom & <Jerry> -> yes"), "{subs:?}");

    // Podcasting 2.0 JSON and our own, as JSON.
    let p20: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("transcript.podcast.json")).unwrap()).unwrap();
    assert_eq!(p20["version"], "1.0.0");
    assert_eq!(
        p20["segments"][1],
        serde_json::json!({"speaker": "Théo", "startTime": 6.5, "endTime": 8.0, "body": "Tom & <Jerry> --> yes"})
    );

    // HTML through Python's own parser: the text comes back, no markup got in.
    let html = tool("python3")
        .args([
            "-c",
            "import sys, html.parser\nclass P(html.parser.HTMLParser):\n    def __init__(s):\n        super().__init__(); s.tags=[]; s.text=''\n    def handle_starttag(s, t, a): s.tags.append(t)\n    def handle_data(s, d): s.text += d\np=P(); p.feed(open(sys.argv[1], encoding='utf-8').read()); print(sorted(set(p.tags))); print(p.text)",
        ])
        .arg(out_dir.join("transcript.html"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&html.stdout);
    assert!(text.lines().next().unwrap().contains("'p'") && !text.contains("'jerry'"), "{text}");
    assert!(text.contains("Tom & <Jerry> --> yes") && text.contains("Room <Notes> & friends"), "{text}");
    let txt = std::fs::read_to_string(out_dir.join("transcript.txt")).unwrap();
    assert!(txt.starts_with("[00:00:01] Maya: word0 word1"), "{txt}");
    assert!(txt.contains("[00:00:06] Théo: Tom & <Jerry> --> yes"), "{txt}");
}

#[test]
fn thread_counts_the_machine_cannot_run_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    for threads in ["0".to_string(), (cores + 1).to_string()] {
        let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .env("ROOMCAST_MODELS", shared().join("models"))
            .args(["transcribe", session.to_str().unwrap(), "--threads", &threads])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&format!("{threads} whisper threads")) && stderr.contains("cores"), "{stderr}");
        assert!(!session.join("transcript.json").exists(), "nothing written");
    }
}
