//! The master is podcast-ready as measured by ffmpeg, not by our own meter: loudness on target,
//! true peak under the ceiling, exact length, tags and chapters a podcast app shows.

mod common;

use common::*;

fn mixed_sample(args: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    import_sample(&session);
    let mut all = vec!["--json", "mix", session.to_str().unwrap()];
    all.extend_from_slice(args);
    let report: serde_json::Value = serde_json::from_str(&ok(roomcast(&all))).unwrap();
    (dir, session, report)
}

#[test]
fn every_format_meets_the_podcast_loudness_target_and_true_peak_ceiling() {
    let (_dir, session, report) = mixed_sample(&["--format", "mp3,opus,wav"]);
    let room_samples = (report["duration"].as_f64().unwrap() * RATE as f64).round() as i64;
    for file in ["master.mp3", "master.opus", "master.wav"] {
        let (lufs, peak) = ebur128(&session.join(file));
        assert!((lufs + 16.0).abs() <= 0.5, "{file}: {lufs} LUFS, target -16");
        assert!(peak <= -1.0, "{file}: true peak {peak} dBTP");
        let n = ffmpeg_sample_count(&session.join(file)) as i64;
        assert!((n - room_samples).abs() <= 960, "{file}: decodes to {n} samples, the room is {room_samples}");
    }
    // The MP3's encoder delay and padding are in its LAME tag: it decodes to the room, sample-exact.
    assert_eq!(ffmpeg_sample_count(&session.join("master.mp3")) as i64, room_samples);
}

#[test]
fn a_mono_master_targets_minus_19_lufs() {
    let (_dir, session, report) = mixed_sample(&["--mono", "--format", "mp3"]);
    assert_eq!(report["channels"], 1);
    let (lufs, peak) = ebur128(&session.join("master.mp3"));
    assert!((lufs + 19.0).abs() <= 0.5 && peak <= -1.0, "{lufs} LUFS, {peak} dBTP");
}

#[test]
fn speakers_recorded_at_different_levels_come_out_level() {
    // Theo is recorded 10 dB below Maya in the sample; after leveling, each speaker's stretch of the
    // master measures within 2 LU of the others.
    let (_dir, session, _) = mixed_sample(&["--format", "wav"]);
    let mix = ffmpeg_decode(&session.join("master.wav"));
    let stretch = |from: f64, to: f64| -> f64 {
        let s = &mix[(from * RATE as f64) as usize..(to * RATE as f64) as usize];
        let ms = s.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / s.len() as f64;
        10.0 * ms.log10()
    };
    // From samples/conversation/timeline.txt: Maya 1.0-7.1, Theo 8.5-13.7, Priya 52.0-59.6.
    let (maya, theo, priya) = (stretch(1.2, 7.0), stretch(8.7, 13.6), stretch(52.2, 59.4));
    assert!(
        (maya - theo).abs() < 2.0 && (maya - priya).abs() < 2.0,
        "maya {maya:.1} theo {theo:.1} priya {priya:.1} dB"
    );
}

#[test]
fn the_mp3_carries_id3_tags_and_chapters_podcast_apps_show() {
    let (_dir, session, _) = mixed_sample(&["--format", "mp3", "--artist", "Room Notes crew"]);
    let out = tool("ffprobe")
        .args(["-v", "error", "-show_chapters", "-show_format", "-of", "json"])
        .arg(session.join("master.mp3"))
        .output()
        .unwrap();
    let probe: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags = &probe["format"]["tags"];
    assert_eq!(tags["title"], "Room Notes");
    assert_eq!(tags["artist"], "Room Notes crew");
    assert!(tags["date"].as_str().unwrap().starts_with("2026-11-20"), "{tags}");
    assert!(tags["comment"].as_str().unwrap().contains("roomcast"), "{tags}");
    let chapters = probe["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 2);
    assert_eq!(chapters[0]["tags"]["title"], "Welcome");
    assert_eq!(chapters[1]["tags"]["title"], "Our guest");
    assert_eq!(chapters[1]["start_time"].as_str().unwrap().parse::<f64>().unwrap(), 34.5);
    // ID3v2.4 specifically.
    let bytes = std::fs::read(session.join("master.mp3")).unwrap();
    assert_eq!(&bytes[..4], b"ID3\x04");
}

#[test]
fn multitrack_files_are_equal_length_and_in_sync() {
    let (_dir, session, report) = mixed_sample(&["--format", "wav", "--multitrack", "wav"]);
    let room_samples = (report["duration"].as_f64().unwrap() * RATE as f64).round() as u32;
    let mut lengths = Vec::new();
    for id in ["maya", "theo", "priya"] {
        let reader = hound::WavReader::open(session.join(format!("multitrack/{id}.wav"))).unwrap();
        assert_eq!(reader.spec().sample_rate, RATE);
        lengths.push(reader.duration());
    }
    assert!(lengths.iter().all(|&l| l == room_samples), "{lengths:?} vs {room_samples}");
    // Each file lines up with its speaker's source recording, decoded by ffmpeg and shifted by the
    // time they joined (Priya at 38 s): the same detector on both sides, so speech onsets compare.
    for (id, source, joined) in [("priya", "priya.opus", 38.0), ("theo", "theo.opus", 0.0)] {
        let source_at = onset(&ffmpeg_decode(&sample(source)), RATE, 0.0, 0.05) + joined;
        let track_at = onset(&ffmpeg_decode(&session.join(format!("multitrack/{id}.wav"))), RATE, 0.0, 0.05);
        assert!((track_at - source_at).abs() <= 0.02, "{id}: heard at {track_at:.3} s, source says {source_at:.3} s");
    }
}

#[test]
fn mixing_again_replaces_the_outputs_and_leaves_no_temporary_files() {
    let (_dir, session, _) = mixed_sample(&["--format", "opus"]);
    ok(roomcast(&["mix", session.to_str().unwrap(), "--format", "opus"]));
    let names: Vec<String> =
        std::fs::read_dir(&session).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    assert!(names.contains(&"master.opus".to_string()) && names.contains(&"master.json".to_string()));
}
