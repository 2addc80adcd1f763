//! The module map holds: every module imports only from the layers below it (or from itself), so
//! there is no import loop between modules, and the command line stays a thin layer that parses,
//! calls the use cases in `app` and prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// roomcast's top-level modules, lowest layer first. A module may use any module of a lower layer;
/// modules of one layer do not use each other.
const LAYERS: &[&[&str]] = &[
    // The environment, read in one place.
    &["env"],
    &["markup", "progress", "parallel", "dirs"],
    // The on-disk formats: a speaker's Ogg Opus track, and the session folder.
    &["track", "session"],
    // Sans-I/O RTP, and audio codec helpers.
    &["rtp", "audio"],
    // The stages: the recorder, file import, mastering, transcription.
    &["record", "import", "master", "transcript"],
    // Room sources (feed the recorder), and the catalog of published rooms.
    &["live", "library", "captions", "livemix"],
    &["feed"],
    &["web"],
    // The use cases.
    &["app"],
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module each file of src/ belongs to (`None` for lib.rs and main.rs).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Every `crate::NAME` a file mentions (code and `use` lines; comments are skipped).
fn crate_refs(text: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                refs.push(name);
            }
            rest = after;
        }
    }
    refs
}

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module '{module}' is not in the layer table of tests/architecture.rs"))
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut uses: BTreeMap<String, BTreeMap<String, Vec<PathBuf>>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else { continue };
        if module == "cli" {
            continue; // the binary: it may use anything
        }
        let text = std::fs::read_to_string(file).unwrap();
        for used in crate_refs(&text) {
            if used != module {
                uses.entry(module.clone()).or_default().entry(used).or_default().push(file.clone());
            }
        }
    }
    let mut wrong = Vec::new();
    for (module, used) in &uses {
        for (target, files) in used {
            if layer_of(target) >= layer_of(module) {
                wrong.push(format!("{module} uses {target} (in {})", files[0].display()));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering:\n  {}", wrong.join("\n  "));
}

#[test]
fn every_top_level_module_is_in_the_layer_table() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line.strip_prefix("pub mod ").and_then(|l| l.strip_suffix(';')) {
            layer_of(name);
        }
    }
}

/// A line of the command line's code: not blank, not a comment, not --help text (clap's
/// `long_about` strings, continued line by line).
fn is_code(line: &str) -> bool {
    let t = line.trim();
    !(t.is_empty() || t.starts_with("//") || t.contains("long_about") || t.ends_with("\\n\\") || t.ends_with('\\'))
}

#[test]
fn the_command_line_stays_thin() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    rust_files(&cli, &mut files);
    let code: usize =
        files.iter().map(|f| std::fs::read_to_string(f).unwrap().lines().filter(|l| is_code(l)).count()).sum();
    // Parsing, calling `app`, printing: domain logic belongs below it. (1,500 until the queue's
    // `worker` and `jobs` commands came: their flags, help and tables are about 90 lines; 1,600
    // until the after-the-fact commands `speakers`, `redact`, `clip`, `chapter`, `retention` and
    // `expire` and the feed's owner and copyright flags: about 200 lines, their logic in app::edit.)
    assert!(code <= 1_820, "src/cli has {code} lines of code; move what is not parsing or printing into app/");
}
