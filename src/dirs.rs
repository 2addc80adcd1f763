//! Where roomcast keeps the user's data when no folder is given.

use std::path::PathBuf;

/// The user's data folder for roomcast: `$XDG_DATA_HOME/roomcast`, by default
/// `~/.local/share/roomcast`. The library and the downloaded models live there.
pub fn user_data_dir() -> Option<PathBuf> {
    let base =
        crate::env::path("XDG_DATA_HOME").or_else(|| crate::env::path("HOME").map(|h| h.join(".local/share")))?;
    Some(base.join("roomcast"))
}
