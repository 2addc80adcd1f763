//! Packing a speaker's speech into whisper windows: speech regions (from VAD) are padded, joined
//! with short silences and packed into windows of a few tens of seconds, so whisper never spends a window on
//! silence; each window remembers where its pieces came from, to map whisper's times back to the
//! room clock.

/// A stretch of speech on the room clock, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub start: f64,
    pub end: f64,
}

/// Room audio placed in a window: `len` seconds of track `source` from `room_start`, at `at`
/// seconds into the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub room_start: f64,
    pub len: f64,
    pub at: f64,
    pub source: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    pub pieces: Vec<Piece>,
    /// Length of the window's audio, silences between pieces included.
    pub duration: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct PackOptions {
    /// A window's length (whisper takes up to 30 s).
    pub max_window: f64,
    /// Added before and after each region: Silero's regions already carry 30 ms either side
    /// (whisper.cpp's default), tight for word onsets; 0.1 s more keeps them without sending much
    /// silence (in a dense hour, 0.2 s cost 6 windows).
    pub pad: f64,
    /// Silence put between pieces, so whisper hears a pause where the room had one.
    pub gap: f64,
    /// Where the room ends (padding never runs past it).
    pub room_end: f64,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions { max_window: 30.0, pad: 0.1, gap: 0.3, room_end: f64::INFINITY }
    }
}

/// Packs one track's regions (in any order) into windows.
pub fn pack(regions: &[Region], options: &PackOptions) -> Vec<Window> {
    pack_tracks(&[regions.to_vec()], options)
}

/// Packs one speaker's regions into windows of their own: every piece is track `source`'s.
pub fn pack_speaker(regions: &[Region], source: usize, options: &PackOptions) -> Vec<Window> {
    let mut windows = pack(regions, options);
    for p in windows.iter_mut().flat_map(|w| w.pieces.iter_mut()) {
        p.source = source;
    }
    windows
}

/// A padded, merged stretch of one track's speech, and where it may be cut: the middles of the
/// pauses between the VAD regions it was merged from.
struct Stretch {
    start: f64,
    end: f64,
    cuts: Vec<f64>,
}

/// Pads and merges one track's regions; a stretch remembers its inner pauses as places to cut.
fn stretches_of(regions: &[Region], options: &PackOptions) -> Vec<Stretch> {
    // Only finite, non-empty regions: an endless one would never be packed.
    let mut sorted: Vec<Region> =
        regions.iter().filter(|r| r.start.is_finite() && r.end.is_finite() && r.end > r.start).copied().collect();
    sorted.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut out: Vec<Stretch> = Vec::new();
    for r in sorted {
        let (start, end) = ((r.start - options.pad).max(0.0), (r.end + options.pad).min(options.room_end));
        match out.last_mut() {
            // Padding can make neighbours touch: one stretch then, not two with a silence between.
            Some(last) if start <= last.end + options.gap => {
                if r.start > last.end - options.pad {
                    last.cuts.push((last.end - options.pad + r.start) / 2.0);
                }
                last.end = last.end.max(end);
            }
            _ => out.push(Stretch { start, end, cuts: Vec::new() }),
        }
    }
    out
}

/// Packs the speech of several tracks (one per speaker) into shared windows, in room order: a
/// window may hold pieces of different speakers, each piece remembering whose it is, so a room
/// needs no more windows than its speech fills, whoever speaks. A stretch that does not fit in
/// what is left of a window is cut at its last pause that fits, so windows fill up; one with no
/// such pause starts the next window, and only talk longer than a window without any pause is cut
/// mid-speech.
pub fn pack_tracks(tracks: &[Vec<Region>], options: &PackOptions) -> Vec<Window> {
    // A window must hold at least a piece: anything smaller would loop forever.
    let options = &PackOptions { max_window: options.max_window.max(2.0 * MIN_PIECE), ..*options };
    let mut all: Vec<(Stretch, usize)> = tracks
        .iter()
        .enumerate()
        .flat_map(|(i, regions)| stretches_of(regions, options).into_iter().map(move |s| (s, i)))
        .collect();
    all.sort_by(|a, b| a.0.start.total_cmp(&b.0.start).then(a.1.cmp(&b.1)));
    let mut windows: Vec<Window> = Vec::new();
    let mut current = Window::default();
    let place = |current: &mut Window, start: f64, end: f64, source: usize| {
        let at = if current.pieces.is_empty() { 0.0 } else { current.duration + options.gap };
        current.pieces.push(Piece { room_start: start, len: end - start, at, source });
        current.duration = at + end - start;
    };
    for (stretch, source) in all {
        let mut start = stretch.start;
        while start < stretch.end - 1e-9 {
            let at = if current.pieces.is_empty() { 0.0 } else { current.duration + options.gap };
            let room = options.max_window - at;
            if stretch.end - start <= room + 1e-9 {
                place(&mut current, start, stretch.end, source);
                break;
            }
            // The last pause that fits, leaving a piece worth sending (not a sliver).
            let cut = stretch.cuts.iter().rev().find(|&&c| c > start + MIN_PIECE && c - start <= room + 1e-9);
            match cut {
                Some(&c) => {
                    place(&mut current, start, c, source);
                    start = c;
                    windows.push(std::mem::take(&mut current));
                }
                None if !current.pieces.is_empty() => windows.push(std::mem::take(&mut current)),
                None => {
                    let end = start + options.max_window;
                    place(&mut current, start, end, source);
                    start = end;
                    windows.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.pieces.is_empty() {
        windows.push(current);
    }
    windows
}

/// The shortest piece a stretch is cut into to fill a window (seconds).
const MIN_PIECE: f64 = 1.0;

impl Window {
    /// Room time of `t` seconds into the window. A time in a silence between pieces goes to the
    /// nearer piece edge.
    pub fn to_room(&self, t: f64) -> f64 {
        self.locate(t).map_or(0.0, |(_, room)| room)
    }

    /// The piece `t` seconds into the window belongs to (the nearer one in a silence), and the room
    /// time there.
    pub fn locate(&self, t: f64) -> Option<(&Piece, f64)> {
        let mut best: Option<(f64, &Piece, f64)> = None;
        for p in &self.pieces {
            if t >= p.at && t <= p.at + p.len {
                return Some((p, p.room_start + (t - p.at)));
            }
            for (edge, room) in [(p.at, p.room_start), (p.at + p.len, p.room_start + p.len)] {
                let d = (t - edge).abs();
                if best.is_none_or(|(bd, _, _)| d < bd) {
                    best = Some((d, p, room));
                }
            }
        }
        best.map(|(_, p, room)| (p, room))
    }

    /// Room time of a word's start `t` seconds into the window: in the silence before a piece, the
    /// word starts with that piece.
    pub fn start_to_room(&self, t: f64) -> f64 {
        match self.pieces.iter().find(|p| t <= p.at + p.len) {
            Some(p) => p.room_start + (t - p.at).max(0.0),
            None => self.pieces.last().map_or(0.0, |p| p.room_start + p.len),
        }
    }

    /// Room time of a word's end `t` seconds into the window: in the silence after a piece, the
    /// word ended with that piece.
    pub fn end_to_room(&self, t: f64) -> f64 {
        match self.pieces.iter().rev().find(|p| t >= p.at) {
            Some(p) => p.room_start + (t - p.at).min(p.len),
            None => self.pieces.first().map_or(0.0, |p| p.room_start),
        }
    }

    /// Seconds of room audio in the window (silences between pieces not counted).
    pub fn speech(&self) -> f64 {
        self.pieces.iter().map(|p| p.len).sum()
    }

    /// The one track all the window's pieces come from, if they all come from one.
    pub fn source(&self) -> Option<usize> {
        let first = self.pieces.first()?.source;
        self.pieces.iter().all(|p| p.source == first).then_some(first)
    }

    /// Seconds of audio whisper is given for this window: a lead-in of silence, the pieces and
    /// the silences between them.
    pub fn sent(&self, lead_in: f64, gap: f64) -> f64 {
        let rate = super::vad::VAD_RATE as f64;
        let samples = |s: f64| (s * rate) as usize;
        let mut n = samples(lead_in);
        for (i, p) in self.pieces.iter().enumerate() {
            if i > 0 {
                n += samples(gap);
            }
            n += samples(p.room_start + p.len) - samples(p.room_start);
        }
        n as f64 / rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The times below are worked out for 0.2 s of padding.
    fn padded() -> PackOptions {
        PackOptions { pad: 0.2, ..Default::default() }
    }

    fn r(start: f64, end: f64) -> Region {
        Region { start, end }
    }

    #[test]
    fn short_regions_share_a_window_with_silences_between() {
        let w = pack(&[r(10.0, 12.0), r(40.0, 41.0), r(100.0, 103.0)], &padded());
        assert_eq!(w.len(), 1);
        let p = &w[0].pieces;
        assert_eq!(p.len(), 3);
        assert!((p[0].room_start - 9.8).abs() < 1e-9 && (p[0].len - 2.4).abs() < 1e-9);
        assert!((p[1].at - 2.7).abs() < 1e-9, "2.4 s piece + 0.3 s silence");
        // A word 0.5 s into the second piece is 0.5 s into Region 2's padded start, on the room clock.
        assert!((w[0].to_room(3.2) - 40.3).abs() < 1e-9);
        assert!((w[0].to_room(p[2].at + 1.0) - 100.8).abs() < 1e-9);
    }

    #[test]
    fn windows_never_exceed_30_seconds_and_long_speech_is_split() {
        let regions: Vec<Region> =
            (0..20).map(|i| r(i as f64 * 10.0, i as f64 * 10.0 + 4.0)).chain([r(300.0, 375.0)]).collect();
        let windows = pack(&regions, &padded());
        for w in &windows {
            assert!(w.duration <= 30.0 + 1e-9, "{w:?}");
            for pair in w.pieces.windows(2) {
                assert!(pair[1].at >= pair[0].at + pair[0].len, "pieces do not overlap in the window");
            }
        }
        let speech: f64 = windows.iter().map(Window::speech).sum();
        // The first region cannot be padded before the room starts: 4.2 s; the others 4.4 s.
        assert!((speech - (4.2 + 19.0 * 4.4 + 75.4)).abs() < 1e-6, "all padded speech packed once: {speech}");
        // 75 s of talk without a pause becomes 30 + 30 + 15.4.
        let long: Vec<&Piece> = windows.iter().flat_map(|w| &w.pieces).filter(|p| p.room_start >= 299.0).collect();
        assert_eq!(long.iter().map(|p| p.len.round() as i64).collect::<Vec<_>>(), vec![30, 30, 15]);
    }

    #[test]
    fn padding_merges_close_regions_and_stays_inside_the_room() {
        let w = pack(&[r(0.05, 1.0), r(1.2, 2.0), r(9.9, 10.0)], &PackOptions { room_end: 10.0, ..padded() });
        let p = &w[0].pieces;
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].room_start, p[0].len), (0.0, 2.2));
        assert!((p[1].room_start + p[1].len - 10.0).abs() < 1e-9);
        // A time in the silence between pieces maps to the nearer edge.
        assert!((w[0].to_room(2.25) - 2.2).abs() < 1e-9);
        assert!((w[0].to_room(2.45) - p[1].room_start).abs() < 1e-9);
        // A word's start there belongs to the piece after, a word's end to the piece before.
        assert!((w[0].start_to_room(2.25) - p[1].room_start).abs() < 1e-9);
        assert!((w[0].end_to_room(2.45) - 2.2).abs() < 1e-9);
        assert!((w[0].start_to_room(0.5) - 0.5).abs() < 1e-9 && (w[0].end_to_room(0.5) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_long_stretch_is_cut_at_its_pauses_so_windows_fill() {
        // 2 s phrases with 0.4 s pauses for 120 s: one stretch once padded, cut only inside pauses.
        let phrases: Vec<Region> = (0..50).map(|i| r(i as f64 * 2.4, i as f64 * 2.4 + 2.0)).collect();
        let windows = pack(&phrases, &padded());
        assert_eq!(windows.len(), 5, "119.8 s of padded speech in 30 s windows: {windows:?}");
        for w in &windows {
            for p in &w.pieces {
                for edge in [p.room_start, p.room_start + p.len] {
                    let inside_speech = phrases.iter().any(|q| edge > q.start + 1e-9 && edge < q.end - 1e-9);
                    assert!(!inside_speech, "a piece edge at {edge} cuts a phrase");
                }
            }
            assert!(w.duration > 26.0 || std::ptr::eq(w, windows.last().unwrap()), "a window left half empty: {w:?}");
        }
        let speech: f64 = windows.iter().map(Window::speech).sum();
        assert!((speech - 119.8).abs() < 1e-6, "no audio sent twice or dropped: {speech}");
    }

    #[test]
    fn a_busy_room_needs_no_more_windows_than_its_speech_fills() {
        // Four speakers taking turns of 3-7 s phrases with short pauses for 10 minutes.
        let mut tracks = vec![Vec::new(); 4];
        let (mut t, mut k) = (0.0, 0);
        while t < 600.0 {
            let len = 3.0 + (k * 7 % 5) as f64;
            tracks[k % 4].push(r(t, t + len / 2.0));
            tracks[k % 4].push(r(t + len / 2.0 + 0.3, t + len));
            t += len + 0.8;
            k += 1;
        }
        let windows = pack_tracks(&tracks, &padded());
        let sent: f64 = windows.iter().map(|w| w.duration).sum();
        let room_end = tracks.iter().flatten().map(|r| r.end).fold(0.0, f64::max);
        // Turns are cut only at pauses, so a window is rarely filled to the last second.
        assert!(windows.len() as f64 <= (sent / 27.0).ceil(), "{} windows for {sent} s", windows.len());
        assert!(sent < room_end, "the pauses are not all sent: {sent} s of {room_end} s");
    }
}
