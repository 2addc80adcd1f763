//! How right a transcript is against a script of who said what, and when: word error rate per
//! speaker, and the words that landed on the wrong speaker. The demo prints these for the sample
//! room; the tests score with independent tools (jiwer and whisper's own normalizer).

use serde::Serialize;

use super::Segment;

/// One line of a script: a speaker, when they said it (room seconds), and what they said.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// How one speaker's transcript compares with their lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeakerScore {
    pub name: String,
    /// Word error rate: (substitutions + deletions + insertions) / reference words.
    pub wer: f64,
    pub errors: usize,
    pub reference_words: usize,
    /// Words transcribed under this speaker at a time when only someone else was talking.
    pub wrong_speaker: usize,
}

/// Words for scoring: lowercase, punctuation dropped (apostrophes inside words too: "I'm" is
/// "im"), hyphens split.
pub fn normalize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['-', '—', '–'], " ")
        .split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance between a reference and a hypothesis.
pub fn edit_distance(reference: &[String], hypothesis: &[String]) -> usize {
    let mut row: Vec<usize> = (0..=hypothesis.len()).collect();
    for r in reference {
        let mut diagonal = row[0];
        row[0] += 1;
        for (j, h) in hypothesis.iter().enumerate() {
            let substitution = diagonal + usize::from(r != h);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[hypothesis.len()]
}

/// Scores every speaker who has lines. A word is on the wrong speaker when its middle lies
/// inside someone else's line and not within `tolerance` seconds of any line of its own speaker.
pub fn score(segments: &[Segment], lines: &[Line], tolerance: f64) -> Vec<SpeakerScore> {
    let mut names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    names.dedup();
    let mut seen = Vec::new();
    names.retain(|n| {
        let new = !seen.contains(n);
        seen.push(*n);
        new
    });
    names
        .into_iter()
        .map(|name| {
            let reference: Vec<String> =
                lines.iter().filter(|l| l.name == name).flat_map(|l| normalize(&l.text)).collect();
            let own: Vec<&Segment> = segments.iter().filter(|s| s.name == name).collect();
            let hypothesis: Vec<String> = own.iter().flat_map(|s| normalize(&s.text)).collect();
            let errors = edit_distance(&reference, &hypothesis);
            let wrong_speaker = own
                .iter()
                .flat_map(|s| &s.words)
                .filter(|w| {
                    let mid = (w.start + w.end) / 2.0;
                    let near = |l: &&Line| mid >= l.start - tolerance && mid <= l.end + tolerance;
                    let inside = |l: &&Line| mid >= l.start && mid <= l.end;
                    !lines.iter().filter(|l| l.name == name).any(|l| near(&l))
                        && lines.iter().filter(|l| l.name != name).any(|l| inside(&l))
                })
                .count();
            SpeakerScore {
                name: name.to_string(),
                wer: errors as f64 / reference.len().max(1) as f64,
                errors,
                reference_words: reference.len(),
                wrong_speaker,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Word;

    fn words(text: &str) -> Vec<String> {
        normalize(text)
    }

    #[test]
    fn word_error_rate_counts_substitutions_deletions_and_insertions() {
        assert_eq!(edit_distance(&words("the cat sat"), &words("The cat sat.")), 0);
        assert_eq!(edit_distance(&words("the cat sat"), &words("the bat sat")), 1);
        assert_eq!(edit_distance(&words("the cat sat"), &words("the sat")), 1);
        assert_eq!(edit_distance(&words("the cat sat"), &words("the cat sat down")), 1);
        assert_eq!(edit_distance(&words("I'm Maya"), &words("im maya")), 0);
    }

    #[test]
    fn a_word_said_while_only_someone_else_talked_is_on_the_wrong_speaker() {
        let line = |name: &str, start, end, text: &str| Line { name: name.into(), start, end, text: text.into() };
        let lines = vec![line("Ana", 0.0, 2.0, "hello there"), line("Ben", 3.0, 4.0, "hi")];
        let word = |text: &str, start: f64| Word { start, end: start + 0.3, text: text.into(), probability: 0.9 };
        let seg = |name: &str, w: Vec<Word>| Segment {
            speaker: name.to_lowercase(),
            name: name.into(),
            start: w[0].start,
            end: w[w.len() - 1].end,
            text: w.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "),
            words: w,
            overlap: false,
        };
        let segments = vec![seg("Ana", vec![word("hello", 0.1), word("there", 0.6), word("hi", 3.2)])];
        let scores = score(&segments, &lines, 0.3);
        assert_eq!(scores[0].name, "Ana");
        assert_eq!(scores[0].wrong_speaker, 1, "'hi' at 3.2 s is Ben's time");
        assert_eq!((scores[0].errors, scores[0].reference_words), (1, 2));
        assert_eq!((scores[1].errors, scores[1].reference_words), (1, 1), "Ben's word is missing from his");
    }
}
