//! The library commands: publish, index, import-transcript, search, rooms, show, remove, play.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use roomcast::app::{self, PublishStep};
use roomcast::library::{self, Access, Catalog, Hit, SearchQuery, search};

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
    /// [default: $ROOMCAST_MODEL, else tiny.en]
    #[arg(long)]
    model: Option<String>,
    /// Language code (en, de, ...), or auto to detect it per speaker.
    #[arg(long, default_value = "auto")]
    language: String,
    /// Put the work in the library's job queue for `roomcast worker` instead of doing it here.
    #[arg(long)]
    queue: bool,
    /// Keep this room DAYS days after it ended (or `forever`), whatever the library's retention.
    #[arg(long, value_name = "DAYS", value_parser = args::keep_days)]
    keep: Option<app::edit::Keep>,
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

/// The main job in one command: master, transcribe, export, index.
pub fn publish(a: PublishArgs, dir: &Path, json: bool, progress: &TermProgress) -> Result<()> {
    let options = app::PublishOptions {
        formats: super::master_formats(&a.format),
        skip_transcribe: a.skip_transcribe,
        model: a.model.unwrap_or_else(roomcast::transcript::models::default_model),
        language: a.language,
        room: None,
    };
    if a.queue {
        let queued = app::worker::enqueue_publish(&a.session, &options, dir)?;
        if let Some(keep) = a.keep {
            app::edit::set_room_keep(dir, &queued.job.room, keep)?;
        }
        if json {
            return print_json(&queued);
        }
        let (j, verb) = (&queued.job, if queued.created { "queued" } else { "already queued" });
        println!("{verb}: job {} publishes '{}' ({}); run `roomcast worker` to do it", j.id, j.room, j.state.name());
        return Ok(());
    }
    let report = app::publish(&a.session, &options, dir, progress, &mut |step| match step {
        PublishStep::Mastered(m) if !json => {
            println!("1/4 mastered: {:.1} LUFS, {} file(s)", m.integrated_lufs, m.outputs.len())
        }
        PublishStep::Transcribed { segments, windows } if !json => {
            println!("2/4 transcribed: {segments} segments in {windows} windows");
            println!("3/4 exported: vtt, srt, json, podcast-json, txt, html");
        }
        PublishStep::NotTranscribed { note, skipped: false } => eprintln!("roomcast: {note}"),
        _ => {}
    })?;
    if let Some(keep) = a.keep {
        app::edit::set_room_keep(dir, &report.room, keep)?;
    }
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

/// Indexes whatever the session holds (metadata, transcript, outputs).
pub fn index(session: &Path, dir: &Path, json: bool) -> Result<()> {
    let report = app::index(session, dir)?;
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
    let attached = app::attach_transcript(&a.session, &a.file, a.add_speakers, a.replace, dir)?;
    if json {
        let mut value = serde_json::to_value(&attached.index)?;
        value["clamped"] = attached.clamped.into();
        return print_json(&value);
    }
    println!(
        "Attached {} to '{}': {} segments from {} speakers; indexed",
        a.file.display(),
        attached.doc.title,
        attached.index.segments,
        attached.doc.speakers.len()
    );
    if attached.clamped > 0 {
        println!("  {} cue(s) ran past the room's end and were cut at it", attached.clamped);
    }
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
    let colour = std::io::stdout().is_terminal() && roomcast::env::var_os("NO_COLOR").is_none();
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
        "{} · {} · {} · {}{}",
        hit.title,
        hit.started_at.get(..10).unwrap_or(&hit.started_at),
        hit.name,
        hms(hit.at),
        if hit.live_caption { " · live caption" } else { "" }
    );
    println!("    {snippet}");
    let file = hit.replay.as_ref().map(|p| format!(" ({} at {:.1} s)", p.display(), hit.at)).unwrap_or_default();
    println!("    {dim}replay: roomcast play {} --at {}{file}{plain}", hit.room, hms(hit.at));
}

pub fn rooms(dir: &Path, json: bool) -> Result<()> {
    let (library, rooms) = app::library::rooms(dir)?;
    if json {
        return print_json(&rooms);
    }
    if rooms.is_empty() {
        println!("The library at {} has no rooms yet; add one with: roomcast publish SESSION", library.display());
    }
    for listed in &rooms {
        let r = &listed.room;
        let mut kinds: Vec<String> =
            r.outputs.iter().filter_map(|o| o.path.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
        kinds.sort();
        let live = match (r.status.as_str(), r.live_captions) {
            ("recording", _) => "  LIVE",
            (_, true) => "  (live captions, not transcribed yet)",
            _ => "",
        };
        println!(
            "{}  {}  {:>8}  {}{}{live}\n    speakers: {}\n    outputs: {}\n    {}",
            r.id,
            r.started_at.get(..16).unwrap_or(&r.started_at).replace('T', " "),
            hms(r.duration),
            r.title,
            if r.private { " (private)" } else { "" },
            listed.people().join(", "),
            if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") },
            super::edit::keeping(&listed.retention)
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

/// Takes a room out of the library and deletes its session folder (when that is safe).
pub fn remove(room: &str, keep_files: bool, dir: &Path, json: bool) -> Result<()> {
    let r = app::library::remove(room, keep_files, dir)?;
    if json {
        return print_json(&serde_json::json!({"room": r.room, "session": r.session, "files_deleted": r.files_deleted,
            "holds_library": r.holds_library, "stale_sites": r.stale_sites}));
    }
    println!("Removed '{}' ({}) from the library.", r.title, r.room);
    if r.files_deleted {
        println!("  deleted {}", r.session.display());
    } else if !keep_files && r.holds_library {
        println!("  {} holds the library itself; left its files alone", r.session.display());
    } else if !keep_files {
        println!("  {} is no longer that room's session; left it alone", r.session.display());
    }
    super::edit::stale_sites(&r.stale_sites);
    Ok(())
}

pub fn play(a: PlayArgs, dir: &Path, json: bool) -> Result<()> {
    let replay = app::library::replay(&a.room, a.at, a.speaker.as_deref(), dir)?;
    if json {
        return print_json(&replay);
    }
    let shown = replay.command.iter().map(|c| app::library::shell_quote(c)).collect::<Vec<_>>().join(" ");
    if a.print || replay.player.is_none() {
        if replay.player.is_none() {
            eprintln!("roomcast: no player found (mpv, ffplay or vlc); play it with:");
        }
        println!("{shown}");
        return Ok(());
    }
    eprintln!("Playing {} from {} ({shown})", replay.title, hms(a.at));
    let status = std::process::Command::new(&replay.command[0])
        .args(&replay.command[1..])
        .status()
        .with_context(|| shown.clone())?;
    if !status.success() {
        bail!("{shown}: the player exited with {status}");
    }
    Ok(())
}
