//! Streaming conversion of one channel to 48 kHz, the rate of Opus and of the room clock.

use rubato::{FftFixedIn, Resampler};

use crate::track::SAMPLE_RATE;

const CHUNK: usize = 1024;

/// Feeds arbitrary-sized blocks in, gets 48 kHz samples out, with the resampler's delay removed and
/// the total length exactly `input * 48000 / rate` so that timing never drifts.
pub struct To48k {
    inner: Option<FftFixedIn<f32>>,
    pending: Vec<f32>,
    input_frames: u64,
    output_frames: u64,
    /// Leading output samples still to drop (the resampler's group delay).
    to_drop: usize,
    rate: u32,
}

impl To48k {
    pub fn new(rate: u32) -> Self {
        let inner = (rate != SAMPLE_RATE).then(|| {
            FftFixedIn::<f32>::new(rate as usize, SAMPLE_RATE as usize, CHUNK, 2, 1).expect("valid resampler settings")
        });
        let to_drop = inner.as_ref().map(|r| r.output_delay()).unwrap_or(0);
        To48k { inner, pending: Vec::new(), input_frames: 0, output_frames: 0, to_drop, rate }
    }

    fn expected_output(&self) -> u64 {
        (self.input_frames as u128 * SAMPLE_RATE as u128 / self.rate as u128) as u64
    }

    /// Converts `input`, appending 48 kHz samples to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.input_frames += input.len() as u64;
        let Some(r) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            self.output_frames += input.len() as u64;
            return;
        };
        self.pending.extend_from_slice(input);
        let mut used = 0;
        while self.pending.len() - used >= CHUNK {
            let Ok(res) = r.process(&[&self.pending[used..used + CHUNK]], None) else { break };
            used += CHUNK;
            Self::emit(&res[0], &mut self.to_drop, &mut self.output_frames, out);
        }
        self.pending.drain(..used);
    }

    /// Flushes what the resampler holds, ending with exactly the expected number of samples.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let expected = self.expected_output();
        if let Some(r) = self.inner.as_mut() {
            // rubato takes a partial chunk as a zero-padded full one; an empty one must be `None`.
            let rest = std::mem::take(&mut self.pending);
            let mut first = Some(rest.as_slice()).filter(|r| !r.is_empty());
            while self.output_frames < expected {
                let input = first.take().map(|r| [r]);
                let Ok(res) = r.process_partial(input.as_ref().map(|i| i.as_slice()), None) else { break };
                if res[0].is_empty() {
                    break;
                }
                Self::emit(&res[0], &mut self.to_drop, &mut self.output_frames, out);
            }
        }
        if self.output_frames > expected {
            let extra = (self.output_frames - expected) as usize;
            out.truncate(out.len().saturating_sub(extra));
        } else {
            out.extend(std::iter::repeat_n(0.0, (expected - self.output_frames) as usize));
        }
        self.output_frames = expected;
    }

    fn emit(samples: &[f32], to_drop: &mut usize, count: &mut u64, out: &mut Vec<f32>) {
        let skip = (*to_drop).min(samples.len());
        *to_drop -= skip;
        out.extend_from_slice(&samples[skip..]);
        *count += (samples.len() - skip) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_of_whole_chunks_flushes_cleanly() {
        let mut r = To48k::new(44_100);
        let mut out = Vec::new();
        r.push(&vec![0.25; CHUNK * 3], &mut out);
        r.finish(&mut out);
        assert_eq!(out.len(), CHUNK * 3 * 48_000 / 44_100);
    }

    #[test]
    fn length_is_exact_and_a_click_stays_in_place() {
        let rate = 16_000;
        let mut input = vec![0.0f32; rate as usize * 2 + 123];
        input[rate as usize] = 1.0; // a click at exactly 1 s
        let mut r = To48k::new(rate);
        let mut out = Vec::new();
        for block in input.chunks(777) {
            r.push(block, &mut out);
        }
        r.finish(&mut out);
        assert_eq!(out.len(), (input.len() as u64 * 3) as usize);
        let peak = out.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0;
        assert!((peak as i64 - 48_000).abs() <= 2, "click moved to sample {peak}");
    }
}
