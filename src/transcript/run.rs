//! `roomcast transcribe`: each speaker's track is decoded at 16 kHz, Silero VAD finds the speech,
//! the speech is packed into windows of at most 20 s, whisper runs on each window, and the words
//! are put back on the room clock under the speaker's exact name. Speakers run in parallel where
//! the cores allow (whisper threads x tracks at once fit the machine).

use std::path::PathBuf;

use serde::Serialize;

use super::align::{Envelope, SpeakerName, to_room};
use super::models::{self, ModelError};
use super::pack::{PackOptions, Window, pack_speaker};
use super::speech::{self, SpeechAudio};
use super::vad::{VAD_RATE, Vad, VadError};
use super::whisper::{Engine, WhisperFailure};
use super::{Segment, merge, ms};
use crate::progress::{Progress, Unit};
use crate::session::{self, Session};

#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Vad(#[from] VadError),
    #[error(transparent)]
    Whisper(#[from] WhisperFailure),
    #[error(transparent)]
    Speech(#[from] speech::SpeechError),
    #[error(transparent)]
    Session(#[from] session::SessionError),
    #[error("{given} whisper threads: this machine has {cores} cores (give 1 to {cores})")]
    Threads { given: usize, cores: usize },
}

#[derive(Debug, Clone)]
pub struct TranscribeOptions {
    /// Model name or path.
    pub model: String,
    pub vad_model: String,
    /// A language code, or `None` to detect per speaker.
    pub language: Option<String>,
    /// Whisper threads per speaker; `None`: the cores divided among the speakers run at once.
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpeakerTranscript {
    pub speaker: String,
    pub name: String,
    pub speech_seconds: f64,
    pub seconds_sent_to_whisper: f64,
    pub windows: usize,
    pub language: Option<String>,
    pub segments: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TranscribeReport {
    pub session: PathBuf,
    pub model: PathBuf,
    pub room_duration: f64,
    pub speakers: Vec<SpeakerTranscript>,
    pub windows: usize,
    pub seconds_sent_to_whisper: f64,
    /// What one pass over the mixed room would run: ceil(duration / 30 s) windows.
    pub one_pass_windows: usize,
}

/// A window's length, lead-in included. Whisper takes up to 30 s, but its encoder's attention
/// costs the square of the window's length: 20 s windows (with the encoder's context cut to
/// match) transcribe a 10-minute room 22 % faster than 30 s ones, at the same WER, and hold 25 %
/// less memory (BENCHMARKS.md, "Transcription speed"; 10-18 s cost accuracy).
pub const WINDOW: f64 = 20.0;

/// Digital silence before a window's first piece: whisper drops a first word that starts right
/// at the beginning of its audio (2 of the 55 test utterances lost it without this).
pub const LEAD_IN: f64 = 0.3;

/// The window's audio: a lead-in of silence, then its pieces of the speaker's speech with the
/// silences between them.
fn window_audio(window: &Window, speech: &SpeechAudio, gap: f64) -> Vec<f32> {
    let rate = VAD_RATE as f64;
    let mut out = Vec::with_capacity(((window.duration + LEAD_IN) * rate) as usize + 1);
    out.resize((LEAD_IN * rate) as usize, 0.0);
    for (i, p) in window.pieces.iter().enumerate() {
        if i > 0 {
            out.resize(out.len() + (gap * rate) as usize, 0.0);
        }
        let (a, b) = ((p.room_start * rate) as usize, ((p.room_start + p.len) * rate) as usize);
        speech.read(a, b.max(a), &mut out);
    }
    out
}

/// Transcribes every speaker; returns the merged timeline and what was done.
pub fn transcribe(
    session: &Session,
    options: &TranscribeOptions,
    progress: &dyn Progress,
) -> Result<(Vec<Segment>, TranscribeReport), TranscribeError> {
    let cores = crate::parallel::cores();
    if let Some(given) = options.threads.filter(|&t| t == 0 || t > cores) {
        // More threads than cores spin against each other: ggml's workers wait by spinning.
        return Err(TranscribeError::Threads { given, cores });
    }
    let model = models::locate(&options.model)?;
    let vad_model = models::locate(&options.vad_model)?;
    let speakers = session.room.speakers.clone();
    let at_once = options.threads.map_or(cores.min(speakers.len()).max(1), |t| (cores / t.max(1)).max(1));
    let threads = options.threads.unwrap_or((cores / at_once).max(1));
    let engine = Engine::load(&model.path, threads as i32)?;
    tracing::info!(
        model = %model.path.display(),
        threads,
        at_once,
        "whisper model loaded ({})",
        if engine.is_multilingual() { "multilingual" } else { "English-only" }
    );
    let language = options.language.as_deref().filter(|l| *l != "auto");
    engine.check_language(&model.path, language)?;
    // Stage 1 counts the tracks' audio, stage 2 the audio whisper hears: both in milliseconds,
    // shown as seconds of audio a second.
    progress.begin_in("finding speech", (session.room.duration * 1000.0) as u64 * speakers.len() as u64, Unit::AudioMs);
    // A window is the lead-in plus its pieces.
    let pack_options =
        PackOptions { room_end: session.room.duration, max_window: WINDOW - LEAD_IN, ..Default::default() };
    let unit = (session.room.duration * 1000.0) as u64;
    // 1. Every speaker's speech (decode at 16 kHz, VAD), tracks side by side.
    let found = crate::parallel::map_with(cores, speakers.clone(), |speaker| {
        let mut vad = Vad::load(&vad_model.path)?;
        // Keep a little more than the padding windows take around each region.
        let keep = pack_options.pad + 0.05;
        let (regions, audio) = speech::find(&session.track_path(&speaker), &mut vad, keep, speech::CHUNK)?;
        progress.advance(unit);
        Ok::<_, TranscribeError>((regions, audio))
    })?;
    let (regions, audio): (Vec<Vec<super::pack::Region>>, Vec<SpeechAudio>) = found.into_iter().unzip();
    // 2. Windows: each holds one speaker's speech only, so every word whisper hears is that
    //    speaker's, whoever else talks at the same time.
    let windows: Vec<Window> =
        regions.iter().enumerate().flat_map(|(i, r)| pack_speaker(r, i, &pack_options)).collect();
    for (i, speaker) in speakers.iter().enumerate() {
        let own = windows.iter().filter(|w| w.source() == Some(i)).count();
        let speech: f64 = regions[i].iter().map(|r| r.end - r.start).sum();
        tracing::info!(speaker = %speaker.name, "{} speech regions, {speech:.1} s of speech, {own} window(s)", regions[i].len());
    }
    // 3. Each speaker's language: given, or detected once on their first window.
    let languages: Vec<Option<String>> = match language {
        Some(code) => regions.iter().map(|r| (!r.is_empty()).then(|| code.to_string())).collect(),
        None => crate::parallel::map_with(at_once, (0..regions.len()).collect(), |i| {
            match windows.iter().find(|w| w.source() == Some(i)) {
                Some(first) => {
                    let code = engine.detect_language(&window_audio(first, &audio[i], pack_options.gap))?;
                    tracing::info!(speaker = %speakers[i].name, "language: {code}");
                    Ok::<_, TranscribeError>(Some(code))
                }
                None => Ok(None),
            }
        })?,
    };
    let names: Vec<SpeakerName> = speakers.iter().map(|s| (s.id.clone(), s.name.clone())).collect();
    progress.end();
    let sent_ms = |w: &Window| (w.sent(LEAD_IN, pack_options.gap) * 1000.0) as u64;
    progress.begin_in("transcribing", windows.iter().map(sent_ms).sum(), Unit::AudioMs);
    // 4. Whisper on every window, as many at once as the cores allow.
    let new_state = || engine.state().map_err(TranscribeError::from);
    let results = crate::parallel::map_with_state(at_once, windows.clone(), new_state, |state, window| {
        let Some(source) = window.source() else { return Ok(Vec::new()) };
        let samples = window_audio(&window, &audio[source], pack_options.gap);
        let result = engine.run_in(state, &samples, languages[source].as_deref())?;
        tracing::debug!(
            speaker = %names[source].1,
            "window of {:.1} s from {:.1} s: {} segment(s)",
            samples.len() as f64 / VAD_RATE as f64,
            window.pieces.first().map_or(0.0, |p| p.room_start),
            result.segments.len()
        );
        progress.advance(sent_ms(&window));
        let envelope = Envelope::new(&samples, VAD_RATE);
        Ok::<_, TranscribeError>(to_room(&window, LEAD_IN, &result.segments, &envelope, &names[source]))
    })?;
    progress.end();
    let all: Vec<Segment> = results.into_iter().flatten().collect();
    let reports: Vec<SpeakerTranscript> = speakers
        .iter()
        .enumerate()
        .map(|(i, speaker)| {
            let own: Vec<&Window> = windows.iter().filter(|w| w.source() == Some(i)).collect();
            SpeakerTranscript {
                speaker: speaker.id.clone(),
                name: speaker.name.clone(),
                speech_seconds: ms(regions[i].iter().map(|r| r.end - r.start).sum()),
                seconds_sent_to_whisper: ms(own.iter().map(|w| w.sent(LEAD_IN, pack_options.gap)).sum()),
                windows: own.len(),
                language: languages[i].clone(),
                segments: all.iter().filter(|s| s.speaker == speaker.id).count(),
            }
        })
        .collect();
    let report = TranscribeReport {
        session: session.dir.clone(),
        model: model.path,
        room_duration: session.room.duration,
        windows: windows.len(),
        // The same sum as the speakers': every window is one speaker's.
        seconds_sent_to_whisper: ms(reports.iter().map(|r| r.seconds_sent_to_whisper).sum()),
        one_pass_windows: (session.room.duration / 30.0).ceil() as usize,
        speakers: reports,
    };
    Ok((merge(all), report))
}

/// The session's transcript document from what `transcribe` found.
pub fn document(session: &Session, segments: Vec<Segment>, report: &TranscribeReport) -> super::TranscriptDoc {
    super::TranscriptDoc {
        format: super::TRANSCRIPT_FORMAT.into(),
        version: super::TRANSCRIPT_VERSION,
        room: session.room.id.clone(),
        title: session.room.title.clone(),
        duration: session.room.duration,
        speakers: report
            .speakers
            .iter()
            .map(|s| super::TranscriptSpeaker {
                id: s.speaker.clone(),
                name: s.name.clone(),
                language: s.language.clone(),
            })
            .collect(),
        segments,
        live_captions: false,
    }
}
