//! A damaged recording is read as far as it is readable and never hangs, aborts or gets destroyed:
//! a page with a wild granule position is damage (not hours of silence), duplicated or swapped
//! pages do not make a track longer than its room, and `recover` keeps what it cannot repair.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use roomcast::track::{self, TrackReader, is_silence_frame, ogg};

/// An Ogg file cut into its pages, to damage one the way a bad disk or a bad writer would. The CRC
/// is recomputed after an edit: the damage is in what the page says, not in its bytes.
struct Pages(Vec<Vec<u8>>);

impl Pages {
    fn read(path: &Path) -> Pages {
        let bytes = std::fs::read(path).unwrap();
        let mut pages = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            assert_eq!(&bytes[at..at + 4], b"OggS");
            let segments = bytes[at + 26] as usize;
            let body: usize = bytes[at + 27..at + 27 + segments].iter().map(|&b| b as usize).sum();
            let len = 27 + segments + body;
            pages.push(bytes[at..at + len].to_vec());
            at += len;
        }
        Pages(pages)
    }

    fn granule(&self, page: usize) -> u64 {
        u64::from_le_bytes(self.0[page][6..14].try_into().unwrap())
    }

    fn set_granule(&mut self, page: usize, granule: u64) {
        self.0[page][6..14].copy_from_slice(&granule.to_le_bytes());
        self.fix_crc(page);
    }

    fn fix_crc(&mut self, page: usize) {
        let p = &mut self.0[page];
        p[22..26].fill(0);
        let crc = ogg::crc32(p);
        p[22..26].copy_from_slice(&crc.to_le_bytes());
    }

    fn write(&self, path: &Path) {
        std::fs::write(path, self.0.concat()).unwrap();
    }
}

fn audio_packets(path: &Path) -> Vec<Vec<u8>> {
    let mut r = TrackReader::open(path).expect("open track");
    let mut v = Vec::new();
    while let Some(p) = r.next_packet().expect("read") {
        if !is_silence_frame(&p.data) {
            v.push(p.data);
        }
    }
    v
}

/// Runs roomcast, killing it if it outlives `limit`: a regression here means a hang or a disk
/// filling with silence, which must fail the test rather than the machine.
fn roomcast_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run roomcast");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("roomcast {args:?} still running after {limit:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Mixes `session` to a mono WAV in `out` (bounded in time) and returns the master's length in
/// seconds, as ffmpeg counts it.
fn mix_seconds(session: &Path, out: &Path) -> f64 {
    let mixed = roomcast_within(
        &["mix", session.to_str().unwrap(), "--format", "wav", "--mono", "--out", out.to_str().unwrap()],
        Duration::from_secs(120),
    );
    assert!(mixed.status.success(), "{}", String::from_utf8_lossy(&mixed.stderr));
    ffmpeg_sample_count(&out.join("master.wav")) as f64 / 48_000.0
}

fn set_status(session: &Path, status: &str) {
    let mut room = room_json(session);
    room["status"] = status.into();
    std::fs::write(session.join("room.json"), serde_json::to_string_pretty(&room).unwrap()).unwrap();
}

fn sample_room(dir: &Path) -> (PathBuf, f64) {
    let session = dir.join("room");
    let report = import_sample(&session);
    (session, report["duration"].as_f64().unwrap())
}

#[test]
fn a_page_whose_granule_jumps_to_2_40_is_damage_not_fifty_hours_of_silence() {
    let dir = tempfile::tempdir().unwrap();
    let (session, duration) = sample_room(dir.path());
    let good = session.join("tracks/maya.opus");
    let mut pages = Pages::read(&good);
    let middle = pages.0.len() / 2;
    pages.set_granule(middle, 1 << 40);
    let damaged = dir.path().join("maya-damaged.opus");
    pages.write(&damaged);

    // Reading it: every packet is still there, on its place, and the track is as long as before.
    let info = track::probe(&damaged).unwrap();
    assert_eq!(info.room_samples, track::probe(&good).unwrap().room_samples);
    assert_eq!(info.damage.bad_granules, 1, "{:?}", info.damage);
    assert_eq!(audio_packets(&damaged), audio_packets(&good));

    // Importing it: bounded in time and size, and the damage is said.
    let imported = dir.path().join("imported");
    let out = roomcast_within(
        &["--json", "import", "--speaker", &format!("Maya={}", damaged.display()), "--out", imported.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let track = imported.join("tracks/maya.opus");
    assert!(std::fs::metadata(&track).unwrap().len() < 2 * std::fs::metadata(&good).unwrap().len());
    let room: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert!((room["duration"].as_f64().unwrap() - duration).abs() < 0.05, "{room}");
    let (valid, text) = opusinfo(&track);
    assert!(valid, "{text}");

    // The same page inside a session: info, mix and transcribe's reading all see the room's length.
    std::fs::copy(&damaged, &good).unwrap();
    let info = ok(roomcast_within(&["--json", "info", session.to_str().unwrap()], Duration::from_secs(30)));
    assert!(!info.contains("49:42"), "{info}");
    let master = mix_seconds(&session, &dir.path().join("m"));
    assert!((master - duration).abs() < 0.05, "master {master} s in a {duration} s room");
}

#[test]
fn a_crashed_track_with_a_negative_granule_and_no_end_page_mixes_instead_of_aborting() {
    let dir = tempfile::tempdir().unwrap();
    let (session, duration) = sample_room(dir.path());
    let track = session.join("tracks/theo.opus");
    let mut pages = Pages::read(&track);
    pages.0.pop(); // the end-of-stream page never got written
    let last = pages.0.len() - 1;
    pages.set_granule(last, (-30_744_573_456_i64) as u64);
    pages.write(&track);
    set_status(&session, "recording");

    let master = mix_seconds(&session, &dir.path().join("m"));
    assert!(master <= duration + 0.05 && master > duration - 2.0, "master {master} s in a {duration} s room");

    // recover finalizes it to the room's length, with every readable packet.
    let before = audio_packets(&track);
    let out = roomcast_within(&["--json", "recover", session.to_str().unwrap()], Duration::from_secs(60));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(audio_packets(&track), before);
    let info = track::probe(&track).unwrap();
    assert!(info.complete && info.duration_secs() <= duration + 0.05, "{info:?}");
}

#[test]
fn duplicated_or_swapped_pages_never_make_a_track_longer_than_its_room() {
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = sample_room(dir.path());
    let good = session.join("tracks/maya.opus");
    let length = track::probe(&good).unwrap().room_samples;
    let pages = Pages::read(&good);
    let middle = pages.0.len() / 2;

    let mut duplicated = Pages(pages.0.clone());
    duplicated.0.insert(middle + 1, pages.0[middle].clone());
    duplicated.0.insert(middle + 5, pages.0[middle + 2].clone());
    let path = dir.path().join("duplicated.opus");
    duplicated.write(&path);
    let info = track::probe(&path).unwrap();
    assert_eq!(info.room_samples, length);
    assert_eq!(info.damage.out_of_order_pages, 2, "{:?}", info.damage);
    assert_eq!(audio_packets(&path), audio_packets(&good), "a duplicate page's packets were kept twice");

    let mut swapped = Pages(pages.0.clone());
    swapped.0.swap(middle, middle + 1);
    let path = dir.path().join("swapped.opus");
    swapped.write(&path);
    let info = track::probe(&path).unwrap();
    assert!(info.room_samples <= length, "{} > {length}", info.room_samples);
    assert!(info.damage != Default::default());

    // A page rewritten with a granule from earlier in the track (a replayed page): dropped too.
    let mut replayed = Pages(pages.0.clone());
    let earlier = replayed.granule(middle - 10);
    replayed.set_granule(middle, earlier);
    let path = dir.path().join("replayed.opus");
    replayed.write(&path);
    assert!(track::probe(&path).unwrap().room_samples <= length);
}

#[test]
fn recover_keeps_a_track_whose_header_has_one_flipped_bit_and_salvages_every_packet() {
    let dir = tempfile::tempdir().unwrap();
    let (session, duration) = sample_room(dir.path());
    let track = session.join("tracks/maya.opus");
    let packets = audio_packets(&track);
    let mut pages = Pages::read(&track);
    // OpusHead's channel count (byte 9 of the packet, after the 27-byte page header and 1 lacing value).
    pages.0[0][27 + 1 + 9] ^= 0x01;
    pages.fix_crc(0);
    pages.write(&track);
    let damaged = std::fs::read(&track).unwrap();
    assert!(TrackReader::open(&track).is_err(), "the flipped bit should make the header unreadable");
    set_status(&session, "recording");

    let out = ok(roomcast(&["--json", "recover", session.to_str().unwrap()]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let maya = report["tracks"].as_array().unwrap().iter().find(|t| t["speaker"] == "maya").unwrap().clone();
    assert_eq!(maya["rebuilt_headers"], serde_json::json!(["OpusHead"]), "{maya}");
    assert_eq!(maya["rebuilt_empty"], false);

    // The original bytes are kept, untouched.
    let kept = PathBuf::from(maya["original_kept"].as_str().unwrap());
    assert_eq!(kept, session.join("tracks/maya.opus.orig"));
    assert_eq!(std::fs::read(&kept).unwrap(), damaged);
    // The track is rebuilt around every packet it held, and independent tools read it.
    assert_eq!(audio_packets(&track), packets);
    let (valid, text) = opusinfo(&track);
    assert!(valid, "{text}");
    let decoded = ffmpeg_decode(&track).len() as f64 / 48_000.0;
    assert!((decoded - duration).abs() < 0.05, "{decoded} s decoded of a {duration} s room");
}

#[test]
fn recover_picks_up_a_track_room_json_does_not_list_yet() {
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = sample_room(dir.path());
    // A recorder killed right after opening Priya's track, before it rewrote room.json.
    let mut room = room_json(&session);
    room["speakers"].as_array_mut().unwrap().retain(|s| s["id"] != "priya");
    room["status"] = "recording".into();
    std::fs::write(session.join("room.json"), serde_json::to_string_pretty(&room).unwrap()).unwrap();
    let packets = audio_packets(&session.join("tracks/priya.opus"));

    let out = ok(roomcast(&["--json", "recover", session.to_str().unwrap()]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let priya = report["tracks"].as_array().unwrap().iter().find(|t| t["speaker"] == "priya").unwrap().clone();
    assert_eq!(priya["found_unlisted"], true, "{report}");
    let room = room_json(&session);
    let listed = room["speakers"].as_array().unwrap().iter().find(|s| s["id"] == "priya").unwrap().clone();
    assert_eq!(listed["name"], "Priya", "the name comes from the track's ARTIST tag");
    assert_eq!(listed["track"], "tracks/priya.opus");
    assert_eq!(audio_packets(&session.join("tracks/priya.opus")), packets);
}

#[test]
fn room_json_cannot_point_a_track_at_another_file_or_two_speakers_at_one_track() {
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = sample_room(dir.path());
    let events = std::fs::read(session.join("events.jsonl")).unwrap();
    let original = room_json(&session);
    let theo = std::fs::read(session.join("tracks/theo.opus")).unwrap();
    for (edit, expect) in [
        (("maya", "events.jsonl"), "unsafe id or track path 'events.jsonl'"),
        (("maya", "tracks/theo.opus"), "share the track 'tracks/theo.opus'"),
        (("maya", "room.json"), "unsafe id or track path 'room.json'"),
    ] {
        let mut room = original.clone();
        for s in room["speakers"].as_array_mut().unwrap() {
            if s["id"] == edit.0 {
                s["track"] = edit.1.into();
            }
        }
        room["status"] = "recording".into();
        std::fs::write(session.join("room.json"), serde_json::to_string_pretty(&room).unwrap()).unwrap();
        let out = roomcast(&["recover", session.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(expect) && err.contains("room.json"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert_eq!(std::fs::read(session.join("events.jsonl")).unwrap(), events);
        assert_eq!(std::fs::read(session.join("tracks/theo.opus")).unwrap(), theo, "a track was rewritten");
    }
}

#[test]
fn mix_cuts_tracks_that_run_past_the_rooms_end_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let (session, duration) = sample_room(dir.path());
    // room.json says the room ended 5 s before its tracks do (pages claiming too much audio).
    let mut room = room_json(&session);
    room["duration"] = (duration - 5.0).into();
    std::fs::write(session.join("room.json"), serde_json::to_string_pretty(&room).unwrap()).unwrap();
    let master = mix_seconds(&session, &dir.path().join("m"));
    assert!((master - (duration - 5.0)).abs() < 0.05, "master {master} s, room {} s", duration - 5.0);
    // Within a second of the room's end, the tracks' own length stands (rounding, a last frame).
    room["duration"] = (duration - 0.5).into();
    std::fs::write(session.join("room.json"), serde_json::to_string_pretty(&room).unwrap()).unwrap();
    let master = mix_seconds(&session, &dir.path().join("m"));
    assert!((master - duration).abs() < 0.05, "master {master} s, tracks {duration} s");
}
