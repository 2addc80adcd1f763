//! An edit's COMMIT file, read back from a session anyone who can write the folder could change:
//! what it asks to delete is kept only when it is a path inside the session that an edit may
//! delete (a track, a stale master or multitrack export), never a panic.
use std::path::{Component, Path};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(deletes) = roomcast::app::edit::commit_deletes(data) else { return };
        for rel in deletes {
            let path = Path::new(&rel);
            assert!(path.components().all(|c| matches!(c, Component::Normal(_))), "{rel:?}");
            assert!(!rel.is_empty() && !rel.contains('\\'), "{rel:?}");
        }
    });
}
