//! A speaker who starts later than the room is heard exactly when they started: in their track and
//! in the master. Checked on the decoded audio with an onset detector, not from our metadata.

mod common;

use common::*;

const TOLERANCE: f64 = 0.020;

#[test]
fn an_offset_speaker_is_heard_at_the_offset_in_track_and_master() {
    let dir = tempfile::tempdir().unwrap();
    // Ana: a 440 Hz burst at 1.0 s. Ben: a 1 kHz burst 0.5 s into a file that starts at 3.217 s.
    let ana = dir.path().join("ana.wav");
    write_wav(&ana, 44_100, &burst(44_100, 8.0, 1.0, 0.4, 440.0, 0.5));
    let ben = dir.path().join("ben.wav");
    write_wav(&ben, 16_000, &burst(16_000, 2.0, 0.5, 0.4, 1000.0, 0.5));
    let session = dir.path().join("room");
    ok(roomcast(&[
        "import",
        "--speaker",
        &format!("Ana={}", ana.display()),
        "--speaker",
        &format!("Ben={}", ben.display()),
        "--offset",
        "Ben=3.217",
        "--out",
        session.to_str().unwrap(),
    ]));
    let expected_ben = 3.217 + 0.5;

    let ben_track = ffmpeg_decode(&session.join("tracks/ben.opus"));
    let got = onset(&ben_track, RATE, 0.0, 0.3);
    assert!((got - expected_ben).abs() <= TOLERANCE, "Ben's track: onset at {got:.4} s, expected {expected_ben}");
    let ana_track = ffmpeg_decode(&session.join("tracks/ana.opus"));
    let got = onset(&ana_track, RATE, 0.0, 0.3);
    assert!((got - 1.0).abs() <= TOLERANCE, "Ana's track: onset at {got:.4} s");

    ok(roomcast(&["mix", session.to_str().unwrap(), "--format", "mp3,wav"]));
    for master in ["master.mp3", "master.wav"] {
        let mix = ffmpeg_decode(&session.join(master));
        let ana_at = onset(&mix, RATE, 0.0, 0.3);
        let ben_at = onset(&mix, RATE, 2.5, 0.3);
        assert!((ana_at - 1.0).abs() <= TOLERANCE, "{master}: Ana at {ana_at:.4} s");
        assert!((ben_at - expected_ben).abs() <= TOLERANCE, "{master}: Ben at {ben_at:.4} s, expected {expected_ben}");
    }
}

#[test]
fn an_ogg_opus_file_copied_with_an_offset_off_the_20ms_grid_lands_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("cara.wav");
    write_wav(&wav, 48_000, &burst(48_000, 2.0, 0.6, 0.3, 700.0, 0.5));
    let opus = dir.path().join("cara.opus");
    let s = tool("opusenc").arg("--quiet").arg(&wav).arg(&opus).status().unwrap();
    assert!(s.success());
    let session = dir.path().join("room");
    let out = ok(roomcast(&[
        "--json",
        "import",
        "--speaker",
        &format!("Cara={}", opus.display()),
        "--offset",
        "Cara=2.3456",
        "--out",
        session.to_str().unwrap(),
    ]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["speakers"][0]["method"], "copied");
    let track = ffmpeg_decode(&session.join("tracks/cara.opus"));
    let got = onset(&track, RATE, 0.0, 0.3);
    let expected = 2.3456 + 0.6;
    assert!((got - expected).abs() <= TOLERANCE, "onset at {got:.4} s, expected {expected}");
    let (ok, text) = opusinfo(&session.join("tracks/cara.opus"));
    assert!(ok && !text.contains("WARNING"), "{text}");
}

#[test]
fn each_channel_of_a_multichannel_file_becomes_its_own_speaker() {
    let stereo = shared().join("samples/stereo_two_speakers/stereo_diarization.wav");
    assert!(stereo.exists(), "test data missing: {} (set ROOMCAST_SHARED)", stereo.display());
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("room");
    ok(roomcast(&["import", stereo.to_str().unwrap(), "--channels", "Left,Right", "--out", session.to_str().unwrap()]));
    // Each track follows its own channel's loudness envelope, not the other's.
    let channel = |c: &str| -> Vec<f32> {
        let out = tool("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&stereo)
            .args(["-af", &format!("pan=mono|c0={c}"), "-ar", "48000", "-f", "f32le", "-"])
            .output()
            .unwrap();
        out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    };
    let envelope =
        |s: &[f32]| -> Vec<f32> { s.chunks(960).map(|c| c.iter().map(|x| x * x).sum::<f32>().sqrt()).collect() };
    let corr = |a: &[f32], b: &[f32]| -> f32 {
        let n = a.len().min(b.len());
        let (ma, mb) = (a[..n].iter().sum::<f32>() / n as f32, b[..n].iter().sum::<f32>() / n as f32);
        let cov: f32 = (0..n).map(|i| (a[i] - ma) * (b[i] - mb)).sum();
        let va: f32 = (0..n).map(|i| (a[i] - ma).powi(2)).sum();
        let vb: f32 = (0..n).map(|i| (b[i] - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    };
    let (left, right) = (envelope(&channel("c0")), envelope(&channel("c1")));
    let l_track = envelope(&ffmpeg_decode(&session.join("tracks/left.opus")));
    let r_track = envelope(&ffmpeg_decode(&session.join("tracks/right.opus")));
    assert!(corr(&l_track, &left) > 0.9 && corr(&l_track, &left) > corr(&l_track, &right));
    assert!(corr(&r_track, &right) > 0.9 && corr(&r_track, &right) > corr(&r_track, &left));
}
