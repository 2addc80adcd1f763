//! `roomcast import`: a session from existing per-speaker recordings.
//!
//! Ogg Opus inputs are copied packet for packet (no generation loss); anything else symphonia reads
//! is decoded, converted to 48 kHz mono and encoded with libopus at a voice bitrate. Everything is
//! written into a hidden temporary folder that is renamed into place only when all of it succeeded.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audio::{AudioError, EncodeError, FileDecoder, To48k, VoiceEncoder, downmix, is_ogg_opus};
use crate::progress::Progress;
use crate::session::{self, Event, EventKind, Interval, Room, RoomStatus, Session, SessionError, Speaker, TempGuard};
use crate::track::{FRAME_20MS, OpusHead, OpusTags, SAMPLE_RATE, TrackError, TrackReader, TrackWriter};

/// Why an import failed. Nothing is left behind: the session folder appears only when all of it
/// succeeded.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{path}: has {found} channel(s) but --channels names {named} speaker(s)")]
    ChannelCount { path: PathBuf, found: usize, named: usize },
    #[error("speaker name '{0}' is given twice; each speaker needs a distinct name")]
    DuplicateSpeaker(String),
    #[error("speaker name is empty in '{0}'; use NAME=FILE")]
    EmptyName(String),
    #[error("--offset names unknown speaker '{name}' (speakers: {known})")]
    UnknownOffsetSpeaker { name: String, known: String },
    #[error("--offset {name}={value}: the offset must be a number of seconds, 0 or more")]
    BadOffset { name: String, value: String },
    #[error("no speakers to import")]
    NoSpeakers,
    #[error("{0}: already holds a session (room.json)")]
    OutHoldsSession(PathBuf),
    #[error("{0}: exists and is not an empty folder")]
    OutNotEmpty(PathBuf),
    #[error("{path}: cannot write the session there: {source}")]
    OutNotWritable { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Track { path: PathBuf, source: TrackError },
    #[error("{path}: {source}")]
    Encode { path: PathBuf, source: EncodeError },
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Name(#[from] session::names::NameError),
}

#[derive(Debug, Clone)]
pub struct SpeakerFile {
    pub name: String,
    pub file: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub speakers: Vec<SpeakerFile>,
    /// One file whose channels are speakers, in channel order.
    pub multichannel: Option<(PathBuf, Vec<String>)>,
    /// Seconds into the room at which a speaker's file starts.
    pub offsets: Vec<(String, f64)>,
    pub title: Option<String>,
    pub out: PathBuf,
    /// Opus bitrate in bits per second for inputs that are re-encoded.
    pub bitrate: u32,
    /// Chapter markers: (room seconds, title).
    pub chapters: Vec<(f64, String)>,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedSpeaker {
    pub id: String,
    pub name: String,
    pub track: PathBuf,
    pub source: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<usize>,
    /// "copied" (Opus packets kept bit-exact) or "encoded" (decoded and encoded with libopus).
    pub method: &'static str,
    pub offset: f64,
    pub duration: f64,
    /// Corrupt packets in the source that were skipped (left as a short gap).
    pub skipped_packets: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub session: PathBuf,
    pub id: String,
    pub title: String,
    pub duration: f64,
    pub speakers: Vec<ImportedSpeaker>,
}

type FileTrack = TrackWriter<BufWriter<File>>;

/// What one input file becomes.
enum Input {
    Opus { speaker: usize, reader: Box<TrackReader<std::io::BufReader<File>>> },
    Audio { decoder: FileDecoder, targets: Vec<(usize, Option<usize>)> },
}

struct Plan {
    name: String,
    id: String,
    source: PathBuf,
    channel: Option<usize>,
    offset_samples: u64,
}

struct Done {
    speaker: usize,
    track: FileTrack,
    /// Room time at which the speaker's audio ends, in samples.
    end: u64,
    method: &'static str,
    skipped: u64,
}

pub fn import(req: &ImportRequest, progress: &dyn Progress) -> Result<ImportReport, ImportError> {
    let plans = plan_speakers(req)?;
    check_out(&req.out)?;
    // Titles are checked before any work, as names are.
    let given_title = req.title.as_deref().map(|t| session::names::title(t, "the room's title")).transpose()?;
    let chapters = req
        .chapters
        .iter()
        .map(|(t, title)| Ok((*t, session::names::title(title, "a chapter title")?)))
        .collect::<Result<Vec<_>, ImportError>>()?;

    // Open every input before any work, so a bad file fails fast and names itself.
    let mut inputs = Vec::new();
    let mut total_ms = 0u64;
    for (i, s) in req.speakers.iter().enumerate() {
        let input = open_input(&s.file, i, None)?;
        total_ms += input_ms(&input);
        inputs.push(input);
    }
    if let Some((file, names)) = &req.multichannel {
        let first = req.speakers.len();
        let decoder = FileDecoder::open(file)?;
        if decoder.info.channels != names.len() {
            return Err(ImportError::ChannelCount {
                path: file.clone(),
                found: decoder.info.channels,
                named: names.len(),
            });
        }
        let targets = (0..names.len()).map(|c| (first + c, Some(c))).collect();
        let input = Input::Audio { decoder, targets };
        total_ms += input_ms(&input);
        inputs.push(input);
    }

    let parent = match req.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| ImportError::OutNotWritable { path: req.out.clone(), source: e })?;
    let out_name = req.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "session".into());
    let tmp_dir = parent.join(format!(".{out_name}.roomcast-import-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp_dir);
    fs::create_dir(&tmp_dir).map_err(|e| ImportError::OutNotWritable { path: req.out.clone(), source: e })?;
    // Removes the temporary folder unless the import gets to the final rename.
    let guard = TempGuard(tmp_dir.clone());
    fs::create_dir(tmp_dir.join(session::TRACKS_DIR))
        .map_err(|e| ImportError::OutNotWritable { path: req.out.clone(), source: e })?;

    let title = given_title.unwrap_or_else(|| session::names::sent_name(&out_name).unwrap_or_else(|| "room".into()));
    progress.begin("importing", total_ms);
    let done: Vec<Done> =
        crate::parallel::map(inputs, |input| run_input(input, &plans, &tmp_dir, req, &title, progress))?
            .into_iter()
            .flatten()
            .collect();
    progress.end();

    let room_end = done.iter().map(|d| d.end).max().unwrap_or(0);
    let mut speakers = Vec::new();
    let mut report_speakers = Vec::new();
    let mut finished: Vec<(usize, &'static str, u64, u64)> = Vec::new();
    for d in done {
        let path = tmp_dir.join(track_rel(&plans[d.speaker].id));
        d.track.finish(Some(room_end)).map_err(|source| ImportError::Track { path: path.clone(), source })?;
        finished.push((d.speaker, d.method, d.end, d.skipped));
    }
    finished.sort_by_key(|f| f.0);
    for (i, method, end, skipped_packets) in finished {
        let p = &plans[i];
        let (start, end) = (secs(p.offset_samples), secs(end));
        speakers.push(Speaker {
            id: p.id.clone(),
            name: p.name.clone(),
            track: track_rel(&p.id),
            intervals: vec![Interval { start, end: Some(end) }],
            origin: Some(match p.channel {
                Some(c) => format!("{} (channel {})", p.source.display(), c + 1),
                None => p.source.display().to_string(),
            }),
        });
        report_speakers.push(ImportedSpeaker {
            id: p.id.clone(),
            name: p.name.clone(),
            track: req.out.join(track_rel(&p.id)),
            source: p.source.clone(),
            channel: p.channel,
            method,
            offset: start,
            duration: end - start,
            skipped_packets,
        });
    }

    let started_at = req.started_at.unwrap_or_else(Utc::now);
    let duration = secs(room_end);
    let id = session::room_id(&started_at, &title);
    let mut room = Room::new(id.clone(), title.clone(), "import:".into(), started_at);
    room.ended_at = Some(started_at + chrono::Duration::milliseconds((duration * 1000.0).round() as i64));
    room.status = RoomStatus::Complete;
    room.duration = duration;
    room.speakers = speakers;
    let session = Session::create(&tmp_dir, room)?;
    let mut events = Vec::new();
    for s in &session.room.speakers {
        let iv = s.intervals[0];
        events.push(Event { t: iv.start, kind: EventKind::Joined { speaker: s.id.clone() } });
        events.push(Event { t: iv.end.unwrap_or(duration), kind: EventKind::Left { speaker: s.id.clone() } });
    }
    for (t, title) in chapters {
        events.push(Event { t, kind: EventKind::Marker { title } });
    }
    events.sort_by(|a, b| a.t.total_cmp(&b.t));
    for e in &events {
        session.append_event(e)?;
    }

    // An empty folder the user created for us may be replaced; anything else was refused above.
    if req.out.is_dir() {
        fs::remove_dir(&req.out).map_err(|e| ImportError::OutNotWritable { path: req.out.clone(), source: e })?;
    }
    fs::rename(&tmp_dir, &req.out).map_err(|e| ImportError::OutNotWritable { path: req.out.clone(), source: e })?;
    guard.keep();
    Ok(ImportReport { session: req.out.clone(), id, title, duration, speakers: report_speakers })
}

fn secs(samples: u64) -> f64 {
    samples as f64 / SAMPLE_RATE as f64
}

fn track_rel(id: &str) -> String {
    format!("{}/{id}.opus", session::TRACKS_DIR)
}

fn plan_speakers(req: &ImportRequest) -> Result<Vec<Plan>, ImportError> {
    let mut named: Vec<(String, PathBuf, Option<usize>)> =
        req.speakers.iter().map(|s| (s.name.clone(), s.file.clone(), None)).collect();
    if let Some((file, names)) = &req.multichannel {
        named.extend(names.iter().enumerate().map(|(c, n)| (n.clone(), file.clone(), Some(c))));
    }
    if named.is_empty() {
        return Err(ImportError::NoSpeakers);
    }
    for i in 0..named.len() {
        let (name, file, _) = &named[i];
        if name.trim().is_empty() {
            return Err(ImportError::EmptyName(format!("={}", file.display())));
        }
        let clean = session::names::speaker_name(name)?;
        // Names that read the same (case, full-width letters, invisible characters) are one.
        if named[..i].iter().any(|(n, _, _)| session::names::same_name(n, &clean)) {
            return Err(ImportError::DuplicateSpeaker(clean));
        }
        named[i].0 = clean;
    }
    let mut offsets = vec![0u64; named.len()];
    for (name, seconds) in &req.offsets {
        let Some(i) = named.iter().position(|(n, _, _)| session::names::same_name(n, name)) else {
            let known = named.iter().map(|(n, _, _)| n.as_str()).collect::<Vec<_>>().join(", ");
            return Err(ImportError::UnknownOffsetSpeaker { name: name.clone(), known });
        };
        if !seconds.is_finite() || *seconds < 0.0 || *seconds > 7.0 * 86_400.0 {
            return Err(ImportError::BadOffset { name: name.clone(), value: seconds.to_string() });
        }
        offsets[i] = (seconds * SAMPLE_RATE as f64).round() as u64;
    }
    let ids = session::unique_ids(named.iter().map(|(n, _, _)| n.as_str()));
    Ok(named
        .into_iter()
        .zip(ids)
        .zip(offsets)
        .map(|(((name, source, channel), id), offset_samples)| Plan { name, id, source, channel, offset_samples })
        .collect())
}

fn check_out(out: &Path) -> Result<(), ImportError> {
    if out.join(session::ROOM_FILE).exists() {
        return Err(ImportError::OutHoldsSession(out.to_path_buf()));
    }
    if out.exists() {
        let empty = out.is_dir() && fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty {
            return Err(ImportError::OutNotEmpty(out.to_path_buf()));
        }
    }
    Ok(())
}

fn open_input(path: &Path, speaker: usize, channel: Option<usize>) -> Result<Input, ImportError> {
    if is_ogg_opus(path)? {
        let reader =
            TrackReader::open(path).map_err(|source| ImportError::Track { path: path.to_path_buf(), source })?;
        return Ok(Input::Opus { speaker, reader: Box::new(reader) });
    }
    let decoder = FileDecoder::open(path)?;
    Ok(Input::Audio { decoder, targets: vec![(speaker, channel)] })
}

fn input_ms(input: &Input) -> u64 {
    match input {
        Input::Audio { decoder, .. } => {
            decoder.info.frames.map(|f| f * 1000 / decoder.info.sample_rate.max(1) as u64).unwrap_or(0)
        }
        Input::Opus { .. } => 0,
    }
}

fn create_track(dir: &Path, plan: &Plan) -> Result<(PathBuf, BufWriter<File>), ImportError> {
    let path = dir.join(track_rel(&plan.id));
    let file = File::create(&path).map_err(|e| ImportError::OutNotWritable { path: path.clone(), source: e })?;
    Ok((path, BufWriter::new(file)))
}

fn tags_for(vendor: &str, title: &str, plan: &Plan) -> OpusTags {
    OpusTags::new(vendor)
        .with("TITLE", title)
        .with("ARTIST", plan.name.clone())
        .with("ROOMCAST_SPEAKER", plan.id.clone())
}

fn run_input(
    input: Input,
    plans: &[Plan],
    dir: &Path,
    req: &ImportRequest,
    title: &str,
    progress: &dyn Progress,
) -> Result<Vec<Done>, ImportError> {
    match input {
        Input::Opus { speaker, reader } => Ok(vec![copy_opus(*reader, &plans[speaker], speaker, dir, title)?]),
        Input::Audio { decoder, targets } => {
            let rate = decoder.info.sample_rate;
            let mut lanes = Vec::new();
            for &(speaker, channel) in &targets {
                let plan = &plans[speaker];
                let (path, out) = create_track(dir, plan)?;
                let tags = tags_for(opus::version(), title, plan);
                let enc = VoiceEncoder::new(out, req.bitrate, plan.offset_samples, tags, speaker as u32 + 1)
                    .map_err(|source| ImportError::Encode { path: path.clone(), source })?;
                lanes.push((speaker, channel, path, To48k::new(rate), enc));
            }
            let mut mono = Vec::new();
            let mut resampled = Vec::new();
            let mut reported = 0u64;
            let mut frames = 0u64;
            let skipped = decoder.run(|planes| {
                for (_, channel, path, resampler, enc) in lanes.iter_mut() {
                    let input: &[f32] = match channel {
                        Some(c) => &planes[*c],
                        None => {
                            downmix(planes, &mut mono);
                            &mono
                        }
                    };
                    resampled.clear();
                    resampler.push(input, &mut resampled);
                    enc.push(&resampled).map_err(|source| ImportError::Encode { path: path.clone(), source })?;
                }
                frames += planes.first().map(|p| p.len()).unwrap_or(0) as u64;
                let ms = frames * 1000 / rate as u64;
                progress.advance(ms - reported);
                reported = ms;
                Ok::<(), ImportError>(())
            })?;
            let mut done = Vec::new();
            for (speaker, _, path, mut resampler, mut enc) in lanes {
                resampled.clear();
                resampler.finish(&mut resampled);
                let wrap = |source| ImportError::Encode { path: path.clone(), source };
                enc.push(&resampled).map_err(wrap)?;
                let end = plans[speaker].offset_samples + enc.samples;
                let track = enc.finish().map_err(wrap)?;
                done.push(Done { speaker, track, end, method: "encoded", skipped });
            }
            Ok(done)
        }
    }
}

/// Copies an Ogg Opus file packet for packet, shifted to start at the speaker's offset.
fn copy_opus(
    mut reader: TrackReader<std::io::BufReader<File>>,
    plan: &Plan,
    speaker: usize,
    dir: &Path,
    title: &str,
) -> Result<Done, ImportError> {
    let source = plan.source.clone();
    let track_err = |source_path: &Path| {
        let p = source_path.to_path_buf();
        move |source| ImportError::Track { path: p, source }
    };
    // Silence frames come in whole 20 ms frames; the pre-skip absorbs the remainder, so the first
    // sample still lands exactly on the offset: room = stream - pre_skip.
    let frames = plan.offset_samples.div_ceil(FRAME_20MS);
    let lead = frames * FRAME_20MS;
    let pre_skip = reader.head.pre_skip as u64 + lead - plan.offset_samples;
    let pre_skip = u16::try_from(pre_skip).map_err(|_| {
        AudioError::corrupt(&source, &format!("pre-skip of {} samples is out of range", reader.head.pre_skip))
    })?;
    let head = OpusHead { pre_skip, ..reader.head.clone() };
    let (path, out) = create_track(dir, plan)?;
    let vendor = reader.tags.vendor.clone();
    let mut track = TrackWriter::new(out, &head, &tags_for(&vendor, title, plan), speaker as u32 + 1)
        .map_err(|e| ImportError::Track { path: path.clone(), source: e.into() })?;
    track.fill_silence_to(lead).map_err(track_err(&path))?;
    let mut packets = 0u64;
    while let Some(p) = reader.next_packet().map_err(track_err(&source))? {
        track.write_at(lead + p.start, &p.data).map_err(track_err(&path))?;
        packets += 1;
    }
    // A recording cut off by a crash or with a damaged page is still worth importing: what reads is
    // kept, in place (pages' granules keep the timing), and the damage is reported.
    let damage = reader.damage();
    let skipped = damage.bad_crc_pages + reader.lost_packets();
    if damage != Default::default() {
        tracing::warn!(file = %source.display(), ?damage, "imported a damaged Ogg Opus file up to its damage");
    }
    let audio = reader.end().saturating_sub(reader.head.pre_skip as u64);
    if packets == 0 || audio == 0 {
        return Err(AudioError::NoAudio(source).into());
    }
    Ok(Done {
        speaker,
        track,
        end: plan.offset_samples + audio,
        method: "copied",
        skipped: skipped + damage.truncated as u64,
    })
}
