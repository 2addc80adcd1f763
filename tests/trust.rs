//! What a user trusts roomcast with: it deletes nothing that is not the room's own, it stops
//! publishing what left the feed, and it serves or copies no file from outside a session,
//! whatever links were planted in one. Every test here failed before the fix it guards.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::http::{get, serve};
use common::*;

struct Library {
    _dir: tempfile::TempDir,
    root: PathBuf,
    lib: PathBuf,
}

impl Library {
    fn new() -> Library {
        let dir = tempfile::tempdir().unwrap();
        Library { root: dir.path().to_path_buf(), lib: dir.path().join("L"), _dir: dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_roomcast")).env("ROOMCAST_LIBRARY", &self.lib).args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        ok(self.run(args))
    }

    /// A one-line error, exit 1.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        err
    }

    /// A one-speaker room imported at `out`, published (MP3) into the library: its id.
    fn room(&self, out: &Path, title: &str, started_at: &str) -> String {
        ok(roomcast(&[
            "import",
            "--speaker",
            &format!("Theo={}", sample("theo.opus").display()),
            "--title",
            title,
            "--started-at",
            started_at,
            "--out",
            out.to_str().unwrap(),
        ]));
        self.ok(&["publish", out.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"]);
        room_json(out)["id"].as_str().unwrap().to_string()
    }

    fn room_ids(&self) -> Vec<String> {
        let rooms: Value = serde_json::from_str(&self.ok(&["--json", "rooms"])).unwrap();
        rooms.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
    }
}

#[test]
fn remove_refuses_to_delete_a_folder_that_holds_another_rooms_session() {
    let l = Library::new();
    let (outer, inner) = (l.lib.join("rooms"), l.lib.join("rooms/p"));
    let outer_id = l.room(&outer, "Outer", "2026-11-01T10:00:00Z");
    let inner_id = l.room(&inner, "Inner", "2026-11-02T10:00:00Z");
    let err = l.fails(&["remove", &outer_id]);
    assert!(err.contains("holds another room's session") && err.contains("nothing removed"), "{err}");
    assert!(outer.join("room.json").is_file() && inner.join("room.json").is_file(), "both sessions are whole");
    assert_eq!(l.room_ids().len(), 2, "and both rooms are still in the library");
    // A nested session the library does not know is still another room's.
    let stray = l.root.join("stray");
    let stray_id = l.room(&stray, "Stray", "2026-11-03T10:00:00Z");
    ok(roomcast(&[
        "import",
        "--speaker",
        &format!("Maya={}", sample("maya.opus").display()),
        "--out",
        stray.join("unlisted").to_str().unwrap(),
    ]));
    let err = l.fails(&["remove", &stray_id]);
    assert!(err.contains("unlisted"), "{err}");
    // The inner room goes on its own; then the outer one holds nothing else and goes too.
    assert!(l.ok(&["remove", &inner_id]).contains("deleted"));
    assert!(!inner.exists() && outer.join("room.json").is_file());
    assert!(l.ok(&["remove", &outer_id]).contains("deleted"));
    assert!(!outer.exists());
    assert!(l.lib.join("library.db").is_file(), "the library itself is never touched");
}

#[test]
fn expire_removes_only_what_is_safe_and_a_room_kept_forever_inside_an_expired_one_survives() {
    let l = Library::new();
    let (x, nested, other) = (l.root.join("X"), l.root.join("X/nested"), l.root.join("other"));
    let x_id = l.room(&x, "Old outer", "2025-01-01T10:00:00Z");
    let nested_id = l.room(&nested, "Old nested", "2025-01-02T10:00:00Z");
    let other_id = l.room(&other, "Old other", "2025-01-03T10:00:00Z");
    l.ok(&["retention", "--keep", "30"]);
    l.ok(&["retention", &nested_id, "--keep", "forever"]);
    let out = l.run(&["expire"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "an expired room that could not go is an error: {stdout}{stderr}");
    assert!(stdout.contains(&format!("not removed {x_id}")) && stdout.contains("holds another room's session"));
    assert!(stdout.contains(&format!("removed {other_id}")), "{stdout}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!other.exists(), "the other expired room is gone");
    assert!(x.join("room.json").is_file() && nested.join("room.json").is_file(), "the kept room is whole");
    let mut ids = l.room_ids();
    ids.sort();
    let mut want = vec![x_id, nested_id];
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn remove_and_expire_take_the_room_lock() {
    let l = Library::new();
    let session = l.root.join("busy");
    let id = l.room(&session, "Busy", "2025-01-01T10:00:00Z");
    // Another roomcast (an edit, a publish) holds the room: flock(1) on the session folder, as
    // roomcast's own lock is.
    let mut holder = Command::new("flock").arg("-o").arg(&session).args(["sleep", "30"]).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let err = l.fails(&["remove", &id]);
    assert!(err.contains("editing this room right now"), "{err}");
    l.ok(&["retention", "--keep", "1"]);
    let out = l.run(&["expire"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("not removed {id}")));
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(session.join("room.json").is_file() && l.room_ids() == [id.clone()]);
    l.ok(&["expire"]);
    assert!(!session.exists());
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_static_site_stops_serving_rooms_that_left_the_feed_and_keeps_everything_else() {
    let l = Library::new();
    let site = l.root.join("site");
    let (a, b, c) = (l.root.join("a"), l.root.join("b"), l.root.join("c"));
    let a_id = l.room(&a, "Made private", "2026-11-01T10:00:00Z");
    let b_id = l.room(&b, "Removed", "2026-11-02T10:00:00Z");
    let c_id = l.room(&c, "Stays", "2026-11-03T10:00:00Z");
    let vtt = l.root.join("c.vtt");
    std::fs::write(&vtt, "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Theo>hello there\n").unwrap();
    l.ok(&["import-transcript", c.to_str().unwrap(), vtt.to_str().unwrap()]);
    let feed = |l: &Library| {
        let out = l.ok(&["--json", "feed", "--out", site.to_str().unwrap(), "--base-url", "https://example.com/pod"]);
        serde_json::from_str::<Value>(&out).unwrap()
    };
    feed(&l);
    // Someone else's files in the site: never touched.
    std::fs::write(site.join("index.html"), "my page").unwrap();
    std::fs::write(site.join("rooms").join(&b_id).join("notes.txt"), "mine").unwrap();
    for id in [&a_id, &b_id, &c_id] {
        assert!(site.join("rooms").join(id).join("master.mp3").is_file());
    }
    // After an edit, the report says the site shows the old version, and how to bring it up to date.
    let renamed = l.ok(&["speakers", &c_id, "--rename", "Theo=Theo Marsh"]);
    assert!(renamed.contains(&format!("static site in {}", site.canonicalize().unwrap().display())), "{renamed}");
    assert!(renamed.contains("roomcast feed --out"), "{renamed}");
    let private = l.ok(&["private", &a_id]);
    assert!(private.contains("static site"), "{private}");
    let removed = l.ok(&["remove", &b_id]);
    assert!(removed.contains("static site"), "{removed}");

    let report = feed(&l);
    let gone: Vec<String> = report["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Path::new(p.as_str().unwrap()).strip_prefix(&site).unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        gone.contains(&format!("rooms/{a_id}/master.mp3")) && gone.contains(&format!("rooms/{b_id}/chapters.json"))
    );
    let left = files_under(&site);
    assert!(!left.iter().any(|f| f.contains(&a_id)), "the private room's files are gone: {left:?}");
    assert_eq!(
        left.iter().filter(|f| f.contains(&b_id)).collect::<Vec<_>>(),
        [&format!("rooms/{b_id}/notes.txt")],
        "only someone else's file stays in the removed room's folder"
    );
    assert!(left.contains(&"index.html".to_string()));
    assert!(
        left.contains(&format!("rooms/{c_id}/master.mp3")) && left.contains(&format!("rooms/{c_id}/transcript.vtt"))
    );
    let xml = std::fs::read_to_string(site.join("feed.xml")).unwrap();
    assert!(xml.contains("Theo Marsh") && !xml.contains(&a_id) && !xml.contains(&b_id));

    // A room that expires leaves the site at the next run, and expire says so first.
    l.ok(&["retention", &c_id, "--keep", "1"]);
    let expired = l.ok(&["expire"]);
    assert!(expired.contains("static site"), "{expired}");
    feed(&l);
    assert!(!files_under(&site).iter().any(|f| f.contains(&c_id)));
}

#[test]
fn links_planted_in_a_session_never_hand_out_other_files() {
    let l = Library::new();
    let session = l.root.join("room");
    let id = l.room(&session, "Linked", "2026-11-01T10:00:00Z");
    let vtt = l.root.join("t.vtt");
    std::fs::write(&vtt, "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Theo>hello there\n").unwrap();
    l.ok(&["import-transcript", session.to_str().unwrap(), vtt.to_str().unwrap()]);
    // Whoever can write the session folder (shared storage) plants links to the server's files.
    for planted in ["tracks/theo.opus", "transcript.srt"] {
        std::fs::remove_file(session.join(planted)).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", session.join(planted)).unwrap();
    }
    let server = serve(&l.lib, &[]);
    for path in [format!("/rooms/{id}/tracks/theo"), format!("/rooms/{id}/transcript.srt")] {
        let reply = get(&server.base, &path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(!reply.text().contains("root:"), "{path} served /etc/passwd");
    }
    assert_eq!(get(&server.base, &format!("/rooms/{id}/transcript.vtt")).status, 200, "the real files still are");
    drop(server);
    let site = l.root.join("site");
    let out = l.run(&["feed", "--out", site.to_str().unwrap(), "--base-url", "https://example.com"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("transcript.srt"), "the refused file is named");
    let room = site.join("rooms").join(&id);
    assert!(!room.join("transcript.srt").exists(), "the link is not carried into the site");
    assert!(room.join("transcript.vtt").is_file());
    // A master that is a link: the room is left out of the site, and said so.
    std::fs::rename(session.join("master.mp3"), l.root.join("elsewhere.mp3")).unwrap();
    std::os::unix::fs::symlink(l.root.join("elsewhere.mp3"), session.join("master.mp3")).unwrap();
    let out = l.run(&["--json", "feed", "--out", site.to_str().unwrap(), "--base-url", "https://example.com"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["episodes"], 0, "{report}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("left out of the feed"));
    for f in files_under(&site) {
        assert!(!std::fs::symlink_metadata(site.join(&f)).unwrap().file_type().is_symlink(), "{f} is a link");
    }
}

#[test]
fn a_link_to_a_moment_that_says_two_things_is_refused() {
    let l = Library::new();
    let id = l.room(&l.root.join("room"), "Moments", "2026-11-01T10:00:00Z");
    let server = serve(&l.lib, &[]);
    let reply = get(&server.base, &format!("/rooms/{id}?t=5&t=6"));
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("duplicate field `t`"), "{}", reply.text());
    assert_eq!(get(&server.base, &format!("/rooms/{id}?t=5")).status, 200);
}

#[test]
fn the_shows_podcast_guid_is_made_once_and_kept_wherever_the_feed_moves() {
    let l = Library::new();
    l.room(&l.root.join("room"), "Guid", "2026-11-01T10:00:00Z");
    let guid_of = |xml: &str| {
        let start = xml.find("<podcast:guid>").expect("podcast:guid") + "<podcast:guid>".len();
        xml[start..start + 36].to_string()
    };
    let first = {
        let server = serve(&l.lib, &[]);
        guid_of(&get(&server.base, "/feed.xml").text())
    };
    // Another port (serve without --base-url), then a static site elsewhere: the same show.
    let second = {
        let server = serve(&l.lib, &[]);
        guid_of(&get(&server.base, "/feed.xml").text())
    };
    let site = l.root.join("site");
    l.ok(&["feed", "--out", site.to_str().unwrap(), "--base-url", "https://example.org/show"]);
    let third = guid_of(&std::fs::read_to_string(site.join("feed.xml")).unwrap());
    assert_eq!((first.as_str(), second.as_str()), (third.as_str(), third.as_str()));
}

#[test]
fn names_that_look_alike_are_the_same_speaker() {
    let dir = tempfile::tempdir().unwrap();
    let out = roomcast(&[
        "import",
        "--speaker",
        &format!("Maya={}", sample("maya.opus").display()),
        "--speaker",
        &format!("Ｍａｙａ={}", sample("theo.opus").display()),
        "--out",
        dir.path().join("a").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("given twice"), "{err}");
    let l = Library::new();
    let session = l.root.join("room");
    ok(roomcast(&[
        "import",
        "--speaker",
        &format!("Maya={}", sample("maya.opus").display()),
        "--speaker",
        &format!("Theo={}", sample("theo.opus").display()),
        "--out",
        session.to_str().unwrap(),
    ]));
    l.ok(&["index", session.to_str().unwrap()]);
    let id = room_json(&session)["id"].as_str().unwrap().to_string();
    // Theo renamed to Maya with a zero-width space inside: two speakers would read the same.
    let err = l.fails(&["speakers", &id, "--rename", "Theo=Ma\u{200B}ya"]);
    assert!(err.contains("already has a speaker named 'Maya'"), "{err}");
    // And a name typed in full-width letters finds the speaker.
    l.ok(&["speakers", &id, "--rename", "ＭＡＹＡ=Maya Okafor"]);
    assert_eq!(room_json(&session)["speakers"][0]["name"], "Maya Okafor");
}
