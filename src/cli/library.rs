//! The library commands: publish, index, import-transcript, search, rooms, show, remove, play.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use roomcast::library::{self, Access, Catalog, Hit, Output, SearchQuery, search};
use roomcast::master::{self, MixSettings};
use roomcast::session::Session;
use roomcast::transcript::{self as t, export::ExportFormat, models::ModelError, run};

use super::args;
use super::print_json;
use super::progress::TermProgress;

#[derive(Args)]
pub struct PublishArgs {
    /// Session folder.
    session: PathBuf,
    /// Master formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "mp3,opus")]
    format: Vec<super::FormatArg>,
    /// Do not transcribe: master and index the room's metadata (and any transcript it already has).
    #[arg(long)]
    skip_transcribe: bool,
    /// Whisper model: a name (tiny.en, base, ...) or a path to a ggml .bin file.
    #[arg(long, default_value = roomcast::transcript::models::DEFAULT_MODEL, env = "ROOMCAST_MODEL")]
    model: String,
    /// Language code (en, de, ...), or auto to detect it per speaker.
    #[arg(long, default_value = "auto")]
    language: String,
}

#[derive(Args)]
pub struct SearchArgs {
    /// What to look for: words, pod* (prefix), "a phrase" (quote it for the shell too), AND, OR,
    /// NOT, NEAR(word1 word2, 5).
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    query: Vec<String>,
    /// Only what this speaker said (name in any case, or id).
    #[arg(long)]
    speaker: Option<String>,
    /// Only this room (id, title or the start of its id).
    #[arg(long)]
    room: Option<String>,
    /// Only rooms started on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Only rooms started on or before this date (YYYY-MM-DD includes the whole day).
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// At most this many hits, best first.
    #[arg(long, default_value_t = 10)]
    limit: usize,
}

#[derive(Args)]
pub struct PlayArgs {
    /// Room id, title or the start of its id.
    room: String,
    /// Where to start: seconds or [h:]mm:ss on the room clock.
    #[arg(long, default_value = "0", value_parser = args::time)]
    at: f64,
    /// Play this speaker's own track instead of the master.
    #[arg(long)]
    speaker: Option<String>,
    /// Print the player command instead of running it.
    #[arg(long)]
    print: bool,
}

#[derive(Args)]
pub struct ImportTranscriptArgs {
    /// Session folder.
    session: PathBuf,
    /// A WebVTT (<v Name> tags), SRT (Name: prefixes), Podcasting 2.0 JSON or roomcast JSON transcript.
    file: PathBuf,
    /// Add speakers the room does not know instead of refusing.
    #[arg(long)]
    add_speakers: bool,
    /// Replace a transcript the session already has.
    #[arg(long)]
    replace: bool,
}

fn open(dir: &Path, access: Access) -> Result<Box<dyn Catalog>> {
    Ok(library::open(dir, access)?)
}

/// `h:mm:ss`, how room times are shown and typed.
pub fn hms(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[derive(Serialize)]
struct PublishReport {
    room: String,
    title: String,
    library: PathBuf,
    transcribed: bool,
    /// Why there is no new transcript, when there is none.
    transcript_note: Option<String>,
    index: library::IndexReport,
    outputs: Vec<Output>,
}

/// The main job in one command: master, transcribe, export, index. Each step says its name when
/// it fails; the library changes only in the last step, in one transaction.
pub fn publish(a: PublishArgs, dir: &Path, json: bool, progress: &TermProgress) -> Result<()> {
    let step = |n: usize, name: &str| format!("publish step {n} of 4 ({name}) failed");
    let session = Session::open(&a.session)?;
    // Before any work: a library that cannot be written is said at once.
    let mut lib = open(dir, Access::Write).with_context(|| step(4, "index"))?;
    let settings = MixSettings { formats: super::master_formats(&a.format), ..Default::default() };
    let mastered = master::mix(&session, &settings, progress).with_context(|| step(1, "master"))?;
    if !json {
        println!("1/4 mastered: {:.1} LUFS, {} file(s)", mastered.integrated_lufs, mastered.outputs.len());
    }
    let mut note = None;
    let mut transcribed = false;
    if a.skip_transcribe {
        note = Some("skipped (--skip-transcribe)".to_string());
    } else {
        let options = run::TranscribeOptions {
            model: a.model.clone(),
            vad_model: t::models::DEFAULT_VAD.into(),
            language: Some(a.language.clone()).filter(|l| l != "auto"),
            threads: None,
        };
        match run::transcribe(&session, &options, progress) {
            Ok((segments, report)) => {
                let doc = run::document(&session, segments, &report);
                t::export::write(&doc, &session.dir, &ExportFormat::ALL).with_context(|| step(3, "export"))?;
                transcribed = true;
                if !json {
                    println!("2/4 transcribed: {} segments in {} windows", doc.segments.len(), report.windows);
                    println!("3/4 exported: vtt, srt, json, podcast-json, txt, html");
                }
            }
            // No model installed: publishing still masters and indexes, and says how to get one.
            Err(run::TranscribeError::Model(e @ ModelError::Missing { .. })) => {
                let msg = format!("not transcribed: {e}");
                eprintln!("roomcast: {msg}");
                note = Some(msg);
            }
            Err(e) => return Err(anyhow::Error::new(e).context(step(2, "transcribe"))),
        }
    }
    let (index, outputs) = index_session(&mut lib, &session).with_context(|| step(4, "index"))?;
    let report = PublishReport {
        room: session.room.id.clone(),
        title: session.room.title.clone(),
        library: lib.dir().to_path_buf(),
        transcribed,
        transcript_note: note,
        index,
        outputs,
    };
    if json {
        return print_json(&report);
    }
    println!(
        "4/4 indexed '{}' ({}) into {}: {} speakers, {} segments{}",
        report.title,
        report.room,
        report.library.display(),
        report.index.speakers,
        report.index.segments,
        if report.index.replaced { " (replacing the earlier index)" } else { "" }
    );
    for o in &report.outputs {
        println!("  -> {} ({:.1} MB)", o.path.display(), o.bytes as f64 / 1e6);
    }
    Ok(())
}

/// Indexes a session as it stands: its metadata, the transcript it holds, the outputs in its folder.
pub fn index_session(lib: &mut dyn Catalog, session: &Session) -> Result<(library::IndexReport, Vec<Output>)> {
    let transcript = run::read_document(&session.dir)?;
    let outputs = library::index::outputs_of(&session.dir);
    let report = lib.index_room(session, transcript.as_ref(), &outputs)?;
    Ok((report, outputs))
}

/// Indexes whatever the session holds (metadata, transcript, outputs).
pub fn index(session: &Path, dir: &Path, json: bool) -> Result<()> {
    let session = Session::open(session)?;
    let mut lib = open(dir, Access::Write)?;
    let (report, _) = index_session(&mut lib, &session)?;
    if json {
        return print_json(&report);
    }
    println!(
        "Indexed '{}' ({}): {} speakers, {} segments, {} words{}",
        report.title,
        report.room,
        report.speakers,
        report.segments,
        report.words,
        if report.segments == 0 { " (no transcript yet)" } else { "" }
    );
    Ok(())
}

/// Attaches a transcript made elsewhere to a session and indexes the room.
pub fn import_transcript(a: ImportTranscriptArgs, dir: &Path, json: bool) -> Result<()> {
    let session = Session::open(&a.session)?;
    let file = a.file.display().to_string();
    let text = std::fs::read_to_string(&a.file).with_context(|| file.clone())?;
    let segments = t::import::parse(&text).with_context(|| file.clone())?;
    let doc = t::import::attach(&session.room, segments, a.add_speakers).with_context(|| file.clone())?;
    let target = session.dir.join(t::TRANSCRIPT_FILE);
    if target.exists() && !a.replace {
        bail!("{}: the session already has a transcript; add --replace to replace it", target.display());
    }
    let mut lib = open(dir, Access::Write)?;
    t::export::write(&doc, &session.dir, &ExportFormat::ALL)?;
    let report = lib.index_room(&session, Some(&doc), &library::index::outputs_of(&session.dir))?;
    if json {
        return print_json(&report);
    }
    println!(
        "Attached {} to '{}': {} segments from {} speakers; indexed",
        a.file.display(),
        session.room.title,
        report.segments,
        doc.speakers.len()
    );
    Ok(())
}

pub fn search(a: SearchArgs, dir: &Path, json: bool) -> Result<()> {
    let lib = open(dir, Access::Read)?;
    let query = SearchQuery {
        text: a.query.join(" "),
        speaker: a.speaker,
        room: a.room,
        since: a.since.as_deref().map(|d| library::parse_date(d, false)).transpose()?,
        until: a.until.as_deref().map(|d| library::parse_date(d, true)).transpose()?,
        limit: a.limit,
        include_private: true,
    };
    let hits = lib.search(&query)?;
    if json {
        return print_json(&hits);
    }
    if hits.is_empty() {
        println!("No matches for {}.", query.text);
        return Ok(());
    }
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for hit in &hits {
        print_hit(hit, colour);
    }
    Ok(())
}

pub(super) fn print_hit(hit: &Hit, colour: bool) {
    let (on, off, dim, plain) =
        if colour { ("\x1b[1;33m", "\x1b[0m", "\x1b[2m", "\x1b[0m") } else { ("[", "]", "", "") };
    let snippet = hit.snippet.replace(search::MATCH_START, on).replace(search::MATCH_END, off);
    println!(
        "{} · {} · {} · {}",
        hit.title,
        hit.started_at.get(..10).unwrap_or(&hit.started_at),
        hit.name,
        hms(hit.at)
    );
    println!("    {snippet}");
    let file = hit.replay.as_ref().map(|p| format!(" ({} at {:.1} s)", p.display(), hit.at)).unwrap_or_default();
    println!("    {dim}replay: roomcast play {} --at {}{file}{plain}", hit.room, hms(hit.at));
}

pub fn rooms(dir: &Path, json: bool) -> Result<()> {
    let lib = open(dir, Access::Read)?;
    let rooms = lib.rooms(true)?;
    if json {
        return print_json(&rooms);
    }
    if rooms.is_empty() {
        println!("The library at {} has no rooms yet; add one with: roomcast publish SESSION", lib.dir().display());
        return Ok(());
    }
    for r in &rooms {
        let names: Vec<&str> = r.speakers.iter().map(|s| s.name.as_str()).collect();
        let mut kinds: Vec<String> =
            r.outputs.iter().filter_map(|o| o.path.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
        kinds.sort();
        println!(
            "{}  {}  {:>8}  {}{}\n    speakers: {}\n    outputs: {}",
            r.id,
            r.started_at.get(..16).unwrap_or(&r.started_at).replace('T', " "),
            hms(r.duration),
            r.title,
            if r.private { " (private)" } else { "" },
            names.join(", "),
            if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") }
        );
    }
    Ok(())
}

pub fn show(room: &str, dir: &Path, json: bool) -> Result<()> {
    let lib = open(dir, Access::Read)?;
    let r = lib.find_room(room, true)?;
    if json {
        return print_json(&r);
    }
    println!("{} ({})", r.title, r.id);
    println!("  started   {}", r.started_at);
    println!("  length    {}   status {}{}", hms(r.duration), r.status, if r.private { "   private" } else { "" });
    println!("  session   {}", r.session.display());
    println!("  segments  {}", r.segments);
    for s in &r.speakers {
        println!(
            "  {:<16} {}{}",
            s.name,
            s.track.as_deref().unwrap_or("(transcript only)"),
            s.language.as_deref().map(|l| format!("  language {l}")).unwrap_or_default()
        );
    }
    for o in &r.outputs {
        println!("  -> {} ({:.1} MB)", o.path.display(), o.bytes as f64 / 1e6);
    }
    Ok(())
}

/// Takes a room out of the library and deletes its session folder, but only a folder that really
/// is that room's session (room.json with the room's id): a stale path never costs other files.
pub fn remove(room: &str, keep_files: bool, dir: &Path, json: bool) -> Result<()> {
    let mut lib = open(dir, Access::Write)?;
    let r = lib.find_room(room, true)?;
    let session = lib.remove_room(&r.id)?;
    let is_that_session = Session::open(&session).is_ok_and(|s| s.room.id == r.id);
    // A session folder that holds the library itself (a library made inside the room's folder)
    // is never deleted with the room: that would delete every other room's catalog too.
    let holds_library = match (session.canonicalize(), dir.canonicalize()) {
        (Ok(session), Ok(library)) => library.starts_with(&session),
        _ => true,
    };
    let deleted = !keep_files && is_that_session && !holds_library;
    if deleted {
        std::fs::remove_dir_all(&session).with_context(|| format!("{}: removing the session", session.display()))?;
    }
    if json {
        return print_json(&serde_json::json!({"room": r.id, "session": session, "files_deleted": deleted,
            "holds_library": holds_library && is_that_session}));
    }
    println!("Removed '{}' ({}) from the library.", r.title, r.id);
    if deleted {
        println!("  deleted {}", session.display());
    } else if !keep_files && holds_library && is_that_session {
        println!("  {} holds the library itself; left its files alone", session.display());
    } else if !keep_files {
        println!("  {} is no longer that room's session; left it alone", session.display());
    }
    Ok(())
}

/// The players roomcast knows, in order of preference, and how each starts at a time.
fn player_command(player: &str, file: &Path, at: f64) -> Vec<String> {
    let file = file.display().to_string();
    match player {
        "mpv" => vec!["mpv".into(), "--no-video".into(), format!("--start={at:.2}"), file],
        "ffplay" => vec!["ffplay".into(), "-nodisp".into(), "-autoexit".into(), "-ss".into(), format!("{at:.2}"), file],
        _ => vec!["cvlc".into(), "--play-and-exit".into(), format!("--start-time={at:.2}"), file],
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

pub fn play(a: PlayArgs, dir: &Path, json: bool) -> Result<()> {
    let lib = open(dir, Access::Read)?;
    let r = lib.find_room(&a.room, true)?;
    if a.at > r.duration + 0.5 {
        bail!("--at {}: the room is only {} long", hms(a.at), hms(r.duration));
    }
    let file = r.replay_file(a.speaker.as_deref()).with_context(|| match &a.speaker {
        Some(s) => format!("room '{}' has no track for speaker '{s}'", r.id),
        None => {
            format!("room '{}' has no master or track to play; run: roomcast publish {}", r.id, r.session.display())
        }
    })?;
    if !file.is_file() {
        bail!("{}: missing (the room's files were moved or deleted)", file.display());
    }
    let player = ["mpv", "ffplay", "cvlc"].into_iter().find(|p| on_path(p));
    let command = player_command(player.unwrap_or("ffplay"), &file, a.at);
    if json {
        return print_json(&serde_json::json!({"file": file, "at": a.at, "player": player, "command": command}));
    }
    let shown = command.iter().map(|c| shell_quote(c)).collect::<Vec<_>>().join(" ");
    if a.print || player.is_none() {
        if player.is_none() {
            eprintln!("roomcast: no player found (mpv, ffplay or vlc); play it with:");
        }
        println!("{shown}");
        return Ok(());
    }
    eprintln!("Playing {} from {} ({shown})", r.title, hms(a.at));
    let status = std::process::Command::new(&command[0]).args(&command[1..]).status().with_context(|| shown.clone())?;
    if !status.success() {
        bail!("{shown}: the player exited with {status}");
    }
    Ok(())
}

fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
