//! Finding speech with whisper.cpp's Silero VAD (GGML weights), on 16 kHz mono audio.

use std::path::Path;

use whisper_rs::{WhisperVadContext, WhisperVadContextParams, WhisperVadParams};

use super::pack::Region;

#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error("{path}: cannot load the VAD model: {reason}")]
    Load { path: String, reason: String },
    #[error("voice activity detection failed: {0}")]
    Detect(String),
}

/// whisper.cpp's VAD works on 16 kHz audio.
pub const VAD_RATE: u32 = 16_000;
/// Silero's frame: one speech probability per 512 samples (32 ms at 16 kHz).
pub const VAD_FRAME: usize = 512;

pub struct Vad {
    ctx: WhisperVadContext,
    params: WhisperVadParams,
}

impl Vad {
    /// One thread: the model is tiny, and ggml's worker threads spin while they wait, so several
    /// VADs (one per speaker, in parallel) with several threads each starve one another: two 2-thread
    /// VADs on 2 cores took 43 s for 30 s of audio that one alone does in well under a second.
    pub fn load(model: &Path) -> Result<Self, VadError> {
        // whisper.cpp writes its progress to stderr; routed into our logs (tracing, shown with -vv).
        whisper_rs::install_logging_hooks();
        let path = model.to_string_lossy().into_owned();
        let mut ctx_params = WhisperVadContextParams::new();
        ctx_params.set_n_threads(1);
        ctx_params.set_use_gpu(false);
        let ctx =
            WhisperVadContext::new(&path, ctx_params).map_err(|e| VadError::Load { path, reason: e.to_string() })?;
        Ok(Vad { ctx, params: WhisperVadParams::default() })
    }

    /// Silero's speech probability for each frame of [`VAD_FRAME`] samples of `samples` (16 kHz
    /// mono), for callers that decide for themselves where speech starts and ends (live captions).
    pub fn probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>, VadError> {
        if samples.len() < VAD_FRAME {
            return Ok(Vec::new());
        }
        self.ctx.detect_speech(samples).map_err(|e| VadError::Detect(e.to_string()))?;
        Ok(self.ctx.probabilities().to_vec())
    }

    /// Speech regions in `samples` (16 kHz mono), in seconds from its start.
    pub fn speech(&mut self, samples: &[f32]) -> Result<Vec<Region>, VadError> {
        if samples.len() < VAD_RATE as usize / 10 {
            return Ok(Vec::new());
        }
        let segments =
            self.ctx.segments_from_samples(self.params, samples).map_err(|e| VadError::Detect(e.to_string()))?;
        // whisper.cpp reports centiseconds.
        Ok(segments.map(|s| Region { start: s.start as f64 / 100.0, end: s.end as f64 / 100.0 }).collect())
    }
}
