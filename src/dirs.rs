//! Where roomcast keeps the user's data when no folder is given.

use std::path::PathBuf;

/// The user's data folder for roomcast: `$XDG_DATA_HOME/roomcast`, by default
/// `~/.local/share/roomcast`. The library and the downloaded models live there.
pub fn user_data_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("roomcast"))
}
