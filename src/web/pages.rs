//! The web pages, rendered on the server: the room list, search results, the room player with its
//! live transcript, and error pages. Every value that came from a user (titles, names, transcript
//! text, queries) goes through `esc`. No build step: one stylesheet and one small script, inline.

use std::fmt::Write;

use crate::feed;
use crate::library::{Hit, RoomSummary, search};
use crate::session;
use crate::session::captions::{Caption, CaptionLine};
use crate::transcript::TranscriptDoc;

pub use crate::markup::escape_html as esc;

pub use crate::markup::url_value;

pub fn hms(secs: f64) -> String {
    let s = secs.max(0.0).floor() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:60em;margin:0 auto;padding:0 1em;color:#222}\
header{display:flex;gap:1em;align-items:center;border-bottom:1px solid #ddd;padding:.6em 0;flex-wrap:wrap}\
header a.home{font-weight:700;text-decoration:none;color:#222}form.search{display:flex;gap:.4em;flex-wrap:wrap}\
input{font:inherit;padding:.2em .4em}.muted{color:#777}.room{margin:1em 0}.room h2{margin:0;font-size:1.1em}\
.hit{margin:1em 0}.hit mark,mark{background:#ffe066}audio{width:100%}.dock{position:sticky;top:0;background:#fff;z-index:1}\
#transcript p{margin:.4em 0;cursor:pointer}#transcript .who{font-weight:600;margin-right:.4em}\
#transcript .t{color:#777;font-variant-numeric:tabular-nums;margin-right:.4em;text-decoration:none}\
#transcript .w{border-radius:3px}#transcript .now{background:#ffe066}#transcript .overlap{border-left:3px solid #9cf;padding-left:.4em}\
.error{border:1px solid #e99;background:#fee;padding:1em;border-radius:4px}\
button{font:inherit;padding:.15em .5em}.transport,.find{display:flex;flex-wrap:wrap;gap:.3em;align-items:center;margin:.4em 0}\
#clock{font-variant-numeric:tabular-nums;margin-left:auto}.find input{flex:1;min-width:6em}\
#lanes{display:grid;grid-template-columns:auto auto auto minmax(0,1fr);gap:.3em .4em;align-items:center;margin:.4em 0}\
.lane{display:contents}.lane .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:7em}\
#lanes button[aria-pressed=true]{background:#333;color:#fff}\
.bars{position:relative;height:1.4em;background:#f2f2f2;border-radius:3px;cursor:pointer;overflow:hidden}\
.bars i{position:absolute;top:.25em;bottom:.25em;background:#7aa7d9;border-radius:2px}.lane.silent .bars i{background:#ccc}\
.bars .head{position:absolute;top:0;bottom:0;width:2px;background:#d33;left:0}h2{font-size:1.1em;margin:.8em 0 .3em}\
#chapters ol,#soundbites ul{margin:0;padding-left:1.4em}\
#transcript .hit{background:#cde}#transcript .hit.cur{outline:2px solid #36c}#transcript .quoted{box-shadow:inset 0 -3px #d33}\
#quote{position:fixed;left:0;right:0;bottom:0;margin:0;padding:.5em 1em;background:#222;color:#fff;overflow-wrap:anywhere}\
#quote a{color:#fff}.live{background:#d33;color:#fff;border-radius:3px;padding:0 .4em;font-size:.8em;vertical-align:middle;margin-left:.4em}#live-lanes{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.2em .6em;margin:.6em 0}.live-lane{display:contents}.live-lane .who,#captions .who{font-weight:600;margin-right:.4em}#captions .t{color:#777;font-variant-numeric:tabular-nums;margin-right:.4em}#captions p{margin:.4em 0}.partial{color:#888;font-style:italic}";

/// The page around `body`. `query`: the search box's current text.
pub fn layout(title: &str, query: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>{}</title>\n\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"Podcast feed\" href=\"/feed.xml\">\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<header><a class=\"home\" href=\"/\">roomcast</a>\n\
         <form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">\
         <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"Search what was said\" aria-label=\"Search\">\
         <button type=\"submit\">Search</button></form>\n<a href=\"/feed.xml\">Feed</a></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        esc(title),
        esc(query)
    )
}

pub fn error_page(status: u16, message: &str) -> String {
    layout(
        &format!("Error {status}"),
        "",
        &format!(
            "<h1>Error {status}</h1>\n<p class=\"error\">{}</p>\n<p><a href=\"/\">All rooms</a></p>",
            esc(message)
        ),
    )
}

pub fn room_list(rooms: &[RoomSummary]) -> String {
    let mut body = String::from("<h1>Rooms</h1>\n");
    if rooms.is_empty() {
        body.push_str("<p class=\"muted\">No rooms yet: publish one with <code>roomcast publish SESSION</code>.</p>");
    }
    for r in rooms {
        let names: Vec<String> = r.speakers.iter().map(|s| esc(&s.name)).collect();
        let live = if r.status == "recording" { "<span class=\"live\">LIVE</span>" } else { "" };
        let _ = writeln!(
            body,
            "<div class=\"room\"><h2><a href=\"/rooms/{}\">{}</a>{live}</h2><div class=\"muted\">{} · {} · {}</div></div>",
            url_value(&r.id),
            esc(&r.title),
            esc(r.started_at.get(..10).unwrap_or(&r.started_at)),
            hms(r.duration),
            names.join(", ")
        );
    }
    layout("Rooms", "", &body)
}

/// The filters of a search, as the form shows them.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub speaker: String,
    pub room: String,
    pub since: String,
    pub until: String,
}

pub fn search_results(query: &str, filters: &Filters, hits: &[Hit]) -> String {
    let mut body = format!(
        "<h1>Search</h1>\n<form class=\"search\" action=\"/search\" method=\"get\">\
         <input type=\"search\" name=\"q\" value=\"{}\" aria-label=\"Words\">\
         <input name=\"speaker\" value=\"{}\" placeholder=\"speaker\" aria-label=\"Speaker\">\
         <input name=\"room\" value=\"{}\" placeholder=\"room\" aria-label=\"Room\">\
         <input type=\"date\" name=\"since\" value=\"{}\" aria-label=\"Since\">\
         <input type=\"date\" name=\"until\" value=\"{}\" aria-label=\"Until\">\
         <button type=\"submit\">Search</button></form>\n",
        esc(query),
        esc(&filters.speaker),
        esc(&filters.room),
        esc(&filters.since),
        esc(&filters.until)
    );
    if hits.is_empty() {
        let _ = writeln!(body, "<p class=\"muted\">No matches for “{}”.</p>", esc(query));
    }
    for h in hits {
        let at = (h.at * 100.0).round() / 100.0;
        let _ = writeln!(
            body,
            "<div class=\"hit\"><a class=\"go\" href=\"/rooms/{}?t={at}\">{} · {}</a>\
             <div class=\"muted\">{} · {}{}</div><div>{}</div></div>",
            url_value(&h.room),
            esc(&h.title),
            hms(h.at),
            esc(h.started_at.get(..10).unwrap_or(&h.started_at)),
            esc(&h.name),
            if h.live_caption { " · <span class=\"live-caption\">live caption</span>" } else { "" },
            marked(&h.snippet)
        );
    }
    layout(&format!("Search: {query}"), query, &body)
}

/// A snippet with its match markers turned into `<mark>`, everything else escaped.
fn marked(snippet: &str) -> String {
    esc(snippet).replace(search::MATCH_START, "<mark>").replace(search::MATCH_END, "</mark>")
}

/// The room player: the master with the transcript beside it, the current words highlighted as it
/// plays, any word or segment a link to its moment, `start` where playback begins and `end`, for a
/// quote link, where it stops. Above the transcript: the transport, one lane per speaker (who talks
/// when, with solo and mute), the chapters and the soundbites.
pub fn room_page(
    room: &RoomSummary,
    transcript: Option<&TranscriptDoc>,
    start: f64,
    end: Option<f64>,
    has_master: bool,
    chapters: &[feed::Chapter],
    clips: &[feed::Soundbite],
) -> String {
    let id = url_value(&room.id);
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"muted\">{} · {} · {}</p>\n",
        esc(&room.title),
        esc(room.started_at.get(..10).unwrap_or(&room.started_at)),
        hms(room.duration),
        room.speakers.iter().map(|s| esc(&s.name)).collect::<Vec<_>>().join(", ")
    );
    if !has_master {
        body.push_str(
            "<p class=\"error\">This room has no master file (it was not mastered, or the file was moved); \
             run <code>roomcast publish</code> on its session.</p>\n",
        );
    }
    // The player and its transport stay at the top while the transcript scrolls under them.
    body.push_str("<div class=\"dock\">\n");
    if has_master {
        let _ = writeln!(body, "<audio id=\"player\" controls preload=\"metadata\" src=\"/rooms/{id}/audio\"></audio>");
    } else {
        body.push_str("<audio id=\"player\"></audio>\n");
    }
    body.push_str(TRANSPORT);
    body.push_str("</div>\n");
    body.push_str(&lanes(room, transcript));
    body.push_str(&chapter_list(&id, chapters));
    body.push_str(&soundbite_list(clips));
    body.push_str("<p>Downloads: ");
    let mut links: Vec<String> = room
        .speakers
        .iter()
        .filter(|s| s.track.is_some())
        .map(|s| format!("<a href=\"/rooms/{id}/tracks/{}\" download>{} (track)</a>", url_value(&s.id), esc(&s.name)))
        .collect();
    for (file, label) in
        [(session::TRANSCRIPT_VTT, "WebVTT"), (session::TRANSCRIPT_SRT, "SRT"), (session::TRANSCRIPT_JSON, "JSON")]
    {
        if transcript.is_some_and(|t| !t.live_captions) {
            links.push(format!("<a href=\"/rooms/{id}/{file}\">{label}</a>"));
        }
    }
    body.push_str(&links.join(" · "));
    body.push_str(
        "</p>\n<div class=\"find\" role=\"search\"><input type=\"search\" id=\"find\" \
         placeholder=\"Find in this room\" aria-label=\"Find in this room\">\
         <button id=\"find-prev\" aria-label=\"Previous match\">▲</button>\
         <button id=\"find-next\" aria-label=\"Next match\">▼</button><span id=\"find-count\" class=\"muted\"></span></div>\n\
         <div id=\"transcript\">\n",
    );
    match transcript {
        None => body.push_str("<p class=\"muted\">No transcript yet.</p>\n"),
        Some(doc) => {
            if doc.live_captions {
                body.push_str(
                    "<p class=\"muted\" id=\"live-captions-note\">These are the live captions made while the room \
                     was on; the transcript replaces them once the room is published.</p>\n",
                );
            }
            for s in &doc.segments {
                let _ = write!(
                    body,
                    "<p class=\"seg{}\" data-start=\"{:.2}\" data-end=\"{:.2}\" data-who=\"{}\"><span class=\"who\">{}</span>\
                     <a class=\"t\" href=\"/rooms/{id}?t={:.2}\">{}</a>",
                    if s.overlap { " overlap" } else { "" },
                    s.start,
                    s.end,
                    esc(&s.name),
                    esc(&s.name),
                    s.start,
                    hms(s.start)
                );
                if s.words.is_empty() {
                    let _ = write!(
                        body,
                        "<span class=\"w\" data-s=\"{:.2}\" data-e=\"{:.2}\">{}</span>",
                        s.start,
                        s.end,
                        esc(s.text.trim())
                    );
                } else {
                    for w in &s.words {
                        let _ = write!(
                            body,
                            "<span class=\"w\" data-s=\"{:.2}\" data-e=\"{:.2}\">{}</span> ",
                            w.start,
                            w.end,
                            esc(&w.text)
                        );
                    }
                }
                body.push_str("</p>\n");
            }
        }
    }
    body.push_str(
        "</div>\n<p id=\"quote\" hidden><span>Quote: </span><a id=\"quote-link\" href=\"\"></a> \
         <button id=\"quote-copy\">Copy link</button></p>\n",
    );
    let finite = |t: f64| if t.is_finite() { t } else { 0.0 };
    let end = end.filter(|e| e.is_finite()).map_or("null".to_string(), |e| e.to_string());
    let _ = write!(body, "<script>const START = {};\nconst END = {end};\n{SCRIPT}</script>\n", finite(start));
    layout(&room.title, "", &body)
}

/// A room while it is being recorded: a LIVE badge, a lane per speaker showing what they are
/// saying, and the captions so far (`lines`: what captions.jsonl holds now), which the page's
/// script keeps up to date from the caption stream.
/// `listen`: the room is mixed live, so the page plays the live stream.
pub fn live_page(room: &RoomSummary, lines: &[CaptionLine], listen: bool) -> String {
    let mut body = format!(
        "<h1>{}<span class=\"live\" id=\"live-badge\" role=\"status\">LIVE</span></h1>\n         <p class=\"muted\">Started {} · live captions, a few seconds behind the room</p>\n         <p id=\"live-state\" class=\"error\" hidden></p>\n<div id=\"live-lanes\" aria-label=\"Speakers\">\n",
        esc(&room.title),
        esc(room.started_at.get(..16).unwrap_or(&room.started_at)).replace('T', " "),
    );
    if listen {
        // preload none: nothing is fetched until the listener presses play, so a page left open
        // is not a listener.
        let _ = writeln!(
            body,
            "<p class=\"listen\"><audio id=\"live-player\" controls preload=\"none\" src=\"/rooms/{}/live.mp3\"></audio> \
             <a href=\"/rooms/{}/live.m3u8\">HLS</a></p>",
            url_value(&room.id),
            url_value(&room.id)
        );
    }
    // Each utterance as its latest line says: final, or what it is so far.
    let mut latest: Vec<&Caption> = Vec::new();
    let mut finals = std::collections::HashSet::new();
    for line in lines {
        if let CaptionLine::Partial(c) | CaptionLine::Final(c) = line {
            if finals.contains(&c.utterance) {
                continue;
            }
            if matches!(line, CaptionLine::Final(_)) {
                finals.insert(c.utterance);
            }
            match latest.iter_mut().find(|l| l.utterance == c.utterance) {
                Some(l) => *l = c,
                None => latest.push(c),
            }
        }
    }
    for s in &room.speakers {
        let now = latest.iter().rev().find(|c| c.speaker == s.id);
        let (text, partial) = now.map_or(("", false), |c| (c.text.as_str(), !finals.contains(&c.utterance)));
        let _ = writeln!(
            body,
            "<div class=\"live-lane\" data-speaker=\"{}\"><span class=\"who\">{}</span><span class=\"now{}\">{}</span></div>",
            esc(&s.id),
            esc(&s.name),
            if partial { " partial" } else { "" },
            esc(text)
        );
    }
    body.push_str("</div>\n<h2>Captions</h2>\n<div id=\"captions\" aria-live=\"polite\">\n");
    for c in &latest {
        if c.text.trim().is_empty() {
            continue;
        }
        let _ = writeln!(
            body,
            "<p class=\"{}\" data-u=\"{}\" data-speaker=\"{}\"><span class=\"who\">{}</span><span class=\"t\">{}</span><span class=\"text\">{}</span></p>",
            if finals.contains(&c.utterance) { "final" } else { "partial" },
            c.utterance,
            esc(&c.speaker),
            esc(&c.name),
            hms(c.start),
            esc(&c.text)
        );
    }
    body.push_str("</div>\n");
    let since = lines.last().map_or("null".to_string(), |l| l.seq().to_string());
    let room_id = serde_json::to_string(&room.id).unwrap_or_default().replace('<', "\\u003c");
    let _ = write!(body, "<script>const ROOM = {room_id};\nconst SINCE = {since};\n{LIVE_SCRIPT}</script>\n");
    layout(&room.title, "", &body)
}

const LIVE_SCRIPT: &str = include_str!("live.js");

/// One lane of the player: a display name, the tracks of every speaker who has it (speakers
/// merged under one name play together), and the spans they talk in.
struct Lane<'a> {
    name: &'a str,
    tracks: Vec<String>,
    spans: Vec<(f64, f64)>,
}

const TRANSPORT: &str = "<div class=\"transport\">\
     <button id=\"prev-chapter\" title=\"Previous chapter\">« Ch.</button>\
     <button id=\"prev-turn\" title=\"Previous speaker (p)\">◀ Spk</button>\
     <button id=\"play\" title=\"Play or pause (space)\">Play</button>\
     <button id=\"next-turn\" title=\"Next speaker (n)\">Spk ▶</button>\
     <button id=\"next-chapter\" title=\"Next chapter\">Ch. »</button>\
     <span id=\"clock\">0:00:00</span></div>\n";

/// The speaker lanes and the note the multitrack player writes when it has to fall back to the
/// master.
fn lanes(room: &RoomSummary, transcript: Option<&TranscriptDoc>) -> String {
    let id = url_value(&room.id);
    fn lane_of<'a>(lanes: &mut Vec<Lane<'a>>, name: &'a str) -> usize {
        lanes.iter().position(|l| l.name == name).unwrap_or_else(|| {
            lanes.push(Lane { name, tracks: Vec::new(), spans: Vec::new() });
            lanes.len() - 1
        })
    }
    let mut lanes: Vec<Lane> = Vec::new();
    for s in &room.speakers {
        let i = lane_of(&mut lanes, s.name.as_str());
        if s.track.is_some() {
            lanes[i].tracks.push(format!("/rooms/{id}/tracks/{}", url_value(&s.id)));
        }
    }
    for seg in transcript.map(|d| d.segments.as_slice()).unwrap_or_default() {
        let i = lane_of(&mut lanes, seg.name.as_str());
        lanes[i].spans.push((seg.start, seg.end));
    }
    // The lanes' scale: the room, or the transcript if it runs past the room's recorded length.
    let length = lanes.iter().flat_map(|l| l.spans.iter().map(|s| s.1)).fold(room.duration, f64::max).max(1.0);
    let mut out = format!("<div id=\"deck\" data-duration=\"{length:.2}\">\n<div id=\"lanes\" data-mode=\"master\">\n");
    for lane in &lanes {
        let name = esc(lane.name);
        let _ = write!(
            out,
            "<div class=\"lane\" data-name=\"{name}\" data-tracks=\"{}\" data-gain=\"1\"><span class=\"name\">{name}</span>\
             <button class=\"solo\" aria-pressed=\"false\" aria-label=\"Solo {name}\" title=\"Solo {name}\">S</button>\
             <button class=\"mute\" aria-pressed=\"false\" aria-label=\"Mute {name}\" title=\"Mute {name}\">M</button>\
             <div class=\"bars\" title=\"{name}: click to go there\">",
            esc(&lane.tracks.join(" "))
        );
        for (a, b) in &lane.spans {
            let _ = write!(
                out,
                "<i style=\"left:{:.3}%;width:{:.3}%\"></i>",
                a / length * 100.0,
                ((b - a) / length * 100.0).max(0.3)
            );
        }
        out.push_str("<b class=\"head\"></b></div></div>\n");
    }
    out.push_str("</div>\n<p id=\"mix-note\" class=\"muted\" hidden></p>\n</div>\n");
    out
}

fn chapter_list(id: &str, chapters: &[feed::Chapter]) -> String {
    if chapters.is_empty() {
        return String::new();
    }
    let mut out = String::from("<nav id=\"chapters\"><h2>Chapters</h2><ol>");
    for c in chapters {
        let _ = write!(
            out,
            "<li><a href=\"/rooms/{id}?t={:.2}\" data-t=\"{:.2}\">{}</a> {}</li>",
            c.start,
            c.start,
            hms(c.start),
            esc(&c.title)
        );
    }
    out.push_str("</ol></nav>\n");
    out
}

fn soundbite_list(clips: &[feed::Soundbite]) -> String {
    if clips.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section id=\"soundbites\"><h2>Soundbites</h2><ul>");
    for c in clips {
        let end = c.start + c.duration;
        let _ = write!(
            out,
            "<li><button class=\"bite\" data-s=\"{:.2}\" data-e=\"{:.2}\">▶ Play</button> {} \
             <span class=\"muted\">{}–{}</span></li>",
            c.start,
            end,
            esc(&c.title),
            hms(c.start),
            hms(end)
        );
    }
    out.push_str("</ul></section>\n");
    out
}

const SCRIPT: &str = include_str!("player.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped_everywhere() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let page = error_page(404, "no room '<img src=x onerror=alert(1)>'");
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;img"));
        assert_eq!(url_value("a b/é?"), "a%20b%2F%C3%A9%3F");
    }

    #[test]
    fn speakers_merged_under_one_name_share_a_lane_and_play_all_their_tracks() {
        let speaker = |id: &str, name: &str, track: Option<&str>| crate::library::SpeakerSummary {
            id: id.into(),
            name: name.into(),
            track: track.map(Into::into),
            language: None,
        };
        let room = RoomSummary {
            id: "r1".into(),
            title: "Merged".into(),
            started_at: "2026-11-20T18:00:00Z".into(),
            duration: 10.0,
            status: "published".into(),
            session: "/nowhere".into(),
            private: false,
            speakers: vec![
                speaker("maya", "Maya", Some("tracks/maya.opus")),
                speaker("maya-phone", "Maya", Some("tracks/maya-phone.opus")),
                speaker("guest", "<b>Guest</b>", None),
            ],
            segments: 0,
            outputs: Vec::new(),
            live_captions: false,
        };
        let html = lanes(&room, None);
        assert_eq!(html.matches("class=\"lane\"").count(), 2, "{html}");
        assert!(html.contains("data-name=\"Maya\" data-tracks=\"/rooms/r1/tracks/maya /rooms/r1/tracks/maya-phone\""));
        assert!(html.contains("data-name=\"&lt;b&gt;Guest&lt;/b&gt;\" data-tracks=\"\""), "{html}");
    }

    #[test]
    fn snippets_keep_their_marks_and_lose_their_tags() {
        let s = format!("a <b>{}bold{} c", search::MATCH_START, search::MATCH_END);
        assert_eq!(marked(&s), "a &lt;b&gt;<mark>bold</mark> c");
    }
}
