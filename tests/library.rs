//! The library: rooms indexed into a catalog and searched by what was said. Transcripts here are
//! constructed (known words, speakers and times), so every hit can be checked exactly.
//!
//! Three groups: the catalog's behaviour, through `Box<dyn Catalog>` from `catalogs` (every backend
//! runs the same tests); the command line over it (its output and one-line errors); `sqlite`,
//! what is particular to the SQLite backend (its database file read directly: schema versions,
//! foreign files, read-only mounts, several processes at once); and `postgres`, what is particular
//! to the PostgreSQL backend (a real server, started per test binary run by `common::pg`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use roomcast::library::{self, Access, Catalog, IndexReport, LibraryError, PostgresCatalog, SearchQuery};
use roomcast::session::{Interval, Room, RoomStatus, Session, Speaker};
use roomcast::transcript::{Segment, TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION, TranscriptDoc, TranscriptSpeaker, Word};
use serde_json::Value;

use common::ok;
use common::pg::Server;

/// Each word of a constructed segment lasts half a second: word `i` starts at `start + i / 2`.
const WORD: f64 = 0.5;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    library: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    Fixture { library: root.join("library"), root, _dir: dir }
}

fn rc(library: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roomcast")).env("ROOMCAST_LIBRARY", library).args(args).output().unwrap()
}

fn json(library: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(rc(library, &all))).unwrap()
}

fn fails(out: Output) -> String {
    assert!(!out.status.success(), "expected a failure: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

/// A session folder with room.json and a transcript.json of `lines` (speaker id, start, text).
fn room(
    at: &Path,
    id: &str,
    title: &str,
    started: &str,
    speakers: &[(&str, &str)],
    lines: &[(&str, f64, &str)],
) -> PathBuf {
    let dir = at.join(id);
    let mut room = Room::new(id.into(), title.into(), "import:".into(), started.parse().unwrap());
    room.status = RoomStatus::Complete;
    room.duration = 3600.0;
    room.speakers = speakers
        .iter()
        .map(|(id, name)| Speaker {
            id: id.to_string(),
            name: name.to_string(),
            track: format!("tracks/{id}.opus"),
            intervals: vec![Interval { start: 0.0, end: Some(3600.0) }],
            origin: None,
        })
        .collect();
    Session::create(&dir, room.clone()).unwrap();
    let name = |sid: &str| speakers.iter().find(|(i, _)| *i == sid).unwrap().1.to_string();
    let segments = lines
        .iter()
        .map(|(sid, start, text)| {
            let words: Vec<Word> = text
                .split_whitespace()
                .enumerate()
                .map(|(i, w)| Word {
                    start: start + i as f64 * WORD,
                    end: start + (i + 1) as f64 * WORD,
                    text: w.into(),
                    probability: 0.9,
                })
                .collect();
            Segment {
                speaker: sid.to_string(),
                name: name(sid),
                start: *start,
                end: start + words.len() as f64 * WORD,
                text: text.to_string(),
                words,
                overlap: false,
            }
        })
        .collect();
    let doc = TranscriptDoc {
        format: TRANSCRIPT_FORMAT.into(),
        version: TRANSCRIPT_VERSION,
        room: id.into(),
        title: title.into(),
        duration: 3600.0,
        speakers: speakers
            .iter()
            .map(|(id, name)| TranscriptSpeaker {
                id: id.to_string(),
                name: name.to_string(),
                language: Some("en".into()),
            })
            .collect(),
        segments,
        live_captions: false,
    };
    std::fs::write(dir.join("transcript.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    dir
}

/// The catalog backends the behaviour tests run against, each new and empty, opened for writing:
/// SQLite in its own folder under the fixture, PostgreSQL in a database of its own on the test
/// binary's throwaway server (`common::pg`; its local folder under the fixture). Another backend is
/// one more entry here.
fn catalogs(f: &Fixture) -> Vec<Box<dyn Catalog>> {
    let url = Server::get().database();
    vec![
        library::open(&f.root.join("catalog-sqlite"), Access::Write).unwrap(),
        Box::new(PostgresCatalog::open_with_dir(&url, f.root.join("catalog-postgres"), Access::Write).unwrap()),
    ]
}

/// Indexes a session folder with the use case `roomcast index` calls: its metadata, transcript
/// and outputs.
fn index(catalog: &mut dyn Catalog, session: &Path) -> IndexReport {
    let session = Session::open(session).unwrap();
    roomcast::app::publish::index_session(catalog, &session).unwrap().0
}

/// Three rooms on three days, indexed through the command line.
fn three_rooms(f: &Fixture) -> [PathBuf; 3] {
    let sessions = three_sessions(f);
    for s in &sessions {
        ok(rc(&f.library, &["index", s.to_str().unwrap()]));
    }
    sessions
}

/// The same three rooms, indexed into `catalog`.
fn three_rooms_in(f: &Fixture, catalog: &mut dyn Catalog) -> [PathBuf; 3] {
    let sessions = three_sessions(f);
    for s in &sessions {
        index(catalog, s);
    }
    sessions
}

/// The session folders of three rooms on three days (made once per fixture); the words and their
/// times are what the assertions expect.
fn three_sessions(f: &Fixture) -> [PathBuf; 3] {
    if f.root.join("room-a").exists() {
        return ["room-a", "room-b", "room-c"].map(|id| f.root.join(id));
    }
    let a = room(
        &f.root,
        "room-a",
        "Room Notes 1",
        "2026-11-01T18:00:00Z",
        &[("maya", "Maya"), ("theo", "Théo")],
        &[
            ("maya", 10.0, "Welcome to the podcast about live rooms"),
            ("theo", 20.0, "Every speaker deserves a track of their own"),
            ("maya", 754.0, "Loudness matters when a quiet guest speaks"),
            ("theo", 800.0, "We recorded the podcasts in one take"),
        ],
    );
    let b = room(
        &f.root,
        "room-b",
        "Café Society",
        "2026-11-10T09:30:00Z",
        &[("priya", "Priya"), ("maya", "Maya")],
        &[
            ("priya", 5.0, "Naïve recording of a café conversation"),
            ("maya", 65.0, "podcast podcast podcast everywhere podcast"),
            ("priya", 3700.5, "The guest was loud and the host was quiet"),
        ],
    );
    let c = room(
        &f.root,
        "room-c",
        "Late Night",
        "2026-11-20T23:00:00Z",
        &[("ana", "Ana")],
        &[("ana", 1.0, "Nothing about that topic here, only music and silence")],
    );
    [a, b, c]
}

/// What `roomcast search` asks by default: ten hits, private rooms included.
fn query(text: &str) -> SearchQuery {
    SearchQuery { text: text.into(), limit: 10, include_private: true, ..Default::default() }
}

/// Hits as (room, speaker name, time to jump to).
fn find(catalog: &dyn Catalog, query: &SearchQuery) -> Vec<(String, String, f64)> {
    catalog.search(query).unwrap().into_iter().map(|h| (h.room, h.name, h.at)).collect()
}

fn words(catalog: &dyn Catalog, text: &str) -> Vec<(String, String, f64)> {
    find(catalog, &query(text))
}

fn date(text: &str, end_of_day: bool) -> Option<chrono::DateTime<chrono::Utc>> {
    Some(library::parse_date(text, end_of_day).unwrap())
}

fn search(f: &Fixture, args: &[&str]) -> Vec<(String, String, f64)> {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    json(&f.library, &all)
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["room"].as_str().unwrap().to_string(),
                h["name"].as_str().unwrap().to_string(),
                h["at"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn sorted(mut hits: Vec<(String, String, f64)>) -> Vec<(String, String, f64)> {
    hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)));
    hits
}

fn hit(room: &str, name: &str, at: f64) -> (String, String, f64) {
    (room.into(), name.into(), at)
}

// The catalog's behaviour, through the trait.

#[test]
fn words_prefixes_phrases_and_booleans_find_exactly_the_right_moments() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        three_rooms_in(&f, catalog.as_mut());
        let c = catalog.as_ref();
        // A word: in any case, stemmed (podcasts), each hit at the word's own time.
        assert_eq!(
            sorted(words(c, "PODCAST")),
            vec![
                hit("room-a", "Maya", 10.0 + 3.0 * WORD),
                hit("room-a", "Théo", 800.0 + 3.0 * WORD),
                hit("room-b", "Maya", 65.0)
            ]
        );
        // Diacritics folded both ways: cafe finds café, naive finds Naïve.
        assert_eq!(sorted(words(c, "cafe")), vec![hit("room-b", "Priya", 5.0 + 4.0 * WORD)]);
        assert_eq!(words(c, "naive"), vec![hit("room-b", "Priya", 5.0)]);
        // A prefix.
        assert_eq!(
            sorted(words(c, "loud*")),
            vec![hit("room-a", "Maya", 754.0), hit("room-b", "Priya", 3700.5 + 3.0 * WORD)]
        );
        // A phrase: the words in that order only.
        assert_eq!(words(c, "\"quiet guest\""), vec![hit("room-a", "Maya", 754.0 + 4.0 * WORD)]);
        assert_eq!(words(c, "\"guest quiet\""), vec![]);
        // AND (also implied), OR, NOT, NEAR.
        assert_eq!(words(c, "guest AND host"), vec![hit("room-b", "Priya", 3700.5 + WORD)]);
        assert_eq!(words(c, "guest host"), vec![hit("room-b", "Priya", 3700.5 + WORD)]);
        assert_eq!(sorted(words(c, "track OR music")).len(), 2);
        assert_eq!(words(c, "guest NOT host"), vec![hit("room-a", "Maya", 754.0 + 5.0 * WORD)]);
        assert_eq!(words(c, "NEAR(speaker own, 5)"), vec![hit("room-a", "Théo", 20.0 + WORD)]);
        assert_eq!(words(c, "NEAR(welcome rooms, 2)"), vec![]);
    }
}

#[test]
fn precedence_grouping_and_punctuation_keep_their_meaning() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        three_rooms_in(&f, catalog.as_mut());
        let c = catalog.as_ref();
        // NOT binds tighter than OR; words side by side tighter than NOT.
        let quiet = hit("room-a", "Maya", 754.0 + 5.0 * WORD);
        let music = hit("room-c", "Ana", 1.0 + 6.0 * WORD);
        assert_eq!(sorted(words(c, "guest NOT host OR music")), vec![quiet.clone(), music.clone()]);
        assert_eq!(sorted(words(c, "(guest NOT host) OR music")), vec![quiet.clone(), music]);
        assert_eq!(words(c, "guest NOT (host OR music)"), vec![quiet.clone()]);
        let who = |text: &str| -> Vec<(String, String)> { words(c, text).into_iter().map(|h| (h.0, h.1)).collect() };
        assert_eq!(who("guest NOT host quiet"), who("guest NOT (host quiet)"));
        assert_eq!(who("guest NOT host quiet"), [("room-a".to_string(), "Maya".to_string())]);
        // Lower-case operators are words; `text:` is the transcript's text.
        assert_eq!(words(c, "track or music"), vec![]);
        assert_eq!(words(c, "text:naive"), vec![hit("room-b", "Priya", 5.0)]);
        // Punctuation splits words where the index does: "café-conversation" is the phrase.
        assert_eq!(words(c, "café-conversation"), vec![hit("room-b", "Priya", 5.0 + 4.0 * WORD)]);
        assert_eq!(words(c, "guest's"), vec![]);
        assert_eq!(words(c, "loud*!"), words(c, "loud*"));
        assert_eq!(words(c, "quiet + guest"), words(c, "\"quiet guest\""));
    }
}

#[test]
fn speaker_room_and_date_filters_narrow_the_hits() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        three_rooms_in(&f, catalog.as_mut());
        let c = catalog.as_ref();
        let podcast = query("podcast");
        let with = |q: SearchQuery| find(c, &q);
        assert_eq!(
            with(SearchQuery { speaker: Some("théo".into()), ..podcast.clone() }),
            vec![hit("room-a", "Théo", 800.0 + 3.0 * WORD)]
        );
        assert_eq!(
            with(SearchQuery { room: Some("café society".into()), ..podcast.clone() }),
            vec![hit("room-b", "Maya", 65.0)]
        );
        assert_eq!(with(SearchQuery { room: Some("room-b".into()), ..podcast.clone() }).len(), 1);
        assert_eq!(
            with(SearchQuery { since: date("2026-11-05", false), ..podcast.clone() }),
            vec![hit("room-b", "Maya", 65.0)]
        );
        // The end of the day given for "until" takes the whole day.
        assert_eq!(with(SearchQuery { until: date("2026-11-01", true), ..podcast.clone() }).len(), 2);
        assert_eq!(
            with(SearchQuery { since: date("2026-11-02", false), until: date("2026-11-09", true), ..podcast.clone() }),
            vec![]
        );
        assert_eq!(with(SearchQuery { limit: 1, ..podcast.clone() }).len(), 1);
        assert!(matches!(
            c.search(&SearchQuery { room: Some("nope".into()), ..podcast.clone() }),
            Err(LibraryError::UnknownRoom(r)) if r == "nope"
        ));
    }
}

#[test]
fn the_better_match_ranks_first() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        three_rooms_in(&f, catalog.as_mut());
        // Room B's Maya says "podcast" four times in five words: more relevant than one mention.
        let hits = words(catalog.as_ref(), "podcast");
        assert_eq!(hits[0], hit("room-b", "Maya", 65.0), "{hits:?}");
        let full = catalog.search(&query("podcast")).unwrap();
        assert!(full.windows(2).all(|w| w[0].score <= w[1].score), "best (lowest bm25) first");
    }
}

#[test]
fn a_hit_carries_its_room_speaker_moment_and_marked_snippet() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        three_rooms_in(&f, catalog.as_mut());
        let hits = catalog.search(&query("quiet guest")).unwrap();
        let h = &hits[0];
        assert_eq!(
            (h.room.as_str(), h.title.as_str(), h.started_at.as_str()),
            ("room-a", "Room Notes 1", "2026-11-01T18:00:00Z")
        );
        assert_eq!((h.speaker.as_str(), h.name.as_str()), ("maya", "Maya"));
        assert_eq!((h.segment_start, h.segment_end, h.at), (754.0, 754.0 + 7.0 * WORD, 754.0 + 4.0 * WORD));
        let (text, matches) = library::search::split_snippet(&h.snippet);
        let chars: Vec<char> = text.chars().collect();
        let marked: Vec<String> = matches.iter().map(|[a, b]| chars[*a..*b].iter().collect()).collect();
        assert!(marked.windows(2).any(|w| w == ["quiet", "guest"]), "{marked:?}");
        // What to replay: the room's master, else its first speaker's track, as the room says.
        for h in catalog.search(&SearchQuery { limit: 50, ..query("the OR welcome OR guest") }).unwrap() {
            let room = catalog.room(&h.room).unwrap();
            assert_eq!(h.replay, room.replay_file(None), "{}", h.room);
            assert!(h.replay.is_some(), "{}", h.room);
        }
    }
}

#[test]
fn indexing_again_replaces_and_removing_leaves_no_trace() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        let [a, _, _] = three_rooms_in(&f, catalog.as_mut());
        let before = catalog.room("room-a").unwrap();
        assert_eq!((before.segments, before.speakers.len()), (4, 2));
        for _ in 0..3 {
            let r = index(catalog.as_mut(), &a);
            assert!(r.replaced);
            assert_eq!((r.segments, r.words, r.speakers), (4, 29, 2));
        }
        let after = catalog.room("room-a").unwrap();
        assert_eq!((after.segments, after.speakers.len()), (4, 2), "no duplicates");
        assert_eq!(catalog.rooms(true).unwrap().len(), 3);
        assert_eq!(words(catalog.as_ref(), "welcome").len(), 1);

        let session = catalog.remove_room("room-a").unwrap();
        assert_eq!(session, a.canonicalize().unwrap(), "the session folder it knew, for the caller");
        assert!(a.exists(), "the catalog deletes no files");
        let ids: Vec<String> = catalog.rooms(true).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["room-c", "room-b"]);
        // Nothing of the room is searchable: the full-text index lost it too.
        assert_eq!(words(catalog.as_ref(), "welcome"), vec![]);
        assert!(matches!(catalog.room("room-a"), Err(LibraryError::UnknownRoom(_))));
        assert!(matches!(catalog.find_room("room-a", true), Err(LibraryError::UnknownRoom(_))));
        assert!(matches!(catalog.remove_room("room-a"), Err(LibraryError::UnknownRoom(_))));
        // And it comes back whole when indexed again.
        assert!(!index(catalog.as_mut(), &a).replaced);
        assert_eq!(words(catalog.as_ref(), "welcome").len(), 1);
    }
}

#[test]
fn rooms_are_listed_newest_first_and_found_by_id_title_or_the_start_of_an_id() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        three_rooms_in(&f, catalog.as_mut());
        let ids: Vec<String> = catalog.rooms(true).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["room-c", "room-b", "room-a"], "newest first");
        let b = catalog.room("room-b").unwrap();
        assert_eq!((b.title.as_str(), b.segments, b.duration), ("Café Society", 3, 3600.0));
        assert_eq!((b.started_at.as_str(), b.status.as_str(), b.private), ("2026-11-10T09:30:00Z", "complete", false));
        let names: Vec<&str> = b.speakers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Priya", "Maya"]);
        assert_eq!(b.speakers[0].track.as_deref(), Some("tracks/priya.opus"));
        assert_eq!(b.speakers[0].language.as_deref(), Some("en"));
        assert!(b.session.is_absolute());
        for key in ["room-b", "café society", " Café Society "] {
            assert_eq!(catalog.find_room(key, true).unwrap().id, "room-b", "{key}");
        }
        assert_eq!(catalog.find_room("room-c", false).unwrap().title, "Late Night");
        assert!(matches!(catalog.find_room("room", true), Err(LibraryError::AmbiguousRoom { .. })));
        assert!(matches!(catalog.find_room("nope", true), Err(LibraryError::UnknownRoom(k)) if k == "nope"));
        // The user's text is not a pattern.
        assert!(matches!(catalog.find_room("room_%", true), Err(LibraryError::UnknownRoom(_))));
        assert!(catalog.dir().is_dir());
    }
}

#[test]
fn a_private_room_is_listed_searched_and_found_only_when_asked() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        let [_, b, _] = three_rooms_in(&f, catalog.as_mut());
        catalog.set_private("room-b", true).unwrap();
        let public: Vec<String> = catalog.rooms(false).unwrap().into_iter().map(|r| r.id).collect();
        assert_eq!(public, ["room-c", "room-a"]);
        assert!(catalog.rooms(true).unwrap().iter().any(|r| r.id == "room-b" && r.private));
        let hidden = SearchQuery { include_private: false, ..query("podcast") };
        assert!(find(catalog.as_ref(), &hidden).iter().all(|h| h.0 != "room-b"));
        assert!(words(catalog.as_ref(), "podcast").iter().any(|h| h.0 == "room-b"));
        assert!(matches!(catalog.find_room("room-b", false), Err(LibraryError::UnknownRoom(_))));
        assert!(catalog.find_room("room-b", true).unwrap().private);
        // Indexing the room again keeps it private.
        index(catalog.as_mut(), &b);
        assert!(catalog.room("room-b").unwrap().private);
        catalog.set_private("room-b", false).unwrap();
        assert_eq!(catalog.rooms(false).unwrap().len(), 3);
        assert!(matches!(catalog.set_private("nope", true), Err(LibraryError::UnknownRoom(_))));
    }
}

#[test]
fn bad_and_empty_searches_are_refused_with_the_reason() {
    let f = fixture();
    for mut catalog in catalogs(&f) {
        three_rooms_in(&f, catalog.as_mut());
        let c = catalog.as_ref();
        for text in ["", "   ", "!!!", "AND OR"] {
            assert!(matches!(c.search(&query(text)), Err(LibraryError::EmptyQuery)), "{text:?}");
        }
        for (text, reason) in [
            ("\"unterminated", "unclosed quote"),
            ("podcast AND", "AND needs words after it"),
            ("NEAR(a b", "NEAR( without its ')'"),
            ("NEAR(a)", "NEAR needs at least two words or phrases"),
            ("speaker:maya", "'speaker:' names no field to search (text: is the only one)"),
        ] {
            match c.search(&query(text)) {
                Err(LibraryError::BadQuery { query, reason: r }) => {
                    assert_eq!((query.as_str(), r.as_str()), (text, reason))
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        // SQL and FTS5 syntax in a query are searched for as text, never run.
        assert_eq!(words(c, "\"'; DROP TABLE rooms; --\""), vec![]);
        assert_eq!(words(c, "\"NEAR(podcast\""), vec![]);
        assert_eq!(c.rooms(true).unwrap().len(), 3);
    }
}

// The command line over the catalog: its output and its one-line errors.

#[test]
fn a_hit_has_everything_needed_to_replay_the_moment() {
    let f = fixture();
    three_rooms(&f);
    let hits = json(&f.library, &["search", "quiet guest"]);
    let h = &hits[0];
    assert_eq!(h["title"], "Room Notes 1");
    assert_eq!(h["started_at"], "2026-11-01T18:00:00Z");
    // JSON gets plain text and where the matches are (in characters), no control bytes.
    let snippet: Vec<char> = h["snippet"].as_str().unwrap().chars().collect();
    assert!(!snippet.iter().any(|c| c.is_control()), "{h}");
    let matched: Vec<String> = h["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| snippet[m[0].as_u64().unwrap() as usize..m[1].as_u64().unwrap() as usize].iter().collect())
        .collect();
    assert!(matched.windows(2).any(|w| w == ["quiet", "guest"]), "{h}");
    let text = ok(rc(&f.library, &["search", "quiet guest"]));
    assert!(text.contains("Room Notes 1 · 2026-11-01 · Maya · 0:12:36"), "{text}");
    assert!(text.contains("[quiet] [guest]"), "matches are marked without colour off a terminal: {text}");
    assert!(text.contains("roomcast play room-a --at 0:12:36"), "{text}");
}

#[test]
fn rooms_show_list_what_the_library_holds() {
    let f = fixture();
    three_rooms(&f);
    let rooms = json(&f.library, &["rooms"]);
    let ids: Vec<&str> = rooms.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["room-c", "room-b", "room-a"], "newest first");
    let b = json(&f.library, &["show", "room-b"]);
    assert_eq!(b["title"], "Café Society");
    assert_eq!(b["segments"], 3);
    let names: Vec<&str> = b["speakers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Priya", "Maya"]);
    let text = ok(rc(&f.library, &["rooms"]));
    assert!(text.contains("room-a  2026-11-01 18:00   1:00:00  Room Notes 1"), "{text}");
    // The start of an id is enough when it is unambiguous.
    assert_eq!(json(&f.library, &["show", "room-c"])["title"], "Late Night");
    let err = fails(rc(&f.library, &["show", "room"]));
    assert!(err.contains("matches several rooms"), "{err}");
}

#[test]
fn bad_searches_and_unknown_rooms_are_one_line_errors() {
    let f = fixture();
    three_rooms(&f);
    for (args, expect) in [
        (vec!["search", "   "], "the search is empty"),
        (vec!["search", "\"unterminated"], "not a valid search"),
        (vec!["search", "podcast AND"], "not a valid search"),
        (vec!["search", "NEAR(a b"], "not a valid search"),
        (vec!["search", "podcast", "--room", "nope"], "no room 'nope'"),
        (vec!["search", "podcast", "--since", "last tuesday"], "'last tuesday' is not a date"),
        (vec!["show", "nope"], "no room 'nope'"),
        (vec!["remove", "nope"], "no room 'nope'"),
        (vec!["play", "nope"], "no room 'nope'"),
    ] {
        let err = fails(rc(&f.library, &args));
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    // SQL in a query is searched for as text, never run.
    assert_eq!(search(&f, &["\"'; DROP TABLE rooms; --\""]), vec![]);
    assert_eq!(json(&f.library, &["rooms"]).as_array().unwrap().len(), 3);
}

#[test]
fn a_recording_lands_in_the_library_unless_told_otherwise() {
    let f = fixture();
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("rtp://127.0.0.1:{port}");
    let out = json(&f.library, &["record", &url, "--max-duration", "1", "--title", "Quick Chat"]);
    let session = PathBuf::from(out["session"].as_str().unwrap());
    assert!(session.starts_with(f.library.join("rooms")), "{}", session.display());
    assert!(session.file_name().unwrap().to_string_lossy().ends_with("-quick-chat"));
    assert!(session.join("room.json").is_file());
    // Into a folder that is not a library: refused before joining, nothing written.
    let other = f.root.join("documents");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("thesis.txt"), "mine").unwrap();
    let err = fails(rc(&other, &["record", &url, "--max-duration", "1"]));
    assert!(err.contains("not a roomcast library"), "{err}");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
}

#[test]
fn a_room_id_that_is_a_path_is_refused() {
    let f = fixture();
    let dir = room(&f.root, "evil", "Evil", "2026-11-01T00:00:00Z", &[("ana", "Ana")], &[("ana", 1.0, "hello")]);
    let path = dir.join("room.json");
    let text = std::fs::read_to_string(&path).unwrap().replace("\"id\": \"evil\"", "\"id\": \"../../escape\"");
    assert!(text.contains("../../escape"));
    std::fs::write(&path, text).unwrap();
    let err = fails(rc(&f.library, &["index", dir.to_str().unwrap()]));
    assert!(err.contains("room id '../../escape' is not a plain name"), "{err}");
}

/// The SQLite backend itself: its database file read and written directly (rows and the FTS5
/// index behind the behaviour, schema versions, foreign files, read-only mounts, WAL with several
/// processes at once).
mod sqlite {
    use super::*;

    #[test]
    fn publishing_again_replaces_and_remove_leaves_no_trace() {
        let f = fixture();
        let [a, _, _] = three_rooms(&f);
        let db = f.library.join("library.db");
        let count =
            |sql: &str| -> i64 { rusqlite::Connection::open(&db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap() };
        let words = "SELECT sum(json_array_length(words)) FROM segments";
        let before = (count("SELECT count(*) FROM segments"), count(words));
        assert_eq!(before.1, 29 + 20 + 9, "every word of the three rooms kept with its time");
        for _ in 0..3 {
            let r = json(&f.library, &["index", a.to_str().unwrap()]);
            assert_eq!(r["replaced"], true);
        }
        assert_eq!((count("SELECT count(*) FROM segments"), count(words)), before, "no duplicates");
        assert_eq!(count("SELECT count(*) FROM rooms"), 3);
        assert_eq!(search(&f, &["welcome"]).len(), 1);

        let out = json(&f.library, &["remove", "Room Notes 1"]);
        assert_eq!(out["files_deleted"], true);
        assert!(!a.exists(), "the session folder is deleted");
        assert_eq!(count("SELECT count(*) FROM rooms WHERE id = 'room-a'"), 0);
        for table in ["speakers", "segments", "outputs"] {
            assert_eq!(count(&format!("SELECT count(*) FROM {table} WHERE room_id = 'room-a'")), 0, "{table}");
        }
        // Nothing of the room is searchable: the full-text index lost its rows too.
        assert_eq!(count("SELECT count(*) FROM segments_fts WHERE segments_fts MATCH 'welcome'"), 0);
        assert_eq!(search(&f, &["welcome"]), vec![]);
        assert_eq!(count("SELECT count(*) FROM segments_fts"), count("SELECT count(*) FROM segments"));
        let err = fails(rc(&f.library, &["show", "room-a"]));
        assert!(err.contains("no room 'room-a'"), "{err}");
    }

    #[test]
    fn a_folder_that_is_not_a_library_or_is_from_a_newer_roomcast_is_refused_unchanged() {
        let f = fixture();
        let other = f.root.join("documents");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("thesis.txt"), "mine").unwrap();
        let err = fails(rc(&other, &["rooms"]));
        assert!(err.contains("not a roomcast library"), "{err}");
        assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1, "nothing written there");

        let foreign = f.root.join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("library.db"), "this is not SQLite, just text long enough to have a header")
            .unwrap();
        let err = fails(rc(&foreign, &["rooms"]));
        assert!(err.contains("not a roomcast library database"), "{err}");

        three_rooms(&f);
        let db = f.library.join("library.db");
        rusqlite::Connection::open(&db).unwrap().pragma_update(None, "user_version", 99).unwrap();
        let before = std::fs::read(&db).unwrap();
        let err = fails(rc(&f.library, &["search", "podcast"]));
        assert!(err.contains("newer roomcast") && err.contains("schema 99"), "{err}");
        assert!(fails(rc(&f.library, &["index", f.root.join("room-a").to_str().unwrap()])).contains("newer roomcast"));
        assert_eq!(std::fs::read(&db).unwrap(), before, "the newer library is untouched");
    }

    #[test]
    fn a_library_made_by_the_previous_schema_is_upgraded_in_place() {
        use roomcast::library::sqlite::schema;
        let f = fixture();
        std::fs::create_dir_all(&f.library).unwrap();
        {
            // The library as schema 1 wrote it: no words table, no private rooms.
            let conn = rusqlite::Connection::open(f.library.join("library.db")).unwrap();
            conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.pragma_update(None, "application_id", schema::APPLICATION_ID).unwrap();
            conn.execute_batch(
                "INSERT INTO rooms VALUES ('old', 'An old room', '2025-01-01T10:00:00Z', 60.0, 'import:', 'complete', '/nowhere', '2025-01-01T11:00:00Z');
                 INSERT INTO speakers VALUES ('old', 'ana', 'Ana', 'tracks/ana.opus', 'en');
                 INSERT INTO segments (room_id, speaker_id, start, end, text) VALUES ('old', 'ana', 12.0, 14.0, 'An archived conversation');",
            )
            .unwrap();
        }
        let hits = search(&f, &["archived"]);
        assert_eq!(hits, vec![hit("old", "Ana", 12.0)], "old rows survive and stay searchable");
        let conn = rusqlite::Connection::open(f.library.join("library.db")).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, schema::VERSION);
        let private: i64 = conn.query_row("SELECT private FROM rooms WHERE id = 'old'", [], |r| r.get(0)).unwrap();
        assert_eq!(private, 0);
        // And the upgraded library takes new rooms with word timings.
        three_rooms(&f);
        assert_eq!(search(&f, &["naive"]), vec![hit("room-b", "Priya", 5.0)]);
    }

    #[test]
    fn a_schema_2_library_keeps_its_word_timings_when_they_are_packed_per_segment() {
        use roomcast::library::sqlite::schema;
        let f = fixture();
        std::fs::create_dir_all(&f.library).unwrap();
        {
            // Schema 2 kept a row per word.
            let conn = rusqlite::Connection::open(f.library.join("library.db")).unwrap();
            conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
            conn.execute_batch(schema::MIGRATIONS[1]).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.pragma_update(None, "application_id", schema::APPLICATION_ID).unwrap();
            conn.execute_batch(
                "INSERT INTO rooms (id, title, started_at, duration, source, status, session, indexed_at)
                     VALUES ('v2', 'A v2 room', '2025-06-01T10:00:00Z', 60.0, 'import:', 'complete', '/nowhere', '2025-06-01T11:00:00Z');
                 INSERT INTO speakers VALUES ('v2', 'ben', 'Ben', 'tracks/ben.opus', 'en');
                 INSERT INTO segments (id, room_id, speaker_id, start, end, text) VALUES (7, 'v2', 'ben', 30.0, 32.0, 'then the microphone broke');
                 INSERT INTO words VALUES (7, 0, 30.0, 30.3, 'then', 0.9), (7, 1, 30.3, 30.5, 'the', 0.8),
                                          (7, 3, 31.25, 32.0, 'broke', 0.7), (7, 2, 30.5, 31.25, 'microphone', 0.95);",
            )
            .unwrap();
        }
        // The hit lands on the very word, from the migrated timings.
        assert_eq!(search(&f, &["microphone"]), vec![hit("v2", "Ben", 30.5)]);
        assert_eq!(search(&f, &["broke"]), vec![hit("v2", "Ben", 31.25)]);
        let conn = rusqlite::Connection::open(f.library.join("library.db")).unwrap();
        let words: String = conn.query_row("SELECT words FROM segments WHERE id = 7", [], |r| r.get(0)).unwrap();
        let words: Vec<(f64, f64, f64, String)> = serde_json::from_str(&words).unwrap();
        let texts: Vec<&str> = words.iter().map(|w| w.3.as_str()).collect();
        assert_eq!(texts, ["then", "the", "microphone", "broke"], "in order");
        let tables: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'words'", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 0);
    }

    #[test]
    fn a_read_only_library_is_refused_for_writing_and_left_unchanged() {
        let f = fixture();
        let [a, _, _] = three_rooms(&f);
        let ro = f.root.join("ro");
        std::fs::create_dir_all(&ro).unwrap();
        let mounted = Command::new("mount").args(["--bind", "-o", "ro"]).arg(&f.library).arg(&ro).status();
        if !mounted.is_ok_and(|s| s.success()) {
            eprintln!("SKIPPED: cannot make a read-only bind mount here (needs root and mount)");
            return;
        }
        struct Unmount(PathBuf);
        impl Drop for Unmount {
            fn drop(&mut self) {
                let _ = Command::new("umount").arg(&self.0).status();
            }
        }
        let _guard = Unmount(ro.clone());
        let before = std::fs::read(f.library.join("library.db")).unwrap();
        let err = fails(rc(&ro, &["index", a.to_str().unwrap()]));
        assert!(err.contains("read-only"), "{err}");
        let err = fails(rc(&ro, &["remove", "room-a"]));
        assert!(err.contains("read-only"), "{err}");
        assert!(a.exists(), "nothing deleted");
        assert_eq!(std::fs::read(f.library.join("library.db")).unwrap(), before);
        // Searching needs no writing.
        let hits = json(&ro, &["search", "naive"]);
        assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    }

    #[test]
    fn indexing_and_searching_from_several_processes_at_once_neither_fails_nor_corrupts() {
        let f = fixture();
        // Four rooms of 3,000 segments each, indexed by two processes at once, twice over, while a
        // third searches all along.
        let text = "the guest talked about podcasts and loudness and recording every speaker";
        let sessions: Vec<PathBuf> = (0..4)
            .map(|i| {
                let lines: Vec<(&str, f64, &str)> = (0..3000).map(|k| ("ana", k as f64, text)).collect();
                room(
                    &f.root,
                    &format!("busy-{i}"),
                    &format!("Busy {i}"),
                    "2026-11-01T00:00:00Z",
                    &[("ana", "Ana")],
                    &lines,
                )
            })
            .collect();
        // No library yet: the first writers race to create it, too.
        let bin = env!("CARGO_BIN_EXE_roomcast");
        let spawn = |args: Vec<String>| {
            Command::new(bin)
                .env("ROOMCAST_LIBRARY", &f.library)
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let mut searches = 0;
        for round in 0..2 {
            let writers: Vec<_> = sessions
                .iter()
                .skip(round % 2)
                .take(2)
                .chain(sessions.iter().skip(2 + round % 2).take(1))
                .map(|s| spawn(vec!["index".into(), s.to_string_lossy().into_owned()]))
                .collect();
            // Searches while the writers write.
            for _ in 0..5 {
                let out =
                    spawn(vec!["--json".into(), "search".into(), "loudness".into(), "--limit".into(), "5".into()])
                        .wait_with_output()
                        .unwrap();
                assert!(
                    out.status.success(),
                    "a search during indexing failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                searches += 1;
            }
            for w in writers {
                let out = w.wait_with_output().unwrap();
                assert!(out.status.success(), "an index run failed: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        assert_eq!(searches, 10);
        let db = rusqlite::Connection::open(f.library.join("library.db")).unwrap();
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        db.execute("INSERT INTO segments_fts(segments_fts) VALUES ('integrity-check')", [])
            .expect("the full-text index matches");
        let rooms: i64 = db.query_row("SELECT count(*) FROM rooms", [], |r| r.get(0)).unwrap();
        let segments: i64 = db.query_row("SELECT count(*) FROM segments", [], |r| r.get(0)).unwrap();
        assert_eq!((rooms, segments), (4, 12_000), "each room once, whole");
    }

    #[test]
    fn a_new_library_created_by_several_processes_at_once_comes_out_whole_every_time() {
        let f = fixture();
        let sessions: Vec<PathBuf> = (0..4)
            .map(|i| {
                room(
                    &f.root,
                    &format!("race-{i}"),
                    "Race",
                    "2026-11-01T00:00:00Z",
                    &[("ana", "Ana")],
                    &[("ana", 1.0, "a race")],
                )
            })
            .collect();
        // Creating a library is where processes race (the file, WAL, the first migration): each round
        // starts from nothing, four writers at once.
        for round in 0..10 {
            let library = f.root.join(format!("library-{round}"));
            let children: Vec<_> = sessions
                .iter()
                .map(|s| {
                    Command::new(env!("CARGO_BIN_EXE_roomcast"))
                        .env("ROOMCAST_LIBRARY", &library)
                        .args(["index", s.to_str().unwrap()])
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for c in children {
                let out = c.wait_with_output().unwrap();
                assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
            }
            let db = rusqlite::Connection::open(library.join("library.db")).unwrap();
            let rooms: i64 = db.query_row("SELECT count(*) FROM rooms", [], |r| r.get(0)).unwrap();
            assert_eq!(rooms, 4, "round {round}");
        }
    }
}

/// The PostgreSQL backend itself, on a real server (`common::pg`): the library given as a URL,
/// its tables read directly, and the databases and servers it must refuse.
mod postgres {
    use super::*;

    #[test]
    fn a_postgres_url_is_a_library_for_the_command_line() {
        let f = fixture();
        let url = Server::get().database();
        let library = Path::new(&url);
        let sessions = three_sessions(&f);
        for s in &sessions {
            ok(rc(library, &["index", s.to_str().unwrap()]));
        }
        let hits = json(library, &["search", "quiet guest"]);
        assert_eq!(hits[0]["room"], "room-a");
        assert_eq!(hits[0]["at"], 754.0 + 4.0 * WORD);
        let rooms = json(library, &["rooms"]);
        let ids: Vec<&str> = rooms.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["room-c", "room-b", "room-a"]);
        let server = Server::get();
        assert_eq!(
            server.rows(&url, "SELECT application, version FROM schema_version"),
            [format!("roomcast-library|{}", roomcast::library::postgres::schema::VERSION)]
        );
        assert_eq!(server.rows(&url, "SELECT count(*) FROM segments"), ["8"]);
        // Indexing again replaces the room's rows.
        ok(rc(library, &["index", sessions[0].to_str().unwrap()]));
        assert_eq!(server.rows(&url, "SELECT count(*) FROM segments"), ["8"]);
        assert_eq!(server.rows(&url, "SELECT count(*) FROM segments WHERE lexemes @@ 'welcom'::tsquery"), ["1"]);
        ok(rc(library, &["remove", "--keep-files", "room-a"]));
        assert_eq!(server.rows(&url, "SELECT count(*) FROM segments WHERE room_id = 'room-a'"), ["0"]);
    }

    #[test]
    fn an_unreachable_server_is_one_line_and_nothing_is_written() {
        let f = fixture();
        let nowhere = f.root.join("no-server");
        let url = format!("postgresql:///roomcast?host={}&user=postgres", nowhere.display());
        match library::open(Path::new(&url), Access::Write) {
            Err(LibraryError::Storage { path, source }) => {
                assert_eq!(path, Path::new(&url));
                assert!(source.to_string().contains("error connecting to server"), "{source}");
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("opened a library on no server"),
        }
        let err = fails(rc(Path::new(&url), &["rooms"]));
        assert!(err.contains(&url) && err.contains("error connecting to server"), "{err}");
        assert_eq!(err.matches("No such file or directory").count(), 1, "the reason is said once: {err}");
        assert!(!nowhere.exists());
        // A password in the URL is never shown.
        let secret = "postgresql://someone:hunter2@127.0.0.1:1/roomcast?connect_timeout=2";
        let err = fails(rc(Path::new(secret), &["rooms"]));
        assert!(!err.contains("hunter2") && err.contains("someone:***@"), "{err}");
    }

    #[test]
    fn another_applications_database_or_a_newer_schema_is_refused_unchanged() {
        let server = Server::get();
        let url = server.database();
        let name = url.split('?').next().unwrap().rsplit('/').next().unwrap().to_string();
        server.sql(
            &name,
            "CREATE TABLE invoices (id serial PRIMARY KEY, total numeric); INSERT INTO invoices (total) VALUES (12.5);",
        );
        let tables = "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'";
        assert!(
            matches!(library::open(Path::new(&url), Access::Write), Err(LibraryError::ForeignDatabase(p)) if p == Path::new(&url))
        );
        let err = fails(rc(Path::new(&url), &["rooms"]));
        assert!(err.contains("not a roomcast library database"), "{err}");
        assert_eq!(server.rows(&url, tables), ["invoices"], "nothing written");
        assert_eq!(server.rows(&url, "SELECT total FROM invoices"), ["12.5"]);

        // A table of the same name, another application's.
        let url = server.database();
        let name = url.split('?').next().unwrap().rsplit('/').next().unwrap().to_string();
        server.sql(&name, "CREATE TABLE schema_version (version integer); INSERT INTO schema_version VALUES (3);");
        assert!(matches!(library::open(Path::new(&url), Access::Read), Err(LibraryError::ForeignDatabase(_))));
        assert_eq!(server.rows(&url, tables), ["schema_version"]);

        // A library made by a newer roomcast.
        let url = server.database();
        let name = url.split('?').next().unwrap().rsplit('/').next().unwrap().to_string();
        drop(library::open(Path::new(&url), Access::Write).unwrap());
        server.sql(&name, "UPDATE schema_version SET version = 99");
        match library::open(Path::new(&url), Access::Read) {
            Err(LibraryError::TooNew { found: 99, known, .. })
                if known == roomcast::library::postgres::schema::VERSION => {}
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("opened a newer library"),
        }
        let err = fails(rc(Path::new(&url), &["search", "podcast"]));
        assert!(err.contains("newer roomcast") && err.contains("schema 99"), "{err}");
        assert_eq!(server.rows(&url, "SELECT version FROM schema_version"), ["99"]);
    }

    #[test]
    fn opening_a_new_database_from_several_threads_at_once_migrates_it_once() {
        let url = Server::get().database();
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                std::thread::spawn(move || {
                    let dir = tempfile::tempdir().unwrap();
                    PostgresCatalog::open_with_dir(&url, dir.path().to_path_buf(), Access::Write).map(|_| ())
                })
            })
            .collect();
        for t in opened {
            t.join().unwrap().unwrap();
        }
        let version = roomcast::library::postgres::schema::VERSION.to_string();
        assert_eq!(Server::get().rows(&url, "SELECT version FROM schema_version"), [version]);
    }

    #[test]
    fn a_library_of_an_older_schema_is_upgraded_in_place_keeping_its_rooms() {
        let f = fixture();
        let server = Server::get();
        let url = server.database();
        let name = url.split('?').next().unwrap().rsplit('/').next().unwrap().to_string();
        {
            let mut catalog = library::open(Path::new(&url), Access::Write).unwrap();
            three_rooms_in(&f, &mut catalog);
        }
        // Back to schema 1, as the first PostgreSQL roomcast left it: no job queue, no settings.
        server.sql(&name, "DROP TABLE jobs; DROP TABLE settings; UPDATE schema_version SET version = 1");
        let mut catalog = library::open(Path::new(&url), Access::Write).unwrap();
        let version = roomcast::library::postgres::schema::VERSION.to_string();
        assert_eq!(server.rows(&url, "SELECT version FROM schema_version"), [version]);
        assert_eq!(catalog.rooms(true).unwrap().len(), 3, "the rooms are kept");
        assert!(catalog.enqueue(&queue_job("room-a")).unwrap().1, "and the queue is there");
        catalog.set_setting("keep_days", Some("30")).unwrap();
        assert_eq!(catalog.setting("keep_days").unwrap().as_deref(), Some("30"), "and the settings");
    }
}

fn queue_job(room: &str) -> roomcast::library::NewJob {
    roomcast::library::NewJob {
        kind: "publish".into(),
        room: room.into(),
        session: PathBuf::from(format!("/srv/rooms/{room}")),
        spec: serde_json::json!({"formats": ["mp3"]}),
        format: roomcast::library::jobs::JOB_FORMAT,
        max_attempts: 2,
    }
}

/// Retention lives in the library's settings: set, replaced and cleared alike on both backends.
#[test]
fn settings_are_kept_and_cleared_on_both_backends() {
    let f = fixture();
    for mut lib in catalogs(&f) {
        assert_eq!(lib.setting("keep_days").unwrap(), None);
        lib.set_setting("keep_days", Some("30")).unwrap();
        lib.set_setting("keep_days", Some("90")).unwrap();
        lib.set_setting("keep_days:room-a", Some("forever")).unwrap();
        assert_eq!(lib.setting("keep_days").unwrap().as_deref(), Some("90"), "the last value wins");
        assert_eq!(lib.setting("keep_days:room-a").unwrap().as_deref(), Some("forever"));
        lib.set_setting("keep_days", None).unwrap();
        assert_eq!(lib.setting("keep_days").unwrap(), None);
    }
}

/// The job queue, on both backends: what `roomcast worker` relies on.
mod queue {
    use std::time::Duration;

    use roomcast::library::jobs::{JOB_FORMAT, JobState, NewJob};

    use super::*;

    fn job(room: &str) -> NewJob {
        queue_job(room)
    }

    #[test]
    fn a_room_is_queued_once_while_its_job_waits_or_runs_and_again_after() {
        let f = fixture();
        for mut q in catalogs(&f) {
            let (first, created) = q.enqueue(&job("r1")).unwrap();
            assert!(created);
            assert_eq!((first.state, first.attempts), (JobState::Queued, 0));
            assert_eq!(first.spec["formats"][0], "mp3", "the job's options come back as given");
            let (again, created) = q.enqueue(&job("r1")).unwrap();
            assert!(!created, "a second request for a waiting room is the same job");
            assert_eq!(again.id, first.id);
            let claim = q.claim("w1", Duration::from_secs(30)).unwrap().unwrap();
            assert!(!q.enqueue(&job("r1")).unwrap().1, "nor while it runs");
            assert_eq!(q.finish(&claim, None).unwrap(), Some(JobState::Done));
            let (later, created) = q.enqueue(&job("r1")).unwrap();
            assert!(created, "publishing a done room again is new work");
            assert_ne!(later.id, first.id);
            assert_eq!(q.jobs(10).unwrap().len(), 2);
        }
    }

    #[test]
    fn each_job_goes_to_one_worker_oldest_first() {
        let f = fixture();
        for mut q in catalogs(&f) {
            for room in ["r1", "r2", "r3"] {
                q.enqueue(&job(room)).unwrap();
            }
            let lease = Duration::from_secs(30);
            let a = q.claim("w1", lease).unwrap().unwrap();
            let b = q.claim("w2", lease).unwrap().unwrap();
            let c = q.claim("w3", lease).unwrap().unwrap();
            assert_eq!([&a, &b, &c].map(|c| c.job.room.clone()), ["r1", "r2", "r3"]);
            assert_eq!(c.job.worker.as_deref(), Some("w3"));
            assert!(q.claim("w4", lease).unwrap().is_none(), "nothing left to claim");
            let counts = q.queue_counts().unwrap();
            assert_eq!((counts.queued, counts.running), (0, 3));
        }
    }

    #[test]
    fn a_job_whose_worker_stopped_renewing_goes_to_the_next_worker_and_the_first_is_fenced_off() {
        let f = fixture();
        for mut q in catalogs(&f) {
            q.enqueue(&job("r1")).unwrap();
            let dead = q.claim("dead", Duration::from_millis(300)).unwrap().unwrap();
            assert!(q.renew(&dead, Some("transcribe")).unwrap(), "a live lease renews");
            assert_eq!(q.jobs(1).unwrap()[0].step.as_deref(), Some("transcribe"));
            assert!(q.claim("w2", Duration::from_secs(30)).unwrap().is_none(), "a held lease is not taken");
            std::thread::sleep(Duration::from_millis(700));
            let next = q.claim("w2", Duration::from_secs(30)).unwrap().expect("the expired job is claimed again");
            assert_eq!((next.job.id, next.attempt()), (dead.job.id, 2));
            assert_eq!(next.job.step, None, "redone from the start");
            // The first worker wakes up: it can neither renew nor report.
            assert!(!q.renew(&dead, None).unwrap());
            assert_eq!(q.finish(&dead, Some("late")).unwrap(), None);
            assert_eq!(q.finish(&next, None).unwrap(), Some(JobState::Done));
            let done = &q.jobs(1).unwrap()[0];
            assert_eq!((done.state, done.attempts, done.worker.as_deref()), (JobState::Done, 2, Some("w2")));
        }
    }

    #[test]
    fn a_failed_job_keeps_its_error_waits_and_is_retried_a_bounded_number_of_times() {
        let f = fixture();
        for mut q in catalogs(&f) {
            q.enqueue(&job("r1")).unwrap();
            let first = q.claim("w1", Duration::from_secs(30)).unwrap().unwrap();
            assert_eq!(q.finish(&first, Some("master: disk full")).unwrap(), Some(JobState::Queued));
            let waiting = &q.jobs(1).unwrap()[0];
            assert_eq!((waiting.state, waiting.error.as_deref()), (JobState::Queued, Some("master: disk full")));
            assert!(q.claim("w1", Duration::from_secs(30)).unwrap().is_none(), "a retry waits a little first");
            assert_eq!(q.queue_counts().unwrap().queued, 1, "and still counts as waiting");
            // The queue's own retry time is seconds; a test does not wait for it.
            assert_eq!(roomcast::library::jobs::retry_delay(1), Duration::from_secs(5));
            assert!(roomcast::library::jobs::retry_delay(20) <= Duration::from_secs(600));
        }
        // On SQLite the wait can be shortened in the database itself: the second attempt is the last.
        let mut q = library::open(&f.root.join("catalog-sqlite"), Access::Write).unwrap();
        rusqlite::Connection::open(f.root.join("catalog-sqlite/library.db"))
            .unwrap()
            .execute("UPDATE jobs SET not_before = 0", [])
            .unwrap();
        let second = q.claim("w2", Duration::from_secs(30)).unwrap().unwrap();
        assert_eq!(second.attempt(), 2);
        assert_eq!(q.finish(&second, Some("master: disk full again")).unwrap(), Some(JobState::Failed));
        let failed = &q.jobs(1).unwrap()[0];
        assert_eq!((failed.state, failed.error.as_deref()), (JobState::Failed, Some("master: disk full again")));
        assert!(q.claim("w3", Duration::from_secs(30)).unwrap().is_none(), "a failed job stays failed");
    }

    #[test]
    fn a_job_for_a_newer_roomcast_is_left_to_a_newer_worker() {
        let f = fixture();
        for mut q in catalogs(&f) {
            q.enqueue(&NewJob { format: JOB_FORMAT + 1, ..job("future") }).unwrap();
            assert!(q.claim("old", Duration::from_secs(30)).unwrap().is_none());
            let counts = q.queue_counts().unwrap();
            assert_eq!((counts.queued, counts.too_new), (0, 1));
        }
    }
}
