//! Publishing a session into the library: master, transcribe, export, index; and the smaller
//! steps on their own (index what a session holds; attach a transcript made elsewhere).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::library::{self, Access, Catalog, IndexReport};
use crate::master::{self, Format, MixReport, MixSettings};
use crate::progress::Progress;
use crate::session::{Output, Session};
use crate::transcript::export::{self, ExportFormat};
use crate::transcript::models::ModelError;
use crate::transcript::run::TranscribeError;
use crate::transcript::{self, TranscriptDoc};

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PublishOptions {
    /// Master formats, each once.
    pub formats: Vec<Format>,
    /// Master and index only (with any transcript the session already has).
    pub skip_transcribe: bool,
    /// Whisper model name or path.
    pub model: String,
    /// A language code, or `auto` to detect it per speaker.
    pub language: String,
    /// The room the session must hold (a queued job's, kept beside the options): a folder whose
    /// room.json was replaced since is refused, not published as the wrong room.
    #[serde(skip)]
    pub room: Option<String>,
}

/// The session folder holds another room than the one asked for.
#[derive(Debug, thiserror::Error)]
#[error("{session}: holds room '{found}', not room '{expected}' that was queued; nothing published")]
pub struct WrongRoom {
    pub session: PathBuf,
    pub found: String,
    pub expected: String,
}

impl Default for PublishOptions {
    /// What `roomcast publish` does without flags: MP3 and Opus masters, transcribed with the
    /// default model (or `$ROOMCAST_MODEL`), languages detected.
    fn default() -> Self {
        PublishOptions {
            formats: vec![Format::Mp3, Format::Opus],
            skip_transcribe: false,
            model: crate::transcript::models::default_model(),
            language: "auto".into(),
            room: None,
        }
    }
}

/// A step of `publish` done, as it happens (the command line shows them one by one).
#[derive(Debug, Clone)]
pub enum PublishStep<'a> {
    Mastered(&'a MixReport),
    Transcribed {
        segments: usize,
        windows: usize,
    },
    /// Not transcribed, and why (no model installed, or asked not to).
    NotTranscribed {
        note: &'a str,
        skipped: bool,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    pub room: String,
    pub title: String,
    pub library: PathBuf,
    pub transcribed: bool,
    /// Why there is no new transcript, when there is none.
    pub transcript_note: Option<String>,
    pub index: IndexReport,
    pub outputs: Vec<Output>,
}

fn step(n: usize, name: &str) -> String {
    format!("publish step {n} of 4 ({name}) failed")
}

/// The main job in one call: master, transcribe, export, index. Each step says its name when it
/// fails; the library changes only in the last step, in one transaction. Without an installed
/// model the room is still mastered and indexed, and the report says why it has no transcript.
pub fn publish(
    session_dir: &Path,
    options: &PublishOptions,
    library_dir: &Path,
    progress: &dyn Progress,
    on_step: &mut dyn FnMut(PublishStep),
) -> Result<PublishReport> {
    // Before any work: a library that cannot be written is said at once.
    let mut lib = library::open(library_dir, Access::Write).with_context(|| step(4, "index"))?;
    // No edit runs meanwhile, and one a crash interrupted is finished (or undone) first: never
    // publish half of one, nor mix from events an edit is changing.
    let _lock = super::edit::lock_room(&mut *lib, session_dir)?;
    let session = Session::open(session_dir)?;
    if let Some(expected) = options.room.as_ref().filter(|r| **r != session.room.id) {
        return Err(WrongRoom { session: session.dir, found: session.room.id, expected: expected.clone() }.into());
    }
    let settings = MixSettings { formats: options.formats.clone(), ..Default::default() };
    let mastered = master::mix(&session, &settings, progress).with_context(|| step(1, "master"))?;
    on_step(PublishStep::Mastered(&mastered));
    let mut note = None;
    let mut transcribed = false;
    if options.skip_transcribe {
        let skipped = "skipped (--skip-transcribe)".to_string();
        on_step(PublishStep::NotTranscribed { note: &skipped, skipped: true });
        note = Some(skipped);
    } else {
        let transcribe_options =
            super::transcribe::default_options(Some(options.model.clone()), Some(options.language.clone()));
        match super::transcribe_session(&session, &transcribe_options, progress) {
            Ok(done) => {
                transcribed = true;
                on_step(PublishStep::Transcribed { segments: done.doc.segments.len(), windows: done.report.windows });
            }
            // No model installed: publishing still masters and indexes, and says how to get one.
            Err(TranscribeError::Model(e @ ModelError::Missing { .. })) => {
                let msg = format!("not transcribed: {e}");
                on_step(PublishStep::NotTranscribed { note: &msg, skipped: false });
                note = Some(msg);
            }
            Err(e @ TranscribeError::Session(_)) => return Err(anyhow::Error::new(e).context(step(3, "export"))),
            Err(e) => return Err(anyhow::Error::new(e).context(step(2, "transcribe"))),
        }
    }
    let (index, outputs) = index_session(&mut lib, &session).with_context(|| step(4, "index"))?;
    Ok(PublishReport {
        room: session.room.id.clone(),
        title: session.room.title.clone(),
        library: lib.dir().to_path_buf(),
        transcribed,
        transcript_note: note,
        index,
        outputs,
    })
}

/// Indexes a session as it stands: its metadata, the transcript it holds, the outputs in its folder.
pub fn index_session(lib: &mut dyn Catalog, session: &Session) -> Result<(IndexReport, Vec<Output>)> {
    // A room no model transcribed yet is found by its live captions (marked as such).
    let transcript = match session.transcript()? {
        Some(doc) => Some(doc),
        None => session.caption_transcript()?,
    };
    let outputs = session.outputs();
    let report = lib.index_room(session, transcript.as_ref(), &outputs)?;
    Ok((report, outputs))
}

/// Indexes whatever the session in `session_dir` holds (metadata, transcript, outputs).
pub fn index(session_dir: &Path, library_dir: &Path) -> Result<IndexReport> {
    let mut lib = library::open(library_dir, Access::Write)?;
    let _lock = super::edit::lock_room(&mut *lib, session_dir)?;
    let session = Session::open(session_dir)?;
    Ok(index_session(&mut lib, &session)?.0)
}

#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// Replacing it takes asking for it (`replace`).
    #[error("{0}: the session already has a transcript")]
    HasTranscript(PathBuf),
}

/// A transcript made elsewhere, attached to its session.
#[derive(Debug, Clone)]
pub struct Attached {
    pub doc: TranscriptDoc,
    pub index: IndexReport,
    /// Cues that ran past the room's end, cut at it.
    pub clamped: usize,
}

/// Attaches a transcript made elsewhere (WebVTT, SRT, Podcasting 2.0 or roomcast JSON) to a
/// session, writes every export, and indexes the room. A transcript already there is replaced only
/// when `replace` says so.
pub fn attach_transcript(
    session_dir: &Path,
    file: &Path,
    add_speakers: bool,
    replace: bool,
    library_dir: &Path,
) -> Result<Attached> {
    let session = Session::open(session_dir)?;
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| name.clone())?;
    let segments = transcript::import::parse(&text).with_context(|| name.clone())?;
    transcript::import::attach(&session.room, segments.clone(), add_speakers).with_context(|| name.clone())?;
    let target = session.dir.join(crate::session::TRANSCRIPT_JSON);
    if target.exists() && !replace {
        return Err(AttachError::HasTranscript(target).into());
    }
    let mut lib = library::open(library_dir, Access::Write)?;
    let _lock = super::edit::lock_room(&mut *lib, session_dir)?;
    // The room as it stands once any interrupted edit is settled.
    let session = Session::open(session_dir)?;
    let transcript::import::Attachment { mut doc, clamped } =
        transcript::import::attach(&session.room, segments, add_speakers).with_context(|| name.clone())?;
    // What was redacted, or withdrawn, after the room stays out of a transcript attached later.
    crate::session::edits::apply(&mut doc, &session.room, &session.events()?);
    export::write(&doc, &session.dir, &ExportFormat::ALL)?;
    let index = lib.index_room(&session, Some(&doc), &session.outputs())?;
    Ok(Attached { doc, index, clamped })
}
