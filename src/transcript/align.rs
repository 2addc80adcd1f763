//! From whisper's tokens to words with times you can jump to.
//!
//! Whisper gives text as sub-word tokens, each with a DTW time (where the alignment heads say the
//! token starts) and its own coarser timestamps. Words are built from tokens (a token that starts
//! with a space starts a word; punctuation belongs to the word before it, also across whisper's
//! segments), take the DTW time of their first token as their start, and end where the next word
//! starts. Then the words are fitted to the speaker's own audio: this is a per-speaker track, so
//! the pauses between words are real silence, and a word starts at the sound that follows a pause
//! and ends where the sound stops, not at the next word. Everything here works in seconds from the
//! start of the window; `run` maps the result to the room clock.

use super::pack::Window;
use super::whisper::RawSegment;
use super::{Segment, Word, ms};

/// A speaker as the transcript names them: (id, display name).
pub type SpeakerName = (String, String);

/// A word in window time.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowWord {
    pub text: String,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
    /// Whisper's segment the word began in.
    pub segment: usize,
}

/// Frames of the audio's loudness, 10 ms each.
pub struct Envelope {
    /// Frames inside a run of sound long enough to be speech.
    sound: Vec<bool>,
}

/// The shortest run of loud frames that is sound rather than a click (a piece's edge, a pop).
const MIN_SOUND_FRAMES: usize = 3;

pub const FRAME: f64 = 0.01;

impl Envelope {
    /// The loudness of 16 kHz audio, and the level under which a frame counts as a pause: well
    /// above the quietest frames (room tone, noise floor), well below speech.
    pub fn new(audio: &[f32], rate: u32) -> Self {
        let n = (rate as f64 * FRAME) as usize;
        let db: Vec<f32> = audio
            .chunks(n.max(1))
            .map(|c| {
                let power = c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32;
                10.0 * power.max(1e-12).log10()
            })
            .collect();
        // Digital silence (the gaps put between pieces) is not the room's floor.
        let mut heard: Vec<f32> = db.iter().copied().filter(|&d| d > -110.0).collect();
        heard.sort_by(f32::total_cmp);
        let at = |q: f64| heard.get(((heard.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(-120.0);
        let (floor, level) = (at(0.05), at(0.9));
        let threshold = (floor + 12.0).max(level - 38.0);
        let mut sound: Vec<bool> = db.iter().map(|&d| d > threshold).collect();
        let mut i = 0;
        while i < sound.len() {
            if !sound[i] {
                i += 1;
                continue;
            }
            let run = sound[i..].iter().take_while(|&&s| s).count();
            if run < MIN_SOUND_FRAMES {
                sound[i..i + run].fill(false);
            }
            i += run;
        }
        Envelope { sound }
    }

    fn loud(&self, frame: isize) -> bool {
        frame >= 0 && self.sound.get(frame as usize).copied().unwrap_or(false)
    }

    fn frame(t: f64) -> isize {
        (t / FRAME).floor() as isize
    }
}

/// A token's text is punctuation only (it belongs to the word before it).
fn is_punctuation(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.chars().all(|c| !c.is_alphanumeric())
}

/// Words from whisper's tokens. whisper.cpp's DTW time of a token is where the alignment path
/// leaves it: the token's end (measured on speech with known word boundaries: taken as a start,
/// every word came out one word late). A word therefore ends at its last token's DTW time and
/// starts where the token before it ended; the first word of a window starts at whisper's own
/// timestamp. `fit` then moves both to the sound.
pub fn words(segments: &[RawSegment]) -> Vec<WindowWord> {
    let mut out: Vec<WindowWord> = Vec::new();
    // A word is open while tokens without a leading space may still continue it.
    let mut open = false;
    let mut pending_prefix = String::new();
    let mut previous_end: Option<f64> = None;
    for (si, s) in segments.iter().enumerate() {
        for t in &s.tokens {
            let text = t.text.as_str();
            if text.trim().is_empty() {
                continue;
            }
            let end = t.dtw.unwrap_or(t.t1) as f64 / 100.0;
            let start = previous_end.unwrap_or(t.t0 as f64 / 100.0);
            previous_end = Some(end);
            let glued = !text.starts_with(' ') && open;
            if glued || (is_punctuation(text) && !out.is_empty() && !opens_quote(text)) {
                let w = out.last_mut().expect("a word is open");
                w.text.push_str(if glued { text } else { text.trim_start() });
                w.probability = w.probability.min(t.probability);
                // Punctuation takes no time of its own.
                if !is_punctuation(text) {
                    w.end = w.end.max(end);
                }
                open = true;
                continue;
            }
            if is_punctuation(text) && opens_quote(text) {
                // An opening quote or dash: the next word's.
                pending_prefix.push_str(text.trim());
                open = false;
                previous_end = Some(start);
                continue;
            }
            out.push(WindowWord {
                text: format!("{}{}", std::mem::take(&mut pending_prefix), text.trim_start()),
                start,
                end: end.max(start),
                probability: t.probability,
                segment: si,
            });
            open = true;
        }
        // Whisper's segments end at a timestamp: a new segment never continues a word.
        open = false;
    }
    if !pending_prefix.is_empty()
        && let Some(w) = out.last_mut()
    {
        w.text.push_str(&pending_prefix);
    }
    out
}

/// Quotes and dashes that open a phrase rather than close one.
fn opens_quote(text: &str) -> bool {
    text.starts_with(' ') && matches!(text.trim(), "\"" | "'" | "“" | "‘" | "(" | "[" | "-" | "—")
}

/// The shortest a word can be (a click of a consonant is about this long).
const MIN_WORD: f64 = 0.05;
/// How far a start may move back to the pause just before it (DTW's error on speech with known
/// word boundaries is up to about this much).
const SNAP_BACK: f64 = 0.25;
/// How far the last word of a window may run on past whisper's end, while there is sound.
const RUN_ON: f64 = 0.5;

/// Fits word times to the speaker's audio. A word starts at the first sound after its given
/// start (which is where the word before it ended, so the pause between them is skipped), or, if
/// the given start is inside sound, at the pause just before it. A word ends at the last sound
/// before the next word starts; the last word, where its sound stops.
pub fn fit(words: &mut [WindowWord], env: &Envelope, pieces: &[(f64, f64)]) {
    let n = words.len();
    for i in 0..n {
        let lower = if i == 0 { 0.0 } else { words[i - 1].start + MIN_WORD };
        let mut f = Envelope::frame(words[i].start);
        if !env.loud(f) {
            // In a pause: the word starts at the next sound, if it comes before the word's end.
            let limit = Envelope::frame(words[i].end - MIN_WORD);
            while f < limit && !env.loud(f) {
                f += 1;
            }
            if env.loud(f) {
                words[i].start = f as f64 * FRAME;
            }
        } else {
            // In sound: if a pause lies shortly before, the word starts where it ends.
            let limit = Envelope::frame((words[i].start - SNAP_BACK).max(lower));
            let mut g = f;
            while g > limit && env.loud(g - 1) {
                g -= 1;
            }
            if g > limit {
                words[i].start = g as f64 * FRAME;
            }
        }
    }
    // A word never runs on past the piece of audio it starts in (the next piece is another time
    // of the room, or noise whisper wrote nothing for).
    let piece_end = |t: f64| pieces.iter().find(|(a, b)| t >= *a - 0.05 && t < *b).map_or(f64::INFINITY, |&(_, b)| b);
    for w in words.iter_mut() {
        w.end = w.end.min(piece_end(w.start)).max(w.start);
    }
    for i in 0..n {
        let first = Envelope::frame(words[i].start);
        if i + 1 < n {
            // The last sound before the next word: the pause between them is no one's.
            let mut f = Envelope::frame(words[i + 1].start.min(piece_end(words[i].start))) - 1;
            while f > first && !env.loud(f) {
                f -= 1;
            }
            words[i].end = if env.loud(f) { (f + 1) as f64 * FRAME } else { words[i].end.min(words[i + 1].start) };
        } else {
            let mut f = Envelope::frame(words[i].end);
            if env.loud(f) {
                let limit = Envelope::frame(words[i].end + RUN_ON);
                while f < limit && env.loud(f + 1) {
                    f += 1;
                }
            } else {
                while f > first && !env.loud(f) {
                    f -= 1;
                }
            }
            if env.loud(f) {
                words[i].end = (f + 1) as f64 * FRAME;
            }
        }
    }
    // Every word keeps some length, in order: DTW can put two words on one frame.
    for i in 1..n {
        let floor = words[i - 1].start + MIN_WORD;
        if words[i].start < floor {
            words[i].start = floor;
        }
    }
    for i in 0..n {
        let next = if i + 1 < n { words[i + 1].start } else { f64::INFINITY };
        words[i].end = words[i].end.max(words[i].start + MIN_WORD).min(next);
    }
}

/// Whisper's own test for a segment it made up from silence or noise: it thinks there was no
/// speech, and is unsure of the words it wrote anyway (whisper's no_speech_threshold 0.6 and
/// logprob_threshold -1.0).
fn invented(s: &RawSegment) -> bool {
    let n = s.tokens.len().max(1) as f32;
    let mean_logprob = s.tokens.iter().map(|t| t.probability.max(1e-6).ln()).sum::<f32>() / n;
    s.no_speech > 0.6 && mean_logprob < -1.0
}

/// Whisper's notes about sound rather than speech: "[BLANK_AUDIO]", "(coughs)", "*sighs*", "♪".
/// Nobody said them.
fn not_speech(text: &str) -> bool {
    let t = text.trim();
    let bracketed = |open: char, close: char| t.starts_with(open) && t.ends_with(close);
    !t.chars().any(char::is_alphanumeric) || bracketed('[', ']') || bracketed('(', ')') || bracketed('*', '*')
}

/// One speaker's window, from whisper's segments to segments and words on the room clock.
/// `lead_in`: seconds of silence the window's audio starts with, before its first piece.
pub fn to_room(
    window: &Window,
    lead_in: f64,
    raw: &[RawSegment],
    env: &Envelope,
    (id, name): &SpeakerName,
) -> Vec<Segment> {
    for s in raw {
        let tokens: Vec<String> =
            s.tokens.iter().map(|t| format!("{:?}@{}/{}-{}", t.text, t.dtw.unwrap_or(-1), t.t0, t.t1)).collect();
        tracing::trace!(speaker = %name, no_speech = s.no_speech, "whisper segment {}-{}: {}", s.t0, s.t1, tokens.join(" "));
    }
    let kept: Vec<RawSegment> = raw.iter().filter(|s| !invented(s) && !not_speech(&s.text)).cloned().collect();
    let mut found = words(&kept);
    // Within speech, a word of symbols only is a note about sound too.
    found.retain(|w| w.text.chars().any(char::is_alphanumeric));
    let pieces: Vec<(f64, f64)> = window.pieces.iter().map(|p| (lead_in + p.at, lead_in + p.at + p.len)).collect();
    fit(&mut found, env, &pieces);
    tracing::trace!(speaker = %name, "words: {}", found.iter().map(|w| format!("{}@{:.2}-{:.2}", w.text, w.start, w.end)).collect::<Vec<_>>().join(" "));
    let mut out: Vec<Segment> = Vec::new();
    for si in 0..kept.len() {
        let words: Vec<Word> = found
            .iter()
            .filter(|w| w.segment == si)
            .map(|w| {
                let start = ms(window.start_to_room(w.start - lead_in));
                let end = ms(window.end_to_room(w.end - lead_in)).max(start);
                Word { start, end, text: w.text.clone(), probability: w.probability }
            })
            .collect();
        let (Some(first), Some(last)) = (words.first(), words.last()) else { continue };
        out.push(Segment {
            speaker: id.clone(),
            name: name.clone(),
            start: first.start,
            end: last.end,
            text: words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "),
            words,
            overlap: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::whisper::RawToken;

    /// A token whose DTW time (its end) is `dtw`.
    fn tok(dtw: i64, text: &str) -> RawToken {
        RawToken { t0: dtw - 20, t1: dtw, dtw: Some(dtw), text: text.into(), probability: 0.9 }
    }

    fn seg(tokens: Vec<RawToken>) -> RawSegment {
        RawSegment { t0: 0, t1: 0, text: String::new(), tokens, no_speech: 0.0 }
    }

    #[test]
    fn punctuation_and_closing_quotes_stay_with_the_word_before_also_across_segments() {
        let words = words(&[
            seg(vec![tok(10, " Let"), tok(20, "'s"), tok(30, " dig"), tok(40, " in")]),
            seg(vec![tok(50, "."), tok(60, " \""), tok(70, "Pr"), tok(75, "ayer"), tok(80, " has"), tok(90, "\"")]),
        ]);
        let text: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(text, ["Let's", "dig", "in.", "\"Prayer", "has\""]);
        assert_eq!(words[3].segment, 1, "the quoted word is the second segment's");
        assert_eq!(words[2].segment, 0, "the full stop did not move 'in' to the next segment");
    }

    #[test]
    fn words_end_at_their_last_tokens_alignment_and_start_where_the_word_before_ended() {
        let words = words(&[seg(vec![tok(100, " Hel"), tok(130, "lo"), tok(160, " there"), tok(160, ".")])]);
        assert_eq!((words[0].start, words[0].end), (0.8, 1.3), "the first word starts at whisper's timestamp");
        assert_eq!((words[1].start, words[1].end), (1.3, 1.6));
        assert_eq!(words[1].text, "there.");
    }

    #[test]
    fn word_times_fit_the_sound_between_pauses() {
        // Speech at 0.50-0.90 s and 1.20-1.70 s in 2 s of faint noise.
        let rate = 16_000;
        let audio: Vec<f32> = (0..2 * rate)
            .map(|i| {
                let t = i as f64 / rate as f64;
                let speech = (0.5..0.9).contains(&t) || (1.2..1.7).contains(&t);
                let noise = ((i * 7919) % 13) as f32 / 13.0 - 0.5;
                if speech { 0.3 * (t * 900.0).sin() as f32 } else { 0.001 * noise }
            })
            .collect();
        let env = Envelope::new(&audio, rate as u32);
        // As DTW gives them: the first word from whisper's timestamp (in the pause before it)
        // to inside the pause after it, the second from there to past its end.
        let mut w = vec![
            WindowWord { text: "one".into(), start: 0.42, end: 1.05, probability: 0.9, segment: 0 },
            WindowWord { text: "two".into(), start: 1.05, end: 1.9, probability: 0.9, segment: 0 },
        ];
        fit(&mut w, &env, &[(0.0, 2.0)]);
        let close = |a: f64, b: f64| (a - b).abs() <= 0.011;
        assert!(close(w[0].start, 0.5) && close(w[0].end, 0.9), "{w:?}");
        assert!(close(w[1].start, 1.2) && close(w[1].end, 1.7), "{w:?}");
    }
}
