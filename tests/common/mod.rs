//! Shared helpers for the integration tests: the built binary, independent tools (ffmpeg, ffprobe,
//! opusinfo) and small generated audio fixtures.
#![allow(dead_code)]

pub mod http;
pub mod live;
pub mod pg;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const RATE: u32 = 48_000;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The project's shared test data: $ROOMCAST_SHARED, else ../shared beside the repository.
pub fn shared() -> PathBuf {
    std::env::var_os("ROOMCAST_SHARED").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared"))
}

pub fn sample(name: &str) -> PathBuf {
    repo().join("samples/conversation").join(name)
}

/// Runs `roomcast` with `args`.
pub fn roomcast(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roomcast")).args(args).output().expect("run roomcast")
}

pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "roomcast failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// An independent tool the tests check our files with; its absence is a setup error, not a skip.
pub fn tool(name: &str) -> Command {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().expect("sh");
    assert!(
        found.status.success(),
        "{name} is not installed: run scripts/test.sh (it installs ffmpeg and opus-tools), or apt-get install ffmpeg opus-tools"
    );
    Command::new(name)
}

/// Decodes any file with ffmpeg to mono 48 kHz f32 samples (ffmpeg honours Opus pre-skip and end
/// trimming, and MP3 encoder delay and padding from the LAME tag).
pub fn ffmpeg_decode(path: &Path) -> Vec<f32> {
    let out = tool("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-ac", "1", "-ar", "48000", "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg could not decode {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// Samples per channel that ffmpeg decodes, without resampling or downmixing.
pub fn ffmpeg_sample_count(path: &Path) -> usize {
    let out = tool("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "s16le", "-ac", "1", "-"])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success());
    out.stdout.len() / 2
}

/// (integrated loudness LUFS, true peak dBTP) from ffmpeg's ebur128 filter.
pub fn ebur128(path: &Path) -> (f64, f64) {
    let out = tool("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = text.split("Summary:").nth(1).unwrap_or_else(|| panic!("no ebur128 summary for {}", path.display()));
    let value = |label: &str| -> f64 {
        let line = summary.lines().find(|l| l.trim_start().starts_with(label)).expect(label);
        line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("number")
    };
    (value("I:"), value("Peak:"))
}

/// opusinfo's verdict on a file: (exit ok, its output).
pub fn opusinfo(path: &Path) -> (bool, String) {
    let out = tool("opusinfo").arg(path).output().expect("opusinfo");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Writes a mono 16-bit WAV.
pub fn write_wav(path: &Path, rate: u32, samples: &[f32]) {
    let spec =
        hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for &s in samples {
        w.write_sample((s * 32767.0).round() as i16).expect("write");
    }
    w.finalize().expect("finalize");
}

/// Silence with a tone burst of `freq` Hz starting at `at` seconds, lasting `len` seconds.
pub fn burst(rate: u32, total: f64, at: f64, len: f64, freq: f64, amp: f32) -> Vec<f32> {
    let n = (total * rate as f64) as usize;
    let start = (at * rate as f64) as usize;
    let end = ((at + len) * rate as f64) as usize;
    (0..n)
        .map(|i| {
            if (start..end).contains(&i) {
                amp * (2.0 * std::f64::consts::PI * freq * (i - start) as f64 / rate as f64).sin() as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// First time (s) at or after `from` where the signal's 5 ms RMS rises above `threshold` of the
/// peak RMS found after `from`: an onset detector independent of our metadata.
pub fn onset(samples: &[f32], rate: u32, from: f64, threshold: f32) -> f64 {
    let win = (rate / 200) as usize;
    let begin = (from * rate as f64) as usize;
    let rms: Vec<f32> =
        samples[begin..].chunks(win).map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).sqrt()).collect();
    let peak = rms.iter().cloned().fold(0.0, f32::max);
    assert!(peak > 0.0, "no signal after {from} s");
    let i = rms.iter().position(|&r| r >= threshold * peak).expect("onset");
    // Refine to the sample inside the window where the amplitude first crosses the threshold.
    let start = begin + i * win;
    let abs_peak = samples[begin..].iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let j = samples[start..].iter().position(|s| s.abs() >= threshold * abs_peak).unwrap_or(0);
    (start + j) as f64 / rate as f64
}

/// Reads a session's room.json as JSON.
pub fn room_json(session: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(session.join("room.json")).expect("room.json")).expect("json")
}

/// Imports the shipped sample conversation into `out`.
pub fn import_sample(out: &Path) -> serde_json::Value {
    let out_s = out.to_str().expect("utf-8 path");
    let stdout = ok(roomcast(&[
        "--json",
        "import",
        "--speaker",
        sample("maya.opus").to_str().map(|p| format!("Maya={p}")).as_deref().expect("path"),
        "--speaker",
        &format!("Theo={}", sample("theo.opus").display()),
        "--speaker",
        &format!("Priya={}", sample("priya.opus").display()),
        "--offset",
        "Priya=38",
        "--title",
        "Room Notes",
        "--chapter",
        "0=Welcome",
        "--chapter",
        "34.5=Our guest",
        "--started-at",
        "2026-11-20T18:00:00Z",
        "--out",
        out_s,
    ]));
    serde_json::from_str(&stdout).expect("import --json")
}
