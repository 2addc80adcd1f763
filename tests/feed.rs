//! The podcast feed as podcast apps read it: the served feed (`roomcast serve`, /feed.xml) and the
//! static one (`roomcast feed --out`) parsed by an independent parser (Python's feedparser, the one
//! most podcast tools build on) with every tag Apple Podcasts requires present and non-empty; the
//! cover art roomcast draws checked by ffprobe; soundbites, chapters and people read back with
//! their values (Python's XML parser); enclosure lengths equal to the bytes a client downloads.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use common::*;

/// Apple Podcasts' RSS tags ("A Podcaster's Guide to RSS", Podcasts Connect help): the show tags
/// Apple requires (title, description, itunes:image, language, itunes:category, itunes:explicit),
/// the recommended ones (itunes:author, link), and itunes:type, which roomcast always fills.
const APPLE_CHANNEL: &[&str] = &[
    "title",
    "description",
    "itunes:image",
    "language",
    "itunes:category",
    "itunes:explicit",
    "itunes:author",
    "link",
    "itunes:type",
];

/// The show tags roomcast writes when the show gives a value: itunes:owner (an email) and
/// copyright.
const APPLE_CHANNEL_WHEN_KNOWN: &[&str] = &["itunes:owner", "copyright"];

/// The episode tags: required (title, enclosure), recommended (guid, pubDate, description,
/// itunes:duration, link, itunes:explicit) and situational (itunes:episodeType).
const APPLE_ITEM: &[&str] = &[
    "title",
    "enclosure",
    "guid",
    "pubDate",
    "description",
    "itunes:duration",
    "link",
    "itunes:explicit",
    "itunes:episodeType",
];

/// Reads a feed with feedparser and, for the Podcasting 2.0 tags feedparser does not know, with
/// Python's XML parser; prints what it holds as JSON, keyed by the tag names above.
const READ_FEED: &str = r#"
import json, sys, uuid, feedparser, xml.etree.ElementTree as ET
f = feedparser.parse(sys.argv[1])
c = f.feed
it = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
ch = ET.parse(sys.argv[1]).getroot().find("channel")
out = {"bozo": int(f.bozo), "bozo_exception": str(f.get("bozo_exception", "")), "channel": {
    "title": c.get("title"),
    "description": c.get("subtitle"),
    "itunes:image": c.get("image", {}).get("href"),
    "language": c.get("language"),
    "itunes:category": (c.get("tags") or [{}])[0].get("term"),
    # feedparser knows only the old "yes"/"clean" values (Apple now wants "true"/"false") and reads
    # "false" as absent: the text itself, from the XML parser.
    "itunes:explicit": ch.findtext(it + "explicit"),
    "itunes:author": c.get("author"),
    "link": c.get("link"),
    "itunes:owner": c.get("publisher_detail", {}).get("email"),
    "itunes:type": c.get("itunes_type"),
    "copyright": c.get("rights"),
}, "items": []}
for e, i in zip(f.entries, ch.findall("item")):
    enc = (e.get("enclosures") or [{}])[0]
    out["items"].append({
        "title": e.get("title"),
        "enclosure": {"url": enc.get("href"), "length": enc.get("length"), "type": enc.get("type")} if enc else None,
        "guid": e.get("id"),
        "pubDate": e.get("published"),
        "description": e.get("summary"),
        "itunes:duration": e.get("itunes_duration"),
        "link": e.get("link"),
        "itunes:explicit": i.findtext(it + "explicit"),
        "itunes:episodeType": e.get("itunes_episodetype"),
    })
pc = "{https://podcastindex.org/namespace/1.0}"
self_url = ch.find("{http://www.w3.org/2005/Atom}link").get("href")
out["podcast"] = {
    "guid": ch.findtext(pc + "guid"),
    # Podcasting 2.0: a UUIDv5 of the feed URL without its scheme and trailing slashes.
    "expected_guid": str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"),
                                    self_url.split("://", 1)[-1].rstrip("/"))),
    "image_url": ch.findtext("image/url"),
}
for item, i in zip(out["items"], ch.findall("item")):
    item["soundbites"] = [dict(b.attrib, title=b.text) for b in i.findall(pc + "soundbite")]
    item["people"] = [dict(p.attrib, name=p.text) for p in i.findall(pc + "person")]
    item["chapters"] = dict(i.find(pc + "chapters").attrib) if i.find(pc + "chapters") is not None else None
print(json.dumps(out))
"#;

fn rc(library: &Path, args: &[&str]) -> String {
    ok(Command::new(env!("CARGO_BIN_EXE_roomcast")).env("ROOMCAST_LIBRARY", library).args(args).output().unwrap())
}

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3").arg("-c").arg(script).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} (scripts/deps.sh installs feedparser: python3 -m pip install feedparser)",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Library {
    _dir: tempfile::TempDir,
    path: PathBuf,
    room: String,
}

/// One library for all the tests: the sample room with Maya and Theo, its transcript (Priya's lines
/// add her as a transcript-only speaker), a chapter, published as MP3; then Theo renamed and a
/// soundbite marked with `roomcast speakers` and `roomcast clip`.
fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library");
        let session = dir.path().join("notes");
        ok(roomcast(&[
            "import",
            "--speaker",
            &format!("Maya={}", sample("maya.opus").display()),
            "--speaker",
            &format!("Theo={}", sample("theo.opus").display()),
            "--chapter",
            "0=Intro",
            "--title",
            "Room Notes",
            "--started-at",
            "2026-11-20T18:00:00Z",
            "--out",
            session.to_str().unwrap(),
        ]));
        let transcript = dir.path().join("notes.json");
        std::fs::write(&transcript, sample_transcript().to_string()).unwrap();
        rc(&path, &["import-transcript", session.to_str().unwrap(), transcript.to_str().unwrap(), "--add-speakers"]);

        rc(&path, &["publish", session.to_str().unwrap(), "--skip-transcribe", "--format", "mp3"]);
        // After the fact, as a host would: Theo renamed "Theo Park", and a soundbite.
        let id = room_json(&session)["id"].as_str().unwrap().to_string();
        rc(&path, &["speakers", &id, "--rename", "Theo=Theo Park"]);
        rc(&path, &["clip", &id, "--from", "12.5", "--to", "42.75", "--title", "One track per speaker & why"]);
        let room = room_json(&session)["id"].as_str().unwrap().to_string();
        Library { _dir: dir, path, room }
    })
}

/// A transcript of the sample room from its script (segments only: the feed needs no words).
fn sample_transcript() -> Value {
    let timeline = std::fs::read_to_string(sample("timeline.txt")).unwrap();
    let segments: Vec<Value> = timeline
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let (a, b) = cols[0].split_once('-').unwrap();
            let (start, end): (f64, f64) = (a.trim().parse().unwrap(), b.trim().parse().unwrap());
            serde_json::json!({"speaker": cols[1].to_lowercase(), "name": cols[1], "start": start, "end": end,
                "text": cols[2], "words": []})
        })
        .collect();
    serde_json::json!({"format": "roomcast-transcript", "version": 1, "room": "", "title": "", "duration": 80.0,
        "speakers": [], "segments": segments})
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `roomcast serve` on a free port, the show described by flags (no --image unless `extra` says).
fn serve(library: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .env("ROOMCAST_LIBRARY", library)
        .args(["--json", "serve", "--addr", "127.0.0.1:0", "--title", "Room Notes & Friends", "--author", "Maya"])
        .args(["--description", "Conversations recorded one track per speaker.", "--category", "Technology"])
        .args(["--owner-email", "maya@example.com", "--copyright", "2026 Maya Okafor"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        line.push(byte[0] as char);
    }
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("serve did not start: {line:?}"));
    Server { base: v["listening"].as_str().unwrap().to_string(), child }
}

/// GETs a URL: (content type, body).
fn fetch(url: &str) -> (String, Vec<u8>) {
    let response = ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let mime = response.header("content-type").unwrap_or_default().to_string();
    let mut body = Vec::new();
    response.into_reader().read_to_end(&mut body).unwrap();
    (mime, body)
}

/// Parses the feed in `file` and checks what every podcast app needs, returning the parse. `known`:
/// the show gave an owner email and a copyright.
fn read_feed(file: &Path, known: bool) -> Value {
    read_feed_keeping(file, known, None)
}

/// `kept`: the show's guid from an earlier feed of the same library, which a moved feed keeps
/// (else the guid is the UUIDv5 of this feed's URL).
fn read_feed_keeping(file: &Path, known: bool, kept: Option<&Value>) -> Value {
    let feed: Value = serde_json::from_str(&python(READ_FEED, &[file.to_str().unwrap()])).unwrap();
    assert_eq!(feed["bozo"], 0, "feedparser reads the feed cleanly: {}", feed["bozo_exception"]);
    for tag in APPLE_CHANNEL.iter().chain(if known { APPLE_CHANNEL_WHEN_KNOWN } else { &[] }) {
        let v = &feed["channel"][tag];
        assert!(v.as_str().is_some_and(|s| !s.trim().is_empty()), "channel {tag} is missing or empty: {feed}");
    }
    if !known {
        for tag in APPLE_CHANNEL_WHEN_KNOWN {
            assert!(feed["channel"][tag].is_null(), "only what is known: {tag} in {feed}");
        }
    }
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{feed}");
    for item in items {
        for tag in APPLE_ITEM {
            let v = &item[tag];
            let present = match *tag {
                "enclosure" => ["url", "length", "type"].iter().all(|k| v[k].as_str().is_some_and(|s| !s.is_empty())),
                _ => v.as_str().is_some_and(|s| !s.trim().is_empty()),
            };
            assert!(present, "item {tag} is missing or empty: {item}");
        }
    }
    let expected = kept.unwrap_or(&feed["podcast"]["expected_guid"]);
    assert_eq!(&feed["podcast"]["guid"], expected, "podcast:guid is the first feed URL's UUIDv5, kept");
    feed
}

/// The values every feed of this library carries, whoever serves it.
fn check_episode(feed: &Value, room: &str) {
    let c = &feed["channel"];
    assert_eq!(c["language"], "en");
    assert_eq!(c["itunes:category"], "Technology");
    assert_eq!(c["itunes:explicit"], "false");
    assert_eq!(c["itunes:type"], "episodic");
    let item = &feed["items"][0];
    assert_eq!(item["title"], "Room Notes");
    assert_eq!(item["guid"], room);
    assert_eq!(item["itunes:duration"], "0:01:20");
    assert_eq!(item["itunes:explicit"], "false");
    assert_eq!(item["itunes:episodeType"], "full");
    assert_eq!(item["enclosure"]["type"], "audio/mpeg");
    // A renamed speaker appears under the new name (merged speakers, once: tests/editing.rs).
    let people: Vec<(&str, &str)> = item["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["role"].as_str().unwrap()))
        .collect();
    // The renamed speaker under the new name; Priya, whom only the transcript knows, as herself.
    assert_eq!(people, [("Maya", "guest"), ("Theo Park", "guest"), ("Priya", "guest")], "{item}");
    assert_eq!(
        item["soundbites"],
        serde_json::json!([{"startTime": "12.5", "duration": "30.25", "title": "One track per speaker & why"}])
    );
    assert_eq!(item["chapters"]["type"], "application/json+chapters");
}

/// ffprobe's view of an image: (codec, width, height).
fn probe_image(path: &Path) -> (String, u64, u64) {
    let out =
        tool("ffprobe").args(["-v", "error", "-show_streams", "-of", "json"]).arg(path).output().expect("ffprobe");
    assert!(out.status.success(), "ffprobe: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["streams"][0];
    (
        s["codec_name"].as_str().unwrap_or_default().to_string(),
        s["width"].as_u64().unwrap(),
        s["height"].as_u64().unwrap(),
    )
}

#[test]
fn the_served_feed_has_every_tag_apple_requires_its_cover_soundbites_and_exact_lengths() {
    let lib = library();
    let server = serve(&lib.path, &[]);
    let dir = tempfile::tempdir().unwrap();
    let (mime, xml) = fetch(&format!("{}/feed.xml", server.base));
    assert!(mime.starts_with("application/rss+xml"), "{mime}");
    let file = dir.path().join("feed.xml");
    std::fs::write(&file, &xml).unwrap();
    let feed = read_feed(&file, true);
    check_episode(&feed, &lib.room);
    let c = &feed["channel"];
    assert_eq!(c["title"], "Room Notes & Friends");
    assert_eq!(c["description"], "Conversations recorded one track per speaker.");
    assert_eq!(c["itunes:author"], "Maya");
    assert_eq!(c["itunes:owner"], "maya@example.com");
    assert_eq!(c["copyright"], "2026 Maya Okafor");
    assert_eq!(c["link"], format!("{}/", server.base));

    // No --image: the feed names the cover roomcast draws, served beside the feed.
    let cover_url = format!("{}/cover.png", server.base);
    assert_eq!(c["itunes:image"], cover_url.as_str());
    assert_eq!(feed["podcast"]["image_url"], cover_url.as_str());
    let (mime, png) = fetch(&cover_url);
    assert_eq!(mime, "image/png");
    let cover = dir.path().join("cover.png");
    std::fs::write(&cover, &png).unwrap();
    assert_eq!(probe_image(&cover), ("png".to_string(), 3000, 3000));
    assert!(png.len() < 500_000, "Apple and Spotify want artwork under 512 KB: {} bytes", png.len());
    // Apple checks artwork with HEAD requests; the second GET is the cached drawing, the same bytes.
    let head = ureq::head(&cover_url).call().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(fetch(&cover_url).1, png);

    // Every enclosure announces exactly the bytes a client downloads.
    let item = &feed["items"][0];
    let (_, audio) = fetch(item["enclosure"]["url"].as_str().unwrap());
    assert_eq!(item["enclosure"]["length"].as_str().unwrap().parse::<usize>().unwrap(), audio.len());
    let (_, chapters) = fetch(item["chapters"]["url"].as_str().unwrap());
    let chapters: Value = serde_json::from_slice(&chapters).unwrap();
    assert_eq!(chapters["chapters"][0]["title"], "Intro");
    assert_eq!(chapters["chapters"][0]["startTime"], 0.0);
}

#[test]
fn the_static_feed_writes_the_cover_and_announces_the_copied_files_exact_sizes() {
    let lib = library();
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let base = "https://example.com/pod";
    rc(
        &lib.path,
        &["feed", "--out", site.to_str().unwrap(), "--base-url", &format!("{base}/"), "--title", "Room Notes"],
    );
    let feed = read_feed(&site.join("feed.xml"), false);
    check_episode(&feed, &lib.room);
    let c = &feed["channel"];
    // Without --author or --description the show's title stands in: Apple wants both.
    assert_eq!(c["itunes:author"], "Room Notes");
    assert_eq!(c["description"], "Room Notes");
    assert_eq!(c["itunes:image"], format!("{base}/cover.png"));
    assert_eq!(probe_image(&site.join("cover.png")), ("png".to_string(), 3000, 3000));
    let local = |url: &str| site.join(url.strip_prefix(&format!("{base}/")).unwrap());
    let item = &feed["items"][0];
    let master = local(item["enclosure"]["url"].as_str().unwrap());
    assert_eq!(
        item["enclosure"]["length"].as_str().unwrap().parse::<u64>().unwrap(),
        std::fs::read(&master).unwrap().len() as u64
    );
    let chapters: Value =
        serde_json::from_slice(&std::fs::read(local(item["chapters"]["url"].as_str().unwrap())).unwrap()).unwrap();
    assert_eq!(chapters["chapters"][0]["title"], "Intro");
}

#[test]
fn with_image_the_feed_names_that_url_instead_of_the_drawn_cover() {
    let lib = library();
    let art = "https://example.com/art/show.jpg";
    let server = serve(&lib.path, &["--image", art]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.xml");
    std::fs::write(&file, fetch(&format!("{}/feed.xml", server.base)).1).unwrap();
    // The library is shared by these tests: its guid is the one the first server to feed it made.
    let xml = std::fs::read_to_string(&file).unwrap();
    let kept = Value::from(xml.split("<podcast:guid>").nth(1).unwrap().split('<').next().unwrap());
    let feed = read_feed_keeping(&file, true, Some(&kept));
    assert_eq!(feed["channel"]["itunes:image"], art);
    assert_eq!(feed["podcast"]["image_url"], art);
    assert!(!std::fs::read_to_string(&file).unwrap().contains("cover.png"));

    let site = dir.path().join("site");
    rc(&lib.path, &["feed", "--out", site.to_str().unwrap(), "--base-url", "https://example.com/pod", "--image", art]);
    // The same show moved to a static host: it keeps the guid podcast apps know it by.
    let moved = read_feed_keeping(&site.join("feed.xml"), false, Some(&feed["podcast"]["guid"]));
    assert_eq!(moved["channel"]["itunes:image"], art);
    assert!(!site.join("cover.png").exists(), "no cover drawn when the show has its own");
}

#[test]
fn with_a_token_the_cover_link_carries_it_like_every_other_link() {
    let lib = library();
    let server = serve(&lib.path, &["--token", "feed-token-0123456789"]);
    let (_, xml) = fetch(&format!("{}/feed.xml?token=feed-token-0123456789", server.base));
    let xml = String::from_utf8(xml).unwrap();
    let href = xml.split("<itunes:image href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    assert_eq!(href, format!("{}/cover.png?token=feed-token-0123456789", server.base));
    assert_eq!(fetch(&href).0, "image/png");
    assert!(ureq::get(&format!("{}/cover.png", server.base)).call().is_err(), "not without the token");
}
