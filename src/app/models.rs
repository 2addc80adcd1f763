//! Getting whisper and VAD models: download (or find installed), import a CTranslate2 folder,
//! quantize. Nothing is downloaded unless asked for here.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::progress::Progress;
use crate::transcript::models::quantize::Quantized;
use crate::transcript::models::{self as m, Imported, ModelError, ModelInfo};

/// A model in place: downloaded now, or already installed and verified.
#[derive(Debug, Clone, Serialize)]
pub struct Fetched {
    pub model: &'static str,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha1: String,
    /// Where it came from, or "already installed".
    pub source: String,
    pub quantized: Option<Quantized>,
    #[serde(skip)]
    pub already_installed: bool,
}

fn quantization(quantize: Option<&str>) -> Result<Option<m::quantize::QuantType>, ModelError> {
    quantize.map(|q| q.parse().map_err(ModelError::Quantization)).transpose()
}

/// Downloads a model into `dir` (default: the user's models folder) unless the official file is
/// installed already; `on_download` hears about it just before a download starts.
pub fn download(
    name: &str,
    dir: Option<PathBuf>,
    quantize: Option<&str>,
    progress: &dyn Progress,
    on_download: &mut dyn FnMut(&ModelInfo, &Path),
) -> Result<Fetched> {
    let model = m::info(name).ok_or_else(|| ModelError::Unknown(name.to_string()))?;
    let quantize = quantization(quantize)?;
    // Already installed (and still the official file): nothing to fetch.
    let installed = match &dir {
        Some(d) => Some(d.join(model.file)).filter(|p| p.is_file() && m::verify(p, model).is_ok()),
        None => m::locate(model.name).ok().map(|l| l.path),
    };
    if let Some(path) = installed {
        let quantized = quantize.map(|q| m::quantize_beside(&path, q)).transpose()?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        return Ok(Fetched {
            model: model.name,
            path,
            bytes,
            sha1: model.sha1.to_string(),
            source: "already installed".into(),
            quantized,
            already_installed: true,
        });
    }
    let dir = dir.unwrap_or_else(m::download_dir);
    on_download(model, &dir);
    let got = m::download(model, &dir, progress)?;
    let quantized = quantize.map(|q| m::quantize_beside(&got.path, q)).transpose()?;
    Ok(Fetched {
        model: model.name,
        path: got.path,
        bytes: got.bytes,
        sha1: got.sha1,
        source: got.source,
        quantized,
        already_installed: false,
    })
}

/// Converts a CTranslate2 (faster-whisper) model folder into a whisper.cpp file in `out` (default:
/// the user's models folder), and quantizes it when asked.
pub fn import(
    folder: &Path,
    out: Option<PathBuf>,
    quantize: Option<&str>,
    progress: &dyn Progress,
) -> Result<(Imported, Option<Quantized>)> {
    let quantize = quantization(quantize)?;
    let out = out.unwrap_or_else(m::download_dir);
    let imported = m::import(folder, &out, progress)?;
    let quantized = quantize.map(|q| m::quantize_beside(&imported.path, q)).transpose()?;
    Ok((imported, quantized))
}

/// Writes a quantized copy of a model beside it. Returns it with the model's name.
pub fn quantize(model: &str, kind: &str) -> Result<(Quantized, String)> {
    let kind = kind.parse().map_err(ModelError::Quantization)?;
    let source = m::locate(model)?;
    let quantized = m::quantize_beside(&source.path, kind)?;
    Ok((quantized, source.model.map_or(model.to_string(), |m| m.name.to_string())))
}
