//! What goes into the library with a room: its published files, and what indexing it did.

use serde::Serialize;

pub use crate::session::{Output, outputs_of};

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
