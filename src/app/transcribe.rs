//! Transcribing a session: every speaker through whisper, one timeline, every export written.

use std::path::PathBuf;

use crate::progress::Progress;
use crate::session::Session;
use crate::transcript::export::{self, ExportFormat};
use crate::transcript::run::{self, TranscribeError, TranscribeOptions, TranscribeReport};
use crate::transcript::{TranscriptDoc, models};

/// A transcript made and written into its session.
#[derive(Debug, Clone)]
pub struct Transcribed {
    pub doc: TranscriptDoc,
    pub report: TranscribeReport,
    /// transcript.json and every export, in the session folder.
    pub files: Vec<PathBuf>,
}

/// The options `transcribe` and `publish` start from: the default whisper and VAD models, the
/// language detected per speaker, threads chosen for the machine.
pub fn default_options(model: Option<String>, language: Option<String>) -> TranscribeOptions {
    TranscribeOptions {
        model: model.unwrap_or_else(|| models::DEFAULT_MODEL.into()),
        vad_model: models::DEFAULT_VAD.into(),
        language: language.filter(|l| l != "auto"),
        threads: None,
    }
}

/// Transcribes every speaker and writes transcript.json and every export into the session.
pub fn transcribe_session(
    session: &Session,
    options: &TranscribeOptions,
    progress: &dyn Progress,
) -> Result<Transcribed, TranscribeError> {
    let (segments, report) = run::transcribe(session, options, progress)?;
    let mut doc = run::document(session, segments, &report);
    // What was redacted after the room stays out of a new transcript too.
    let events = session.events()?;
    crate::session::edits::apply(&mut doc, &session.room, &events);
    let files = export::write(&doc, &session.dir, &ExportFormat::ALL)?;
    Ok(Transcribed { doc, report, files })
}
