//! Edits made after the room, as every published file must show them. The session keeps what
//! was decided (names in room.json; redactions, withdrawals, chapters and soundbites as lines in
//! events.jsonl) and the stages apply it: the mixer silences redacted spans, and a transcript,
//! whether new from whisper or one already written, goes through [`apply`]. Applying twice
//! changes nothing more, so a transcript can be brought up to date at any time.

use super::transcript::{Segment, TranscriptDoc, Word};
use super::{Event, EventKind, Room};

/// Spans of room time (seconds, start < end) taken out of a speaker's audio and words: those
/// redacted for them, and those redacted for everyone.
pub fn redactions(events: &[Event], speaker: &str) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Redacted { end, speaker: who, .. } if who.as_deref().is_none_or(|w| w == speaker) => {
                Some((e.t, *end))
            }
            _ => None,
        })
        .filter(|(a, b)| b > a)
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    spans
}

fn touches(spans: &[(f64, f64)], start: f64, end: f64) -> bool {
    // A word with no length still sits at a moment: it is in a span that holds that moment.
    spans.iter().any(|&(a, b)| start < b && end.max(start + 0.001) > a)
}

/// Brings a transcript up to date with the room: display names from room.json, no segment of a
/// speaker who withdrew consent, and no word in a redacted span. A segment
/// a redaction cuts through becomes one segment per stretch of words left; a segment without word
/// times is dropped whole when a redaction touches it. Returns how many words were taken out.
pub fn apply(doc: &mut TranscriptDoc, room: &Room, events: &[Event]) -> usize {
    let mut removed = 0;
    // Only a withdrawal takes a speaker out: a transcript attached from elsewhere may name speakers
    // the room never had a track for (`import-transcript --add-speakers`), and they stay.
    let withdrawn: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Withdrawn { speaker, .. } => Some(speaker.as_str()),
            _ => None,
        })
        .collect();
    doc.speakers.retain(|s| !withdrawn.contains(&s.id.as_str()));
    for s in &mut doc.speakers {
        if let Some(r) = room.speaker(&s.id) {
            s.name = r.name.clone();
        }
    }
    let mut segments = Vec::with_capacity(doc.segments.len());
    for mut seg in std::mem::take(&mut doc.segments) {
        if withdrawn.contains(&seg.speaker.as_str()) {
            removed += seg.words.len().max(1);
            continue;
        }
        if let Some(speaker) = room.speaker(&seg.speaker) {
            seg.name = speaker.name.clone();
        }
        let spans = redactions(events, &seg.speaker);
        if !touches(&spans, seg.start, seg.end) {
            segments.push(seg);
            continue;
        }
        if seg.words.is_empty() {
            removed += seg.text.split_whitespace().count();
            continue;
        }
        let mut run: Vec<Word> = Vec::new();
        for w in std::mem::take(&mut seg.words) {
            if touches(&spans, w.start, w.end) {
                removed += 1;
                if !run.is_empty() {
                    segments.push(piece(&seg, std::mem::take(&mut run)));
                }
            } else {
                run.push(w);
            }
        }
        if !run.is_empty() {
            segments.push(piece(&seg, run));
        }
    }
    doc.segments = segments;
    removed
}

/// The part of `seg` that holds `words`.
fn piece(seg: &Segment, words: Vec<Word>) -> Segment {
    let text = words.iter().map(|w| w.text.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ");
    Segment {
        speaker: seg.speaker.clone(),
        name: seg.name.clone(),
        start: words.first().map_or(seg.start, |w| w.start),
        end: words.last().map_or(seg.end, |w| w.end),
        text,
        words,
        overlap: seg.overlap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Speaker;

    fn word(start: f64, text: &str) -> Word {
        Word { start, end: start + 0.4, text: text.into(), probability: 0.9 }
    }

    fn room() -> Room {
        let mut r = Room::new("r".into(), "R".into(), "import:".into(), "2026-01-02T03:04:05Z".parse().unwrap());
        for (id, name) in [("ana", "Ana"), ("ben", "Ben")] {
            r.speakers.push(Speaker {
                id: id.into(),
                name: name.into(),
                track: format!("tracks/{id}.opus"),
                intervals: vec![],
                origin: None,
            });
        }
        r
    }

    fn doc() -> TranscriptDoc {
        let seg = |speaker: &str, words: Vec<Word>| Segment {
            speaker: speaker.into(),
            name: speaker.to_uppercase(),
            start: words[0].start,
            end: words.last().unwrap().end,
            text: words.iter().map(|w| w.text.clone()).collect::<Vec<_>>().join(" "),
            words,
            overlap: false,
        };
        TranscriptDoc {
            format: "roomcast-transcript".into(),
            version: 1,
            room: "r".into(),
            title: "R".into(),
            duration: 20.0,
            speakers: vec![],
            segments: vec![
                seg("ana", vec![word(1.0, "the"), word(1.5, "secret"), word(2.0, "plan"), word(2.5, "works")]),
                seg("ben", vec![word(1.6, "really"), word(2.1, "now")]),
            ],
            live_captions: false,
        }
    }

    fn redacted(from: f64, to: f64, speaker: Option<&str>) -> Event {
        Event {
            t: from,
            kind: EventKind::Redacted {
                end: to,
                speaker: speaker.map(str::to_string),
                at: "2026-12-01T00:00:00Z".into(),
            },
        }
    }

    #[test]
    fn a_redaction_cuts_one_speakers_words_and_splits_the_segment_it_cuts_through() {
        let mut d = doc();
        let removed = apply(&mut d, &room(), &[redacted(1.6, 2.2, Some("ana"))]);
        assert_eq!(removed, 2, "secret and plan");
        let texts: Vec<(&str, &str)> = d.segments.iter().map(|s| (s.speaker.as_str(), s.text.as_str())).collect();
        assert_eq!(texts, [("ana", "the"), ("ana", "works"), ("ben", "really now")]);
        assert_eq!(d.segments[1].start, 2.5);
        assert_eq!(d.segments[0].name, "Ana", "names come from the room");
        assert_eq!(apply(&mut d, &room(), &[redacted(1.6, 2.2, Some("ana"))]), 0, "applying again changes nothing");
    }

    #[test]
    fn a_speaker_only_the_transcript_knows_keeps_their_words() {
        let mut d = doc();
        let mut r = room();
        r.speakers.retain(|s| s.id != "ben");
        assert_eq!(apply(&mut d, &r, &[]), 0);
        assert_eq!(d.segments.len(), 2);
        assert_eq!(d.segments[1].name, "BEN", "a name the room does not know is kept");
    }

    #[test]
    fn a_redaction_for_everyone_takes_every_speakers_words_and_a_withdrawn_speaker_goes() {
        let mut d = doc();
        let mut r = room();
        r.speakers.retain(|s| s.id != "ben");
        let gone =
            Event { t: 0.0, kind: EventKind::Withdrawn { speaker: "ben".into(), at: "2026-12-01T00:00:00Z".into() } };
        assert_eq!(apply(&mut d, &r, &[redacted(0.0, 1.2, None), gone]), 3);
        assert!(d.segments.iter().all(|s| s.speaker == "ana"));
        assert_eq!(d.segments[0].text, "secret plan works");
    }
}
