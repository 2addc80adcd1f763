//! Master: the room mixed to one podcast-ready file.
//!
//! Two streaming passes over the tracks, neither of which holds the room in memory:
//! 1. each speaker's speech, decoded in parallel (silence is skipped), as K-weighted energy per
//!    100 ms: their gated loudness gives each a leveling gain, and the energies, summed with those
//!    gains, predict the mix's loudness and so the normalization gain;
//! 2. the leveled, normalized sum through a true-peak limiter, encoded to every requested format at
//!    once, each encoder on its own thread. The first stretch of speech is held back and run through
//!    each lossy codec in memory first ([`probe`]), so each file is trimmed for what its codec takes off.
//!
//! Each lossy file is then decoded and measured as a listener's player would play it; a format that
//! still misses the loudness target by more than 0.3 LU, or the true-peak ceiling, is mastered again
//! with the measured correction.

pub mod limiter;
pub mod loudness;
pub mod multitrack;
pub mod probe;
pub mod sink;
pub mod source;
pub mod tags;
pub mod verify;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde::Serialize;
use sink::Threaded;
use thiserror::Error;

use crate::progress::Progress;
use crate::session::{self, Session, SessionError};
use crate::track::{self, SAMPLE_RATE, TrackError};
use limiter::{Limiter, LimiterStats};
use sink::{Mp3Sink, OpusSink, OutputFile, Sink, WavSink};
use source::TrackSource;
use tags::MasterMeta;

#[derive(Debug, Error)]
pub enum MasterError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("{path}: {source}")]
    Track { path: PathBuf, source: TrackError },
    #[error("{path}: cannot decode Opus: {reason}")]
    Codec { path: PathBuf, reason: String },
    #[error("{path}: cannot write: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{format} encoder: {reason}")]
    Encoder { format: &'static str, reason: String },
    #[error("{0}")]
    Settings(String),
    #[error("session has no speakers to mix")]
    NoSpeakers,
    #[error("session has no audio (all tracks are silent or empty)")]
    Silent,
}

impl MasterError {
    pub(crate) fn track(path: &Path, source: TrackError) -> Self {
        MasterError::Track { path: path.to_path_buf(), source }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Mp3,
    Opus,
    Wav,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::Opus => "opus",
            Format::Wav => "wav",
        }
    }
}

/// Podcast loudness norms (Apple): -16 LUFS for stereo, -19 LUFS for mono: the same signal level.
pub fn default_lufs(stereo: bool) -> f64 {
    if stereo { -16.0 } else { -19.0 }
}

#[derive(Debug, Clone)]
pub struct MixSettings {
    pub formats: Vec<Format>,
    pub stereo: bool,
    /// Integrated loudness target; `None` for the podcast default of the channel layout.
    pub lufs: Option<f64>,
    pub true_peak: f64,
    pub mp3_kbps: Option<u32>,
    pub opus_kbps: Option<u32>,
    pub artist: Option<String>,
    pub multitrack: Option<multitrack::MultitrackFormat>,
    /// Where outputs go; the session folder by default.
    pub out_dir: Option<PathBuf>,
}

impl Default for MixSettings {
    fn default() -> Self {
        MixSettings {
            formats: vec![Format::Mp3],
            stereo: true,
            lufs: None,
            true_peak: -1.0,
            mp3_kbps: None,
            opus_kbps: None,
            artist: None,
            multitrack: None,
            out_dir: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SpeakerLevel {
    pub id: String,
    pub name: String,
    /// Seconds of the track that are not silence frames.
    pub audio_seconds: f64,
    /// Gated loudness of the speaker's speech, LUFS (mono); `None` for a silent track.
    pub loudness: Option<f64>,
    pub gain_db: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MixReport {
    pub session: PathBuf,
    pub duration: f64,
    pub channels: u8,
    pub target_lufs: f64,
    /// Loudness the first pass predicted for the leveled mix, before normalization.
    pub predicted_mix_lufs: f64,
    /// Gain added before the limiter to make up for the loudness it takes off (learned by the probe).
    pub limiter_makeup_db: f64,
    /// Measured on the master's PCM (before any lossy encoding), in the output's channel layout.
    pub integrated_lufs: f64,
    /// Sample peak of the master's PCM; each output's true peak is in `outputs[].measured`.
    pub sample_peak_dbfs: f64,
    pub loudness_range_lu: f64,
    pub normalization_gain_db: f64,
    pub limiter_ceiling_dbtp: f64,
    pub limiter: LimiterStats,
    /// Passes over the tracks, counting re-masters of formats that missed the target.
    pub passes: u32,
    pub speakers: Vec<SpeakerLevel>,
    pub outputs: Vec<MasterOutput>,
    pub multitrack: Vec<OutputFile>,
    /// What was asked, so a later mix (after an edit) can ask the same: the true-peak ceiling
    /// (`limiter_ceiling_dbtp` is the limiter's, lower by the codec margin), the artist, bitrates.
    pub true_peak_dbtp: f64,
    pub artist: Option<String>,
    pub mp3_kbps: Option<u32>,
    pub opus_kbps: Option<u32>,
}

/// A master file and what it measures decoded.
#[derive(Debug, Clone, Serialize)]
pub struct MasterOutput {
    #[serde(flatten)]
    pub file: OutputFile,
    pub measured: verify::Measured,
    pub normalization_gain_db: f64,
    /// Gain applied after the limiter for this codec's loudness shift (from the probe).
    pub codec_trim_db: f64,
    /// Decoded loudness within 0.3 LU of the target and true peak under the ceiling.
    pub on_target: bool,
}

/// How far a lossy file may land from the loudness target before it is mastered again.
const LOUDNESS_TOLERANCE: f64 = 0.3;

/// Samples per block moved between passes' stages (100 ms, one loudness step).
const BLOCK: usize = loudness::STEP;
/// Speech the codec probe wants before it measures, and the most audio it holds back waiting for it.
const PROBE_SPEECH: usize = 30 * 48_000;
const PROBE_MAX_HOLD: usize = 120 * 48_000;
/// A speaker is never raised or lowered by more than this: a near-silent track is noise, not speech.
const MAX_LEVEL_GAIN_DB: f64 = 20.0;
/// Dual-mono stereo measures 10·log10(2) dB louder than the mono signal it carries.
pub(crate) const STEREO_OFFSET: f64 = 3.0103;
/// Lossy encoders overshoot the PCM's true peak; keep this much margin under the target for them.
const LOSSY_MARGIN_DB: f64 = 1.0;
const PCM_MARGIN_DB: f64 = 0.1;
/// Of the lossy margin, what a codec trim may not use: room for the codec's own overshoot.
const CODEC_OVERSHOOT_RESERVE_DB: f64 = 0.5;

fn db_to_gain(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

pub fn mix(session: &Session, settings: &MixSettings, progress: &dyn Progress) -> Result<MixReport, MasterError> {
    let room = &session.room;
    if room.speakers.is_empty() {
        return Err(MasterError::NoSpeakers);
    }
    let target = settings.lufs.unwrap_or_else(|| default_lufs(settings.stereo));
    if !(-40.0..=-5.0).contains(&target) {
        return Err(MasterError::Settings(format!("--lufs {target}: choose a target between -40 and -5 LUFS")));
    }
    if !(-9.0..=0.0).contains(&settings.true_peak) {
        return Err(MasterError::Settings(format!(
            "--true-peak {}: choose a ceiling between -9 and 0 dBTP",
            settings.true_peak
        )));
    }
    let bitrates: Vec<u32> = settings.formats.iter().map(|f| kbps_for(settings, *f)).collect::<Result<_, _>>()?;
    // Everything below is measured on the mono mix; stereo copies it to both channels.
    let target_mono = if settings.stereo { target - STEREO_OFFSET } else { target };
    // What `roomcast redact` took out of each speaker: left out of every mix.
    let events = session.events()?;
    let tracks: Vec<MixTrack> = room
        .speakers
        .iter()
        .map(|s| MixTrack { path: session.track_path(s), muted: session::edits::redactions(&events, &s.id) })
        .collect();
    let paths: Vec<PathBuf> = tracks.iter().map(|t| t.path.clone()).collect();
    let mut length = 0u64;
    for p in &paths {
        let info = track::probe(p).map_err(|e| MasterError::track(p, e))?;
        if info.damage != Default::default() {
            tracing::warn!(track = %p.display(), damage = ?info.damage, "damaged track: mixed as far as it reads");
        }
        length = length.max(info.room_samples);
    }
    // A track longer than its room is damage (pages that say so wrongly), not more room: the
    // master lasts as long as room.json says the room did, where it says so.
    let room_samples = (room.duration * SAMPLE_RATE as f64).round() as u64;
    if room.duration > 0.0 && length > room_samples + SAMPLE_RATE as u64 {
        tracing::warn!(
            tracks = length / SAMPLE_RATE as u64,
            room = room.duration,
            "tracks run past the room's end: cut at it"
        );
        length = room_samples;
    }
    let total_ms = length * 1000 / SAMPLE_RATE as u64;

    // Pass 1: each speaker's speech energy.
    let clock = std::time::Instant::now();
    progress.begin("measuring speakers", total_ms * paths.len() as u64);
    let measured = crate::parallel::map(tracks.iter().collect(), |t| speaker_steps(t, length, progress))?;
    progress.end();
    let mut speakers = Vec::new();
    let mut gains = Vec::new();
    for (s, (steps, audio)) in room.speakers.iter().zip(&measured) {
        let level = loudness::integrated(steps);
        let gain_db = level.map(|l| (target_mono - l).clamp(-MAX_LEVEL_GAIN_DB, MAX_LEVEL_GAIN_DB)).unwrap_or(0.0);
        gains.push(if level.is_some() { db_to_gain(gain_db) } else { 0.0 });
        speakers.push(SpeakerLevel {
            id: s.id.clone(),
            name: s.name.clone(),
            audio_seconds: *audio as f64 / SAMPLE_RATE as f64,
            loudness: level,
            gain_db,
        });
    }
    let steps: Vec<Vec<f64>> = measured.into_iter().map(|(s, _)| s).collect();
    let mix_steps = loudness::mixed(&steps, &gains);
    let predicted = loudness::integrated(&mix_steps).ok_or(MasterError::Silent)?;
    let norm_db = target_mono - predicted;
    tracing::info!(seconds = clock.elapsed().as_secs_f64(), predicted, "pass 1: speakers measured");

    let lossy = settings.formats.iter().any(|f| *f != Format::Wav);
    let ceiling = settings.true_peak - if lossy { LOSSY_MARGIN_DB } else { PCM_MARGIN_DB };
    // A lossy codec's trim may use the lossy headroom but must leave room for its own overshoot.
    let max_boost_db = if lossy { LOSSY_MARGIN_DB - CODEC_OVERSHOOT_RESERVE_DB } else { 0.0 };
    let meta = master_meta(session, settings)?;
    let out_dir = settings.out_dir.clone().unwrap_or_else(|| session.dir.clone());
    std::fs::create_dir_all(&out_dir).map_err(|source| MasterError::Write { path: out_dir.clone(), source })?;
    session::remove_stale_temps(&out_dir, session::MASTER_PREFIX);

    // Pass 2: mix, limit, probe the codecs, encode.
    let clock = std::time::Instant::now();
    let mut outputs = Vec::new();
    for (f, kbps) in settings.formats.iter().zip(&bitrates) {
        outputs.push(PendingOutput {
            format: *f,
            kbps: *kbps,
            sink: Some(open_sink(&out_dir, settings, &meta, *f)?),
            trim_db: None,
            file: None,
        });
    }
    progress.begin("mastering", total_ms);
    let last = limited_pass(
        &tracks,
        &gains,
        norm_db,
        ceiling,
        max_boost_db,
        length,
        &mut outputs,
        settings.stereo,
        &mix_steps,
        progress,
    )?;
    progress.end();
    tracing::info!(seconds = clock.elapsed().as_secs_f64(), loudness = last.loudness, "pass 2: mastered and encoded");

    let mut passes = 2;
    let mut results = Vec::new();
    for out in outputs {
        let (format, kbps, trim_db) = (out.format, out.kbps, out.trim_db.unwrap_or(0.0));
        let written = out.file.ok_or_else(|| MasterError::Settings("an output was not written".into()))?;
        let mut done = master_output(written, norm_db + last.makeup_db, trim_db)?;
        // Up to two corrections per format, each from what the decoded file measured. Loudness is
        // corrected before the limiter, so the ceiling still holds; a true-peak miss lowers it.
        let (mut gain_db, mut ceiling_db) = (norm_db + last.makeup_db, ceiling);
        for _ in 0..2 {
            let m = done.measured;
            if !m.integrated_lufs.is_finite() {
                return Err(MasterError::Codec { path: done.file.path.clone(), reason: "decodes to silence".into() });
            }
            let miss = target - m.integrated_lufs;
            let over = m.true_peak_dbtp - settings.true_peak;
            if miss.abs() <= LOUDNESS_TOLERANCE && over <= 0.0 {
                break;
            }
            gain_db += miss;
            if over > 0.0 {
                ceiling_db -= over + 0.1;
            }
            tracing::info!(?format, miss, over, "re-mastering with the decoded file's correction");
            passes += 1;
            let mut again = vec![PendingOutput {
                format,
                kbps,
                sink: Some(open_sink(&out_dir, settings, &meta, format)?),
                trim_db: Some(trim_db),
                file: None,
            }];
            progress.begin("re-mastering", total_ms);
            limited_pass(
                &tracks,
                &gains,
                gain_db,
                ceiling_db,
                0.0,
                length,
                &mut again,
                settings.stereo,
                &mix_steps,
                progress,
            )?;
            progress.end();
            let written =
                again.pop().and_then(|o| o.file).ok_or_else(|| MasterError::Settings("re-master failed".into()))?;
            done = master_output(written, gain_db, trim_db)?;
        }
        let m = done.measured;
        done.on_target =
            (target - m.integrated_lufs).abs() <= LOUDNESS_TOLERANCE && m.true_peak_dbtp <= settings.true_peak;
        if !done.on_target {
            tracing::warn!(
                ?format,
                lufs = m.integrated_lufs,
                peak = m.true_peak_dbtp,
                "still off target after re-mastering"
            );
        }
        results.push(done);
    }

    let multitrack = match settings.multitrack {
        Some(format) => multitrack::write(session, format, length, &out_dir.join("multitrack"), progress)?,
        None => Vec::new(),
    };
    let offset = if settings.stereo { STEREO_OFFSET } else { 0.0 };
    let report = MixReport {
        session: session.dir.clone(),
        duration: length as f64 / SAMPLE_RATE as f64,
        channels: if settings.stereo { 2 } else { 1 },
        target_lufs: target,
        predicted_mix_lufs: predicted + offset,
        limiter_makeup_db: last.makeup_db,
        integrated_lufs: last.loudness + offset,
        sample_peak_dbfs: last.sample_peak,
        loudness_range_lu: last.range,
        normalization_gain_db: norm_db,
        limiter_ceiling_dbtp: ceiling,
        limiter: last.limiter,
        passes,
        speakers,
        outputs: results,
        multitrack,
        true_peak_dbtp: settings.true_peak,
        artist: settings.artist.clone(),
        mp3_kbps: settings.mp3_kbps,
        opus_kbps: settings.opus_kbps,
    };
    let mut json = serde_json::to_vec_pretty(&report).expect("report serializes");
    json.push(b'\n');
    session::write_atomic(&out_dir.join(session::MASTER_JSON), &json)?;
    Ok(report)
}

fn master_output(
    (file, measured): sink::Finished,
    normalization_gain_db: f64,
    codec_trim_db: f64,
) -> Result<MasterOutput, MasterError> {
    let measured = measured.ok_or_else(|| MasterError::Settings(format!("{}: not measured", file.path.display())))?;
    Ok(MasterOutput { file, measured, normalization_gain_db, codec_trim_db, on_target: true })
}

fn kbps_for(s: &MixSettings, format: Format) -> Result<u32, MasterError> {
    Ok(match format {
        Format::Mp3 => s.mp3_kbps.unwrap_or(if s.stereo { 128 } else { 64 }),
        Format::Opus => {
            let kbps = s.opus_kbps.unwrap_or(if s.stereo { 96 } else { 64 });
            if !(6..=510).contains(&kbps) {
                return Err(MasterError::Settings(format!("--opus-bitrate {kbps}: Opus takes 6 to 510 kbps")));
            }
            kbps
        }
        Format::Wav => 0,
    })
}

fn master_meta(session: &Session, settings: &MixSettings) -> Result<MasterMeta, MasterError> {
    let room = &session.room;
    let events = session.events()?;
    // Speakers merged into one name are one person in the tags.
    let mut names: Vec<&str> = Vec::new();
    for s in &room.speakers {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    Ok(MasterMeta {
        title: room.title.clone(),
        artist: settings.artist.clone().unwrap_or_else(|| names.join(", ")),
        date: room.started_at,
        comment: format!("Recorded with roomcast from {} ({} speakers)", room.source, names.len()),
        chapters: session::events::markers(&events),
        duration: room.duration,
    })
}

fn open_sink(dir: &Path, s: &MixSettings, meta: &MasterMeta, format: Format) -> Result<Box<dyn Sink>, MasterError> {
    let path = dir.join(session::master_file(format.extension()));
    let kbps = kbps_for(s, format)?;
    Ok(match format {
        Format::Mp3 => Box::new(Mp3Sink::create(&path, s.stereo, kbps, meta)?),
        Format::Opus => Box::new(OpusSink::create(&path, s.stereo, kbps, meta)?),
        Format::Wav => Box::new(WavSink::create(&path, s.stereo, true)?),
    })
}

/// A speaker's track as the mix hears it: the file, and the spans of it redacted (seconds).
struct MixTrack {
    path: PathBuf,
    muted: Vec<(f64, f64)>,
}

/// Each speaker's K-weighted energy per 100 ms step, and how many samples were not silence.
fn speaker_steps(track: &MixTrack, length: u64, progress: &dyn Progress) -> Result<(Vec<f64>, u64), MasterError> {
    let mut filter = loudness::KWeighting::default();
    let mut steps = Vec::with_capacity((length as usize).div_ceil(BLOCK));
    let (mut audio, mut was_silent) = (0u64, false);
    TrackSource::open(&track.path)?.muting(&track.muted).for_each_block(length, |block, has_audio| {
        if has_audio {
            if was_silent {
                filter.reset();
            }
            steps.push(filter.energy(block));
            audio += block.len() as u64;
        } else {
            steps.push(0.0);
        }
        was_silent = !has_audio;
        progress.advance(block.len() as u64 * 1000 / SAMPLE_RATE as u64);
        Ok(())
    })?;
    Ok((steps, audio))
}

struct PassResult {
    loudness: f64,
    sample_peak: f64,
    range: f64,
    limiter: LimiterStats,
    makeup_db: f64,
}

/// One requested output on its way through a pass.
struct PendingOutput {
    format: Format,
    kbps: u32,
    sink: Option<Box<dyn Sink>>,
    /// Codec trim in dB: `None` until the probe has measured it.
    trim_db: Option<f64>,
    file: Option<sink::Finished>,
}

/// Where the normalized mix goes: held back (before limiting) until the first stretch of speech has
/// been heard, which teaches two corrections, then limited and streamed to every output's encoder.
/// - The limiter takes some loudness off (more the more it works): a scratch run over the held audio
///   measures that against the prediction, and the same amount is added *before* the limiter, which
///   keeps every peak under the ceiling.
/// - Each lossy codec shifts loudness too ([`probe`]); its trim is applied after the limiter, capped
///   so that it stays within the headroom kept for that codec.
struct Feed<'a> {
    outputs: &'a mut [PendingOutput],
    running: Vec<Box<dyn Sink>>,
    held: Vec<f32>,
    held_speech: usize,
    stereo: bool,
    /// Predicted step energies of the normalized mix.
    predicted: &'a [f64],
    limiter: Limiter,
    ceiling: f64,
    /// Gain before the limiter that makes up for what it takes off; learned by the probe.
    makeup: f32,
    makeup_db: f64,
    /// Most a codec trim may raise the limited signal.
    max_boost_db: f64,
    limited: Vec<f32>,
    meter: loudness::Meter,
}

/// Blocks quieter than this (about -50 dBFS RMS) do not count as speech for the probe.
const PROBE_SPEECH_LEVEL: f32 = 0.003;

impl Feed<'_> {
    fn push(&mut self, block: &[f32]) -> Result<(), MasterError> {
        if !self.running.is_empty() || self.outputs.is_empty() {
            return self.run(block);
        }
        self.held.extend_from_slice(block);
        let rms = (block.iter().map(|s| s * s).sum::<f32>() / block.len().max(1) as f32).sqrt();
        if rms > PROBE_SPEECH_LEVEL {
            self.held_speech += block.len();
        }
        if self.held_speech >= PROBE_SPEECH || self.held.len() >= PROBE_MAX_HOLD {
            self.start()?;
        }
        Ok(())
    }

    /// Limits a block and hands it to the meter and every encoder.
    fn run(&mut self, block: &[f32]) -> Result<(), MasterError> {
        if self.makeup != 1.0 {
            let scaled: Vec<f32> = block.iter().map(|s| s * self.makeup).collect();
            self.limiter.process(&scaled, &mut self.limited);
        } else {
            self.limiter.process(block, &mut self.limited);
        }
        self.emit()
    }

    fn emit(&mut self) -> Result<(), MasterError> {
        if self.limited.is_empty() {
            return Ok(());
        }
        self.meter.add(&self.limited);
        for s in self.running.iter_mut() {
            s.write(&self.limited)?;
        }
        self.limited.clear();
        Ok(())
    }

    /// The loudness (dB) the limiter takes off `audio` at `makeup`, against the prediction.
    fn limiter_loss(&self, audio: &[f32], makeup_db: f64) -> (f64, Vec<f32>) {
        let mut scratch = Limiter::new(self.ceiling, SAMPLE_RATE);
        let gain = db_to_gain(makeup_db);
        let input: Vec<f32> = audio.iter().map(|s| s * gain).collect();
        let mut out = Vec::with_capacity(input.len());
        scratch.process(&input, &mut out);
        scratch.finish(&mut out);
        let mut k = loudness::KWeighting::default();
        let steps: Vec<f64> = out.chunks(loudness::STEP).map(|c| k.energy(c)).collect();
        let predicted = self.predicted.get(..steps.len()).and_then(loudness::integrated);
        let loss = match (loudness::integrated(&steps), predicted) {
            (Some(measured), Some(predicted)) => (measured - predicted - makeup_db).clamp(-3.0, 3.0),
            _ => 0.0,
        };
        (loss, out)
    }

    /// Learns the corrections on what was held back, then starts the encoders.
    fn start(&mut self) -> Result<(), MasterError> {
        let probing = self.outputs.iter().any(|o| o.trim_db.is_none());
        let mut limited_held = Vec::new();
        if probing {
            // Two rounds: making up for the loss makes the limiter work a little harder.
            let (loss, _) = self.limiter_loss(&self.held, 0.0);
            let (loss, out) = self.limiter_loss(&self.held, -loss);
            self.makeup_db = (-loss).clamp(0.0, 3.0);
            self.makeup = db_to_gain(self.makeup_db);
            limited_held = out;
        }
        for out in self.outputs.iter_mut() {
            let trim = match out.trim_db {
                Some(t) => t,
                None => {
                    let codec = probe::codec_loss(out.format, self.stereo, out.kbps, &limited_held)?;
                    let trim = (-codec).clamp(-3.0, self.max_boost_db);
                    tracing::info!(format = ?out.format, codec, trim, makeup = self.makeup_db, "probe");
                    trim
                }
            };
            out.trim_db = Some(trim);
            let sink = out.sink.take().ok_or_else(|| MasterError::Settings("sink started twice".into()))?;
            self.running.push(Box::new(Threaded::spawn(sink, db_to_gain(trim))));
        }
        let held = std::mem::take(&mut self.held);
        for chunk in held.chunks(BLOCK) {
            self.run(chunk)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(Vec<sink::Finished>, PassResult), MasterError> {
        if self.running.is_empty() && !self.outputs.is_empty() {
            self.start()?;
        }
        self.limiter.finish(&mut self.limited);
        self.emit()?;
        let result = PassResult {
            loudness: self.meter.integrated(),
            sample_peak: 20.0 * (self.meter.sample_peak as f64).log10(),
            range: self.meter.range(),
            limiter: self.limiter.stats,
            makeup_db: self.makeup_db,
        };
        let files = self.running.into_iter().map(|s| s.finish()).collect::<Result<_, _>>()?;
        Ok((files, result))
    }
}

/// Decodes each track on its own thread, handing 100 ms blocks (or "silent") to the mixer.
fn spawn_decoders<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    tracks: &'s [MixTrack],
    length: u64,
) -> Vec<Receiver<Result<Option<Vec<f32>>, MasterError>>> {
    tracks
        .iter()
        .map(|t| {
            let (tx, rx): (SyncSender<_>, _) = sync_channel(16);
            scope.spawn(move || {
                let run = TrackSource::open(&t.path).map(|src| src.muting(&t.muted)).and_then(|mut src| {
                    src.for_each_block(length, |block, audio| {
                        // A closed channel means the mixer stopped (it has the error to report).
                        tx.send(Ok(audio.then(|| block.to_vec())))
                            .map_err(|_| MasterError::Settings("mixer stopped".into()))
                    })
                });
                if let Err(e) = run {
                    let _ = tx.send(Err(e));
                }
            });
            rx
        })
        .collect()
}

/// Sums the tracks with their gains, applies `norm_db`, and hands the mix to the [`Feed`].
#[allow(clippy::too_many_arguments)]
fn limited_pass(
    tracks: &[MixTrack],
    gains: &[f32],
    norm_db: f64,
    ceiling: f64,
    max_boost_db: f64,
    length: u64,
    outputs: &mut [PendingOutput],
    stereo: bool,
    predicted: &[f64],
    progress: &dyn Progress,
) -> Result<PassResult, MasterError> {
    let norm = db_to_gain(norm_db);
    let predicted: Vec<f64> = predicted.iter().map(|e| e * (norm as f64).powi(2)).collect();
    let mut feed = Feed {
        outputs,
        running: Vec::new(),
        held: Vec::new(),
        held_speech: 0,
        stereo,
        predicted: &predicted,
        limiter: Limiter::new(ceiling, SAMPLE_RATE),
        ceiling,
        makeup: 1.0,
        makeup_db: 0.0,
        max_boost_db,
        limited: Vec::with_capacity(BLOCK * 2),
        meter: loudness::Meter::new(1),
    };
    std::thread::scope(|scope| -> Result<(), MasterError> {
        let decoders = spawn_decoders(scope, tracks, length);
        let mut mix = vec![0.0f32; BLOCK];
        let mut pos = 0u64;
        while pos < length {
            let n = (BLOCK as u64).min(length - pos) as usize;
            let mix = &mut mix[..n];
            mix.fill(0.0);
            for (rx, &g) in decoders.iter().zip(gains) {
                let block = rx.recv().map_err(|_| MasterError::Settings("a decoder thread stopped".into()))??;
                if let Some(block) = block.filter(|_| g != 0.0) {
                    let g = g * norm;
                    mix.iter_mut().zip(&block).for_each(|(m, s)| *m += s * g);
                }
            }
            feed.push(mix)?;
            pos += n as u64;
            progress.advance(n as u64 * 1000 / SAMPLE_RATE as u64);
        }
        Ok(())
    })?;
    let (files, result) = feed.finish()?;
    for (out, file) in outputs.iter_mut().zip(files) {
        out.file = Some(file);
    }
    Ok(result)
}
