//! RSS 2.0 with the itunes namespace (every tag Apple Podcasts requires, and the recommended ones
//! roomcast can fill) and the Podcasting 2.0 namespace (guid, transcripts, chapters, soundbites,
//! people), and Podcasting 2.0 chapters JSON. Plain data in, text out; every value from a user is
//! escaped.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The show, as the feed describes it. Read from a JSON file (`--show FILE`) or flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Show {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub author: String,
    /// URL of the cover art (Apple: square JPEG or PNG, 1400-3000 px).
    #[serde(default)]
    pub image: Option<String>,
    /// ISO 639 code, e.g. "en".
    #[serde(default = "default_language")]
    pub language: String,
    /// An Apple Podcasts category, e.g. "Technology".
    #[serde(default = "default_category")]
    pub category: String,
    #[serde(default)]
    pub explicit: bool,
    #[serde(default)]
    pub owner_email: Option<String>,
    /// The copyright line, e.g. "2026 Maya Okafor".
    #[serde(default)]
    pub copyright: Option<String>,
    /// The show's podcast:guid. Podcasting 2.0 derives it from the feed's URL; a show that moved
    /// keeps its old one here, so apps still know it.
    #[serde(default)]
    pub guid: Option<String>,
}

fn default_language() -> String {
    "en".into()
}

fn default_category() -> String {
    "Technology".into()
}

impl Default for Show {
    fn default() -> Self {
        Show {
            title: "roomcast".into(),
            description: String::new(),
            author: String::new(),
            image: None,
            language: default_language(),
            category: default_category(),
            explicit: false,
            owner_email: None,
            copyright: None,
            guid: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    #[error("{path}: {source}")]
    Read { path: std::path::PathBuf, source: std::io::Error },
    #[error("{path}: not a show description: {reason}")]
    Invalid { path: std::path::PathBuf, reason: String },
    #[error("{0}")]
    Field(#[from] crate::session::names::NameError),
}

/// What the user says about the show beyond (or instead of) its JSON file.
#[derive(Debug, Clone, Default)]
pub struct ShowOverrides {
    pub title: Option<String>,
    pub author: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
    pub category: Option<String>,
    pub language: Option<String>,
    pub explicit: bool,
    pub owner_email: Option<String>,
    pub copyright: Option<String>,
}

impl Show {
    /// The show from its JSON file (if any), then the overrides over it.
    pub fn load(file: Option<&std::path::Path>, overrides: &ShowOverrides) -> Result<Show, ShowError> {
        let mut show = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ShowError::Read { path: path.to_path_buf(), source })?;
                Show::from_json(&text).map_err(|reason| ShowError::Invalid { path: path.to_path_buf(), reason })?
            }
            None => Show::default(),
        };
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                *field = v.clone();
            }
        };
        set(&mut show.title, &overrides.title);
        set(&mut show.author, &overrides.author);
        set(&mut show.description, &overrides.description);
        set(&mut show.category, &overrides.category);
        set(&mut show.language, &overrides.language);
        for (field, value) in [
            (&mut show.image, &overrides.image),
            (&mut show.owner_email, &overrides.owner_email),
            (&mut show.copyright, &overrides.copyright),
        ] {
            if value.is_some() {
                *field = value.clone();
            }
        }
        show.explicit |= overrides.explicit;
        show.checked().map_err(|e| match file {
            Some(path) => ShowError::Invalid { path: path.to_path_buf(), reason: e.to_string() },
            None => e,
        })
    }

    /// The show as show.json describes it, each field checked as [`Show::load`] checks it.
    pub fn from_json(text: &str) -> Result<Show, String> {
        let show: Show = serde_json::from_str(text).map_err(|e| e.to_string())?;
        show.checked().map_err(|e| e.to_string())
    }

    /// Every field one clean line of bounded length (the description keeps its line breaks):
    /// they go into the feed every podcast app reads, where one bad character breaks the show.
    fn checked(mut self) -> Result<Show, ShowError> {
        use crate::session::names;
        self.title = names::title(&self.title, "the show's title")?;
        self.description = names::description(&self.description, "the show's description")?;
        for (field, what) in [
            (&mut self.author, "the show's author"),
            (&mut self.category, "the show's category"),
            (&mut self.language, "the show's language"),
        ] {
            // Left out when there is nothing to show, even if it was spaces and line breaks
            // (found by fuzzing: "\n   " was kept as it was).
            *field = if names::one_line(field).is_empty() { String::new() } else { names::title(field, what)? };
        }
        for (field, what) in [
            (&mut self.image, "the show's image URL"),
            (&mut self.owner_email, "the owner's email"),
            (&mut self.copyright, "the show's copyright"),
            (&mut self.guid, "the show's guid"),
        ] {
            if let Some(v) = field.as_deref() {
                *field = Some(names::title(v, what)?);
            }
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub url: String,
    pub mime: String,
    /// `captions` for the file players can show as captions (WebVTT).
    pub rel: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub guid: String,
    pub title: String,
    pub description: String,
    pub published: DateTime<Utc>,
    pub duration: f64,
    pub link: String,
    pub enclosure_url: String,
    pub enclosure_length: u64,
    pub enclosure_type: String,
    pub transcripts: Vec<Transcript>,
    pub chapters_url: Option<String>,
    /// Who speaks in the episode, each display name once.
    pub people: Vec<String>,
    pub soundbites: Vec<Soundbite>,
}

/// Where the feed's own things live, as absolute URLs.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedUrls {
    /// The show's web site (the channel's `link`).
    pub link: String,
    /// The feed itself (atom:link rel="self"; the podcast:guid is derived from it).
    pub feed: String,
    /// The cover roomcast draws (`cover`), used when the show names no image of its own.
    pub cover: String,
}

/// The Podcasting 2.0 namespace for podcast:guid (a UUIDv5 namespace).
const PODCAST_GUID_NAMESPACE: [u8; 16] =
    [0xea, 0xd4, 0xc2, 0x36, 0xbf, 0x58, 0x58, 0xc6, 0xa2, 0xc6, 0xa6, 0xb2, 0x8d, 0x12, 0x8c, 0xb6];

/// podcast:guid as Podcasting 2.0 defines it: a UUIDv5 of the feed's URL without its scheme and
/// trailing slashes, in the namespace above (RFC 4122 section 4.3: SHA-1, version and variant bits).
pub fn podcast_guid(feed_url: &str) -> String {
    use sha1::{Digest, Sha1};
    let url = feed_url.split_once("://").map_or(feed_url, |(_, rest)| rest).trim_end_matches('/');
    let mut hash = Sha1::new();
    hash.update(PODCAST_GUID_NAMESPACE);
    hash.update(url.as_bytes());
    let digest = hash.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// Seconds as podcast:soundbite writes them: at most milliseconds, no trailing zeros.
fn seconds(v: f64) -> String {
    format!("{}", (v.max(0.0) * 1000.0).round() / 1000.0)
}

pub use crate::markup::escape_xml;

/// `H:MM:SS`, the itunes:duration form.
fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The feed.
pub fn rss(show: &Show, urls: &FeedUrls, episodes: &[Episode]) -> String {
    rss_with_live(show, urls, &[], episodes)
}

/// The feed with rooms that are not episodes yet (`podcast:liveItem`) before the episodes.
pub fn rss_with_live(show: &Show, urls: &FeedUrls, live: &[super::LiveItem], episodes: &[Episode]) -> String {
    let e = escape_xml;
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" \
         xmlns:podcast=\"https://podcastindex.org/namespace/1.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n",
    );
    let link = &urls.link;
    // Apple wants a description and an author; a show that gave neither is described by its title.
    let description = if show.description.is_empty() { &show.title } else { &show.description };
    let author = if show.author.is_empty() { &show.title } else { &show.author };
    let image = show.image.as_deref().unwrap_or(&urls.cover);
    out.push_str(&format!("  <title>{}</title>\n", e(&show.title)));
    out.push_str(&format!("  <link>{}</link>\n", e(link)));
    out.push_str(&format!("  <atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>\n", e(&urls.feed)));
    out.push_str(&format!("  <description>{}</description>\n", e(description)));
    out.push_str(&format!("  <language>{}</language>\n", e(&show.language)));
    if let Some(copyright) = show.copyright.as_deref().filter(|c| !c.is_empty()) {
        out.push_str(&format!("  <copyright>{}</copyright>\n", e(copyright)));
    }
    out.push_str("  <generator>roomcast</generator>\n");
    out.push_str(&format!(
        "  <podcast:guid>{}</podcast:guid>\n",
        e(&show.guid.clone().unwrap_or_else(|| podcast_guid(&urls.feed)))
    ));
    out.push_str(&format!("  <itunes:author>{}</itunes:author>\n", e(author)));
    out.push_str(&format!("  <itunes:summary>{}</itunes:summary>\n", e(description)));
    // Rooms are not a series to hear in order: apps list the newest first.
    out.push_str("  <itunes:type>episodic</itunes:type>\n");
    out.push_str(&format!("  <itunes:image href=\"{}\"/>\n", e(image)));
    out.push_str(&format!(
        "  <image><url>{}</url><title>{}</title><link>{}</link></image>\n",
        e(image),
        e(&show.title),
        e(link)
    ));
    out.push_str(&format!("  <itunes:category text=\"{}\"/>\n", e(&show.category)));
    out.push_str(&format!("  <itunes:explicit>{}</itunes:explicit>\n", show.explicit));
    if let Some(email) = show.owner_email.as_deref().filter(|m| !m.is_empty()) {
        out.push_str(&format!(
            "  <itunes:owner><itunes:name>{}</itunes:name><itunes:email>{}</itunes:email></itunes:owner>\n",
            e(author),
            e(email)
        ));
    }
    out.push_str(&super::live::live_items_xml(live));
    for ep in episodes {
        out.push_str("  <item>\n");
        out.push_str(&format!("    <title>{}</title>\n", e(&ep.title)));
        out.push_str(&format!("    <itunes:title>{}</itunes:title>\n", e(&ep.title)));
        out.push_str(&format!("    <description>{}</description>\n", e(&ep.description)));
        out.push_str(&format!("    <link>{}</link>\n", e(&ep.link)));
        out.push_str(&format!("    <guid isPermaLink=\"false\">{}</guid>\n", e(&ep.guid)));
        out.push_str(&format!("    <pubDate>{}</pubDate>\n", ep.published.to_rfc2822()));
        out.push_str(&format!(
            "    <enclosure url=\"{}\" length=\"{}\" type=\"{}\"/>\n",
            e(&ep.enclosure_url),
            ep.enclosure_length,
            e(&ep.enclosure_type)
        ));
        out.push_str(&format!("    <itunes:duration>{}</itunes:duration>\n", duration(ep.duration)));
        out.push_str(&format!("    <itunes:explicit>{}</itunes:explicit>\n", show.explicit));
        out.push_str("    <itunes:episodeType>full</itunes:episodeType>\n");
        for t in &ep.transcripts {
            out.push_str(&format!(
                "    <podcast:transcript url=\"{}\" type=\"{}\" language=\"{}\"{}/>\n",
                e(&t.url),
                e(&t.mime),
                e(&show.language),
                t.rel.as_ref().map(|r| format!(" rel=\"{}\"", e(r))).unwrap_or_default()
            ));
        }
        if let Some(url) = &ep.chapters_url {
            out.push_str(&format!("    <podcast:chapters url=\"{}\" type=\"application/json+chapters\"/>\n", e(url)));
        }
        for p in &ep.people {
            out.push_str(&format!("    <podcast:person role=\"guest\">{}</podcast:person>\n", e(p)));
        }
        for b in ep.soundbites.iter().filter(|b| b.duration > 0.0) {
            out.push_str(&format!(
                "    <podcast:soundbite startTime=\"{}\" duration=\"{}\">{}</podcast:soundbite>\n",
                seconds(b.start),
                seconds(b.duration),
                e(&b.title)
            ));
        }
        out.push_str("  </item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// A chapter: where it starts on the room clock, and its title.
#[derive(Debug, Clone, PartialEq)]
pub struct Chapter {
    pub start: f64,
    pub title: String,
}

/// A soundbite (`podcast:soundbite`): a span of the room worth sharing, with its title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Soundbite {
    pub start: f64,
    pub duration: f64,
    pub title: String,
}

/// The soundbites of a session (`roomcast clip`), in room order.
pub fn soundbites_of(events: &[crate::session::Event]) -> Vec<Soundbite> {
    let mut out: Vec<Soundbite> = events
        .iter()
        .filter_map(|e| match &e.kind {
            crate::session::EventKind::Soundbite { end, title } => {
                Some(Soundbite { start: e.t, duration: (end - e.t).max(0.0), title: title.clone() })
            }
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

/// Podcasting 2.0 chapters JSON (version 1.2.0).
pub fn chapters_json(title: &str, chapters: &[Chapter]) -> String {
    let list: Vec<serde_json::Value> = chapters
        .iter()
        .map(|c| serde_json::json!({"startTime": (c.start * 1000.0).round() / 1000.0, "title": c.title}))
        .collect();
    let doc = serde_json::json!({"version": "1.2.0", "title": title, "chapters": list});
    serde_json::to_string_pretty(&doc).expect("chapters serialize")
}

/// The chapters of a session: its markers, in room order.
pub fn chapters_of(events: &[crate::session::Event]) -> Vec<Chapter> {
    let mut out: Vec<Chapter> = events
        .iter()
        .filter_map(|e| match &e.kind {
            crate::session::EventKind::Marker { title } => Some(Chapter { start: e.t, title: title.clone() }),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn episode() -> Episode {
        Episode {
            guid: "room-1".into(),
            title: "Tom & Jerry <script>alert(1)</script>".into(),
            description: "A room".into(),
            published: "2026-11-24T18:00:00Z".parse().unwrap(),
            duration: 3725.4,
            link: "http://h/rooms/room-1".into(),
            enclosure_url: "http://h/rooms/room-1/master.mp3".into(),
            enclosure_length: 12345,
            enclosure_type: "audio/mpeg".into(),
            transcripts: vec![Transcript {
                url: "http://h/rooms/room-1/transcript.vtt".into(),
                mime: "text/vtt".into(),
                rel: Some("captions".into()),
            }],
            chapters_url: Some("http://h/rooms/room-1/chapters.json".into()),
            people: vec!["Maya \"M\" O'Neil".into()],
            soundbites: vec![Soundbite { start: 12.25, duration: 30.0, title: "The <best> bit".into() }],
        }
    }

    fn urls() -> FeedUrls {
        FeedUrls { link: "http://h/".into(), feed: "http://h/feed.xml".into(), cover: "http://h/cover.png".into() }
    }

    #[test]
    fn the_feed_escapes_everything_a_user_wrote() {
        let show = Show { title: "Ana's <show>".into(), ..Default::default() };
        let xml = rss(&show, &urls(), &[episode()]);
        assert!(xml.contains("<title>Ana&apos;s &lt;show&gt;</title>"));
        assert!(xml.contains("Tom &amp; Jerry &lt;script&gt;"));
        assert!(!xml.contains("<script>"));
        assert!(xml.contains("<podcast:person role=\"guest\">Maya &quot;M&quot; O&apos;Neil</podcast:person>"));
        assert!(xml.contains("<itunes:duration>1:02:05</itunes:duration>"));
        assert!(xml.contains("<pubDate>Tue, 24 Nov 2026 18:00:00 +0000</pubDate>"));
        assert!(xml.contains("rel=\"captions\""));
        assert!(xml.contains(
            "<podcast:soundbite startTime=\"12.25\" duration=\"30\">The &lt;best&gt; bit</podcast:soundbite>"
        ));
    }

    #[test]
    fn podcast_guid_is_the_podcasting_2_uuid_of_the_feed_url() {
        // The example of the Podcasting 2.0 namespace's guid tag.
        assert_eq!(podcast_guid("https://podnews.net/rss"), "9b024349-ccf0-5f69-a609-6b82873eab3c");
        assert_eq!(podcast_guid("http://podnews.net/rss/"), podcast_guid("podnews.net/rss"));
        let xml = rss(&Show::default(), &urls(), &[]);
        assert!(xml.contains(&format!("<podcast:guid>{}</podcast:guid>", podcast_guid("http://h/feed.xml"))));
        let moved = Show { guid: Some("kept-guid".into()), ..Default::default() };
        assert!(rss(&moved, &urls(), &[]).contains("<podcast:guid>kept-guid</podcast:guid>"));
    }

    #[test]
    fn a_show_without_image_author_or_description_still_has_what_apple_requires() {
        let show = Show { title: "Room Notes".into(), ..Default::default() };
        let xml = rss(&show, &urls(), &[episode()]);
        assert!(xml.contains("<itunes:image href=\"http://h/cover.png\"/>"));
        assert!(xml.contains("<image><url>http://h/cover.png</url>"));
        assert!(xml.contains("<itunes:author>Room Notes</itunes:author>"));
        assert!(xml.contains("<description>Room Notes</description>"));
        assert!(xml.contains("<itunes:type>episodic</itunes:type>"));
        assert!(!xml.contains("<itunes:owner>") && !xml.contains("<copyright>"), "only what is known");
        let show = Show {
            image: Some("https://e/art.jpg".into()),
            owner_email: Some("maya@example.com".into()),
            copyright: Some("2026 Maya".into()),
            explicit: true,
            ..show
        };
        let xml = rss(&show, &urls(), &[episode()]);
        assert!(xml.contains("<itunes:image href=\"https://e/art.jpg\"/>") && !xml.contains("cover.png"));
        assert!(xml.contains("<itunes:email>maya@example.com</itunes:email>"));
        assert!(xml.contains("<copyright>2026 Maya</copyright>"));
        assert_eq!(xml.matches("<itunes:explicit>true</itunes:explicit>").count(), 2, "channel and item");
    }

    #[test]
    fn chapters_are_podcasting_2_json() {
        let json = chapters_json(
            "t",
            &[Chapter { start: 0.0, title: "Intro".into() }, Chapter { start: 150.5, title: "Q&A".into() }],
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["version"], "1.2.0");
        assert_eq!(v["chapters"][1]["startTime"], 150.5);
        assert_eq!(v["chapters"][1]["title"], "Q&A");
    }
}
