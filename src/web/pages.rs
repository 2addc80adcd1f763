//! The web pages, rendered on the server: the room list, search results, the room player with its
//! live transcript, and error pages. Every value that came from a user (titles, names, transcript
//! text, queries) goes through `esc`. No build step: one stylesheet and one small script, inline.

use std::fmt::Write;

use crate::library::{Hit, RoomSummary, search};
use crate::session;
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
.hit{margin:1em 0}.hit mark,mark{background:#ffe066}audio{width:100%;position:sticky;top:0;background:#fff}\
#transcript p{margin:.4em 0;cursor:pointer}#transcript .who{font-weight:600;margin-right:.4em}\
#transcript .t{color:#777;font-variant-numeric:tabular-nums;margin-right:.4em;text-decoration:none}\
#transcript .w{border-radius:3px}#transcript .now{background:#ffe066}#transcript .overlap{border-left:3px solid #9cf;padding-left:.4em}\
.error{border:1px solid #e99;background:#fee;padding:1em;border-radius:4px}";

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
        let _ = writeln!(
            body,
            "<div class=\"room\"><h2><a href=\"/rooms/{}\">{}</a></h2><div class=\"muted\">{} · {} · {}</div></div>",
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
             <div class=\"muted\">{} · {}</div><div>{}</div></div>",
            url_value(&h.room),
            esc(&h.title),
            hms(h.at),
            esc(h.started_at.get(..10).unwrap_or(&h.started_at)),
            esc(&h.name),
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
/// plays, any word or segment a link to its moment, `start` where playback begins.
pub fn room_page(room: &RoomSummary, transcript: Option<&TranscriptDoc>, start: f64, has_master: bool) -> String {
    let id = url_value(&room.id);
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"muted\">{} · {} · {}</p>\n",
        esc(&room.title),
        esc(room.started_at.get(..10).unwrap_or(&room.started_at)),
        hms(room.duration),
        room.speakers.iter().map(|s| esc(&s.name)).collect::<Vec<_>>().join(", ")
    );
    if has_master {
        let _ = writeln!(body, "<audio id=\"player\" controls preload=\"metadata\" src=\"/rooms/{id}/audio\"></audio>");
    } else {
        body.push_str(
            "<p class=\"error\">This room has no master file (it was not mastered, or the file was moved); \
             run <code>roomcast publish</code> on its session.</p>\n<audio id=\"player\"></audio>\n",
        );
    }
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
        if transcript.is_some() {
            links.push(format!("<a href=\"/rooms/{id}/{file}\">{label}</a>"));
        }
    }
    body.push_str(&links.join(" · "));
    body.push_str("</p>\n<div id=\"transcript\">\n");
    match transcript {
        None => body.push_str("<p class=\"muted\">No transcript yet.</p>\n"),
        Some(doc) => {
            for s in &doc.segments {
                let _ = write!(
                    body,
                    "<p class=\"seg{}\" data-start=\"{:.2}\" data-end=\"{:.2}\"><span class=\"who\">{}</span>\
                     <a class=\"t\" href=\"/rooms/{id}?t={:.2}\">{}</a>",
                    if s.overlap { " overlap" } else { "" },
                    s.start,
                    s.end,
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
    body.push_str("</div>\n");
    let _ = write!(body, "<script>const START = {};\n{SCRIPT}</script>\n", if start.is_finite() { start } else { 0.0 });
    layout(&room.title, "", &body)
}

/// Highlights the words under the playhead and seeks on clicks. Words are in segment order; a
/// binary search over their starts finds the current one, and overlapping speakers' words both
/// light up.
const SCRIPT: &str = r#"
const player = document.getElementById('player');
const words = Array.from(document.querySelectorAll('#transcript .w'));
const spans = words.map(w => ({ el: w, s: parseFloat(w.dataset.s), e: parseFloat(w.dataset.e) }));
let lit = [];
function highlight() {
  const t = player.currentTime;
  const now = spans.filter(w => w.s <= t && t < Math.max(w.e, w.s + 0.25));
  if (now.length === lit.length && now.every((w, i) => w === lit[i])) return;
  lit.forEach(w => w.el.classList.remove('now'));
  now.forEach(w => w.el.classList.add('now'));
  lit = now;
  if (now.length) {
    const r = now[0].el.getBoundingClientRect();
    if (r.top < 80 || r.bottom > innerHeight) now[0].el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }
}
function seek(t) {
  player.currentTime = t;
  highlight();
  const p = player.play();
  if (p) p.catch(() => {});
}
document.getElementById('transcript').addEventListener('click', ev => {
  if (ev.target.closest('a.t')) { ev.preventDefault(); }
  const w = ev.target.closest('.w');
  const seg = ev.target.closest('.seg');
  if (w) seek(parseFloat(w.dataset.s));
  else if (seg) seek(parseFloat(seg.dataset.start));
});
player.addEventListener('timeupdate', highlight);
player.addEventListener('seeked', highlight);
(function frame() { if (!player.paused) highlight(); requestAnimationFrame(frame); })();
if (START > 0) {
  const go = () => { player.currentTime = START; highlight(); };
  if (player.readyState >= 1) go(); else player.addEventListener('loadedmetadata', go, { once: true });
}
"#;

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
    fn snippets_keep_their_marks_and_lose_their_tags() {
        let s = format!("a <b>{}bold{} c", search::MATCH_START, search::MATCH_END);
        assert_eq!(marked(&s), "a &lt;b&gt;<mark>bold</mark> c");
    }
}
