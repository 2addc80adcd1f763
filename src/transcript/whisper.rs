//! Running whisper (whisper.cpp through whisper-rs) on one window of 16 kHz audio, and handing back
//! what it said: segments, and tokens with their times (centiseconds from the start of the
//! window): whisper's own token times and the DTW alignment of the model's alignment heads.

use std::path::Path;

use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters,
    WhisperState,
};

use super::models::ggml::{self, Hparams};

#[derive(Debug, thiserror::Error)]
pub enum WhisperFailure {
    #[error("{path}: cannot load the whisper model: {reason}")]
    Load { path: String, reason: String },
    #[error(
        "{path} is an English-only model; --language {language} needs a multilingual one (e.g. --model base or tiny)"
    )]
    EnglishOnly { path: String, language: String },
    #[error("whisper failed: {0}")]
    Run(String),
}

/// A token as whisper gave it: times in centiseconds from the start of the window.
#[cfg(test)]
mod tests {
    #[test]
    fn a_short_window_gets_a_short_encoder_context_with_a_margin() {
        // 4 s of audio: 7 s with the margin, 350 frames, rounded up to 384.
        assert_eq!(super::audio_context(4 * 16_000, 1500, 0.0), 384);
        // A full window keeps the model's context.
        assert_eq!(super::audio_context(29 * 16_000, 1500, 0.0), 1500);
        // Live captions' floor: 2 s of audio still gets 10 s of context (500 frames, to 512).
        assert_eq!(super::audio_context(2 * 16_000, 1500, 10.0), 512);
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawToken {
    pub t0: i64,
    pub t1: i64,
    /// Where DTW over the alignment heads puts the token's start (None without alignment heads).
    pub dtw: Option<i64>,
    pub text: String,
    pub probability: f32,
}

/// A segment as whisper gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSegment {
    pub t0: i64,
    pub t1: i64,
    pub text: String,
    pub tokens: Vec<RawToken>,
    /// Whisper's probability that the segment's audio holds no speech.
    pub no_speech: f32,
}

#[derive(Debug, Clone, Default)]
pub struct WindowResult {
    pub segments: Vec<RawSegment>,
    /// The language whisper used (detected when asked to).
    pub language: Option<String>,
}

pub struct Engine {
    ctx: WhisperContext,
    threads: i32,
    /// The shortest encoder context a window gets, in seconds of audio.
    min_context: f64,
    hparams: Hparams,
    /// The file has weights (whisper.cpp's stand-in test models have none).
    has_weights: bool,
}

/// The alignment heads whisper.cpp knows for the released model of this shape; a fine-tune keeps
/// its base model's shape, and its heads are the best guess there is. Other shapes use the top
/// half of the text layers.
fn alignment_heads(h: &Hparams) -> DtwMode<'static> {
    let english = !h.is_multilingual();
    let preset = match (h.n_text_state, h.n_text_layer, h.n_mels, english) {
        (384, 4, 80, true) => DtwModelPreset::TinyEn,
        (384, 4, 80, false) => DtwModelPreset::Tiny,
        (512, 6, 80, true) => DtwModelPreset::BaseEn,
        (512, 6, 80, false) => DtwModelPreset::Base,
        (768, 12, 80, true) => DtwModelPreset::SmallEn,
        (768, 12, 80, false) => DtwModelPreset::Small,
        (1024, 24, 80, true) => DtwModelPreset::MediumEn,
        (1024, 24, 80, false) => DtwModelPreset::Medium,
        (1280, 32, 80, _) => DtwModelPreset::LargeV2,
        (1280, 32, 128, _) => DtwModelPreset::LargeV3,
        (1280, 4, 128, _) => DtwModelPreset::LargeV3Turbo,
        _ => return DtwMode::TopMost { n_top: (h.n_text_layer / 2).max(1) },
    };
    DtwMode::ModelPreset { model_preset: preset }
}

/// Seconds of silence-or-speech margin a shortened encoder context keeps past the audio.
const CONTEXT_MARGIN: f64 = 3.0;

/// The encoder context for `samples` of 16 kHz audio: 50 frames a second, with the margin (and at
/// least `min_seconds`), in multiples of 64 (whisper.cpp's), at most the model's own.
fn audio_context(samples: usize, model_ctx: i32, min_seconds: f64) -> i32 {
    let seconds = (samples as f64 / 16_000.0 + CONTEXT_MARGIN).max(min_seconds);
    let frames = (seconds * 50.0 / 64.0).ceil() as i32 * 64;
    frames.min(model_ctx)
}

impl Engine {
    /// Loads a model after checking the whole file (a damaged header makes whisper.cpp allocate
    /// absurd amounts or abort; this makes it a one-line error instead).
    pub fn load(model: &Path, threads: i32) -> Result<Self, WhisperFailure> {
        whisper_rs::install_logging_hooks();
        let path = model.to_string_lossy().into_owned();
        let inspected =
            ggml::inspect(model).map_err(|e| WhisperFailure::Load { path: path.clone(), reason: e.reason })?;
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        if inspected.tensors > 0 {
            params.dtw_parameters(DtwParameters { mode: alignment_heads(&inspected.hparams), ..Default::default() });
        }
        let ctx = WhisperContext::new_with_params(&path, params)
            .map_err(|e| WhisperFailure::Load { path: path.clone(), reason: e.to_string() })?;
        // Which of the CPU's vector paths whisper.cpp uses (AVX2, F16C, FMA, ...): with -v.
        tracing::info!("whisper.cpp: {}", whisper_rs::print_system_info().trim());
        Ok(Engine {
            ctx,
            threads: threads.max(1),
            min_context: 0.0,
            hparams: inspected.hparams,
            has_weights: inspected.tensors > 0,
        })
    }

    /// Gives every window an encoder context of at least `seconds`: a window of a few seconds
    /// with its context cut to its length plus the margin makes whisper repeat itself ("And so
    /// my fellow Americans. And so my fellow Americans." for 2.3 s of JFK); live captions, whose
    /// windows are single short utterances, ask for 10 s.
    pub fn with_min_context(mut self, seconds: f64) -> Self {
        self.min_context = seconds;
        self
    }

    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    pub fn hparams(&self) -> &Hparams {
        &self.hparams
    }

    /// A language asked for must be one the model speaks: an English-only model transcribes
    /// anything as English, so another language is refused before any work is done.
    pub fn check_language(&self, model: &Path, language: Option<&str>) -> Result<(), WhisperFailure> {
        match language {
            Some(code) if code != "en" && !self.is_multilingual() => {
                Err(WhisperFailure::EnglishOnly { path: model.display().to_string(), language: code.to_string() })
            }
            Some(code) if whisper_rs::get_lang_id(code).is_none() => {
                Err(WhisperFailure::Run(format!("'{code}' is not a language whisper knows (en, de, fr, ...)")))
            }
            _ => Ok(()),
        }
    }

    /// The language spoken in `audio` (16 kHz mono, up to 30 s): whisper's language detection
    /// (one encoder pass). An English-only model can only hear English.
    pub fn detect_language(&self, audio: &[f32]) -> Result<String, WhisperFailure> {
        if !self.is_multilingual() {
            return Ok("en".to_string());
        }
        let run_err = |e: whisper_rs::WhisperError| WhisperFailure::Run(e.to_string());
        let mut state = self.ctx.create_state().map_err(run_err)?;
        state.pcm_to_mel(audio, self.threads as usize).map_err(run_err)?;
        let (id, _) = state.lang_detect(0, self.threads as usize).map_err(run_err)?;
        whisper_rs::get_lang_str(id)
            .map(str::to_string)
            .ok_or_else(|| WhisperFailure::Run(format!("language detection gave no language (id {id})")))
    }

    /// A state for `run_in`: whisper's working buffers (about 180 MB for tiny), made once per
    /// worker and reused for every window it runs.
    pub fn state(&self) -> Result<WhisperState, WhisperFailure> {
        self.ctx.create_state().map_err(|e| WhisperFailure::Run(e.to_string()))
    }

    /// Transcribes one window of 16 kHz mono audio (at most 30 s). `language`: a code ("en",
    /// "de") or `None` to detect it.
    pub fn run(&self, audio: &[f32], language: Option<&str>) -> Result<WindowResult, WhisperFailure> {
        self.run_in(&mut self.state()?, audio, language)
    }

    /// `run` in a state of the caller's.
    pub fn run_in(
        &self,
        state: &mut WhisperState,
        audio: &[f32],
        language: Option<&str>,
    ) -> Result<WindowResult, WhisperFailure> {
        let run_err = |e: whisper_rs::WhisperError| WhisperFailure::Run(e.to_string());
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(self.threads);
        params.set_token_timestamps(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        // Windows are independent stretches of one speaker's speech: no context carried between
        // them (a hallucination in one window cannot spread to the next).
        params.set_no_context(true);
        params.set_single_segment(false);
        // Non-speech tokens ("(coughs)", "[BLANK_AUDIO]", music symbols) are not words anyone said.
        params.set_suppress_nst(true);
        // The encoder's cost is per context frame, 30 s of them whatever the window holds: a short
        // window (a short clip, a speaker's last few words) gets a context its length plus a few
        // seconds (shorter margins cost accuracy; BENCHMARKS.md, "Transcription speed").
        let ctx = audio_context(audio.len(), self.hparams.n_audio_ctx, self.min_context);
        if ctx < self.hparams.n_audio_ctx {
            params.set_audio_ctx(ctx);
        }
        match language {
            Some(code) => params.set_language(Some(code)),
            None => {
                params.set_language(Some("auto"));
                params.set_detect_language(false);
            }
        }
        state.full(params, audio).map_err(run_err)?;
        let eot = self.ctx.token_eot();
        let mut segments = Vec::new();
        for segment in state.as_iter() {
            let mut tokens: Vec<RawToken> = Vec::new();
            // A character can be split over tokens (its UTF-8 bytes in two): such tokens are
            // joined into one before they are read as text.
            let mut pending: Option<(RawToken, Vec<u8>)> = None;
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else { continue };
                // Special tokens (timestamps, end of text) are not words.
                if token.token_id() >= eot {
                    continue;
                }
                let data = token.token_data();
                let bytes = token.to_bytes().map(<[u8]>::to_vec).unwrap_or_default();
                let piece = RawToken {
                    t0: data.t0,
                    t1: data.t1,
                    dtw: (self.has_weights && data.t_dtw >= 0).then_some(data.t_dtw),
                    text: String::new(),
                    probability: token.token_probability(),
                };
                let (mut joined, mut buffer) = match pending.take() {
                    Some((mut first, mut held)) => {
                        held.extend_from_slice(&bytes);
                        (first.t1, first.dtw, first.probability) =
                            (piece.t1, piece.dtw, first.probability.min(piece.probability));
                        (first, held)
                    }
                    None => (piece, bytes),
                };
                match std::str::from_utf8(&buffer) {
                    Ok(text) => {
                        joined.text = text.to_string();
                        tokens.push(joined);
                    }
                    // At most a character's 4 bytes wait for the rest of it.
                    Err(e) if e.error_len().is_none() && buffer.len() < 4 => pending = Some((joined, buffer)),
                    Err(_) => {
                        joined.text = String::from_utf8_lossy(&std::mem::take(&mut buffer)).into_owned();
                        tokens.push(joined);
                    }
                }
            }
            if let Some((mut last, held)) = pending {
                last.text = String::from_utf8_lossy(&held).into_owned();
                tokens.push(last);
            }
            segments.push(RawSegment {
                t0: segment.start_timestamp(),
                t1: segment.end_timestamp(),
                text: segment.to_str_lossy().map(|s| s.into_owned()).unwrap_or_default(),
                tokens,
                no_speech: segment.no_speech_probability(),
            });
        }
        let language = whisper_rs::get_lang_str(state.full_lang_id_from_state()).map(str::to_string);
        Ok(WindowResult { segments, language })
    }
}
