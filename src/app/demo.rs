//! The whole job on the shipped sample: a loopback room recorded live from the sample's speakers
//! playing in real time, mastered, transcribed (and scored against the sample's script), published
//! and searched.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::sync::watch;

use crate::library::{self, Access, Catalog, Hit, IndexReport, LibraryError, SearchQuery};
use crate::live::RtpSource;
use crate::live::speak::{self, Voice};
use crate::master::{self, Format, MixReport, MixSettings};
use crate::progress::Silent;
use crate::record::{self, RecordObserver, RecordOptions, RecordReport, SessionPlace};
use crate::rtp::ReceiverConfig;
use crate::session::Session;
use crate::transcript::run::TranscribeError;
use crate::transcript::{models, score};

#[derive(Debug, Clone)]
pub struct DemoRequest {
    /// Where the demo room goes (replaced if it is an earlier demo room).
    pub out: PathBuf,
    /// The sample conversation: one Ogg Opus file per speaker, script.tsv and timeline.txt.
    pub sample: PathBuf,
    /// Play only the first seconds of the sample.
    pub limit: Option<f64>,
    /// What to search the library for once the room is published.
    pub search: String,
    /// The whisper model (name or path).
    pub model: Option<String>,
}

/// What the demo is about to play.
#[derive(Debug, Clone)]
pub struct DemoStart {
    pub speakers: usize,
    pub room: SocketAddr,
    /// Seconds until the last speaker is done.
    pub duration: f64,
}

/// What the demo's transcription did: whisper's transcript scored against the sample's script, or
/// why there is none.
#[derive(Debug, Clone, Serialize)]
pub struct DemoTranscript {
    /// What happened, in a line.
    pub note: String,
    /// Per speaker: WER against the script, and words that landed on the wrong speaker.
    pub scores: Vec<score::SpeakerScore>,
}

/// What the demo did; as JSON: the recording, the master, the transcript's score, the index and
/// the search.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub record: RecordReport,
    #[serde(skip)]
    pub session: Session,
    pub mix: MixReport,
    pub transcript: DemoTranscript,
    pub index: IndexReport,
    #[serde(skip)]
    pub library: PathBuf,
    pub search: Vec<Hit>,
}

/// `speaker<TAB>NAME<TAB>voice<TAB>JOIN...` lines of the sample's script: (name, join seconds).
fn sample_joins(script: &Path) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(script).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.first() == Some(&"speaker") && cols.len() >= 4)
                .then(|| (cols[1].to_string(), cols[3].parse().unwrap_or(0.0)))
        })
        .collect()
}

/// The name a sample file speaks under: its stem, capitalized.
fn display_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut chars = stem.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or(stem)
}

pub fn demo(
    request: &DemoRequest,
    library_dir: &Path,
    observer: &dyn RecordObserver,
    on_start: &mut dyn FnMut(&DemoStart),
) -> Result<DemoReport> {
    let (out, sample) = (&request.out, &request.sample);
    let mut files: Vec<PathBuf> = std::fs::read_dir(sample)
        .with_context(|| format!("{}: cannot read the sample folder (run from the repository root)", sample.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "opus"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no .opus speaker files (samples/make-sample.sh makes them)", sample.display());
    }
    // The library is opened first: one that cannot be written is said before the room is played.
    let mut lib = library::open(library_dir, Access::Write)?;
    if out.exists() {
        // Only ever replace an earlier demo room, never something else at that path.
        match Session::open(out) {
            Ok(s) if s.room.source.starts_with("rtp://127.0.0.1") => {
                match lib.remove_room(&s.room.id) {
                    Ok(_) | Err(LibraryError::UnknownRoom(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                std::fs::remove_dir_all(out).with_context(|| out.display().to_string())?
            }
            _ => bail!("{} exists and is not an earlier demo room; choose another --out", out.display()),
        }
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
    }
    // script.tsv says when each speaker joins the room; their files start there.
    let joins = sample_joins(&sample.join("script.tsv"));
    let mut talks: Vec<(String, f64, Arc<speak::Talk>)> = Vec::new();
    for f in &files {
        let name = display_name(f);
        let join = joins.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)).map_or(0.0, |(_, t)| *t);
        let limit = request.limit.map(|l| l - join);
        if limit.is_some_and(|l| l <= 0.0) {
            continue;
        }
        talks.push((name, join, Arc::new(speak::load(f, limit)?)));
    }
    // A free loopback port for the room.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let options = RecordOptions {
        out: SessionPlace::At(out.clone()),
        title: "roomcast demo room".into(),
        max_duration: None,
        until_empty: false,
        empty_grace: Duration::from_secs(3),
        receiver: ReceiverConfig::default(),
        names: Vec::new(),
        id: None,
    };
    let rt = super::runtime::runtime()?;
    on_start(&DemoStart {
        speakers: talks.len(),
        room: addr,
        duration: talks.iter().map(|(_, join, t)| join + t.duration as f64 / 48_000.0).fold(0.0, f64::max),
    });
    let report = rt.block_on(async {
        let signals = super::runtime::stop_on_signals();
        let (stop_tx, stop) = watch::channel(false);
        let mut signals_for_stop = signals.clone();
        let recorder = record::record(Box::new(RtpSource { addr }), options, Vec::new(), stop, observer);
        let speakers = async {
            // Give the recorder a moment to bind its port.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut set = tokio::task::JoinSet::new();
            for (i, (name, join, talk)) in talks.iter().enumerate() {
                let (talk, name, mut signals, join) = (talk.clone(), name.clone(), signals.clone(), *join);
                let voice = Voice { ssrc: 0x5EED_0000 + i as u32, name, rtcp: true };
                set.spawn(async move {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs_f64(join)) => {}
                        _ = signals.changed() => return Ok(None),
                    }
                    speak::speak(&talk, addr, &[voice], signals).await.map(Some)
                });
            }
            let mut result = Ok(());
            while let Some(r) = set.join_next().await {
                if let Ok(Err(e)) = r {
                    result = Err(e);
                }
            }
            // Let the last packets through the reorder window before closing the room.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = signals_for_stop.changed() => {}
            }
            let _ = stop_tx.send(true);
            result
        };
        let (recorded, spoken) = tokio::join!(recorder, speakers);
        spoken?;
        anyhow::Ok(recorded?)
    })?;
    let session = Session::open(&report.session)?;
    let settings = MixSettings { formats: vec![Format::Mp3, Format::Opus], ..Default::default() };
    let mix = master::mix(&session, &settings, &Silent)?;
    let transcript = demo_transcript(&session, sample, request.model.clone())?;
    let (index, _) = super::publish::index_session(&mut lib, &session)?;
    let query = SearchQuery { text: request.search.clone(), limit: 3, include_private: true, ..Default::default() };
    let search = lib.search(&query)?;
    Ok(DemoReport { record: report, session, mix, transcript, index, library: lib.dir().to_path_buf(), search })
}

/// The demo room's transcript: whisper's, scored against the sample's script (the text its voices
/// were made from). The script is only ever the yardstick, never the transcript: without a model
/// the room is published untranscribed, and the note says how to get one.
fn demo_transcript(session: &Session, sample: &Path, model: Option<String>) -> Result<DemoTranscript> {
    let options = super::transcribe::default_options(model, None);
    let done = match super::transcribe_session(session, &options, &Silent) {
        Ok(done) => done,
        Err(TranscribeError::Model(e)) => {
            return Ok(DemoTranscript {
                note: format!(
                    "not transcribed: {e}. The room is published without a transcript; \
                     scripts/demo.sh fetches the model (roomcast models download {})",
                    models::DEFAULT_MODEL
                ),
                scores: Vec::new(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let timeline = sample.join("timeline.txt");
    let text = std::fs::read_to_string(&timeline).with_context(|| timeline.display().to_string())?;
    // The script's times are the sample's; the live room started when the recorder did, a moment
    // before the first speaker joined at the script's time 0.
    let shift =
        session.room.speakers.iter().filter_map(|s| s.intervals.first()).map(|i| i.start).fold(f64::INFINITY, f64::min);
    let shift = if shift.is_finite() { shift } else { 0.0 };
    let mut lines = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let times = cols.first().and_then(|t| t.split_once('-'));
        let (Some((a, b)), Some(name), Some(words)) = (times, cols.get(1), cols.get(2)) else { continue };
        let (Ok(start), Ok(end)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) else { continue };
        if start + shift < session.room.duration {
            lines.push(score::Line {
                name: name.to_string(),
                start: start + shift,
                end: end + shift,
                text: words.to_string(),
            });
        }
    }
    Ok(DemoTranscript {
        note: format!(
            "transcribed with whisper ({}), {} segments; scored against the sample's script ({})",
            done.report.model.display(),
            done.doc.segments.len(),
            timeline.display()
        ),
        scores: score::score(&done.doc.segments, &lines, 0.5),
    })
}
