//! Values and situations from a user's worst day: out-of-range times, a pipe closed early, a
//! library kept inside a room's folder. Each gets one clear line or a quiet end, never a panic.

mod common;

use std::process::{Command, Stdio};

use common::*;

fn one_line_error(args: &[&str], expect: &str) {
    let out = roomcast(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: one line, got: {stderr}");
    assert!(stderr.starts_with("roomcast: error: ") && stderr.contains(expect), "{args:?}: {stderr}");
}

#[test]
fn durations_and_times_out_of_range_are_one_line_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    for bad in ["-5", "1e300", "1e19", "inf", "NaN", "-0:30"] {
        one_line_error(
            &["record", "rtp://127.0.0.1:5", &format!("--max-duration={bad}"), "--out", out.to_str().unwrap()],
            &format!("'{bad}' is not a time"),
        );
    }
    assert!(!out.exists(), "a refused recording left a session behind");
    one_line_error(&["play", "anything", "--at=-5", "--print"], "'-5' is not a time");
    let wav = dir.path().join("a.wav");
    write_wav(&wav, 16_000, &burst(16_000, 1.0, 0.2, 0.5, 440.0, 0.5));
    one_line_error(
        &[
            "import",
            "--speaker",
            &format!("A={}", wav.display()),
            "--started-at=+262142-12-31T23:59:59Z",
            "--out",
            out.to_str().unwrap(),
        ],
        "not between the years 1900 and 9999",
    );
    assert!(!out.exists());
}

#[test]
fn a_room_json_with_a_start_time_dates_cannot_hold_is_refused_before_recover_touches_anything() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let mut room = room_json(&session);
    room["started_at"] = "+262142-12-31T23:59:59Z".into();
    room["status"] = "recording".into();
    std::fs::write(session.join("room.json"), serde_json::to_string_pretty(&room).unwrap()).unwrap();
    let before = std::fs::read(session.join("tracks/maya.opus")).unwrap();
    one_line_error(&["recover", session.to_str().unwrap()], "\"started_at\"");
    assert_eq!(std::fs::read(session.join("tracks/maya.opus")).unwrap(), before);
    room["started_at"] = "2026-11-20T18:00:00Z".into();
    room["duration"] = 1e308.into();
    std::fs::write(session.join("room.json"), serde_json::to_string_pretty(&room).unwrap()).unwrap();
    one_line_error(&["mix", session.to_str().unwrap()], "\"duration\"");
}

#[test]
fn output_piped_into_head_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("lib");
    let session = dir.path().join("room");
    import_sample(&session);
    ok(roomcast(&["--library", library.to_str().unwrap(), "index", session.to_str().unwrap()]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args(["--library", library.to_str().unwrap(), "--json", "search", "the"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Hang up before it writes, as `| head -0` does: its first write meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    assert_ne!(out.status.code(), Some(101));
}

#[test]
fn removing_a_room_whose_folder_holds_the_library_keeps_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let library = session.join("library");
    let lib = library.to_str().unwrap();
    ok(roomcast(&["--library", lib, "index", session.to_str().unwrap()]));
    let id = room_json(&session)["id"].as_str().unwrap().to_string();
    let out = ok(roomcast(&["--library", lib, "--json", "remove", &id]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["files_deleted"], false, "{report}");
    assert_eq!(report["holds_library"], true, "{report}");
    assert!(library.join("library.db").exists(), "the library was deleted with the room");
    assert!(session.join("tracks/maya.opus").exists());
    let rooms = ok(roomcast(&["--library", lib, "--json", "rooms"]));
    assert_eq!(rooms.trim(), "[]");
}

#[test]
fn a_last_cue_padded_past_the_room_end_is_cut_at_it_and_one_starting_after_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let lib = dir.path().join("lib");
    let duration = room_json(&session)["duration"].as_f64().unwrap();
    let clock = |t: f64| format!("00:{:02}:{:06.3}", (t / 60.0) as u64, t % 60.0);
    let attach = |name: &str, text: String| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        roomcast(&[
            "--library",
            lib.to_str().unwrap(),
            "--json",
            "import-transcript",
            session.to_str().unwrap(),
            file.to_str().unwrap(),
            "--replace",
        ])
    };
    // As caption tools write them: the last cue rounded and padded 2.3 s past the room's end.
    let vtt = format!(
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Maya>welcome to room notes\n\n{} --> {}\n<v Theo>thanks for listening\n",
        clock(duration - 0.6),
        clock(duration + 2.3)
    );
    let report: serde_json::Value = serde_json::from_str(&ok(attach("padded.vtt", vtt))).unwrap();
    assert_eq!(report["clamped"], 1, "{report}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("transcript.json")).unwrap()).unwrap();
    let last = doc["segments"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["text"], "thanks for listening");
    assert!((last["end"].as_f64().unwrap() - duration).abs() < 0.002, "cut at the room's end: {last}");

    let late = format!("WEBVTT\n\n{} --> {}\n<v Theo>after the end\n", clock(duration + 0.2), clock(duration + 1.0));
    let out = attach("late.vtt", late);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("outside the room"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn transcript_cues_outside_the_room_are_refused_and_thousands_of_speakers_attach_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let lib = dir.path().join("lib");
    let attach = |name: &str, text: &str, extra: &[&str]| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let mut args = vec!["--library", lib.to_str().unwrap(), "import-transcript", session.to_str().unwrap()];
        args.push(file.to_str().unwrap());
        args.extend_from_slice(extra);
        roomcast(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>())
    };
    let far = "WEBVTT\n\n99999:59:59.000 --> 99999:59:59.900\n<v Maya>Far in the future\n";
    let out = attach("far.vtt", far, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("outside the room"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for (name, start) in [("negative.json", "-100"), ("huge.json", "1e308")] {
        let json = format!(
            r#"{{"version":"1.0.0","segments":[{{"speaker":"Maya","startTime":{start},"endTime":2,"body":"x"}}]}}"#
        );
        let out = attach(name, &json, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("outside the room"), "{name}: {err}");
    }
    assert!(!session.join("transcript.json").exists(), "a refused import wrote a transcript");

    // 3,000 names that all slug to "guest": each gets its own id.
    let mut vtt = String::from("WEBVTT\n");
    for i in 0..3_000 {
        let (s, e) = (i as f64 * 0.01, i as f64 * 0.01 + 0.01);
        // Unique, under the 100-character limit on names, and all slugging to "guest".
        let name = "Guest".to_string() + &"!".repeat(i % 50) + &"?".repeat(i / 50 % 25) + &".".repeat(i / 1250);
        vtt.push_str(&format!(
            "\n00:{:02}:{:06.3} --> 00:{:02}:{:06.3}\n<v {name}>hello\n",
            (s / 60.0) as u32,
            s % 60.0,
            (e / 60.0) as u32,
            e % 60.0
        ));
    }
    let out = attach("many.vtt", &vtt, &["--add-speakers"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let transcript: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("transcript.json")).unwrap()).unwrap();
    let ids: std::collections::HashSet<&str> =
        transcript["speakers"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3 + 3_000, "every name its own id");
    assert!(ids.contains("guest") && ids.contains("guest-2999"), "{:?}", ids.iter().take(5).collect::<Vec<_>>());
}

#[test]
fn a_killed_mix_leaves_no_temporary_files_for_long_and_stale_masters_are_not_published() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let s = session.to_str().unwrap();
    ok(roomcast(&["mix", s, "--format", "wav,opus", "--mono"]));
    // What a `kill -9` mid-mix leaves: a temporary master of a process that no longer exists.
    let mut dead = Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    let leftover = session.join(format!(".master.mp3.tmp-{pid}"));
    std::fs::write(&leftover, vec![0u8; 100_000]).unwrap();
    ok(roomcast(&["mix", s, "--format", "opus", "--mono"]));
    assert!(!leftover.exists(), "the dead mix's temporary file is still there");
    // master.wav is from the earlier mix: the library gets this mix's master.opus only.
    let lib = dir.path().join("lib");
    let report: serde_json::Value =
        serde_json::from_str(&ok(roomcast(&["--library", lib.to_str().unwrap(), "--json", "index", s]))).unwrap();
    assert_eq!(report["outputs"], 1, "{report}");
}
