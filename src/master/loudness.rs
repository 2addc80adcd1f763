//! EBU R128 / ITU-R BS.1770 loudness from 100 ms energy steps.
//!
//! Keeping each speaker's K-weighted energy per 100 ms lets one pass over the tracks give both each
//! speaker's gated loudness and a prediction of the leveled mix's loudness: speakers' signals are
//! uncorrelated, so their energies add, exactly where only one talks and on average where they overlap.

/// Samples per energy step (100 ms at 48 kHz); a gating block is four steps (400 ms, 75 % overlap).
pub const STEP: usize = 4_800;
const BLOCK_STEPS: usize = 4;
const ABSOLUTE_GATE: f64 = -70.0;
const RELATIVE_GATE: f64 = -10.0;

/// The K-weighting pre-filter of BS.1770 at 48 kHz: a high shelf, then a high pass.
#[derive(Debug, Clone, Default)]
pub struct KWeighting {
    shelf: Biquad,
    highpass: Biquad,
}

#[derive(Debug, Clone, Default)]
struct Biquad {
    z1: f64,
    z2: f64,
}

impl Biquad {
    #[inline]
    fn run(&mut self, x: f64, b: [f64; 3], a: [f64; 2]) -> f64 {
        // Transposed direct form II.
        let y = b[0] * x + self.z1;
        self.z1 = b[1] * x - a[0] * y + self.z2;
        self.z2 = b[2] * x - a[1] * y;
        y
    }
}

const SHELF_B: [f64; 3] = [1.535_124_859_586_97, -2.691_696_189_406_38, 1.198_392_810_852_85];
const SHELF_A: [f64; 2] = [-1.690_659_293_182_41, 0.732_480_774_215_85];
const HIGHPASS_B: [f64; 3] = [1.0, -2.0, 1.0];
const HIGHPASS_A: [f64; 2] = [-1.990_047_454_833_98, 0.990_072_250_366_21];

impl KWeighting {
    #[inline]
    fn filter(&mut self, x: f32) -> f64 {
        self.highpass.run(self.shelf.run(x as f64, SHELF_B, SHELF_A), HIGHPASS_B, HIGHPASS_A)
    }

    /// Sum of squares of the K-weighted `samples`.
    pub fn energy(&mut self, samples: &[f32]) -> f64 {
        samples.iter().map(|&x| self.filter(x).powi(2)).sum()
    }

    /// After a stretch of digital silence the filter has rung down to nothing.
    pub fn reset(&mut self) {
        *self = KWeighting::default();
    }
}

fn lufs(mean_square: f64) -> f64 {
    -0.691 + 10.0 * mean_square.log10()
}

/// Gated integrated loudness (LUFS, mono weighting) of a signal given as 100 ms step energies.
/// `None` when nothing passes the absolute gate (silence).
pub fn integrated(steps: &[f64]) -> Option<f64> {
    if steps.len() < BLOCK_STEPS {
        let total: f64 = steps.iter().sum();
        let n = steps.len() * STEP;
        return (total > 0.0 && n > 0).then(|| lufs(total / n as f64)).filter(|l| *l > ABSOLUTE_GATE);
    }
    let blocks: Vec<f64> =
        steps.windows(BLOCK_STEPS).map(|w| w.iter().sum::<f64>() / (STEP * BLOCK_STEPS) as f64).collect();
    let loud: Vec<f64> = blocks.iter().copied().filter(|&z| z > 0.0 && lufs(z) > ABSOLUTE_GATE).collect();
    if loud.is_empty() {
        return None;
    }
    let relative = lufs(loud.iter().sum::<f64>() / loud.len() as f64) + RELATIVE_GATE;
    let kept: Vec<f64> = loud.into_iter().filter(|&z| lufs(z) > relative).collect();
    Some(lufs(kept.iter().sum::<f64>() / kept.len() as f64))
}

/// Loudness range (EBU Tech 3342) in LU from 100 ms step energies: the spread between the 10th and
/// 95th percentiles of 3 s short-term loudness, gated at -70 LUFS and 20 LU below their mean.
pub fn range(steps: &[f64]) -> f64 {
    const SHORT_TERM_STEPS: usize = 30;
    if steps.len() < SHORT_TERM_STEPS {
        return 0.0;
    }
    let short: Vec<f64> =
        steps.windows(SHORT_TERM_STEPS).map(|w| w.iter().sum::<f64>() / (STEP * SHORT_TERM_STEPS) as f64).collect();
    let loud: Vec<f64> = short.into_iter().filter(|&z| z > 0.0 && lufs(z) > ABSOLUTE_GATE).collect();
    if loud.is_empty() {
        return 0.0;
    }
    let relative = lufs(loud.iter().sum::<f64>() / loud.len() as f64) - 20.0;
    let mut kept: Vec<f64> = loud.into_iter().map(lufs).filter(|&l| l > relative).collect();
    kept.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| kept[((kept.len() - 1) as f64 * p).round() as usize];
    at(0.95) - at(0.10)
}

/// A streaming BS.1770 meter: K-weighted energy per 100 ms step, summed over channels, plus the
/// sample peak. Each sample is filtered and squared once, which keeps metering an hour-long room
/// cheap next to the encoders it runs beside.
#[derive(Debug, Clone)]
pub struct Meter {
    filters: Vec<KWeighting>,
    steps: Vec<f64>,
    /// Energy and frames of the step being filled.
    partial: f64,
    partial_frames: usize,
    pub sample_peak: f32,
}

impl Meter {
    pub fn new(channels: usize) -> Self {
        Meter {
            filters: vec![KWeighting::default(); channels.max(1)],
            steps: Vec::new(),
            partial: 0.0,
            partial_frames: 0,
            sample_peak: 0.0,
        }
    }

    pub fn add(&mut self, interleaved: &[f32]) {
        let channels = self.filters.len();
        let mut frames = interleaved.chunks_exact(channels);
        loop {
            let room = STEP - self.partial_frames;
            let mut taken = 0;
            for frame in frames.by_ref().take(room) {
                for (f, &x) in self.filters.iter_mut().zip(frame) {
                    self.sample_peak = self.sample_peak.max(x.abs());
                    self.partial += f.filter(x).powi(2);
                }
                taken += 1;
            }
            self.partial_frames += taken;
            if self.partial_frames < STEP {
                return;
            }
            self.steps.push(std::mem::take(&mut self.partial));
            self.partial_frames = 0;
        }
    }

    /// Step energies so far, the partial last step included (scaled as if it were whole).
    fn all_steps(&self) -> Vec<f64> {
        let mut steps = self.steps.clone();
        if self.partial_frames > 0 {
            steps.push(self.partial * STEP as f64 / self.partial_frames as f64);
        }
        steps
    }

    /// Integrated loudness in LUFS; -inf for silence.
    pub fn integrated(&self) -> f64 {
        integrated(&self.all_steps()).unwrap_or(f64::NEG_INFINITY)
    }

    pub fn range(&self) -> f64 {
        range(&self.all_steps())
    }
}

/// Predicted step energies of the sum of tracks with linear gains.
pub fn mixed(tracks: &[Vec<f64>], gains: &[f32]) -> Vec<f64> {
    let len = tracks.iter().map(|t| t.len()).max().unwrap_or(0);
    let mut out = vec![0.0; len];
    for (t, &g) in tracks.iter().zip(gains) {
        let g2 = (g as f64) * (g as f64);
        for (o, e) in out.iter_mut().zip(t) {
            *o += g2 * e;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, amp: f32, seed: &mut u64) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                amp * (((*seed >> 33) as f32 / (1u64 << 31) as f32) - 1.0)
            })
            .collect()
    }

    fn steps_of(signal: &[f32]) -> Vec<f64> {
        let mut k = KWeighting::default();
        signal.chunks(STEP).map(|c| k.energy(c)).collect()
    }

    fn reference(signal: &[f32]) -> f64 {
        let mut m = ebur128::EbuR128::new(1, 48_000, ebur128::Mode::I).unwrap();
        m.add_frames_f32(signal).unwrap();
        m.loudness_global().unwrap()
    }

    #[test]
    fn matches_a_reference_meter_on_bursty_speech_like_signals() {
        let mut seed = 1;
        let mut signal = Vec::new();
        for i in 0..40 {
            // Talk spurts at varying levels, separated by silence.
            signal.extend(noise(STEP * (3 + i % 7), 0.05 + 0.02 * (i % 5) as f32, &mut seed));
            signal.extend(vec![0.0; STEP * (2 + i % 3)]);
        }
        let ours = integrated(&steps_of(&signal)).unwrap();
        assert!((ours - reference(&signal)).abs() < 0.05, "ours {ours}, reference {}", reference(&signal));
    }

    #[test]
    fn the_streaming_meter_matches_the_reference_in_stereo_and_gives_a_loudness_range() {
        let mut seed = 3;
        let mut interleaved = Vec::new();
        for i in 0..120 {
            let level = if i % 20 < 10 { 0.2 } else { 0.03 };
            for s in noise(STEP, level, &mut seed) {
                interleaved.extend([s, s * 0.5]);
            }
        }
        let mut m = Meter::new(2);
        for chunk in interleaved.chunks(1234 * 2) {
            m.add(chunk);
        }
        let mut r = ebur128::EbuR128::new(2, 48_000, ebur128::Mode::I | ebur128::Mode::LRA).unwrap();
        r.add_frames_f32(&interleaved).unwrap();
        let (i, lra) = (r.loudness_global().unwrap(), r.loudness_range().unwrap());
        assert!((m.integrated() - i).abs() < 0.05, "ours {}, reference {i}", m.integrated());
        assert!((m.range() - lra).abs() < 1.0, "LRA ours {}, reference {lra}", m.range());
    }

    #[test]
    fn the_mix_of_two_speakers_who_take_turns_is_predicted_from_their_steps() {
        let mut seed = 7;
        let mut a = Vec::new();
        let mut b = Vec::new();
        for i in 0..30 {
            let n = STEP * (5 + i % 4);
            if i % 2 == 0 {
                a.extend(noise(n, 0.1, &mut seed));
                b.extend(vec![0.0; n]);
            } else {
                a.extend(vec![0.0; n]);
                b.extend(noise(n, 0.02, &mut seed));
            }
        }
        let gains = [0.5f32, 2.0];
        let mix: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x * gains[0] + y * gains[1]).collect();
        let predicted = integrated(&mixed(&[steps_of(&a), steps_of(&b)], &gains)).unwrap();
        assert!((predicted - reference(&mix)).abs() < 0.1, "predicted {predicted}, measured {}", reference(&mix));
        assert_eq!(integrated(&[0.0; 50]), None);
    }
}
