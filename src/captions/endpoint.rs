//! Where a speaker's utterances start and end, decided as their audio arrives: sans I/O, fed one
//! voice-activity frame at a time (its start on the room clock and Silero's speech probability),
//! and answering when a partial caption is due and when an utterance is over.
//!
//! A per-speaker track makes this simple and exact: an utterance ends where its speaker pauses,
//! whoever else talks meanwhile, so a caption never holds two people's words.

/// How utterances are found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndpointConfig {
    /// A frame at or above this probability is speech (Silero's own threshold).
    pub threshold: f32,
    /// Speech goes on while frames stay at or above this (hysteresis, as Silero's iterator does).
    pub release: f32,
    /// Speech shorter than this does not start an utterance (a click, a cough's onset).
    pub min_speech: f64,
    /// A pause this long ends the utterance: long enough not to cut a sentence at a comma, short
    /// enough that the caption follows soon after the speaker stops.
    pub end_silence: f64,
    /// Once an utterance has gone on for `shorten_after`, the pause that ends it shrinks, down to
    /// `min_end_silence` after `shorten_after + shorten_over`: people leave 0.2-0.4 s between
    /// sentences when they talk on, and waiting for a long pause held a monologue's first words
    /// back for up to 19 s (measured: one speaker, p90 12.9 s end of speech to final caption).
    pub shorten_after: f64,
    pub shorten_over: f64,
    pub min_end_silence: f64,
    /// Added before and after the speech, so a soft first or last sound is kept.
    pub pad: f64,
    /// The first partial caption once the utterance is this long...
    pub first_partial: f64,
    /// ...then one each time this much more was said.
    pub partial_every: f64,
    /// An utterance longer than this is cut at its latest pause (or here, without one): whisper
    /// hears at most 30 s, and a caption that waits for the end of a monologue is no caption.
    pub max_utterance: f64,
    /// A pause this long inside an utterance is a place to cut it.
    pub min_pause: f64,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            threshold: 0.5,
            release: 0.35,
            min_speech: 0.25,
            end_silence: 0.45,
            shorten_after: 2.0,
            shorten_over: 6.0,
            min_end_silence: 0.15,
            pad: 0.1,
            first_partial: 1.0,
            partial_every: 1.5,
            max_utterance: 19.5,
            min_pause: 0.15,
        }
    }
}

impl EndpointConfig {
    /// The pause that ends an utterance `said` seconds long.
    fn pause_that_ends(&self, said: f64) -> f64 {
        let k = ((said - self.shorten_after) / self.shorten_over).clamp(0.0, 1.0);
        self.end_silence - (self.end_silence - self.min_end_silence) * k
    }
}

/// What the endpointer decided after a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// A partial caption of the utterance from `start` to `end` is due.
    Partial { start: f64, end: f64 },
    /// The utterance from `start` to `end` is over: its final caption is due.
    Final { start: f64, end: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    /// Frames above the threshold since `since`, not yet long enough to be speech.
    Onset {
        since: f64,
    },
    Speech {
        start: f64,
        last_voice: f64,
        last_partial: f64,
    },
}

/// One speaker's endpointer.
#[derive(Debug, Clone)]
pub struct Endpointer {
    config: EndpointConfig,
    frame: f64,
    state: State,
    /// The current utterance's pauses (start, end) of at least `min_pause`, and the one going on.
    pauses: Vec<(f64, f64)>,
    quiet_since: Option<f64>,
    /// Where the audio fed so far ends.
    fed_to: f64,
}

impl Endpointer {
    /// `frame`: seconds of audio per frame (Silero: 512 samples at 16 kHz, 32 ms).
    pub fn new(config: EndpointConfig, frame: f64) -> Self {
        Endpointer { config, frame, state: State::Idle, pauses: Vec::new(), quiet_since: None, fed_to: 0.0 }
    }

    /// Whether an utterance is going on, and since when (its padded start).
    pub fn utterance_start(&self) -> Option<f64> {
        match self.state {
            State::Speech { start, .. } => Some(start),
            _ => None,
        }
    }

    /// Where the fed audio ends.
    pub fn fed_to(&self) -> f64 {
        self.fed_to
    }

    /// One frame starting at `t` with speech probability `p`.
    pub fn push(&mut self, t: f64, p: f32) -> Option<Decision> {
        let c = self.config;
        let end = t + self.frame;
        self.fed_to = self.fed_to.max(end);
        match self.state {
            State::Idle => {
                if p >= c.threshold {
                    self.state = State::Onset { since: t };
                    return self.push_onset(t, end);
                }
                None
            }
            State::Onset { since } => {
                if p < c.release {
                    self.state = State::Idle;
                    return None;
                }
                let _ = since;
                self.push_onset(t, end)
            }
            State::Speech { start, last_partial, .. } => {
                if p >= c.release {
                    if let Some(q) = self.quiet_since.take()
                        && t - q >= c.min_pause
                    {
                        self.pauses.push((q, t));
                    }
                    self.state = State::Speech { start, last_voice: end, last_partial };
                } else if self.quiet_since.is_none() {
                    self.quiet_since = Some(t);
                }
                let State::Speech { last_voice, .. } = self.state else { unreachable!("in speech") };
                if end - last_voice >= c.pause_that_ends(last_voice - start) {
                    return Some(self.close(start, last_voice + c.pad, None));
                }
                if end - start >= c.max_utterance {
                    // Cut at the latest pause, so the rest goes on as an utterance of its own.
                    let cut = self.pauses.last().map_or(end, |&(a, b)| (a + b) / 2.0);
                    return Some(self.close(start, cut, Some(cut)));
                }
                let said = last_voice - start;
                let due =
                    if last_partial <= start { said >= c.first_partial } else { end - last_partial >= c.partial_every };
                if due && self.quiet_since.is_none() {
                    self.state = State::Speech { start, last_voice, last_partial: end };
                    return Some(Decision::Partial { start, end });
                }
                None
            }
        }
    }

    fn push_onset(&mut self, _t: f64, end: f64) -> Option<Decision> {
        let State::Onset { since } = self.state else { return None };
        if end - since >= self.config.min_speech {
            let start = (since - self.config.pad).max(0.0);
            self.state = State::Speech { start, last_voice: end, last_partial: start };
            self.pauses.clear();
            self.quiet_since = None;
        }
        None
    }

    /// Ends the utterance at `end`; with `next`, a new one goes on from there (a long utterance
    /// cut in two).
    fn close(&mut self, start: f64, end: f64, next: Option<f64>) -> Decision {
        self.pauses.clear();
        self.quiet_since = None;
        self.state = match next {
            Some(at) => State::Speech { start: at, last_voice: self.fed_to, last_partial: at },
            None => State::Idle,
        };
        Decision::Final { start, end: end.max(start) }
    }

    /// The room is over for this speaker at `at` (they left, or the recording ended): the
    /// utterance going on, if any, is final.
    pub fn flush(&mut self, at: f64) -> Option<Decision> {
        match self.state {
            State::Speech { start, last_voice, .. } => {
                let end = (last_voice + self.config.pad).min(at.max(last_voice));
                Some(self.close(start, end, None))
            }
            _ => {
                self.state = State::Idle;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: f64 = 0.032;

    /// Feeds `(seconds, probability)` runs; returns the decisions with the frame time they came at.
    fn feed(e: &mut Endpointer, runs: &[(f64, f32)]) -> Vec<(f64, Decision)> {
        let mut out = Vec::new();
        let mut t = e.fed_to();
        for &(len, p) in runs {
            let end = t + len;
            while t + 1e-9 < end {
                if let Some(d) = e.push(t, p) {
                    out.push((t + FRAME, d));
                }
                t += FRAME;
            }
        }
        out
    }

    fn finals(d: &[(f64, Decision)]) -> Vec<(f64, f64)> {
        d.iter()
            .filter_map(|(_, d)| match d {
                Decision::Final { start, end } => Some((*start, *end)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_utterance_is_final_soon_after_its_speaker_pauses_padded_either_side() {
        let mut e = Endpointer::new(EndpointConfig::default(), FRAME);
        let d = feed(&mut e, &[(1.0, 0.0), (2.0, 0.9), (1.0, 0.05)]);
        let f = finals(&d);
        assert_eq!(f.len(), 1, "{d:?}");
        let (start, end) = f[0];
        // Fed in whole 32 ms frames, the speech is frames 32..94: 1.024 s to 3.040 s. Padded 0.1 s
        // either side.
        assert!((start - 0.924).abs() < 1e-6 && (end - (3.04 + 0.1)).abs() < 1e-6, "{f:?}");
        let decided = d.iter().find(|(_, d)| matches!(d, Decision::Final { .. })).unwrap().0;
        assert!(decided - 3.04 < 0.5, "decided {:.2} s after the speech ended", decided - 3.04);
    }

    #[test]
    fn a_short_pause_or_a_click_does_not_end_or_start_an_utterance() {
        let mut e = Endpointer::new(EndpointConfig::default(), FRAME);
        // A 100 ms click, then speech with a 0.3 s pause in it.
        let d = feed(&mut e, &[(1.0, 0.0), (0.1, 0.9), (1.0, 0.0), (1.0, 0.9), (0.3, 0.1), (1.0, 0.9), (1.0, 0.0)]);
        assert_eq!(finals(&d).len(), 1, "one utterance: {d:?}");
        assert!(finals(&d)[0].0 > 2.0, "the click is not its start: {d:?}");
    }

    #[test]
    fn long_speech_gets_partials_every_so_often_and_is_cut_at_its_latest_pause() {
        let mut e = Endpointer::new(EndpointConfig::default(), FRAME);
        // Pauses of 0.1 s: too short to end anything (a stop consonant's closure is as long).
        let mut runs = vec![(0.5, 0.0)];
        for _ in 0..8 {
            runs.push((2.4, 0.9));
            runs.push((0.1, 0.2));
        }
        let d = feed(&mut e, &runs);
        let partials: Vec<f64> =
            d.iter().filter(|(_, d)| matches!(d, Decision::Partial { .. })).map(|(t, _)| *t).collect();
        assert!(partials[0] - 0.5 <= 1.2, "the first partial after about a second: {partials:?}");
        for w in partials.windows(2) {
            assert!(w[1] - w[0] <= 2.0, "partials at least every 2 s: {partials:?}");
        }
        let f = finals(&d);
        assert_eq!(f.len(), 1, "cut once in 20 s: {d:?}");
        assert!(f[0].1 - f[0].0 <= 19.5 + FRAME && f[0].1 > 15.0, "{f:?}");
        assert_eq!(e.utterance_start(), Some(f[0].1), "the rest goes on from the cut");
        assert!(matches!(e.flush(21.0), Some(Decision::Final { .. })));
    }

    #[test]
    fn the_longer_someone_talks_the_shorter_the_pause_that_ends_their_caption() {
        let mut e = Endpointer::new(EndpointConfig::default(), FRAME);
        // 0.3 s pauses 1.8 s and 4.1 s in keep one utterance going; by 7 s in, 0.22 s ends it.
        let d = feed(&mut e, &[(0.5, 0.0), (1.8, 0.9), (0.3, 0.1), (2.0, 0.9), (0.3, 0.1), (2.6, 0.9), (0.22, 0.1)]);
        let f = finals(&d);
        assert_eq!(f.len(), 1, "{d:?}");
        assert!(f[0].1 > 7.3 && f[0].1 < 7.8, "ends after the 7 s of speech: {f:?}");
        let decided = d.iter().find(|(_, d)| matches!(d, Decision::Final { .. })).unwrap().0;
        // The speech ended at 7.5 s: decided well before the 0.45 s a short utterance waits.
        assert!(decided - 7.5 < 0.35, "decided {decided:.2} s");
        // A short utterance still waits for a real pause: 0.3 s one second in does not end it.
        let mut e = Endpointer::new(EndpointConfig::default(), FRAME);
        let d = feed(&mut e, &[(0.5, 0.0), (1.0, 0.9), (0.3, 0.1), (1.0, 0.9), (0.1, 0.9)]);
        assert!(finals(&d).is_empty(), "{d:?}");
    }

    #[test]
    fn silence_and_noise_below_the_threshold_never_make_an_utterance() {
        let mut e = Endpointer::new(EndpointConfig::default(), FRAME);
        let d = feed(&mut e, &[(600.0, 0.3), (0.2, 0.6), (600.0, 0.0)]);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(e.flush(1200.0), None);
    }
}
