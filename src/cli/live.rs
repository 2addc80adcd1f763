//! The live commands: record, speak, recover, demo.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tokio::sync::watch;

use roomcast::library::{self, Access, LibraryError, SearchQuery};
use roomcast::master::{self, Format, MixSettings};
use roomcast::progress::Silent;
use roomcast::record::janus::{Credentials, JanusForwardSource, JanusUrl, REMOTE_PUBLISHER_SSRC, RemotePublisher};
use roomcast::record::recover::recover as recover_session;
use roomcast::record::rtp_source::{RtpSource, parse_rtp_url};
use roomcast::record::webrtc::JanusWebrtcSource;
use roomcast::record::{self, RecordObserver, RecordOptions, RoomSource};
use roomcast::rtp::ReceiverConfig;
use roomcast::session::{self, Session};
use roomcast::speak::{self, Voice};
use roomcast::transcript::{self as t, export::ExportFormat, run};

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
    #[arg(long, env = "ROOMCAST_ROOM_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Janus VideoRoom admin key (needed for rtp_forward when the server locks it).
    #[arg(long, env = "ROOMCAST_JANUS_ADMIN_KEY", hide_env_values = true)]
    admin_key: Option<String>,
    /// Janus API token, when the server uses token authentication.
    #[arg(long, env = "ROOMCAST_JANUS_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl RoomArgs {
    fn credentials(&self) -> Credentials {
        Credentials {
            pin: self.pin.clone(),
            secret: self.secret.clone(),
            admin_key: self.admin_key.clone(),
            token: self.token.clone(),
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
    /// Title of the recording.
    #[arg(long, default_value = "Live room")]
    title: String,
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
    /// Reorder window (jitter buffer) in milliseconds.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    reorder_ms: u64,
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

/// Two threads: the room source keeps draining its socket while the writer waits on the disk (a
/// thousand speakers joining means a thousand files created at once).
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the event loop")
}

#[cfg(unix)]
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit() {}

/// A watch channel that turns true on Ctrl-C or SIGTERM.
fn stop_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let term = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(true);
    });
    rx
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
            eprint!(
                "\r\x1b[K  {}  {} of {} speaker(s) in the room  {} packets  {} lost",
                clock(s.elapsed),
                s.present,
                s.speakers,
                s.packets,
                s.lost
            );
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

fn source_for(a: &RecordArgs) -> Result<Box<dyn RoomSource>> {
    if a.room.starts_with("rtp://") {
        let addr = parse_rtp_url(&a.room).map_err(anyhow::Error::msg)?;
        return Ok(Box::new(RtpSource { addr }));
    }
    if a.room.starts_with("janus://") {
        let url = JanusUrl::parse(&a.room).map_err(anyhow::Error::msg)?;
        if a.media == Media::Webrtc {
            let ip = a.listen.map(|l| l.ip());
            return Ok(Box::new(JanusWebrtcSource { url, creds: a.room_args.credentials(), ip }));
        }
        return Ok(Box::new(JanusForwardSource { url, creds: a.room_args.credentials(), listen: a.listen }));
    }
    bail!("'{}': the room must be rtp://ADDRESS:PORT or janus://HOST:PORT/ROOM", a.room)
}

pub fn record(a: RecordArgs, library_dir: &Path, json: bool) -> Result<()> {
    let source = source_for(&a)?;
    // A track is an open file per speaker: large rooms need more than the usual 1024 descriptors.
    raise_open_file_limit();
    // Sessions live in the library unless the user says otherwise; `publish` then indexes them.
    // A folder that cannot be a library is said before the room is joined.
    if a.out.is_none() {
        library::open(library_dir, Access::Write)?;
    }
    let out = a.out.clone().unwrap_or_else(|| {
        library_dir.join(library::ROOMS_DIR).join(format!(
            "{}-{}",
            chrono::Local::now().format("%Y%m%d-%H%M%S"),
            session::slug(&a.title)
        ))
    });
    let options = RecordOptions {
        out,
        title: a.title.clone(),
        max_duration: a.max_duration.map(Duration::from_secs_f64),
        until_empty: a.until_empty,
        empty_grace: Duration::from_secs(3),
        receiver: ReceiverConfig { reorder_window: Duration::from_millis(a.reorder_ms), ..Default::default() },
        names: a.speakers.clone(),
    };
    let rt = runtime()?;
    let console = Console::new(json);
    let report = rt.block_on(async {
        let stop = stop_on_signals();
        record::record(source, options, stop, &console).await
    });
    console.done();
    let report = report?;
    if json {
        return print_json(&report);
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
    println!("Next: roomcast mix {}", report.session.display());
    Ok(())
}

pub fn recover(dir: &Path, json: bool) -> Result<()> {
    let report = recover_session(dir)?;
    if json {
        return print_json(&report);
    }
    println!("Recovered {} ({}), marked interrupted", report.session.display(), clock(report.duration));
    for t in &report.tracks {
        let mut notes = Vec::new();
        if t.found_unlisted {
            notes.push("found in tracks/, not in room.json: added".to_string());
        }
        if t.rebuilt_empty {
            notes.push("nothing readable: rebuilt empty".to_string());
        }
        if !t.rebuilt_headers.is_empty() {
            notes.push(format!("rebuilt {}", t.rebuilt_headers.join(" and ")));
        }
        if let Some(kept) = &t.original_kept {
            notes.push(format!("damaged: original kept as {}", kept.display()));
        }
        let notes = if notes.is_empty() { String::new() } else { format!("  [{}]", notes.join("; ")) };
        println!("  {:<16} {} packets, readable to {}{notes}", t.speaker, t.packets, clock(t.readable_to));
    }
    Ok(())
}

pub fn speak(a: SpeakArgs, json: bool) -> Result<()> {
    if a.streams == 0 {
        bail!("--streams must be at least 1");
    }
    let talk = speak::load(&a.file, a.limit)?;
    let rt = runtime()?;
    let first_ssrc = a.ssrc.unwrap_or_else(record::rand_ssrc);
    let voices = |rtcp: bool| -> Vec<Voice> {
        (0..a.streams)
            .map(|k| Voice {
                ssrc: first_ssrc.wrapping_add(k as u32),
                name: if a.streams == 1 { a.name.clone() } else { format!("{} {}", a.name, k + 1) },
                rtcp,
            })
            .collect()
    };
    let report = if a.to.starts_with("janus://") {
        if a.streams != 1 {
            bail!("--streams works with rtp:// only; run one speak per Janus publisher");
        }
        let url = JanusUrl::parse(&a.to).map_err(anyhow::Error::msg)?;
        let publisher = RemotePublisher::add(&url, &a.name, &a.room_args.credentials())?;
        if !json {
            eprintln!(
                "Speaking into {url} as '{}' (remote publisher {}, RTP to {})",
                a.name, publisher.id, publisher.rtp
            );
        }
        let voice = [Voice { ssrc: REMOTE_PUBLISHER_SSRC, name: a.name.clone(), rtcp: false }];
        let result = rt.block_on(async {
            let stop = stop_on_signals();
            let keepalive = async {
                loop {
                    tokio::time::sleep(Duration::from_secs(20)).await;
                    let _ = publisher.client.keepalive();
                }
            };
            tokio::select! {
                r = speak::speak(&talk, publisher.rtp, &voice, stop) => r,
                _ = keepalive => unreachable!("keepalive loops forever"),
            }
        });
        publisher.remove();
        result?
    } else {
        let to = parse_rtp_url(&a.to).map_err(anyhow::Error::msg)?;
        if !json {
            eprintln!("Speaking into rtp://{to} as '{}' ({} stream(s))", a.name, a.streams);
        }
        rt.block_on(async {
            let stop = stop_on_signals();
            if a.spread_ports {
                speak::speak_spread(&talk, to, &voices(true), stop).await
            } else {
                speak::speak(&talk, to, &voices(true), stop).await
            }
        })?
    };
    if json {
        return print_json(&report);
    }
    println!(
        "Sent {} packets in {:.1} s ({} stream(s)); worst lateness {:.1} ms",
        report.packets_sent, report.seconds, report.streams, report.worst_lateness_ms
    );
    Ok(())
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

pub fn demo(a: DemoArgs, library_dir: &Path, json: bool) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.sample)
        .with_context(|| {
            format!("{}: cannot read the sample folder (run from the repository root)", a.sample.display())
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "opus"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no .opus speaker files (samples/make-sample.sh makes them)", a.sample.display());
    }
    // The library is opened first: one that cannot be written is said before the room is played.
    let mut lib = library::open(library_dir, Access::Write)?;
    if a.out.exists() {
        // Only ever replace an earlier demo room, never something else at that path.
        match Session::open(&a.out) {
            Ok(s) if s.room.source.starts_with("rtp://127.0.0.1") => {
                match lib.remove_room(&s.room.id) {
                    Ok(_) | Err(LibraryError::UnknownRoom(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                std::fs::remove_dir_all(&a.out).with_context(|| a.out.display().to_string())?
            }
            _ => bail!("{} exists and is not an earlier demo room; choose another --out", a.out.display()),
        }
    }
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
    }
    // script.tsv says when each speaker joins the room; their files start there.
    let joins = sample_joins(&a.sample.join("script.tsv"));
    let mut talks: Vec<(String, f64, Arc<speak::Talk>)> = Vec::new();
    for f in &files {
        let name = display_name(f);
        let join = joins.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)).map_or(0.0, |(_, t)| *t);
        let limit = a.limit.map(|l| l - join);
        if limit.is_some_and(|l| l <= 0.0) {
            continue;
        }
        talks.push((name, join, Arc::new(speak::load(f, limit)?)));
    }
    // A free loopback port for the room.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let options = RecordOptions {
        out: a.out.clone(),
        title: "roomcast demo room".into(),
        max_duration: None,
        until_empty: false,
        empty_grace: Duration::from_secs(3),
        receiver: ReceiverConfig::default(),
        names: Vec::new(),
    };
    let console = Console::new(json);
    let rt = runtime()?;
    if !json {
        eprintln!(
            "Demo: {} speakers play the sample into a loopback room (rtp://{addr}) in real time ({}), recorded live",
            talks.len(),
            clock(talks.iter().map(|(_, join, t)| join + t.duration as f64 / 48_000.0).fold(0.0, f64::max))
        );
    }
    let report = rt.block_on(async {
        let signals = stop_on_signals();
        let (stop_tx, stop) = watch::channel(false);
        let mut signals_for_stop = signals.clone();
        let recorder = record::record(Box::new(RtpSource { addr }), options, stop, &console);
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
        console.done();
        spoken?;
        anyhow::Ok(recorded?)
    })?;
    let session = Session::open(&report.session)?;
    let settings = MixSettings { formats: vec![Format::Mp3, Format::Opus], ..Default::default() };
    let mix = master::mix(&session, &settings, &Silent)?;
    let transcript = demo_transcript(&session, &a.sample)?;
    let (index, _) = super::library::index_session(&mut lib, &session)?;
    let query = SearchQuery { text: a.search.clone(), limit: 3, include_private: true, ..Default::default() };
    let hits = lib.search(&query)?;
    if json {
        #[derive(serde::Serialize)]
        struct Demo<'a> {
            record: &'a record::RecordReport,
            mix: &'a master::MixReport,
            transcript: &'a DemoTranscript,
            index: &'a library::IndexReport,
            search: &'a [library::Hit],
        }
        return print_json(&Demo { record: &report, mix: &mix, transcript: &transcript, index: &index, search: &hits });
    }
    println!("Recorded the demo room into {} ({}):", report.session.display(), clock(report.duration));
    for s in &session.room.speakers {
        let joined = s.intervals.first().map(|i| i.start).unwrap_or(0.0);
        println!("  {:<8} joined at {}  {}", s.name, clock(joined), session.track_path(s).display());
    }
    let n = &report.network;
    println!("  network: {} packets received, {} lost, {} late", n.packets, n.lost, n.late);
    println!("  events:  {}", session.events_path().display());
    for o in &mix.outputs {
        println!(
            "  master:  {} ({:.1} LUFS, {:.1} dBTP)",
            o.file.path.display(),
            o.measured.integrated_lufs,
            o.measured.true_peak_dbtp
        );
    }
    println!("  transcript: {}", transcript.note);
    for s in &transcript.scores {
        println!(
            "    {:<8} WER {:>5.1} % against the script ({} of {} words), {} word(s) on the wrong speaker",
            s.name,
            s.wer * 100.0,
            s.errors,
            s.reference_words,
            s.wrong_speaker
        );
    }
    println!("  library: published into {} ({} segments indexed)", lib.dir().display(), index.segments);
    println!("Searching the library for \"{}\":", query.text);
    for hit in &hits {
        super::library::print_hit(hit, false);
    }
    println!("Listen to the master, or open the tracks in any DAW: they line up on the room clock.");
    let exe = std::env::args().next().unwrap_or_else(|| "roomcast".into());
    println!("Search your rooms with: {exe} search WORDS   ({exe} search --help; {exe} serve for a browser)");
    Ok(())
}

/// What the demo's transcription did: whisper's transcript scored against the sample's script, or
/// why there is none.
#[derive(serde::Serialize)]
struct DemoTranscript {
    /// What happened, in a line.
    note: String,
    /// Per speaker: WER against the script, and words that landed on the wrong speaker.
    scores: Vec<t::score::SpeakerScore>,
}

/// The demo room's transcript: whisper's, scored against the sample's script (the text its voices
/// were made from). The script is only ever the yardstick, never the transcript: without a model
/// the room is published untranscribed, and the note says how to get one.
fn demo_transcript(session: &Session, sample: &Path) -> Result<DemoTranscript> {
    let options = run::TranscribeOptions {
        model: std::env::var("ROOMCAST_MODEL").unwrap_or_else(|_| t::models::DEFAULT_MODEL.into()),
        vad_model: t::models::DEFAULT_VAD.into(),
        language: None,
        threads: None,
    };
    let (segments, report) = match run::transcribe(session, &options, &Silent) {
        Ok(found) => found,
        Err(run::TranscribeError::Model(e)) => {
            return Ok(DemoTranscript {
                note: format!(
                    "not transcribed: {e}. The room is published without a transcript; \
                     scripts/demo.sh fetches the model (roomcast models download {})",
                    t::models::DEFAULT_MODEL
                ),
                scores: Vec::new(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let doc = run::document(session, segments, &report);
    t::export::write(&doc, &session.dir, &ExportFormat::ALL)?;
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
            lines.push(t::score::Line {
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
            report.model.display(),
            doc.segments.len(),
            timeline.display()
        ),
        scores: t::score::score(&doc.segments, &lines, 0.5),
    })
}
