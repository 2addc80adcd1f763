//! Every input format the README promises imports, keeps its length, and sits on the room clock.

mod common;

use common::*;

#[test]
fn wav_flac_mp3_vorbis_aac_and_opus_all_import_with_their_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let jfk_mp3 = shared().join("samples/jfk/jfk.mp3");
    assert!(jfk_mp3.exists(), "test data missing: {} (set ROOMCAST_SHARED)", jfk_mp3.display());
    let base = dir.path().join("base.wav");
    write_wav(&base, 22_050, &burst(22_050, 3.0, 0.5, 2.0, 330.0, 0.4));
    let made = |name: &str, codec: &[&str]| {
        let path = dir.path().join(name);
        let s = tool("ffmpeg").args(["-v", "error", "-i"]).arg(&base).args(codec).arg(&path).status().unwrap();
        assert!(s.success(), "ffmpeg could not make {name}");
        path
    };
    let inputs = [
        ("Wav", base.clone()),
        ("Flac", made("x.flac", &[])),
        ("Vorbis", made("x.ogg", &["-c:a", "libvorbis"])),
        ("Aac", made("x.m4a", &["-c:a", "aac"])),
        ("Opus", made("x.opus", &["-c:a", "libopus"])),
        ("Mp3", jfk_mp3.clone()),
    ];
    let mut args = vec!["--json".to_string(), "import".to_string()];
    for (name, path) in &inputs {
        args.push("--speaker".into());
        args.push(format!("{name}={}", path.display()));
    }
    let session = dir.path().join("room");
    args.extend(["--out".to_string(), session.to_str().unwrap().to_string()]);
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let report: serde_json::Value = serde_json::from_str(&ok(roomcast(&argv))).unwrap();

    for (i, (name, path)) in inputs.iter().enumerate() {
        let speaker = &report["speakers"][i];
        assert_eq!(speaker["name"], *name);
        let expected_method = if *name == "Opus" { "copied" } else { "encoded" };
        assert_eq!(speaker["method"], expected_method, "{name}");
        // The imported audio lasts as long as the source, by ffmpeg's count (within one 20 ms frame
        // plus what lossy decoders disagree on at the edges).
        let source = ffmpeg_sample_count(path) as f64 / {
            let out = tool("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-select_streams",
                    "a:0",
                    "-show_entries",
                    "stream=sample_rate",
                    "-of",
                    "csv=p=0",
                ])
                .arg(path)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().unwrap()
        };
        let imported = speaker["duration"].as_f64().unwrap();
        assert!((imported - source).abs() < 0.05, "{name}: imported {imported:.3} s, source {source:.3} s");
        let track = session.join(speaker["track"].as_str().unwrap().rsplit("room/").next().unwrap());
        let (ok, text) = opusinfo(&track);
        assert!(ok && !text.contains("WARNING"), "{name}: {text}");
    }
    // The synthetic inputs all carry the same burst at 0.5 s: every decoded track has it there.
    for id in ["wav", "flac", "vorbis", "aac", "opus"] {
        let pcm = ffmpeg_decode(&session.join(format!("tracks/{id}.opus")));
        let at = onset(&pcm, RATE, 0.0, 0.3);
        assert!((at - 0.5).abs() <= 0.02, "{id}: burst at {at:.4} s");
    }
}
