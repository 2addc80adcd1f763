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
/// starts where the word before it ended; the first word of a window starts at whisper's own
/// timestamp. Punctuation has no sound to align to, and the path often lingers on it over the
/// next word's sound ("hour." ending 0.3 s into "he"): a word starts where the word before it
/// ended, not where its punctuation did. `fit` then moves both to the sound.
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
            if !is_punctuation(text) {
                previous_end = Some(end);
            }
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
/// How far a start in sound may move on to a pause just after it: the word before it then ran on
/// into that pause (its DTW end is a few frames early), and this word's sound comes after it.
/// DTW ends inside speech are late far more often than early, so this is shorter than
/// `SNAP_BACK`: 0.1 s moves "and" off the tail of "beautiful" and leaves "could" on its own
/// sound (0.15-0.25 s took words whose boundary DTW put late over the next pause).
const SNAP_FORWARD: f64 = 0.1;
/// The shortest quiet that a start moves on over: a stop consonant's closure ("market", "map")
/// is a quiet of 30-50 ms inside a word, not the pause after the word before.
const PAUSE_AHEAD: f64 = 0.08;
/// How far the last word of a window may run on past whisper's end, while there is sound.
const RUN_ON: f64 = 0.5;

/// Fits word times to the speaker's audio. A word lies in one piece of the window, the one its
/// DTW end is in. It starts at the first sound after its given start (which is where the word
/// before it ended, so the pause between them is skipped), or, if the given start is inside
/// sound, at the nearer of the pause just before it and the pause just after it. A word ends at
/// the last sound before the next word starts; the last word, where its sound stops.
pub fn fit(words: &mut [WindowWord], env: &Envelope, pieces: &[(f64, f64)]) {
    let n = words.len();
    // The silence between two pieces is ours, not the room's: a word that ends in a later piece
    // than it starts in (its start is where the word before it ended, back in the piece before)
    // starts in that later piece.
    for w in words.iter_mut() {
        if let Some(&(a, _)) = pieces.iter().rev().find(|(a, _)| *a > w.start && *a < w.end - MIN_WORD) {
            w.start = a;
        }
    }
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
            let back = (g > limit).then_some((f - g, g));
            // Or a pause begins just after: the word starts with the sound after it, if the word
            // still has sound there.
            let ahead = Envelope::frame(words[i].start + SNAP_FORWARD);
            let last = Envelope::frame(words[i].end - MIN_WORD);
            let pause = (PAUSE_AHEAD / FRAME).round() as isize;
            let mut on = None;
            let mut h = f;
            loop {
                while h < ahead && env.loud(h) {
                    h += 1;
                }
                if h >= ahead {
                    break;
                }
                let mut q = h;
                while q < last && !env.loud(q) {
                    q += 1;
                }
                if q - h >= pause && q < last {
                    on = Some((h - f, q));
                }
                // A pause (with this word's sound after it or not) ends the search; a closure
                // inside the word is stepped over.
                if q - h >= pause || q == h {
                    break;
                }
                h = q;
            }
            let nearer = match (back, on) {
                (Some(b), Some(o)) => Some(if o.0 < b.0 { o } else { b }),
                (b, o) => b.or(o),
            };
            if let Some((_, frame)) = nearer {
                words[i].start = frame as f64 * FRAME;
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
    fn a_word_starts_where_the_word_before_ended_not_where_its_punctuation_did() {
        // The path lingered on the full stop over the next word's sound.
        let words = words(&[seg(vec![tok(100, " hour"), tok(156, "."), tok(158, " He"), tok(190, " had")])]);
        assert_eq!(words[0].text, "hour.");
        assert_eq!((words[1].start, words[1].end), (1.0, 1.58), "{words:?}");
    }

    /// `seconds` of faint noise with speech (a tone) in `spans`.
    fn speech_in(seconds: f64, spans: &[(f64, f64)]) -> Envelope {
        let rate = 16_000;
        let audio: Vec<f32> = (0..(seconds * rate as f64) as usize)
            .map(|i| {
                let t = i as f64 / rate as f64;
                let speech = spans.iter().any(|(a, b)| (*a..*b).contains(&t));
                let noise = ((i * 7919) % 13) as f32 / 13.0 - 0.5;
                if speech { 0.3 * (t * 900.0).sin() as f32 } else { 0.001 * noise }
            })
            .collect();
        Envelope::new(&audio, rate as u32)
    }

    fn word(text: &str, start: f64, end: f64) -> WindowWord {
        WindowWord { text: text.into(), start, end, probability: 0.9, segment: 0 }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 0.011
    }

    #[test]
    fn a_start_on_the_tail_of_the_word_before_moves_on_to_the_sound_after_the_pause() {
        // "beautiful" (with a dip inside it at 0.68-0.70) and "and" after a 0.6 s pause; DTW
        // ended "beautiful" 0.03 s early, inside its own sound.
        let env = speech_in(2.5, &[(0.3, 0.68), (0.7, 0.9), (1.5, 1.9)]);
        let mut w = vec![word("beautiful", 0.3, 0.87), word("and", 0.87, 2.1)];
        fit(&mut w, &env, &[(0.0, 2.5)]);
        assert!(close(w[0].end, 0.9) && close(w[1].start, 1.5), "{w:?}");
    }

    #[test]
    fn a_closure_inside_a_word_is_not_the_pause_before_it() {
        // "the" then "market", whose "k" is 40 ms of quiet; DTW put the boundary late, inside
        // "mar", just before that closure.
        let env = speech_in(2.0, &[(0.3, 0.6), (1.0, 1.26), (1.3, 1.45)]);
        let mut w = vec![word("the", 0.3, 1.22), word("market", 1.22, 1.6)];
        fit(&mut w, &env, &[(0.0, 2.0)]);
        assert!(close(w[0].end, 0.6) && close(w[1].start, 1.0) && close(w[1].end, 1.45), "{w:?}");
    }

    #[test]
    fn a_word_ending_in_the_next_piece_starts_in_it() {
        // Two pieces of the room, 0.2-1.0 s and 1.3-2.2 s of the window: "every" begins the
        // second, but the word before it ended (by DTW) just inside the first's sound.
        let env = speech_in(2.5, &[(0.3, 0.9), (1.4, 1.9)]);
        let mut w = vec![word("country", 0.3, 0.85), word("every", 0.85, 1.9)];
        fit(&mut w, &env, &[(0.2, 1.0), (1.3, 2.2)]);
        assert!(close(w[0].end, 0.9) && close(w[1].start, 1.4) && close(w[1].end, 1.9), "{w:?}");
    }

    #[test]
    fn word_times_fit_the_sound_between_pauses() {
        // Speech at 0.50-0.90 s and 1.20-1.70 s in 2 s of faint noise.
        let env = speech_in(2.0, &[(0.5, 0.9), (1.2, 1.7)]);
        // As DTW gives them: the first word from whisper's timestamp (in the pause before it)
        // to inside the pause after it, the second from there to past its end.
        let mut w = vec![word("one", 0.42, 1.05), word("two", 1.05, 1.9)];
        fit(&mut w, &env, &[(0.0, 2.0)]);
        assert!(close(w[0].start, 0.5) && close(w[0].end, 0.9), "{w:?}");
        assert!(close(w[1].start, 1.2) && close(w[1].end, 1.7), "{w:?}");
    }
}
