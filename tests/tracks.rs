//! Speaker tracks are spec-valid Ogg Opus on the room clock: what a player, a DAW or opusinfo sees.

mod common;

use std::path::Path;

use common::*;
use roomcast::track::{self, TrackReader, is_silence_frame};

fn packets(path: &Path) -> Vec<Vec<u8>> {
    let mut r = TrackReader::open(path).expect("open track");
    let mut v = Vec::new();
    while let Some(p) = r.next_packet().expect("read") {
        v.push(p.data);
    }
    v
}

#[test]
fn imported_opus_keeps_every_packet_bit_for_bit_and_every_track_lasts_the_whole_room() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    let report = import_sample(&session);
    let duration = report["duration"].as_f64().unwrap();
    let room_samples = (duration * RATE as f64).round() as u64;

    for (name, file) in [("maya", "maya.opus"), ("theo", "theo.opus"), ("priya", "priya.opus")] {
        let track = session.join(format!("tracks/{name}.opus"));
        // Packets: the source's packets appear in the track unchanged and in order; only 3-byte
        // silence frames are added (for Priya, the 38 s before she joined).
        let source = packets(&sample(file));
        let stored: Vec<Vec<u8>> = packets(&track);
        let source_audio: Vec<&Vec<u8>> = source.iter().filter(|p| !is_silence_frame(p)).collect();
        let stored_audio: Vec<&Vec<u8>> = stored.iter().filter(|p| !is_silence_frame(p)).collect();
        assert_eq!(source_audio, stored_audio, "{name}: packets changed");

        // Granule positions: every track ends exactly at the room's end.
        let info = track::probe(&track).unwrap();
        assert_eq!(info.room_samples, room_samples, "{name}: track length");
        assert!(info.complete, "{name}: no end-of-stream page");

        // Independent readers agree.
        let (ok, text) = opusinfo(&track);
        assert!(ok && !text.contains("WARNING") && !text.contains("ERROR"), "{name}: opusinfo says\n{text}");
        let decoded = ffmpeg_sample_count(&track) as i64;
        assert!(
            (decoded - room_samples as i64).abs() <= 960,
            "{name}: ffmpeg decodes {decoded}, room is {room_samples}"
        );
    }
}

#[test]
fn encoded_tracks_are_valid_and_as_long_as_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("ana.wav");
    // 16 kHz input: resampled to 48 kHz, encoded with libopus.
    write_wav(&wav, 16_000, &burst(16_000, 3.3, 1.0, 1.0, 300.0, 0.5));
    let flac = dir.path().join("ben.flac");
    let s = tool("ffmpeg").args(["-v", "error", "-i"]).arg(&wav).arg(&flac).status().unwrap();
    assert!(s.success());
    let session = dir.path().join("room");
    ok(roomcast(&[
        "import",
        "--speaker",
        &format!("Ana={}", wav.display()),
        "--speaker",
        &format!("Ben={}", flac.display()),
        "--offset",
        "Ben=0.75",
        "--out",
        session.to_str().unwrap(),
    ]));
    let room = room_json(&session);
    let duration = room["duration"].as_f64().unwrap();
    assert!((duration - 4.05).abs() < 0.001, "room lasts offset + longest file: {duration}");
    for id in ["ana", "ben"] {
        let track = session.join(format!("tracks/{id}.opus"));
        let (ok, text) = opusinfo(&track);
        assert!(ok && !text.contains("WARNING"), "opusinfo on {id}:\n{text}");
        let decoded = ffmpeg_sample_count(&track) as i64;
        assert!((decoded - (duration * RATE as f64) as i64).abs() <= 960, "{id}: {decoded} samples");
    }
}

#[test]
fn a_track_cut_off_mid_page_still_reads_up_to_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let track = session.join("tracks/maya.opus");
    let bytes = std::fs::read(&track).unwrap();
    // A crash: the file ends 100 bytes into its last pages.
    std::fs::write(&track, &bytes[..bytes.len() * 2 / 3 + 100]).unwrap();
    let info = track::probe(&track).unwrap();
    assert!(!info.complete && info.damage.truncated);
    assert!(info.duration_secs() > 40.0, "kept {} s", info.duration_secs());
    // Other tools read it too, and roomcast info reports it instead of failing.
    assert!(ffmpeg_sample_count(&track) as f64 / RATE as f64 > 40.0);
    let out = ok(roomcast(&["info", session.to_str().unwrap()]));
    assert!(out.contains("not finalized"), "{out}");
}
