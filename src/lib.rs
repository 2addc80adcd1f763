//! roomcast records live audio rooms one track per speaker and turns them into podcasts.
//!
//! The pipeline, one module per stage, with the session folder as the contract between them:
//!
//! ```text
//! capture  -> session -> master
//! (files,     (room.json, per-speaker Ogg Opus tracks, events.jsonl)
//!  live rooms)
//! ```
//!
//! Transcription, export and the searchable library read the same session folder.

pub mod app;
pub mod audio;
pub mod dirs;
pub mod feed;
pub mod import;
pub mod library;
pub mod live;
pub mod markup;
pub mod master;
pub mod parallel;
pub mod progress;
pub mod record;
pub mod rtp;
pub mod session;
pub mod track;
pub mod transcript;
pub mod web;
