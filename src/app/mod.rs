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

pub mod advice;
pub mod demo;
pub mod edit;
pub mod feed;
pub mod inspect;
pub mod library;
pub mod models;
pub mod publish;
pub mod record;
pub mod runtime;
pub mod schedule;
pub mod serve;
pub mod speak;
pub mod transcribe;
pub mod worker;

pub use publish::{PublishOptions, PublishReport, PublishStep, attach_transcript, index, publish};
pub use transcribe::{Transcribed, transcribe_session};

/// An error and what caused it, on one line, each said once. Errors here show their cause in
/// their own message ("{path}: {source}") and name it as their source as well, so anyhow's
/// "{:#}" would say it twice.
pub fn message(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let said = cause.to_string();
        if text.is_empty() {
            text = said;
        } else if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
    }
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_that_shows_its_cause_is_not_followed_by_it_again() {
        let io = std::io::Error::other("connection refused");
        let e = anyhow::Error::new(crate::library::LibraryError::Io { path: "lib".into(), source: io })
            .context("publish step 4 of 4 failed");
        assert_eq!(message(&e), "publish step 4 of 4 failed: lib: connection refused");
        let e = anyhow::anyhow!("two\nlines").context("outer");
        assert_eq!(message(&e), "outer: two lines");
    }
}
