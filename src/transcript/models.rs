//! Whisper and VAD models: which ones roomcast knows (with pinned checksums), where it looks for
//! them, verifying them, and downloading them on request only (never during `transcribe`).
//!
//! Lookup order for a model NAME: `--model PATH` when it is a file; else the folders
//! `$ROOMCAST_MODELS`, `./models`, and the user data folder (`$XDG_DATA_HOME/roomcast/models`, by
//! default `~/.local/share/roomcast/models`). Downloads go to the first of those that is writable
//! (the user data folder unless `$ROOMCAST_MODELS` is set).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::session::{TempGuard, temp_path};

/// A model roomcast can fetch and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub file: &'static str,
    /// SHA-1 published with the model (whisper.cpp's models/README.md).
    pub sha1: &'static str,
    pub url: &'static str,
    /// Exact size where published; the checksum is the authority either way.
    pub bytes: Option<u64>,
    pub kind: ModelKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Whisper,
    Vad,
}

pub const MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "tiny.en",
        file: "ggml-tiny.en.bin",
        sha1: "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
        url: "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-tiny.en.bin",
        bytes: Some(77_704_715),
        kind: ModelKind::Whisper,
    },
    ModelInfo {
        name: "tiny",
        file: "ggml-tiny.bin",
        sha1: "bd577a113a864445d4c299885e0cb97d4ba92b5f",
        url: "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-tiny.bin",
        bytes: None,
        kind: ModelKind::Whisper,
    },
    ModelInfo {
        name: "base.en",
        file: "ggml-base.en.bin",
        sha1: "137c40403d78fd54d454da0f9bd998f78703390c",
        url: "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.en.bin",
        bytes: None,
        kind: ModelKind::Whisper,
    },
    ModelInfo {
        name: "base",
        file: "ggml-base.bin",
        sha1: "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
        url: "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.bin",
        bytes: None,
        kind: ModelKind::Whisper,
    },
    // Silero VAD v6.2.0 in whisper.cpp's GGML format. The SHA-1 is that of the copy in whisper.cpp's
    // repository (models/for-tests-silero-v6.2.0-ggml.bin, blob e08fad67); the hub file is built by
    // the same conversion.
    ModelInfo {
        name: "silero-v6.2.0",
        file: "ggml-silero-v6.2.0.bin",
        sha1: "470e5d9d094ddba2f0a512cecc3732a252188abd",
        url: "https://huggingface.co/ggml-org/whisper-vad/resolve/main/ggml-silero-v6.2.0.bin",
        bytes: Some(885_098),
        kind: ModelKind::Vad,
    },
];

pub const DEFAULT_VAD: &str = "silero-v6.2.0";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown model '{0}'; known: {known} (or give a path to a ggml .bin file)", known = known_names())]
    Unknown(String),
    #[error("model '{name}' is not downloaded (looked in {looked}); run: roomcast models download {name}")]
    Missing { name: String, looked: String },
    #[error("{path}: {bytes} bytes, expected {expected}: the file is incomplete; run: roomcast models download {name}")]
    Truncated { path: PathBuf, bytes: u64, expected: u64, name: String },
    #[error(
        "{path}: SHA-1 {actual}, expected {expected}: the file is damaged or not that model; run: roomcast models download {name}"
    )]
    Checksum { path: PathBuf, actual: String, expected: String, name: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("downloading {url}: {reason}")]
    Download { url: String, reason: String },
}

fn known_names() -> String {
    MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

pub fn info(name: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| m.name == name || m.file == name)
}

/// The folders searched for models, in order.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("ROOMCAST_MODELS") {
        dirs.push(PathBuf::from(d));
    }
    dirs.push(PathBuf::from("models"));
    if let Some(d) = user_dir() {
        dirs.push(d);
    }
    dirs
}

fn user_dir() -> Option<PathBuf> {
    crate::library::user_data_dir().map(|d| d.join("models"))
}

/// Where downloads go: `$ROOMCAST_MODELS` when set, else the user data folder.
pub fn download_dir() -> PathBuf {
    std::env::var_os("ROOMCAST_MODELS").map(PathBuf::from).or_else(user_dir).unwrap_or_else(|| PathBuf::from("models"))
}

/// A model found on disk.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    pub path: PathBuf,
    /// The known model it is, when its name says so (then it was verified).
    pub model: Option<&'static ModelInfo>,
}

/// Finds and verifies a model by name, or takes a path as given. A path whose file name is a known
/// model's is verified too; another file (a fine-tune, a test model) is used as it is.
pub fn locate(name_or_path: &str) -> Result<Located, ModelError> {
    let as_path = Path::new(name_or_path);
    if as_path.is_file() {
        let model = as_path.file_name().and_then(|f| f.to_str()).and_then(info);
        if let Some(m) = model {
            verify(as_path, m)?;
        }
        return Ok(Located { path: as_path.to_path_buf(), model });
    }
    let model = info(name_or_path).ok_or_else(|| ModelError::Unknown(name_or_path.to_string()))?;
    let dirs = search_dirs();
    for dir in &dirs {
        let path = dir.join(model.file);
        if path.is_file() {
            verify(&path, model)?;
            return Ok(Located { path, model: Some(model) });
        }
    }
    let looked = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
    Err(ModelError::Missing { name: model.name.to_string(), looked })
}

fn sha1_of(path: &Path) -> Result<String, ModelError> {
    let io_err = |source| ModelError::Io { path: path.to_path_buf(), source };
    let mut f = File::open(path).map_err(io_err)?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks size and SHA-1 against the pinned values.
pub fn verify(path: &Path, model: &ModelInfo) -> Result<(), ModelError> {
    let bytes = std::fs::metadata(path).map_err(|source| ModelError::Io { path: path.to_path_buf(), source })?.len();
    if let Some(expected) = model.bytes.filter(|e| bytes < *e) {
        return Err(ModelError::Truncated { path: path.to_path_buf(), bytes, expected, name: model.name.into() });
    }
    let actual = sha1_of(path)?;
    if actual != model.sha1 {
        return Err(ModelError::Checksum {
            path: path.to_path_buf(),
            actual,
            expected: model.sha1.into(),
            name: model.name.into(),
        });
    }
    Ok(())
}

/// Downloads a known model into `dir` through a temporary file, verifies it, then renames it into
/// place. `progress` gets (bytes so far, total).
pub fn download(model: &ModelInfo, dir: &Path, progress: &dyn Fn(u64, u64)) -> Result<PathBuf, ModelError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join(model.file);
    let tmp = temp_path(&path);
    let guard = TempGuard(tmp.clone());
    let response = ureq::get(model.url).call().map_err(|e| ModelError::Download {
        url: model.url.into(),
        reason: e.to_string().replace(&format!("{}: ", model.url), ""),
    })?;
    let total = response.header("Content-Length").and_then(|v| v.parse().ok()).or(model.bytes).unwrap_or(0);
    let mut reader = response.into_reader();
    let mut out = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n =
            reader.read(&mut buf).map_err(|e| ModelError::Download { url: model.url.into(), reason: e.to_string() })?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(io_err(&tmp))?;
        done += n as u64;
        progress(done, total);
    }
    out.sync_all().map_err(io_err(&tmp))?;
    drop(out);
    verify(&tmp, model)?;
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    guard.keep();
    Ok(path)
}

/// One line of `roomcast models list`.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub model: &'static ModelInfo,
    /// Where it is, when downloaded.
    pub path: Option<PathBuf>,
}

pub fn list() -> Vec<Listed> {
    let dirs = search_dirs();
    MODELS
        .iter()
        .map(|m| Listed { model: m, path: dirs.iter().map(|d| d.join(m.file)).find(|p| p.is_file()) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_or_short_file_is_refused_with_the_command_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let model = info("silero-v6.2.0").unwrap();
        let path = dir.path().join(model.file);
        std::fs::write(&path, vec![0u8; 1000]).unwrap();
        let short = verify(&path, model).unwrap_err().to_string();
        assert!(short.contains("incomplete") && short.contains("roomcast models download silero-v6.2.0"), "{short}");
        std::fs::write(&path, vec![0u8; model.bytes.unwrap() as usize]).unwrap();
        let wrong = verify(&path, model).unwrap_err().to_string();
        assert!(wrong.contains("SHA-1") && wrong.contains(model.sha1), "{wrong}");
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let e = locate("huge-v9").unwrap_err().to_string();
        assert!(e.contains("tiny.en") && e.contains("base"), "{e}");
    }
}
