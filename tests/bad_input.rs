//! Bad input gets one clear line that names the file or value and the problem, a non-zero exit, and
//! leaves nothing behind: no half-made session, no temporary folder, no damage to what was there.

mod common;

use std::path::Path;

use common::*;

/// Runs an import expected to fail; checks the message and that `dir` holds only `keep`.
fn fails(dir: &Path, args: &[&str], expect: &[&str], keep: &[&str]) {
    let out = roomcast(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "exit code for {args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line, got: {stderr}");
    assert!(stderr.starts_with("roomcast: error: "), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "error should mention '{e}': {stderr}");
    }
    let mut left: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    let mut keep: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    keep.sort();
    assert_eq!(left, keep, "files left after a failed import");
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let f = Fixture { dir: tempfile::tempdir().unwrap() };
        write_wav(&f.path("ok.wav"), 16_000, &burst(16_000, 1.0, 0.2, 0.5, 440.0, 0.5));
        f
    }
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }
    fn import(&self, speakers: &[(&str, &str)], extra: &[&str], expect: &[&str], keep: &[&str]) {
        let mut args = vec!["import".to_string()];
        for (name, file) in speakers {
            args.push("--speaker".into());
            args.push(format!("{name}={}", self.s(file)));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push("--out".into());
        args.push(self.s("session"));
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        fails(self.dir.path(), &args, expect, keep);
    }
}

#[test]
fn a_missing_file_is_named() {
    let f = Fixture::new();
    f.import(&[("Ana", "ok.wav"), ("Ben", "nope.wav")], &[], &["nope.wav", "not found"], &["ok.wav"]);
}

#[test]
fn an_unreadable_file_is_named() {
    let f = Fixture::new();
    std::fs::create_dir(f.path("folder.wav")).unwrap();
    f.import(&[("Ana", "folder.wav")], &[], &["folder.wav", "cannot read"], &["ok.wav", "folder.wav"]);
}

#[test]
fn an_empty_file_and_a_file_without_samples_are_refused() {
    let f = Fixture::new();
    std::fs::write(f.path("empty.wav"), b"").unwrap();
    f.import(&[("Ana", "empty.wav")], &[], &["empty.wav", "empty"], &["ok.wav", "empty.wav"]);
    write_wav(&f.path("zero.wav"), 16_000, &[]);
    f.import(&[("Ana", "zero.wav")], &[], &["zero.wav", "no audio"], &["ok.wav", "empty.wav", "zero.wav"]);
}

#[test]
fn garbage_and_unsupported_codecs_are_refused() {
    let f = Fixture::new();
    std::fs::write(
        f.path("noise.mp3"),
        (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    f.import(&[("Ana", "noise.mp3")], &[], &["noise.mp3"], &["ok.wav", "noise.mp3"]);
    // Looks like Ogg, claims 200 segments in its first page, and is cut short.
    let mut fake = b"OggS\0\x02".to_vec();
    fake.resize(26, 0);
    fake.push(200);
    fake.extend([7u8; 20]);
    std::fs::write(f.path("fake.opus"), &fake).unwrap();
    f.import(&[("Ana", "fake.opus")], &[], &["fake.opus"], &["ok.wav", "noise.mp3", "fake.opus"]);
    // Opus inside Matroska: a container symphonia reads, a codec only Ogg Opus import handles.
    let s = tool("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=1", "-c:a", "libopus"])
        .arg(f.path("talk.mka"))
        .status()
        .unwrap();
    assert!(s.success());
    f.import(
        &[("Ana", "talk.mka")],
        &[],
        &["talk.mka", "unsupported codec"],
        &["ok.wav", "noise.mp3", "fake.opus", "talk.mka"],
    );
}

#[test]
fn truncated_and_corrupt_audio_is_refused() {
    let f = Fixture::new();
    let mut long = burst(16_000, 6.0, 0.0, 6.0, 300.0, 0.4);
    long.iter_mut().enumerate().for_each(|(i, s)| *s += 0.1 * ((i * 7919 % 1000) as f32 / 1000.0 - 0.5));
    write_wav(&f.path("long.wav"), 16_000, &long);
    let bytes = std::fs::read(f.path("long.wav")).unwrap();
    std::fs::write(f.path("cut.wav"), &bytes[..bytes.len() / 2]).unwrap();
    f.import(&[("Ana", "cut.wav")], &[], &["cut.wav", "truncated"], &["ok.wav", "long.wav", "cut.wav"]);

    let s =
        tool("ffmpeg").args(["-v", "error", "-i"]).arg(f.path("long.wav")).arg(f.path("long.flac")).status().unwrap();
    assert!(s.success());
    let mut flac = std::fs::read(f.path("long.flac")).unwrap();
    let (mid, span) = (flac.len() / 3, flac.len() / 3);
    for (i, b) in flac[mid..mid + span].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(97) ^ 0x5a;
    }
    std::fs::write(f.path("bad.flac"), &flac).unwrap();
    f.import(
        &[("Ana", "bad.flac")],
        &[],
        &["bad.flac", "corrupt"],
        &["ok.wav", "long.wav", "cut.wav", "long.flac", "bad.flac"],
    );
}

#[test]
fn speaker_name_mistakes_are_caught_before_any_work() {
    let f = Fixture::new();
    f.import(&[("Ana", "ok.wav"), ("Ana", "ok.wav")], &[], &["'Ana'", "twice"], &["ok.wav"]);
    f.import(&[("Ana", "ok.wav")], &["--offset", "Bob=3"], &["--offset", "'Bob'", "Ana"], &["ok.wav"]);
    // A negative offset is a usage mistake, refused while the arguments are read (exit code 2).
    let out = roomcast(&[
        "import",
        "--speaker",
        &format!("Ana={}", f.s("ok.wav")),
        "--offset",
        "Ana=-3",
        "--out",
        &f.s("session"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--offset") && stderr.contains("Ana=-3"), "{stderr}");
    assert!(!f.path("session").exists());
    f.import(&[], &[], &["no speakers"], &["ok.wav"]);
}

#[test]
fn an_output_folder_that_holds_a_session_or_cannot_be_written_is_refused_untouched() {
    let f = Fixture::new();
    ok(roomcast(&["import", "--speaker", &format!("Ana={}", f.s("ok.wav")), "--out", &f.s("session")]));
    let before = std::fs::read(f.path("session/tracks/ana.opus")).unwrap();
    let room_before = std::fs::read(f.path("session/room.json")).unwrap();
    f.import(&[("Ben", "ok.wav")], &[], &["session", "already holds a session"], &["ok.wav", "session"]);
    assert_eq!(std::fs::read(f.path("session/tracks/ana.opus")).unwrap(), before);
    assert_eq!(std::fs::read(f.path("session/room.json")).unwrap(), room_before);

    std::fs::write(f.path("plain-file"), b"x").unwrap();
    let out = roomcast(&["import", "--speaker", &format!("Ana={}", f.s("ok.wav")), "--out", &f.s("plain-file/room")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("plain-file/room") && stderr.contains("cannot write"), "{stderr}");
}

#[test]
fn a_failure_part_way_through_leaves_no_partial_session() {
    // The second file fails only once decoding reaches its damage, after the first was encoded.
    let f = Fixture::new();
    let long = burst(16_000, 4.0, 0.0, 4.0, 300.0, 0.4);
    write_wav(&f.path("long.wav"), 16_000, &long);
    let bytes = std::fs::read(f.path("long.wav")).unwrap();
    std::fs::write(f.path("cut.wav"), &bytes[..bytes.len() * 3 / 4]).unwrap();
    f.import(&[("Ana", "ok.wav"), ("Ben", "cut.wav")], &[], &["cut.wav"], &["ok.wav", "long.wav", "cut.wav"]);
}

#[test]
fn mixing_something_that_is_not_a_session_says_so() {
    let f = Fixture::new();
    let out = roomcast(&["mix", &f.s("")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("not a roomcast session"), "{stderr}");
    let out = roomcast(&["mix", &f.s("nowhere")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
}
