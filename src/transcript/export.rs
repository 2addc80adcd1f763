//! Transcript files: WebVTT with voice tags, SRT, our own JSON, the Podcasting 2.0 JSON transcript,
//! plain text with speaker turns, and a standalone HTML page. All from the merged timeline.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Segment, Word};
use crate::session::{self, names};

/// Caption lines stay readable: at most about this many characters ...
pub const CUE_CHARS: usize = 65;
/// ... and at most this long on screen.
pub const CUE_SECONDS: f64 = 5.0;

/// One caption: a speaker's words between two times.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub name: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// Words of a segment: whisper's when it gave them, else the text's words spread over the segment
/// in proportion to their length (so cues can still be cut on word boundaries).
fn words_of(s: &Segment) -> Vec<Word> {
    if !s.words.is_empty() {
        return s.words.clone();
    }
    let tokens: Vec<&str> = s.text.split_whitespace().collect();
    let total: usize = tokens.iter().map(|t| t.chars().count() + 1).sum();
    let mut at = s.start;
    tokens
        .iter()
        .map(|t| {
            let len = (s.end - s.start) * (t.chars().count() + 1) as f64 / total.max(1) as f64;
            let w = Word { start: at, end: at + len, text: t.to_string(), probability: 1.0 };
            at += len;
            w
        })
        .collect()
}

/// Cuts segments into cues on word boundaries: at most `CUE_CHARS` characters and `CUE_SECONDS`.
pub fn cues(segments: &[Segment]) -> Vec<Cue> {
    let mut out = Vec::new();
    for s in segments {
        let mut current: Option<Cue> = None;
        for w in words_of(s) {
            let text = w.text.trim();
            if text.is_empty() {
                continue;
            }
            if let Some(c) = &current
                && (c.text.chars().count() + 1 + text.chars().count() > CUE_CHARS || w.end - c.start > CUE_SECONDS)
            {
                out.extend(current.take());
            }
            match &mut current {
                Some(c) => {
                    c.text.push(' ');
                    c.text.push_str(text);
                    c.end = w.end.max(c.end);
                }
                None => {
                    current = Some(Cue { name: s.name.clone(), start: w.start, end: w.end, text: text.to_string() })
                }
            }
        }
        out.extend(current);
    }
    out
}

fn clock(secs: f64, separator: char) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}{separator}{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// Text for a WebVTT cue: one line (a line break would end the cue or open another), with the
/// three characters WebVTT escapes escaped, which also leaves no "-->" (a timing line) in it.
fn vtt_text(text: &str) -> String {
    names::one_line(text).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Text for a SubRip cue: one line, and no "-->", which SRT readers take for a timing line.
fn srt_text(text: &str) -> String {
    let mut line = names::one_line(text);
    while line.contains("-->") {
        line = line.replace("-->", "->");
    }
    line
}

/// WebVTT with `<v Speaker>` voice tags.
pub fn vtt(segments: &[Segment]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for c in cues(segments) {
        // A voice name ends at '>': escaped, it stays inside the tag.
        let (name, text) = (vtt_text(&c.name), vtt_text(&c.text));
        let _ = write!(out, "{} --> {}\n<v {name}>{text}\n\n", clock(c.start, '.'), clock(c.end, '.'));
    }
    out
}

/// SubRip with `Speaker:` prefixes.
pub fn srt(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (i, c) in cues(segments).iter().enumerate() {
        let (name, text) = (srt_text(&c.name), srt_text(&c.text));
        let _ = write!(out, "{}\n{} --> {}\n{name}: {text}\n\n", i + 1, clock(c.start, ','), clock(c.end, ','));
    }
    out
}

/// The Podcasting 2.0 JSON transcript (`podcast:transcript`, type application/json).
pub fn podcast_json(segments: &[Segment]) -> String {
    #[derive(Serialize)]
    struct P20<'a> {
        version: &'static str,
        segments: Vec<P20Segment<'a>>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct P20Segment<'a> {
        speaker: &'a str,
        start_time: f64,
        end_time: f64,
        body: &'a str,
    }
    let doc = P20 {
        version: "1.0.0",
        segments: segments
            .iter()
            .map(|s| P20Segment {
                speaker: &s.name,
                start_time: round3(s.start),
                end_time: round3(s.end),
                body: s.text.trim(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).expect("transcript serializes")
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Speaker turns: consecutive segments of one speaker, joined.
fn turns(segments: &[Segment]) -> Vec<(String, f64, String)> {
    let mut out: Vec<(String, f64, String)> = Vec::new();
    for s in segments {
        let text = s.text.trim();
        if text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((name, _, t)) if *name == s.name => {
                t.push(' ');
                t.push_str(text);
            }
            _ => out.push((s.name.clone(), s.start, text.to_string())),
        }
    }
    out
}

fn short_clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Plain text: `[hh:mm:ss] Name: what they said`, one turn per paragraph.
pub fn text(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (name, start, t) in turns(segments) {
        let _ = writeln!(out, "[{}] {}: {}\n", short_clock(start), names::one_line(&name), names::one_line(&t));
    }
    out
}

/// A standalone HTML page (no scripts, no external resources), every text escaped.
pub fn html(title: &str, segments: &[Segment]) -> String {
    let title = crate::markup::escape_html(title);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em}}\
         .t{{color:#777;font-variant-numeric:tabular-nums;margin-right:.5em}}.s{{font-weight:600}}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n"
    );
    for (name, start, t) in turns(segments) {
        let _ = writeln!(
            out,
            "<p><span class=\"t\">{}</span><span class=\"s\">{}</span>: {}</p>",
            short_clock(start),
            crate::markup::escape_html(&name),
            crate::markup::escape_html(&t)
        );
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::tests::seg;

    fn worded(name: &str, start: f64, words: &[&str]) -> Segment {
        let mut s = seg(name, start, start + words.len() as f64 * 0.4, &words.join(" "));
        s.words = words
            .iter()
            .enumerate()
            .map(|(i, w)| Word {
                start: start + i as f64 * 0.4,
                end: start + i as f64 * 0.4 + 0.35,
                text: w.to_string(),
                probability: 0.9,
            })
            .collect();
        s
    }

    #[test]
    fn cues_are_cut_on_word_boundaries_within_65_characters_and_5_seconds() {
        let words: Vec<String> = (0..40).map(|i| format!("word{i}")).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let cues = cues(&[worded("Maya", 10.0, &refs)]);
        assert!(cues.len() > 2);
        for c in &cues {
            assert!(c.text.chars().count() <= CUE_CHARS, "{c:?}");
            assert!(c.end - c.start <= CUE_SECONDS + 1e-9, "{c:?}");
            assert!(c.text.split(' ').all(|w| w.starts_with("word")), "cut inside a word: {c:?}");
        }
        let rejoined: Vec<&str> = cues.iter().flat_map(|c| c.text.split(' ')).collect();
        assert_eq!(rejoined, refs, "every word once, in order");
        assert_eq!(cues[0].start, 10.0);
    }

    #[test]
    fn a_hostile_name_or_text_cannot_open_a_cue() {
        let evil = "Ev>il\n\n00:00:00.000 --> 00:00:09.000\nINJECTED";
        let segments = vec![seg(evil, 1.0, 2.0, "said\n\n00:00:03,000 --> 00:00:04,000\nmore")];
        let v = vtt(&segments);
        assert_eq!(v.matches(" --> ").count(), 1, "{v}");
        assert!(
            v.contains(
                "<v Ev&gt;il 00:00:00.000 --&gt; 00:00:09.000 INJECTED>said 00:00:03,000 --&gt; 00:00:04,000 more\n"
            ),
            "{v}"
        );
        let s = srt(&segments);
        assert_eq!(s.matches("-->").count(), 1, "{s}");
        assert_eq!(s.lines().count(), 4, "{s}");
        assert_eq!(text(&segments).lines().filter(|l| !l.is_empty()).count(), 1);
    }

    #[test]
    fn vtt_and_srt_carry_speakers_times_and_escaped_text() {
        let segments = vec![seg("Maya", 1.0, 2.5, "Tom & <Jerry> --> here"), seg("Théo", 3661.25, 3662.0, "Oui.")];
        let v = vtt(&segments);
        assert!(v.starts_with("WEBVTT\n\n"));
        assert!(v.contains("00:00:01.000 --> 00:00:02.500\n<v Maya>Tom &amp; &lt;Jerry&gt; --&gt; here\n"), "{v}");
        assert!(v.contains("01:01:01.250 --> 01:01:02.000\n<v Théo>Oui.\n"), "{v}");
        let s = srt(&segments);
        assert!(s.starts_with("1\n00:00:01,000 --> 00:00:02,500\nMaya: Tom & <Jerry> -> here\n\n2\n"), "{s}");
    }

    #[test]
    fn podcasting_2_0_json_has_its_four_fields_per_segment() {
        let json: serde_json::Value =
            serde_json::from_str(&podcast_json(&[seg("Maya", 1.0004, 2.5, " Hi. ")])).unwrap();
        assert_eq!(json["version"], "1.0.0");
        assert_eq!(
            json["segments"][0],
            serde_json::json!({"speaker": "Maya", "startTime": 1.0, "endTime": 2.5, "body": "Hi."})
        );
    }

    #[test]
    fn text_and_html_group_turns_and_escape() {
        let segments =
            vec![seg("Maya", 1.0, 2.0, "One."), seg("Maya", 2.5, 3.0, "Two."), seg("Theo", 65.0, 66.0, "<b>Three</b>")];
        assert_eq!(text(&segments), "[00:00:01] Maya: One. Two.\n\n[00:01:05] Theo: <b>Three</b>\n\n");
        let page = html("Room <Notes>", &segments);
        assert!(page.contains("<title>Room &lt;Notes&gt;</title>"));
        assert!(page.contains("<span class=\"s\">Theo</span>: &lt;b&gt;Three&lt;/b&gt;</p>"), "{page}");
        assert!(!page.contains("<script"));
    }
}

/// The transcript formats `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Vtt,
    Srt,
    Json,
    PodcastJson,
    Txt,
    Html,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 6] = [Self::Vtt, Self::Srt, Self::Json, Self::PodcastJson, Self::Txt, Self::Html];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "vtt" => Self::Vtt,
            "srt" => Self::Srt,
            "json" => Self::Json,
            "podcast-json" => Self::PodcastJson,
            "txt" => Self::Txt,
            "html" => Self::Html,
            _ => return None,
        })
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Vtt => session::TRANSCRIPT_VTT,
            Self::Srt => session::TRANSCRIPT_SRT,
            Self::Json => session::TRANSCRIPT_JSON,
            Self::PodcastJson => session::TRANSCRIPT_PODCAST_JSON,
            Self::Txt => session::TRANSCRIPT_TXT,
            Self::Html => session::TRANSCRIPT_HTML,
        }
    }

    pub fn render(self, doc: &super::TranscriptDoc) -> String {
        match self {
            Self::Vtt => vtt(&doc.segments),
            Self::Srt => srt(&doc.segments),
            Self::Json => doc.to_json(),
            Self::PodcastJson => podcast_json(&doc.segments) + "\n",
            Self::Txt => text(&doc.segments),
            Self::Html => html(&doc.title, &doc.segments),
        }
    }
}

/// Writes each format into `dir` (atomically: temporary file, then rename).
pub fn write(
    doc: &super::TranscriptDoc,
    dir: &std::path::Path,
    formats: &[ExportFormat],
) -> Result<Vec<std::path::PathBuf>, crate::session::SessionError> {
    let mut written = Vec::new();
    for f in formats {
        let path = dir.join(f.file_name());
        crate::session::write_atomic(&path, f.render(doc).as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
