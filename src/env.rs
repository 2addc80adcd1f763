//! The environment variables roomcast reads, each named once here. A variable that is set but
//! empty (`ROOMCAST_MODELS=`) counts as unset, as a shell user means it: it never becomes the
//! current folder or an empty value.

use std::ffi::OsString;
use std::path::PathBuf;

/// The library: a folder, or a postgres:// URL.
pub const LIBRARY: &str = "ROOMCAST_LIBRARY";
/// Where sessions recorded into a PostgreSQL library go.
pub const ROOMS_DIR: &str = "ROOMCAST_ROOMS_DIR";
/// The folder models are looked for first, and downloaded into.
pub const MODELS: &str = "ROOMCAST_MODELS";
/// The whisper model transcription uses when none is given.
pub const MODEL: &str = "ROOMCAST_MODEL";
/// A PyPI mirror with the same JSON API.
pub const PYPI_URL: &str = "ROOMCAST_PYPI_URL";
/// The whisper.cpp model hub.
pub const MODEL_HUB: &str = "ROOMCAST_MODEL_HUB";
/// The token `serve` asks every request for.
pub const TOKEN: &str = "ROOMCAST_TOKEN";
/// A Janus room's secret.
pub const ROOM_SECRET: &str = "ROOMCAST_ROOM_SECRET";
/// The Janus VideoRoom admin key.
pub const JANUS_ADMIN_KEY: &str = "ROOMCAST_JANUS_ADMIN_KEY";
/// The Janus API token.
pub const JANUS_TOKEN: &str = "ROOMCAST_JANUS_TOKEN";

/// The variable's value, `None` when unset or empty.
pub fn var_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The variable's value as text, `None` when unset, empty or not UTF-8.
pub fn var(name: &str) -> Option<String> {
    var_os(name).and_then(|v| v.into_string().ok())
}

/// The variable as a path, `None` when unset or empty.
pub fn path(name: &str) -> Option<PathBuf> {
    var_os(name).map(PathBuf::from)
}
