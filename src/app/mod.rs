//! The use cases: what a user asks roomcast to do, each one function over the stages below it.
//! The command line only parses, calls these and prints; the web server and the tests call the same
//! functions. Nothing here prints: progress goes through `Progress`, steps through callbacks, and
//! results come back as plain data.
//!
//! ```text
//! cli, web  ->  app  ->  library (catalog), feed
//!                    ->  record (recorder) + live (room sources), import, master, transcript
//!                    ->  session (the folder contract), track, rtp, audio
//! ```

pub mod demo;
pub mod edit;
pub mod feed;
pub mod inspect;
pub mod library;
pub mod models;
pub mod publish;
pub mod record;
pub mod runtime;
pub mod serve;
pub mod speak;
pub mod transcribe;
pub mod worker;

pub use publish::{PublishOptions, PublishReport, PublishStep, attach_transcript, index, publish};
pub use transcribe::{Transcribed, transcribe_session};
