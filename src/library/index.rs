//! What goes into the library with a room: its published files, and what indexing it did.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// A published file of a room: a master or a transcript export.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Output {
    pub kind: String,
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexReport {
    pub room: String,
    pub title: String,
    pub speakers: usize,
    pub segments: usize,
    pub words: usize,
    pub outputs: usize,
    /// The room was in the library before: its rows were replaced.
    pub replaced: bool,
}

/// The outputs a session folder holds: masters and transcript exports.
pub fn outputs_of(session_dir: &Path) -> Vec<Output> {
    let mut out = Vec::new();
    // The library is read from anywhere: its paths are absolute.
    let session_dir = &std::fs::canonicalize(session_dir).unwrap_or_else(|_| session_dir.to_path_buf());
    let Ok(entries) = std::fs::read_dir(session_dir) else { return out };
    let mut names: Vec<(String, u64)> = entries
        .flatten()
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some((e.file_name().to_string_lossy().into_owned(), meta.len()))
        })
        .collect();
    names.sort();
    // master.json lists what the last mix wrote: a master.wav left from an earlier mix with more
    // formats is not this mix's, and is not published as it.
    let mixed: Option<Vec<String>> = std::fs::read(session_dir.join("master.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("outputs")?.as_array().map(|outputs| {
                outputs
                    .iter()
                    .filter_map(|o| Path::new(o.get("path")?.as_str()?).file_name()?.to_str().map(str::to_string))
                    .collect()
            })
        });
    for (name, bytes) in names {
        let current = mixed.as_ref().is_none_or(|m| m.contains(&name));
        let kind = if name.starts_with("master.") && !name.ends_with(".json") && !name.contains(".tmp") && current {
            "master"
        } else if name.starts_with("transcript.") && !name.contains(".tmp") {
            "transcript"
        } else {
            continue;
        };
        out.push(Output { kind: kind.into(), path: session_dir.join(&name), bytes });
    }
    out
}
