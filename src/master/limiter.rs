//! A look-ahead true-peak limiter.
//!
//! Peaks are estimated between samples with a 4x polyphase interpolator (as ITU-R BS.1770's true-peak
//! meter does); the gain needed to keep them under the ceiling is spread over the look-ahead window
//! so it ramps down before a peak instead of clipping it, then recovers smoothly.

use std::collections::VecDeque;

const TAPS_PER_PHASE: usize = 12;
const OVERSAMPLE: usize = 4;
/// Delay of the interpolator's centre tap, in input samples.
const INTERP_DELAY: usize = TAPS_PER_PHASE / 2;

/// The 4x interpolation filter both the limiter and the true-peak meter use: one set of taps per
/// fractional phase (1/4, 2/4, 3/4 of a sample), and the largest gain any phase can apply.
fn interpolator() -> ([[f32; TAPS_PER_PHASE]; OVERSAMPLE - 1], f32) {
    let mut phases = [[0.0f32; TAPS_PER_PHASE]; OVERSAMPLE - 1];
    let len = TAPS_PER_PHASE * OVERSAMPLE + 1;
    let centre = (len - 1) as f64 / 2.0;
    for (p, phase) in phases.iter_mut().enumerate() {
        for (k, tap) in phase.iter_mut().enumerate() {
            let m = OVERSAMPLE * k + p + 1;
            let t = (m as f64 - centre) / OVERSAMPLE as f64;
            let sinc = if t == 0.0 { 1.0 } else { (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t) };
            let w = 2.0 * std::f64::consts::PI * m as f64 / (len - 1) as f64;
            let blackman = 0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos();
            *tap = (sinc * blackman) as f32;
        }
    }
    let bound = phases.iter().map(|p| p.iter().map(|t| t.abs()).sum::<f32>()).fold(1.0f32, f32::max);
    (phases, bound)
}

/// True peak of one channel (BS.1770 style, 4x oversampled), cheap on long files: a stretch whose
/// samples, times the filter's largest gain, cannot beat the peak found so far is not interpolated.
pub struct TruePeakMeter {
    phases: [[f32; TAPS_PER_PHASE]; OVERSAMPLE - 1],
    bound: f32,
    history: [f32; TAPS_PER_PHASE],
    at: usize,
    /// Samples since one that could, through the filter, reach `peak`.
    since_loud: usize,
    peak: f32,
}

impl Default for TruePeakMeter {
    fn default() -> Self {
        let (phases, bound) = interpolator();
        TruePeakMeter { phases, bound, history: [0.0; TAPS_PER_PHASE], at: 0, since_loud: usize::MAX, peak: 0.0 }
    }
}

impl TruePeakMeter {
    /// Adds samples of this channel (every `stride`-th value of `interleaved`, from `offset`).
    pub fn add(&mut self, interleaved: &[f32], offset: usize, stride: usize) {
        for &x in interleaved.iter().skip(offset).step_by(stride) {
            self.history[self.at] = x;
            self.at = (self.at + 1) % TAPS_PER_PHASE;
            let a = x.abs();
            self.peak = self.peak.max(a);
            self.since_loud = if a * self.bound > self.peak { 0 } else { self.since_loud.saturating_add(1) };
            if self.since_loud < TAPS_PER_PHASE {
                for phase in &self.phases {
                    // history[at - 1] is the newest sample: tap k meets the sample k back.
                    let y: f32 = (0..TAPS_PER_PHASE)
                        .map(|k| phase[k] * self.history[(self.at + TAPS_PER_PHASE - 1 - k) % TAPS_PER_PHASE])
                        .sum();
                    self.peak = self.peak.max(y.abs());
                }
            }
        }
    }

    /// Linear true peak so far.
    pub fn peak(&self) -> f32 {
        self.peak
    }
}

pub struct Limiter {
    ceiling: f32,
    lookahead: usize,
    release: f32,
    /// Interpolation filter, one set of taps per fractional phase 1..4.
    phases: [[f32; TAPS_PER_PHASE]; OVERSAMPLE - 1],
    /// Input below this everywhere in the filter's reach cannot produce a peak over the ceiling.
    quiet_below: f32,
    history: VecDeque<f32>,
    since_loud: usize,
    /// Signal waiting for its gain: interp delay + look-ahead.
    delay: VecDeque<f32>,
    /// Sliding minimum of the required gain: (index, gain), increasing gain.
    minima: VecDeque<(u64, f32)>,
    /// The last `lookahead + 1` sliding minima, for the moving average.
    window: VecDeque<f32>,
    window_sum: f64,
    gain: f32,
    index: u64,
    inputs: u64,
    outputs: u64,
    pub stats: LimiterStats,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct LimiterStats {
    /// Samples whose gain was reduced.
    pub samples_limited: u64,
    /// Deepest gain reduction, in dB (0 or negative).
    pub max_reduction_db: f64,
}

impl Limiter {
    /// `ceiling_db` in dBTP; look-ahead 5 ms, release 80 ms at 48 kHz.
    pub fn new(ceiling_db: f64, sample_rate: u32) -> Self {
        let lookahead = (sample_rate as usize * 5) / 1000;
        let release = 1.0 - (-1.0 / (0.080 * sample_rate as f32)).exp();
        let (phases, gain_bound) = interpolator();
        let ceiling = 10f32.powf(ceiling_db as f32 / 20.0);
        Limiter {
            ceiling,
            lookahead,
            release,
            phases,
            quiet_below: ceiling / gain_bound,
            history: VecDeque::from(vec![0.0; TAPS_PER_PHASE]),
            since_loud: usize::MAX,
            delay: VecDeque::from(vec![0.0; INTERP_DELAY + lookahead]),
            minima: VecDeque::new(),
            window: VecDeque::new(),
            window_sum: 0.0,
            gain: 1.0,
            index: 0,
            inputs: 0,
            outputs: 0,
            stats: LimiterStats::default(),
        }
    }

    /// Samples of delay between input and output.
    pub fn latency(&self) -> usize {
        INTERP_DELAY + self.lookahead
    }

    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        if self.is_idle() && input.iter().all(|x| x.abs() < self.quiet_below) && !input.is_empty() {
            self.pass_through(input, out);
            return;
        }
        for &x in input {
            self.inputs += 1;
            self.push(x, out);
        }
    }

    /// No reduction in progress or pending: the gain is back at unity and so is every gain in the
    /// look-ahead window.
    fn is_idle(&self) -> bool {
        self.gain >= 0.99999
            && self.window.len() == self.lookahead + 1
            && self.window_sum >= (self.lookahead + 1) as f64 - 1e-6
            && self.since_loud >= TAPS_PER_PHASE
    }

    /// What `push` does for a block that cannot reach the ceiling while idle, without the per-sample
    /// gain bookkeeping: most of a conversation (pauses, quieter speech) takes this path.
    fn pass_through(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.gain = 1.0;
        for &x in input {
            let delayed = self.delay.pop_front().unwrap_or(0.0);
            self.delay.push_back(x);
            if self.index >= self.latency() as u64 {
                out.push(delayed);
                self.outputs += 1;
            }
            self.index += 1;
            self.inputs += 1;
        }
        for &x in input.iter().rev().take(TAPS_PER_PHASE).rev() {
            self.history.pop_front();
            self.history.push_back(x);
        }
        self.since_loud = self.since_loud.saturating_add(input.len());
        // The window holds unity gains; the sliding minimum restarts from the last index.
        self.minima.clear();
        self.minima.push_back((self.index - 1, 1.0));
    }

    /// Pushes the delayed tail out, so output length equals input length.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        while self.outputs < self.inputs {
            self.push(0.0, out);
        }
    }

    fn push(&mut self, x: f32, out: &mut Vec<f32>) {
        self.history.pop_front();
        self.history.push_back(x);
        self.since_loud = if x.abs() >= self.quiet_below { 0 } else { self.since_loud.saturating_add(1) };
        // True peak around the sample INTERP_DELAY back: the sample itself and the three points
        // between it and the next one.
        let centre = self.history[TAPS_PER_PHASE - 1 - INTERP_DELAY];
        let mut peak = centre.abs();
        if self.since_loud < TAPS_PER_PHASE {
            for phase in &self.phases {
                let y: f32 = phase.iter().zip(self.history.iter().rev()).map(|(h, s)| h * s).sum();
                peak = peak.max(y.abs());
            }
        }
        let required = if peak > self.ceiling { self.ceiling / peak } else { 1.0 };

        let i = self.index;
        self.index += 1;
        while self.minima.back().is_some_and(|&(_, g)| g >= required) {
            self.minima.pop_back();
        }
        self.minima.push_back((i, required));
        while self.minima.front().is_some_and(|&(j, _)| j + (self.lookahead as u64) < i) {
            self.minima.pop_front();
        }
        let min = self.minima.front().map(|&(_, g)| g).unwrap_or(1.0);
        self.window.push_back(min);
        self.window_sum += min as f64;
        if self.window.len() > self.lookahead + 1 {
            self.window_sum -= self.window.pop_front().unwrap_or(1.0) as f64;
        }
        // Until the window fills, the missing entries are 1.0 (no reduction before the start).
        let missing = (self.lookahead + 1 - self.window.len()) as f64;
        let average = ((self.window_sum + missing) / (self.lookahead + 1) as f64) as f32;
        // The moving average of window minima never exceeds the gain the delayed sample needs; the
        // release only ever rises towards it.
        self.gain = if average < self.gain { average } else { self.gain + (average - self.gain) * self.release };

        let delayed = self.delay.pop_front().unwrap_or(0.0);
        self.delay.push_back(x);
        if i >= self.latency() as u64 && self.outputs < self.inputs {
            if self.gain < 0.9999 {
                self.stats.samples_limited += 1;
                let db = 20.0 * (self.gain as f64).log10();
                self.stats.max_reduction_db = self.stats.max_reduction_db.min(db);
            }
            out.push(delayed * self.gain);
            self.outputs += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn true_peak_db(signal: &[f32]) -> f64 {
        let mut m = ebur128::EbuR128::new(1, 48_000, ebur128::Mode::TRUE_PEAK).unwrap();
        m.add_frames_f32(signal).unwrap();
        20.0 * m.true_peak(0).unwrap().log10()
    }

    #[test]
    fn block_by_block_processing_matches_sample_by_sample() {
        // Quiet stretches take the fast path; the output must be what the full path gives.
        let signal: Vec<f32> = (0..96_000)
            .map(|i| {
                let loud = (30_000..34_000).contains(&i) || (70_000..70_500).contains(&i);
                (if loud { 1.5 } else { 0.05 }) * (i as f32 * 0.07).sin()
            })
            .collect();
        let (mut a, mut b) = (Limiter::new(-1.0, 48_000), Limiter::new(-1.0, 48_000));
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for block in signal.chunks(4800) {
            a.process(block, &mut fast);
        }
        a.finish(&mut fast);
        for &x in &signal {
            b.process(&[x], &mut slow);
        }
        b.finish(&mut slow);
        assert_eq!(fast.len(), slow.len());
        let worst = fast.iter().zip(&slow).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "fast path differs by {worst}");
    }

    #[test]
    fn the_true_peak_meter_agrees_with_a_reference_meter() {
        // Near-Nyquist tones have inter-sample peaks well above their sample peaks.
        for (freq, phase) in [(11_000.0f32, 0.3f32), (17_000.0, 1.1), (440.0, 0.0)] {
            let signal: Vec<f32> = (0..48_000)
                .map(|i| {
                    0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / 48_000.0 + phase).sin()
                        * (i as f32 / 48_000.0)
                })
                .collect();
            let mut m = TruePeakMeter::default();
            for chunk in signal.chunks(1000) {
                m.add(chunk, 0, 1);
            }
            let ours = 20.0 * (m.peak() as f64).log10();
            assert!(
                (ours - true_peak_db(&signal)).abs() < 0.25,
                "{freq} Hz: ours {ours}, reference {}",
                true_peak_db(&signal)
            );
        }
    }

    #[test]
    fn loud_bursts_stay_under_the_ceiling_and_quiet_audio_passes_untouched() {
        let n = 48_000;
        let mut input: Vec<f32> = (0..n).map(|i| 0.1 * (i as f32 * 0.05).sin()).collect();
        // A burst at +6 dBFS in the middle, with inter-sample peaks (near-Nyquist tone).
        for (i, s) in input.iter_mut().enumerate().skip(20_000).take(2_000) {
            *s = 2.0 * (i as f32 * 2.9).sin();
        }
        let mut lim = Limiter::new(-1.0, 48_000);
        let mut out = Vec::new();
        lim.process(&input, &mut out);
        lim.finish(&mut out);
        assert_eq!(out.len(), input.len());
        assert!(true_peak_db(&out) <= -0.9, "true peak {}", true_peak_db(&out));
        // Before the burst (minus look-ahead) the signal is untouched, delayed by nothing.
        assert!(out[..19_000].iter().zip(&input[..19_000]).all(|(a, b)| (a - b).abs() < 1e-6));
        assert!(lim.stats.max_reduction_db < -6.0);
    }
}
