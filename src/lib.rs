//! roomcast records live audio rooms one track per speaker and turns them into podcasts.
//!
//! The pipeline, one module per stage, with the session folder as the contract between them:
//!
//! ```text
//! live rooms (live -> record) ┐
//! files (import)              ┴-> session -> master, transcript -> library (catalog) -> feed, web
//!                                 (room.json, tracks/, events.jsonl, master.*, transcript.*)
//! ```
//!
//! `app` holds the use cases over those stages (publish, record, transcribe, ...); the command line
//! and the tests call them. Modules are layered (tests/architecture.rs): each uses only lower ones.

pub mod app;
pub mod audio;
pub mod captions;
pub mod dirs;
pub mod env;
pub mod feed;
pub mod import;
pub mod library;
pub mod live;
pub mod livemix;
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
