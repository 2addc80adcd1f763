//! Packing a speaker's speech into whisper windows: speech regions (from VAD) are padded, joined
//! with short silences and packed into windows of at most 30 s, so whisper never spends a window on
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
    /// Whisper's context: 30 s.
    pub max_window: f64,
    /// Added before and after each region (VAD cuts close to the words).
    pub pad: f64,
    /// Silence put between pieces, so whisper hears a pause where the room had one.
    pub gap: f64,
    /// Where the room ends (padding never runs past it).
    pub room_end: f64,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions { max_window: 30.0, pad: 0.2, gap: 0.3, room_end: f64::INFINITY }
    }
}

/// Packs one track's regions (in any order) into windows.
pub fn pack(regions: &[Region], options: &PackOptions) -> Vec<Window> {
    pack_tracks(&[regions.to_vec()], options)
}

/// Pads and merges one track's regions, and cuts what is longer than a window.
fn pieces_of(regions: &[Region], options: &PackOptions) -> Vec<Region> {
    let mut padded: Vec<Region> = regions
        .iter()
        .filter(|r| r.end > r.start)
        .map(|r| Region { start: (r.start - options.pad).max(0.0), end: (r.end + options.pad).min(options.room_end) })
        .collect();
    padded.sort_by(|a, b| a.start.total_cmp(&b.start));
    // Padding can make neighbours touch: one piece then, not two with a silence between.
    let mut merged: Vec<Region> = Vec::new();
    for r in padded {
        match merged.last_mut() {
            Some(last) if r.start <= last.end + options.gap => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut out = Vec::new();
    for r in merged {
        let mut start = r.start;
        while start < r.end {
            let len = (r.end - start).min(options.max_window);
            out.push(Region { start, end: start + len });
            start += len;
        }
    }
    out
}

/// Packs the speech of several tracks (one per speaker) into shared windows, in room order: a
/// window may hold pieces of different speakers, each piece remembering whose it is, so a room
/// needs no more windows than its speech fills, whoever speaks.
pub fn pack_tracks(tracks: &[Vec<Region>], options: &PackOptions) -> Vec<Window> {
    let mut all: Vec<(Region, usize)> = tracks
        .iter()
        .enumerate()
        .flat_map(|(i, regions)| pieces_of(regions, options).into_iter().map(move |r| (r, i)))
        .collect();
    all.sort_by(|a, b| a.0.start.total_cmp(&b.0.start).then(a.1.cmp(&b.1)));
    let mut windows: Vec<Window> = Vec::new();
    let mut current = Window::default();
    for (r, source) in all {
        let len = r.end - r.start;
        let at = if current.pieces.is_empty() { 0.0 } else { current.duration + options.gap };
        let at = if at + len > options.max_window + 1e-9 {
            windows.push(std::mem::take(&mut current));
            0.0
        } else {
            at
        };
        current.pieces.push(Piece { room_start: r.start, len, at, source });
        current.duration = at + len;
    }
    if !current.pieces.is_empty() {
        windows.push(current);
    }
    windows
}

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

    /// Seconds of room audio in the window (silences between pieces not counted).
    pub fn speech(&self) -> f64 {
        self.pieces.iter().map(|p| p.len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: f64, end: f64) -> Region {
        Region { start, end }
    }

    #[test]
    fn short_regions_share_a_window_with_silences_between() {
        let w = pack(&[r(10.0, 12.0), r(40.0, 41.0), r(100.0, 103.0)], &PackOptions::default());
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
        let windows = pack(&regions, &PackOptions::default());
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
        let w = pack(&[r(0.05, 1.0), r(1.2, 2.0), r(9.9, 10.0)], &PackOptions { room_end: 10.0, ..Default::default() });
        let p = &w[0].pieces;
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].room_start, p[0].len), (0.0, 2.2));
        assert!((p[1].room_start + p[1].len - 10.0).abs() < 1e-9);
        // A time in the silence between pieces maps to the nearer edge.
        assert!((w[0].to_room(2.25) - 2.2).abs() < 1e-9);
        assert!((w[0].to_room(2.45) - p[1].room_start).abs() < 1e-9);
    }
}
