//! HTTP range requests (RFC 9110 §14): which bytes of a file a `Range` header asks for. Browsers
//! seek in audio with them, so the player can jump to any moment without loading the whole file.

/// What to send for a request on a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// The whole file (no Range header, or one we do not serve as ranges: several ranges, other units).
    Full,
    /// Bytes `start..=end`: 206 Partial Content.
    Partial { start: u64, end: u64 },
    /// 416 Range Not Satisfiable.
    Unsatisfiable,
}

/// Reads a `Range` header value (`bytes=0-99`, `bytes=100-`, `bytes=-500`) for a file of `len` bytes.
pub fn answer(header: Option<&str>, len: u64) -> RangeAnswer {
    let Some(value) = header else { return RangeAnswer::Full };
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return RangeAnswer::Full };
    // Several ranges would need multipart/byteranges; the whole file is a valid answer instead.
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return RangeAnswer::Unsatisfiable };
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        // The last `b` bytes.
        (true, false) => b.parse::<u64>().ok().map(|n| (len.saturating_sub(n), len.saturating_sub(1), n > 0)),
        (false, true) => a.parse::<u64>().ok().map(|s| (s, len.saturating_sub(1), true)),
        (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(len.saturating_sub(1)), true)),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        Some((start, end, true)) if len > 0 && start < len => RangeAnswer::Partial { start, end },
        _ => RangeAnswer::Unsatisfiable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_browsers_send_are_answered_exactly() {
        use RangeAnswer::*;
        assert_eq!(answer(None, 1000), Full);
        assert_eq!(answer(Some("bytes=0-"), 1000), Partial { start: 0, end: 999 });
        assert_eq!(answer(Some("bytes=0-99"), 1000), Partial { start: 0, end: 99 });
        assert_eq!(answer(Some("bytes=500-"), 1000), Partial { start: 500, end: 999 });
        assert_eq!(answer(Some("bytes=-100"), 1000), Partial { start: 900, end: 999 });
        assert_eq!(answer(Some("bytes=900-5000"), 1000), Partial { start: 900, end: 999 }, "end clamped to the file");
        assert_eq!(answer(Some("bytes=-5000"), 1000), Partial { start: 0, end: 999 });
        assert_eq!(answer(Some("bytes=1000-"), 1000), Unsatisfiable);
        assert_eq!(answer(Some("bytes=5-2"), 1000), Unsatisfiable);
        assert_eq!(answer(Some("bytes=abc"), 1000), Unsatisfiable);
        assert_eq!(answer(Some("bytes=-0"), 1000), Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-0"), 0), Unsatisfiable);
        assert_eq!(answer(Some("bytes=0-1,5-6"), 1000), Full);
        assert_eq!(answer(Some("items=0-1"), 1000), Full);
    }
}
