//! The live commands: record, speak, recover, demo.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};

use roomcast::app::demo::DemoRequest;
use roomcast::app::record::{Captioning, JanusMedia, RecordRequest, RoomSpec};
use roomcast::app::runtime::{runtime, stop_on_signals};
use roomcast::app::speak::SpeakRequest;
use roomcast::app::{self};
use roomcast::env;
use roomcast::live::janus::Credentials;
use roomcast::record::recover::recover as recover_session;
use roomcast::record::{self, RecordObserver};

use super::{args, clock, print_json};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Media {
    /// Janus forwards each publisher's audio to a local UDP port (needs the admin key or secret).
    RtpForward,
    /// A WebRTC subscriber, as a browser in the room would be (needs no admin rights).
    Webrtc,
}

#[derive(Args)]
pub struct RoomArgs {
    /// Room PIN (Janus rooms with a pin).
    #[arg(long)]
    pin: Option<String>,
    /// Room secret (Janus: needed to forward or to add publishers in protected rooms).
    /// [default: $ROOMCAST_ROOM_SECRET]
    #[arg(long)]
    secret: Option<String>,
    /// Janus VideoRoom admin key (needed for rtp_forward when the server locks it).
    /// [default: $ROOMCAST_JANUS_ADMIN_KEY]
    #[arg(long)]
    admin_key: Option<String>,
    /// Janus API token, when the server uses token authentication.
    /// [default: $ROOMCAST_JANUS_TOKEN]
    #[arg(long)]
    token: Option<String>,
}

impl RoomArgs {
    fn credentials(&self) -> Credentials {
        Credentials {
            pin: self.pin.clone(),
            secret: self.secret.clone().or_else(|| env::var(env::ROOM_SECRET)),
            admin_key: self.admin_key.clone().or_else(|| env::var(env::JANUS_ADMIN_KEY)),
            token: self.token.clone().or_else(|| env::var(env::JANUS_TOKEN)),
        }
    }
}

#[derive(Args)]
pub struct RecordArgs {
    /// The room: rtp://ADDRESS:PORT (plain RTP/Opus) or janus://HOST:PORT/ROOM (Janus VideoRoom).
    room: String,
    /// Session folder to create [default: LIBRARY/rooms/<date>-<title>, in the library].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Title of the recording [default: the planned room's title with --scheduled, else "Live
    /// room"].
    #[arg(long)]
    title: Option<String>,
    /// Record a room planned with `roomcast schedule`: it keeps the id and feed guid the feed
    /// announced (its `pending` live item turns `live`).
    #[arg(long, value_name = "ID")]
    scheduled: Option<String>,
    /// Stop after this long: SECONDS, mm:ss or h:mm:ss.
    #[arg(long, value_name = "DURATION", value_parser = args::time)]
    max_duration: Option<f64>,
    /// Stop once everyone who spoke has left (after a few seconds of an empty room).
    #[arg(long)]
    until_empty: bool,
    /// Name the speaker behind an SSRC (plain RTP): SSRC=NAME. SDES names are used otherwise.
    #[arg(long = "speaker", value_name = "SSRC=NAME", value_parser = ssrc_name)]
    speakers: Vec<(u32, String)>,
    /// How Janus audio reaches roomcast.
    #[arg(long, value_enum, default_value = "webrtc")]
    media: Media,
    /// Local address for the media: the WebRTC candidate (port ignored), or where Janus forwards to
    /// [default: ours on the route to Janus, any free port].
    #[arg(long, value_name = "ADDRESS:PORT")]
    listen: Option<SocketAddr>,
    /// When the room ends, queue its publishing for `roomcast worker` (master, transcribe, index).
    #[arg(long)]
    publish: bool,
    /// Reorder window (jitter buffer) in milliseconds.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    reorder_ms: u64,
    /// Caption every speaker while the room is on (captions.jsonl in the session; the room page
    /// shows them live). On by default when a whisper model is installed.
    #[arg(long, conflicts_with = "no_captions")]
    captions: bool,
    /// No live captions.
    #[arg(long)]
    no_captions: bool,
    /// Mix the room live for listeners outside it (HLS and a continuous MP3 stream through
    /// `roomcast serve`, announced in the feed). On by default when recording into the library.
    #[arg(long, conflicts_with = "no_live_mix")]
    live_mix: bool,
    /// No live mix.
    #[arg(long)]
    no_live_mix: bool,
    /// Whisper model for live captions: a name (tiny.en, base, ...) or a path [default:
    /// $ROOMCAST_MODEL, else tiny.en].
    #[arg(long)]
    model: Option<String>,
    #[command(flatten)]
    room_args: RoomArgs,
}

fn ssrc_name(s: &str) -> Result<(u32, String), String> {
    let (ssrc, name) = s.split_once('=').ok_or_else(|| format!("'{s}': expected SSRC=NAME"))?;
    let ssrc = ssrc.trim();
    let ssrc = match ssrc.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => ssrc.parse(),
    }
    .map_err(|_| format!("'{ssrc}' is not an SSRC (a 32-bit number)"))?;
    if name.trim().is_empty() {
        return Err(format!("'{s}': the name is empty"));
    }
    Ok((ssrc, name.trim().to_string()))
}

#[derive(Args)]
pub struct SpeakArgs {
    /// Audio to speak: Ogg Opus (sent as is) or any file `import` reads.
    file: PathBuf,
    /// Where: rtp://HOST:PORT, or janus://HOST:PORT/ROOM (joins as a remote publisher).
    #[arg(long, value_name = "URL")]
    to: String,
    /// Display name (SDES NAME for RTP, display name in Janus).
    #[arg(long, default_value = "roomcast speaker")]
    name: String,
    /// Send this many copies at once, each its own SSRC and name (load generation; rtp:// only).
    #[arg(long, default_value_t = 1)]
    streams: usize,
    /// Only the first SECONDS of the file.
    #[arg(long, value_name = "SECONDS", value_parser = args::time)]
    limit: Option<f64>,
    /// SSRC of the (first) stream [default: random].
    #[arg(long)]
    ssrc: Option<u32>,
    /// With --streams: stream k goes to PORT + 2k instead of all to PORT (one receiver per stream,
    /// as when comparing with one ffmpeg process per stream).
    #[arg(long, requires = "streams")]
    spread_ports: bool,
    #[command(flatten)]
    room_args: RoomArgs,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Where the demo room goes (replaced if it is an earlier demo room).
    #[arg(long, default_value = "demo-output/live-room", value_name = "DIR")]
    out: PathBuf,
    /// The sample conversation (one Ogg Opus file per speaker).
    #[arg(long, default_value = "samples/conversation", value_name = "DIR")]
    sample: PathBuf,
    /// Play only the first SECONDS of the sample.
    #[arg(long, value_name = "SECONDS", value_parser = args::time)]
    limit: Option<f64>,
    /// What the demo searches the library for once the room is published.
    #[arg(long, default_value = "loudness", value_name = "QUERY")]
    search: String,
}

/// The recorder's terminal: joined/left lines, and on a terminal a status line kept up to date.
struct Console {
    json: bool,
    tty: bool,
}

impl Console {
    fn new(json: bool) -> Self {
        use std::io::IsTerminal;
        Console { json, tty: !json && std::io::stderr().is_terminal() }
    }

    /// Clears the status line (before the final summary).
    fn done(&self) {
        if self.tty {
            eprint!("\r\x1b[K");
        }
    }

    /// A line of its own, clearing the status line first.
    fn line(&self, text: &str) {
        if self.json {
            return;
        }
        if self.tty {
            eprint!("\r\x1b[K");
        }
        eprintln!("{text}");
    }
}

impl RecordObserver for Console {
    fn ready(&self, at: &str) {
        tracing::info!("joined {at}");
        self.line(&format!("Recording {at} (Ctrl-C to stop)"));
    }
    fn status(&self, s: &record::LiveStatus) {
        if self.tty {
            // One line, cut to the terminal's usual width so it never wraps.
            let mut line = format!(
                "  {}  {} of {} speaker(s) in the room  {} packets  {} lost",
                clock(s.elapsed),
                s.present,
                s.speakers,
                s.packets,
                s.lost
            );
            for o in &s.outputs {
                line.push_str("  ");
                line.push_str(o);
            }
            let line: String = line.chars().take(160).collect();
            eprint!("\r\x1b[K{line}");
        }
    }
    fn joined(&self, name: &str, at: f64) {
        tracing::info!("{name} joined at {}", clock(at));
        self.line(&format!("  {} {name} joined", clock(at)));
    }
    fn left(&self, name: &str, at: f64) {
        tracing::info!("{name} left at {}", clock(at));
        self.line(&format!("  {} {name} left", clock(at)));
    }
    fn warning(&self, message: &str) {
        if self.tty {
            eprint!("\r\x1b[K");
        }
        eprintln!("roomcast: warning: {message}");
    }
}

pub fn record(a: RecordArgs, library_dir: &Path, json: bool) -> Result<()> {
    let request = RecordRequest {
        room: RoomSpec {
            url: a.room.clone(),
            media: match a.media {
                Media::Webrtc => JanusMedia::Webrtc,
                Media::RtpForward => JanusMedia::RtpForward,
            },
            listen: a.listen,
            credentials: a.room_args.credentials(),
        },
        out: a.out.clone(),
        title: a.title.clone().unwrap_or_else(|| "Live room".into()),
        title_is_default: a.title.is_none(),
        scheduled: a.scheduled.clone(),
        max_duration: a.max_duration.map(Duration::from_secs_f64),
        until_empty: a.until_empty,
        reorder: Duration::from_millis(a.reorder_ms),
        names: a.speakers.clone(),
        captions: match (a.captions, a.no_captions) {
            (true, _) => Captioning::On,
            (_, true) => Captioning::Off,
            _ => Captioning::IfInstalled,
        },
        model: a.model.clone(),
        live_mix: (a.live_mix || a.no_live_mix).then_some(a.live_mix),
    };
    let rt = runtime()?;
    let console = Console::new(json);
    let report = rt.block_on(async {
        let stop = stop_on_signals();
        app::record::record(request, library_dir, stop, &console).await
    });
    console.done();
    let report = report?;
    let queued = match a.publish {
        true => Some(app::worker::enqueue_publish(&report.session, &Default::default(), library_dir)?),
        false => None,
    };
    if json {
        // The record report, with the queued job (or null) beside its fields.
        let mut value = serde_json::to_value(&report)?;
        value["queued"] = serde_json::to_value(&queued)?;
        return print_json(&value);
    }
    println!(
        "Recorded {} ({}), stopped by {}: {} speaker(s) in {}",
        report.url,
        clock(report.duration),
        report.stopped_by,
        report.speakers.len(),
        report.session.display()
    );
    let n = &report.network;
    println!(
        "  network: {} packets, {} lost, {} late, {} duplicate, {} malformed, {} not Opus",
        n.packets, n.lost, n.late, n.duplicates, n.malformed, n.unsupported
    );
    for line in roomcast::app::record::output_summaries(&report) {
        println!("  {line}");
    }
    match queued {
        Some(q) => println!("Queued: job {} publishes it; run `roomcast worker` to do it", q.job.id),
        None => println!("Next: roomcast mix {}", report.session.display()),
    }
    Ok(())
}

pub fn recover(dir: &Path, json: bool) -> Result<()> {
    let report = recover_session(dir)?;
    if json {
        return print_json(&report);
    }
    println!("Recovered {} ({}), marked interrupted", report.session.display(), clock(report.duration));
    for t in &report.tracks {
        let notes = t.notes();
        let notes = if notes.is_empty() { String::new() } else { format!("  [{}]", notes.join("; ")) };
        println!("  {:<16} {} packets, readable to {}{notes}", t.speaker, t.packets, clock(t.readable_to));
    }
    Ok(())
}

pub fn speak(a: SpeakArgs, json: bool) -> Result<()> {
    let request = SpeakRequest {
        file: a.file,
        to: a.to,
        name: a.name,
        streams: a.streams,
        limit: a.limit,
        ssrc: a.ssrc,
        spread_ports: a.spread_ports,
        credentials: a.room_args.credentials(),
    };
    let report = app::speak::speak(&request, &mut |line| {
        if !json {
            eprintln!("{line}");
        }
    })?;
    if json {
        return print_json(&report);
    }
    println!(
        "Sent {} packets in {:.1} s ({} stream(s)); worst lateness {:.1} ms",
        report.packets_sent, report.seconds, report.streams, report.worst_lateness_ms
    );
    Ok(())
}

pub fn demo(a: DemoArgs, library_dir: &Path, json: bool) -> Result<()> {
    let request = DemoRequest {
        out: a.out,
        sample: a.sample,
        limit: a.limit,
        search: a.search,
        model: roomcast::env::var(roomcast::env::MODEL),
    };
    let console = Console::new(json);
    let result = app::demo::demo(&request, library_dir, &console, &mut |start| {
        if !json {
            eprintln!(
                "Demo: {} speakers play the sample into a loopback room (rtp://{}) in real time ({}), recorded live",
                start.speakers,
                start.room,
                clock(start.duration)
            );
        }
    });
    console.done();
    let d = result?;
    if json {
        return print_json(&d);
    }
    println!("Recorded the demo room into {} ({}):", d.record.session.display(), clock(d.record.duration));
    for s in &d.session.room.speakers {
        let joined = s.intervals.first().map(|i| i.start).unwrap_or(0.0);
        println!("  {:<8} joined at {}  {}", s.name, clock(joined), d.session.track_path(s).display());
    }
    let n = &d.record.network;
    println!("  network: {} packets received, {} lost, {} late", n.packets, n.lost, n.late);
    println!("  events:  {}", d.session.events_path().display());
    for o in &d.mix.outputs {
        println!(
            "  master:  {} ({:.1} LUFS, {:.1} dBTP)",
            o.file.path.display(),
            o.measured.integrated_lufs,
            o.measured.true_peak_dbtp
        );
    }
    println!("  transcript: {}", d.transcript.note);
    for s in &d.transcript.scores {
        println!(
            "    {:<8} WER {:>5.1} % against the script ({} of {} words), {} word(s) on the wrong speaker",
            s.name,
            s.wer * 100.0,
            s.errors,
            s.reference_words,
            s.wrong_speaker
        );
    }
    println!("  library: published into {} ({} segments indexed)", d.library.display(), d.index.segments);
    println!("Searching the library for \"{}\":", request.search);
    for hit in &d.search {
        super::library::print_hit(hit, false);
    }
    println!("Listen to the master, or open the tracks in any DAW: they line up on the room clock.");
    let exe = std::env::args().next().unwrap_or_else(|| "roomcast".into());
    println!("Search your rooms with: {exe} search WORDS   ({exe} search --help; {exe} serve for a browser)");
    Ok(())
}

#[derive(Args)]
pub struct ScheduleArgs {
    /// The room's title.
    #[arg(long, required_unless_present_any = ["list", "cancel"])]
    title: Option<String>,
    /// When it starts: RFC 3339, or "YYYY-MM-DD HH:MM" in local time.
    #[arg(long, value_name = "TIME", required_unless_present_any = ["list", "cancel"])]
    at: Option<String>,
    /// List the planned rooms.
    #[arg(long, conflicts_with_all = ["title", "at", "cancel"])]
    list: bool,
    /// Take a planned room off the feed.
    #[arg(long, value_name = "ID", conflicts_with_all = ["title", "at"])]
    cancel: Option<String>,
}

pub fn schedule(a: ScheduleArgs, library_dir: &Path, json: bool) -> Result<()> {
    use roomcast::app::schedule;
    let (value, said) = if a.list {
        let rooms = schedule::scheduled(library_dir)?;
        let lines: Vec<String> = rooms.iter().map(|r| format!("{}  {}  {}", r.at, r.id, r.title)).collect();
        (serde_json::to_value(&rooms)?, if lines.is_empty() { "no rooms planned".into() } else { lines.join("\n") })
    } else if let Some(id) = a.cancel {
        let room = schedule::take(library_dir, &id)?;
        let said = format!("cancelled {} ({}): no longer announced in the feed", room.id, room.title);
        (serde_json::json!({ "cancelled": room }), said)
    } else {
        let (title, at) = (a.title.unwrap_or_default(), a.at.unwrap_or_default());
        let room = schedule::schedule(library_dir, &title, &at, chrono::Utc::now())?;
        let said = format!("planned {0} for {1}, pending in the feed; record it: --scheduled {0}", room.id, room.at);
        (serde_json::to_value(&room)?, said)
    };
    if !json {
        println!("{said}");
    }
    if json { print_json(&value) } else { Ok(()) }
}
