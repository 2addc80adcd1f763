//! Transcripts made elsewhere: WebVTT (speakers from `<v>` tags), SRT (`Name:` prefixes),
//! Podcasting 2.0 JSON and our own JSON, read into segments and mapped onto a session's speakers.

use std::collections::HashMap;

use serde::Deserialize;

use super::{Segment, TRANSCRIPT_FORMAT, TRANSCRIPT_VERSION, TranscriptDoc, TranscriptSpeaker, Word, merge};
use crate::session::Room;

#[derive(Debug, thiserror::Error)]
pub enum TranscriptImportError {
    #[error("not a transcript roomcast reads (WebVTT, SRT, Podcasting 2.0 JSON or roomcast JSON)")]
    UnknownFormat,
    #[error("line {line}: {reason}")]
    Syntax { line: usize, reason: String },
    #[error("{0}")]
    Json(String),
    #[error("speaker(s) {unknown} are not in the room (its speakers: {known})")]
    UnknownSpeakers { unknown: String, known: String },
    #[error("no speaker named in segment at {at}; WebVTT needs <v Name> tags, SRT 'Name:' prefixes")]
    NoSpeaker { at: String },
    #[error("segment '{text}' at {start} s to {end} s is outside the room (0 to {duration:.3} s)")]
    OutsideRoom { text: String, start: f64, end: f64, duration: f64 },
    #[error("speaker '{given}': {source}")]
    BadName { given: String, source: crate::session::names::NameError },
}

/// A transcript attached to a room, and what had to be adjusted to fit it.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub doc: TranscriptDoc,
    /// Cues that ran past the room's end (tools round and pad their last cue), cut at it.
    pub clamped: usize,
}

/// A segment as the foreign file gave it: a speaker's name, not an id.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignSegment {
    pub name: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub words: Vec<Word>,
}

/// Reads any supported format, recognized by its content (not its name).
pub fn parse(text: &str) -> Result<Vec<ForeignSegment>, TranscriptImportError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return parse_json(trimmed);
    }
    if trimmed.starts_with("WEBVTT") {
        return parse_cues(trimmed, CueStyle::Vtt);
    }
    if trimmed.lines().nth(1).is_some_and(|l| l.contains("-->")) {
        return parse_cues(trimmed, CueStyle::Srt);
    }
    Err(TranscriptImportError::UnknownFormat)
}

fn parse_json(text: &str) -> Result<Vec<ForeignSegment>, TranscriptImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TranscriptImportError::Json(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) == Some(TRANSCRIPT_FORMAT) {
        let doc: TranscriptDoc =
            serde_json::from_value(value).map_err(|e| TranscriptImportError::Json(e.to_string()))?;
        return Ok(doc
            .segments
            .into_iter()
            .map(|s| ForeignSegment { name: s.name, start: s.start, end: s.end, text: s.text, words: s.words })
            .collect());
    }
    #[derive(Deserialize)]
    struct Podcast {
        segments: Vec<PodcastSegment>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PodcastSegment {
        speaker: Option<String>,
        start_time: f64,
        end_time: f64,
        body: String,
    }
    if value.get("version").is_some() && value.get("segments").is_some() {
        let doc: Podcast = serde_json::from_value(value).map_err(|e| TranscriptImportError::Json(e.to_string()))?;
        return doc
            .segments
            .into_iter()
            .map(|s| {
                let name = s
                    .speaker
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| TranscriptImportError::NoSpeaker { at: format!("{:.2} s", s.start_time) })?;
                Ok(ForeignSegment { name, start: s.start_time, end: s.end_time, text: s.body, words: Vec::new() })
            })
            .collect();
    }
    Err(TranscriptImportError::UnknownFormat)
}

#[derive(Clone, Copy, PartialEq)]
enum CueStyle {
    Vtt,
    Srt,
}

/// `[hh:]mm:ss.mmm` (WebVTT) or `hh:mm:ss,mmm` (SRT), in seconds.
fn cue_time(text: &str) -> Option<f64> {
    let text = text.trim().replace(',', ".");
    let parts: Vec<&str> = text.split(':').collect();
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (h.parse::<u64>().ok()?, m.parse::<u64>().ok()?, s),
        [m, s] => (0, m.parse::<u64>().ok()?, s),
        _ => return None,
    };
    let secs: f64 = s.parse().ok().filter(|v: &f64| (0.0..60.0).contains(v))?;
    // No recording runs for years: an absurd hour is a broken file, not a time.
    // `then`, not `then_some`: the sum must not be computed for an hour that would overflow it.
    (m < 60 && h < 100_000).then(|| (h * 3600 + m * 60) as f64 + secs)
}

/// Decodes the character references WebVTT and HTML-ish captions use (`&amp;` last, so `&amp;lt;`
/// stays `&lt;`).
fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lrm;", "")
        .replace("&rlm;", "")
        .replace("&amp;", "&")
}

/// Removes WebVTT markup (`<v Name>`, `<i>`, `<c.x>`, timestamps) and decodes its entities.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out)
}

/// SRT has no escaping: only the formatting tags players know (`<i>`, `<b>`, `<u>`, `<font ...>`)
/// are markup; any other `<` is text ("x < y").
fn strip_srt_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let close = tail.find('>');
        let name: String = tail[1..].trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        match close {
            Some(end) if ["i", "b", "u", "font"].contains(&name.to_ascii_lowercase().as_str()) => {
                rest = &tail[end + 1..]
            }
            _ => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_cues(text: &str, style: CueStyle) -> Result<Vec<ForeignSegment>, TranscriptImportError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<ForeignSegment> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if !line.contains("-->") {
            i += 1;
            continue;
        }
        let (a, b) = line.split_once("-->").unwrap_or_default();
        // WebVTT cue settings follow the end time.
        let b = b.split_whitespace().next().unwrap_or("");
        let (Some(start), Some(end)) = (cue_time(a), cue_time(b)) else {
            // A cue identifier with "-->" in it (the spec forbids it, files have it): the timing
            // is on the next line.
            if lines.get(i + 1).is_some_and(|next| next.contains("-->")) {
                i += 1;
                continue;
            }
            return Err(TranscriptImportError::Syntax { line: i + 1, reason: format!("'{line}' is not a cue timing") });
        };
        let mut body: Vec<&str> = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].trim().is_empty() {
            body.push(lines[i].trim());
            i += 1;
        }
        let raw = body.join(" ");
        let (name, text) = match style {
            CueStyle::Vtt => {
                let name = raw.find("<v").and_then(|at| {
                    let tag = &raw[at + 2..];
                    let close = tag.find('>')?;
                    // `<v.loud Ana>`: classes before the name.
                    let inner = tag[..close].trim_start_matches(|c: char| c != ' ' && c != '\t').trim();
                    Some(decode_entities(inner))
                });
                (name, strip_tags(&raw))
            }
            CueStyle::Srt => {
                let plain = strip_srt_tags(&raw);
                // `Name: text`: a name is a few words before a colon that is followed by a space
                // (not "10:30"). A sentence taken for a name ("Note: ...") is then an unknown
                // speaker, which `attach` names.
                let speaker = plain.split_once(": ").filter(|(n, _)| {
                    let n = n.trim();
                    !n.is_empty()
                        && n.chars().count() <= 64
                        && n.split_whitespace().count() <= 4
                        && !n.contains(['?', '!'])
                        && !n.ends_with(|c: char| c.is_ascii_digit())
                });
                match speaker {
                    Some((n, rest)) => (Some(n.trim().to_string()), rest.trim().to_string()),
                    None => (None, plain),
                }
            }
        };
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        // Cues of one speaker without a <v> tag continue that speaker (WebVTT players do the same).
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => match (style, out.last()) {
                (CueStyle::Vtt, Some(prev)) => prev.name.clone(),
                _ => return Err(TranscriptImportError::NoSpeaker { at: format!("{start:.2} s") }),
            },
        };
        // Readable cues split one turn: consecutive cues of one speaker that touch are one segment.
        match out.last_mut() {
            Some(prev)
                if prev.name == name && (start - prev.end).abs() < 0.01 && prev.text.len() + text.len() < 1000 =>
            {
                prev.end = end;
                prev.text.push(' ');
                prev.text.push_str(&text);
            }
            _ if text.is_empty() => {}
            _ => out.push(ForeignSegment { name, start, end, text, words: Vec::new() }),
        }
    }
    if out.is_empty() {
        return Err(TranscriptImportError::Syntax { line: 1, reason: "no cues".into() });
    }
    Ok(out)
}

/// Maps the foreign speakers' names onto the room's speakers (exact name, then as people read
/// it: any case, full-width letters, invisible characters; then id) and builds our transcript.
/// Unknown names are an error unless `add_speakers`. A cue that runs past the room's end is cut
/// at it (counted); one that starts after it is refused.
pub fn attach(
    room: &Room,
    segments: Vec<ForeignSegment>,
    add_speakers: bool,
) -> Result<Attachment, TranscriptImportError> {
    use crate::session::names;
    let mut speakers: Vec<TranscriptSpeaker> = room
        .speakers
        .iter()
        .map(|s| TranscriptSpeaker { id: s.id.clone(), name: s.name.clone(), language: None })
        .collect();
    let mut unknown: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(segments.len());
    // Lookups by exact name, by name in any case and by id, and ids taken: constant time per
    // segment, so thousands of speakers attach in milliseconds.
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut by_folded: HashMap<String, usize> = HashMap::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut ids = crate::session::UniqueIds::default();
    for (i, k) in speakers.iter().enumerate() {
        by_name.entry(k.name.clone()).or_insert(i);
        by_folded.entry(names::name_key(&k.name)).or_insert(i);
        by_id.entry(k.id.clone()).or_insert(i);
        ids.take(&k.id);
    }
    let mut clamped = 0;
    for mut s in segments {
        let times = || [s.start, s.end].into_iter().chain(s.words.iter().flat_map(|w| [w.start, w.end]));
        let fits = times().all(|t| t.is_finite() && t >= 0.0);
        let starts_after_end = room.duration > 0.0 && s.start > room.duration;
        if !fits || starts_after_end {
            let text: String = s.text.chars().take(40).collect();
            return Err(TranscriptImportError::OutsideRoom {
                text,
                start: s.start,
                end: s.end,
                duration: room.duration,
            });
        }
        if room.duration > 0.0 && times().any(|t| t > room.duration) {
            clamped += 1;
            let end = room.duration;
            s.end = s.end.min(end);
            for w in &mut s.words {
                (w.start, w.end) = (w.start.min(end), w.end.min(end));
            }
        }
        let found = by_name
            .get(&s.name)
            .or_else(|| by_folded.get(&names::name_key(&s.name)))
            .or_else(|| by_id.get(&s.name))
            .map(|&i| speakers[i].clone());
        let speaker = match found {
            Some(k) => k,
            None if add_speakers => {
                let name = names::speaker_name(&s.name).map_err(|source| TranscriptImportError::BadName {
                    given: names::one_line(&s.name).chars().take(40).collect(),
                    source,
                })?;
                let k = TranscriptSpeaker { id: ids.allocate(&name), name, language: None };
                let i = speakers.len();
                by_name.entry(k.name.clone()).or_insert(i);
                by_name.entry(s.name.clone()).or_insert(i);
                by_folded.entry(names::name_key(&k.name)).or_insert(i);
                by_id.entry(k.id.clone()).or_insert(i);
                speakers.push(k.clone());
                k
            }
            None => {
                if !unknown.contains(&s.name) {
                    unknown.push(s.name.clone());
                }
                continue;
            }
        };
        out.push(Segment {
            speaker: speaker.id,
            name: speaker.name,
            start: s.start,
            end: s.end.max(s.start),
            text: s.text,
            words: s.words,
            overlap: false,
        });
    }
    if !unknown.is_empty() {
        let quote = |v: Vec<String>| v.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        return Err(TranscriptImportError::UnknownSpeakers {
            unknown: quote(unknown),
            known: quote(room.speakers.iter().map(|s| s.name.clone()).collect()),
        });
    }
    let doc = TranscriptDoc {
        format: TRANSCRIPT_FORMAT.into(),
        version: TRANSCRIPT_VERSION,
        room: room.id.clone(),
        title: room.title.clone(),
        duration: room.duration,
        speakers,
        segments: merge(out),
        live_captions: false,
    };
    Ok(Attachment { doc, clamped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_speakers_come_from_voice_tags_and_split_cues_join_again() {
        let vtt = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000 align:start\n<v Maya>Welcome to <i>Room</i> Notes,\n\n\
                   00:04.000 --> 00:06.500\n<v Maya>the show &amp; more.\n\n00:07.000 --> 00:08.000\n<v.loud Théo>Merci!\n";
        let s = parse(vtt).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].name.as_str(), s[0].start, s[0].end), ("Maya", 1.0, 6.5));
        assert_eq!(s[0].text, "Welcome to Room Notes, the show & more.");
        assert_eq!((s[1].name.as_str(), s[1].text.as_str()), ("Théo", "Merci!"));
    }

    #[test]
    fn srt_speakers_come_from_name_prefixes() {
        let srt =
            "1\n00:01:02,500 --> 00:01:04,000\nPriya: Hello there.\n\n2\n00:01:05,000 --> 00:01:06,000\nMaya: Hi!\n";
        let s = parse(srt).unwrap();
        assert_eq!((s[0].name.as_str(), s[0].start, s[0].text.as_str()), ("Priya", 62.5, "Hello there."));
        assert_eq!(s[1].name, "Maya");
        assert!(matches!(
            parse("1\n00:00:01,000 --> 00:00:02,000\nno speaker here\n"),
            Err(TranscriptImportError::NoSpeaker { .. })
        ));
    }

    #[test]
    fn podcasting_json_and_bad_files() {
        let json = r#"{"version":"1.0.0","segments":[{"speaker":"Ana","startTime":1.5,"endTime":2.0,"body":"Hi"}]}"#;
        let s = parse(json).unwrap();
        assert_eq!((s[0].name.as_str(), s[0].start, s[0].end), ("Ana", 1.5, 2.0));
        assert!(matches!(parse("hello"), Err(TranscriptImportError::UnknownFormat)));
        assert!(matches!(
            parse("WEBVTT\n\n00:00:xx --> 00:01.000\n<v A>x\n"),
            Err(TranscriptImportError::Syntax { line: 3, .. })
        ));
    }

    #[test]
    fn our_own_escaping_and_awkward_cues_read_back() {
        let vtt = "WEBVTT\n\nintro-->1\n00:00:01.000 --> 00:00:02.000\n<v Tom &amp; Jerry>&quot;Hi&quot; &lt;3\n";
        let s = parse(vtt).unwrap();
        assert_eq!((s[0].name.as_str(), s[0].text.as_str()), ("Tom & Jerry", "\"Hi\" <3"));
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nDr. Smith: x < y, <i>really</i>\n\n\
                   2\n00:00:03,000 --> 00:00:04,000\nDr. Smith: At 10:30 we start\n";
        let s = parse(srt).unwrap();
        assert_eq!((s[0].name.as_str(), s[0].text.as_str()), ("Dr. Smith", "x < y, really"));
        assert_eq!(s[1].text, "At 10:30 we start");
        assert!(matches!(
            parse("1\n00:00:01,000 --> 00:00:02,000\nAt 10:30 we start\n"),
            Err(TranscriptImportError::NoSpeaker { .. })
        ));
        assert!(parse("WEBVTT\n\n5124095576030432:00:00.000 --> 00:00:01.000\n<v A>x\n").is_err());
    }
}
