//! Names and titles people choose: a speaker's display name, a room's, chapter's, soundbite's or
//! show's title. They reach every file everyone downloads (feed XML, VTT and SRT cues, ID3 and
//! Opus tags, HTML), so each is made one clean line of bounded length where it enters, and
//! compared the way people read them.
//!
//! The bounds: a speaker's name is at most [`MAX_NAME_CHARS`] characters, a title at most
//! [`MAX_TITLE_CHARS`], a description at most [`MAX_DESCRIPTION_CHARS`] (Apple Podcasts' own
//! limit). What a user types is refused past them; what a room sends (an RTCP SDES name, a Janus
//! display name) cannot be refused and is cut to fit.

use unicode_normalization::UnicodeNormalization;

/// The longest speaker name kept.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest room, chapter, soundbite or show title kept.
pub const MAX_TITLE_CHARS: usize = 300;
/// The longest show or episode description kept.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// A name or title a user gave that cannot be kept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NameError {
    #[error("{what} cannot be empty")]
    Empty { what: &'static str },
    #[error("{what} of {chars} characters is too long (at most {max})")]
    TooLong { what: &'static str, chars: usize, max: usize },
}

/// A character that has no place in a one-line name: line breaks and other controls, the
/// characters XML 1.0 forbids, and the bidirectional overrides that make a name read as another.
fn unwanted(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Invisible characters: nothing on screen, so two names that differ only by them look alike.
fn invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}')
}

/// `text` as one line: every control character, line break or forbidden character becomes a
/// space, runs of spaces become one, and the ends are trimmed.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if unwanted(c) || c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

fn bounded(text: &str, what: &'static str, max: usize) -> Result<String, NameError> {
    let clean = one_line(text);
    if clean.is_empty() {
        return Err(NameError::Empty { what });
    }
    let chars = clean.chars().count();
    if chars > max {
        return Err(NameError::TooLong { what, chars, max });
    }
    Ok(clean)
}

/// A speaker's name as a user typed it: one line, at most [`MAX_NAME_CHARS`].
pub fn speaker_name(text: &str) -> Result<String, NameError> {
    bounded(text, "a speaker's name", MAX_NAME_CHARS)
}

/// A title as a user typed it (`what` says whose): one line, at most [`MAX_TITLE_CHARS`].
pub fn title(text: &str, what: &'static str) -> Result<String, NameError> {
    bounded(text, what, MAX_TITLE_CHARS)
}

/// A description: line breaks kept (a show's description has paragraphs), other controls and
/// forbidden characters dropped, at most [`MAX_DESCRIPTION_CHARS`].
pub fn description(text: &str, what: &'static str) -> Result<String, NameError> {
    let clean: String =
        text.trim().chars().filter(|&c| c == '\n' || !unwanted(c)).collect::<String>().trim().to_string();
    let chars = clean.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(NameError::TooLong { what, chars, max: MAX_DESCRIPTION_CHARS });
    }
    Ok(clean)
}

/// A name a room sent (SDES, a display name): made one line and cut to [`MAX_NAME_CHARS`], as
/// a peer's name cannot be refused. `None` when nothing is left of it.
pub fn sent_name(text: &str) -> Option<String> {
    let clean = one_line(text);
    if clean.is_empty() {
        return None;
    }
    if clean.chars().count() <= MAX_NAME_CHARS {
        return Some(clean);
    }
    let mut cut: String = clean.chars().take(MAX_NAME_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    Some(cut)
}

/// What two names are compared by: compatibility-normalized (full-width letters are letters),
/// invisible characters dropped, case folded. `Ｍａｙａ` and `Ma\u{200B}ya` are both `maya`.
pub fn name_key(name: &str) -> String {
    let visible: String = one_line(name).nfkc().filter(|&c| !invisible(c)).collect();
    one_line(&visible).to_lowercase()
}

/// Two names people would read as the same.
pub fn same_name(a: &str, b: &str) -> bool {
    name_key(a) == name_key(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_clean_line() {
        let hostile = "Ev>il\n\n00:00:00.000 --> 00:00:09.000\nINJECTED\u{FFFE}\u{FFFF}";
        assert_eq!(speaker_name(hostile).unwrap(), "Ev>il 00:00:00.000 --> 00:00:09.000 INJECTED");
        assert_eq!(speaker_name("  Ana\tMaría \u{202E}  ").unwrap(), "Ana María");
        assert_eq!(speaker_name(" \n\u{FFFF} "), Err(NameError::Empty { what: "a speaker's name" }));
    }

    #[test]
    fn names_and_titles_are_bounded_and_said_in_a_line() {
        let long = "a".repeat(100 * 1024);
        let e = speaker_name(&long).unwrap_err().to_string();
        assert_eq!(e, "a speaker's name of 102400 characters is too long (at most 100)");
        assert!(title(&"b".repeat(300), "a chapter title").is_ok());
        assert!(title(&"b".repeat(301), "a chapter title").is_err());
        assert!(description(&"c".repeat(4001), "the show's description").is_err());
        assert_eq!(description("one\n\ntwo\u{FFFF}", "d").unwrap(), "one\n\ntwo");
    }

    #[test]
    fn a_sent_name_is_cut_to_fit_never_refused() {
        let cut = sent_name(&"x".repeat(5000)).unwrap();
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(sent_name("\n\n"), None);
        assert_eq!(sent_name("Maya\r\nOkafor").as_deref(), Some("Maya Okafor"));
    }

    #[test]
    fn look_alike_names_compare_equal() {
        assert!(same_name("Maya", "Ｍａｙａ"));
        assert!(same_name("Maya", "Ma\u{200B}ya"));
        assert!(same_name("maya", "MAYA\u{FEFF}"));
        assert!(!same_name("Maya", "Mara"));
    }
}
