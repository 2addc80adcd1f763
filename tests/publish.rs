//! `roomcast publish` (master, transcribe, export, index in one command), transcripts made
//! elsewhere attached with `import-transcript`, and `play`. Transcription runs on the real tiny.en
//! model; the masters are checked by ffprobe, the library read through its catalog (and its SQLite
//! file directly where the test is about the database staying whole).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use roomcast::library::{self, Access, Catalog, RoomSummary};
use serde_json::Value;

use common::*;

fn rc(library: &Path, models: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_LIBRARY", library)
        .env("ROOMCAST_MODELS", models)
        .env("HOME", library.parent().unwrap())
        .env_remove("ROOMCAST_MODEL")
        .args(args)
        .output()
        .unwrap()
}

fn fails(out: Output) -> String {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

fn catalog(library: &Path) -> Box<dyn Catalog> {
    library::open(library, Access::Read).unwrap()
}

fn rooms(library: &Path) -> Vec<RoomSummary> {
    catalog(library).rooms(true).unwrap()
}

/// The one room the library holds.
fn only_room(library: &Path) -> RoomSummary {
    let mut rooms = rooms(library);
    assert_eq!(rooms.len(), 1, "{rooms:?}");
    rooms.remove(0)
}

fn tiny_en() -> String {
    shared().join("models/ggml-tiny.en.bin").to_string_lossy().into_owned()
}

#[test]
fn publish_masters_transcribes_exports_and_indexes_and_publishing_again_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let (library, session) = (dir.path().join("library"), dir.path().join("room"));
    import_sample(&session);
    let models = shared().join("models");
    let s = session.to_str().unwrap();
    let out: Value = serde_json::from_str(&ok(rc(
        &library,
        &models,
        &["--json", "publish", s, "--model", &tiny_en(), "--language", "en"],
    )))
    .unwrap();
    assert_eq!(out["transcribed"], true, "{out}");
    for file in ["master.mp3", "master.opus", "transcript.json", "transcript.vtt", "transcript.srt", "transcript.html"]
    {
        assert!(session.join(file).is_file(), "{file}");
    }
    // The masters are real files an independent tool reads.
    let probe = tool("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"])
        .arg(session.join("master.mp3"))
        .output()
        .unwrap();
    let duration: f64 = String::from_utf8_lossy(&probe.stdout).trim().parse().unwrap();
    assert!((duration - 80.0).abs() < 2.0, "{duration}");
    let room = only_room(&library);
    let segments = room.segments;
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(session.join("transcript.json")).unwrap()).unwrap();
    assert_eq!(segments, doc["segments"].as_array().unwrap().len() as u64);
    assert_eq!(room.outputs.iter().filter(|o| o.kind == "master").count(), 2);
    assert_eq!(room.speakers.len(), 3);
    // What was said is what the library finds.
    let hits: Value = serde_json::from_str(&ok(rc(&library, &models, &["--json", "search", "quieter"]))).unwrap();
    assert_eq!(hits[0]["name"], "Priya", "{hits}");

    let again: Value =
        serde_json::from_str(&ok(rc(&library, &models, &["--json", "publish", s, "--skip-transcribe"]))).unwrap();
    assert_eq!(again["index"]["replaced"], true);
    let room = only_room(&library);
    assert_eq!(room.speakers.len(), 3, "not duplicated");
    assert_eq!(room.segments, segments, "the transcript it has is kept, once");

    // The room plays from a moment: the master, at the time asked.
    let id = out["room"].as_str().unwrap();
    let play = ok(rc(&library, &models, &["play", id, "--at", "1:05", "--print"]));
    assert!(play.contains("master.mp3") && (play.contains("65.00")), "{play}");
    let track = ok(rc(&library, &models, &["play", id, "--at", "40", "--speaker", "priya", "--print"]));
    assert!(track.contains("tracks/priya.opus"), "{track}");
    let err = fails(rc(&library, &models, &["play", id, "--at", "2:00:00", "--print"]));
    assert!(err.contains("only 0:01:"), "{err}");
}

#[test]
fn without_a_model_publish_still_masters_and_indexes_and_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let (library, session) = (dir.path().join("library"), dir.path().join("room"));
    import_sample(&session);
    let no_models = dir.path().join("no-models");
    std::fs::create_dir_all(&no_models).unwrap();
    let out = rc(&library, &no_models, &["publish", session.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("not transcribed") && stderr.contains("roomcast models download tiny.en"), "{stderr}");
    assert!(session.join("master.mp3").is_file());
    assert_eq!(only_room(&library).segments, 0);
}

#[test]
fn a_failing_step_is_named_and_leaves_the_library_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (library, session) = (dir.path().join("library"), dir.path().join("room"));
    import_sample(&session);
    let models = shared().join("models");
    // Step 2: a broken whisper model.
    let broken = dir.path().join("ggml-broken.bin");
    std::fs::write(&broken, b"not a model").unwrap();
    let err =
        fails(rc(&library, &models, &["publish", session.to_str().unwrap(), "--model", broken.to_str().unwrap()]));
    assert!(err.contains("publish step 2 of 4 (transcribe) failed") && err.contains("ggml-broken.bin"), "{err}");
    assert_eq!(rooms(&library).len(), 0, "nothing indexed");
    // Step 1: a track gone missing.
    std::fs::remove_file(session.join("tracks/theo.opus")).unwrap();
    let err = fails(rc(&library, &models, &["publish", session.to_str().unwrap(), "--skip-transcribe"]));
    assert!(err.contains("publish step 1 of 4 (master) failed") && err.contains("theo.opus"), "{err}");
    assert_eq!(rooms(&library).len(), 0);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn transcripts_made_elsewhere_are_attached_by_speaker_name_and_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let (library, session) = (dir.path().join("library"), dir.path().join("room"));
    import_sample(&session);
    let models = shared().join("models");
    let s = session.to_str().unwrap();
    let vtt = write(
        dir.path(),
        "otter.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Maya>Welcome to Room Notes,\n\n00:00:04.000 --> 00:00:07.100\n\
         <v Maya>the show about recording.\n\n00:01:00.000 --> 00:01:05.000\n<v priya>Loudness is what listeners notice.\n",
    );
    let out: Value =
        serde_json::from_str(&ok(rc(&library, &models, &["--json", "import-transcript", s, vtt.to_str().unwrap()])))
            .unwrap();
    assert_eq!(out["segments"], 2, "two cues of one turn joined: {out}");
    let hits: Value =
        serde_json::from_str(&ok(rc(&library, &models, &["--json", "search", "loudness", "--speaker", "Priya"])))
            .unwrap();
    assert_eq!(hits[0]["at"], 60.0, "{hits}");
    assert_eq!(hits[0]["name"], "Priya", "matched in any case to the room's name");

    // A second transcript is refused unless --replace.
    let srt = write(dir.path(), "captions.srt", "1\n00:00:10,000 --> 00:00:12,500\nTheo: Tracks of their own.\n");
    let err = fails(rc(&library, &models, &["import-transcript", s, srt.to_str().unwrap()]));
    assert!(err.contains("already has a transcript") && err.contains("--replace"), "{err}");
    ok(rc(&library, &models, &["import-transcript", s, srt.to_str().unwrap(), "--replace"]));
    let hits: Value = serde_json::from_str(&ok(rc(&library, &models, &["--json", "search", "tracks"]))).unwrap();
    assert_eq!((hits[0]["name"].as_str(), hits[0]["at"].as_f64()), (Some("Theo"), Some(10.0)));
    assert_eq!(only_room(&library).segments, 1, "the old transcript's segments are gone");

    // Unknown speakers: a clear error naming them, unless --add-speakers.
    let podcast = write(
        dir.path(),
        "episode.json",
        r#"{"version":"1.0.0","segments":[{"speaker":"Maya","startTime":1.0,"endTime":2.0,"body":"Hello"},
            {"speaker":"Zed","startTime":3.0,"endTime":4.0,"body":"Guest appearance"}]}"#,
    );
    let err = fails(rc(&library, &models, &["import-transcript", s, podcast.to_str().unwrap(), "--replace"]));
    assert!(err.contains("'Zed'") && err.contains("--add-speakers") && err.contains("'Priya'"), "{err}");
    ok(rc(&library, &models, &["import-transcript", s, podcast.to_str().unwrap(), "--replace", "--add-speakers"]));
    let hits: Value = serde_json::from_str(&ok(rc(&library, &models, &["--json", "search", "appearance"]))).unwrap();
    assert_eq!(hits[0]["name"], "Zed");

    let junk = write(dir.path(), "notes.txt", "just some notes");
    let err = fails(rc(&library, &models, &["import-transcript", s, junk.to_str().unwrap(), "--replace"]));
    assert!(err.contains("notes.txt") && err.contains("not a transcript roomcast reads"), "{err}");
}

#[test]
fn our_own_exports_import_back_with_the_same_speakers_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let (library, session) = (dir.path().join("library"), dir.path().join("room"));
    import_sample(&session);
    let models = shared().join("models");
    let s = session.to_str().unwrap();
    ok(rc(&library, &models, &["publish", s, "--skip-transcribe", "--format", "mp3"]));
    // A constructed transcript, exported to every format and read back through import-transcript.
    let doc = serde_json::json!({
        "format": "roomcast-transcript", "version": 1, "room": "x", "title": "t", "duration": 80.0,
        "speakers": [{"id": "maya", "name": "Maya", "language": "en"}, {"id": "priya", "name": "Priya", "language": "en"}],
        "segments": [
            {"speaker": "maya", "name": "Maya", "start": 1.0, "end": 3.5, "text": "Welcome & <hello> everyone", "words": []},
            {"speaker": "priya", "name": "Priya", "start": 40.25, "end": 44.0, "text": "Loudness first, then clarity", "words": []}
        ]
    });
    std::fs::write(session.join("transcript.json"), doc.to_string()).unwrap();
    let out = dir.path().join("exports");
    ok(rc(&library, &models, &["export", s, "--out", out.to_str().unwrap()]));
    for file in ["transcript.vtt", "transcript.srt", "transcript.podcast.json", "transcript.json"] {
        ok(rc(&library, &models, &["import-transcript", s, out.join(file).to_str().unwrap(), "--replace"]));
        let hits: Value = serde_json::from_str(&ok(rc(&library, &models, &["--json", "search", "clarity"]))).unwrap();
        assert_eq!(
            (hits[0]["name"].as_str(), hits[0]["segment_start"].as_f64()),
            (Some("Priya"), Some(40.25)),
            "{file}"
        );
        let hits: Value = serde_json::from_str(&ok(rc(&library, &models, &["--json", "search", "everyone"]))).unwrap();
        let snippet = hits[0]["snippet"].as_str().unwrap_or_default();
        assert!(snippet.starts_with("Welcome & "), "{file}: text unescaped: {hits}");
        // SRT has no escaping: players strip what looks like a tag, and so does the import.
        if file != "transcript.srt" {
            assert!(snippet.contains("& <hello>"), "{file}: {hits}");
        }
    }
}

#[test]
fn two_publishes_at_once_both_land_and_the_database_stays_whole() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    import_sample(&a);
    import_sample(&b);
    // import_sample names both rooms alike; give the second its own id.
    let room = b.join("room.json");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&room).unwrap()).unwrap();
    json["id"] = Value::from("second-room");
    std::fs::write(&room, json.to_string()).unwrap();
    let models = shared().join("models");
    // Sessions named relative to the working directory, as a user types them.
    let spawn = |s: &Path| {
        Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .current_dir(dir.path())
            .env("ROOMCAST_LIBRARY", &library)
            .env("ROOMCAST_MODELS", &models)
            .args(["publish", s.file_name().unwrap().to_str().unwrap(), "--skip-transcribe", "--format", "mp3"])
            .output()
    };
    let (ra, rb) = std::thread::scope(|scope| {
        let ta = scope.spawn(|| spawn(&a).unwrap());
        let tb = scope.spawn(|| spawn(&b).unwrap());
        (ta.join().unwrap(), tb.join().unwrap())
    });
    for r in [&ra, &rb] {
        assert!(r.status.success(), "a publish failed: {}", String::from_utf8_lossy(&r.stderr));
    }
    let all = rooms(&library);
    assert_eq!(all.len(), 2);
    assert_eq!(all.iter().map(|r| r.speakers.len()).sum::<usize>(), 6);
    // The SQLite file itself stays whole with two writers at once.
    let check: String = rusqlite::Connection::open(library.join("library.db"))
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // The library is read from anywhere: what it remembers is absolute.
    for r in &all {
        assert!(r.outputs.iter().all(|o| o.path.is_absolute()), "{:?}", r.outputs);
        assert!(r.session.is_absolute(), "{}", r.session.display());
    }
}

#[test]
fn the_publish_use_case_is_the_function_the_command_line_calls_steps_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (library, session) = (dir.path().join("library"), dir.path().join("room"));
    import_sample(&session);
    let options = roomcast::app::PublishOptions {
        formats: vec![roomcast::master::Format::Mp3],
        skip_transcribe: true,
        model: "tiny.en".into(),
        language: "auto".into(),
        room: None,
    };
    let mut steps = Vec::new();
    let report = roomcast::app::publish(&session, &options, &library, &roomcast::progress::Silent, &mut |step| {
        steps.push(match step {
            roomcast::app::PublishStep::Mastered(m) => format!("mastered {}", m.outputs.len()),
            roomcast::app::PublishStep::Transcribed { .. } => "transcribed".to_string(),
            roomcast::app::PublishStep::NotTranscribed { note, skipped } => {
                format!("not transcribed: {note} {skipped}")
            }
        })
    })
    .unwrap();
    assert_eq!(steps, ["mastered 1", "not transcribed: skipped (--skip-transcribe) true"]);
    assert!(!report.transcribed);
    assert_eq!(report.transcript_note.as_deref(), Some("skipped (--skip-transcribe)"));
    let room = only_room(&library);
    assert_eq!((room.id.as_str(), room.title.as_str()), (report.room.as_str(), "Room Notes"));
    assert_eq!(report.index.speakers, 3);
    let master = report.outputs.iter().find(|o| o.kind == "master").expect("the master is an output");
    assert_eq!(master.path.file_name().unwrap(), "master.mp3");
    // What the report says was published is what the catalog holds, and an independent tool reads it.
    assert_eq!(room.outputs.iter().filter(|o| o.kind == "master").count(), 1);
    let (lufs, _) = ebur128(&master.path);
    assert!((lufs + 16.0).abs() < 1.0, "{lufs} LUFS");
}

#[test]
fn a_queued_job_publishes_the_room_it_was_queued_for_not_whatever_its_folder_holds_later() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, session, other) = (dir.path().join("lib"), dir.path().join("room"), dir.path().join("other"));
    import_sample(&session);
    ok(roomcast(&[
        "import",
        "--speaker",
        &format!("Theo={}", sample("theo.opus").display()),
        "--title",
        "Another Room",
        "--out",
        other.to_str().unwrap(),
    ]));
    let l = lib.to_str().unwrap();
    let queued: serde_json::Value = serde_json::from_str(&ok(roomcast(&[
        "--library",
        l,
        "--json",
        "publish",
        session.to_str().unwrap(),
        "--queue",
        "--skip-transcribe",
        "--format",
        "mp3",
    ])))
    .unwrap();
    let queued_room = queued["job"]["room"].as_str().unwrap().to_string();
    // Before a worker gets to it, the folder is given another room's room.json.
    std::fs::copy(other.join("room.json"), session.join("room.json")).unwrap();
    let worker = roomcast(&["--library", l, "--json", "worker", "--once"]);
    let report: serde_json::Value = serde_json::from_slice(&worker.stdout).unwrap();
    assert_eq!((report["done"].as_u64(), report["failed"].as_u64()), (Some(0), Some(1)), "{report}");
    let jobs: serde_json::Value = serde_json::from_str(&ok(roomcast(&["--library", l, "--json", "jobs"]))).unwrap();
    let error = jobs[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("not room '{queued_room}' that was queued")), "{error}");
    let rooms = ok(roomcast(&["--library", l, "--json", "rooms"]));
    assert_eq!(rooms.trim(), "[]", "nothing indexed under the wrong room: {rooms}");
    assert!(!session.join("master.mp3").exists(), "nothing mastered either");
}

#[test]
fn jobs_limit_zero_is_refused_not_answered_with_no_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let out = roomcast(&["--library", dir.path().to_str().unwrap(), "jobs", "--limit", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--limit") && err.contains('0'), "{err}");
}
