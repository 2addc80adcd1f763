//! Fixing a published room: `speakers`, `redact`, `clip`, `chapter`; and keeping rooms:
//! `retention`, `expire`.

use std::path::Path;

use anyhow::Result;
use clap::Args;

use roomcast::app::edit::{self, Change, EditReport, Keep, Retention};

use super::args;
use super::print_json;
use super::progress::TermProgress;

#[derive(Args)]
pub struct SpeakersArgs {
    /// Room id, title or the start of its id.
    room: String,
    /// Rename a speaker: OLD=NEW (OLD: their name as shown, any case, or their id).
    #[arg(long, value_name = "OLD=NEW", conflicts_with_all = ["merge", "withdraw"])]
    rename: Option<String>,
    /// Make several speakers one person: A,B=NAME (someone who rejoined under another name).
    #[arg(long, value_name = "A,B=NAME", conflicts_with = "withdraw")]
    merge: Option<String>,
    /// Remove a speaker who withdrew consent: their track is deleted, their words and audio leave
    /// the transcript, the index and the master.
    #[arg(long, value_name = "NAME")]
    withdraw: Option<String>,
}

#[derive(Args)]
pub struct RedactArgs {
    /// Room id, title or the start of its id.
    room: String,
    /// Only this speaker's words and audio (without --from/--to: all of them).
    #[arg(long, value_name = "NAME")]
    speaker: Option<String>,
    /// Start of the span (seconds, or [h:]mm:ss).
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    from: Option<f64>,
    /// End of the span.
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    to: Option<f64>,
}

#[derive(Args)]
pub struct ClipArgs {
    /// Room id, title or the start of its id.
    room: String,
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    from: f64,
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    to: f64,
    /// What the soundbite is, as podcast apps show it.
    #[arg(long)]
    title: String,
}

#[derive(Args)]
pub struct ChapterArgs {
    /// Room id, title or the start of its id.
    room: String,
    /// Where the chapter starts (seconds, or [h:]mm:ss).
    #[arg(long, value_name = "TIME", value_parser = args::time)]
    at: f64,
    /// The chapter's title.
    title: String,
}

#[derive(Args)]
pub struct RetentionArgs {
    /// Room id, title or the start of its id; without one, the whole library.
    room: Option<String>,
    /// Keep for this many days after the room ended, or `forever`. Without it: show each room's.
    #[arg(long, value_name = "DAYS", value_parser = args::keep_days)]
    keep: Option<Keep>,
}

pub fn speakers(a: SpeakersArgs, lib: &Path, json: bool, progress: &TermProgress) -> Result<()> {
    let change = if let Some(r) = &a.rename {
        let (from, to) = args::rename(r)?;
        Change::Rename { from: vec![from], to, merge: false }
    } else if let Some(m) = &a.merge {
        let (from, to) = args::merge(m)?;
        Change::Rename { from, to, merge: true }
    } else if let Some(w) = a.withdraw {
        Change::Withdraw { speaker: w }
    } else {
        return list_speakers(&a.room, lib, json);
    };
    report(edit::edit(lib, &a.room, &change, progress)?, json)
}

fn list_speakers(room: &str, lib: &Path, json: bool) -> Result<()> {
    let r = roomcast::library::open(lib, roomcast::library::Access::Read)?.find_room(room, true)?;
    if json {
        return print_json(&r.speakers);
    }
    println!("{} ({})", r.title, r.id);
    for s in &r.speakers {
        println!("  {:<24} id {}", s.name, s.id);
    }
    Ok(())
}

pub fn redact(a: RedactArgs, lib: &Path, json: bool, progress: &TermProgress) -> Result<()> {
    let change = Change::Redact { speaker: a.speaker, from: a.from, to: a.to };
    report(edit::edit(lib, &a.room, &change, progress)?, json)
}

pub fn clip(a: ClipArgs, lib: &Path, json: bool, progress: &TermProgress) -> Result<()> {
    report(edit::edit(lib, &a.room, &Change::Clip { from: a.from, to: a.to, title: a.title }, progress)?, json)
}

pub fn chapter(a: ChapterArgs, lib: &Path, json: bool, progress: &TermProgress) -> Result<()> {
    report(edit::edit(lib, &a.room, &Change::Chapter { at: a.at, title: a.title }, progress)?, json)
}

fn report(r: EditReport, json: bool) -> Result<()> {
    if json {
        return print_json(&r);
    }
    println!("{} ({}): {}", r.title, r.room, r.change);
    if r.words_removed > 0 {
        println!("  {} word(s) taken out of the transcript, every export and the index", r.words_removed);
    }
    if r.remixed {
        println!("  master mixed again");
    }
    for d in &r.deleted {
        println!("  deleted {}", d.display());
    }
    println!("  indexed: {} segment(s), {} file(s) published", r.index.segments, r.outputs.len());
    stale_sites(&r.stale_sites);
    Ok(())
}

/// The static sites that still show what changed, and the command that brings each up to date.
pub fn stale_sites(sites: &[roomcast::app::feed::StaticSite]) {
    for s in sites {
        println!(
            "  the static site in {} still has the old version: run roomcast feed --out {} --base-url {}",
            s.dir.display(),
            roomcast::app::library::shell_quote(&s.dir.display().to_string()),
            roomcast::app::library::shell_quote(&s.base_url)
        );
    }
}

pub fn retention(a: RetentionArgs, lib: &Path, json: bool) -> Result<()> {
    let list = match a.keep {
        Some(keep) => edit::set_keep(lib, a.room.as_deref(), keep)?,
        None => edit::retentions(lib)?,
    };
    if json {
        return print_json(&list);
    }
    for r in &list {
        println!("{}", retention_line(r));
    }
    Ok(())
}

/// `ROOM  kept 30 days (library): expires 2026-12-31T18:01:20Z`.
pub fn retention_line(r: &Retention) -> String {
    format!("{}  {}", r.room, keeping(r))
}

/// How long a room is kept, in words.
pub fn keeping(r: &Retention) -> String {
    match (r.keep_days, &r.expires_at) {
        (Some(d), Some(at)) => format!(
            "kept {d} day(s) ({}): {} {at}",
            r.from.unwrap_or("library"),
            if r.expired { "EXPIRED at" } else { "expires" }
        ),
        _ => format!("kept for ever{}", if r.from == Some("room") { " (room)" } else { "" }),
    }
}

pub fn expire(dry_run: bool, lib: &Path, json: bool) -> Result<()> {
    let report = edit::expire(lib, dry_run)?;
    let refused = report.rooms.iter().filter(|r| r.not_removed.is_some()).count();
    if json {
        print_json(&report)?;
    } else {
        if report.rooms.is_empty() {
            println!("No room has expired.");
        }
        for r in &report.rooms {
            match &r.not_removed {
                None => println!(
                    "{} {}  ({})",
                    if dry_run { "would remove" } else { "removed" },
                    r.retention.room,
                    keeping(&r.retention)
                ),
                Some(why) => println!("not removed {}: {why}", r.retention.room),
            }
        }
        stale_sites(&report.stale_sites);
    }
    if refused > 0 {
        anyhow::bail!("{refused} expired room(s) not removed (the reason is above)");
    }
    Ok(())
}
