//! `roomcast serve` and `roomcast feed`: every route over real HTTP, range requests, escaping of
//! hostile titles and transcripts, path traversal, the token, private rooms, the feed read by an
//! independent XML parser with its enclosures, transcripts and chapters fetched and parsed, and a
//! real browser (Debian's chromium driven by playwright-core) playing a room, and a two-hour room
//! with solo and mute within a phone's memory.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use common::http::{get, request, serve};
use common::*;

struct Library {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// Room ids: the sample room, the hostile one, the private one.
    notes: String,
    hostile: String,
    secret: String,
    notes_session: PathBuf,
}

fn rc(library: &Path, args: &[&str]) -> String {
    ok(Command::new(env!("CARGO_BIN_EXE_roomcast")).env("ROOMCAST_LIBRARY", library).args(args).output().unwrap())
}

/// A transcript of the sample room from its script, each line's words spread evenly over it.
fn sample_transcript() -> Value {
    let timeline = std::fs::read_to_string(sample("timeline.txt")).unwrap();
    let mut segments = Vec::new();
    for line in timeline.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (a, b) = cols[0].split_once('-').unwrap();
        let (start, end): (f64, f64) = (a.trim().parse().unwrap(), b.trim().parse().unwrap());
        let words: Vec<&str> = cols[2].split_whitespace().collect();
        let step = (end - start) / words.len() as f64;
        let timed: Vec<Value> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let s = ((start + i as f64 * step) * 100.0).round() / 100.0;
                serde_json::json!({"start": s, "end": s + step * 0.9, "text": w, "probability": 0.9})
            })
            .collect();
        segments.push(serde_json::json!({
            "speaker": cols[1].to_lowercase(), "name": cols[1], "start": start, "end": end,
            "text": cols[2], "words": timed
        }));
    }
    serde_json::json!({"format": "roomcast-transcript", "version": 1, "room": "", "title": "", "duration": 80.0,
        "speakers": [], "segments": segments})
}

fn import(dir: &Path, name: &str, title: &str, speakers: &[(&str, &str)], extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args: Vec<String> =
        vec!["import".into(), "--out".into(), out.to_string_lossy().into(), "--title".into(), title.into()];
    for (who, file) in speakers {
        args.push("--speaker".into());
        args.push(format!("{who}={}", sample(file).display()));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    ok(Command::new(env!("CARGO_BIN_EXE_roomcast")).args(&args).output().unwrap());
    out
}

fn room_id(session: &Path) -> String {
    room_json(session)["id"].as_str().unwrap().to_string()
}

/// One library for the read-only tests: built once, each test runs its own server on it.
fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library");
        let notes = import(
            dir.path(),
            "notes",
            "Room Notes",
            &[("Maya", "maya.opus"), ("Theo", "theo.opus"), ("Priya", "priya.opus")],
            &[
                "--offset",
                "Priya=38",
                "--chapter",
                "0=Intro",
                "--chapter",
                "38=Our guest",
                "--started-at",
                "2026-11-20T18:00:00Z",
            ],
        );
        // A soundbite, as `roomcast clip` writes it; its title is hostile on purpose.
        let mut events = std::fs::OpenOptions::new().append(true).open(notes.join("events.jsonl")).unwrap();
        writeln!(events, r#"{{"t":61.0,"type":"soundbite","end":63.5,"title":"Level <each> speaker"}}"#).unwrap();
        let t = dir.path().join("notes.json");
        std::fs::write(&t, sample_transcript().to_string()).unwrap();
        rc(&path, &["import-transcript", notes.to_str().unwrap(), t.to_str().unwrap()]);
        rc(&path, &["publish", notes.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"]);

        let hostile = import(
            dir.path(),
            "hostile",
            "<script>alert(\"title\")</script> & Co",
            &[("Maya", "maya.opus")],
            &["--started-at", "2026-11-21T18:00:00Z"],
        );
        let vtt = dir.path().join("hostile.vtt");
        std::fs::write(
            &vtt,
            "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Maya>&lt;img src=x onerror=alert(1)&gt; hostile words\n",
        )
        .unwrap();
        rc(&path, &["import-transcript", hostile.to_str().unwrap(), vtt.to_str().unwrap()]);
        rc(&path, &["publish", hostile.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"]);

        let secret = import(dir.path(), "secret", "Secret Planning", &[("Theo", "theo.opus")], &[]);
        let srt = dir.path().join("secret.srt");
        std::fs::write(&srt, "1\n00:00:02,000 --> 00:00:04,000\nTheo: the confidential budget\n").unwrap();
        rc(&path, &["import-transcript", secret.to_str().unwrap(), srt.to_str().unwrap()]);
        rc(&path, &["publish", secret.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"]);
        rc(&path, &["private", &room_id(&secret)]);
        Library {
            notes: room_id(&notes),
            hostile: room_id(&hostile),
            secret: room_id(&secret),
            notes_session: notes,
            path,
            _dir: dir,
        }
    })
}

#[test]
fn the_room_list_and_pages_show_public_rooms_with_hostile_text_escaped() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    let home = get(&server.base, "/");
    assert_eq!(home.status, 200);
    let html = home.text();
    assert!(html.contains("Room Notes") && html.contains("Maya, Theo, Priya"), "{html}");
    assert!(!html.contains("<script>alert"), "a title is never markup");
    assert!(html.contains("&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; &amp; Co"));
    assert!(!html.contains("Secret Planning"), "private rooms are not listed without the token");

    let page = get(&server.base, &format!("/rooms/{}", lib.hostile)).text();
    assert!(!page.contains("<img src=x"), "transcript text is never markup");
    assert!(page.contains("&lt;img"), "{page}");
    let api = get(&server.base, "/api/rooms");
    let rooms: Value = serde_json::from_slice(&api.body).unwrap();
    assert_eq!(rooms.as_array().unwrap().len(), 2);
    let tmp = std::env::temp_dir();
    assert!(!api.text().contains(tmp.to_str().unwrap()), "no server paths in the API: {}", api.text());
    assert_eq!(rooms[1]["speakers"][0]["track"], format!("/rooms/{}/tracks/maya", lib.notes));
}

#[test]
fn the_room_page_has_the_player_the_timed_transcript_and_the_downloads() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    let page = get(&server.base, &format!("/rooms/{}", lib.notes));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains(&format!("src=\"/rooms/{}/audio\"", lib.notes)), "{html}");
    assert!(html.contains("class=\"w\" data-s=\"1.00\""), "word timings on the page");
    assert!(html.contains(&format!("/rooms/{}/tracks/priya\" download", lib.notes)));
    assert!(html.contains("<span class=\"who\">Priya</span>"));
    assert!(html.contains("class=\"seg overlap\""), "Theo's 'Exactly!' overlaps Maya");
    assert!(html.contains("const START = 0;"));
    let at = get(&server.base, &format!("/rooms/{}?t=52.5", lib.notes)).text();
    assert!(at.contains("const START = 52.5;"));
    for bad in ["abc", "-1", "99999", "NaN", "inf"] {
        let r = get(&server.base, &format!("/rooms/{}?t={bad}", lib.notes));
        assert_eq!(r.status, 400, "t={bad}");
        assert!(r.text().contains("not a time in this room"), "{}", r.text());
    }
    let unknown = get(&server.base, "/rooms/no-such-room");
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("no room &#39;no-such-room&#39;"), "{}", unknown.text());
    assert_eq!(get(&server.base, &format!("/rooms/{}", lib.secret)).status, 404, "private without the token");

    let chapters: Value =
        serde_json::from_slice(&get(&server.base, &format!("/rooms/{}/chapters.json", lib.notes)).body).unwrap();
    assert_eq!(chapters["version"], "1.2.0");
    let titles: Vec<(f64, &str)> = chapters["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["startTime"].as_f64().unwrap(), c["title"].as_str().unwrap()))
        .collect();
    assert_eq!(titles, [(0.0, "Intro"), (38.0, "Our guest")]);
    let vtt = get(&server.base, &format!("/rooms/{}/transcript.vtt", lib.notes));
    assert_eq!(vtt.status, 200);
    // A session's own HTML runs sandboxed, never as this site's page.
    let html = get(&server.base, &format!("/rooms/{}/transcript.html", lib.notes));
    assert_eq!((html.status, html.headers["content-security-policy"].as_str()), (200, "sandbox"));
    assert_eq!(html.headers["x-content-type-options"], "nosniff");
    assert!(vtt.text().starts_with("WEBVTT"));
    let track = get(&server.base, &format!("/rooms/{}/tracks/maya", lib.notes));
    assert_eq!(track.status, 200);
    assert!(track.headers["content-disposition"].starts_with("attachment"));
    assert_eq!(track.body, std::fs::read(lib.notes_session.join("tracks/maya.opus")).unwrap());
    assert_eq!(get(&server.base, &format!("/rooms/{}/tracks/nobody", lib.notes)).status, 404);
}

#[test]
fn audio_is_served_with_range_requests_so_browsers_can_seek() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    let master = std::fs::read(lib.notes_session.join("master.mp3")).unwrap();
    let path = format!("/rooms/{}/audio", lib.notes);
    let full = get(&server.base, &path);
    assert_eq!(full.status, 200);
    assert_eq!(full.headers["accept-ranges"], "bytes");
    assert_eq!(full.headers["content-type"], "audio/mpeg");
    assert_eq!(full.body, master);
    let part = request(&server.base, &path, &[("Range", "bytes=1000-1999")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.headers["content-range"], format!("bytes 1000-1999/{}", master.len()));
    assert_eq!(part.body, master[1000..2000]);
    let tail = request(&server.base, &path, &[("Range", "bytes=-100")]);
    assert_eq!(tail.body, master[master.len() - 100..]);
    let open = request(&server.base, &path, &[("Range", &format!("bytes={}-", master.len() - 10))]);
    assert_eq!((open.status, open.body.len()), (206, 10));
    let past = request(&server.base, &path, &[("Range", &format!("bytes={}-", master.len() + 5))]);
    assert_eq!(past.status, 416);
    assert_eq!(past.headers["content-range"], format!("bytes */{}", master.len()));
    // A speaker's track the same way, as Ogg Opus: the room page streams and seeks each one.
    let track = std::fs::read(lib.notes_session.join("tracks/maya.opus")).unwrap();
    let part = request(&server.base, &format!("/rooms/{}/tracks/maya", lib.notes), &[("Range", "bytes=100-199")]);
    assert_eq!((part.status, part.headers["content-type"].as_str()), (206, "audio/ogg; codecs=opus"));
    assert_eq!(part.headers["content-range"], format!("bytes 100-199/{}", track.len()));
    assert_eq!(part.body, track[100..200]);
}

#[test]
fn no_request_path_reaches_a_file_the_library_did_not_publish() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    for path in [
        format!("/rooms/{}/..%2F..%2Flibrary.db", lib.notes),
        format!("/rooms/{}/%2e%2e/room.json", lib.notes),
        format!("/rooms/{}/room.json", lib.notes),
        format!("/rooms/{}/events.jsonl", lib.notes),
        format!("/rooms/{}/tracks/..%2F..%2Froom.json", lib.notes),
        format!("/rooms/{}/tracks/%2e%2e%2f%2e%2e%2fetc%2fpasswd", lib.notes),
        "/rooms/..%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        "/rooms/%2e%2e/audio".to_string(),
        "/../../etc/passwd".to_string(),
        format!("/rooms/{}/master.mp3%00.txt", lib.notes),
    ] {
        let r = get(&server.base, &path);
        assert!(r.status == 404 || r.status == 400, "{path}: {}", r.status);
        let body = r.text();
        assert!(
            !body.contains("root:x:0") && !body.contains("roomcast-session") && !body.contains("SQLite format"),
            "{path}"
        );
    }
    // The master under its own published name works; under another name it does not.
    assert_eq!(get(&server.base, &format!("/rooms/{}/master.mp3", lib.notes)).status, 200);
    assert_eq!(get(&server.base, &format!("/rooms/{}/master.json", lib.notes)).status, 404);
}

#[test]
fn search_pages_link_every_hit_to_its_moment_and_reject_bad_queries() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    let page = get(&server.base, "/search?q=loudness&speaker=priya");
    assert_eq!(page.status, 200);
    let html = page.text();
    let link = format!("href=\"/rooms/{}?t=52\"", lib.notes);
    assert!(html.contains(&link), "Priya says Loudness at 52 s: {html}");
    assert!(html.contains("<mark>Loudness</mark>"), "{html}");
    let hostile = get(&server.base, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E").text();
    assert!(!hostile.contains("<script>alert(1)"), "the query is escaped where it is shown");
    let bad = get(&server.base, "/search?q=%22unterminated");
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("not a valid search"), "{}", bad.text());
    assert!(!get(&server.base, "/search?q=budget").text().contains("Secret Planning"), "private: not searchable");
    assert_eq!(get(&server.base, "/search?q=loudness&since=yesterday").status, 400);
    assert_eq!(get(&server.base, "/search?q=").status, 200);
    let api: Value = serde_json::from_slice(&get(&server.base, "/api/search?q=welcome").body).unwrap();
    assert_eq!(api[0]["name"], "Maya");
    assert_eq!(api[0]["replay"], Value::Null, "no server paths leave the server");
}

#[test]
fn with_a_token_every_request_needs_it_and_private_rooms_appear() {
    let lib = library();
    let token = "s3cret-token-0123456789";
    let server = serve(&lib.path, &["--token", token]);
    for path in ["/", "/feed.xml", &format!("/rooms/{}/audio", lib.notes), "/api/search?q=welcome"] {
        assert_eq!(get(&server.base, path).status, 401, "{path}");
    }
    assert_eq!(request(&server.base, "/", &[("Authorization", "Bearer wrong-token-0123456789")]).status, 401);
    let ok = request(&server.base, "/", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("Secret Planning"), "private rooms with the token");
    let link = get(&server.base, &format!("/?token={token}"));
    assert_eq!(link.status, 200);
    let cookie = link.headers["set-cookie"].split(';').next().unwrap().to_string();
    let with_cookie = request(&server.base, &format!("/rooms/{}", lib.secret), &[("Cookie", &cookie)]);
    assert_eq!(with_cookie.status, 200);
    let search = request(&server.base, "/search?q=budget", &[("Cookie", &cookie)]);
    assert!(search.text().contains("Secret Planning"));
    // Podcast apps send no headers: the feed's links carry the token, and they work.
    let feed = get(&server.base, &format!("/feed.xml?token={token}")).text();
    let enclosure = feed.split("<enclosure url=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    assert!(enclosure.ends_with(&format!("?token={token}")), "{enclosure}");
    assert_eq!(get(&server.base, enclosure.trim_start_matches(&server.base)).status, 200);

    // Beyond loopback without a token: refused before listening.
    let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_LIBRARY", &lib.path)
        .args(["serve", "--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a token") && err.trim().lines().count() == 1, "{err}");
}

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Reads a feed with Python's XML parser and lists what it holds as JSON.
const READ_FEED: &str = r#"
import json, sys, xml.etree.ElementTree as ET
it = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
pc = "{https://podcastindex.org/namespace/1.0}"
ch = ET.parse(sys.argv[1]).getroot().find("channel")
out = {"channel": {t: ch.findtext(t) for t in ["title", "description", "language", "link"]}}
out["channel"]["itunes"] = {t: (ch.find(it + t).attrib if ch.find(it + t) is not None and ch.find(it + t).attrib else ch.findtext(it + t))
    for t in ["image", "category", "explicit", "author"]}
out["items"] = []
for i in ch.findall("item"):
    e = i.find("enclosure")
    out["items"].append({
        "title": i.findtext("title"), "guid": i.findtext("guid"), "pubDate": i.findtext("pubDate"),
        "duration": i.findtext(it + "duration"), "enclosure": dict(e.attrib) if e is not None else None,
        "transcripts": [dict(t.attrib) for t in i.findall(pc + "transcript")],
        "chapters": dict(i.find(pc + "chapters").attrib) if i.find(pc + "chapters") is not None else None,
        "people": [p.text for p in i.findall(pc + "person")],
    })
print(json.dumps(out))
"#;

#[test]
fn the_feed_has_what_podcast_apps_require_and_every_link_resolves() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    let xml = get(&server.base, "/feed.xml");
    assert_eq!(xml.status, 200);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.xml");
    std::fs::write(&file, &xml.body).unwrap();
    let feed: Value = serde_json::from_str(&python(READ_FEED, &[file.to_str().unwrap()])).unwrap();
    let c = &feed["channel"];
    assert_eq!(c["title"], "Room Notes & Friends");
    assert!(!c["description"].as_str().unwrap_or_default().is_empty(), "a channel description");
    assert!(c["link"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert_eq!(c["language"], "en");
    assert_eq!(c["itunes"]["image"]["href"], "https://example.com/cover.jpg");
    assert_eq!(c["itunes"]["category"]["text"], "Technology");
    assert_eq!(c["itunes"]["explicit"], "false");
    assert_eq!(c["itunes"]["author"], "Maya");
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the private room stays out: {feed}");
    for item in items {
        assert!(
            item["guid"].as_str().is_some()
                && item["pubDate"].as_str().is_some()
                && item["duration"].as_str().is_some()
        );
        let enclosure = &item["enclosure"];
        assert_eq!(enclosure["type"], "audio/mpeg");
        let url = enclosure["url"].as_str().unwrap();
        let body = get(&server.base, url.trim_start_matches(&server.base)).body;
        assert_eq!(
            enclosure["length"].as_str().unwrap().parse::<usize>().unwrap(),
            body.len(),
            "enclosure length is the file's size"
        );
    }
    let notes = items.iter().find(|i| i["title"] == "Room Notes").unwrap();
    assert_eq!(notes["duration"], "0:01:20");
    assert_eq!(notes["people"], serde_json::json!(["Maya", "Theo", "Priya"]));
    let hostile = items.iter().find(|i| i["guid"] == lib.hostile.as_str()).unwrap();
    assert_eq!(hostile["title"], "<script>alert(\"title\")</script> & Co", "escaped in XML, read back exactly");
    // Every transcript and the chapters resolve and parse.
    let types: Vec<&str> =
        notes["transcripts"].as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["text/vtt", "application/x-subrip", "application/json"]);
    assert_eq!(notes["transcripts"][0]["rel"], "captions");
    for t in notes["transcripts"].as_array().unwrap() {
        let url = t["url"].as_str().unwrap();
        let body = get(&server.base, url.trim_start_matches(&server.base));
        assert_eq!(body.status, 200, "{url}");
        let f = dir.path().join("t");
        std::fs::write(&f, &body.body).unwrap();
        let check = match t["type"].as_str().unwrap() {
            "text/vtt" => {
                "import webvtt,sys; c=list(webvtt.read(sys.argv[1])); assert c and c[0].voice=='Maya', c[0].voice; print(len(c))"
            }
            "application/x-subrip" => {
                "import srt,sys; s=list(srt.parse(open(sys.argv[1]).read())); assert s[0].content.startswith('Maya:'); print(len(s))"
            }
            _ => {
                "import json,sys; d=json.load(open(sys.argv[1])); assert d['segments'][0]['speaker']=='Maya'; print(len(d['segments']))"
            }
        };
        assert!(python(check, &[f.to_str().unwrap()]).trim().parse::<usize>().unwrap() >= 10, "{url}");
    }
    let chapters_url = notes["chapters"]["url"].as_str().unwrap();
    assert_eq!(notes["chapters"]["type"], "application/json+chapters");
    let chapters: Value =
        serde_json::from_slice(&get(&server.base, chapters_url.trim_start_matches(&server.base)).body).unwrap();
    assert_eq!(chapters["chapters"][1]["title"], "Our guest");
}

#[test]
fn the_static_feed_writes_the_same_feed_and_files_for_any_web_host() {
    let lib = library();
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    rc(
        &lib.path,
        &["feed", "--out", site.to_str().unwrap(), "--base-url", "https://example.com/pod/", "--title", "Room Notes"],
    );
    let feed: Value = serde_json::from_str(&python(READ_FEED, &[site.join("feed.xml").to_str().unwrap()])).unwrap();
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "private rooms never go into a static feed");
    for item in items {
        let url = item["enclosure"]["url"].as_str().unwrap();
        let local = site.join(url.strip_prefix("https://example.com/pod/").unwrap());
        let len = std::fs::metadata(&local).unwrap().len();
        assert_eq!(item["enclosure"]["length"].as_str().unwrap().parse::<u64>().unwrap(), len);
        for t in item["transcripts"].as_array().unwrap() {
            assert!(site.join(t["url"].as_str().unwrap().strip_prefix("https://example.com/pod/").unwrap()).is_file());
        }
        assert!(
            site.join(item["chapters"]["url"].as_str().unwrap().strip_prefix("https://example.com/pod/").unwrap())
                .is_file()
        );
    }
}

#[test]
fn a_missing_master_and_a_library_being_written_give_pages_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library");
    let session = import(dir.path(), "solo", "Solo", &[("Maya", "maya.opus")], &[]);
    rc(&library, &["publish", session.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"]);
    let id = room_id(&session);
    std::fs::remove_file(session.join("master.mp3")).unwrap();
    let server = serve(&library, &[]);
    let page = get(&server.base, &format!("/rooms/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("no master file"), "{}", page.text());
    let audio = get(&server.base, &format!("/rooms/{id}/audio"));
    assert_eq!(audio.status, 404);
    assert!(audio.text().contains("missing"), "{}", audio.text());
    // The feed leaves the room out instead of announcing a file that is not there.
    assert!(!get(&server.base, "/feed.xml").text().contains("<item>"));

    // Indexing while the server answers: every request still gets a page.
    let other = import(dir.path(), "duo", "Duo", &[("Theo", "theo.opus")], &[]);
    let bin = env!("CARGO_BIN_EXE_roomcast");
    let mut writer = Command::new(bin)
        .env("ROOMCAST_LIBRARY", &library)
        .args(["publish", other.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..30 {
        assert_eq!(get(&server.base, "/").status, 200);
        assert_eq!(get(&server.base, "/search?q=anything").status, 200);
    }
    assert!(writer.wait().unwrap().success());
    assert!(get(&server.base, "/").text().contains("Duo"));
    assert!(session.join("tracks/maya.opus").is_file(), "nothing changed on disk by serving");
}

#[test]
fn a_real_browser_plays_the_room_follows_the_words_and_jumps_to_search_hits() {
    let lib = library();
    let node_modules = repo().join("tests/browser/node_modules/playwright-core");
    assert!(
        node_modules.is_dir() && Path::new("/usr/bin/chromium").is_file(),
        "the browser test needs chromium and playwright-core: run scripts/test.sh (it installs both)"
    );
    let server = serve(&lib.path, &[]);
    // Theo's "And transcripts get better too..." line starts at 24.5 s.
    let word = "24.50";
    let artifacts = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("room-page.png");
    let out = Command::new("node")
        .current_dir(repo().join("tests/browser"))
        .args(["room.mjs", &server.base, &lib.notes, word, "loudness", shot.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "browser run failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let seen: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(seen["errors"], serde_json::json!([]), "no script errors: {seen}");
    assert!(seen["playing"]["t"].as_f64().unwrap() > 0.3, "it plays: {seen}");
    let after = seen["after_click"]["t"].as_f64().unwrap();
    assert!((after - 24.5).abs() < 0.6, "clicking the word moved the audio there: {seen}");
    assert!(seen["lit"].as_array().unwrap().iter().any(|s| (s.as_f64().unwrap() - 24.5).abs() < 0.01), "{seen}");
    let later = seen["later"]["t"].as_f64().unwrap();
    assert!(later > after + 0.5, "it kept playing: {seen}");
    let lit_later: Vec<f64> = seen["lit_later"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(lit_later.iter().any(|s| *s > 24.6 && *s <= later + 0.01), "the highlight followed the audio: {seen}");
    let href = seen["hit_href"].as_str().unwrap();
    let t: f64 = href.split("t=").nth(1).unwrap().parse().unwrap();
    assert!((seen["at_hit"]["t"].as_f64().unwrap() - t).abs() < 0.6, "the hit opened at its moment: {seen}");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "screenshot kept at {}", shot.display());
}

#[test]
fn a_quote_link_stops_at_its_end_and_a_bad_end_is_refused() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    let room = format!("/rooms/{}", lib.notes);
    let html = get(&server.base, &room).text();
    assert!(html.contains("const END = null;"), "no end without a quote");
    assert!(html.contains("data-t=\"38.00\">0:00:38</a> Our guest"), "the chapter list");
    assert!(html.contains("data-s=\"61.00\" data-e=\"63.50\""), "the soundbite's span");
    assert!(html.contains("Level &lt;each&gt; speaker") && !html.contains("<each>"), "its title escaped");
    for name in ["Maya", "Theo", "Priya"] {
        let lane = format!("data-name=\"{name}\" data-tracks=\"/rooms/{}/tracks/{}\"", lib.notes, name.to_lowercase());
        assert!(html.contains(&lane), "a lane with its track for {name}");
    }
    let quote = get(&server.base, &format!("{room}?t=52&end=55.5"));
    assert_eq!(quote.status, 200);
    assert!(quote.text().contains("const START = 52;\nconst END = 55.5;"));
    for bad in ["t=10&end=abc", "t=10&end=5", "t=10&end=10", "end=99999", "t=1&end=NaN", "t=1&end=inf"] {
        let r = get(&server.base, &format!("{room}?{bad}"));
        assert_eq!(r.status, 400, "{bad}");
        let message = r.text().split("<p class=\"error\">").nth(1).unwrap().split("</p>").next().unwrap().to_string();
        assert!(message.starts_with("end=") && message.contains("not a time after t="), "{bad}: {message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }
}

/// The turns of the sample transcript: where each change of speaker starts, at its first word.
fn turns() -> Vec<f64> {
    let doc = sample_transcript();
    let segments = doc["segments"].as_array().unwrap();
    let mut out = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        if i == 0 || segments[i - 1]["speaker"] != s["speaker"] {
            out.push(s["words"][0]["start"].as_f64().unwrap());
        }
    }
    out
}

#[test]
fn a_real_browser_solos_mutes_and_skips_through_speakers_chapters_and_quotes() {
    let lib = library();
    assert!(
        repo().join("tests/browser/node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").is_file(),
        "the browser test needs chromium and playwright-core: run scripts/test.sh (it installs both)"
    );
    let server = serve(&lib.path, &[]);
    let artifacts = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("room-player-phone.png");
    let out = Command::new("node")
        .current_dir(repo().join("tests/browser"))
        .args(["player.mjs", &server.base, &lib.notes, shot.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "browser run failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let seen: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let num = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("a number: {v} in {seen}"));
    let near = |v: &Value, want: f64, by: f64| (num(v) - want).abs() < by;
    assert_eq!(seen["errors"], serde_json::json!([]), "no script errors: {seen}");

    let turns = turns();
    let page_turns: Vec<f64> = seen["turns"].as_array().unwrap().iter().map(num).collect();
    assert_eq!(page_turns, turns, "the page's turns are the transcript's");
    let next_after = |t: f64| *turns.iter().find(|s| **s > t + 0.05).unwrap();
    let before = |t: f64| *turns.iter().rev().find(|s| **s < t - 1.0).unwrap();

    // A screen reader says "Solo Maya" and "Mute Maya", and whether each is pressed.
    let pressed = |when: &str| (seen["pressed"][when]["solo"].clone(), seen["pressed"][when]["mute"].clone());
    let (on, off) = (Value::from("true"), Value::from("false"));
    assert_eq!(pressed("before"), (off.clone(), off.clone()), "{seen}");
    assert_eq!(pressed("muted"), (off.clone(), on.clone()), "Mute Maya is pressed: {seen}");
    assert_eq!(pressed("unmuted"), (off.clone(), off.clone()), "and released: {seen}");
    assert_eq!(pressed("soloed"), (on, off), "Solo Maya is pressed: {seen}");

    // Muted, Maya's lane is silent while she talks; Theo's sounds when he answers.
    let muted = &seen["muted"];
    assert_eq!(muted["mode"], "tracks", "muting moves to the speakers' tracks: {seen}");
    assert_eq!(muted["note"], "", "every track loaded: {seen}");
    assert!(num(&muted["to"]) > 8.7, "it played into Theo's answer: {seen}");
    assert!(num(&muted["loudest"]["Maya"]) < 0.001, "muted Maya is silent: {seen}");
    assert!(num(&muted["loudest"]["Theo"]) > 0.005, "Theo is heard: {seen}");
    assert_eq!((num(&muted["gains"]["Maya"]), muted["lane_gain"].as_str()), (0.0, Some("0")));
    assert_eq!(seen["unmuted_mode"], "master", "nothing soloed or muted: the master again");
    let solo = &seen["solo"];
    assert_eq!(solo["mode"], "tracks");
    assert!(num(&solo["loudest"]["Maya"]) > 0.005, "soloed Maya is heard: {seen}");
    assert!(num(&solo["loudest"]["Theo"]) < 0.001 && num(&solo["loudest"]["Priya"]) < 0.001, "only her: {seen}");
    assert_eq!(seen["mode_after"], "master");

    // Turns and chapters, by the buttons.
    let next = next_after(20.0);
    assert!(near(&seen["next_from_20"], next, 0.3), "next speaker from 20 s lands on {next}: {seen}");
    assert!(near(&seen["prev_after"], before(next), 0.3), "previous speaker: {seen}");
    assert!(near(&seen["chapter_click"], 38.0, 0.3), "the chapter list seeks: {seen}");
    assert!(near(&seen["next_chapter_from_5"], 38.0, 0.3), "next chapter: {seen}");

    // The keys.
    let keys = &seen["keys"];
    let n = next_after(30.0);
    assert!(near(&keys["n_from_30"], n, 0.3), "n: {seen}");
    assert!(near(&keys["p_after"], before(n), 0.3), "p: {seen}");
    assert_eq!((&keys["space_paused"], &keys["space_again_paused"]), (&Value::Bool(true), &Value::Bool(false)));
    let at = num(&keys["before_arrows"]);
    assert!(near(&keys["right"], at + 5.0, 0.2), "right arrow: {seen}");
    assert!(near(&keys["left_twice"], at - 5.0, 0.2), "left arrow twice: {seen}");
    assert!(near(&keys["after_typing"], at - 5.0, 0.05), "typing n or p in a box is not a shortcut: {seen}");

    // Search in the room: "Loudness" is Priya's first word at 52 s.
    assert!(num(&seen["find_hits"]) >= 1.0, "{seen}");
    assert!(near(&seen["find_current"]["s"], 52.0, 0.01) && near(&seen["find_current"]["t"], 52.0, 0.3), "{seen}");

    // The quote link: its span is the selected words', it plays and stops at its end, marked.
    let (s, e) = (num(&seen["selected"]["s"]), num(&seen["selected"]["e"]));
    assert_eq!(seen["quote_href"], format!("/rooms/{}?t={s:.2}&end={e:.2}", lib.notes));
    assert!(near(&seen["quote_stop"], e, 0.5), "stopped at the quote's end {e}: {seen}");
    let quoted: Vec<f64> = seen["quoted_words"].as_array().unwrap().iter().map(num).collect();
    assert_eq!((quoted.len(), quoted.first().copied()), (4, Some(s)), "the quoted words are marked: {seen}");

    assert!(seen["soundbite_title"].as_str().unwrap().contains("Level <each> speaker"), "{seen}");
    assert!(near(&seen["soundbite_stop"], 63.5, 0.5), "the soundbite stops at its end: {seen}");

    let fallback = &seen["fallback"];
    assert_eq!(fallback["mode"], "master", "a track that cannot be had keeps the master: {seen}");
    assert!(fallback["note"].as_str().unwrap().contains("Theo"), "the note names the missing track: {seen}");

    let phone = &seen["phone"];
    assert!(num(&phone["scroll_width"]) <= num(&phone["inner_width"]), "no sideways scrolling at 375 px: {seen}");
    assert_eq!(phone["controls_visible"], true, "the controls fit a phone: {seen}");
}

/// The speakers of the long room, each with a tone of their own for 2 s in every 10 s, one after
/// another (Ana from 0 s, Ben from 2.5 s, ...), and silence between.
const LONG_SPEAKERS: [&str; 4] = ["Ana", "Ben", "Cleo", "Dev"];

/// A published two-hour room of four speakers, made cheaply: ten seconds of each speaker encoded
/// once and its Ogg packets repeated for two hours (stream copy), imported packet for packet.
fn long_room(dir: &Path) -> (PathBuf, String) {
    let mut speakers = Vec::new();
    for (i, name) in LONG_SPEAKERS.iter().enumerate() {
        let (ten, long) = (dir.join(format!("{name}-10s.opus")), dir.join(format!("{name}.opus")));
        let tone = format!(
            "sine=f={}:sample_rate=48000:duration=10,volume='if(between(t-{},0,2),0.3,0)':eval=frame,\
             atrim=end_sample=479688",
            200 + 110 * i,
            2.5 * i as f64
        );
        // 479688 samples and the encoder's 312 of pre-skip make exactly 500 packets: the copies
        // join without a gap or a granule out of place.
        ok(tool("ffmpeg")
            .args(["-v", "error", "-f", "lavfi", "-i", &tone, "-c:a", "libopus", "-b:a", "32k"])
            .arg(&ten)
            .output()
            .unwrap());
        ok(tool("ffmpeg")
            .args(["-v", "error", "-stream_loop", "-1", "-i"])
            .arg(&ten)
            .args(["-t", "7200", "-c", "copy"])
            .arg(&long)
            .output()
            .unwrap());
        speakers.push(format!("{name}={}", long.display()));
    }
    let session = dir.join("long");
    let mut import = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    import.args(["import", "--out", session.to_str().unwrap(), "--title", "Two hours"]);
    for s in &speakers {
        import.args(["--speaker", s]);
    }
    ok(import.output().unwrap());
    let library = dir.join("library");
    rc(&library, &["publish", session.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"]);
    (library, room_id(&session))
}

#[test]
fn a_two_hour_room_streams_its_tracks_within_a_phones_memory_and_in_sync_with_the_master() {
    assert!(
        repo().join("tests/browser/node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").is_file(),
        "the browser test needs chromium and playwright-core: run scripts/test.sh (it installs both)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (library, room) = long_room(dir.path());
    let server = serve(&library, &[]);
    let artifacts = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("room-long.png");
    // 1:10:00 less 1.5 s: Ana's tone comes at 1:10:00, Ben's at 1:10:02.5.
    let at = 4198.5;
    let out = Command::new("node")
        .current_dir(repo().join("tests/browser"))
        .args(["long.mjs", &server.base, &room, "Ana", "Ben", &at.to_string(), shot.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "browser run failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let seen: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let num = |v: &Value| v.as_f64().unwrap_or_else(|| panic!("a number: {v} in {seen}"));
    let mb = |v: &Value| num(v) / (1024.0 * 1024.0);

    // What a phone runs out of: the renderer's resident memory, at its peak over the whole run.
    let peak = mb(&seen["memory"]["peak"]);
    eprintln!("renderer peak {peak:.0} MB, largest resident {:.0} MB", mb(&seen["memory"]["rss_max"]));
    assert!(peak < 300.0, "a two-hour, four-speaker room took the renderer to {peak:.0} MB (limit 300 MB): {seen}");
    assert_eq!(seen["failed"], Value::Null, "{seen}");
    assert_eq!(seen["errors"], serde_json::json!([]), "no script errors: {seen}");
    assert_eq!((seen["pressed"]["solo"].as_str(), seen["pressed"]["mute"].as_str()), (Some("true"), Some("true")));

    let played = &seen["played"];
    assert_eq!((played["mode"].as_str(), played["note"].as_str()), (Some("tracks"), Some("")), "{seen}");
    assert!(num(&played["to"]) > at + 5.0, "it played on past 1:10:00: {seen}");
    // Soloed Ana is heard past the first hour; muted Ben and the others are not.
    assert!(num(&played["loudest"]["Ana"]) > 0.005, "Ana is heard at 1:10:00: {seen}");
    for name in &LONG_SPEAKERS[1..] {
        assert!(num(&played["loudest"][name]) < 0.001, "{name} is silent: {seen}");
    }
    // Every track keeps to the master's clock, checked several times as it plays.
    let samples = played["drift"].as_array().unwrap();
    assert!(samples.len() >= 10, "sampled while playing: {seen}");
    let mut worst = 0.0f64;
    for s in samples {
        let master = num(&s["master"]);
        let lanes = s["lanes"].as_array().unwrap();
        assert_eq!(lanes.len(), LONG_SPEAKERS.len(), "{seen}");
        for lane in lanes {
            let tracks = lane["tracks"].as_array().unwrap();
            assert_eq!(tracks.len(), 1, "one playing track per speaker: {seen}");
            assert_eq!(tracks[0]["paused"], false, "{seen}");
            worst = worst.max((num(&tracks[0]["t"]) - master).abs());
        }
    }
    eprintln!("worst track drift from the master {:.1} ms over {} samples", worst * 1000.0, samples.len());
    assert!(worst < 0.050, "every track within 50 ms of the master, worst {:.1} ms: {seen}", worst * 1000.0);

    // The tracks came as Ogg Opus in byte ranges, which is what lets the browser stream and seek:
    // each was read from the middle of the file for 1:10:00 (58 % of the room), not from its start.
    let tracks = seen["tracks"].as_array().unwrap();
    for t in tracks {
        assert_eq!((num(&t["status"]), t["type"].as_str()), (206.0, Some("audio/ogg; codecs=opus")), "{seen}");
        assert!(t["range"].as_str().is_some_and(|r| r.starts_with("bytes=")), "{seen}");
    }
    for name in LONG_SPEAKERS {
        let speaker = name.to_lowercase();
        let size =
            std::fs::metadata(dir.path().join("long/tracks").join(format!("{speaker}.opus"))).unwrap().len() as f64;
        let url = format!("/rooms/{room}/tracks/{speaker}");
        let from = |t: &Value| t["range"].as_str()?.strip_prefix("bytes=")?.split('-').next()?.parse::<f64>().ok();
        assert!(
            tracks
                .iter()
                .filter(|t| t["url"] == url.as_str())
                .filter_map(from)
                .any(|b| b > 0.45 * size && b < 0.7 * size),
            "{name}'s track was read from around 1:10:00 by a range request: {seen}"
        );
    }
    assert!(std::fs::metadata(&shot).unwrap().len() > 5_000, "screenshot kept at {}", shot.display());
}
